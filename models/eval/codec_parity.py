#!/usr/bin/env python3
"""C decoder vs PyTorch decoder on held-out tokens (codec issue, deliverable 4: SNR >= 40 dB for f32).

  ~/.cache/edgegen-venv/bin/python models/eval/codec_parity.py --ckpt CKPT [--split valid] [--max-items 20]
      [--models models/codec/pico-codec-f32.gguf,...] [--edgegen build/edgegen] [--json OUT]

For each utterance of models/data/tokens/SPLIT.npz: PyTorch Decoder(codes_to_values(codes)) in float32 from the
checkpoint the GGUF files were exported from, and `edgegen decode - -o - --raw -m MODEL` (16-bit PCM, so the
best possible SNR is that of 16-bit quantisation, ~75-85 dB for speech at this level). SNR = 10 log10(sum ref^2 /
sum (ref - c)^2) over the whole split (and the worst utterance). Lengths must match exactly (T * hop samples).
A phoneme-conditioned decoder (cfg n_phonemes > 0) gets the frame phoneme ids of models/data/ar/SPLIT.jsonl.gz on
both sides (TOKEN:PHONEME pairs for the C decoder). The reference is clipped to [-1, 32767/32768] first: the decoder can overshoot full scale (it did by 11 % on one of
the first 20 valid utterances at step 11000) and any 16-bit writer saturates there.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from models.train.codec_model import Codec  # noqa: E402
from models.train.data import load_phone_frames  # noqa: E402
from models.eval.decode_split import token_text  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--split", default="valid")
    ap.add_argument("--max-items", type=int, default=20)
    ap.add_argument("--models", default=",".join(f"models/codec/pico-codec-{v}.gguf" for v in ("f32", "f16", "q8_0")))
    ap.add_argument("--edgegen", default=os.path.join(REPO, "build", "edgegen"))
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    st = torch.load(a.ckpt, map_location="cpu")
    sd = st["model"] if "model" in st else {k: v.float() if v.is_floating_point() else v for k, v in st["state_dict"].items()}
    model = Codec(st["cfg"])
    model.load_state_dict(sd, strict=False)
    model.eval()
    z = np.load(os.path.join(REPO, "models", "data", "tokens", a.split + ".npz"))
    off, codes, ids = z["offsets"], z["codes"], [str(u) for u in z["ids"]]
    n = min(a.max_items, len(off) - 1)
    phones = load_phone_frames(a.split) if st["cfg"].get("n_phonemes", 0) else None
    refs = []
    with torch.no_grad():
        for k in range(n):
            c = torch.from_numpy(codes[off[k]:off[k + 1]].astype(np.int64))[None]
            p = torch.from_numpy(phones[ids[k]])[None] if phones is not None else None
            refs.append(model.decoder(model.fsq.codes_to_values(c), p)[0].numpy().astype(np.float64))
    out = {"ckpt": a.ckpt, "split": a.split, "n": n, "models": {}}
    for path in a.models.split(","):
        num = den = 0.0
        worst = float("inf")
        for k in range(n):
            toks = token_text(codes[off[k]:off[k + 1]], phones[ids[k]] if phones is not None else None).encode()
            r = subprocess.run([a.edgegen, "decode", "-", "-o", "-", "--raw", "-m", os.path.join(REPO, path), "-t", "1"],
                               input=toks, capture_output=True)
            if r.returncode != 0:
                sys.exit(f"codec_parity: {path}: {r.stderr.decode().strip()}")
            c = np.frombuffer(r.stdout, "<i2").astype(np.float64) / 32768.0
            ref = np.clip(refs[k], -1.0, 32767 / 32768)     # the 16-bit writer saturates at full scale, as it must
            if len(c) != len(ref):
                sys.exit(f"codec_parity: {path}: utterance {k}: {len(c)} samples from C, {len(ref)} from PyTorch")
            e = float(((ref - c) ** 2).sum())
            s = float((ref ** 2).sum())
            num += s
            den += e
            worst = min(worst, 10 * np.log10(s / max(e, 1e-30)))
        snr = 10 * np.log10(num / max(den, 1e-30))
        out["models"][os.path.basename(path)] = {"snr_db": round(snr, 2), "worst_utt_snr_db": round(worst, 2)}
        print(f"{os.path.basename(path)}: SNR {snr:.1f} dB over {n} {a.split} utterances (worst {worst:.1f} dB)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
