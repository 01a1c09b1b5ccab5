#!/usr/bin/env python3
"""Train the pico-codec (codec_model.Codec) on the teacher corpus. Resumable: the same command continues a run.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup \
      ~/.cache/edgegen-venv/bin/python train_codec.py --config configs/codec-a.json \
      >> ~/.cache/edgegen-train/codec/codec-a/stdout.log 2>&1 &

State in ~/.cache/edgegen-train/codec/<run>/:
  ckpt.pt       last full checkpoint (models, optimisers, schedulers, step, torch+numpy RNG, sampler state,
                validation ids, best metric) -- written atomically every `ckpt_minutes`;
  best.pt       same, for the best held-out mel L1;
  train.log     one line per `log_every` steps; eval lines start with "EVAL".
Compact weights for the repo (fp16 encoder+decoder+cfg, every `weights_minutes`):
  models/train/checkpoints/<run>-weights.pt   (from the best checkpoint if one exists)

Stages: steps < gan_start -> spectral losses only; from gan_start on -> + discriminators (hinge) + feature
matching, spectral loss weighted by w_spec_gan. `init_from` warm-starts a new run from another run's
checkpoint (models only; the step counter and optimiser restart).
"""
import argparse
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

HERE = Path(__file__).resolve().parent
from models.train.codec_model import Codec  # noqa: E402
from models.train import data as D  # noqa: E402
from models.train.loop import Loop, atomic_save, lr_lambda_factory, optimiser_step  # noqa: E402,F401
from models.train.loop import open_run as loop_open_run  # noqa: E402
from models.train.losses import SpectralLoss, Discriminators, adversarial_step  # noqa: E402

ROOT = Path(os.environ.get("EDGEGEN_CODEC_DIR", Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser(
    "~/.cache/edgegen-train"))) / "codec"))

TRAIN_DEFAULTS = dict(
    run="codec-a", seed=1234, batch=16, crop_s=1.0, lr=2e-4, betas=[0.8, 0.99], weight_decay=0.01,
    warmup=500, total_steps=60000, schedule="cosine", min_lr_ratio=0.05, grad_clip=1.0,
    w_mel=1.0, w_stft=1.0, stft_res=[[512, 128], [1024, 256], [2048, 512]],
    gan_start=10 ** 9, w_spec_gan=15.0, w_adv=1.0, w_fm=2.0, w_mrd=1.0, gan_batch=16, gan_crop_s=1.0,
    disc=dict(mrd_res=[[2048, 512], [1024, 256], [512, 128]], mrd_ch=16, periods=[2, 3, 5, 7, 11],
              mpd_chs=[16, 32, 64, 64], use_mrd=True, use_mpd=True, mrd_batch=4, mpd_batch=8),
    disc_lr=2e-4, log_every=50, eval_every=1000, val_items=48, eval_stoi_items=16, rescan_every=500, min_train_items=200,
    ckpt_minutes=6.0, weights_minutes=20.0, init_from="", max_hours=0.0, stop_file="",
    freeze_encoder=False,
)


def open_run(run):
    """-> (state/codec/run, P) (loop.open_run with the codec runs' directory, EDGEGEN_CODEC_DIR honoured)."""
    if "EDGEGEN_CODEC_DIR" in os.environ:
        rdir = ROOT / run
        rdir.mkdir(parents=True, exist_ok=True)
        log = open(rdir / "train.log", "a", buffering=1)

        def P(*a):
            s = " ".join(str(x) for x in a)
            print(s, flush=True)
            log.write(s + "\n")
        return rdir, P
    return loop_open_run("codec", run)


def compact_weights(model, cfg, meta):
    sd = {k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach().clone())
          for k, v in model.state_dict().items() if k.startswith(("encoder.", "decoder.", "fsq."))}
    return {"cfg": cfg, "state_dict": sd, "meta": meta, "format": "edgegen-codec-weights-v1 (fp16)"}


