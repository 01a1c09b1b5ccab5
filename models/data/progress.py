#!/usr/bin/env python3
"""Count finished utterances per list and write <corpus>/PROGRESS (atomic).
usage: progress.py [CORPUS_DIR]   (default ~/.cache/edgegen-train/corpus; works for corpus22k too)"""
import json, os, sys, time, hashlib
from pathlib import Path

state = Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser("~/.cache/edgegen-train")))
out = Path(sys.argv[1] if len(sys.argv) > 1 else state / "corpus")
here = Path(__file__).resolve().parent / "text"
lines = [f"updated {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"]
for name, root in (("train", out), ("valid", out), ("eval", out / "eval")):
    ids = [l.split("\t", 1)[0] for l in open(here / f"{name}.tsv", encoding="utf-8") if l.strip()]
    n = s = bad = 0
    for uid in ids:
        jp = root / "meta" / hashlib.sha1(uid.encode()).hexdigest()[:2] / f"{uid}.json"
        if jp.exists():
            try:
                r = json.loads(jp.read_text())
                s += r["n_samples"] / r.get("sr", 16000)
                n += 1
                bad += r.get("manifest_match") is False
            except Exception:
                pass
    lines.append(f"{name}: {n}/{len(ids)} utterances, {s/3600:.3f} h, manifest mismatches {bad}")
workers = sorted(p.name for p in (out / "locks").glob("*.lock")) if (out / "locks").exists() else []
lines.append(f"in-flight: {len(workers)}; training_started={os.path.exists(out.parent / 'TRAINING_STARTED')}")
tmp = out / "PROGRESS.tmp"
tmp.write_text("\n".join(lines) + "\n")
os.replace(tmp, out / "PROGRESS")
print("\n".join(lines))
