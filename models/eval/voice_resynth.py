#!/usr/bin/env python3
"""Resynthesis with a voice-v2 decoder (models/train/voice_model.py): the teacher's 50 Hz tokens and frame phoneme
ids of the Harvard dev sentences (models/data/tokens/eval.npz, models/data/ar/eval.jsonl.gz) -> 22.05 kHz WAVs.

This judges the decoder alone (the tokens are the teacher's, not the AR model's), for comparison between decoder
checkpoints and with the teacher; the TTS figures come from `edgegen tts` once the C side exists.

  python -m models.eval.voice_resynth --weights models/train/checkpoints/voice-hn-a-weights.pt --out DIR \
      [--first 1 --last 60] [--teacher-f0]
writes DIR/hvNNNN.wav and DIR/texts.tsv (text TAB wav). The judges (../shared/eval/voice-eval) take a TTS command;
this file's --lookup mode (standard library only, so it also runs by path under any python3) is that command:
  V=../shared/eval/voice-eval/voice_eval.sh
  $V hn-a "python3 models/eval/voice_resynth.py --lookup DIR/texts.tsv {text} {wav}" DIR/sentences.txt 60 OUT
"""
import argparse
import shutil
import sys


def lookup(tsv, text, wav):
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            t, p = line.rstrip("\n").split("\t")
            if t == text:
                shutil.copyfile(p, wav)
                return 0
    print(f"voice_resynth: {tsv}: no WAV for text {text!r}", file=sys.stderr)
    return 1


def render(a):
    import gzip
    import json
    import os
    import wave
    from pathlib import Path

    import numpy as np
    import torch

    from models.train.voice_data import f0_targets, load_phone_frames, load_tokens, state_dir
    from models.train.voice_model import VoiceDecoder
    from models.data import teacher_f0 as TF

    torch.set_num_threads(1)
    if a.noise_offset:            # diagnostic: another stretch of the inference noise (white_noise is a function of
        from models.train import voice_model as VM    # the sample index), to see how much one realisation moves WER
        base = VM.white_noise
        VM.white_noise = lambda start, n, generator=None: base(start + a.noise_offset, n, generator)
    w = torch.load(a.weights, map_location="cpu")
    model = VoiceDecoder(w["cfg"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in w["state_dict"].items()})
    model.eval()
    toks, phones = load_tokens("eval"), load_phone_frames("eval")
    repo = Path(__file__).resolve().parents[2]
    texts = {}
    with gzip.open(repo / "models" / "data" / "manifest" / "eval.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts[r["id"]] = r["text"]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, sents = [], []
    corpus = state_dir() / "corpus22k"
    for k in range(a.first, a.last + 1):
        uid = f"hv{k:04d}"
        codes = torch.from_numpy(toks[uid].astype(np.int64)).unsqueeze(0)
        ph = torch.from_numpy(phones[uid].astype(np.int64)).unsqueeze(0)
        kw = {}
        if a.teacher_f0:
            wp = corpus / "eval" / "wav" / TF.shard_dir(uid) / f"{uid}.wav"
            pcm, sr = TF.read_wav(wp)
            f0 = TF.frame_f0_cached(corpus, uid, pcm, sr, codes.shape[1], model.cfg["hop"])
            lf, vv = f0_targets(f0)
            kw = dict(f0=torch.from_numpy(np.exp(lf)).unsqueeze(0), vuv=torch.from_numpy(vv).unsqueeze(0))
        with torch.no_grad():
            y = model(codes, ph, **kw)["y"][0].numpy()
        pcm = np.clip(np.round(y * 32767.0), -32767, 32767).astype("<i2")
        p = out / f"{uid}.wav"
        with wave.open(str(p), "wb") as wf:
            wf.setnchannels(1); wf.setsampwidth(2); wf.setframerate(model.cfg["sample_rate"])
            wf.writeframes(pcm.tobytes())
        rows.append(f"{texts[uid]}\t{os.path.abspath(p)}")
        sents.append(texts[uid])
    (out / "texts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (out / "sentences.txt").write_text("\n".join(sents) + "\n", encoding="utf-8")
    print(f"voice_resynth: {len(rows)} WAVs in {out} (step {w.get('meta', {}).get('step')})", file=sys.stderr)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", help="compact voice weights (models/train/checkpoints/<run>-weights.pt)")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--first", type=int, default=1, help="first Harvard dev sentence (1-based)")
    ap.add_argument("--last", type=int, default=60, help="last Harvard dev sentence (inclusive)")
    ap.add_argument("--teacher-f0", action="store_true", help="drive the source with the teacher's F0 (diagnostic)")
    ap.add_argument("--noise-offset", type=int, default=0,
                    help="diagnostic: take the noise branch's white noise from this sample index on instead of 0")
    ap.add_argument("--lookup", nargs=3, metavar=("TSV", "TEXT", "WAV"), help="copy the WAV rendered for TEXT")
    a = ap.parse_args()
    if a.lookup:
        return lookup(*a.lookup)
    if not a.weights or not a.out:
        ap.error("--weights and --out are required (or --lookup)")
    return render(a)


if __name__ == "__main__":
    sys.exit(main())
