#!/usr/bin/env python3
"""Objective indicators of the audible artefacts of a WAV directory against the teacher's audio of the same ids.

  /usr/bin/python3 models/eval/artefacts.py --wav-dir DIR [--teacher-dir <corpus>/eval/wav]
      [--max-items 100] [--json OUT]

Per set (teacher vs DIR), over all frames (Hann 512, hop 160, 16 kHz):
  duration      total seconds (speaking rate vs the teacher; TTS uses its own predicted durations)
  flatness_v    median spectral flatness (geometric / arithmetic mean of the power spectrum, 100 Hz .. 4 kHz) of
                voiced-looking frames (energy within 30 dB of the utterance peak and zero-crossing rate < 0.1):
                higher = noisier / buzzier harmonics
  hf_ratio_db   energy above 4 kHz relative to 0 .. 4 kHz, in dB (negative = duller than the teacher)
  silence_db    median frame energy of the quietest 10 % of frames, dB re full scale (noise floor in pauses)
  clip_frac     fraction of samples at full scale
  jump_rate     clicks: fraction of samples whose first difference exceeds 8x the utterance's 99.9th percentile
Numbers, not listening: they say which way the artefacts go (buzz, dullness, noise floor, clicks), not how bad
they sound.
"""
import argparse
import json
import os
import sys

import numpy as np

from models.eval import wer as W  # noqa: E402
from models.eval.eval_teacher import TEACHER_WAV_DIR  # noqa: E402


def read(p):
    return W.load_wav16k(p).astype(np.float64)


def frames(x, n=512, hop=160, window=True):
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    k = 1 + (len(x) - n) // hop
    idx = np.arange(n)[None, :] + hop * np.arange(k)[:, None]
    return x[idx] * np.hanning(n)[None, :] if window else x[idx]


def stats(x):
    f = frames(x)
    P = np.abs(np.fft.rfft(f, axis=1)) ** 2 + 1e-12          # 257 bins, 31.25 Hz each
    e_db = 10 * np.log10(P.sum(1))
    raw = frames(x, window=False)
    zcr = (np.abs(np.diff(np.sign(raw), axis=1)) > 0).mean(1)
    voiced = (e_db > e_db.max() - 30) & (zcr < 0.1)
    band = P[:, 3:129]                                       # ~100 Hz .. 4 kHz
    flat = np.exp(np.log(band).mean(1)) / band.mean(1)
    lo, hi = P[:, :129].sum(), P[:, 129:].sum()
    q = np.sort(e_db)[: max(1, len(e_db) // 10)]
    d = np.abs(np.diff(x))
    thr = 8 * np.percentile(d, 99.9) if len(d) else 1
    return dict(dur=len(x) / 16000, flat=flat[voiced], hf=(lo, hi), sil=float(np.median(q)),
                clip=int((np.abs(x) >= 32767 / 32768).sum()), n=len(x), jumps=int((d > thr).sum()))


def summarise(rows):
    lo = sum(r["hf"][0] for r in rows); hi = sum(r["hf"][1] for r in rows)
    n = sum(r["n"] for r in rows)
    return {"duration_s": round(sum(r["dur"] for r in rows), 2),
            "flatness_v": round(float(np.median(np.concatenate([r["flat"] for r in rows]))), 4),
            "hf_ratio_db": round(10 * np.log10(hi / lo), 2),
            "silence_db": round(float(np.median([r["sil"] for r in rows])), 1),
            "clip_frac": float(sum(r["clip"] for r in rows)) / n,
            "jump_rate": float(sum(r["jumps"] for r in rows)) / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wav-dir", required=True)
    ap.add_argument("--teacher-dir", default=str(TEACHER_WAV_DIR))
    ap.add_argument("--max-items", type=int, default=100)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    teacher, test = W.index_wavs(a.teacher_dir), W.index_wavs(a.wav_dir)
    ids = [u for u in sorted(test) if u in teacher][: a.max_items]
    t = summarise([stats(read(teacher[u])) for u in ids])
    s = summarise([stats(read(test[u])) for u in ids])
    out = {"n": len(ids), "teacher": t, "test": s, "wav_dir": a.wav_dir}
    for k in t:
        print(f"{k:12s} teacher {t[k]:>10.4g}   {os.path.basename(a.wav_dir.rstrip('/')):>12s} {s[k]:>10.4g}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
