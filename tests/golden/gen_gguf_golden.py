#!/usr/bin/python3
"""Generate the small GGUF files tests/test_gguf.c reads (committed, so the C tests need no Python):

  gguf_types.gguf       every metadata value type (scalars, arrays of ints/floats/strings/bools) and one tensor per
                        type (f32, f16, q8_0, q4_0; 1-4 dims), written through models/train/gguf_export.py, plus
                        "ref.<name>" f32 tensors holding gguf.quants' dequantisation of each (the expected values).
                        Source values: x[i] = ((i * 37) % 101 - 50) / 16, exact in f32 (test_gguf.c recomputes it).
  gguf_empty.gguf       valid: no tensors, two keys.
  gguf_big_header.gguf  the header of a valid file with one f32 tensor of 256 MiB ("big.weight" [1048576 x 64]),
                        without its data: tests/test_cli_limits.sh appends the data as a sparse hole
                        (truncate -s +268435456) to check the memory-plan refusal.

Run from the repository root: /usr/bin/python3 tests/golden/gen_gguf_golden.py
"""
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))  # run by path: make the repo root (package models) importable
import gguf  # noqa: E402
import gguf.quants as gq  # noqa: E402
from models.train.gguf_export import Exporter  # noqa: E402

VT = gguf.GGUFValueType


def source(n):
    i = np.arange(n, dtype=np.int64)
    return (((i * 37) % 101 - 50) / 16.0).astype(np.float32)


def gen_types(path):
    tensors = [  # name, dtype, numpy shape (outermost first)
        ("t.f32", "f32", (5,)),
        ("t.f16", "f16", (3, 7)),
        ("t.q8_0", "q8_0", (2, 3, 64)),
        ("t.q4_0", "q4_0", (2, 1, 2, 96)),
    ]
    with Exporter(path, "edgegen.test", "gguf types golden") as ex:
        ex.add_raw("test.u8", 200, VT.UINT8)
        ex.add_raw("test.i8", -100, VT.INT8)
        ex.add_raw("test.u16", 60000, VT.UINT16)
        ex.add_raw("test.i16", -30000, VT.INT16)
        ex.add_raw("test.u32", 4000000000, VT.UINT32)
        ex.add_raw("test.i32", -2000000000, VT.INT32)
        ex.add_raw("test.f32", 0.15625, VT.FLOAT32)
        ex.add_raw("test.bool", True, VT.BOOL)
        ex.add_raw("test.str", "hello, gguf", VT.STRING)
        ex.add_raw("test.u64", 2**63 + 5, VT.UINT64)
        ex.add_raw("test.i64", -(2**62), VT.INT64)
        ex.add_raw("test.f64", 0.1, VT.FLOAT64)
        ex.add_raw("test.arr_u32", [5, 7, 9], VT.ARRAY, VT.UINT32)
        ex.add_raw("test.arr_i8", [1, 2, 3, 4], VT.ARRAY, VT.INT8)
        ex.add_raw("test.arr_neg", [1, -1], VT.ARRAY, VT.INT32)
        ex.add_raw("test.arr_f32", [0.5, -2.0, 3.25], VT.ARRAY, VT.FLOAT32)
        ex.add_raw("test.arr_str", ["a", "", "tokens\twith\nescapes"], VT.ARRAY, VT.STRING)
        ex.add_raw("test.arr_bool", [True, False, True], VT.ARRAY, VT.BOOL)
        ex.add_raw("test.arr_long", list(range(100)), VT.ARRAY, VT.UINT16)
        ex.add_u32("edgegen.codec.sample_rate", 16000)
        ex.add_arr_u32("edgegen.codec.fsq_levels", [7, 5, 5, 5, 5])
        ex.add_f32("edgegen.codec.layer_norm_eps", 1e-6)
        for name, dt, shape in tensors:
            x = source(int(np.prod(shape))).reshape(shape)
            ex.add_tensor(name, x, dt)
            qt = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
                  "q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}[dt]
            ref = gq.dequantize(gq.quantize(x, qt), qt).astype(np.float32).reshape(shape)
            ex.add_tensor("ref." + name, ref, "f32")


def gen_empty(path):
    with Exporter(path, "edgegen.test", "empty") as ex:
        ex.add_raw("test.only", 1, VT.UINT32)


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gen_big_header(path):
    kv = gguf_str("general.architecture") + struct.pack("<I", 8) + gguf_str("edgegen.test")
    kv += gguf_str("general.alignment") + struct.pack("<II", 4, 64)
    ti = gguf_str("big.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 64, 1048576)
    ti += struct.pack("<IQ", 0, 0)   # f32, offset 0
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kv + ti
    data += b"\0" * (-len(data) % 64)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    gen_types(os.path.join(HERE, "gguf_types.gguf"))
    gen_empty(os.path.join(HERE, "gguf_empty.gguf"))
    gen_big_header(os.path.join(HERE, "gguf_big_header.gguf"))
    for f in ("gguf_types.gguf", "gguf_empty.gguf", "gguf_big_header.gguf"):
        print(f, os.path.getsize(os.path.join(HERE, f)), "bytes")
