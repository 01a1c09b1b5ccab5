#!/usr/bin/env python3
"""Export a voice v2 decoder (models/train/voice_model.py VoiceDecoder) to GGUF, architecture "edgegen.voice",
for the C runtime (models/decoder.c + models/voice_source.c).

  python -m models.train.export_voice --weights models/train/checkpoints/voice-hn-a-weights.pt \\
      --out models/voice/voice-hn-a-q8_0.gguf --dtype q8_0 [--check]

--weights: a compact weights file (train_voice.py: keys cfg, state_dict, meta; fp16) or a full checkpoint
(key "model"). Keys: every VOICE_DEFAULTS entry the runtime needs under edgegen.voice.* (models/GGUF_KEYS.md; not
n_mels). Tensors = VoiceDecoder's state_dict names prefixed "dec." in the layouts of export_codec.py
(dec.embed.weight (dim, kernel, latent), dec.blocks.i.dwconv.weight (kernel, dim), Linear weights (out, in)).
--dtype f16 / q8_0 converts pwconv1, pwconv2, head and env_head weights; everything else stays f32.
The file is written through gguf_export.Exporter (temp file + rename).
"""
import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from models.train import gguf_export as ge
from models.train.voice_model import VOICE_DEFAULTS

ARCH = "edgegen.voice"
QUANT_SUFFIXES = (".pwconv1.weight", ".pwconv2.weight")
QUANT_NAMES = ("head.weight", "env_head.weight")


def load_voice_state(path):
    """-> (cfg with VOICE_DEFAULTS filled in, {name: float32 numpy}, meta dict)."""
    st = torch.load(path, map_location="cpu")
    if not isinstance(st, dict) or "cfg" not in st or not ("state_dict" in st or "model" in st):
        raise SystemExit(f"{path}: expected a voice weights file (keys cfg, state_dict) or checkpoint (cfg, model)")
    sd = st["state_dict"] if "state_dict" in st else st["model"]
    cfg = dict(VOICE_DEFAULTS, **st["cfg"])
    skip = ("fsq.", "window", "env_interp")
    dec = {k: v.float().numpy() for k, v in sd.items() if not k.startswith(skip)}
    return cfg, dec, st.get("meta", {"step": st.get("step")})


def voice_tensors(dec, noise_white=False):
    """-> list of (gguf name, float32 array in the C layout, convertible by --dtype?).
    noise_white: the head's magnitude half only, as dec.noise_head (the phase half drives nothing)."""
    out = []
    for k, v in dec.items():
        a = np.asarray(v, dtype=np.float32)
        if noise_white and k in ("head.weight", "head.bias"):
            a = np.ascontiguousarray(a[: a.shape[0] // 2])        # rows 0 .. n_fft/2: log-magnitude
            out.append(("dec.noise_" + k, a, k in QUANT_NAMES))
            continue
        if k == "embed.weight":
            a = np.ascontiguousarray(a.transpose(0, 2, 1))        # (dim, latent, k) -> (dim, k, latent)
        elif k.endswith("dwconv.weight"):
            a = np.ascontiguousarray(a[:, 0, :].T)                # (dim, 1, k) -> (k, dim)
        q = k.endswith(QUANT_SUFFIXES) or k in QUANT_NAMES
        out.append(("dec." + k, a, q))
    return out


def metadata(cfg):
    """(kind, key suffix, value) for every edgegen.voice.* key but the phoneme pair."""
    c = cfg
    md = [("u32", "sample_rate", c["sample_rate"]), ("u32", "hop_length", c["hop"]), ("u32", "n_fft", c["n_fft"]),
          ("u32", "latent_dim", len(c["fsq_levels"])), ("u32", "dim", c["dim"]), ("u32", "ffn_dim", c["ffn_dim"]),
          ("u32", "n_layers", c["n_layers"]), ("u32", "kernel_size", c["kernel_size"]),
          ("f32", "layer_norm_eps", c["norm_eps"]), ("f32", "mag_clamp", c["mag_clamp"]),
          ("arr_u32", "fsq_levels", [int(x) for x in c["fsq_levels"]]),
          ("bool", "harmonic", bool(c["harmonic"])), ("u32", "n_env", c["n_env"]),
          ("f32", "env_clamp", c["env_clamp"]), ("f32", "harm_f_max", c["harm_f_max"]),
          ("f32", "f0_min", c["f0_min"]), ("f32", "f0_max", c["f0_max"]), ("f32", "f0_center", c["f0_center"]),
          ("f32", "vuv_threshold", c["vuv_threshold"])]
    if c.get("noise_white"):
        md.append(("bool", "noise_white", True))
    return md


def export(cfg, dec, out_path, dtype, name="pico-voice", source=None, phonemes=None):
    """phonemes: symbol per id (len n_phonemes); default: export_ar.phoneme_inventory (the AR model's)."""
    if dtype not in ("f32", "f16", "q8_0"):
        raise ValueError(f"dtype {dtype!r}: expected f32, f16 or q8_0")
    with ge.Exporter(str(out_path), arch=ARCH, name=name) as w:
        for kind, k, v in metadata(cfg):
            getattr(w, "add_" + kind)(f"{ARCH}.{k}", v)
        if cfg.get("n_phonemes", 0):
            if phonemes is None:
                from models.train.export_ar import phoneme_inventory
                phonemes = phoneme_inventory(int(cfg["n_phonemes"]))[0]
            if len(phonemes) != int(cfg["n_phonemes"]):
                raise ValueError(f"{len(phonemes)} phoneme symbols for n_phonemes = {cfg['n_phonemes']}")
            w.add_u32(f"{ARCH}.n_phonemes", int(cfg["n_phonemes"]))
            w.add_arr_str(f"{ARCH}.phonemes", list(phonemes))
        if source:
            w.add_str("edgegen.source", source)
        for tname, a, q in voice_tensors(dec, bool(cfg.get("noise_white"))):
            w.add_tensor(tname, a, dtype if q else "f32")


def check(path, cfg, dec):
    """Re-read with the gguf package: metadata and every tensor (dequantised) against the weights."""
    r, err = ge.reread_tensors(path, {n: a for n, a, _ in voice_tensors(dec, bool(cfg.get("noise_white")))})
    for kind, k, v in metadata(cfg):
        if kind in ("u32", "bool"):
            assert int(r.fields[f"{ARCH}.{k}"].parts[-1][0]) == int(v), k
    return len(err), max(err.values())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="voice weights .pt (train_voice.py compact file or checkpoint)")
    ap.add_argument("--out", required=True, help="output .gguf")
    ap.add_argument("--dtype", default="f32", choices=("f32", "f16", "q8_0"))
    ap.add_argument("--name", default="pico-voice")
    ap.add_argument("--check", action="store_true", help="re-read the file and compare every tensor")
    a = ap.parse_args(argv)
    cfg, dec, meta = load_voice_state(a.weights)
    sha = hashlib.sha256(Path(a.weights).read_bytes()).hexdigest()[:16]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    src = f"{Path(a.weights).name} run={meta.get('run')} step={meta.get('step')} sha256={sha}"
    export(cfg, dec, a.out, a.dtype, a.name, src)
    msg = f"{a.out}: {Path(a.out).stat().st_size / 1e6:.2f} MB, {a.dtype}, harmonic={bool(cfg['harmonic'])} noise_white={bool(cfg.get('noise_white'))}"
    if a.check:
        n, err = check(a.out, cfg, dec)
        msg += f" | check: {n} tensors, max rel err {err:.2e}"
    print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
