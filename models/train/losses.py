"""Losses for the pico-codec: spectral (L1 log-mel + multi-resolution STFT) and adversarial (small
multi-resolution spectrogram discriminator "MRD" + multi-period discriminator "MPD", hinge losses and
feature matching, as in Vocos / HiFi-GAN but with far fewer channels so a step stays affordable on one CPU
thread; see RUNS.md for the measured step costs).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from models.train.codec_model import MelSpec


class MRSTFTLoss(nn.Module):
    """Multi-resolution STFT loss: spectral convergence + L1 log-magnitude, averaged over resolutions."""

    def __init__(self, resolutions=((512, 128), (1024, 256), (2048, 512))):
        super().__init__()
        self.resolutions = [tuple(r) for r in resolutions]
        for n, _ in self.resolutions:
            self.register_buffer(f"win{n}", torch.hann_window(n), persistent=False)

    def forward(self, y_hat, y):
        sc_tot, mag_tot = 0.0, 0.0
        for n, hop in self.resolutions:
            w = getattr(self, f"win{n}")
            S = torch.stft(y, n, hop, window=w, return_complex=True).abs().clamp(min=1e-7)
            Sh = torch.stft(y_hat, n, hop, window=w, return_complex=True).abs().clamp(min=1e-7)
            sc_tot = sc_tot + torch.linalg.norm(S - Sh) / torch.linalg.norm(S).clamp(min=1e-7)
            mag_tot = mag_tot + F.l1_loss(torch.log(Sh), torch.log(S))
        k = len(self.resolutions)
        return sc_tot / k, mag_tot / k


class SpectralLoss(nn.Module):
    """L = w_mel * L1(log-mel) + w_stft * (SC + logmag) of MR-STFT."""

    def __init__(self, cfg, w_mel=1.0, w_stft=1.0, stft_res=((512, 128), (1024, 256), (2048, 512))):
        super().__init__()
        self.mel = MelSpec(cfg["sample_rate"], cfg["n_fft"], cfg["hop"], cfg["n_mels"])
        self.mrstft = MRSTFTLoss(stft_res)
        self.w_mel, self.w_stft = w_mel, w_stft

    def forward(self, y_hat, y):
        mel_l1 = F.l1_loss(self.mel(y_hat), self.mel(y))
        sc, lm = self.mrstft(y_hat, y)
        total = self.w_mel * mel_l1 + self.w_stft * (sc + lm)
        return total, {"mel_l1": mel_l1.item(), "sc": sc.item(), "logmag": lm.item()}


# ---------------------------------------------------------------------------------------------------- GAN
class DiscriminatorR(nn.Module):
    """Spectrogram discriminator at one resolution (Vocos/UnivNet DiscriminatorR, narrow)."""

    def __init__(self, n_fft, hop, ch=16, stride_t=1):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            nn.utils.weight_norm(nn.Conv2d(1, ch, (3, 9), padding=(1, 4))),
            nn.utils.weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(stride_t, 2), padding=(1, 4))),
            nn.utils.weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))),
            nn.utils.weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))),
            nn.utils.weight_norm(nn.Conv2d(ch, ch, (3, 3), padding=(1, 1))),
        ])
        self.post = nn.utils.weight_norm(nn.Conv2d(ch, 1, (3, 3), padding=(1, 1)))

    def forward(self, y):
        s = torch.stft(y, self.n_fft, self.hop, window=self.window, return_complex=True).abs()
        x = s.clamp(min=1e-5).pow(0.3).transpose(1, 2).unsqueeze(1)      # [B, 1, T, F] compressed magnitude
        fmap = []
        for c in self.convs:
            x = F.leaky_relu(c(x), 0.1)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return x.flatten(1), fmap


class DiscriminatorP(nn.Module):
    """Waveform discriminator on a [T/p, p] reshaping (HiFi-GAN DiscriminatorP, narrow)."""

    def __init__(self, period, chs=(16, 32, 64, 64)):
        super().__init__()
        self.period = period
        layers, cin = [], 1
        for i, c in enumerate(chs):
            layers.append(nn.utils.weight_norm(nn.Conv2d(cin, c, (5, 1), (3, 1), padding=(2, 0))))
            cin = c
        layers.append(nn.utils.weight_norm(nn.Conv2d(cin, cin, (5, 1), 1, padding=(2, 0))))
        self.convs = nn.ModuleList(layers)
        self.post = nn.utils.weight_norm(nn.Conv2d(cin, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, y):
        B, T = y.shape
        if T % self.period:
            y = F.pad(y, (0, self.period - T % self.period), mode="reflect")
        x = y.view(B, 1, -1, self.period)
        fmap = []
        for c in self.convs:
            x = F.leaky_relu(c(x), 0.1)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return x.flatten(1), fmap


class Discriminators(nn.Module):
    def __init__(self, mrd_res=((2048, 512), (1024, 256), (512, 128)), mrd_ch=16, periods=(2, 3, 5, 7, 11),
                 mpd_chs=(16, 32, 64, 64), use_mrd=True, use_mpd=True, mrd_batch=0, mpd_batch=0):
        super().__init__()
        self.mrd_batch, self.mpd_batch = mrd_batch, mpd_batch      # 0 = whole batch; else first N items only
        self.mrd = nn.ModuleList([DiscriminatorR(n, h, mrd_ch) for n, h in mrd_res]) if use_mrd else nn.ModuleList()
        self.mpd = nn.ModuleList([DiscriminatorP(p, tuple(mpd_chs)) for p in periods]) if use_mpd else nn.ModuleList()

    def forward(self, y):
        """-> list of (logits, fmap) per sub-discriminator, with a tag 'mrd'/'mpd'."""
        out = []
        ym = y[: self.mrd_batch] if self.mrd_batch else y
        yp = y[: self.mpd_batch] if self.mpd_batch else y
        for d in self.mrd:
            out.append(("mrd",) + d(ym))
        for d in self.mpd:
            out.append(("mpd",) + d(yp))
        return out


def disc_hinge_loss(real_outs, fake_outs, w_mrd=1.0):
    loss = 0.0
    for (tag, lr, _), (_, lf, _) in zip(real_outs, fake_outs):
        w = w_mrd if tag == "mrd" else 1.0
        loss = loss + w * (F.relu(1 - lr).mean() + F.relu(1 + lf).mean())
    return loss


def adversarial_step(disc, dopt, yr, yf, tc, dsched=None):
    """One discriminator step on real yr vs detached fake yf (hinge; gradient norm clipped at 10 x grad_clip), then
    the generator's terms with the discriminators frozen -> (the generator's adversarial loss w_adv*adv + w_fm*fm,
    {d, adv, fm} to log). Shared by train_codec and train_voice."""
    ld = disc_hinge_loss(disc(yr), disc(yf.detach()), tc["w_mrd"])
    dopt.zero_grad(set_to_none=True)
    ld.backward()
    torch.nn.utils.clip_grad_norm_(disc.parameters(), tc["grad_clip"] * 10)
    dopt.step()
    if dsched is not None:
        dsched.step()
    for p in disc.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        real_outs = disc(yr)
    adv, fm = gen_adv_fm_loss(real_outs, disc(yf), tc["w_mrd"])
    for p in disc.parameters():
        p.requires_grad_(True)
    return tc["w_adv"] * adv + tc["w_fm"] * fm, dict(d=ld.item(), adv=adv.item(), fm=fm.item())


def gen_adv_fm_loss(real_outs, fake_outs, w_mrd=1.0):
    adv, fm = 0.0, 0.0
    for (tag, _, fr), (_, lf, ff) in zip(real_outs, fake_outs):
        w = w_mrd if tag == "mrd" else 1.0
        adv = adv + w * F.relu(1 - lf).mean()
        fm = fm + w * sum(F.l1_loss(b, a.detach()) / a.detach().abs().mean().clamp(min=1e-5) for a, b in zip(fr, ff)) / len(fr)
    return adv, fm
