#!/usr/bin/env python3
"""Distillation data for a speculative-decoding draft: the shipped AR model's own token sequences.

For each utterance of a split (models/data/ar + models/data/tokens, the same trimmed teacher durations
train_ar.load_split uses), the C runtime (build/ar_distill, tests/ar_distill.c) generates the main model's tokens
over those durations: once greedy (temperature 0) and once sampled (--temperature, default the library's 0.3,
top-k 50, seed = --seed + line). The draft is then trained on these sequences (train_ar.py --tokens-dir DIR)
so that it predicts what the MAIN MODEL emits, not what the corpus holds: that is what speculative acceptance
measures. Greedy and sampled copies become separate items (ids "<id>" and "<id>s"; the AR jsonl is rewritten
next to them with both).

  python3 -m models.train.ar_distill --model models/ar/pico-ar-q8_0.gguf --split train --limit 4000 \
      --out-dir ~/.cache/edgegen-train/ar/draft-data
Writes OUT/SPLIT.npz (ids, offsets, codes: the tokens/*.npz format) and OUT/SPLIT.jsonl.gz. Resumable only by
rerunning (deterministic). Never run it on the eval split (the draft must not see evaluation sentences).
"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def items_of(split, tokens_dir, ar_dir, max_frames):
    from models.train.train_ar import load_split
    return load_split(split, max_frames, tokens_dir, ar_dir)


def run_tool(tool, model, items, temperature, seed, label):
    args = [tool, model, "--temperature", str(temperature), "--seed", str(seed)]
    inp = "".join(f"{len(p)} " + " ".join(map(str, p.tolist())) + " " + " ".join(map(str, d.tolist())) + "\n"
                  for p, d, _ in items)
    t0 = time.time()
    r = subprocess.run(args, input=inp, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if r.returncode != 0:
        sys.exit(f"ar_distill: {tool} failed: {r.stderr.strip()}")
    lines = r.stdout.splitlines()
    if len(lines) != len(items):
        sys.exit(f"ar_distill: {len(lines)} output lines for {len(items)} items")
    print(f"{label}: {len(items)} utterances, {sum(len(l.split()) for l in lines)} frames, {time.time() - t0:.0f} s",
          file=sys.stderr, flush=True)
    return [np.array(l.split(), dtype=np.int16) for l in lines]


def main():
    ap = argparse.ArgumentParser(description="The AR model's own tokens (greedy + sampled) for draft distillation")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "ar", "pico-ar-q8_0.gguf"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "build", "ar_distill"))
    ap.add_argument("--split", default="train", choices=["train", "valid"])
    ap.add_argument("--limit", type=int, default=0, help="a seeded random subset of this many utterances (0: all)")
    ap.add_argument("--temperature", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-frames", type=int, default=400)
    ap.add_argument("--tokens-dir", default=os.path.join(ROOT, "models", "data", "tokens"))
    ap.add_argument("--ar-dir", default=os.path.join(ROOT, "models", "data", "ar"))
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--append", action="store_true",
                    help="add to OUT/SPLIT.* : utterances already there are skipped, the subset is drawn from the rest "
                         "with seed + 1")
    a = ap.parse_args()
    items = items_of(a.split, a.tokens_dir, a.ar_dir, a.max_frames)
    with gzip.open(os.path.join(a.ar_dir, a.split + ".jsonl.gz"), "rt") as f:
        recs = [json.loads(l) for l in f]
    # load_split keeps order of the jsonl among those with tokens; recover the ids in that order
    toks = np.load(os.path.join(a.tokens_dir, a.split + ".npz"))
    have = {str(i): int(toks["offsets"][k + 1] - toks["offsets"][k]) for k, i in enumerate(toks["ids"])}
    ids = [r["id"] for r in recs if r["id"] in have and 0 < have[r["id"]] <= a.max_frames]
    assert len(ids) == len(items)
    order = list(range(len(items)))
    old = None
    if a.append:
        o = np.load(os.path.join(a.out_dir, a.split + ".npz"))
        with gzip.open(os.path.join(a.out_dir, a.split + ".jsonl.gz"), "rt") as f:
            old_lines = [l.rstrip("\n") for l in f if l.strip()]
        old = (list(o["ids"]), [o["codes"][o["offsets"][i]:o["offsets"][i + 1]] for i in range(len(o["ids"]))], old_lines)
        done = {str(x) for x in old[0]}   # the greedy copies carry the plain ids
        order = [i for i in order if ids[i] not in done]
    if a.limit and a.limit < len(order):
        order = sorted(random.Random(a.seed + (1 if a.append else 0)).sample(order, a.limit))
    sel = [items[i] for i in order]
    greedy = run_tool(a.tool, a.model, sel, 0.0, a.seed, f"{a.split} greedy")
    sampled = run_tool(a.tool, a.model, sel, a.temperature, a.seed, f"{a.split} T={a.temperature}")
    os.makedirs(a.out_dir, exist_ok=True)
    out_ids, seqs, lines = (list(old[0]), list(old[1]), list(old[2])) if old else ([], [], [])
    for k, i in enumerate(order):
        p, d, _ = items[i]
        for suffix, seq in (("", greedy[k]), ("s", sampled[k])):
            assert len(seq) == int(d.sum())
            out_ids.append(ids[i] + suffix)
            seqs.append(seq)
            lines.append(json.dumps({"id": ids[i] + suffix, "n_frames": int(d.sum()), "phoneme_ids": p.tolist(),
                                     "dur": d.tolist()}))
    offsets = np.cumsum([0] + [len(s) for s in seqs]).astype(np.int64)
    tmp = os.path.join(a.out_dir, a.split + ".tmp.npz")
    np.savez(tmp, ids=np.array(out_ids), offsets=offsets, codes=np.concatenate(seqs).astype(np.int16))
    os.replace(tmp, os.path.join(a.out_dir, a.split + ".npz"))
    with gzip.open(os.path.join(a.out_dir, a.split + ".jsonl.gz.tmp"), "wt") as g:
        g.write("\n".join(lines) + "\n")
    os.replace(os.path.join(a.out_dir, a.split + ".jsonl.gz.tmp"), os.path.join(a.out_dir, a.split + ".jsonl.gz"))
    print(f"wrote {len(seqs)} sequences ({offsets[-1]} frames) to {a.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
