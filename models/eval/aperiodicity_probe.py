#!/usr/bin/env python3
"""Probe (issue 11, session 7): is the shipped voice decoder's over-periodic voicing (harmonicity 14.9 / 7.7 / 3.7 dB
in 0.5-1 / 1-2 / 2-4 kHz against the teacher's 9.8 / 3.6 / 1.5) what the MOS predictors hear? Resynthesises corpus
*valid* utterances (never the Harvard dev sentences) with one trained noise_white decoder, no retraining:
  a        as trained: S = H * STFT(e) + |N| * W
  fcXXXX   the harmonic term above XXXX Hz replaced by white noise of the same local power (|H * STFT(e)|^2
           averaged over +-smooth bins), cross-faded over the 500 Hz below XXXX Hz
  mixPP    PP % of the harmonic term's power moved to noise at every frequency (sqrt(1-p) harm + sqrt(p) noise)
  gainG    the noise branch |N| scaled by G (G in --gain)
  tf       the harmonic source driven by the teacher's F0 and voicing (what training does) instead of the prediction
  minph    the harmonic envelope H made minimum-phase (cepstral folding of log H; the same |H|) instead of zero-phase
  magT_phD / magD_phT  oracles: the teacher's STFT magnitudes with the decoder's phases, and the reverse
  ref      the teacher's own audio
Judge the folders with ../shared/eval/voice-eval (distillmos_dir.py, dnsmos_dir.py) and models.eval.harmonicity.
Deterministic (seeded).

  OPENBLAS_NUM_THREADS=1 ~/.cache/edgegen-venv/bin/python -m models.eval.aperiodicity_probe \
      --weights models/train/checkpoints/pico-voice-weights.pt --out OUT [--first 60 --n 30 --fc 4000 2500 1500 --mix 30]
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from models.eval.probe_common import inputs, load_decoder, probe_args, valid_utts, write_utterance
from models.train.voice_data import f0_targets
from models.train.voice_model import harmonic_excitation, stft_same, white_noise


def min_phase(H, n_fft):
    """[B, n_bins, T] magnitudes -> complex minimum-phase responses with the same magnitudes (real cepstrum folded
    onto positive quefrencies)."""
    c = torch.fft.irfft(torch.log(H.clamp(min=1e-6)), n=n_fft, dim=1)
    fold = torch.zeros(n_fft)
    fold[0] = 1; fold[1:n_fft // 2] = 2; fold[n_fft // 2] = 1
    return torch.exp(torch.fft.rfft(c * fold.view(1, -1, 1), dim=1))


def main():
    ap = probe_args(__doc__)
    ap.add_argument("--fc", type=float, nargs="*", default=[4000.0, 2500.0, 1500.0])
    ap.add_argument("--mix", type=float, nargs="*", default=[30.0])
    ap.add_argument("--gain", type=float, nargs="*", default=[])
    ap.add_argument("--tf", action="store_true", help="also the teacher-F0 variant")
    ap.add_argument("--oracle", action="store_true", help="also minph, magT_phD and magD_phT")
    ap.add_argument("--smooth", type=int, default=7, help="half-width in bins of the power smoothing")
    a = ap.parse_args()
    m = load_decoder(a.weights)
    c = m.cfg
    assert c["noise_white"] and c["harmonic"], "the probe is for a noise_white harmonic decoder"
    utts = valid_utts(c, a.first, a.n)
    g = torch.Generator().manual_seed(0)
    nb = c["n_fft"] // 2 + 1
    freqs = torch.arange(nb, dtype=torch.float32) * c["sample_rate"] / c["n_fft"]
    norm = math.sqrt((m.window ** 2).sum())
    for u in utts:
        codes, ph = inputs(u)
        T = codes.shape[1]
        with torch.no_grad():
            h = m.features(codes, ph)
            lf0, vlog = m.pitch(h)
            logmag = m.head(h).transpose(1, 2)[:, :nb]
            mag = torch.exp(logmag).clamp(max=c["mag_clamp"])
            W = stft_same(white_noise(0, T * c["hop"])[None], c["n_fft"], c["hop"], m.window) / norm
            vuv = (torch.sigmoid(vlog) > c["vuv_threshold"]).float()
            E = stft_same(harmonic_excitation(torch.exp(lf0), vuv, c), c["n_fft"], c["hop"], m.window)
            env = torch.exp(m.env_head(h)).clamp(max=c["env_clamp"])
            H = torch.matmul(env, m.env_interp.t()).transpose(1, 2)              # [1, nb, T] zero-phase envelope
            harm = H * E
            noise = mag * W
            k = 2 * a.smooth + 1
            p = F.avg_pool1d((harm.abs() ** 2).transpose(1, 2).reshape(-1, 1, nb), k, 1, a.smooth,
                             count_include_pad=False).reshape(1, T, nb).transpose(1, 2)
            wn2 = (torch.rand(1, T * c["hop"], generator=g) * 2 - 1) * math.sqrt(3)   # a second, independent noise
            W2 = stft_same(wn2, c["n_fft"], c["hop"], m.window) / norm
            hnoise = torch.sqrt(p) * W2
            outs = {"a": noise + harm}
            for fc in a.fc:
                x = ((freqs - (fc - 500.0)) / 500.0).clamp(0, 1).view(1, -1, 1)   # 0 below fc-500, 1 above fc
                outs[f"fc{int(fc)}"] = noise + torch.sqrt(1 - x) * harm + torch.sqrt(x) * hnoise
            for pp in a.mix:
                q = pp / 100.0
                outs[f"mix{int(pp)}"] = noise + math.sqrt(1 - q) * harm + math.sqrt(q) * hnoise
            for gg in a.gain:
                outs[f"gain{gg:g}"] = gg * noise + harm
            if a.tf:
                lf, vv = f0_targets(u["f0"])
                Et = stft_same(harmonic_excitation(torch.from_numpy(np.exp(lf))[None], torch.from_numpy(vv)[None], c),
                               c["n_fft"], c["hop"], m.window)
                outs["tf"] = noise + H * Et
            if a.oracle:
                outs["minph"] = noise + min_phase(H, c["n_fft"]) * E
                yt = torch.from_numpy(u["audio"].astype(np.float32) / 32768)[None]
                St = stft_same(yt[:, :T * c["hop"]], c["n_fft"], c["hop"], m.window)
                Sd = outs["a"]
                outs["magT_phD"] = torch.polar(St.abs(), torch.angle(Sd))
                outs["magD_phT"] = torch.polar(Sd.abs(), torch.angle(St))
            write_utterance(a.out, u, outs, m)
    print(f"{a.out}: {' '.join(outs)} ref, {len(utts)} utterances each")


if __name__ == "__main__":
    main()
