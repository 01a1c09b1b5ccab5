#!/usr/bin/env python3
"""Golden vectors for the voice v2 decoder in C (architecture "edgegen.voice"; tests/test_voice.c).

Builds tiny random-init models/train/voice_model.py VoiceDecoders (an odd hop, like 441, and a non-integer frame
rate), exports them with models/train/export_voice.py (the real exporter) and writes the PyTorch references:

  tests/golden/voice_tiny_{hn,nohn,nz}_{f32,f16,q8_0}.gguf harmonic / ablation / harmonic with the white-noise branch
                                                           (noise_white) decoder, matrices in that dtype
  tests/golden/voice_noise.f32                             voice_model.white_noise at samples 0..4095 and
                                                           2^40-7 .. 2^40+56 (the C eg_voice_noise must match bit for bit)
  tests/golden/voice_tiny_tts-f32.gguf                     a harmonic decoder that pairs with tests/golden/tts_tiny_ar-f32.gguf
                                                           (fsq_levels [5, 3, 3], the AR's 256-symbol inventory;
                                                           test_voice.c runs the TTS pipeline on it)
  tests/golden/voice_tokens.txt, voice_phones.txt          T FSQ codes and T frame phoneme ids
  tests/golden/voice_ref_{hn,nohn,nz}_{f32,f16,q8_0}.f32      VoiceDecoder.forward(codes, phones)["y"] (predicted F0 and
                                                           thresholded voicing drive the source), float32 LE,
                                                           T*hop samples; f16/q8_0: the same network with each
                                                           converted matrix replaced by its dequantised value

The random weights are scaled so every part matters: F0 spans and passes the clamps, voicing switches on and off
inside the utterance (no frame's logit within 1e-3 of the threshold, so C and torch take the same decision), the
envelope and magnitude clamps are hit.

  --trained W.pt --out DIR [--utts N]   instead (`make voice-parity`): export the trained weights W.pt to
        DIR/voice-trained-{f32,f16,q8_0}.gguf and write, for the first N utterances of the valid split
        (models/data/tokens/valid.npz, models/data/ar/valid.jsonl.gz expanded by durations),
        DIR/trained_{tokens,phones}_<i>.txt and DIR/trained_ref_<i>_{f32,f16,q8_0}.f32 (torch with each file's
        weights, the converted matrices dequantised).

Run: OPENBLAS_NUM_THREADS=1 ~/.cache/edgegen-venv/bin/python tests/gen_voice_golden.py   (deterministic: seeded)
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from models.train import export_voice  # noqa: E402
from models.train import gguf_export as ge  # noqa: E402
from models.train.voice_model import VoiceDecoder  # noqa: E402
from golden_nets import randomise_affine  # noqa: E402  (tests/, the script's own folder)

TINY = dict(sample_rate=8000, hop=45, n_fft=128, fsq_levels=[7, 5, 5, 5, 5], n_phonemes=12, dim=32, ffn_dim=64,
            n_layers=2, kernel_size=7, norm_eps=1e-6, mag_clamp=5.0, harmonic=True, n_env=9, env_clamp=3.0,
            harm_f_max=3000.0, f0_min=60.0, f0_max=300.0, f0_center=120.0, vuv_threshold=0.5)


def converted(name):
    """The exporter's rule: which tensors --dtype converts (export_voice.voice_tensors)."""
    return name.endswith(export_voice.QUANT_SUFFIXES) or name in export_voice.QUANT_NAMES


def make(cfg, seed):
    torch.manual_seed(seed)
    m = VoiceDecoder(cfg).eval()
    with torch.no_grad():
        randomise_affine(m)
        nb = cfg["n_fft"] // 2 + 1
        m.head.weight[:nb] *= 2.5
        m.head.weight[nb:] *= 4.0
        m.head.bias[:nb] -= 1.0
        m.phone_embed.weight.copy_(torch.randn_like(m.phone_embed.weight))
        m.pitch_head.weight.copy_(0.15 * torch.randn_like(m.pitch_head.weight))
        m.pitch_head.bias.copy_(torch.tensor([0.0, 0.3]))
        if cfg["harmonic"]:
            m.env_head.weight.copy_(0.2 * torch.randn_like(m.env_head.weight))
            m.env_head.bias.copy_(torch.linspace(0.5, -2.0, cfg["n_env"]))
    return m


def dequantised(m, cfg, seed, dtype):
    m2 = make(cfg, seed)
    m2.load_state_dict(m.state_dict())
    with torch.no_grad():
        for name, p in m2.named_parameters():
            if converted(name) and dtype != "f32":
                a = p.detach().numpy().astype(np.float32)
                if dtype == "f16":
                    b = a.astype(np.float16).astype(np.float32)
                else:
                    b = ge.dequantize(ge.quantize_q8_0(a), "q8_0", a.shape)
                p.copy_(torch.from_numpy(b))
    return m2


def forward(m, tokens, phones):
    with torch.no_grad():
        c = torch.tensor(tokens, dtype=torch.long).view(1, -1)
        p = torch.tensor(phones, dtype=torch.long).view(1, -1)
        return m(c, p)


def write_tts_pair(out):
    """A harmonic voice decoder matching tests/gen_tts_golden.py's tiny AR (its FSQ levels and inventory)."""
    cfg = dict(TINY, fsq_levels=[5, 3, 3], n_phonemes=256)
    m = make(cfg, 7)
    sd = {k: v.detach().float().numpy() for k, v in m.state_dict().items() if not k.startswith("fsq.")}
    export_voice.export(cfg, sd, os.path.join(out, "voice_tiny_tts-f32.gguf"), "f32", name="voice-tiny-tts")


