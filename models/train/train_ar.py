#!/usr/bin/env python3
"""Train pico-AR (ar_model.py) on codec tokens of the teacher corpus. Resumable: rerun the same command.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python3 -m models.train.train_ar --run ar-a \
      [--config models/train/configs/ar-a.json] [--steps 20000]      (repo root, or anywhere after pip install -e .)

Data: models/data/ar/{train,valid}.jsonl.gz (runtime-inventory phoneme ids + frame durations, from ar_data.py)
and models/data/tokens/{train,valid}.npz (codec tokens, from tokenize_corpus.py). State: ~/.cache/edgegen-train/ar/RUN.
Loss: cross-entropy over codes (label smoothing 0.1) on frames, + MSE on log(1 + duration) per phoneme.
Input corruption: a fraction of the previous-token inputs is replaced by random codes (exposure bias).
Draft models for speculative decoding (configs/ar-draft-*.json) are trained the same way on the shipped model's
own outputs instead of the corpus tokens: --tokens-dir/--ar-dir from ar_distill.py, --corrupt 0,
--label-smoothing 0 (AR_RUNS.md, "Draft model").
"""
import argparse
import gzip
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
from models.train import ar_model as AM  # noqa: E402
from models.train.loop import Loop, atomic_save, open_run, optimiser_step  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def load_split(split, max_frames, tokens_dir, ar_dir):
    toks = np.load(os.path.join(tokens_dir, split + ".npz"))
    by_id = {str(i): (int(toks["offsets"][k]), int(toks["offsets"][k + 1])) for k, i in enumerate(toks["ids"])}
    codes = torch.from_numpy(toks["codes"].astype(np.int64))
    items = []
    with gzip.open(os.path.join(ar_dir, split + ".jsonl.gz"), "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["id"] not in by_id:
                continue
            a, b = by_id[r["id"]]
            n = b - a
            dur = list(r["dur"])
            # tokens drop the trailing partial frame: trim durations from the end to match n frames
            excess = sum(dur) - n
            k = len(dur) - 1
            while excess > 0 and k >= 0:
                t = min(excess, dur[k]); dur[k] -= t; excess -= t; k -= 1
            if excess < 0:
                dur[-1] += -excess
            if 0 < n <= max_frames:
                items.append((torch.tensor(r["phoneme_ids"]), torch.tensor(dur), codes[a:b]))
    return items


def batch(items, model):
    B = len(items)
    P = max(len(i[0]) for i in items)
    T = max(len(i[2]) for i in items)
    ph = torch.zeros(B, P, dtype=torch.long)
    ph_mask = torch.zeros(B, P, dtype=torch.bool)
    dur = torch.zeros(B, P)
    idx = torch.zeros(B, T, dtype=torch.long)
    frac = torch.ones(B, T)
    tok = torch.full((B, T), -100, dtype=torch.long)
    prev = torch.full((B, T), model.n_codes, dtype=torch.long)
    for b, (p, d, c) in enumerate(items):
        ph[b, : len(p)] = p
        ph_mask[b, : len(p)] = True
        dur[b, : len(p)] = d.float()
        i, fr = AM.regulate(d, len(c))
        idx[b, : len(c)], frac[b, : len(c)] = i, fr
        tok[b, : len(c)] = c
        prev[b, 1: len(c)] = c[:-1]
    return ph, ph_mask, dur, idx, frac, tok, prev


def losses(model, bt, corrupt=0.0, gen=None, smoothing=0.1):
    ph, ph_mask, dur, idx, frac, tok, prev = bt
    if corrupt > 0:
        m = (torch.rand(prev.shape, generator=gen) < corrupt) & (prev < model.n_codes)
        prev = torch.where(m, torch.randint(0, model.n_codes, prev.shape, generator=gen), prev)
    enc = model.encoder(ph, ph_mask)
    logd = model.duration(enc.detach(), ph_mask)
    l_dur = ((logd - torch.log1p(dur)) ** 2 * ph_mask).sum() / ph_mask.sum()
    logits = model.decode(prev.clamp(max=model.n_codes), model.condition(enc, idx, frac))
    l_tok = F.cross_entropy(logits.reshape(-1, model.n_codes), tok.reshape(-1), ignore_index=-100, label_smoothing=smoothing)
    with torch.no_grad():
        valid = tok >= 0
        acc = ((logits.argmax(-1) == tok) & valid).sum().item() / max(valid.sum().item(), 1)
    return l_tok, l_dur, acc


def main():
    ap = argparse.ArgumentParser(description="Train pico-AR on the corpus's codec tokens (resumable)")
    ap.add_argument("--run", required=True)
    ap.add_argument("--config", default=None)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch-frames", type=int, default=4000, help="frames per batch (~16 x 5 s)")
    ap.add_argument("--max-frames", type=int, default=400)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--corrupt", type=float, default=0.1)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--max-hours", type=float, default=0.0, help="stop after this much wall time in this process")
    ap.add_argument("--ckpt-every", type=int, default=200, help="evaluate and checkpoint every N steps")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this step (the schedule still spans --steps)")
    ap.add_argument("--tokens-dir", default=os.path.join(ROOT, "models", "data", "tokens"))
    ap.add_argument("--ar-dir", default=os.path.join(ROOT, "models", "data", "ar"))
    ap.add_argument("--state-dir", default="", help="default $EDGEGEN_TRAIN_STATE/ar (~/.cache/edgegen-train/ar)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = json.load(open(args.config)) if args.config else {}
    if args.state_dir:
        os.makedirs(os.path.join(args.state_dir, args.run), exist_ok=True)
        run_dir, P = Path(args.state_dir) / args.run, print
    else:
        run_dir, P = open_run("ar", args.run, stamp=False)
    model = AM.PicoAR(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    # warm-up 500 steps times a cosine over all --steps (down to 0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / 500) * 0.5 * (
        1 + math.cos(math.pi * min(k / args.steps, 1.0))))
    tc = dict(log_every=20, eval_every=args.ckpt_every, ckpt_every=args.ckpt_every, ckpt_minutes=0, weights_minutes=0,
              max_hours=args.max_hours)
    loop = Loop(tc, run_dir, P)
    rng_state = None
    ck = os.path.join(run_dir, "ckpt.pt")
    if os.path.exists(ck):
        s = torch.load(ck, map_location="cpu")
        model.load_state_dict(s["model"]); opt.load_state_dict(s["opt"])
        loop.step, rng_state, loop.best = s["step"], s["rng"], s.get("best", loop.best)
        if "sched" in s:
            sched.load_state_dict(s["sched"])
        else:                                     # checkpoints from before the shared loop: set the schedule's step
            sched.last_epoch = loop.step - 1
            sched.step()
        P(f"resumed {args.run} at step {loop.step}")
    train = load_split("train", args.max_frames, args.tokens_dir, args.ar_dir)
    valid = load_split("valid", args.max_frames, args.tokens_dir, args.ar_dir)[:64]
    P(f"{len(train)} train / {len(valid)} valid utterances; params {sum(p.numel() for p in model.parameters())}")
    rnd = random.Random(1234 + loop.step)
    gen = torch.Generator().manual_seed(4321 + loop.step)
    if rng_state is not None:
        torch.set_rng_state(rng_state)
    train.sort(key=lambda x: len(x[2]))

    def one_step():
        # length-bucketed batch: a random window of similar lengths, ~batch_frames in total
        j = rnd.randrange(len(train))
        n = max(1, args.batch_frames // max(len(train[j][2]), 1))
        items = train[max(0, j - n // 2): max(0, j - n // 2) + n]
        model.train()
        l_tok, l_dur, acc = losses(model, batch(items, model), args.corrupt, gen, args.label_smoothing)
        gn = optimiser_step(l_tok + l_dur, opt, sched, model.parameters(), 1.0)
        return {"tok": l_tok.item(), "dur": l_dur.item(), "acc": acc, "loss": l_tok.item() + l_dur.item()}, gn

    def ev():
        model.eval()
        with torch.no_grad():
            vl = [losses(model, batch(valid[k:k + 8], model), smoothing=args.label_smoothing) for k in range(0, len(valid), 8)]
        v_tok = sum(v[0].item() for v in vl) / len(vl)
        return v_tok, {"valid_tok": v_tok, "valid_dur": sum(v[1].item() for v in vl) / len(vl),
                       "valid_acc": sum(v[2] for v in vl) / len(vl)}

    def save(path, is_best):
        atomic_save(dict({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                          "step": loop.step, "rng": torch.get_rng_state(), "best": loop.best, "cfg": model.cfg},
                         **loop.last_eval), path)

    loop.run(min(args.max_steps or args.steps, args.steps), one_step, ev, save, lr=lambda: sched.get_last_lr()[0])


if __name__ == "__main__":
    main()
