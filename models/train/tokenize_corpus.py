#!/usr/bin/env python3
"""Encode corpus utterances to FSQ codes (uint16, 50 Hz) with a codec checkpoint.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
     ~/.cache/edgegen-venv/bin/python tokenize_corpus.py --ckpt checkpoints/codec-a-weights.pt \
     --splits train,valid,eval --out-dir ../data/tokens [--limit N]

Output per split: <out-dir>/<split>.npz with
  codes    uint16 [sum of frames]  all utterances' codes, concatenated (frame t covers samples [t*hop, (t+1)*hop))
  offsets  int64  [n+1]            utterance i = codes[offsets[i]:offsets[i+1]]
  ids      str    [n]              utterance ids (sorted)
  meta     str    JSON: checkpoint path, sha256 of the checkpoint file, step, cfg, n_codes, frame_rate,
                  n_frames per utterance = ceil(n_samples / hop) (audio zero-padded to a whole frame)
The frame count equals synth.py's n_frames, so the record's dur_50hz sums to it. The encoder is non-causal over the whole utterance (as
training); encoding is deterministic.
Splits: train / valid (models/data/text/*.tsv, <corpus>/wav) and eval (<corpus>/eval, the Harvard gate set --
tokenised only so the AR eval can use teacher tokens; never train on it).
"""
import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from models.train import data as D  # noqa: E402
from models.train.eval_codec import load_codec, eval_items  # noqa: E402


@torch.no_grad()
def encode_items(model, items):
    hop = model.cfg["hop"]
    ids, chunks, offs = [], [], [0]
    for uid, p in sorted(items):
        pcm, sr = D.read_wav(p)
        assert sr == model.cfg["sample_rate"]
        T = -(-len(pcm) // hop)                       # ceil: == synth.py's n_frames, so sum(dur_50hz) == T
        if T < 1:
            continue
        x = np.zeros(T * hop, dtype=np.float32)
        x[: len(pcm)] = pcm.astype(np.float32) / 32768.0  # trailing partial frame zero-padded
        y = torch.from_numpy(x).unsqueeze(0)
        _, codes = model.encode(y)
        c = codes[0].numpy()
        assert len(c) == T and c.max() < 65536
        ids.append(uid); chunks.append(c.astype(np.uint16)); offs.append(offs[-1] + T)
    codes = np.concatenate(chunks) if chunks else np.zeros(0, np.uint16)
    return ids, codes, np.array(offs, dtype=np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--splits", default="train,valid,eval")
    ap.add_argument("--out-dir", default=str(HERE.parent / "data" / "tokens"))
    ap.add_argument("--limit", type=int, default=0, help="first N utterances per split (testing)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, meta = load_codec(a.ckpt)
    sha = hashlib.sha256(open(a.ckpt, "rb").read()).hexdigest()
    out = Path(a.out_dir); out.mkdir(parents=True, exist_ok=True)
    disc = D.discover()
    for split in a.splits.split(","):
        items = eval_items("eval") if split == "eval" else disc[split]
        items = sorted(items)[: a.limit or None]
        t = time.time()
        ids, codes, offs = encode_items(model, items)
        m = {"ckpt": str(a.ckpt), "ckpt_sha256": sha, "step": meta.get("step"), "cfg": model.cfg,
             "n_codes": model.fsq.n_codes, "frame_rate": model.cfg["sample_rate"] / model.cfg["hop"],
             "split": split, "frames": "ceil(n_samples/hop), zero-padded tail", "n_utts": len(ids), "n_frames": int(len(codes)), "created": time.strftime("%Y-%m-%d %H:%M:%S")}
        path = out / f"{split}.npz"
        tmp = out / f".{split}.tmp.npz"
        np.savez_compressed(tmp, codes=codes, offsets=offs, ids=np.array(ids), meta=np.array(json.dumps(m)))
        os.replace(tmp, path)
        used = len(np.unique(codes)) if len(codes) else 0
        print(f"{split}: {len(ids)} utts, {len(codes)} frames ({len(codes)/m['frame_rate']/3600:.3f} h), "
              f"{used} distinct codes, {path.stat().st_size/1e6:.2f} MB, {time.time()-t:.1f} s -> {path}")


if __name__ == "__main__":
    main()
