#!/usr/bin/env python3
"""Signal metrics between a reference WAV set and a degraded (reconstructed / synthesised) WAV set, matched by id.

  stoi    : pystoi.stoi(ref, deg, 16000, extended=False)           0..1, higher = more intelligible
  pesq_wb : pesq.pesq(16000, ref, deg, 'wb') (ITU-T P.862.2 MOS-LQO) ~1.0..4.64, higher = better
  mel_l1  : mean |logmel(deg) - logmel(ref)| with models/train/codec_model.MelSpec (16 kHz, n_fft 1024,
            hop 320, 80 HTK mels, natural log floored at 1e-5) - the codec's training/eval_codec.py definition;
            lower = better
All signals are read as float32 mono 16 kHz (resampled if needed). When lengths differ both are trimmed to the
shorter; `n_trimmed` counts such pairs and `max_len_diff` gives the largest difference in samples. No time
alignment is done: a system with a constant delay must remove it itself before writing WAVs. Reported values are
means over utterances (PESQ failures, e.g. no speech found, are counted in `pesq_errors` and excluded).

CLI:
  python models/eval/metrics.py --ref-dir REF --deg-dir DEG [--texts MANIFEST] [--max-items N] [--json OUT]
  (ids = the manifest's ids present in both dirs; without --texts, all common ids.)

eval_codec.py hooks (fn(ref, hyp, sr, uid, text) -> float):  metrics:pesq_wb_hook
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
from models.eval.wer import SR, index_wavs, load_texts, load_wav16k  # noqa: E402

_MEL = None


def _mel():
    global _MEL
    if _MEL is None:
        import torch
        torch.set_num_threads(1)
        from models.train.codec_model import MelSpec
        _MEL = MelSpec(16000, 1024, 320, 80)
    return _MEL


def mel_l1(ref, deg):
    import torch
    with torch.no_grad():
        m = _mel()
        a = m(torch.from_numpy(np.ascontiguousarray(ref, dtype=np.float32))[None])
        b = m(torch.from_numpy(np.ascontiguousarray(deg, dtype=np.float32))[None])
        return float((a - b).abs().mean())


def stoi(ref, deg, sr=SR):
    from pystoi import stoi as _stoi
    return float(_stoi(ref, deg, sr, extended=False))


def pesq_wb(ref, deg, sr=SR):
    """wide-band PESQ; raises on failure (pesq.NoUtterancesError etc.)"""
    from pesq import pesq as _pesq
    assert sr == 16000, "wide-band PESQ needs 16 kHz"
    return float(_pesq(sr, np.asarray(ref, dtype=np.float32), np.asarray(deg, dtype=np.float32), "wb"))


def pesq_wb_hook(ref, hyp, sr, uid, text):
    """eval_codec.py --metric hook"""
    n = min(len(ref), len(hyp))
    try:
        return pesq_wb(ref[:n], hyp[:n], sr)
    except Exception:
        return float("nan")


def compare(ref_audio, deg_audio, ids=None, which=("stoi", "pesq_wb", "mel_l1")):
    """ref_audio / deg_audio: dict id -> float32 16 kHz array. -> summary dict with per-utterance values."""
    ids = [u for u in (ids if ids is not None else sorted(ref_audio)) if u in ref_audio and u in deg_audio]
    utts, n_trim, max_diff, pesq_err = [], 0, 0, 0
    for uid in ids:
        r, d = ref_audio[uid], deg_audio[uid]
        if len(r) != len(d):
            n_trim += 1; max_diff = max(max_diff, abs(len(r) - len(d)))
            n = min(len(r), len(d)); r, d = r[:n], d[:n]
        u = {"id": uid, "n_samples": len(r)}
        if "stoi" in which:
            u["stoi"] = stoi(r, d)
        if "pesq_wb" in which:
            try:
                u["pesq_wb"] = pesq_wb(r, d)
            except Exception as e:  # noqa: BLE001
                u["pesq_wb"] = None; u["pesq_error"] = type(e).__name__; pesq_err += 1
        if "mel_l1" in which:
            u["mel_l1"] = mel_l1(r, d)
        utts.append(u)
    out = {"n": len(utts), "n_trimmed": n_trim, "max_len_diff": max_diff}
    for k in which:
        v = [u[k] for u in utts if u.get(k) is not None]
        out[k] = round(float(np.mean(v)), 4) if v else None
    if "pesq_wb" in which:
        out["pesq_errors"] = pesq_err
    out["utts"] = utts
    return out


def compare_dirs(ref_dir, deg_dir, ids=None, max_items=0, which=("stoi", "pesq_wb", "mel_l1")):
    ri, di = index_wavs(ref_dir), index_wavs(deg_dir)
    ids = [u for u in (ids if ids is not None else sorted(ri)) if u in ri and u in di][: max_items or None]
    out = compare({u: load_wav16k(ri[u]) for u in ids}, {u: load_wav16k(di[u]) for u in ids}, ids, which)
    out.update(ref_dir=str(ref_dir), deg_dir=str(deg_dir))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-dir", required=True)
    ap.add_argument("--deg-dir", required=True)
    ap.add_argument("--texts", default="", help="manifest/TSV whose ids (in order) select the utterances")
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--metrics", default="stoi,pesq_wb,mel_l1")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    ids = load_texts(a.texts)[0] if a.texts else None
    t = time.time()
    out = compare_dirs(a.ref_dir, a.deg_dir, ids, a.max_items, tuple(a.metrics.split(",")))
    out["seconds"] = round(time.time() - t, 1)
    print(json.dumps({k: v for k, v in out.items() if k != "utts"}, indent=1))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
