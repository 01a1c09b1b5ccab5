"""pico-codec: mel encoder -> FSQ (one codebook) -> Vocos-style NAR decoder (ConvNeXt + iSTFT head).

This file is the contract between training (train_codec.py), export (export_codec.py) and the C decoder
(models/decoder.c, models/istft.c): the C code reproduces `Decoder.forward` exactly. Layout conventions:
  * time runs at `sample_rate / hop` frames per second (50 Hz for 16 kHz / hop 320);
  * FSQ: each latent dim d has an odd number of levels L_d; a code is the mixed-radix number of its digits
    (digit 0 is the least significant, radix L_0), the decoder sees value_d = (digit_d - h_d) / h_d with
    h_d = (L_d - 1) / 2, so values lie in [-1, 1];
  * iSTFT "same" padding as in Vocos: irfft(n_fft) of each frame, times a periodic Hann window, overlap-add
    at t*hop, divided by the summed squared window, then (n_fft - hop) / 2 samples trimmed from the start:
    T frames give exactly T*hop samples.
Hyperparameters are constructor arguments and are written to the GGUF metadata: nothing model-sized is fixed
in C.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNeXtBlock(nn.Module):
    """x + gamma * pw2(gelu(pw1(layernorm(dwconv(x))))), x: [B, dim, T]."""

    def __init__(self, dim, ffn_dim, kernel_size=7, layer_scale=None, eps=1e-6):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.pwconv1 = nn.Linear(dim, ffn_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(ffn_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale if layer_scale is not None else 1.0 / 6))

    def forward(self, x):
        r = x
        x = self.dwconv(x).transpose(1, 2)          # [B, T, dim]
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        return r + (self.gamma * x).transpose(1, 2)


class FSQ(nn.Module):
    """Finite scalar quantisation (Mentzer et al. 2023) with odd level counts; straight-through rounding."""

    def __init__(self, levels):
        super().__init__()
        assert all(l % 2 == 1 for l in levels), "odd levels only (symmetric grid, no offset)"
        self.levels = list(levels)
        self.register_buffer("half_width", torch.tensor([(l - 1) / 2 for l in levels], dtype=torch.float32))
        radix = [1]
        for l in levels[:-1]:
            radix.append(radix[-1] * l)
        self.register_buffer("radix", torch.tensor(radix, dtype=torch.long))
        self.n_codes = int(math.prod(levels))

    def forward(self, z):
        """z: [B, D, T] unbounded -> (values in [-1,1] [B, D, T], codes [B, T])."""
        h = self.half_width.view(1, -1, 1)
        zb = torch.tanh(z) * h
        zq = zb + (torch.round(zb) - zb).detach()
        digits = (torch.round(zb) + h).long()
        codes = (digits * self.radix.view(1, -1, 1)).sum(1)
        return zq / h, codes

    def codes_to_values(self, codes):
        """codes [B, T] -> values [B, D, T] (what the C decoder computes from a token)."""
        digits = (codes.unsqueeze(1) // self.radix.view(1, -1, 1)) % torch.tensor(self.levels, device=codes.device).view(1, -1, 1)
        h = self.half_width.view(1, -1, 1)
        return (digits.float() - h) / h


def hann_periodic(n):
    return torch.hann_window(n, periodic=True)


def istft_same(mag, phase, n_fft, hop, window):
    """mag, phase: [B, n_fft//2+1, T] -> [B, T*hop] (see module docstring)."""
    spec = torch.complex(mag * torch.cos(phase), mag * torch.sin(phase))
    frames = torch.fft.irfft(spec, n=n_fft, dim=1) * window.view(1, -1, 1)     # [B, n_fft, T]
    B, _, T = frames.shape
    out_len = (T - 1) * hop + n_fft
    y = F.fold(frames, output_size=(1, out_len), kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, :]
    env = F.fold((window ** 2).view(1, -1, 1).expand(1, -1, T), output_size=(1, out_len),
                 kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, :]
    pad = (n_fft - hop) // 2
    y = y[:, pad:pad + T * hop]
    env = env[:, pad:pad + T * hop]
    return y / env.clamp(min=1e-11)


class Decoder(nn.Module):
    """FSQ values [B, latent_dim, T] (+ frame phoneme ids [B, T] when n_phonemes > 0) -> waveform [B, T*hop].

    Phoneme conditioning (n_phonemes > 0): the frame's phoneme id (the TTS pipeline knows it from the AR
    model's durations; for resynthesis it comes from the teacher's alignment) adds a learned row to the
    embedding conv's output, before the first LayerNorm: x_t = conv(v)_t + E[phone_t]. The tokens carry
    prosody and timbre; the id tells the decoder which sound it is (models/train/RUNS.md, "Phoneme-conditioned decoder")."""

    def __init__(self, latent_dim=5, dim=256, ffn_dim=768, n_layers=6, kernel_size=7, n_fft=1024, hop=320,
                 mag_clamp=100.0, eps=1e-6, n_phonemes=0):
        super().__init__()
        self.n_fft, self.hop, self.mag_clamp = n_fft, hop, mag_clamp
        self.embed = nn.Conv1d(latent_dim, dim, kernel_size, padding=kernel_size // 2)
        self.n_phonemes = n_phonemes
        if n_phonemes > 0:
            self.phone_embed = nn.Embedding(n_phonemes, dim)
            nn.init.zeros_(self.phone_embed.weight)     # starts as the unconditioned decoder it is warm-started from
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.blocks = nn.ModuleList([ConvNeXtBlock(dim, ffn_dim, kernel_size, 1.0 / n_layers, eps) for _ in range(n_layers)])
        self.final_norm = nn.LayerNorm(dim, eps=eps)
        self.head = nn.Linear(dim, n_fft + 2)          # [log-magnitude (n_fft/2+1) | phase (n_fft/2+1)]
        self.register_buffer("window", hann_periodic(n_fft), persistent=False)

    def spectral(self, v, phones=None):
        """values [B, D, T] (+ phones [B, T] long) -> (mag, phase) [B, n_fft/2+1, T]."""
        x = self.embed(v)
        if self.n_phonemes > 0:
            if phones is None:
                raise ValueError("this decoder is phoneme-conditioned: pass the frame phoneme ids")
            x = x + self.phone_embed(phones).transpose(1, 2)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for b in self.blocks:
            x = b(x)
        h = self.head(self.final_norm(x.transpose(1, 2))).transpose(1, 2)
        logmag, phase = h.chunk(2, dim=1)
        mag = torch.exp(logmag).clamp(max=self.mag_clamp)
        return mag, phase

    def forward(self, v, phones=None):
        mag, phase = self.spectral(v, phones)
        return istft_same(mag, phase, self.n_fft, self.hop, self.window)


class MelSpec(nn.Module):
    """log-mel (natural log, floor 1e-5) with torch.stft, center=True, periodic Hann; HTK mel scale."""

    def __init__(self, sample_rate=16000, n_fft=1024, hop=320, n_mels=80, fmin=0.0, fmax=None):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        fmax = fmax or sample_rate / 2
        self.register_buffer("window", hann_periodic(n_fft), persistent=False)
        self.register_buffer("fb", mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax), persistent=False)

    def forward(self, y):
        """y [B, N] -> [B, n_mels, N//hop + 1]"""
        s = torch.stft(y, self.n_fft, self.hop, window=self.window, center=True, return_complex=True).abs()
        return torch.log(torch.clamp(self.fb @ s, min=1e-5))


def mel_filterbank(sr, n_fft, n_mels, fmin, fmax):
    def hz2mel(f):
        return 2595.0 * math.log10(1.0 + f / 700.0)

    def mel2hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    n_bins = n_fft // 2 + 1
    freqs = torch.linspace(0, sr / 2, n_bins)
    mpts = torch.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2)
    hz = torch.tensor([mel2hz(float(m)) for m in mpts])
    fb = torch.zeros(n_mels, n_bins)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[i] = torch.clamp(torch.minimum(up, down), min=0)
        fb[i] *= 2.0 / (hi - lo)            # slaney-style area normalisation
    return fb


