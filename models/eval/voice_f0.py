#!/usr/bin/env python3
"""Pitch against the teacher (issue 11, deliverable 4): F0 RMSE, gross pitch error and voicing error of any TTS
system's WAVs against the teacher's own renders of the same sentences, after DTW alignment.

Why DTW: edgegen, espeak-ng and a fresh Piper run each choose their own durations, so frame t of one is not frame t
of another. Each WAV and its reference are analysed on a common 10 ms grid: F0 with Praat (parselmouth, the same
autocorrelation method as models/data/teacher_f0.py, floor 50 Hz, ceiling 300 Hz for every system: all three are
low male voices, median 90-120 Hz, and a higher ceiling only adds octave-up tracking errors), and 20 MFCCs
(c1..c20 of a 40-band log-mel at 16 kHz, mean/variance normalised per utterance, so the path follows phonetic
content rather than the voice). A plain DTW (steps (1,1), (1,0), (0,1), Euclidean cost) pairs the frames; then

  F0 RMSE (cents)   over pairs both call voiced: sqrt(mean((1200 log2(f_sys / f_ref))^2))
  gross (%)         share of those pairs off by more than 20 % in frequency (the usual gross pitch error, GPE;
                    also catches octave errors of the tracker on either side)
  fine RMSE (cents) the RMSE over the other (non-gross) pairs: intonation, without octave jumps
  V/UV error (%)    share of all pairs where exactly one side is voiced

The reference is the teacher corpus at 22,050 Hz (models/data/synth.py, the corpus seeds): the "teacher" row is a
fresh Piper run of the same sentences (other noise draws) and so shows the floor these figures can reach.

  python -m models.eval.voice_f0 --sys edgegen=DIR --sys teacher=DIR --sys espeak=DIR --first 1 --last 60 \
      [--ref-dir ~/.cache/edgegen-train/corpus22k/eval/wav] [--json OUT]
A system DIR holds one WAV per sentence, in sentence order when sorted by name (voice_eval.sh's wav-NAME folders:
NAME-PART-000.wav, ...). Sentence k (1-based line of ../shared/eval/harvard-dev.txt) is the corpus utterance hvKKKK.
"""
import argparse
import glob
import json
import math
import os
import sys
import wave
from pathlib import Path

import numpy as np

STEP = 0.01          # s: analysis grid
F0_FLOOR, F0_CEIL = 50.0, 300.0
GROSS_CENTS = 1200.0 * math.log2(1.2)   # 315.6 cents


def read_wav(path):
    with wave.open(str(path), "rb") as wf:
        if wf.getnchannels() != 1 or wf.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit PCM, found {wf.getnchannels()} channel(s), "
                             f"{8 * wf.getsampwidth()}-bit")
        x = np.frombuffer(wf.readframes(wf.getnframes()), "<i2").astype(np.float64) / 32768.0
        return x, wf.getframerate()


def f0_track(x, sr):
    import parselmouth
    p = parselmouth.Sound(x, sr).to_pitch_ac(time_step=STEP, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEIL)
    return np.asarray(p.xs(), np.float64), np.nan_to_num(np.asarray(p.selected_array["frequency"], np.float64))


