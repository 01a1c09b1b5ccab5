#!/usr/bin/env python3
"""Probe (issue 11, session 6): how much of the voice v2 decoder's unnaturalness is the learned phase of its noise
branch? Resynthesises corpus *valid* utterances (never the Harvard dev sentences) with one trained decoder three
ways, no retraining: (a) as trained, magnitude x learned phase; (b) the same magnitudes with uniformly random
phases per bin and frame; (c) the same magnitudes times the STFT of white noise (DDSP-style filtered noise, what
noise_white does) - plus (ref) the teacher's own audio. Judge the folders with ../shared/eval/voice-eval
(distillmos_dir.py, dnsmos_dir.py). Deterministic (seeded).

  OPENBLAS_NUM_THREADS=1 ~/.cache/edgegen-venv/bin/python -m models.eval.noise_phase_probe \
      --weights models/train/checkpoints/pico-voice-weights.pt --out OUT [--first 60 --n 30]
"""
import math

import torch

from models.eval.probe_common import inputs, load_decoder, probe_args, valid_utts, write_utterance
from models.train.voice_model import harmonic_excitation, stft_same


def main():
    ap = probe_args(__doc__)
    a = ap.parse_args()
    m = load_decoder(a.weights, noise_white=False)
    c = m.cfg
    g = torch.Generator().manual_seed(0)
    utts = valid_utts(c, a.first, a.n)
    for u in utts:
        codes, ph = inputs(u)
        with torch.no_grad():
            h = m.features(codes, ph)
            lf0, vlog = m.pitch(h)
            logmag, phs = m.head(h).transpose(1, 2).chunk(2, dim=1)
            mag = torch.exp(logmag).clamp(max=c["mag_clamp"])
            vuv = (torch.sigmoid(vlog) > c["vuv_threshold"]).float()
            E = stft_same(harmonic_excitation(torch.exp(lf0), vuv, c), c["n_fft"], c["hop"], m.window)
            env = torch.exp(m.env_head(h)).clamp(max=c["env_clamp"])
            harm = torch.matmul(env, m.env_interp.t()).transpose(1, 2) * E
            T = codes.shape[1]
            wn = (torch.rand(1, T * c["hop"], generator=g) * 2 - 1) * math.sqrt(3)
            W = stft_same(wn, c["n_fft"], c["hop"], m.window) / math.sqrt((m.window ** 2).sum())
            write_utterance(a.out, u, {"a": torch.polar(mag, phs) + harm,
                                       "b": torch.polar(mag, torch.rand(mag.shape, generator=g) * 2 * math.pi) + harm,
                                       "c": mag * W + harm}, m)
    print(f"{a.out}: a b c ref, {len(utts)} utterances each")


if __name__ == "__main__":
    main()
