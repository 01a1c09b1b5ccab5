#!/usr/bin/env python3
"""Estimated single-core AR step time and AR real-time factor on a Raspberry Pi Zero 2 W, Pi 3 and Pi 4.

Counts the work of one AR step (one 20 ms codec frame) from the GGUF's tensor shapes -- weight bytes read, q8_0
32-weight blocks, f32 attention FLOPs over the full window, KV-cache bytes -- and turns it into time with per-core
figures that are stated below with their sources (simd/PERF.md explains them):

  * GEMV: cycles per 32 weights and row of the NEON q8_0 inner loop as built here (tests/loop_count.py on
    build-aarch64/simd/arm/kernels_neon.o, llvm-mca 14: Cortex-A53 model; for Cortex-A72 LLVM uses its
    Cortex-A57 model). Model figures, not measurements on a board.
  * attention: the NEON matvec_f32 (scores) and axpy_f32 (weighted values) inner loops, same method.
  * memory: single-thread DRAM read bandwidth, tinymembench "NEON read" as published in ThomasKaiser/sbc-bench
    results (measurements on the boards). Every step streams > 3 MB (weights + f32 KV cache) through a 0.5-1 MB
    L2, so all of it is assumed to come from DRAM.
  * clock: the boards' specified CPU clocks (Raspberry Pi product specifications; datasheet values).

Not counted (small next to the above; see the printed FLOP counts): norms, RoPE, softmax, the q8 quantisation of
the activations, embeddings and the sampler. Step time is bracketed by max(compute, memory) (perfect overlap)
and compute + memory (none). AR RTF = 50 steps per second of audio x step time.

  python3 models/eval/ar_pi_estimate.py [models/ar/pico-ar-q8_0.gguf] [--json out.json]
"""
import argparse
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "models" / "ar" / "pico-ar-q8_0.gguf"
FRAMES_PER_S = 50                       # 16 kHz / hop 320: AR steps per second of audio

# GGML type -> (block elements, block bytes)
GGML = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34)}   # f32, f16, q4_0, q8_0
GGML_NAME = {0: "f32", 1: "f16", 2: "q4_0", 8: "q8_0"}

# Per-core figures. cyc_q8: cycles per 32 weights and row of the q8_0 matvec loop (4 rows x 1 block per
# iteration); f32 loops: (FLOP per iteration, cycles per iteration) of matvec_f32's 4-row loop (8 FMLA) and
# axpy_f32's loop (one FMUL + FADD of 4 lanes). Commands in simd/PERF.md.
CORES = {
    "Cortex-A53": {"cyc_q8": 77.0 / 4, "matvec_f32": (64, 22.0), "axpy_f32": (8, 17.0),
                   "src": "llvm-mca 14 -mcpu=cortex-a53 (LLVM's in-order A53 model; Arm publishes no A53 "
                          "optimization guide) on the loops of build-aarch64/simd/arm/kernels_neon.o"},
    "Cortex-A72": {"cyc_q8": 24.1 / 4, "matvec_f32": (64, 12.1), "axpy_f32": (8, 5.1),
                   "src": "llvm-mca 14 -mcpu=cortex-a72 (LLVM uses its Cortex-A57 model, built from the A57 "
                          "Software Optimization Guide; the A72 keeps the A57's F0/F1 pipes)"},
}
BOARDS = [
    {"board": "Pi Zero 2 W", "core": "Cortex-A53", "ghz": 1.0, "read_gbs": 2.114,
     "bw_src": "sbc-bench results/3E85.txt (RP3A0 @ 1000 MHz): tinymembench NEON read 2114.2 MB/s, measured"},
    {"board": "Pi 3 B+", "core": "Cortex-A53", "ghz": 1.4, "read_gbs": 2.148,
     "bw_src": "sbc-bench results/1iI5.txt (BCM2837B0 @ 1400 MHz): NEON read 2148.2 MB/s, measured"},
    {"board": "Pi 3 B", "core": "Cortex-A53", "ghz": 1.2, "read_gbs": 2.238,
     "bw_src": "no Pi 3 B run published there; the Zero 2 W carries the same BCM2837 die: results/3DeL.txt "
               "(RP3A0 @ 1200 MHz) NEON read 2238.4 MB/s, measured (stand-in)"},
    {"board": "Pi 4 B", "core": "Cortex-A72", "ghz": 1.5, "read_gbs": 4.310,
     "bw_src": "sbc-bench results/3EgS.txt (BCM2711 @ 1500 MHz): NEON read 4310.4 MB/s, measured "
               "(results/1MFf.txt: 3942.8)"},
]


def read_gguf(path):
    """Metadata (scalars) and tensor infos {name: (dims, type)} of a GGUF v2/v3 file."""
    sc = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    with open(path, "rb") as f:
        def rd(fmt):
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))

        def rstr():
            return f.read(rd("Q")[0]).decode()

        def rval(t):
            if t in sc:
                return rd(sc[t])[0]
            if t == 8:
                return rstr()
            if t == 9:
                et, n = rd("IQ")
                return [rval(et) for _ in range(n)]
            raise ValueError("%s: unknown GGUF value type %d" % (path, t))

        if f.read(4) != b"GGUF":
            raise ValueError("%s: not a GGUF file" % path)
        _, n_t, n_kv = rd("IQQ")
        meta = {}
        for _ in range(n_kv):
            k = rstr()
            meta[k] = rval(rd("I")[0])
        tensors = {}
        for _ in range(n_t):
            name = rstr()
            nd = rd("I")[0]
            dims = rd("Q" * nd)
            t, _off = rd("IQ")
            tensors[name] = (dims, t)
    return meta, tensors


