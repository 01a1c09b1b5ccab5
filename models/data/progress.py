#!/usr/bin/env python3
"""Count finished utterances per list and write <corpus>/PROGRESS (atomic)."""
import json, os, sys, time, hashlib
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "/root/.cache/edgegen-train/corpus")
here = Path(__file__).resolve().parent / "text"
lines = [f"updated {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"]
for name, root in (("train", out), ("valid", out), ("eval", out / "eval")):
    ids = [l.split("\t", 1)[0] for l in open(here / f"{name}.tsv", encoding="utf-8") if l.strip()]
    n = s = 0
    for uid in ids:
        jp = root / "meta" / hashlib.sha1(uid.encode()).hexdigest()[:2] / f"{uid}.json"
        if jp.exists():
            try:
                s += json.loads(jp.read_text())["n_samples"]
                n += 1
            except Exception:
                pass
    lines.append(f"{name}: {n}/{len(ids)} utterances, {s/16000/3600:.3f} h")
workers = sorted(p.name for p in (out / "locks").glob("*.lock")) if (out / "locks").exists() else []
lines.append(f"in-flight: {len(workers)}; training_started={os.path.exists(out.parent / 'TRAINING_STARTED')}")
tmp = out / "PROGRESS.tmp"
tmp.write_text("\n".join(lines) + "\n")
os.replace(tmp, out / "PROGRESS")
print("\n".join(lines))
