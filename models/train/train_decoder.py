#!/usr/bin/env python3
"""Train (fine-tune) the codec DECODER on the corpus's fixed tokens, optionally conditioned on frame phoneme ids.

The encoder is not run at all: the inputs are the tokens the corpus was tokenised with (models/data/tokens/*.npz,
made by tokenize_corpus.py from the frozen step-11000 encoder), so the result is a drop-in decoder for the AR
model trained on those tokens. With "n_phonemes" > 0 in the model config, each frame also gets the id of the
phoneme it belongs to, expanded from models/data/ar/<split>.jsonl.gz (the runtime phonemiser's ids and the
teacher's 50 Hz durations, ar_data.py) -- exactly what the TTS pipeline has at run time from the AR model's
durations. Why and results: models/train/RUNS.md, "Phoneme-conditioned decoder".

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup python3 -m models.train.train_decoder \
      --config models/train/configs/dec-phone-a.json >> ~/.cache/edgegen-train/codec/dec-phone-a/stdout.log 2>&1 &
  (from the repo root, or anywhere after `pip install -e .`)

Resumable (same command). State in ~/.cache/edgegen-train/codec/<run>/ ($EDGEGEN_TRAIN_STATE) as train_codec.py: ckpt.pt (full,
atomic, every ckpt_minutes), best.pt (best held-out mel L1), train.log; compact fp16 weights in
models/train/checkpoints/<run>-weights.pt. The checkpoints hold a whole Codec (frozen encoder included), so
export_codec.py, eval_codec.py and codec_parity.py take them as they are.
"""
import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from models.train.codec_model import Codec  # noqa: E402
from models.train import data as D  # noqa: E402
from models.train.losses import SpectralLoss  # noqa: E402
from models.train.loop import Loop, atomic_save, lr_lambda_factory, open_run, optimiser_step  # noqa: E402
from models.train.train_codec import compact_weights  # noqa: E402

DATA = HERE.parent / "data"
TRAIN_DEFAULTS = dict(
    run="dec-phone-a", seed=4242, batch=16, crop_frames=50, lr=2e-4, betas=[0.8, 0.99], weight_decay=0.01,
    warmup=200, total_steps=10000, schedule="cosine", min_lr_ratio=0.05, grad_clip=1.0,
    w_mel=1.0, w_stft=1.0, stft_res=[[512, 128], [1024, 256], [2048, 512]],
    log_every=50, eval_every=500, val_items=48, ckpt_minutes=6.0, weights_minutes=20.0,
    init_from="checkpoints/codec-a-weights.pt", max_hours=0.0, stop_file="",
    phone_lr_mult=1.0,   # learning-rate multiplier of the (new, zero-initialised) phoneme embedding
)


def load_tokens(split):
    z = np.load(DATA / "tokens" / f"{split}.npz")
    codes, offs, ids = z["codes"], z["offsets"], [str(u) for u in z["ids"]]
    return {u: codes[offs[i]:offs[i + 1]].astype(np.int64) for i, u in enumerate(ids)}


def utterances(split, items, need_phones, limit=0):
    """-> list of (uid, codes [T], phones [T] or None, audio float32 [T*hop]) with T = the token count."""
    toks = load_tokens(split)
    ph = D.load_phone_frames(split) if need_phones else {}
    res, skipped = [], 0
    for uid, p in sorted(items):
        if uid not in toks or (need_phones and uid not in ph):
            skipped += 1
            continue
        c = toks[uid]
        if need_phones and len(ph[uid]) != len(c):
            raise ValueError(f"{split}/{uid}: {len(ph[uid])} phoneme frames vs {len(c)} tokens")
        pcm, sr = D.read_wav(p)
        T = len(c)
        y = np.zeros(T * 320, np.float32)
        n = min(len(pcm), T * 320)
        y[:n] = pcm[:n].astype(np.float32) / 32768.0
        res.append((uid, c, ph.get(uid), y))
        if limit and len(res) >= limit:
            break
    return res, skipped


class Sampler:
    def __init__(self, utts, crop, hop, seed):
        self.u, self.crop, self.hop = utts, crop, hop
        self.rng = np.random.default_rng(seed)
        w = np.array([len(c) for _, c, _, _ in utts], np.float64)
        self.p = w / w.sum()

    def batch(self, bs):
        C = self.crop
        codes = np.zeros((bs, C), np.int64)
        phones = np.zeros((bs, C), np.int64)
        y = np.zeros((bs, C * self.hop), np.float32)
        for b, i in enumerate(self.rng.choice(len(self.u), size=bs, p=self.p)):
            _, c, ph, a = self.u[i]
            s = int(self.rng.integers(max(1, len(c) - C + 1)))
            n = min(C, len(c) - s)
            codes[b, :n] = c[s:s + n]
            if ph is not None:
                phones[b, :n] = ph[s:s + n]
            y[b, :n * self.hop] = a[s * self.hop:(s + n) * self.hop]
        return torch.from_numpy(codes), torch.from_numpy(phones), torch.from_numpy(y)