def step_work(meta, tensors):
    """Work of one decoder step, as models/ar_lm.c does it (eg_ar_weight_bytes_per_frame / _flops_per_frame)."""
    p = "edgegen.ar."
    d, layers, win = meta[p + "dim"], meta[p + "dec_layers"], meta[p + "window"]
    heads = meta[p + "n_heads"]
    mats = ["blocks.%d.%s.weight" % (i, n) for i in range(layers) for n in ("wq", "wk", "wv", "wo", "up", "down")]
    mats.append("head.weight")
    w_bytes, blocks, weights, types = 0, 0, 0, set()
    for name in mats:
        dims, t = tensors[name]
        if t not in GGML:
            raise ValueError("%s: type %d not handled" % (name, t))
        n = 1
        for x in dims:
            n *= x
        be, bb = GGML[t]
        w_bytes += n // be * bb
        weights += n
        types.add(GGML_NAME[t])
        if t in (2, 8):
            blocks += n // 32
    n_levels = sum(1 for k in tensors if k.startswith("digit_emb."))
    small = layers * 2 * d * 4 + (n_levels + 2) * d * 4          # norms, digit rows, final norm, cond_frac
    kv_bytes = layers * 2 * win * d * 4                           # f32 K and V over the full window
    attn_flop = layers * 2 * 2 * win * d                          # scores + weighted sum, all heads
    return {"weights": weights, "weight_types": sorted(types), "q_blocks": blocks,
            "weight_bytes": w_bytes + small, "kv_bytes": kv_bytes,
            "gemv_flop": 2 * weights, "attn_flop": attn_flop, "heads": heads, "window": win, "dim": d,
            "layers": layers}


def estimate(w, board):
    c = CORES[board["core"]]
    hz = board["ghz"] * 1e9
    t_gemv = w["q_blocks"] * c["cyc_q8"] / hz
    half = w["attn_flop"] / 2                                     # scores and weighted sum, half each
    t_attn = (half / c["matvec_f32"][0] * c["matvec_f32"][1] + half / c["axpy_f32"][0] * c["axpy_f32"][1]) / hz
    t_mem = (w["weight_bytes"] + w["kv_bytes"]) / (board["read_gbs"] * 1e9)
    t_cpu = t_gemv + t_attn
    lo, hi = max(t_cpu, t_mem), t_cpu + t_mem
    return {"board": board["board"], "core": board["core"], "ghz": board["ghz"], "read_gbs": board["read_gbs"],
            "gemv_ms": t_gemv * 1e3, "attn_ms": t_attn * 1e3, "memory_ms": t_mem * 1e3,
            "step_ms": [lo * 1e3, hi * 1e3], "ar_rtf": [FRAMES_PER_S * lo, FRAMES_PER_S * hi],
            "gemv_effective_gbs": w["weight_bytes"] / t_gemv / 1e9,
            "bound": "memory" if t_mem > t_cpu else "compute", "bw_source": board["bw_src"], "core_source": c["src"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=str(DEFAULT_MODEL))
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    try:
        meta, tensors = read_gguf(a.model)
        w = step_work(meta, tensors)
    except (OSError, ValueError, KeyError, struct.error) as e:
        print("ar_pi_estimate: %s: %s" % (a.model, e), file=sys.stderr)
        return 1
    print("%s: one AR step = %d weights (%s) in %d blocks, %.2f MB weights + %.2f MB f32 KV cache read, "
          "%.2f MFLOP GEMV + %.2f MFLOP attention (window %d, %d layers)" %
          (Path(a.model).name, w["weights"], "/".join(w["weight_types"]), w["q_blocks"], w["weight_bytes"] / 1e6,
           w["kv_bytes"] / 1e6, w["gemv_flop"] / 1e6, w["attn_flop"] / 1e6, w["window"], w["layers"]))
    rows = [estimate(w, b) for b in BOARDS]
    print("%-12s %-10s %5s %7s | %8s %8s %8s | %-17s | %-13s | %s" %
          ("board", "core", "GHz", "GB/s", "GEMV ms", "attn ms", "mem ms", "step ms (lo-hi)", "AR RTF", "bound"))
    for r in rows:
        print("%-12s %-10s %5.2f %7.2f | %8.2f %8.2f %8.2f | %7.2f - %7.2f | %5.3f - %5.3f | %s (GEMV alone %.1f GB/s)" %
              (r["board"], r["core"], r["ghz"], r["read_gbs"], r["gemv_ms"], r["attn_ms"], r["memory_ms"],
               r["step_ms"][0], r["step_ms"][1], r["ar_rtf"][0], r["ar_rtf"][1], r["bound"],
               r["gemv_effective_gbs"]))
    print("sources:")
    for c, v in CORES.items():
        print("  %s: %s" % (c, v["src"]))
    for r in rows:
        print("  %s: %s" % (r["board"], r["bw_source"]))
    if a.json:
        Path(a.json).write_text(json.dumps({"model": Path(a.model).name, "work": w, "estimates": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
