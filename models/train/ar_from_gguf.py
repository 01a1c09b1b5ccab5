#!/usr/bin/env python3
"""A PyTorch checkpoint CONVERTED from a shipped AR GGUF (f32 or f16) -- not the original training checkpoint.

The checkpoint the shipped AR model (models/ar/pico-ar-*.gguf, "best.pt step 7000" of run ar-small) was exported
from lived only in the training cache of an earlier machine and is lost. The f16 GGUF holds every weight in f16
(the q8_0 file is made from the same weights), so this tool rebuilds a `train_ar`-style checkpoint from it: config
from the GGUF metadata, tensors dequantised to f32 (the duration convolutions transposed back to PyTorch's layout).
It is labelled as a conversion in the file ("format", "converted_from", "gguf_sha256"). Exporting it again with
export_ar.py gives the same f16 tensors bit for bit (`--check`).

  python -m models.train.ar_from_gguf --gguf models/ar/pico-ar-f16.gguf --out /tmp/ar-small-7000-from-gguf.pt --check
"""
import argparse
import hashlib
import os
import sys
import tempfile

import numpy as np
import torch

from models.train import ar_model as AM
from models.train import export_ar as EX

CFG_KEYS_U32 = ("n_phonemes", "dim", "n_heads", "ffn_dim", "enc_layers", "dec_layers", "window")
CFG_KEYS_F32 = ("rope_theta", "norm_eps")


def field(r, key):
    import gguf
    f = r.fields.get(key)
    if f is None:
        return None
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        return [f.parts[i].tolist()[0] for i in f.data]
    return f.parts[f.data[0]].tolist()[0]


def tensors(r):
    """name -> f32 numpy array in the GGUF's (C) layout."""
    import gguf
    out = {}
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape.tolist())]
        if t.tensor_type == gguf.GGMLQuantizationType.F32:
            a = np.asarray(t.data, np.float32)
        elif t.tensor_type == gguf.GGMLQuantizationType.F16:
            a = np.asarray(t.data, np.float16).astype(np.float32)
        else:
            sys.exit(f"{t.name}: tensor type {t.tensor_type.name}; convert from the f32 or f16 file")
        out[t.name] = a.reshape(shape)
    return out


def convert(path):
    import gguf
    r = gguf.GGUFReader(path)
    arch = field(r, "general.architecture")
    if arch != EX.ARCH:
        sys.exit(f"{path}: general.architecture {arch!r}, expected {EX.ARCH!r}")
    cfg = {k: int(field(r, f"{arch}.{k}")) for k in CFG_KEYS_U32}
    cfg.update({k: float(field(r, f"{arch}.{k}")) for k in CFG_KEYS_F32})
    cfg["fsq_levels"] = [int(x) for x in field(r, f"{arch}.fsq_levels")]
    model = AM.PicoAR(cfg)
    sd = {}
    for name, a in tensors(r).items():
        if name.startswith("duration.conv") and name.endswith(".weight"):
            a = a.transpose(0, 2, 1)                  # C [out][k][in] -> PyTorch [out][in][k]
        sd[name] = torch.from_numpy(np.array(a, dtype=np.float32, order="C"))
    model.load_state_dict(sd)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    src = field(r, "edgegen.source")
    return model, {"cfg": cfg, "model": model.state_dict(), "step": None,
                   "format": "edgegen-ar-from-gguf-v1: CONVERSION of a shipped GGUF, not the original training checkpoint",
                   "converted_from": os.path.basename(path), "gguf_sha256": sha, "gguf_source": src,
                   "length_scale": field(r, f"{arch}.length_scale")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", required=True, help="an AR GGUF in f32 or f16 (models/ar/pico-ar-f16.gguf)")
    ap.add_argument("--out", required=True, help="output .pt")
    ap.add_argument("--check", action="store_true", help="re-export (same variant) and compare every tensor bit for bit")
    a = ap.parse_args()
    model, ck = convert(a.gguf)
    tmp = a.out + ".tmp"
    torch.save(ck, tmp)
    os.replace(tmp, a.out)
    print(f"ar_from_gguf: {a.out} ({sum(p.numel() for p in model.parameters())} params) from {a.gguf} "
          f"sha256 {ck['gguf_sha256'][:16]}... ({ck['gguf_source']})", file=sys.stderr)
    if a.check:
        import gguf
        variant = "f16" if any(t.tensor_type == gguf.GGMLQuantizationType.F16 for t in gguf.GGUFReader(a.gguf).tensors) else "f32"
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "re.gguf")
            EX.export(model.eval(), p, variant, length_scale=ck["length_scale"])
            ra, rb = gguf.GGUFReader(a.gguf), gguf.GGUFReader(p)
            ta = {t.name: (t.tensor_type, np.asarray(t.data).tobytes()) for t in ra.tensors}
            tb = {t.name: (t.tensor_type, np.asarray(t.data).tobytes()) for t in rb.tensors}
            bad = [n for n in ta if tb.get(n) != ta[n]] + [n for n in tb if n not in ta]
        if bad:
            print(f"ar_from_gguf: CHECK FAILED, {len(bad)} tensors differ: {bad[:5]}", file=sys.stderr)
            return 1
        print(f"ar_from_gguf: check ok, {len(ta)} tensors identical after re-export ({variant})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