@torch.no_grad()
def evaluate(model, val, mel):
    model.decoder.eval()
    tot = 0.0
    for _, c, ph, y in val:
        v = model.fsq.codes_to_values(torch.from_numpy(c).unsqueeze(0))
        p = torch.from_numpy(ph).unsqueeze(0) if ph is not None else None
        y_hat = model.decoder(v, p)
        tot += torch.nn.functional.l1_loss(mel(y_hat), mel(torch.from_numpy(y).unsqueeze(0))).item()
    model.decoder.train()
    return tot / max(1, len(val))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--max-steps", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    cfgj = json.load(open(args.config))
    tc = dict(TRAIN_DEFAULTS, **cfgj.get("train", {}))
    rdir, P = open_run("codec", tc["run"])
    torch.manual_seed(tc["seed"]); np.random.seed(tc["seed"]); random.seed(tc["seed"])
    init_path = Path(tc["init_from"]) if Path(tc["init_from"]).is_absolute() else HERE / tc["init_from"]
    init = torch.load(init_path, map_location="cpu")
    cfg = dict(init["cfg"], **cfgj.get("model", {}))
    model = Codec(cfg)
    sd = init["model"] if "model" in init else {k: (v.float() if v.is_floating_point() else v) for k, v in init["state_dict"].items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    for p_ in list(model.encoder.parameters()):
        p_.requires_grad_(False)
    model.encoder.eval()
    params = [p_ for p_ in model.decoder.parameters()]
    pe = [p_ for n_, p_ in model.decoder.named_parameters() if n_.startswith("phone_embed.")]
    rest = [p_ for n_, p_ in model.decoder.named_parameters() if not n_.startswith("phone_embed.")]
    groups = [{"params": rest}] + ([{"params": pe, "lr": tc["lr"] * tc["phone_lr_mult"], "weight_decay": 0.0}] if pe else [])
    opt = torch.optim.AdamW(groups, lr=tc["lr"], betas=tuple(tc["betas"]), weight_decay=tc["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda_factory(tc))
    spec = SpectralLoss(cfg, tc["w_mel"], tc["w_stft"], tc["stft_res"])
    need_ph = cfg.get("n_phonemes", 0) > 0

    splits = D.discover()
    t0 = time.time()
    train, sk_t = utterances("train", splits["train"], need_ph)
    val, sk_v = utterances("valid", splits["valid"], need_ph, limit=tc["val_items"])
    if need_ph:
        mx = max(int(ph.max()) for _, _, ph, _ in train)
        if mx >= cfg["n_phonemes"]:
            raise ValueError(f"phoneme id {mx} >= n_phonemes {cfg['n_phonemes']}")
    P(f"DATA train={len(train)} ({sum(len(c) for _, c, _, _ in train)/50/3600:.2f} h, {sk_t} without tokens/phonemes) "
      f"valid={len(val)} load_s={time.time()-t0:.0f}")
    sampler = Sampler(train, tc["crop_frames"], cfg["hop"], tc["seed"])

    loop = Loop(tc, rdir, P)
    ck = rdir / "ckpt.pt"
    if ck.exists():
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"]); sched.load_state_dict(st["sched"])
        loop.step, loop.best, loop.t_trained = st["step"], st["best"], st.get("t_trained", 0.0)
        sampler.rng.bit_generator.state = st["sampler_rng"]
        torch.set_rng_state(st["torch_rng"]); np.random.set_state(st["np_rng"]); random.setstate(st["py_rng"])
        P(f"RESUME step={loop.step} best={loop.best:.4f}")
    else:
        P(f"INIT from {tc['init_from']} (step {init.get('step')}); new: {missing}; unused: {unexpected}")
    P(f"START cfg={json.dumps(cfg)} train={json.dumps(tc)} dec_params={sum(p.numel() for p in params)}")

    def save(path, is_best):
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "step": loop.step, "best": loop.best, "sampler_rng": sampler.rng.bit_generator.state,
                     "torch_rng": torch.get_rng_state(), "np_rng": np.random.get_state(), "py_rng": random.getstate(),
                     "cfg": cfg, "train_cfg": tc, "t_trained": loop.t_trained, "time": time.time(),
                     "val_ids": [u for u, _, _, _ in val]}, path)

    def write_weights():
        src = rdir / "best.pt"
        st = torch.load(src, map_location="cpu") if src.exists() else None
        m = model
        if st is not None:
            m = Codec(cfg); m.load_state_dict(st["model"])
        out = HERE / "checkpoints" / f"{tc['run']}-weights.pt"
        s_step, s_best = (st["step"], st["best"]) if st is not None else (loop.step, loop.best)
        atomic_save(compact_weights(m, cfg, {"run": tc["run"], "step": s_step, "val_mel_l1": s_best}), out)
        P(f"WEIGHTS {out} step={s_step} val_mel_l1={s_best:.4f} size={out.stat().st_size/1e6:.1f}MB")

    def one_step():
        codes, phones, y = sampler.batch(tc["batch"])
        v = model.fsq.codes_to_values(codes)
        y_hat = model.decoder(v, phones if need_ph else None)
        loss, parts = spec(y_hat, y)
        gn = optimiser_step(loss, opt, sched, params, tc["grad_clip"])
        return dict(parts, loss=loss.item()), gn

    def ev():
        m = evaluate(model, val, spec.mel)
        return m, {"val_mel_l1": m}

    if loop.step == 0:
        loop.evaluate_now(ev, None)
    model.decoder.train()
    loop.run(args.max_steps or tc["total_steps"], one_step, ev, save, write_weights,
             lr=lambda: sched.get_last_lr()[0])


if __name__ == "__main__":
    main()