class Encoder(nn.Module):
    """log-mel [B, n_mels, T] -> unbounded latent [B, latent_dim, T] (training / tokenisation only)."""

    def __init__(self, n_mels=80, dim=256, ffn_dim=768, n_layers=4, latent_dim=5, kernel_size=7, eps=1e-6):
        super().__init__()
        self.embed = nn.Conv1d(n_mels, dim, kernel_size, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.blocks = nn.ModuleList([ConvNeXtBlock(dim, ffn_dim, kernel_size, 1.0 / n_layers, eps) for _ in range(n_layers)])
        self.final_norm = nn.LayerNorm(dim, eps=eps)
        self.proj = nn.Linear(dim, latent_dim)

    def forward(self, mel):
        x = self.norm(self.embed(mel).transpose(1, 2)).transpose(1, 2)
        for b in self.blocks:
            x = b(x)
        return self.proj(self.final_norm(x.transpose(1, 2))).transpose(1, 2)


class Codec(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(cfg or {}))
        self.cfg = c
        self.mel = MelSpec(c["sample_rate"], c["n_fft"], c["hop"], c["n_mels"])
        self.encoder = Encoder(c["n_mels"], c["enc_dim"], c["enc_ffn_dim"], c["enc_layers"], len(c["fsq_levels"]), c["kernel_size"])
        self.fsq = FSQ(c["fsq_levels"])
        self.decoder = Decoder(len(c["fsq_levels"]), c["dec_dim"], c["dec_ffn_dim"], c["dec_layers"], c["kernel_size"],
                               c["n_fft"], c["hop"], c["mag_clamp"], n_phonemes=c["n_phonemes"])

    def encode(self, y):
        """waveform [B, T*hop] -> (values [B, D, T], codes [B, T])"""
        mel = self.mel(y)[..., : y.shape[-1] // self.cfg["hop"]]
        return self.fsq(self.encoder(mel))

    def forward(self, y, phones=None):
        v, codes = self.encode(y)
        return self.decoder(v, phones), codes


DEFAULT_CONFIG = dict(sample_rate=16000, n_fft=1024, hop=320, n_mels=80, kernel_size=7,
                      enc_dim=256, enc_ffn_dim=768, enc_layers=4,
                      dec_dim=256, dec_ffn_dim=768, dec_layers=6,
                      fsq_levels=[7, 5, 5, 5, 5], mag_clamp=100.0, n_phonemes=0)
