#!/usr/bin/env python3
"""Train the 22.05 kHz voice decoder (voice_model.VoiceDecoder; issue 11) on tokens + frame phoneme ids.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup ~/.cache/edgegen-venv/bin/python -m models.train.train_voice \
      --config models/train/configs/voice-hn-a.json >> ~/.cache/edgegen-train/voice/voice-hn-a/stdout.log 2>&1 &
  (from the repo root, or anywhere after `pip install -e .`; the loop itself is models/train/loop.py)

Resumable with the same command (or `JOBS="voice-hn-a voice-nohn-a" sh resume_jobs.sh`). State in
$EDGEGEN_TRAIN_STATE/voice/<run>/ (default ~/.cache/edgegen-train): ckpt.pt (full: model, optimiser, schedule,
RNGs; atomic, every ckpt_minutes), best.pt (best held-out mel L1 on the inference path), train.log. Compact fp16
weights of the newest step: models/train/checkpoints/<run>-weights.pt (every weights_minutes and at the end).

Data (voice_data.py) grow while training: every rescan_minutes the loader adds utterances the synthesis has
finished since. Training starts once min_train_hours of audio exist. Held-out (the first val_items of valid,
fixed at the first evaluation): mel L1 with the predicted F0 and voicing (what inference does: "val_mel_l1",
the selection metric), with the teacher's F0 and voicing ("val_mel_l1_tf"), F0 RMSE in cents and the share of
gross errors (> 50 cents) on frames both call voiced, and the voicing error rate.
"""
import argparse
import json
import math
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from models.train.losses import Discriminators, adversarial_step
from models.train.loop import Loop, atomic_save, lr_lambda_factory, open_run, optimiser_step
from models.train.voice_data import Sampler, VoiceCorpus, f0_targets
from models.train.voice_model import VoiceDecoder, VoiceLoss, flops_per_second

HERE = Path(__file__).resolve().parent
TRAIN_DEFAULTS = dict(
    run="voice-hn-a", seed=1111, batch=16, crop_frames=50, lr=3e-4, head_lr_mult=3.0, betas=[0.8, 0.99],
    weight_decay=0.01, warmup=300, total_steps=24000, schedule="cosine", min_lr_ratio=0.05, grad_clip=1.0,
    w_mel=1.0, w_stft=1.0, stft_res=[[512, 128], [1024, 256], [2048, 512]], w_f0=1.0, w_vuv=0.5,
    src_teacher_prob=1.0, log_every=50, eval_every=500, val_items=48, ckpt_minutes=6.0, weights_minutes=20.0,
    init_from="checkpoints/dec-phone-d-weights.pt", max_hours=0.0, stop_file="", rescan_minutes=10.0,
    min_train_hours=1.0, corpus="", init_full=False,
    gan=False, disc_lr=4e-4, w_spec_gan=15.0, w_adv=1.0, w_fm=2.0, w_mrd=1.0,
    disc=dict(mrd_res=[[2048, 512], [1024, 256], [512, 128]], mrd_ch=16, periods=[2, 3, 5, 7, 11],
              mpd_chs=[16, 32, 64, 64], use_mrd=True, use_mpd=True, mrd_batch=4, mpd_batch=8),
)
HEADS = ("pitch_head.", "head.", "env_head.")


