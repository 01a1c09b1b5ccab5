#!/usr/bin/env python3
"""Speak the sentences of a manifest split with `edgegen tts` (the shipped C pipeline, text in, WAV out).

  python3 models/eval/tts_split.py --out-dir DIR [--split eval] [--model AR.gguf] [--codec CODEC.gguf]
      [--max-items N] [--seed 0] [--threads 1] [--edgegen build/edgegen] [-- extra edgegen tts options]
  -> DIR/<id>.wav, one per sentence of models/data/manifest/SPLIT.jsonl.gz (eval = the Harvard sentences of
     ../shared/eval/harvard-dev.txt, the TTS quality set)

Then: models/eval/eval_teacher.py --wav-dir DIR --name NAME --gate tts (Whisper tiny.en + pocketsphinx WER against
the same sentences; the teacher's own WER on them is results/teacher.json). The text goes through stdin, exactly
as a user would pipe it; the seed is the same for every sentence.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        k = argv.index("--")
        argv, extra = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="eval")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--model", default="")
    ap.add_argument("--codec", default="")
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--edgegen", default=os.path.join(REPO, "build", "edgegen"))
    a = ap.parse_args(argv)
    with gzip.open(os.path.join(REPO, "models", "data", "manifest", a.split + ".jsonl.gz"), "rt") as f:
        items = [json.loads(line) for line in f]
    if a.max_items:
        items = items[: a.max_items]
    os.makedirs(a.out_dir, exist_ok=True)
    cmd = [a.edgegen, "tts", "-o", None, "--seed", str(a.seed), "-t", str(a.threads)]
    if a.model:
        cmd += ["--model", a.model]
    if a.codec:
        cmd += ["--codec", a.codec]
    cmd += extra
    t0 = time.time()
    for k, r in enumerate(items):
        cmd[3] = os.path.join(a.out_dir, r["id"] + ".wav")
        p = subprocess.run(cmd, input=r["text"].encode(), capture_output=True)
        if p.returncode != 0:
            sys.exit(f"tts_split: {r['id']}: edgegen tts failed ({p.returncode}): {p.stderr.decode().strip()}")
        if sys.stderr.isatty():
            sys.stderr.write(f"\rtts_split: {k + 1}/{len(items)}")
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(f"tts_split: {len(items)} sentences of {a.split} -> {a.out_dir} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
