#!/usr/bin/env python3
"""Export the pico-codec DECODER to GGUF (architecture "edgegen.codec") for the C runtime (models/decoder.c).

  ~/.cache/edgegen-venv/bin/python export_codec.py \
      --ckpt checkpoints/codec-a-weights.pt --out-dir ../codec [--variants f32,f16,q8_0] [--name pico-codec]
  -> ../codec/pico-codec-{f32,f16,q8_0}.gguf

--ckpt: a full checkpoint (ckpt.pt / best.pt, key "model") or a compact fp16 weights file (key "state_dict").
Keys: edgegen.codec.{sample_rate, hop_length, n_fft, latent_dim, fsq_levels (u32 array), dim, ffn_dim, n_layers,
kernel_size} (u32), {layer_norm_eps, mag_clamp} (f32); a phoneme-conditioned decoder (cfg n_phonemes > 0) also
n_phonemes (u32) and phonemes (string array: the symbol of each id, export_ar.phoneme_inventory -- the AR model's
inventory, checked id for id when the runtime pairs the two). Tensors = decoder module names prefixed "dec.";
layouts (numpy shapes, last axis innermost):
  dec.embed.weight           (dim, kernel, latent)   = torch [out][in][k] -> [out][k][in]
  dec.blocks.i.dwconv.weight (kernel, dim)           = torch [dim][1][k]  -> [k][dim]
  dec.phone_embed.weight     (n_phonemes, dim)       = torch layout (only when phoneme-conditioned)
  Linear weights             (out, in)               = torch layout
  everything else            1-D f32.
Variants: f32 = all f32; f16 / q8_0 / q4_0 = only pwconv1/pwconv2/head weights converted, everything else f32.
Uses models/train/gguf_export.py (the project's writer) when present; otherwise the `gguf` package directly.
--check re-reads each file with the gguf package and compares every tensor with the checkpoint (dequantised).
"""
import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent

ARCH = "edgegen.codec"
QUANT_SUFFIXES = (".pwconv1.weight", ".pwconv2.weight")


def load_decoder_state(path):
    st = torch.load(path, map_location="cpu")
    sd = st["model"] if "model" in st else st["state_dict"]
    cfg = st["cfg"]
    dec = {k[len("decoder."):]: v.float().numpy() for k, v in sd.items() if k.startswith("decoder.") and k != "decoder.window"}
    return cfg, dec, st.get("step", st.get("meta", {}).get("step"))


def decoder_tensors(cfg, dec):
    """-> list of (gguf name, numpy f32 array in the C layout, quantisable?)."""
    out = []
    for k, v in dec.items():
        name = "dec." + k
        a = v.astype(np.float32)
        if k == "embed.weight":
            a = np.ascontiguousarray(a.transpose(0, 2, 1))        # (dim, latent, k) -> (dim, k, latent)
        elif k.endswith("dwconv.weight"):
            a = np.ascontiguousarray(a[:, 0, :].T)                # (dim, 1, k) -> (k, dim)
        q = k.endswith(QUANT_SUFFIXES) or k == "head.weight"
        out.append((name, a, q))
    return out


def metadata(cfg):
    return {
        "u32": {"sample_rate": cfg["sample_rate"], "hop_length": cfg["hop"], "n_fft": cfg["n_fft"],
                "latent_dim": len(cfg["fsq_levels"]), "dim": cfg["dec_dim"], "ffn_dim": cfg["dec_ffn_dim"],
                "n_layers": cfg["dec_layers"], "kernel_size": cfg["kernel_size"]},
        "f32": {"layer_norm_eps": 1e-6, "mag_clamp": float(cfg["mag_clamp"])},
        "arr_u32": {"fsq_levels": [int(x) for x in cfg["fsq_levels"]]},
        **({"n_phonemes": int(cfg["n_phonemes"])} if cfg.get("n_phonemes", 0) else {}),
    }


class _GGUFPkgWriter:
    """Fallback writer on the `gguf` package with the intended gguf_export API."""

    def __init__(self, path, arch):
        import gguf
        self.g = gguf
        self.w = gguf.GGUFWriter(str(path), arch)
        self.w.add_custom_alignment(32)                  # general.alignment (u32), explicit
        self.path = path

    def add_u32(self, key, v):
        self.w.add_uint32(key, int(v))

    def add_f32(self, key, v):
        self.w.add_float32(key, float(v))

    def add_str(self, key, v):
        self.w.add_string(key, v)

    def add_arr_u32(self, key, vals):
        self.w.add_key_value(key, [int(x) for x in vals], self.g.GGUFValueType.ARRAY, sub_type=self.g.GGUFValueType.UINT32)

    def add_tensor(self, name, arr, dtype):
        g = self.g
        if dtype == "f32":
            self.w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))
        elif dtype == "f16":
            self.w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float16))
        else:
            qt = {"q8_0": g.GGMLQuantizationType.Q8_0, "q4_0": g.GGMLQuantizationType.Q4_0}[dtype]
            q = g.quants.quantize(np.ascontiguousarray(arr, dtype=np.float32), qt)
            self.w.add_tensor(name, q, raw_dtype=qt)          # q: uint8 [rows, row_bytes]; gguf derives ne

    def close(self):
        self.w.write_header_to_file()
        self.w.write_kv_data_to_file()
        self.w.write_tensors_to_file()
        self.w.close()