@torch.no_grad()
def evaluate(model, val, loss_fn):
    model.eval()
    c = model.cfg
    r = {"mel": 0.0, "mel_tf": 0.0, "sq_cents": 0.0, "n_vv": 0, "gross": 0, "vuv_err": 0, "n": 0}
    for u in val:
        codes = torch.from_numpy(u["codes"].astype(np.int64)).unsqueeze(0)
        ph = torch.from_numpy(u["phones"].astype(np.int64)).unsqueeze(0)
        y = torch.from_numpy(u["audio"].astype(np.float32) / 32768.0).unsqueeze(0)
        lf, vv = f0_targets(u["f0"])
        out = model(codes, ph)                                        # inference path: predicted F0/voicing
        m_ref = loss_fn.mel(y)
        r["mel"] += torch.nn.functional.l1_loss(loss_fn.mel(out["y"]), m_ref).item()
        if c["harmonic"]:
            out_tf = model(codes, ph, f0=torch.from_numpy(np.exp(lf)).unsqueeze(0), vuv=torch.from_numpy(vv).unsqueeze(0))
            r["mel_tf"] += torch.nn.functional.l1_loss(loss_fn.mel(out_tf["y"]), m_ref).item()
        pv = (torch.sigmoid(out["vuv_logit"][0]) > c["vuv_threshold"]).numpy()
        tv = vv > 0.5
        both = pv & tv
        cents = 1200 / math.log(2) * (out["lf0"][0].numpy()[both] - lf[both])
        r["sq_cents"] += float((cents ** 2).sum()); r["n_vv"] += int(both.sum()); r["gross"] += int((np.abs(cents) > 50).sum())
        r["vuv_err"] += int((pv != tv).sum()); r["n"] += len(tv)
    model.train()
    k = max(1, len(val))
    return {"val_mel_l1": r["mel"] / k, "val_mel_l1_tf": r["mel_tf"] / k if c["harmonic"] else float("nan"),
            "f0_rmse_cents": math.sqrt(r["sq_cents"] / max(1, r["n_vv"])), "f0_gross": r["gross"] / max(1, r["n_vv"]),
            "vuv_err": r["vuv_err"] / max(1, r["n"])}


