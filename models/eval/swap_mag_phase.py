#!/usr/bin/env python3
"""Where does a codec lose intelligibility: in the STFT magnitude or in the phase?

  ~/.cache/edgegen-venv/bin/python models/eval/swap_mag_phase.py --codec-dir DIR --out-dir OUT [--max-items 100]
  -> OUT/magC_phT/<id>.wav  codec magnitude with the teacher's phase
     OUT/magT_phC/<id>.wav  teacher magnitude with the codec's phase
then score each with models/eval/eval_teacher.py --wav-dir OUT/magC_phT --gate codec --ref-wav-dir teacher.

Both signals are analysed on the codec's own grid (Hann 1024, hop 320, 16 kHz), recombined and resynthesised by
inverse STFT with overlap-add. If "teacher magnitude + codec phase" transcribes like the teacher, the phase is not
what costs words; if "codec magnitude + teacher phase" does not, the spectral envelope carried by the tokens (or
the decoder's reading of it) is.
"""
import argparse
import os
import sys
import wave

import numpy as np
import torch

from models.eval import wer as W  # noqa: E402
from models.eval.eval_teacher import TEACHER_WAV_DIR  # noqa: E402


def write(path, x):
    with wave.open(path + ".tmp", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--codec-dir", required=True)
    ap.add_argument("--teacher-dir", default=str(TEACHER_WAV_DIR), help="teacher WAVs (DIR/<id>.wav or DIR/*/<id>.wav)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--n-fft", type=int, default=1024)
    ap.add_argument("--hop", type=int, default=320)
    a = ap.parse_args()
    torch.set_num_threads(1)
    teacher, codec = W.index_wavs(a.teacher_dir), W.index_wavs(a.codec_dir)
    ids = [u for u in sorted(codec) if u in teacher][: a.max_items or None]
    win = torch.hann_window(a.n_fft)
    for name in ("magC_phT", "magT_phC"):
        os.makedirs(os.path.join(a.out_dir, name), exist_ok=True)
    for u in ids:
        t, c = W.load_wav16k(teacher[u]), W.load_wav16k(codec[u])
        n = min(len(t), len(c))
        T = torch.stft(torch.from_numpy(t[:n].copy()), a.n_fft, a.hop, window=win, return_complex=True)
        C = torch.stft(torch.from_numpy(c[:n].copy()), a.n_fft, a.hop, window=win, return_complex=True)
        for name, (mag, ph) in (("magC_phT", (C.abs(), T.angle())), ("magT_phC", (T.abs(), C.angle()))):
            y = torch.istft(torch.polar(mag, ph), a.n_fft, a.hop, window=win, length=n)
            write(os.path.join(a.out_dir, name, u + ".wav"), y.numpy())
    print(f"swap_mag_phase: {len(ids)} utterances -> {a.out_dir}/{{magC_phT,magT_phC}}")


if __name__ == "__main__":
    main()
