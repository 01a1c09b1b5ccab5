"""The one training loop of every trainer (train_codec, train_decoder, train_ar, train_voice).

A trainer builds its model, optimiser, schedule and data, then hands the loop three things: `step()` (one
optimiser step, returning the loss parts to log), `evaluate()` (held-out metric, lower is better, and a dict of
extra figures) and `save(path, best)` (a full checkpoint). The loop owns what used to be copied between trainers:
stop conditions (max steps, stop file, max hours), the log line every log_every steps, evaluation every
eval_every steps with best.pt on a new best, ckpt.pt every ckpt_minutes (and/or every ckpt_every steps),
compact weights every weights_minutes, and the final checkpoint.

State lives in $EDGEGEN_TRAIN_STATE (default ~/.cache/edgegen-train)/<kind>/<run>/: ckpt.pt, best.pt, train.log.
"""
import math
import os
import time
from pathlib import Path

import torch


def state_dir() -> Path:
    return Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser("~/.cache/edgegen-train")))


def open_run(kind, run, stamp=True):
    """-> (state_dir/kind/run, P): P prints a line (time-stamped) and appends it to train.log there."""
    rdir = state_dir() / kind / run
    rdir.mkdir(parents=True, exist_ok=True)
    log = open(rdir / "train.log", "a", buffering=1)

    def P(*a):
        s = (time.strftime("%H:%M:%S ") if stamp else "") + " ".join(str(x) for x in a)
        print(s, flush=True)
        log.write(s + "\n")
    return rdir, P


def lr_lambda_factory(tc):
    """Linear warm-up over tc['warmup'] steps, then constant or cosine down to min_lr_ratio at total_steps."""
    def f(step):
        if step < tc["warmup"]:
            return (step + 1) / tc["warmup"]
        if tc["schedule"] == "constant":
            return 1.0
        p = min(1.0, (step - tc["warmup"]) / max(1, tc["total_steps"] - tc["warmup"]))
        return tc["min_lr_ratio"] + (1 - tc["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * p))
    return f


def atomic_save(obj, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def optimiser_step(loss, opt, sched, params, clip):
    """backward, clip the gradient norm, step (skipped when the norm is not finite), schedule; -> the norm."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(params, clip)
    if torch.isfinite(gn):
        opt.step()
    if sched is not None:
        sched.step()
    return gn


def stop_reason(tc, t_start):
    """Why to stop before the next step (tc stop_file exists, or max_hours since t_start passed), else None."""
    if tc.get("stop_file") and os.path.exists(tc["stop_file"]):
        return "stop file present"
    if tc.get("max_hours") and time.time() - t_start > tc["max_hours"] * 3600:
        return "max_hours reached"
    return None


class StepLog:
    """Means of the loss parts and of the seconds per step since the last log line."""

    def __init__(self):
        self.acc, self.n, self.t = {}, 0, 0.0

    def add(self, parts, dt):
        self.n += 1
        self.t += dt
        for k, v in parts.items():
            self.acc[k] = self.acc.get(k, 0.0) + v

    def line(self, step, lr):
        s = (f"step {step} " + " ".join(f"{k}={v / self.n:.4f}" for k, v in self.acc.items())
             + f" lr={lr:.2e} s/step={self.t / self.n:.3f}")
        self.__init__()
        return s


LOOP_DEFAULTS = dict(log_every=50, eval_every=500, ckpt_minutes=6.0, ckpt_every=0, weights_minutes=20.0,
                     max_hours=0.0, stop_file="")


class Loop:
    """Runs the steps; `step`, `best`, `t_trained` and `last_eval` are the resumable counters (the trainer puts
    them into its checkpoint through save() and restores them after loading)."""

    def __init__(self, tc, rdir, P, step=0, best=float("inf"), t_trained=0.0):
        self.tc = dict(LOOP_DEFAULTS, **tc)
        self.rdir, self.P = Path(rdir), P
        self.step, self.best, self.t_trained = step, best, t_trained
        self.last_eval = {}

    def evaluate_now(self, evaluate, save):
        te = time.time()
        metric, info = evaluate()
        is_best = metric < self.best
        self.best = min(self.best, metric)
        self.last_eval = dict(info, metric=metric)
        self.P(f"EVAL step {self.step} metric={metric:.4f} " + " ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
            + f" best={self.best:.4f} eval_s={time.time() - te:.1f}")
        if is_best and save is not None:
            save(self.rdir / "best.pt", True)
        return is_best

    def run(self, max_steps, step, evaluate=None, save=None, write_weights=None, tick=None, lr=None, suffix=None):
        """step() -> (parts dict incl. 'loss', grad norm or None); evaluate() -> (metric, info);
        save(path, is_best); write_weights(); tick(step) before every step; lr() -> current lr for the log;
        suffix() -> text appended to the log line."""
        tc = self.tc
        t_ck = t_w = t_start = time.time()
        slog = StepLog()
        while self.step < max_steps:
            why = stop_reason(tc, t_start)
            if why:
                self.P(why)
                break
            if tick is not None:
                tick(self.step)
            ts = time.time()
            parts, gn = step()
            self.step += 1
            dt = time.time() - ts
            self.t_trained += dt
            if gn is not None:
                parts = dict(parts, gn=float(gn))
            slog.add(parts, dt)
            if self.step % tc["log_every"] == 0:
                self.P(slog.line(self.step, lr() if lr else float("nan")) + f" trained_h={self.t_trained / 3600:.2f}"
                       + (" " + suffix() if suffix else ""))
            if evaluate is not None and (self.step % tc["eval_every"] == 0 or self.step == max_steps):
                self.evaluate_now(evaluate, save)
            if save is not None and ((tc["ckpt_minutes"] and time.time() - t_ck > tc["ckpt_minutes"] * 60)
                                     or (tc["ckpt_every"] and self.step % tc["ckpt_every"] == 0)):
                save(self.rdir / "ckpt.pt", False)
                t_ck = time.time()
            if write_weights is not None and tc["weights_minutes"] and time.time() - t_w > tc["weights_minutes"] * 60:
                write_weights()
                t_w = time.time()
        if save is not None:
            save(self.rdir / "ckpt.pt", False)
        if write_weights is not None:
            write_weights()
        self.P(f"END step={self.step} best={self.best:.4f}")
        return self.step
