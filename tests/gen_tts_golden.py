#!/usr/bin/env python3
"""A matching tiny AR + codec pair for the end-to-end TTS tests (tests/test_tts.c, tests/test_cli_tts.sh).

The golden AR (tests/gen_ar_golden.py) and decoder (tests/gen_decoder_golden.py) models use different FSQ levels,
so they cannot be chained. This writes a pair that agrees on the codec vocabulary and carries the full Piper
phoneme inventory (so espeak-ng phonemes of real text map to ids):

  tests/golden/tts_tiny_ar-f32.gguf      random PicoAR (dim 32, 1+2 layers, window 16), n_phonemes 256,
                                         fsq_levels [5, 3, 3]; durations biased to about 3 frames per id
  tests/golden/tts_tiny_ar_ls2-f32.gguf  the same AR model with edgegen.ar.length_scale = 2 (duration calibration)
  tests/golden/tts_tiny_codec-f32.gguf   random codec Decoder (dim 32, 2 layers, kernel 7), fsq_levels [5, 3, 3],
                                         16 kHz, hop 160 (100 frames/s), n_fft 512
  tests/golden/tts_tiny_codec_ph-f32.gguf  the same shape, phoneme-conditioned on the AR's 256-id inventory

Weights are random: the audio is noise-like, which is all the pipeline tests need (streaming == whole,
determinism, first audio before the end of the sentence, error paths). Deterministic (seeded).
Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/gen_tts_golden.py

  --bench OUT_DIR   instead: a full-size random pair for tests/bench_tts.c (`make bench-tts`) when no trained model
                    exists: OUT_DIR/pico-ar-q8_0.gguf (ar_model.DEFAULT_CONFIG) and OUT_DIR/pico-codec-q8_0.gguf
                    (gen_decoder_golden.FULL), durations biased to about 1.1 frames per id (speech-like: 50 frames/s,
                    about 45 Piper ids/s, 20 words in about 6 s), so time to first audio and RTF are representative of the trained sizes.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, ROOT)  # run by path: make the repo root (package models) importable
sys.path.insert(0, HERE)
from models.train import ar_model as AM  # noqa: E402
from models.train import export_ar as EX  # noqa: E402
import gen_decoder_golden as DG  # noqa: E402

FSQ = [5, 3, 3]
AR_CFG = dict(n_phonemes=256, dim=32, n_heads=2, ffn_dim=64, enc_layers=1, dec_layers=2, window=16,
              rope_theta=10000.0, norm_eps=1e-5, fsq_levels=FSQ)
CODEC_CFG = dict(sample_rate=16000, hop=160, n_fft=512, latent_dim=len(FSQ), fsq_levels=FSQ, dim=32, ffn_dim=64,
                 n_layers=2, kernel_size=7, mag_clamp=5.0, eps=1e-6)


def bench(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    m = AM.PicoAR(dict(AM.DEFAULT_CONFIG)).eval()
    with torch.no_grad():
        m.duration.proj.weight.mul_(0.01)
        m.duration.proj.bias.fill_(0.74)        # exp(0.74) - 1 = 1.1 frames per id
    EX.export(m, os.path.join(out, "pico-ar-q8_0.gguf"), "q8_0", name="pico-ar-rand", source="tests/gen_tts_golden.py --bench")
    DG.write_gguf(os.path.join(out, "pico-codec-q8_0.gguf"), DG.make_decoder(DG.FULL, 1234), DG.FULL, "q8_0")
    print(f"wrote {out}/pico-ar-q8_0.gguf and {out}/pico-codec-q8_0.gguf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", metavar="OUT_DIR")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.bench:
        return bench(a.bench)
    out = os.path.join(ROOT, "tests", "golden")
    torch.manual_seed(7)
    m = AM.PicoAR(AR_CFG).eval()
    with torch.no_grad():
        m.duration.proj.weight.mul_(0.05)      # durations of about exp(1.4) - 1 = 3 frames per id, little spread
        m.duration.proj.bias.fill_(1.4)
        m.head.weight.mul_(4.0)                 # peaky logits: sampling settings visibly matter
    EX.export(m, os.path.join(out, "tts_tiny_ar-f32.gguf"), "f32", name="tts-tiny-ar",
              source="tests/gen_tts_golden.py")
    # the same model carrying the optional duration calibration edgegen.ar.length_scale = 2: at speed 1 it must
    # speak exactly as the plain file does at speed 0.5 (tests/test_tts.c), and hostile values of the key are
    # patched into it (tests/test_ar.c)
    EX.export(m, os.path.join(out, "tts_tiny_ar_ls2-f32.gguf"), "f32", name="tts-tiny-ar-ls2",
              source="tests/gen_tts_golden.py", length_scale=2.0)
    dec = DG.make_decoder(CODEC_CFG, 11)
    DG.write_gguf(os.path.join(out, "tts_tiny_codec-f32.gguf"), dec, CODEC_CFG, "f32")
    cp = dict(CODEC_CFG, n_phonemes=AR_CFG["n_phonemes"])
    syms = EX.phoneme_inventory(AR_CFG["n_phonemes"])[0]
    DG.write_gguf(os.path.join(out, "tts_tiny_codec_ph-f32.gguf"), DG.make_decoder(cp, 12), cp, "f32", syms)
    for f in ("tts_tiny_ar-f32.gguf", "tts_tiny_ar_ls2-f32.gguf", "tts_tiny_codec-f32.gguf", "tts_tiny_codec_ph-f32.gguf"):
        print(f, os.path.getsize(os.path.join(out, f)))


if __name__ == "__main__":
    main()