def compact(model, meta):
    sd = {k: (v.detach().to(torch.float16) if v.is_floating_point() else v.detach().clone())
          for k, v in model.state_dict().items()}
    return {"cfg": model.cfg, "state_dict": sd, "meta": meta, "format": "edgegen-voice-weights-v1 (fp16)"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="JSON with 'model' (voice_model.VOICE_DEFAULTS) and 'train' keys")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this step (smoke tests)")
    ap.add_argument("--smoke", action="store_true", help="small data, no waiting, state under <run>-smoke")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    cfgj = json.load(open(args.config))
    tc = dict(TRAIN_DEFAULTS, **cfgj.get("train", {}))
    if args.smoke:
        tc.update(run=tc["run"] + "-smoke", val_items=4, min_train_hours=0.0, eval_every=max(1, args.max_steps // 2))
    torch.manual_seed(tc["seed"]); np.random.seed(tc["seed"]); random.seed(tc["seed"])
    model = VoiceDecoder(cfgj.get("model", {}))
    cfg = model.cfg

    heads = [p for n, p in model.named_parameters() if n.startswith(HEADS)]
    rest = [p for n, p in model.named_parameters() if not n.startswith(HEADS)]
    params = heads + rest
    opt = torch.optim.AdamW([{"params": rest}, {"params": heads, "lr": tc["lr"] * tc["head_lr_mult"]}],
                            lr=tc["lr"], betas=tuple(tc["betas"]), weight_decay=tc["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda_factory(tc))
    loss_fn = VoiceLoss(cfg, tc["w_mel"], tc["w_stft"], tc["stft_res"], tc["w_f0"], tc["w_vuv"])
    disc = dopt = None
    if tc["gan"]:       # adversarial stage (issue 11): hinge + feature matching on top of the spectral losses
        disc = Discriminators(**tc["disc"])
        dopt = torch.optim.AdamW(disc.parameters(), lr=tc["disc_lr"], betas=tuple(tc["betas"]),
                                 weight_decay=tc["weight_decay"])

    rdir, P = open_run("voice", tc["run"])
    loop = Loop(tc, rdir, P)
    val_ids = None
    ck = rdir / "ckpt.pt"
    if ck.exists():
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"]); sched.load_state_dict(st["sched"])
        if disc is not None and st.get("disc") is not None:
            disc.load_state_dict(st["disc"]); dopt.load_state_dict(st["dopt"])
        loop.step, loop.best, loop.t_trained, val_ids = st["step"], st["best"], st.get("t_trained", 0.0), st.get("val_ids")
        torch.set_rng_state(st["torch_rng"]); np.random.set_state(st["np_rng"]); random.setstate(st["py_rng"])
        P(f"RESUME step={loop.step} best={loop.best:.4f}")
    else:
        init = Path(tc["init_from"])
        init = init if init.is_absolute() else HERE / init
        w = torch.load(init, map_location="cpu")
        sd = w["state_dict"] if "state_dict" in w else w["model"]
        if tc["init_full"]:         # a voice decoder's own weights: every tensor, same config required
            if w.get("cfg") is not None and any(w["cfg"].get(k) != v for k, v in cfg.items() if k in w["cfg"]):
                raise SystemExit(f"init_from {tc['init_from']}: config differs from the run's model config")
            model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
            P(f"INIT every tensor from {tc['init_from']} (step {w.get('meta', {}).get('step')})")
        else:
            loaded = model.load_backbone(sd)
            P(f"INIT backbone from {tc['init_from']} ({len(loaded)} tensors); heads new")
    fl = flops_per_second(cfg)
    P(f"START cfg={json.dumps(cfg)} train={json.dumps(tc)} params={sum(p.numel() for p in model.parameters())} "
      f"MFLOP/s={json.dumps({k: round(v / 1e6, 1) for k, v in fl.items()})}")

    train = VoiceCorpus("train", tc["corpus"] or None, cfg["hop"], cfg["sample_rate"], limit=40 if args.smoke else 0, log=P)
    val = VoiceCorpus("valid", tc["corpus"] or None, cfg["hop"], cfg["sample_rate"], log=P)
    while True:
        train.refresh(); val.refresh()
        if train.hours() >= tc["min_train_hours"] and len(val.utts) >= tc["val_items"]:
            break
        P(f"WAIT train {train.hours():.2f} h of {tc['min_train_hours']} h, valid {len(val.utts)} of {tc['val_items']}")
        time.sleep(120)
    if val_ids is None:
        val_set = val.utts[:tc["val_items"]]
    else:
        byid = {u["id"]: u for u in val.utts}
        val_set = [byid[u] for u in val_ids if u in byid]
    val_ids = [u["id"] for u in val_set]
    sampler = Sampler(train, tc["crop_frames"], tc["seed"] + loop.step)
    rng_src = np.random.default_rng(tc["seed"] + 7 + loop.step)
    noise_gen = torch.Generator().manual_seed(tc["seed"] + 11 + loop.step)   # white-noise branch (noise_white)
    t_scan = [time.time()]

    def save(path, is_best):
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "step": loop.step, "best": loop.best, "torch_rng": torch.get_rng_state(),
                     "np_rng": np.random.get_state(), "py_rng": random.getstate(), "cfg": cfg, "train_cfg": tc,
                     "t_trained": loop.t_trained, "time": time.time(), "val_ids": val_ids,
                     "train_utts": len(train.utts), "eval": loop.last_eval,
                     "disc": disc.state_dict() if disc is not None else None,
                     "dopt": dopt.state_dict() if dopt is not None else None}, path)

    def write_weights():
        out = rdir / "weights.pt" if args.smoke else HERE / "checkpoints" / f"{tc['run']}-weights.pt"
        atomic_save(compact(model, dict(run=tc["run"], step=loop.step, train_hours=round(train.hours(), 3),
                                        **loop.last_eval)), out)
        P(f"WEIGHTS {out.name} step={loop.step} size={out.stat().st_size / 1e6:.1f}MB")

    def tick(step):
        if time.time() - t_scan[0] > tc["rescan_minutes"] * 60:
            train.refresh()
            t_scan[0] = time.time()

    def one_step():
        codes, phones, lf0, vuv, mask, y = sampler.batch(tc["batch"])
        if cfg["harmonic"] and rng_src.random() < tc["src_teacher_prob"]:
            out = model(codes, phones, f0=torch.exp(lf0), vuv=vuv, noise_gen=noise_gen)
        else:
            out = model(codes, phones, noise_gen=noise_gen)
        loss, parts = loss_fn(out, y, lf0, vuv, mask)
        if disc is not None:
            l_gan, p_gan = adversarial_step(disc, dopt, y, out["y"], tc)
            loss = tc["w_spec_gan"] * loss + l_gan
            parts.update(p_gan)
        gn = optimiser_step(loss, opt, sched, params, tc["grad_clip"])
        return dict(parts, loss=loss.item()), gn

    def ev():
        r = evaluate(model, val_set, loss_fn)
        return r["val_mel_l1"], r

    if loop.step == 0:
        loop.evaluate_now(ev, None)
    model.train()
    loop.run(args.max_steps or tc["total_steps"], one_step, ev, save, write_weights, tick,
             lr=lambda: sched.get_last_lr()[0], suffix=lambda: f"data_h={train.hours():.2f}")


if __name__ == "__main__":
    main()