@torch.no_grad()
def evaluate(model, val, spec_mel, n_stoi=0):
    """Full-utterance encode->decode on the validation set: mean log-mel L1 (the loss mel) per utterance, and
    STOI on the first n_stoi utterances (pystoi; skipped if not installed)."""
    model.eval()
    hop = model.cfg["hop"]
    tot, n, codes_all, stois = 0.0, 0, [], []
    try:
        from pystoi import stoi as stoi_fn
    except ImportError:
        stoi_fn = None
    for i, (uid, y) in enumerate(val):
        T = len(y) // hop
        if T < 2:
            continue
        yt = torch.from_numpy(y[: T * hop]).unsqueeze(0)
        y_hat, codes = model(yt)
        tot += torch.nn.functional.l1_loss(spec_mel(y_hat), spec_mel(yt)).item()
        if stoi_fn is not None and i < n_stoi:
            stois.append(float(stoi_fn(y[: T * hop], y_hat[0].numpy(), model.cfg["sample_rate"], extended=False)))
        n += 1
        codes_all.append(codes.flatten())
    model.train()
    if not codes_all:
        return float("inf"), {"note": "empty validation set"}
    c = torch.cat(codes_all)
    cnt = torch.bincount(c, minlength=model.fsq.n_codes).float()
    p = cnt[cnt > 0] / cnt.sum()
    ppl = float(torch.exp(-(p * p.log()).sum()))
    info = {"codes_used": int((cnt > 0).sum()), "perplexity": round(ppl, 1)}
    if stois:
        info[f"stoi{len(stois)}"] = round(float(np.mean(stois)), 4)
    return tot / max(n, 1), info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this global step (0 = total_steps)")
    ap.add_argument("--no-weights", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    cfgj = json.load(open(args.config))
    mcfg = cfgj.get("model", {})
    tc = dict(TRAIN_DEFAULTS, **cfgj.get("train", {}))
    run = tc["run"]
    rdir, P = open_run(run)
    torch.manual_seed(tc["seed"]); np.random.seed(tc["seed"]); random.seed(tc["seed"])
    model = Codec(mcfg)
    cfg = model.cfg
    spec = SpectralLoss(cfg, tc["w_mel"], tc["w_stft"], tc["stft_res"])
    if tc["freeze_encoder"]:
        # decoder-only fine-tune: the encoder (and so every token of the corpus) stays exactly as tokenised, so an
        # AR model trained on those tokens keeps working with the improved decoder
        for p_ in model.encoder.parameters():
            p_.requires_grad_(False)
    opt = torch.optim.AdamW([p_ for p_ in model.parameters() if p_.requires_grad], lr=tc["lr"], betas=tuple(tc["betas"]), weight_decay=tc["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda_factory(tc))
    disc = dopt = dsched = None

    def make_disc():
        d = Discriminators(**tc["disc"])
        o = torch.optim.AdamW(d.parameters(), lr=tc["disc_lr"], betas=tuple(tc["betas"]), weight_decay=tc["weight_decay"])
        s = torch.optim.lr_scheduler.LambdaLR(o, lr_lambda_factory(dict(tc, warmup=0)))
        return d, o, s

    hop = cfg["hop"]
    crop = int(round(tc["crop_s"] * cfg["sample_rate"] / hop)) * hop
    sampler = D.CropSampler(crop=crop, hop=hop, seed=tc["seed"])
    step, best, val_ids, t_trained = 0, float("inf"), [], 0.0
    ck = rdir / "ckpt.pt"
    splits = D.discover()
    id2path = {u: p for s in ("train", "valid") for u, p in splits[s]}
    if ck.exists():
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"]); sched.load_state_dict(st["sched"])
        step, best, val_ids, t_trained = st["step"], st["best"], st["val_ids"], st.get("t_trained", 0.0)
        if st.get("disc") is not None:
            disc, dopt, dsched = make_disc()
            disc.load_state_dict(st["disc"]); dopt.load_state_dict(st["dopt"]); dsched.load_state_dict(st["dsched"])
        missing = sampler.restore(st["sampler"], id2path)
        torch.set_rng_state(st["torch_rng"]); np.random.set_state(st["np_rng"]); random.setstate(st["py_rng"])
        P(f"RESUME step={step} best={best:.4f} train_items={len(sampler.ids)} missing={len(missing)}")
    elif tc["init_from"]:
        st = torch.load(tc["init_from"], map_location="cpu")
        model.load_state_dict(st["model"] if "model" in st else {k: (v.float() if v.is_floating_point() else v) for k, v in st["state_dict"].items()}, strict=False)
        P(f"INIT from {tc['init_from']} (step {st.get('step')})")
    n_params = lambda m: sum(p.numel() for p in m.parameters())
    P(f"START run={run} cfg={json.dumps(cfg)} train={json.dumps({k: v for k, v in tc.items() if k != 'disc'})} "
      f"disc={json.dumps(tc['disc'])} enc={n_params(model.encoder)} dec={n_params(model.decoder)}")

    # wait for data
    while True:
        if len(sampler.ids) >= tc["min_train_items"]:
            break      # (a resumed sampler keeps exactly its checkpointed list until the next scheduled rescan)
        sampler.add(splits["train"])
        if len(sampler.ids) >= tc["min_train_items"]:
            break
        P(f"waiting for data: {len(sampler.ids)} train items"); time.sleep(60); splits = D.discover()

    def load_val(splits, val_ids):
        vmap = dict(splits["valid"])
        if len(val_ids) < tc["val_items"]:
            extra = sorted(u for u in vmap if u not in set(val_ids))
            val_ids = list(val_ids) + extra[: tc["val_items"] - len(val_ids)]
        return val_ids, D.load_split([(u, vmap[u]) for u in val_ids if u in vmap])

    old_n = len(val_ids)
    val_ids, val = load_val(splits, val_ids)
    if len(val_ids) != old_n and old_n:
        best = float("inf")
    P(f"DATA train={len(sampler.ids)} ({sampler.seconds/3600:.2f} h) valid_set={len(val)} "
      f"({sum(len(y) for _, y in val)/16000:.0f} s) eval_excluded={len(splits['eval'])}")

    loop = Loop(tc, rdir, P, step, best, t_trained)
    model.train()
    if tc["freeze_encoder"]:
        model.encoder.eval()

    def save(path, is_best=False):
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "disc": disc.state_dict() if disc is not None else None,
                     "dopt": dopt.state_dict() if dopt is not None else None,
                     "dsched": dsched.state_dict() if dsched is not None else None,
                     "step": loop.step, "best": loop.best, "val_ids": val_ids, "sampler": sampler.state(),
                     "torch_rng": torch.get_rng_state(), "np_rng": np.random.get_state(), "py_rng": random.getstate(),
                     "cfg": cfg, "train_cfg": tc, "t_trained": loop.t_trained, "time": time.time()}, path)

    def write_weights():
        src = rdir / "best.pt"
        if src.exists():
            st = torch.load(src, map_location="cpu")
            m = Codec(cfg); m.load_state_dict(st["model"]); s_step, s_best = st["step"], st["best"]
        else:
            m, s_step, s_best = model, loop.step, loop.best
        out = HERE / "checkpoints" / f"{run}-weights.pt"
        atomic_save(compact_weights(m, cfg, {"run": run, "step": s_step, "val_mel_l1": s_best}), out)
        P(f"WEIGHTS {out} step={s_step} val_mel_l1={s_best:.4f} size={out.stat().st_size/1e6:.1f}MB")

    def tick(step):
        nonlocal splits, val_ids, val
        if step % tc["rescan_every"] == 0 and step > 0:
            splits = D.discover()
            n_new = sampler.add(splits["train"])
            if n_new:
                P(f"RESCAN +{n_new} train={len(sampler.ids)} ({sampler.seconds/3600:.2f} h)")
            if len(val_ids) < tc["val_items"] and len(splits["valid"]) > len(val_ids):
                val_ids, val = load_val(splits, val_ids); loop.best = float("inf")
                P(f"VALSET grew to {len(val)} (best reset)")

    def one_step():
        nonlocal disc, dopt, dsched
        gan = loop.step >= tc["gan_start"]
        if gan and disc is None:
            disc, dopt, dsched = make_disc()
            P(f"GAN stage on at step {loop.step}: disc params={n_params(disc)}")
        y = torch.from_numpy(sampler.batch(tc["batch"]))
        y_hat, _ = model(y)
        l_spec, parts = spec(y_hat, y)
        if not gan:
            loss = l_spec
        else:
            gb, gl = tc["gan_batch"], int(round(tc["gan_crop_s"] * cfg["sample_rate"] / hop)) * hop
            l_gan, p_gan = adversarial_step(disc, dopt, y[:gb, :gl], y_hat[:gb, :gl], tc, dsched)
            loss = tc["w_spec_gan"] * l_spec + l_gan
            parts.update(p_gan)
        gn = optimiser_step(loss, opt, sched, model.parameters(), tc["grad_clip"])
        return dict(parts, loss=loss.item()), gn

    def ev():
        m, info = evaluate(model, val, spec.mel, tc["eval_stoi_items"])
        if tc["freeze_encoder"]:
            model.encoder.eval()
        return m, dict(val_mel_l1=m, **info)

    loop.run(args.max_steps or tc["total_steps"], one_step, ev, save, None if args.no_weights else write_weights, tick,
             lr=lambda: sched.get_last_lr()[0], suffix=lambda: f"data={len(sampler.ids)}")


if __name__ == "__main__":
    main()
