#!/usr/bin/env python3
"""Golden vectors for the AR model (tests/test_ar.c): a tiny random-init PicoAR exported f32/f16/q8_0 and the
PyTorch reference outputs.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/gen_ar_golden.py      (from the repository root; deterministic)

Writes tests/golden/:
  ar_tiny_{f32,f16,q8_0}.gguf   the model (models/train/export_ar.py)
  ar_golden.txt                 "name n v0 v1 ..." lines: config echo, phoneme ids, teacher durations, teacher
                                tokens (step t is fed BOS at t = 0, else tokens[t-1]), the PyTorch greedy ids, the
                                predicted durations (export_ar.durations_from_log) at two length scales, sampler cases
  ar_logits_{f32,f16,q8_0}.f32  teacher-forced logits [T][n_codes], from a model holding exactly the weights of
                                that file (dequantised), so C-vs-torch differences are arithmetic only
  ar_logd_{f32,f16,q8_0}.f32    duration predictor output log(1 + frames) [P]
  ar_sampler_probs.f32          [n_cases][n_codes]: the distribution ar_model.sample draws from (p / p.sum())
                                for the case's temperature/top_k/top_p, on the logits of step SAMPLER_STEP
Trained model (the shipped checkpoint instead of the tiny one; same files, another directory):
  /usr/bin/python3 tests/gen_ar_golden.py --ckpt ~/.cache/edgegen-train/ar/ar-small/best.pt --out /tmp/ar-golden
  EG_GOLDEN_DIR=/tmp/ar-golden build/test_runner ar        (every test_ar.c check, on the trained model)
uses the longest valid-split utterance whose greedy path and predicted durations have safe margins: real phoneme
ids, teacher durations and codec tokens (models/data/ar/valid.jsonl.gz, models/data/tokens/valid.npz).
Every parameter (norm gains, cond_frac, biases too) of the tiny model is perturbed away from its init so that a layout or indexing
bug cannot hide behind ones and zeros. Greedy steps and predicted durations are checked for a safe margin
(no near-tie), so an exact comparison in C is meaningful.
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)  # run by path: make the repo root (package models) importable
from models.train import ar_model as AM  # noqa: E402
from models.train import export_ar as EX  # noqa: E402

OUT = os.path.join(ROOT, "tests", "golden")
CFG = dict(n_phonemes=30, dim=32, n_heads=2, ffn_dim=64, enc_layers=1, dec_layers=2, window=8,
           rope_theta=10000.0, norm_eps=1e-5, fsq_levels=[5, 3, 3])
VARIANTS = ("f32", "f16", "q8_0")
SCALES = (1.0, 1.7)
SAMPLER_STEP = 5
SAMPLER_CASES = [(1.0, 0, 1.0), (0.8, 10, 1.0), (0.7, 0, 0.9), (1.2, 5, 0.6), (0.5, 3, 1.0)]


def perturbed_model(seed):
    torch.manual_seed(seed)
    m = AM.PicoAR(CFG)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight") \
                    or name == "norm_f.weight":
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias") or name == "cond_frac":
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
        m.duration.proj.bias.fill_(1.2)        # durations of a few frames, not all zeros
    return m.eval()


def reference(m, ph, dur, tokens):
    mask = torch.ones(1, len(ph), dtype=torch.bool)
    with torch.no_grad():
        enc = m.encoder(ph[None], mask)
        logd = m.duration(enc, mask)[0]
        T = int(dur.sum())
        idx, frac = AM.regulate(dur, T)
        cond = m.condition(enc, idx[None], frac[None])
        prev = torch.cat([torch.tensor([m.n_codes]), tokens[:-1]])
        logits = m.decode(prev[None], cond)[0]
    return logits, logd, cond


def line(name, vals):
    vals = [v.item() if hasattr(v, "item") else v for v in vals]
    return f"{name} {len(vals)} " + " ".join(repr(v) if isinstance(v, float) else str(int(v)) for v in vals) + "\n"


def trained_cases(m):
    """(phoneme ids, teacher durations, teacher tokens) of valid-split utterances, longest first."""
    from models.train import train_ar as TA
    items = TA.load_split("valid", 100000, os.path.join(ROOT, "models", "data", "tokens"),
                          os.path.join(ROOT, "models", "data", "ar"))
    items.sort(key=lambda it: -len(it[2]))
    return [(p.long(), d.long(), c.long()) for p, d, c in items if len(c) > m.cfg["window"]]


def safe(m, ph, dur, logd):
    """Greedy path and predicted durations far enough from ties/rounding for an exact comparison in C."""
    greedy = m.generate(ph, dur, temperature=0)
    lg, _, _ = reference(m, ph, dur, greedy)
    top2 = lg.topk(2, dim=-1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    if margin <= 1e-3:
        return None, margin
    for s in SCALES:
        x = (torch.exp(logd) - 1.0) * s
        if float((x - torch.floor(x) - 0.5).abs().min()) <= 1e-3:
            return None, margin
    return greedy, margin


def main():
    global OUT
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="", help="trained PicoAR checkpoint (best.pt) instead of the tiny model")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    OUT = a.out
    torch.set_num_threads(1)
    if a.ckpt:
        st = torch.load(a.ckpt, map_location="cpu")
        m = AM.PicoAR(st["cfg"])
        m.load_state_dict(st["model"])
        m.eval()
        CFG.clear(); CFG.update(m.cfg)
        for ph, dur, tokens in trained_cases(m):
            _, logd, _ = reference(m, ph, dur, tokens)
            greedy, margin = safe(m, ph, dur, logd)
            if greedy is not None:
                break
            print(f"skip an utterance of {len(tokens)} frames: margin {margin:.2e} or a duration at a rounding edge")
        else:
            sys.exit("no valid utterance with safe margins")
        P, T = len(ph), len(tokens)
    else:
        m = perturbed_model(1234)
        g = torch.Generator().manual_seed(99)
        P = 12
        ph = torch.randint(3, CFG["n_phonemes"], (P,), generator=g)
        ph[0] = 1                                    # '^' (bos_id of the Piper map)
        dur = torch.randint(1, 5, (P,), generator=g)
        dur[4] = 0                                   # a phoneme with no frames
        T = int(dur.sum())
        assert T > 3 * CFG["window"], T
        tokens = torch.randint(0, m.n_codes, (T,), generator=g)

    os.makedirs(OUT, exist_ok=True)
    logits_ref = None
    for v in VARIANTS:
        EX.export(m, os.path.join(OUT, f"ar_tiny_{v}.gguf"), v, name=f"ar-tiny-{v}", source="tests/gen_ar_golden.py")
        mv = EX.roundtrip_model(m, v)
        logits, logd, _ = reference(mv, ph, dur, tokens)
        logits.numpy().astype("<f4").tofile(os.path.join(OUT, f"ar_logits_{v}.f32"))
        logd.numpy().astype("<f4").tofile(os.path.join(OUT, f"ar_logd_{v}.f32"))
        if v == "f32":
            logits_ref, logd_ref = logits, logd

    # greedy (PyTorch reference generate(), no KV cache), with a margin check along its own path
    greedy = m.generate(ph, dur, temperature=0)
    lg, _, _ = reference(m, ph, dur, greedy)
    top2 = lg.topk(2, dim=-1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    assert margin > 1e-3, f"greedy near-tie (margin {margin}): change the seed"

    preds = []
    for s in SCALES:
        x = (torch.exp(logd_ref) - 1.0) * s
        frac = x - torch.floor(x)
        assert float((frac - 0.5).abs().min()) > 1e-3, "duration near a rounding boundary: change the seed"
        preds.append(EX.durations_from_log(logd_ref, s))

    probs = []
    lz = logits_ref[SAMPLER_STEP]
    for (temp, k, p) in SAMPLER_CASES:
        probs.append(sampler_probs(lz, temp, k, p))
    torch.stack(probs).numpy().astype("<f4").tofile(os.path.join(OUT, "ar_sampler_probs.f32"))

    with open(os.path.join(OUT, "ar_golden.txt"), "w") as f:
        f.write("# tests/gen_ar_golden.py: name n values...\n")
        f.write(line("fsq_levels", CFG["fsq_levels"]))
        f.write(line("dims", [CFG["dim"], CFG["n_heads"], CFG["ffn_dim"], CFG["window"], m.n_codes]))
        f.write(line("ids", ph))
        f.write(line("durations", dur))
        f.write(line("tokens", tokens))
        f.write(line("greedy", greedy))
        for s, d in zip(SCALES, preds):
            f.write(line(f"pred_durations_x{s}", [s] + d.tolist()))
        f.write(line("sampler_step", [SAMPLER_STEP]))
        for i, (temp, k, p) in enumerate(SAMPLER_CASES):
            f.write(line(f"sampler_case{i}", [float(temp), k, float(p)]))
    print(f"P={P} T={T} n_codes={m.n_codes} greedy margin {margin:.4f}; "
          f"greedy[:10]={greedy[:10].tolist()} pred x1={preds[0].tolist()}")


def sampler_probs(logits, temperature, top_k, top_p):
    """The distribution ar_model.sample hands to torch.multinomial (captured, so it is sample() itself)."""
    got = {}
    orig = torch.multinomial

    def capture(p, n, generator=None):
        got["p"] = p.detach().clone()
        return torch.zeros(1, dtype=torch.long)
    torch.multinomial = capture
    try:
        AM.sample(logits, temperature, top_k, top_p)
    finally:
        torch.multinomial = orig
    return got["p"]


if __name__ == "__main__":
    main()