def open_writer(path, arch, use_project=True, name="pico-codec"):
    if use_project:
        try:
            from models.train import gguf_export as ge  # the project's writer (models/train/gguf_export.py)
        except ImportError:
            ge = None
        if ge is not None and hasattr(ge, "Exporter"):
            return ge.Exporter(str(path), arch=arch, name=name), "gguf_export.Exporter"
        if ge is not None:
            for name in ("GGUFWriter", "Writer", "GGUFExport"):
                cls = getattr(ge, name, None)
                if cls is not None:
                    return cls(str(path), arch), "gguf_export." + name
            if hasattr(ge, "open_writer"):
                return ge.open_writer(str(path), arch), "gguf_export.open_writer"
    return _GGUFPkgWriter(path, arch), "gguf package (fallback)"


def _kv(w, kind, key, val):
    """Call the writer's typed setter, tolerating the plausible method names of gguf_export."""
    names = {"u32": ("add_u32", "add_uint32", "set_u32"), "f32": ("add_f32", "add_float32", "set_f32"),
             "arr_u32": ("add_arr_u32", "add_array_u32", "add_u32_array", "set_arr_u32"),
             "str": ("add_str", "add_string", "set_str")}[kind]
    for n in names:
        if hasattr(w, n):
            return getattr(w, n)(key, val)
    raise AttributeError(f"writer has none of {names}")


def export(cfg, dec, out_path, variant, meta_extra=None, use_project=True, name="pico-codec"):
    w, kind = open_writer(out_path, ARCH, use_project, name)
    md = metadata(cfg)
    for k, v in md["u32"].items():
        _kv(w, "u32", f"{ARCH}.{k}", v)
    for k, v in md["f32"].items():
        _kv(w, "f32", f"{ARCH}.{k}", v)
    for k, v in md["arr_u32"].items():
        _kv(w, "arr_u32", f"{ARCH}.{k}", v)
    if md.get("n_phonemes"):
        from models.train.export_ar import phoneme_inventory
        _kv(w, "u32", f"{ARCH}.n_phonemes", md["n_phonemes"])
        w.add_arr_str(f"{ARCH}.phonemes", phoneme_inventory(md["n_phonemes"])[0])
    for k, v in (meta_extra or {}).items():
        try:
            _kv(w, "str", k, str(v))
        except (AttributeError, ValueError):
            pass
    for name, a, q in decoder_tensors(cfg, dec):
        dt = variant if (q and variant != "f32") else "f32"
        w.add_tensor(name, a, dt)
    (w.close if hasattr(w, "close") else w.write)()
    return kind


def check(path, cfg, dec):
    from models.train import gguf_export as ge
    r, worst = ge.reread_tensors(path, {n: a for n, a, _ in decoder_tensors(cfg, dec)})
    f = r.fields
    arch = bytes(f["general.architecture"].parts[-1]).decode()
    for k, v in metadata(cfg)["u32"].items():
        assert int(f[f"{ARCH}.{k}"].parts[-1][0]) == int(v), k
    lv = [int(f[f"{ARCH}.fsq_levels"].parts[i][0]) for i in f[f"{ARCH}.fsq_levels"].data]
    return arch, lv, max(worst.values()), len(worst)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out-dir", default=str(HERE.parent / "codec"))
    ap.add_argument("--name", default="pico-codec")
    ap.add_argument("--variants", default="f32,f16,q8_0")
    ap.add_argument("--fallback", action="store_true", help="use the gguf package even if gguf_export exists")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    cfg, dec, step = load_decoder_state(a.ckpt)
    sha = hashlib.sha256(open(a.ckpt, "rb").read()).hexdigest()[:16]
    Path(a.out_dir).mkdir(parents=True, exist_ok=True)
    for v in a.variants.split(","):
        out = Path(a.out_dir) / f"{a.name}-{v}.gguf"
        kind = export(cfg, dec, out, v, {"edgegen.source": f"{Path(a.ckpt).name} step={step} sha256={sha}"},
                      use_project=not a.fallback, name=a.name)
        msg = f"{out} {out.stat().st_size/1e6:.2f} MB via {kind}"
        if a.check:
            arch, lv, err, n = check(out, cfg, dec)
            msg += f" | check: arch={arch} fsq={lv} tensors={n} max rel err={err:.2e}"
        print(msg)


if __name__ == "__main__":
    main()
