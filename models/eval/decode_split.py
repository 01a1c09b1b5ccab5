#!/usr/bin/python3
"""Decode a tokenised split (models/data/tokens/SPLIT.npz, from tokenize_corpus.py) with the C decoder.

  python3 models/eval/decode_split.py --split eval --model models/codec/pico-codec-q8_0.gguf --out-dir DIR \
      [--max-items N] [--edgegen build/edgegen] [--threads 1]
  -> DIR/<id>.wav, one per utterance, 16-bit mono, by `edgegen decode` (the shipped C decoder)

A phoneme-conditioned codec (edgegen.codec.n_phonemes) gets TOKEN:PHONEME pairs: the frame phoneme ids come from
models/data/ar/SPLIT.jsonl.gz (the runtime phonemiser's ids with the teacher's 50 Hz durations, ar_data.py), i.e.
the teacher's own timing -- what the TTS pipeline has from the AR model's durations. --phones auto (default) uses
them when the model has the key; --phones off never.

This is the "PyTorch encode -> C decode" half of the codec quality gate; models/eval/eval_teacher.py then scores
DIR against the teacher's audio (STOI, PESQ, mel distance, Whisper / pocketsphinx WER). The token file of each
utterance goes through stdin, as a user would pipe it.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from models.train.data import load_phone_frames  # noqa: E402


def token_text(codes, phones=None):
    """`edgegen decode` input: whitespace-separated tokens, or TOKEN:PHONEME pairs when phones (same length) is given."""
    if phones is None:
        return " ".join(str(int(t)) for t in codes) + "\n"
    if len(phones) != len(codes):
        raise ValueError(f"{len(phones)} phoneme frames vs {len(codes)} tokens")
    return " ".join(f"{int(t)}:{int(q)}" for t, q in zip(codes, phones)) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="eval")
    ap.add_argument("--tokens-dir", default=os.path.join(REPO, "models", "data", "tokens"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--edgegen", default=os.path.join(REPO, "build", "edgegen"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--phones", default="auto", choices=["auto", "off"])
    a = ap.parse_args()
    phones = None
    if a.phones == "auto":
        r = subprocess.run([a.edgegen, "inspect", a.model], capture_output=True, text=True)
        if "edgegen.codec.n_phonemes" in r.stdout:
            phones = load_phone_frames(a.split)
    z = np.load(os.path.join(a.tokens_dir, a.split + ".npz"))
    ids, off, codes = [str(i) for i in z["ids"]], z["offsets"], z["codes"]
    os.makedirs(a.out_dir, exist_ok=True)
    n = len(ids) if not a.max_items else min(a.max_items, len(ids))
    for k in range(n):
        try:
            toks = token_text(codes[off[k]:off[k + 1]], phones[ids[k]] if phones is not None else None)
        except ValueError as e:
            sys.exit(f"decode_split: {ids[k]}: {e}")
        out = os.path.join(a.out_dir, ids[k] + ".wav")
        r = subprocess.run([a.edgegen, "decode", "-", "-o", out, "-m", a.model, "-t", str(a.threads)],
                           input=toks.encode(), capture_output=True)
        if r.returncode != 0:
            sys.exit(f"decode_split: {ids[k]}: edgegen decode failed ({r.returncode}): {r.stderr.decode().strip()}")
    print(f"decode_split: {n} utterances of {a.split} -> {a.out_dir} ({os.path.basename(a.model)}"
          f"{', with frame phoneme ids' if phones is not None else ''})")


if __name__ == "__main__":
    main()