def mel_fb(sr, n_fft, n_mels):
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)
    pts = 700.0 * (10 ** (np.linspace(hz2mel(0), hz2mel(sr / 2), n_mels + 2) / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        fb[m] = np.clip(np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), 0, None)
    return fb


_FB = {}


def mfcc_at(x, sr, times):
    """20 MFCCs (c1..c20) at the given centre times, from 16 kHz audio, 25 ms Hann frames; CMVN per utterance."""
    from scipy.fft import dct
    from scipy.signal import resample_poly
    if sr != 16000:
        g = math.gcd(sr, 16000)
        x = resample_poly(x, 16000 // g, sr // g)
    n_fft, win = 512, 400
    if "fb" not in _FB:
        _FB["fb"] = mel_fb(16000, n_fft, 40)
    w = np.hanning(win)
    xp = np.pad(x, (win, win))
    frames = []
    for t in times:
        c = int(round(t * 16000)) + win
        frames.append(xp[c - win // 2:c - win // 2 + win] * w)
    spec = np.abs(np.fft.rfft(np.asarray(frames), n_fft)) ** 2
    lm = np.log(spec @ _FB["fb"].T + 1e-10)
    cc = dct(lm, type=2, norm="ortho", axis=1)[:, 1:21]
    return (cc - cc.mean(0)) / (cc.std(0) + 1e-8)


def dtw_path(a, b):
    """a [N, d], b [M, d] -> list of (i, j) pairs on the optimal path (Euclidean cost)."""
    N, M = len(a), len(b)
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    D = np.full((N + 1, M + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, N + 1):
        prev, row, ci = D[i - 1], D[i], cost[i - 1]
        diag_up = np.minimum(prev[:-1], prev[1:])          # D[i-1, j-1], D[i-1, j] for j = 1..M
        left = np.inf
        for j in range(1, M + 1):
            v = ci[j - 1] + min(diag_up[j - 1], left)
            row[j] = v
            left = v
    i, j, path = N, M, []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        k = int(np.argmin((D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])))
        if k == 0:
            i, j = i - 1, j - 1
        elif k == 1:
            i -= 1
        else:
            j -= 1
    return path[::-1]


def analyse(path):
    x, sr = read_wav(path)
    xs, f = f0_track(x, sr)
    if len(xs) == 0:
        raise ValueError(f"{path}: too short for a pitch track")
    return f, mfcc_at(x, sr, xs)


def compare(sys_files, ref_files):
    cents, n_pairs, vuv_bad = [], 0, 0
    for s, r in zip(sys_files, ref_files):
        fs, ms = analyse(s)
        fr, mr = analyse(r)
        for i, j in dtw_path(ms, mr):
            n_pairs += 1
            vs, vr = fs[i] > 0, fr[j] > 0
            if vs and vr:
                cents.append(1200.0 * math.log2(fs[i] / fr[j]))
            elif vs != vr:
                vuv_bad += 1
    c = np.asarray(cents)
    return {"files": len(sys_files), "pairs": n_pairs, "voiced_pairs": int(len(c)),
            "f0_rmse_cents": round(float(np.sqrt(np.mean(c ** 2))), 1) if len(c) else None,
            "f0_gross_pct": round(100.0 * float(np.mean(np.abs(c) > GROSS_CENTS)), 2) if len(c) else None,
            "f0_fine_rmse_cents": round(float(np.sqrt(np.mean(c[np.abs(c) <= GROSS_CENTS] ** 2))), 1)
            if (np.abs(c) <= GROSS_CENTS).any() else None,
            "vuv_err_pct": round(100.0 * vuv_bad / max(n_pairs, 1), 2)}


def ref_file(ref_dir, k):
    hits = glob.glob(os.path.join(ref_dir, "*", f"hv{k:04d}.wav")) + glob.glob(os.path.join(ref_dir, f"hv{k:04d}.wav"))
    if not hits:
        raise FileNotFoundError(f"{ref_dir}: no teacher render hv{k:04d}.wav (run the corpus synthesis: "
                                f"models/data/CORPUS.md)")
    return hits[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sys", action="append", required=True, metavar="NAME=DIR", help="a system's WAV folder")
    ap.add_argument("--first", type=int, default=1, help="first sentence (1-based line of harvard-dev.txt)")
    ap.add_argument("--last", type=int, default=60)
    ap.add_argument("--ref-dir", default=os.path.join(os.environ.get("EDGEGEN_TRAIN_STATE",
                    os.path.expanduser("~/.cache/edgegen-train")), "corpus22k", "eval", "wav"),
                    help="teacher corpus renders (hvNNNN.wav, any shard folder)")
    ap.add_argument("--json", help="also write the results here (temp file + rename)")
    a = ap.parse_args()
    refs = [ref_file(a.ref_dir, k) for k in range(a.first, a.last + 1)]
    out = {}
    for spec in a.sys:
        if "=" not in spec:
            ap.error(f"--sys {spec!r}: expected NAME=DIR")
        name, d = spec.split("=", 1)
        files = sorted(glob.glob(os.path.join(d, "*.wav")))
        if len(files) != len(refs):
            sys.exit(f"voice_f0: {d}: expected {len(refs)} WAVs (sentences {a.first}-{a.last}), found {len(files)}")
        out[name] = compare(files, refs)
        print(json.dumps({"name": name, "first": a.first, "last": a.last, **out[name]}), flush=True)
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"first": a.first, "last": a.last, "systems": out}, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
