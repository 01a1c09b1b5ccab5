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
import argparse
import math
import os

import numpy as np
import soundfile as sf
import torch

from models.train.voice_data import VoiceCorpus
from models.train.voice_model import VoiceDecoder, harmonic_excitation, stft_same


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--first", type=int, default=60, help="first valid utterance (the trainer's held-out set is 0..47)")
    ap.add_argument("--n", type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(1)
    w = torch.load(a.weights, map_location="cpu")
    m = VoiceDecoder(dict(w["cfg"], noise_white=False))
    m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in w["state_dict"].items()})
    m.eval()
    c = m.cfg
    val = VoiceCorpus("valid", None, c["hop"], c["sample_rate"])
    val.refresh()
    g = torch.Generator().manual_seed(0)
    for v in ("a", "b", "c", "ref"):
        os.makedirs(os.path.join(a.out, v), exist_ok=True)
    for u in val.utts[a.first:a.first + a.n]:
        codes = torch.from_numpy(u["codes"].astype(np.int64))[None]
        ph = torch.from_numpy(u["phones"].astype(np.int64))[None]
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
            outs = {"a": torch.polar(mag, phs) + harm,
                    "b": torch.polar(mag, torch.rand(mag.shape, generator=g) * 2 * math.pi) + harm,
                    "c": mag * W + harm}
            for k, S in outs.items():
                y = m._istft(S)[0].numpy()
                sf.write(os.path.join(a.out, k, f"{u['id']}.wav"), np.clip(y, -1, 1), c["sample_rate"])
        sf.write(os.path.join(a.out, "ref", f"{u['id']}.wav"), u["audio"].astype(np.float32) / 32768, c["sample_rate"])
    print(f"{a.out}: a b c ref, {len(val.utts[a.first:a.first + a.n])} utterances each")


if __name__ == "__main__":
    main()
