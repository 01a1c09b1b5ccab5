#!/usr/bin/env python3
"""Golden vectors for the C decoder (tests/test_decoder.c, tests/test_cli_decode.sh).

Builds a tiny random-init models/train/codec_model.py Decoder, exports it to GGUF (architecture
"edgegen.codec", the keys and layouts models/decoder.c binds) in f32, f16 and q8_0, and writes the PyTorch
reference waveforms:

  tests/golden/decoder_tiny_{f32,f16,q8_0}.gguf   the model (matrices in that dtype, vectors f32)
  tests/golden/decoder_tokens.txt                 T whitespace-separated FSQ codes
  tests/golden/decoder_ref_{f32,f16,q8_0}.f32     Decoder.forward(codes_to_values(tokens)), float32 LE raw,
                                                  T*hop samples; f16/q8_0: the same network with each matrix
                                                  replaced by its dequantised value (so C-vs-torch isolates
                                                  the runtime from the quantisation error)

  tests/golden/decoder_tiny_ph_{f32,q8_0}.gguf    a phoneme-conditioned tiny decoder (n_phonemes 12, symbols
                                                  "p0".."p11", random embedding rows)
  tests/golden/decoder_phones.txt                 T phoneme ids, one per frame (runs of 1-5 frames)
  tests/golden/decoder_ref_ph_{f32,q8_0}.f32      its reference waveforms for decoder_tokens.txt + decoder_phones.txt

  --full OUT.gguf [--dtype q8_0]   instead: a random-weight full-size decoder (256/768/6, n_fft 1024, hop 320)
                                   for tests/bench_decoder.c when no trained model is present.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/gen_decoder_golden.py   (deterministic: seeded)
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # run by path: make the repo root (package models) importable
from models.train.codec_model import FSQ, Decoder  # noqa: E402
from golden_nets import randomise_affine  # noqa: E402  (tests/, the script's own folder)

import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402
from gguf import quants  # noqa: E402

TINY = dict(sample_rate=16000, hop=32, n_fft=128, latent_dim=5, fsq_levels=[7, 5, 5, 5, 5], dim=32, ffn_dim=64,
            n_layers=2, kernel_size=7, mag_clamp=5.0, eps=1e-6)
FULL = dict(sample_rate=16000, hop=320, n_fft=1024, latent_dim=5, fsq_levels=[7, 5, 5, 5, 5], dim=256, ffn_dim=768,
            n_layers=6, kernel_size=7, mag_clamp=100.0, eps=1e-6)
MATRICES = ("pwconv1.weight", "pwconv2.weight", "head.weight")   # quantisable (Linear weights)
QTYPES = {"f32": QT.F32, "f16": QT.F16, "q8_0": QT.Q8_0}


def make_decoder(c, seed):
    torch.manual_seed(seed)
    dec = Decoder(c["latent_dim"], c["dim"], c["ffn_dim"], c["n_layers"], c["kernel_size"], c["n_fft"], c["hop"],
                  c["mag_clamp"], c["eps"], n_phonemes=c.get("n_phonemes", 0)).eval()
    with torch.no_grad():
        # make the random network exercise everything: non-trivial LayerNorm affine params, phases beyond +-pi,
        # log-magnitudes above log(mag_clamp) so the clamp is hit
        randomise_affine(dec)
        half = c["n_fft"] // 2 + 1
        dec.head.weight[:half] *= 2.5
        dec.head.weight[half:] *= 4.0
        if dec.n_phonemes:                                # (zero-initialised for training: make the rows matter)
            dec.phone_embed.weight.copy_(torch.randn_like(dec.phone_embed.weight))
    return dec


def gguf_tensors(dec):
    """name -> (numpy array in the C layout, quantisable?) for every tensor models/decoder.c binds."""
    out = {}
    for name, p in dec.state_dict().items():
        a = p.detach().cpu().numpy().astype(np.float32)
        key = "dec." + name
        if name == "embed.weight":                       # torch (dim, latent, kernel) -> (dim, kernel, latent)
            a = np.ascontiguousarray(a.transpose(0, 2, 1))
        elif name.endswith("dwconv.weight"):             # torch (dim, 1, kernel) -> (kernel, dim)
            a = np.ascontiguousarray(a[:, 0, :].T)
        out[key] = (a, any(name.endswith(m) for m in MATRICES))
    return out


def quant_roundtrip(a, qt):
    if qt == QT.F32:
        return a
    return quants.dequantize(quants.quantize(a, qt), qt).reshape(a.shape).astype(np.float32)


def write_gguf(path, dec, c, qtype, phonemes=None):
    """phonemes: the symbol of each id (len n_phonemes) for a phoneme-conditioned decoder."""
    w = gguf.GGUFWriter(path, "edgegen.codec")
    w.add_custom_alignment(64)
    pre = "edgegen.codec."
    for k, v in (("sample_rate", c["sample_rate"]), ("hop_length", c["hop"]), ("n_fft", c["n_fft"]),
                 ("latent_dim", c["latent_dim"]), ("dim", c["dim"]), ("ffn_dim", c["ffn_dim"]),
                 ("n_layers", c["n_layers"]), ("kernel_size", c["kernel_size"])):
        w.add_uint32(pre + k, int(v))
    w.add_array(pre + "fsq_levels", [int(x) for x in c["fsq_levels"]])
    w.add_float32(pre + "layer_norm_eps", float(c["eps"]))
    w.add_float32(pre + "mag_clamp", float(c["mag_clamp"]))
    if c.get("n_phonemes", 0):
        w.add_uint32(pre + "n_phonemes", int(c["n_phonemes"]))
        w.add_array(pre + "phonemes", list(phonemes))
    for name, (a, quantisable) in gguf_tensors(dec).items():
        qt = QTYPES[qtype] if quantisable else QT.F32
        if qt == QT.F32:
            w.add_tensor(name, a)
        elif qt == QT.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, quants.quantize(a, qt), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dequantised_copy(dec, c, qtype, seed):
    """The same decoder with every quantisable matrix replaced by dequant(quant(W))."""
    d2 = make_decoder(c, seed)
    d2.load_state_dict(dec.state_dict())
    with torch.no_grad():
        for name, p in d2.named_parameters():
            if any(name.endswith(m) for m in MATRICES):
                p.copy_(torch.from_numpy(quant_roundtrip(p.detach().numpy().astype(np.float32), QTYPES[qtype])))
    return d2


def reference(dec, c, tokens, phones=None):
    fsq = FSQ(c["fsq_levels"])
    with torch.no_grad():
        v = fsq.codes_to_values(torch.tensor(tokens, dtype=torch.long).view(1, -1))
        p = torch.tensor(phones, dtype=torch.long).view(1, -1) if phones is not None else None
        return dec(v, p)[0].numpy().astype("<f4")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--full", metavar="OUT_GGUF", help="write a random-weight full-size decoder and exit")
    ap.add_argument("--dtype", default="q8_0", choices=sorted(QTYPES))
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.full:
        write_gguf(args.full, make_decoder(FULL, 1234), FULL, args.dtype)
        print(f"wrote {args.full}")
        return

    c, seed = TINY, 42
    os.makedirs(args.out, exist_ok=True)
    dec = make_decoder(c, seed)
    rng = np.random.default_rng(seed)
    n_codes = int(np.prod(c["fsq_levels"]))
    tokens = rng.integers(0, n_codes, size=args.frames)
    tokens[0], tokens[-1], tokens[args.frames // 2] = 0, n_codes - 1, n_codes // 2   # grid corners and centre
    with open(os.path.join(args.out, "decoder_tokens.txt"), "w") as f:
        f.write(" ".join(str(int(t)) for t in tokens) + "\n")
    for qtype in ("f32", "f16", "q8_0"):
        write_gguf(os.path.join(args.out, f"decoder_tiny_{qtype}.gguf"), dec, c, qtype)
        ref_dec = dec if qtype == "f32" else dequantised_copy(dec, c, qtype, seed)
        y = reference(ref_dec, c, tokens.tolist())
        assert y.shape == (args.frames * c["hop"],)
        y.tofile(os.path.join(args.out, f"decoder_ref_{qtype}.f32"))
        print(f"{qtype}: {len(y)} samples, rms {np.sqrt(np.mean(y ** 2)):.4f}, peak {np.abs(y).max():.4f}")

    # phoneme-conditioned variant: same tokens, frame phoneme ids in runs of 1..5 frames (as durations make them)
    cp = dict(c, n_phonemes=12)
    dec_ph = make_decoder(cp, seed + 1)
    syms = [f"p{i}" for i in range(cp["n_phonemes"])]
    phones = []
    while len(phones) < args.frames:
        phones += [int(rng.integers(0, cp["n_phonemes"]))] * int(rng.integers(1, 6))
    phones = phones[: args.frames]
    phones[0], phones[-1] = 0, cp["n_phonemes"] - 1
    with open(os.path.join(args.out, "decoder_phones.txt"), "w") as f:
        f.write(" ".join(str(p) for p in phones) + "\n")
    for qtype in ("f32", "q8_0"):
        write_gguf(os.path.join(args.out, f"decoder_tiny_ph_{qtype}.gguf"), dec_ph, cp, qtype, syms)
        ref_dec = dec_ph if qtype == "f32" else dequantised_copy(dec_ph, cp, qtype, seed + 1)
        y = reference(ref_dec, cp, tokens.tolist(), phones)
        y.tofile(os.path.join(args.out, f"decoder_ref_ph_{qtype}.f32"))
        y0 = reference(ref_dec, cp, tokens.tolist(), [0] * args.frames)
        print(f"ph {qtype}: rms {np.sqrt(np.mean(y ** 2)):.4f}; the phonemes change the output by "
              f"{10 * np.log10(np.sum(y ** 2) / np.sum((y - y0) ** 2)):.1f} dB SNR")


if __name__ == "__main__":
    main()
