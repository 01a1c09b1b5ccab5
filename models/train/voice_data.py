"""Training data of the 22.05 kHz voice decoder: tokens + frame phoneme ids + teacher audio + teacher F0.

Per utterance (all aligned on 50 Hz frames, hop 441 at 22.05 kHz, T = the token count):
  codes  int16 [T]   models/data/tokens/<split>.npz (the frozen step-11000 encoder's tokens of the 16 kHz corpus)
  phones uint8 [T]   models/data/ar/<split>.jsonl.gz expanded by durations (what the TTS pipeline has at run time)
  audio  int16 [T*hop] <corpus22k>/wav/<hh>/<id>.wav, zero-padded to T*hop (the last frame is partial)
  f0     float32 [T] Hz, 0 = unvoiced: models/data/teacher_f0.py (Praat), cached under <state>/f0/
Only utterances whose record says "manifest_match": true are used (synth.py --check-manifest); the others are
counted and reported. `refresh()` picks up utterances synthesised since the last scan, so training can start
while the corpus is still being made (the train list is shuffled: any prefix is representative).
"""
import gzip
import json
import os
import sys
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "models" / "data"
from models.data import teacher_f0 as TF  # noqa: E402


def state_dir() -> Path:
    return Path(os.environ.get("EDGEGEN_TRAIN_STATE", os.path.expanduser("~/.cache/edgegen-train")))


def load_tokens(split):
    z = np.load(DATA / "tokens" / f"{split}.npz")
    codes, offs = z["codes"], z["offsets"]
    return {str(u): codes[offs[i]:offs[i + 1]].astype(np.int16) for i, u in enumerate(z["ids"])}


def load_phone_frames(split):
    out = {}
    with gzip.open(DATA / "ar" / f"{split}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            fr = np.repeat(np.asarray(r["phoneme_ids"], np.int64), np.asarray(r["dur"], np.int64))
            if len(fr) != r["n_frames"]:
                raise ValueError(f"{split}/{r['id']}: durations sum to {len(fr)}, n_frames {r['n_frames']}")
            out[r["id"]] = fr.astype(np.uint8)
    return out


def manifest_ids(split):
    with gzip.open(DATA / "manifest" / f"{split}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f]


class VoiceCorpus:
    def __init__(self, split, corpus=None, hop=441, sr=22050, limit=0, log=print):
        self.split, self.hop, self.sr, self.limit, self.log = split, hop, sr, limit, log
        self.corpus = Path(corpus) if corpus else state_dir() / "corpus22k"
        self.root = self.corpus / "eval" if split == "eval" else self.corpus
        self.order = manifest_ids(split)
        self.tokens = load_tokens(split)
        self.phones = load_phone_frames(split)
        self.utts = []            # list of dicts: id, codes, phones, audio, f0
        self.have = set()
        self.mismatched = set()

    def refresh(self):
        """Load every finished, matching utterance not loaded yet. Returns the number added."""
        t0, added = time.time(), 0
        for uid in self.order:
            if self.limit and len(self.utts) >= self.limit:
                break
            if uid in self.have or uid in self.mismatched:
                continue
            h = TF.shard_dir(uid)
            mp, wp = self.root / "meta" / h / f"{uid}.json", self.root / "wav" / h / f"{uid}.wav"
            if not mp.exists() or not wp.exists():
                continue
            try:
                rec = json.loads(mp.read_text())
            except (OSError, ValueError):
                continue
            if rec.get("manifest_match") is not True or rec.get("sr") != self.sr:
                self.mismatched.add(uid)
                continue
            codes, ph = self.tokens.get(uid), self.phones.get(uid)
            if codes is None or ph is None or len(ph) != len(codes) or rec["n_frames"] != len(codes):
                self.mismatched.add(uid)
                continue
            with wave.open(str(wp), "rb") as wf:
                if wf.getframerate() != self.sr:
                    self.mismatched.add(uid)
                    continue
                pcm = np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
            T = len(codes)
            audio = np.zeros(T * self.hop, np.int16)
            n = min(len(pcm), T * self.hop)
            audio[:n] = pcm[:n]
            f0 = TF.frame_f0_cached(self.corpus, uid, pcm, self.sr, T, self.hop)
            self.utts.append({"id": uid, "codes": codes, "phones": ph, "audio": audio, "f0": f0})
            self.have.add(uid)
            added += 1
        if added:
            self.log(f"DATA {self.split}: +{added} utterances in {time.time() - t0:.0f}s, now {len(self.utts)} "
                     f"({self.hours():.2f} h); {len(self.mismatched)} skipped (mismatch/missing tokens)")
        return added

    def hours(self):
        return sum(len(u["codes"]) for u in self.utts) / (self.sr / self.hop) / 3600


def f0_targets(f0):
    """teacher F0 [T] (0 = unvoiced) -> (log F0 contour interpolated through unvoiced frames, voicing 0/1)."""
    return np.log(TF.interp_unvoiced(f0)).astype(np.float32), (f0 > 0).astype(np.float32)


class Sampler:
    """Random crops of crop frames (length-weighted choice of utterance), re-weighted when the corpus grows."""

    def __init__(self, corpus, crop, seed):
        self.c, self.crop = corpus, crop
        self.rng = np.random.default_rng(seed)
        self.n_seen = -1

    def batch(self, bs):
        import torch
        if self.n_seen != len(self.c.utts):
            w = np.array([len(u["codes"]) for u in self.c.utts], np.float64)
            self.p, self.n_seen = w / w.sum(), len(self.c.utts)
        C, hop = self.crop, self.c.hop
        codes = np.zeros((bs, C), np.int64)
        phones = np.zeros((bs, C), np.int64)
        lf0 = np.zeros((bs, C), np.float32)
        vuv = np.zeros((bs, C), np.float32)
        mask = np.zeros((bs, C), np.float32)
        y = np.zeros((bs, C * hop), np.float32)
        for b, i in enumerate(self.rng.choice(len(self.c.utts), size=bs, p=self.p)):
            u = self.c.utts[i]
            T = len(u["codes"])
            s = int(self.rng.integers(max(1, T - C + 1)))
            n = min(C, T - s)
            codes[b, :n] = u["codes"][s:s + n]
            phones[b, :n] = u["phones"][s:s + n]
            lf, vv = f0_targets(u["f0"])
            lf0[b, :n], vuv[b, :n], mask[b, :n] = lf[s:s + n], vv[s:s + n], 1.0
            if n < C:
                lf0[b, n:] = lf0[b, n - 1]
            y[b, :n * hop] = u["audio"][s * hop:(s + n) * hop].astype(np.float32) / 32768.0
        t = torch.from_numpy
        return t(codes), t(phones), t(lf0), t(vuv), t(mask), t(y)
