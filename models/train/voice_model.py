"""Voice v2 decoder (issue 11): 50 Hz codec tokens + frame phoneme ids -> 22,050 Hz speech, harmonic by construction.

    tokens ─ FSQ values [B,5,T] ─ Conv1d k7 ─(+ E[phone_t])─ LN ─ N × ConvNeXt ─ LN ─┬─ pitch head  → log F0, voicing logit
                                                                                 ├─ noise head  → log|N|, ∠N   (n_fft/2+1 each)
                                                                                 └─ env head    → log H at n_env points
    F0, voicing (frame) ── linear upsampling to samples ── phase φ(n) = Σ f0/sr ──  e(n) = v(n) Σ_k≤K(n) sin(2π k φ(n))
    S_t = H_t ⊙ STFT_t(e) + |N_t| e^{i∠N_t}        y = iSTFT(S)   (Hann n_fft, hop; "same" framing as codec_model.istft_same)

With "noise_white" the noise branch is filtered white noise instead (DDSP-style): S_t = H_t ⊙ STFT_t(e) +
|N_t| ⊙ STFT_t(w) / sqrt(Σ hann²), w unit-variance white noise (white_noise: fresh in training, a fixed function of
the sample index at inference, so C and torch agree bit for bit); the head's phase half then drives nothing and
the exporter writes only its magnitude half (dec.noise_head). A learned phase per frame cannot be right for noise:
swapping it for white noise in the trained decoder, without retraining, moved DistillMOS 3.03 -> 3.72 on corpus
utterances (models/eval/noise_phase_probe.py, RUNS.md session 6).

The harmonic source e carries the exact harmonic fine structure (every harmonic k·F0 below harm_f_max at unit
amplitude, the next one faded in continuously with F0, so nothing aliases and no harmonic switches on abruptly);
the network only shapes it with a per-frame, zero-phase spectral envelope H (n_env log-amplitudes on a linear
frequency grid, linearly interpolated to the FFT bins, so H cannot smear harmonics). The learned iSTFT branch N
(the Vocos head of the 16 kHz decoder) adds noise, transients and whatever the source misses. With
"harmonic": false the envelope head and the source are absent: that is the ablation (same backbone, same
pitch head and pitch loss, same data and losses).

F0 at training time: the source is driven by the teacher's F0 and voicing (models/data/teacher_f0.py; "teacher
forcing"), the pitch head learns to predict them; at inference (and in the held-out "pred" losses) the
source is driven by the predicted F0 and the thresholded voicing.

Frame conventions (the C side must match): T frames give T*hop samples; frame t is centred on sample t*hop + hop/2;
frame -> sample upsampling of F0 and voicing = linear interpolation with sample n at frame coordinate
(n + 0.5)/hop - 0.5, clamped to [0, T-1] (torch interpolate, align_corners=False); the phase accumulates
f0(n)/sr per sample from 0 at sample 0 (float64, wrapped to [0,1)); the analysis STFT of e uses the same windows
as the synthesis iSTFT: frame t = e[t*hop - p_l, t*hop - p_l + n_fft) with p_l = (n_fft - hop)//2 and zeros outside
[0, T*hop), times the periodic Hann window, rfft.

Every dimension is a config entry (VOICE_DEFAULTS; all of them go to the GGUF metadata when the C side comes; n_mels
is the training loss's only); fixed choices: periodic Hann windows, exact (erf) GELU, ConvNeXt layer-scale init
1/n_layers, FSQ values (digit - h)/h as in codec_model. `flops_per_second(cfg)` counts the inference work.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.train.codec_model import FSQ, ConvNeXtBlock, MelSpec, hann_periodic, istft_same

VOICE_DEFAULTS = dict(
    sample_rate=22050, hop=441, n_fft=1024, n_mels=80,
    fsq_levels=[7, 5, 5, 5, 5], n_phonemes=256,
    dim=256, ffn_dim=768, n_layers=6, kernel_size=7, norm_eps=1e-6, mag_clamp=100.0,
    harmonic=True, n_env=129, env_clamp=100.0, harm_f_max=10000.0,
    f0_min=40.0, f0_max=400.0, f0_center=100.0, vuv_threshold=0.5,
    noise_white=False,
)

SQRT3_F32 = torch.tensor(math.sqrt(3.0), dtype=torch.float32)


def white_noise(start, n, generator=None):
    """[n] float32 unit-variance uniform noise for samples start .. start+n-1 of a stream.
    At inference (generator None) sample i's value is a pure function of i (splitmix64 of i, top 23 bits), so the
    C side (models/voice_source.c eg_voice_noise) makes the same noise for any window split:
        z = splitmix64(i);  u = ((z >> 41) + 0.5) * 2^-22 - 1  (in (-1, 1), exact in float32);  w = float32(u) * float32(sqrt 3)
    In training (a torch.Generator given) the noise is fresh each batch: the same distribution, no fixed sequence."""
    if generator is not None:
        return (torch.rand(n, generator=generator) * 2 - 1) * SQRT3_F32
    import numpy as np
    with np.errstate(over="ignore"):
        z = np.arange(start, start + n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = ((z >> np.uint64(41)).astype(np.float64) + 0.5) * 2.0 ** -22 - 1.0
    return torch.from_numpy(u.astype(np.float32)) * SQRT3_F32


def upsample_frames(x, hop):
    """[B, T] frame values -> [B, T*hop] samples by linear interpolation between frame centres."""
    return F.interpolate(x.unsqueeze(1), scale_factor=hop, mode="linear", align_corners=False).squeeze(1)


@torch.no_grad()
def harmonic_excitation(f0, vuv, cfg):
    """f0 [B, T] Hz (> 0 everywhere: unvoiced frames carry an interpolated contour), vuv [B, T] in [0, 1]
    -> e [B, T*hop] float32:  e(n) = v(n) * (sum_{k=1..K} sin(k theta) + a * sin((K+1) theta)),
    K = floor(harm_f_max / f0(n)), a = frac(harm_f_max / f0(n)): every harmonic below harm_f_max at unit amplitude,
    the next one faded in continuously (no harmonic switches on abruptly, nothing above harm_f_max + f0).
    The sum has the closed form sin(K theta/2) sin((K+1) theta/2) / sin(theta/2) (0 where sin(theta/2) = 0)."""
    sr, hop, fmax = cfg["sample_rate"], cfg["hop"], cfg["harm_f_max"]
    f0 = f0.clamp(cfg["f0_min"], cfg["f0_max"])
    fs = upsample_frames(f0.float(), hop).double()
    vs = upsample_frames(vuv.float(), hop)
    phase = torch.remainder(torch.cumsum(fs / sr, dim=1), 1.0)
    theta = (2 * math.pi) * phase
    kappa = fmax / fs
    K = torch.floor(kappa)
    a = kappa - K
    den = torch.sin(0.5 * theta)
    num = torch.sin(0.5 * K * theta) * torch.sin(0.5 * (K + 1) * theta)
    s = torch.where(den > 1e-9, num / den.clamp(min=1e-9), torch.zeros_like(den))
    e = s + a * torch.sin((K + 1) * theta)
    return e.float() * vs


def stft_same(x, n_fft, hop, window):
    """[B, T*hop] -> complex [B, n_fft/2+1, T]: the analysis twin of istft_same (zeros outside the signal)."""
    B, N = x.shape
    T = N // hop
    pl = (n_fft - hop) // 2
    pr = (T - 1) * hop + n_fft - N - pl
    xp = F.pad(x, (pl, pr))
    frames = xp.unfold(1, n_fft, hop)[:, :T, :] * window.view(1, 1, -1)      # [B, T, n_fft]
    return torch.fft.rfft(frames, dim=-1).transpose(1, 2)


def env_interp_matrix(n_env, n_bins):
    """[n_bins, n_env]: linear interpolation of n_env equally spaced points (0 .. Nyquist) to the FFT bins."""
    pos = torch.arange(n_bins, dtype=torch.float64) * (n_env - 1) / (n_bins - 1)
    i0 = pos.floor().long().clamp(max=n_env - 1)
    i1 = (i0 + 1).clamp(max=n_env - 1)
    w = pos - i0
    m = torch.zeros(n_bins, n_env, dtype=torch.float64)
    m[torch.arange(n_bins), i0] += 1 - w
    m[torch.arange(n_bins), i1] += w
    return m.float()


class VoiceDecoder(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        c = dict(VOICE_DEFAULTS, **(cfg or {}))
        self.cfg = c
        self.fsq = FSQ(c["fsq_levels"])
        D, n_bins = c["dim"], c["n_fft"] // 2 + 1
        self.embed = nn.Conv1d(len(c["fsq_levels"]), D, c["kernel_size"], padding=c["kernel_size"] // 2)
        self.phone_embed = nn.Embedding(c["n_phonemes"], D) if c["n_phonemes"] > 0 else None
        self.norm = nn.LayerNorm(D, eps=c["norm_eps"])
        self.blocks = nn.ModuleList([ConvNeXtBlock(D, c["ffn_dim"], c["kernel_size"], 1.0 / c["n_layers"], c["norm_eps"])
                                     for _ in range(c["n_layers"])])
        self.final_norm = nn.LayerNorm(D, eps=c["norm_eps"])
        self.pitch_head = nn.Linear(D, 2)          # [log(F0 / f0_center), voicing logit]
        self.head = nn.Linear(D, c["n_fft"] + 2)   # noise branch: [log-magnitude | phase]
        nn.init.normal_(self.head.weight, std=0.01); nn.init.zeros_(self.head.bias)
        with torch.no_grad():
            self.head.bias[:n_bins] = -4.0
        nn.init.normal_(self.pitch_head.weight, std=0.01); nn.init.zeros_(self.pitch_head.bias)
        if c["harmonic"]:
            self.env_head = nn.Linear(D, c["n_env"])
            nn.init.normal_(self.env_head.weight, std=0.01); nn.init.constant_(self.env_head.bias, -4.0)
            self.register_buffer("env_interp", env_interp_matrix(c["n_env"], n_bins), persistent=False)
        self.register_buffer("window", hann_periodic(c["n_fft"]), persistent=False)

    def features(self, codes, phones):
        x = self.embed(self.fsq.codes_to_values(codes))
        if self.phone_embed is not None:
            x = x + self.phone_embed(phones).transpose(1, 2)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for b in self.blocks:
            x = b(x)
        return self.final_norm(x.transpose(1, 2))                 # [B, T, D]

    def pitch(self, h):
        p = self.pitch_head(h)
        return p[..., 0] + math.log(self.cfg["f0_center"]), p[..., 1]   # log F0 [B,T], voicing logit [B,T]

    def forward(self, codes, phones=None, f0=None, vuv=None, exc=None, noise_gen=None):
        """codes [B,T] long, phones [B,T] long -> dict(y [B,T*hop], lf0, vuv_logit, and the branches).
        The harmonic source is driven by (f0, vuv) if given (teacher forcing), else by the prediction;
        exc (a precomputed source) overrides both."""
        c = self.cfg
        h = self.features(codes, phones)
        lf0, vlog = self.pitch(h)
        out = {"lf0": lf0, "vuv_logit": vlog}
        hh = self.head(h).transpose(1, 2)
        logmag, ph = hh.chunk(2, dim=1)
        if c["noise_white"]:
            # DDSP-style filtered noise: the head's magnitudes times the STFT of white noise (unit expected
            # |W|^2 per bin); the head's phase half is unused. Deterministic at inference (white_noise).
            B, _, T = logmag.shape
            w = torch.stack([white_noise(0, T * c["hop"], noise_gen) for _ in range(B)])
            W = stft_same(w, c["n_fft"], c["hop"], self.window) / torch.sqrt((self.window ** 2).sum())
            noise = torch.exp(logmag).clamp(max=c["mag_clamp"]) * W
        else:
            noise = torch.polar(torch.exp(logmag).clamp(max=c["mag_clamp"]), ph)
        S = noise
        if c["harmonic"]:
            if exc is None:
                if f0 is None:
                    f0 = torch.exp(lf0.detach())
                    vuv = (torch.sigmoid(vlog.detach()) > c["vuv_threshold"]).float()
                exc = harmonic_excitation(f0, vuv, c)
            E = stft_same(exc, c["n_fft"], c["hop"], self.window)
            env = torch.exp(self.env_head(h)).clamp(max=c["env_clamp"])            # [B, T, n_env]
            H = torch.matmul(env, self.env_interp.t()).transpose(1, 2)            # [B, n_bins, T]
            S = S + H * E
            out["harm_mag"] = H
        out["noise_mag"] = noise.abs()
        spec = S
        y = self._istft(spec)
        out["y"] = y
        return out

    def _istft(self, S):
        c = self.cfg
        frames = torch.fft.irfft(S, n=c["n_fft"], dim=1) * self.window.view(1, -1, 1)
        B, _, T = frames.shape
        hop, n_fft = c["hop"], c["n_fft"]
        out_len = (T - 1) * hop + n_fft
        y = F.fold(frames, output_size=(1, out_len), kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, :]
        env = F.fold((self.window ** 2).view(1, -1, 1).expand(1, -1, T), output_size=(1, out_len),
                     kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, :]
        pad = (n_fft - hop) // 2
        return y[:, pad:pad + T * hop] / env[:, pad:pad + T * hop].clamp(min=1e-11)

    def load_backbone(self, sd):
        """Warm start from a 16 kHz codec decoder state dict (keys 'decoder.*' or bare): embed, phone_embed,
        norm, blocks, final_norm. Returns the list of loaded keys."""
        own = self.state_dict()
        loaded = []
        for k, v in sd.items():
            kk = k[len("decoder."):] if k.startswith("decoder.") else k
            if kk.split(".")[0] in ("embed", "phone_embed", "norm", "blocks", "final_norm") and kk in own \
                    and own[kk].shape == v.shape:
                own[kk] = v.float()
                loaded.append(kk)
        self.load_state_dict(own)
        return loaded


def flops_per_second(cfg):
    """Counted inference work per second of audio (multiply-add = 2 FLOP), by part."""
    c = dict(VOICE_DEFAULTS, **cfg)
    fps = c["sample_rate"] / c["hop"]
    D, Fd, K, L, nf = c["dim"], c["ffn_dim"], c["kernel_size"], c["n_layers"], c["n_fft"]
    nb = nf // 2 + 1
    fft = 2.5 * nf * math.log2(nf)                    # real FFT of n_fft points, ~ (5/2) N log2 N
    parts = {
        "embed": 2 * len(c["fsq_levels"]) * D * K + D,
        "convnext": L * (2 * D * K + 8 * D + 2 * D * Fd * 2 + 8 * Fd + 2 * D),   # dwconv, LN, pw1, gelu, pw2, residual
        "heads": 2 * D * (nf + 2) + 2 * D * 2 + 5 * D,
        "istft": fft + 6 * nb + 2 * nf,                # polar, irfft, window, overlap-add
    }
    if c["harmonic"]:
        parts["env_head"] = 2 * D * c["n_env"] + 2 * nb + c["n_env"]
        parts["source"] = c["hop"] * (4 * 20 + 20)     # per sample: 4 sines (~20 FLOP each), phase, interpolation, divide
        parts["source_stft"] = fft + nf + 8 * nb
    per_frame = {k: v for k, v in parts.items()}
    return {k: v * fps for k, v in per_frame.items()} | {"total": sum(per_frame.values()) * fps}


class VoiceLoss(nn.Module):
    """mel L1 + multi-resolution STFT (SC + log-magnitude) at the decoder's rate, + pitch losses:
    L1 on log F0 against the teacher's contour (interpolated through unvoiced frames) and BCE on voicing."""

    def __init__(self, cfg, w_mel=1.0, w_stft=1.0, stft_res=((512, 128), (1024, 256), (2048, 512)),
                 w_f0=1.0, w_vuv=0.5):
        super().__init__()
        from models.train.losses import MRSTFTLoss
        self.mel = MelSpec(cfg["sample_rate"], cfg["n_fft"], cfg["hop"], cfg["n_mels"])
        self.mrstft = MRSTFTLoss(stft_res)
        self.w = dict(mel=w_mel, stft=w_stft, f0=w_f0, vuv=w_vuv)

    def forward(self, out, y, lf0_t, vuv_t, mask=None):
        mel_l1 = F.l1_loss(self.mel(out["y"]), self.mel(y))
        sc, lm = self.mrstft(out["y"], y)
        m = torch.ones_like(lf0_t) if mask is None else mask
        f0_l1 = ((out["lf0"] - lf0_t).abs() * m).sum() / m.sum().clamp(min=1)
        vuv = (F.binary_cross_entropy_with_logits(out["vuv_logit"], vuv_t, reduction="none") * m).sum() / m.sum().clamp(min=1)
        w = self.w
        total = w["mel"] * mel_l1 + w["stft"] * (sc + lm) + w["f0"] * f0_l1 + w["vuv"] * vuv
        return total, {"mel_l1": mel_l1.item(), "sc": sc.item(), "logmag": lm.item(), "f0_l1": f0_l1.item(),
                       "vuv_bce": vuv.item()}
