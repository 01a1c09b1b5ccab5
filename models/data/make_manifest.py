#!/usr/bin/env python3
"""Collect per-utterance records from the corpus into committed manifests.

  models/data/manifest/{train,valid,eval}.jsonl.gz   (gzip, mtime=0: byte-deterministic)
  models/data/manifest/summary.json                  counts / hours / missing

One JSON object per line, in list order, only for utterances that are finished:
  id, text, wav (relative to the corpus root), n_samples (16 kHz), n_frames (50 Hz, = ceil(n_samples/320)),
  sha256 (of the raw little-endian int16 PCM data, not the WAV header),
  phonemes (espeak IPA string as fed to the voice), phoneme_ids (incl. ^ BOS, _ pads, $ EOS),
  dur_22k / dur_16k / dur_50hz (one entry per phoneme id; sums = n_samples_22k / n_samples / n_frames),
  n_samples_22k, gain (peak-normalisation gain applied after resampling), raw_peak_22k.
Use --verify to re-hash every wav (slow-ish: reads all audio).
"""
import argparse, gzip, hashlib, io, json, os, wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = ["id", "text", "wav", "n_samples", "n_frames", "sha256", "phonemes", "phoneme_ids",
        "dur_22k", "dur_16k", "dur_50hz", "n_samples_22k", "gain", "raw_peak_22k"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser(
        "~/.cache/edgegen-train")), "corpus"))
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    (HERE / "manifest").mkdir(exist_ok=True)
    summary = {}
    for name, root, rel in (("train", corpus, ""), ("valid", corpus, ""), ("eval", corpus / "eval", "eval/")):
        rows = [l.rstrip("\n").split("\t", 1) for l in open(HERE / "text" / f"{name}.tsv", encoding="utf-8") if l.strip()]
        buf = io.BytesIO()
        n = samples = bad = 0
        missing = []
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
            for uid, text in rows:
                h = hashlib.sha1(uid.encode()).hexdigest()[:2]
                jp = root / "meta" / h / f"{uid}.json"
                if not jp.exists():
                    missing.append(uid)
                    continue
                rec = json.loads(jp.read_text())
                if rec["text"] != text:
                    missing.append(uid)
                    continue
                rec["wav"] = f"{rel}wav/{h}/{uid}.wav"
                if args.verify:
                    with wave.open(str(corpus / rec["wav"]), "rb") as wf:
                        pcm = wf.readframes(wf.getnframes())
                    if hashlib.sha256(pcm).hexdigest() != rec["sha256"]:
                        bad += 1
                        continue
                assert sum(rec["dur_16k"]) == rec["n_samples"] and sum(rec["dur_50hz"]) == rec["n_frames"]
                gz.write((json.dumps({k: rec[k] for k in KEYS}, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
                n += 1
                samples += rec["n_samples"]
        (HERE / "manifest" / f"{name}.jsonl.gz").write_bytes(buf.getvalue())
        summary[name] = {"listed": len(rows), "synthesised": n, "hours": round(samples / 16000 / 3600, 3),
                         "mean_s": round(samples / 16000 / max(n, 1), 2), "missing": len(missing),
                         "bad_checksum": bad, "manifest_bytes": len(buf.getvalue())}
    (HERE / "manifest" / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
