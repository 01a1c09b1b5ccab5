#!/usr/bin/env python3
"""Spectrograms side by side (issue 11, deliverable 4): one PNG, one row per WAV, each at its own sample rate up to
11,025 Hz (so a 16 kHz system shows its empty band above 8 kHz), same dB scale (0 dB = each file's peak, -80 floor).

  python3 models/eval/spectrograms.py OUT.png LABEL=A.wav LABEL=B.wav ...
Runs under the voice-eval environment (librosa + matplotlib: ../shared/eval/voice-eval/setup.sh prints its folder);
writes OUT.png through a temporary file and a rename.
"""
import os
import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
import librosa  # noqa: E402
import librosa.display  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        sys.exit("usage: spectrograms.py OUT.png LABEL=FILE.wav [LABEL=FILE.wav ...]")
    out, items = argv[1], [a.split("=", 1) for a in argv[2:]]
    fig, ax = plt.subplots(len(items), 1, figsize=(12, 3.0 * len(items)), squeeze=False)
    for a, (label, path) in zip(ax[:, 0], items):
        y, sr = librosa.load(path, sr=None)
        n_fft, hop = (1024, 256) if sr > 16000 else (1024, 160)
        S = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop)), ref=np.max)
        librosa.display.specshow(S, sr=sr, hop_length=hop, x_axis="time", y_axis="hz", ax=a, vmin=-80, vmax=0)
        a.set_ylim(0, 11025)
        a.set_title(f"{label}  ({sr} Hz)  {os.path.basename(path)}")
    plt.tight_layout()
    tmp = out + ".tmp.png"
    plt.savefig(tmp, dpi=70)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv)
