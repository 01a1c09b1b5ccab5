#!/usr/bin/env python3
"""The teacher's F0 and voicing per 50 Hz frame, from the native-rate (22.05 kHz) corpus, with Praat.

Why Praat (praat-parselmouth, `Sound.to_pitch_ac`): the teacher (Piper joe) is a low male voice (F0 mostly
70-130 Hz) whose fundamental is often 30-40 dB below the second harmonic. On such frames WORLD's harvest and
dio+stonemask (pyworld) report twice the F0 (checked on hv0001: spectral peaks at 185, 278, 369, 463 Hz = multiples
of 92.5 Hz; Praat 92.2 Hz, harvest 183 Hz, dio 183 Hz), while Praat's autocorrelation tracker, with a 60 ms
window from pitch_floor 50 Hz, follows the true period. It also runs at ~70x real time on one core.

Frame convention (the decoder's): frame t of hop H covers samples [t*H, (t+1)*H) and is centred at
(t + 0.5) * H / sr seconds. Praat is run with a 5 ms step; at each frame centre the F0 is the log-linear
interpolation of the two neighbouring Praat frames when both are voiced, else the nearer one's value; 0 means
unvoiced.

Cache: <state>/f0/<corpus>/<hh>/<id>.npy (float32 [n_frames], Hz, 0 = unvoiced), computed on first use
(`frame_f0_cached`), so the trainers and this CLI share one copy. CLI:
  teacher_f0.py [--corpus DIR] [--split eval|valid|train ...] [--pack OUT.npz]
fills the cache for every finished, manifest-matching utterance and optionally packs a split into one npz
(ids, offsets, f0 as uint16 in 0.1 Hz).
"""
import argparse
import hashlib
import json
import os
import sys
import wave
from pathlib import Path

import numpy as np

PITCH_FLOOR = 50.0      # Hz: sets Praat's window (3 periods = 60 ms)
PITCH_CEILING = 350.0   # Hz: the teacher stays far below; a low ceiling avoids octave-up errors
TIME_STEP = 0.005       # s
HERE = Path(__file__).resolve().parent


def state_dir() -> Path:
    return Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser("~/.cache/edgegen-train")))


def shard_dir(uid: str) -> str:
    return hashlib.sha1(uid.encode()).hexdigest()[:2]


def frame_f0(x: np.ndarray, sr: int, n_frames: int, hop: int) -> np.ndarray:
    """x: float waveform -> float32 [n_frames] F0 in Hz at the frame centres, 0 where unvoiced."""
    import parselmouth
    p = parselmouth.Sound(np.asarray(x, np.float64), sr).to_pitch_ac(
        time_step=TIME_STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    xs = np.asarray(p.xs(), np.float64)
    f = np.nan_to_num(np.asarray(p.selected_array["frequency"], np.float64))
    tc = (np.arange(n_frames) + 0.5) * hop / sr
    out = np.zeros(n_frames, np.float32)
    if len(xs) == 0:
        return out
    pos = (tc - xs[0]) / TIME_STEP
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, len(xs) - 1)
    i1 = np.clip(i0 + 1, 0, len(xs) - 1)
    w = np.clip(pos - i0, 0.0, 1.0)
    a, b = f[i0], f[i1]
    both = (a > 0) & (b > 0)
    out[both] = np.exp((1 - w[both]) * np.log(a[both]) + w[both] * np.log(b[both]))
    near = np.where(w < 0.5, a, b)
    out[~both] = near[~both]
    return out


def read_wav(path: Path):
    with wave.open(str(path), "rb") as wf:
        if wf.getnchannels() != 1 or wf.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        return np.frombuffer(wf.readframes(wf.getnframes()), "<i2"), wf.getframerate()


def frame_f0_cached(corpus: Path, uid: str, pcm: np.ndarray, sr: int, n_frames: int, hop: int) -> np.ndarray:
    """F0 of one utterance from the cache, computing (and storing, atomically) it on a miss."""
    cp = state_dir() / "f0" / corpus.name / shard_dir(uid) / f"{uid}.npy"
    if cp.exists():
        f = np.load(cp)
        if len(f) == n_frames:
            return f
    f = frame_f0(pcm.astype(np.float64) / 32768.0, sr, n_frames, hop)
    cp.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp.with_name(cp.name + f".tmp{os.getpid()}.npy")
    np.save(tmp, f)
    os.replace(tmp, cp)
    return f


def interp_unvoiced(f0: np.ndarray, default_hz: float = 100.0) -> np.ndarray:
    """Log-linear interpolation of F0 across unvoiced frames (flat at the ends): a continuous contour."""
    v = f0 > 0
    if not v.any():
        return np.full(len(f0), default_hz, np.float32)
    idx = np.arange(len(f0))
    return np.exp(np.interp(idx, idx[v], np.log(f0[v]))).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description="Teacher F0/voicing per 50 Hz frame (Praat), cached under "
                                             "$EDGEGEN_TRAIN_STATE/f0 (default ~/.cache/edgegen-train/f0)")
    ap.add_argument("--corpus", default="", help="native-rate corpus dir (default <state>/corpus22k)")
    ap.add_argument("--split", action="append", default=[], help="eval, valid, train (repeatable; default all)")
    ap.add_argument("--manifest-dir", default=str(HERE / "manifest"))
    ap.add_argument("--pack", default="", help="write OUT.npz for the (single) split: ids, offsets, f0_dhz uint16")
    args = ap.parse_args()
    corpus = Path(args.corpus) if args.corpus else state_dir() / "corpus22k"
    splits = args.split or ["eval", "valid", "train"]
    if args.pack and len(splits) != 1:
        sys.exit("--pack needs exactly one --split")
    import gzip
    for split in splits:
        root = corpus / "eval" if split == "eval" else corpus
        ids, f0s, missing, voiced, frames = [], [], 0, 0, 0
        with gzip.open(Path(args.manifest_dir) / f"{split}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                uid, h = r["id"], shard_dir(r["id"])
                mp, wp = root / "meta" / h / f"{uid}.json", root / "wav" / h / f"{uid}.wav"
                if not (mp.exists() and wp.exists()):
                    missing += 1
                    continue
                rec = json.loads(mp.read_text())
                if rec.get("manifest_match") is not True:
                    missing += 1
                    continue
                pcm, sr = read_wav(wp)
                f = frame_f0_cached(corpus, uid, pcm, sr, rec["n_frames"], rec["hop_50hz"])
                ids.append(uid); f0s.append(f)
                voiced += int((f > 0).sum()); frames += len(f)
        print(f"{split}: {len(ids)} utterances, {frames} frames, voiced {voiced / max(1, frames):.3f}, "
              f"median F0 {np.median(np.concatenate(f0s)[np.concatenate(f0s) > 0]) if voiced else 0:.1f} Hz, "
              f"{missing} not (yet) synthesised or mismatching", file=sys.stderr)
        if args.pack:
            offs = np.concatenate([[0], np.cumsum([len(f) for f in f0s])]).astype(np.int64)
            tmp = args.pack + ".tmp.npz"
            np.savez_compressed(tmp, ids=np.array(ids), offsets=offs,
                                f0_dhz=np.rint(np.concatenate(f0s) * 10).astype(np.uint16))
            os.replace(tmp, args.pack)


if __name__ == "__main__":
    main()
