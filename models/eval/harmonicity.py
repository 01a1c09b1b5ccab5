#!/usr/bin/env python3
"""Harmonic peak-to-valley ratio of voiced speech, per frequency band: how crisp the harmonics are (issue 11's
diagnosis: today's decoder has clean harmonics only below ~500 Hz, the teacher up to ~4 kHz).

For every WAV (any rate; each is judged on its own F0, so TTS output with its own timing works): F0 from Praat
(models/data/teacher_f0.frame_f0, 10 ms frames); in each voiced frame with 60 <= F0 <= 300 Hz a Hann-windowed
spectrum of 93 ms (zero-padded 4x); for every harmonic k*F0 in a band, the frame's figure is the median over the
band's harmonics of 10 log10(peak / valley), where peak = mean power within +-0.1 F0 of k*F0 and valley = mean
power within +-0.1 F0 of (k+0.5)*F0; the file's figure is the mean over frames, the result the mean over files.
Noise scores ~0 dB (white noise with a forced 100 Hz "F0": -0.3 to +0.3 dB per band), clean harmonics 20-40 dB.

  python -m models.eval.harmonicity NAME=DIR [NAME=DIR ...] [--max-files 60] [--json OUT]
"""
import argparse
import glob
import json
import os
import sys
import wave

import numpy as np

from models.data.teacher_f0 import frame_f0

BANDS = ((500, 1000), (1000, 2000), (2000, 4000), (4000, 8000))


def read(path):
    with wave.open(path, "rb") as wf:
        if wf.getnchannels() != 1 or wf.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        return np.frombuffer(wf.readframes(wf.getnframes()), "<i2").astype(np.float64) / 32768.0, wf.getframerate()


def file_scores(path):
    x, sr = read(path)
    hop = int(round(sr * 0.01))
    n_frames = len(x) // hop
    f0 = frame_f0(x, sr, n_frames, hop)
    n = int(round(0.093 * sr))
    win = np.hanning(n)
    nfft = 1 << int(np.ceil(np.log2(4 * n)))
    res = {b: [] for b in BANDS}
    for t in np.nonzero((f0 >= 60) & (f0 <= 300))[0]:
        c = int((t + 0.5) * hop)
        s = c - n // 2
        if s < 0 or s + n > len(x):
            continue
        X = np.abs(np.fft.rfft(x[s:s + n] * win, nfft))
        df = sr / nfft
        F = f0[t]
        for lo, hi in BANDS:
            if hi > sr / 2:
                continue
            r = []
            for k in range(int(np.ceil(lo / F)), int(hi / F) + 1):
                pk = X[int(round((k - 0.1) * F / df)):int(round((k + 0.1) * F / df)) + 1]
                vl = X[int(round((k + 0.4) * F / df)):int(round((k + 0.6) * F / df)) + 1]
                if len(pk) and len(vl):
                    r.append(10 * np.log10(np.mean(pk ** 2) / max(np.mean(vl ** 2), 1e-18)))
            if r:
                res[(lo, hi)].append(float(np.median(r)))
    return {b: (float(np.mean(v)) if v else float("nan")) for b, v in res.items()}, int(((f0 >= 60) & (f0 <= 300)).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+", help="NAME=DIR (WAVs, searched recursively)")
    ap.add_argument("--max-files", type=int, default=60)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    out = {}
    for spec in a.sets:
        name, d = spec.split("=", 1)
        files = sorted(glob.glob(os.path.join(d, "**", "*.wav"), recursive=True))[: a.max_files]
        if not files:
            sys.exit(f"harmonicity: {d}: no WAV files")
        per = [file_scores(f) for f in files]
        bands = {f"{lo}-{hi}": float(np.nanmean([p[0][(lo, hi)] for p in per])) for lo, hi in BANDS}
        out[name] = dict(bands, files=len(files), voiced_frames=sum(p[1] for p in per))
        print(f"{name:24s} " + "  ".join(f"{k} Hz {v:5.1f} dB" for k, v in bands.items())
              + f"  ({len(files)} files)", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
