#!/usr/bin/env python3
"""Held-out metrics of a codec checkpoint: PyTorch encode -> FSQ -> decode, then
  * mel L1   : mean over utterances of L1 between log-mels (codec_model.MelSpec, the training mel), and
  * STOI     : pystoi.stoi(ref, resynth, 16000) (pip install --no-deps pystoi into the venv),
  * codebook : codes used / perplexity,
  * extra    : hook for PESQ / Whisper WER (another helper): `register_metric(name, fn)` where
               fn(ref: np.ndarray float32, hyp: np.ndarray float32, sr: int, uid: str, text: str|None) -> float,
               or pass --metric module:function on the command line. Per-utterance values are averaged.
Sets: --set valid (models/data/text/valid.tsv utterances of the training corpus; default) or --set eval (the
teacher-synthesised Harvard eval set under <corpus>/eval/, the quality gate; never used for training).

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
     ~/.cache/edgegen-venv/bin/python eval_codec.py --ckpt ~/.cache/edgegen-train/codec/codec-a/best.pt \
     --set valid --max-items 100 [--write-wavs DIR] [--json out.json]
--ckpt accepts a full checkpoint (ckpt.pt/best.pt) or a compact models/train/checkpoints/<run>-weights.pt.
"""
import argparse
import importlib
import json
import os
import sys
import time
import wave
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from models.train.codec_model import Codec, MelSpec  # noqa: E402
from models.train import data as D  # noqa: E402

EXTRA_METRICS = {}


def register_metric(name, fn):
    EXTRA_METRICS[name] = fn


def load_codec(path):
    st = torch.load(path, map_location="cpu")
    if "model" in st:
        m = Codec(st["cfg"]); m.load_state_dict(st["model"]); meta = {"step": st["step"], "best": st["best"]}
    else:
        m = Codec(st["cfg"]); m.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in st["state_dict"].items()}, strict=False)
        meta = st.get("meta", {})
    m.eval()
    return m, meta


def eval_items(split, corpus=D.CORPUS):
    if split == "valid":
        return D.discover(corpus)["valid"]
    if split == "eval":
        ec = corpus / "eval"
        return [(p.stem, p) for p in sorted((ec / "wav").glob("*/*.wav")) if (ec / "meta" / p.parent.name / (p.stem + ".json")).exists()]
    raise ValueError(split)


def text_of(uid, wav_path):
    jp = wav_path.parent.parent.parent / "meta" / wav_path.parent.name / (uid + ".json")
    try:
        return json.loads(jp.read_text()).get("text")
    except Exception:
        return None


@torch.no_grad()
def run(model, items, max_items=0, write_wavs=None, stoi=True):
    from pystoi import stoi as stoi_fn
    hop = model.cfg["hop"]
    mel = MelSpec(model.cfg["sample_rate"], model.cfg["n_fft"], hop, model.cfg["n_mels"])
    items = sorted(items)[: max_items or None]
    res = {"mel_l1": [], "stoi": []}
    for k in EXTRA_METRICS:
        res[k] = []
    counts = torch.zeros(model.fsq.n_codes)
    secs = 0.0
    for uid, p in items:
        pcm, sr = D.read_wav(p)
        y = pcm.astype(np.float32) / 32768.0
        T = len(y) // hop
        y = y[: T * hop]
        yt = torch.from_numpy(y).unsqueeze(0)
        y_hat, codes = model(yt)
        counts += torch.bincount(codes.flatten(), minlength=model.fsq.n_codes).float()
        res["mel_l1"].append(torch.nn.functional.l1_loss(mel(y_hat), mel(yt)).item())
        yh = y_hat[0].numpy()
        if stoi:
            res["stoi"].append(float(stoi_fn(y, yh, sr, extended=False)))
        for k, fn in EXTRA_METRICS.items():
            res[k].append(float(fn(y, yh, sr, uid, text_of(uid, p))))
        secs += len(y) / sr
        if write_wavs:
            Path(write_wavs).mkdir(parents=True, exist_ok=True)
            with wave.open(str(Path(write_wavs) / f"{uid}.wav"), "wb") as w:
                w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
                w.writeframes((np.clip(yh, -1, 1) * 32767).astype("<i2").tobytes())
    p = counts[counts > 0] / counts.sum()
    out = {k: round(float(np.mean(v)), 4) for k, v in res.items() if v}
    out.update(n=len(items), seconds=round(secs, 1), codes_used=int((counts > 0).sum()),
               perplexity=round(float(torch.exp(-(p * p.log()).sum())), 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--set", default="valid", choices=["valid", "eval"])
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--no-stoi", action="store_true")
    ap.add_argument("--metric", action="append", default=[], help="module:function extra metric (see docstring)")
    ap.add_argument("--write-wavs", default="")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for spec in a.metric:
        mod, fn = spec.split(":")
        register_metric(fn, getattr(importlib.import_module(mod), fn))
    model, meta = load_codec(a.ckpt)
    items = eval_items(a.set)
    t = time.time()
    out = run(model, items, a.max_items, a.write_wavs or None, stoi=not a.no_stoi)
    out.update(ckpt=a.ckpt, set=a.set, meta=meta, eval_s=round(time.time() - t, 1))
    print(json.dumps(out))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
