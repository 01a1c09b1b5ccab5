"""Shared parts of the voice-decoder probes (noise_phase_probe.py, aperiodicity_probe.py): load a trained decoder,
take a slice of the corpus *valid* utterances (never the Harvard dev sentences), write each variant's resynthesis
and the teacher's audio as OUT/<variant>/<id>.wav."""
import argparse
import os

import numpy as np
import soundfile as sf
import torch

from models.train.voice_data import VoiceCorpus
from models.train.voice_model import VoiceDecoder


def probe_args(doc):
    """The probes' common options: --weights, --out, --first, --n (add more to the returned parser)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--first", type=int, default=60, help="first valid utterance (the trainer's held-out set is 0..47)")
    ap.add_argument("--n", type=int, default=30)
    return ap


def load_decoder(weights, **cfg_over):
    torch.set_num_threads(1)
    w = torch.load(weights, map_location="cpu")
    m = VoiceDecoder(dict(w["cfg"], **cfg_over))
    m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in w["state_dict"].items()})
    return m.eval()


def valid_utts(c, first, n):
    val = VoiceCorpus("valid", None, c["hop"], c["sample_rate"])
    val.refresh()
    return val.utts[first:first + n]


def inputs(u):
    """codes [1,T], phones [1,T] of one corpus utterance"""
    return (torch.from_numpy(u["codes"].astype(np.int64))[None], torch.from_numpy(u["phones"].astype(np.int64))[None])


def write_utterance(out, u, outs, m):
    """outs: variant name -> complex spectrum [1, n_bins, T]; each through the decoder's iSTFT, plus ref/."""
    sr = m.cfg["sample_rate"]
    for name, S in list(outs.items()) + [("ref", None)]:
        os.makedirs(os.path.join(out, name), exist_ok=True)
        y = u["audio"].astype(np.float32) / 32768 if S is None else np.clip(m._istft(S)[0].numpy(), -1, 1)
        sf.write(os.path.join(out, name, f"{u['id']}.wav"), y, sr)
