"""pico-AR: phonemes -> codec tokens, frame-aligned (no learned attention alignment), for the C runtime.

Contract between training (train_ar.py), export (export_ar.py) and the C implementation (models/ar_lm.c):

  phoneme ids [P] --embed--> PhonemeEncoder (bidirectional transformer, RoPE over phoneme positions)
        -> enc [P, d]
  DurationPredictor(enc.detach()) -> log(1 + frames) per phoneme          (training target: teacher durations)
  length regulation: frame t belongs to phoneme p(t); f(t) = (t - start[p] + 0.5) / dur[p] in (0, 1)
        cond[t] = cond_proj(enc[p(t)]) + f(t) * cond_frac            (cond_proj has a bias)
  token decoder input x[t] = sum_d digit_emb[d][digit_d(tok[t-1])] + cond[t]   (tok[-1] = BOS: all digits
        use the extra row L_d of each digit table)
  TokenDecoder: causal transformer, sliding attention window W frames (attend to t-W+1 .. t), RoPE over frame
        positions, pre-RMSNorm blocks: x += attn(norm1(x)); x += ffn(norm2(x)); ffn = down(gelu(up(.)))
  logits[t] = head(norm_f(x[t]))  over n_codes = prod(fsq_levels)

Because the length is fixed by the durations there is no stop token and no attention alignment to fail: the
model cannot skip or repeat phonemes. Sampling (temperature / top-k / top-p) restores fricative noise.
RoPE: "half" pairing (x[i], x[i + hd/2]), angle = pos * theta^(-2i/hd), as simd/kernels.h rope_f32.
Attention projections and FFN have no bias. All sizes are constructor arguments written to GGUF metadata.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n_pos, head_dim, theta, device=None):
    inv = theta ** (-torch.arange(0, head_dim // 2, dtype=torch.float32, device=device) * 2.0 / head_dim)
    ang = torch.arange(n_pos, dtype=torch.float32, device=device)[:, None] * inv[None, :]
    return torch.cos(ang), torch.sin(ang)           # [n_pos, head_dim/2]


def apply_rope(x, cos, sin):
    """x [B, H, T, hd]; cos/sin [T, hd/2] (half pairing)."""
    h = x.shape[-1] // 2
    x0, x1 = x[..., :h], x[..., h:]
    return torch.cat([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)


class Block(nn.Module):
    def __init__(self, d, n_heads, ffn_dim, eps):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = RMSNorm(d, eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.norm2 = RMSNorm(d, eps)
        self.up = nn.Linear(d, ffn_dim, bias=False)
        self.down = nn.Linear(ffn_dim, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, d = x.shape
        hd = d // self.n_heads
        h = self.norm1(x)
        q = self.wq(h).view(B, T, self.n_heads, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, self.n_heads, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, self.n_heads, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if mask is not None:
            att = att.masked_fill(~mask, float("-inf"))
        a = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.wo(a)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class PhonemeEncoder(nn.Module):
    def __init__(self, n_phonemes, d, n_layers, n_heads, ffn_dim, theta, eps):
        super().__init__()
        self.theta = theta
        self.embed = nn.Embedding(n_phonemes, d)
        self.blocks = nn.ModuleList([Block(d, n_heads, ffn_dim, eps) for _ in range(n_layers)])
        self.norm = RMSNorm(d, eps)

    def forward(self, ph, ph_mask):
        """ph [B, P] ids, ph_mask [B, P] bool (True = real) -> [B, P, d]"""
        x = self.embed(ph)
        hd = x.shape[-1] // self.blocks[0].n_heads if len(self.blocks) else x.shape[-1]
        cos, sin = rope_tables(ph.shape[1], hd, self.theta, ph.device)
        mask = ph_mask[:, None, None, :]                # keys must be real phonemes
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.norm(x)


class DurationPredictor(nn.Module):
    """2 x (Conv1d k3 -> ReLU -> LayerNorm) -> Linear -> log(1 + frames)."""

    def __init__(self, d, kernel_size=3, eps=1e-5):
        super().__init__()
        self.conv1 = nn.Conv1d(d, d, kernel_size, padding=kernel_size // 2)
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.conv2 = nn.Conv1d(d, d, kernel_size, padding=kernel_size // 2)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.proj = nn.Linear(d, 1)

    def forward(self, enc, ph_mask):
        x = enc * ph_mask[..., None]
        x = self.norm1(F.relu(self.conv1(x.transpose(1, 2))).transpose(1, 2)) * ph_mask[..., None]
        x = self.norm2(F.relu(self.conv2(x.transpose(1, 2))).transpose(1, 2))
        return self.proj(x).squeeze(-1)                 # [B, P] predicted log(1 + frames)


def regulate(durations, n_frames):
    """durations [P] int frames -> (phoneme index [n_frames], fraction [n_frames]). Frames past the sum of the
    durations map to the last phoneme with fraction 1."""
    idx = torch.repeat_interleave(torch.arange(len(durations)), durations)
    starts = torch.cumsum(durations, 0) - durations
    frac = (torch.arange(len(idx)) - starts[idx] + 0.5) / durations[idx].clamp(min=1)
    if len(idx) < n_frames:
        pad = n_frames - len(idx)
        idx = torch.cat([idx, torch.full((pad,), len(durations) - 1, dtype=idx.dtype)])
        frac = torch.cat([frac, torch.ones(pad)])
    return idx[:n_frames], frac[:n_frames].float()


class PicoAR(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(cfg or {}))
        self.cfg = c
        d = c["dim"]
        self.levels = list(c["fsq_levels"])
        self.n_codes = int(math.prod(self.levels))
        radix = [1]
        for l in self.levels[:-1]:
            radix.append(radix[-1] * l)
        self.register_buffer("radix", torch.tensor(radix, dtype=torch.long), persistent=False)
        self.register_buffer("lv", torch.tensor(self.levels, dtype=torch.long), persistent=False)
        self.encoder = PhonemeEncoder(c["n_phonemes"], d, c["enc_layers"], c["n_heads"], c["ffn_dim"], c["rope_theta"], c["norm_eps"])
        self.duration = DurationPredictor(d)
        self.cond_proj = nn.Linear(d, d)
        self.cond_frac = nn.Parameter(torch.zeros(d))
        # one table per FSQ digit; row L_d is the BOS row of that digit
        self.digit_emb = nn.ModuleList([nn.Embedding(l + 1, d) for l in self.levels])
        self.blocks = nn.ModuleList([Block(d, c["n_heads"], c["ffn_dim"], c["norm_eps"]) for _ in range(c["dec_layers"])])
        self.norm_f = RMSNorm(d, c["norm_eps"])
        self.head = nn.Linear(d, self.n_codes, bias=False)

    def digits(self, tok):
        """tok [...] in [0, n_codes] (n_codes = BOS) -> digits [..., D]; BOS -> row L_d of every table."""
        dg = (tok.unsqueeze(-1) // self.radix) % self.lv
        return torch.where((tok == self.n_codes).unsqueeze(-1), self.lv.expand_as(dg), dg)

    def token_embed(self, tok):
        dg = self.digits(tok)
        return sum(self.digit_emb[i](dg[..., i]) for i in range(len(self.levels)))

    def window_mask(self, T, device):
        i = torch.arange(T, device=device)
        W = self.cfg["window"]
        return (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - W)   # [T, T] True = may attend

    def decode(self, prev_tok, cond, pos0=0):
        """Teacher-forced: prev_tok [B, T] (token at t-1, BOS at 0), cond [B, T, d] -> logits [B, T, n_codes].
        pos0: absolute frame position of column 0 (RoPE), for crops."""
        x = self.token_embed(prev_tok) + cond
        T = x.shape[1]
        hd = x.shape[-1] // self.cfg["n_heads"]
        cos, sin = rope_tables(pos0 + T, hd, self.cfg["rope_theta"], x.device)
        cos, sin = cos[pos0:], sin[pos0:]
        mask = self.window_mask(T, x.device)[None, None]
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.head(self.norm_f(x))

    def condition(self, enc, idx, frac):
        """enc [B, P, d], idx/frac [B, T] -> cond [B, T, d]"""
        e = torch.gather(enc, 1, idx.unsqueeze(-1).expand(-1, -1, enc.shape[-1]))
        return self.cond_proj(e) + frac.unsqueeze(-1) * self.cond_frac

    @torch.no_grad()
    def generate(self, ph, durations, temperature=0.8, top_k=50, top_p=1.0, generator=None):
        """ph [P] ids, durations [P] int frames -> tokens [T]. Reference (slow, no KV cache)."""
        enc = self.encoder(ph[None], torch.ones(1, len(ph), dtype=torch.bool))
        T = int(durations.sum())
        idx, frac = regulate(durations, T)
        cond = self.condition(enc, idx[None], frac[None])
        toks = [self.n_codes]
        for t in range(T):
            lo = max(0, t + 1 - self.cfg["window"])
            # recompute over the window (exactness of the sliding window is what the C KV cache reproduces)
            logits = self.decode(torch.tensor([toks[: t + 1]]), cond[:, : t + 1])[0, -1]
            toks.append(sample(logits, temperature, top_k, top_p, generator))
        return torch.tensor(toks[1:])


def sample(logits, temperature, top_k, top_p, generator=None):
    if temperature <= 0:
        return int(logits.argmax())
    p = (logits / temperature).softmax(-1)
    if top_k and top_k < p.numel():
        v, _ = p.topk(top_k)
        p = torch.where(p < v[-1], torch.zeros_like(p), p)
    if top_p < 1.0:
        sp, si = p.sort(descending=True)
        keep = sp.cumsum(0) - sp < top_p * sp.sum()
        p = torch.zeros_like(p).scatter(0, si, sp * keep)
    return int(torch.multinomial(p / p.sum(), 1, generator=generator))


DEFAULT_CONFIG = dict(n_phonemes=256, dim=256, n_heads=4, ffn_dim=1024, enc_layers=4, dec_layers=6,
                      window=128, rope_theta=10000.0, norm_eps=1e-5, fsq_levels=[7, 5, 5, 5, 5])