def valid_utterances(n):
    """The first n utterances of the valid split: (id, codes int list, frame phoneme ids int list)."""
    import gzip
    import json
    data = os.path.join(HERE, "..", "models", "data")
    z = np.load(os.path.join(data, "tokens", "valid.npz"))
    codes, offs, ids = z["codes"], z["offsets"], [str(u) for u in z["ids"]]
    tok = {u: codes[offs[i]:offs[i + 1]] for i, u in enumerate(ids)}
    out = []
    with gzip.open(os.path.join(data, "ar", "valid.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            fr = np.repeat(np.asarray(r["phoneme_ids"], np.int64), np.asarray(r["dur"], np.int64))
            if r["id"] in tok and len(tok[r["id"]]) == len(fr):
                out.append((r["id"], [int(x) for x in tok[r["id"]]], [int(x) for x in fr]))
            if len(out) == n:
                break
    return out


def trained(args):
    cfg, dec, meta = export_voice.load_voice_state(args.trained)
    os.makedirs(args.out, exist_ok=True)
    for dtype in ("f32", "f16", "q8_0"):
        export_voice.export(cfg, dec, os.path.join(args.out, f"voice-trained-{dtype}.gguf"), dtype,
                            name="voice-trained", source=os.path.basename(args.trained))
    models = {}
    for dtype in ("f32", "f16", "q8_0"):   # the reference of each file: its converted matrices dequantised
        m = VoiceDecoder(cfg).eval()
        own = m.state_dict()
        sd = {}
        for k, v in own.items():
            a = dec.get(k)
            if a is not None and converted(k) and dtype != "f32":
                a = a.astype(np.float16).astype(np.float32) if dtype == "f16" else \
                    ge.dequantize(ge.quantize_q8_0(a), "q8_0", a.shape)
            sd[k] = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) if a is not None else v
        m.load_state_dict(sd)
        models[dtype] = m
    for i, (uid, codes, phones) in enumerate(valid_utterances(args.utts)):
        for dtype, m in models.items():
            y = forward(m, codes, phones)["y"][0].numpy().astype("<f4")
            y.tofile(os.path.join(args.out, f"trained_ref_{i}_{dtype}.f32"))
        for name, v in (("tokens", codes), ("phones", phones)):
            with open(os.path.join(args.out, f"trained_{name}_{i}.txt"), "w") as f:
                f.write(" ".join(str(x) for x in v) + "\n")
        print(f"{uid}: {len(codes)} frames, rms {np.sqrt(np.mean(y ** 2)):.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--trained", metavar="WEIGHTS_PT", help="export + references of trained weights (see above)")
    ap.add_argument("--utts", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.trained:
        return trained(args)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(11)
    T, c = args.frames, TINY
    n_codes = int(np.prod(c["fsq_levels"]))
    tokens = rng.integers(0, n_codes, size=T)
    phones = []
    while len(phones) < T:
        phones += [int(rng.integers(0, c["n_phonemes"]))] * int(rng.integers(2, 7))
    phones = phones[:T]
    syms = [f"p{i}" for i in range(c["n_phonemes"])]
    with open(os.path.join(args.out, "voice_tokens.txt"), "w") as f:
        f.write(" ".join(str(int(t)) for t in tokens) + "\n")
    with open(os.path.join(args.out, "voice_phones.txt"), "w") as f:
        f.write(" ".join(str(p) for p in phones) + "\n")
    write_tts_pair(args.out)
    thr_logit = math.log(c["vuv_threshold"] / (1 - c["vuv_threshold"]))
    from models.train.voice_model import white_noise
    wn = np.concatenate([white_noise(0, 4096).numpy(), white_noise(2 ** 40 - 7, 64).numpy()]).astype("<f4")
    wn.tofile(os.path.join(args.out, "voice_noise.f32"))
    for tag, harmonic, seed in (("hn", True, 5), ("nohn", False, 6), ("nz", True, 8)):
        cfg = dict(c, harmonic=harmonic, noise_white=tag == "nz")
        m = make(cfg, seed)
        for dtype in ("f32", "f16", "q8_0"):
            sd = {k: v.detach().float().numpy() for k, v in m.state_dict().items() if not k.startswith("fsq.")}
            path = os.path.join(args.out, f"voice_tiny_{tag}_{dtype}.gguf")
            export_voice.export(cfg, sd, path, dtype, name=f"voice-tiny-{tag}", phonemes=syms)
            ref = m if dtype == "f32" else dequantised(m, cfg, seed, dtype)
            out = forward(ref, tokens.tolist(), phones)
            vl = out["vuv_logit"][0].numpy()
            margin = float(np.min(np.abs(vl - thr_logit)))
            assert margin > 1e-3, f"{tag} {dtype}: a voicing logit within {margin:.2g} of the threshold: reseed"
            f0 = np.exp(out["lf0"][0].numpy())
            y = out["y"][0].numpy().astype("<f4")
            assert y.shape == (T * c["hop"],)
            y.tofile(os.path.join(args.out, f"voice_ref_{tag}_{dtype}.f32"))
            print(f"{tag} {dtype}: rms {np.sqrt(np.mean(y ** 2)):.4f} peak {np.abs(y).max():.3f}; F0 {f0.min():.0f}.."
                  f"{f0.max():.0f} Hz, voiced {np.mean(vl > thr_logit):.2f}, vuv margin {margin:.3f}")


if __name__ == "__main__":
    main()
