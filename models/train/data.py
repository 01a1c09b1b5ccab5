"""Corpus loader for codec training: discovers teacher utterances, keeps them in RAM as int16, serves random
1 s crops aligned to the hop, and rescans the corpus periodically (the corpus grows while we train).

Where the utterances come from:
  1. text lists models/data/text/<split>.tsv ("id<TAB>text") + synth.py's layout
     <corpus>/wav/<hh>/<id>.wav, <corpus>/meta/<hh>/<id>.json (json written last == utterance complete);
     this is always current, so it is used whenever text lists exist;
  2. otherwise manifests models/data/manifest/<split>.jsonl (one JSON object per line; id + wav path or derivable);
Split names: anything containing "val" or "dev" -> "valid"; "eval"/"harvard"/"test" -> "eval" (NEVER
trained on); everything else -> "train". Utterances under <corpus>/eval/ are always "eval".
Ids present in audio but in no list are treated as train unless sha1(id) puts them in the 1 % fallback
validation bucket (only used when no validation list exists at all).
"""
import gzip
import hashlib
import json
import os
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("EDGEGEN_CORPUS", Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser(
    "~/.cache/edgegen-train"))) / "corpus"))
MANIFEST_DIR = Path(os.environ.get("EDGEGEN_MANIFEST_DIR", REPO / "models" / "data" / "manifest"))
TEXT_DIR = Path(os.environ.get("EDGEGEN_TEXT_DIR", REPO / "models" / "data" / "text"))
AR_DATA_DIR = REPO / "models" / "data" / "ar"


def load_phone_frames(split, ar_dir=AR_DATA_DIR):
    """uid -> int64 [n_frames] phoneme id of each 50 Hz frame: ar_dir/SPLIT.jsonl.gz's ids (the runtime phonemiser's,
    ar_data.py) repeated by their durations -- what the TTS pipeline feeds a phoneme-conditioned decoder."""
    out = {}
    with gzip.open(Path(ar_dir) / f"{split}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            fr = np.repeat(np.asarray(r["phoneme_ids"], np.int64), np.asarray(r["dur"], np.int64))
            if len(fr) != r["n_frames"]:
                raise ValueError(f"{split}/{r['id']}: durations sum to {len(fr)}, n_frames {r['n_frames']}")
            out[r["id"]] = fr
    return out


def shard_dir(uid):
    return hashlib.sha1(uid.encode()).hexdigest()[:2]


def split_of_name(name):
    n = name.lower()
    if any(k in n for k in ("eval", "harvard", "test")):
        return "eval"
    if "val" in n or "dev" in n:
        return "valid"
    return "train"


def read_wav(path):
    with wave.open(str(path), "rb") as wf:
        assert wf.getnchannels() == 1 and wf.getsampwidth() == 2, path
        sr = wf.getframerate()
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").copy()
    return pcm, sr


def _wav_path(corpus, uid):
    return corpus / "wav" / shard_dir(uid) / f"{uid}.wav"


def _meta_path(corpus, uid):
    return corpus / "meta" / shard_dir(uid) / f"{uid}.json"


def discover(corpus=CORPUS, manifest_dir=MANIFEST_DIR, text_dir=TEXT_DIR):
    """-> dict split -> list of (uid, wav_path) of COMPLETE utterances (json written after wav)."""
    out = {"train": [], "valid": [], "eval": []}
    seen = set()
    # The text lists + meta scan is always current (the manifests are snapshots made by make_manifest.py), so the
    # manifests are only used when there are no text lists.
    has_lists = text_dir.is_dir() and any(text_dir.glob("*.tsv"))
    if not has_lists and manifest_dir.is_dir() and any(manifest_dir.glob("*.jsonl")):
        for mf in sorted(manifest_dir.glob("*.jsonl")):
            split = split_of_name(mf.stem)
            with open(mf, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        r = json.loads(line)
                    except json.JSONDecodeError:
                        continue          # partially written last line
                    uid = r.get("id") or r.get("uid")
                    sp = split_of_name(r["split"]) if isinstance(r.get("split"), str) else split
                    p = r.get("wav") or r.get("path") or r.get("audio")
                    if p:
                        p = Path(p)
                        if not p.is_absolute():
                            p = corpus / p if (corpus / p).exists() else REPO / p
                    else:
                        p = _wav_path(corpus, uid)
                    if uid in seen or not p.exists():
                        continue
                    if "eval" in p.parts[len(corpus.parts):len(corpus.parts) + 1]:
                        sp = "eval"
                    seen.add(uid)
                    out[sp].append((uid, p))
        return out
    # text lists + synth.py layout
    id2split = {}
    if text_dir.is_dir():
        for tf in sorted(text_dir.glob("*.tsv")):
            sp = split_of_name(tf.stem)
            with open(tf, encoding="utf-8") as f:
                for line in f:
                    uid = line.split("\t", 1)[0].strip()
                    if uid:
                        id2split.setdefault(uid, sp)
    have_valid = any(s == "valid" for s in id2split.values())
    meta_root = corpus / "meta"
    if meta_root.is_dir():
        for jp in sorted(meta_root.glob("*/*.json")):
            uid = jp.stem
            wp = _wav_path(corpus, uid)
            if not wp.exists():
                continue
            sp = id2split.get(uid)
            if sp is None:
                sp = "valid" if (not have_valid and int(hashlib.sha1(uid.encode()).hexdigest(), 16) % 100 == 0) else "train"
            out[sp].append((uid, wp))
    return out


class CropSampler:
    """Holds the training audio in RAM; draws batches of `crop` samples (crop start multiple of `hop`), utterances
    chosen with probability proportional to their length. State (RNG + known ids) is checkpointable."""

    def __init__(self, crop=16000, hop=320, seed=0, min_len=None):
        self.crop, self.hop = crop, hop
        self.min_len = min_len if min_len is not None else hop * 10
        self.rng = np.random.default_rng(seed)
        self.ids, self.audio = [], []
        self.lengths = np.zeros(0, dtype=np.int64)
        self._idset = set()

    def add(self, items):
        n_new = 0
        for uid, p in items:
            if uid in self._idset:
                continue
            try:
                pcm, sr = read_wav(p)
            except Exception:
                continue           # incomplete / unreadable: retry at next scan
            assert sr == 16000, (p, sr)
            if len(pcm) < self.min_len:
                self._idset.add(uid)
                continue
            self._idset.add(uid)
            self.ids.append(uid)
            self.audio.append(pcm)
            n_new += 1
        self.lengths = np.array([len(a) for a in self.audio], dtype=np.int64)
        return n_new

    @property
    def seconds(self):
        return float(self.lengths.sum()) / 16000.0

    def batch(self, bs):
        w = self.lengths.astype(np.float64)
        idx = self.rng.choice(len(self.audio), size=bs, p=w / w.sum())
        out = np.zeros((bs, self.crop), dtype=np.float32)
        for b, i in enumerate(idx):
            a = self.audio[i]
            if len(a) <= self.crop:
                out[b, : len(a)] = a
            else:
                n_pos = (len(a) - self.crop) // self.hop + 1
                s = int(self.rng.integers(n_pos)) * self.hop
                out[b] = a[s: s + self.crop]
        return out / 32768.0

    def state(self):
        return {"rng": self.rng.bit_generator.state, "ids": list(self.ids)}

    def restore(self, st, id2path):
        """Re-load exactly the utterance list of the checkpoint (same order), then the RNG."""
        self.add([(u, id2path[u]) for u in st["ids"] if u in id2path])
        self.rng.bit_generator.state = st["rng"]
        missing = [u for u in st["ids"] if u not in id2path]
        return missing


def load_split(items, max_items=None, max_seconds=None):
    """-> list of (uid, float32 audio) (for validation / eval), deterministic order (sorted by id)."""
    res, tot = [], 0.0
    for uid, p in sorted(items, key=lambda x: x[0]):
        pcm, _ = read_wav(p)
        res.append((uid, pcm.astype(np.float32) / 32768.0))
        tot += len(pcm) / 16000.0
        if (max_items and len(res) >= max_items) or (max_seconds and tot >= max_seconds):
            break
    return res
