"""gguf_export.py — the one GGUF export helper every edgegen model exporter uses.

Wraps gguf.GGUFWriter (the `gguf` PyPI package) so every file we write has the same shape:
  * general.architecture, general.name, general.alignment = 64 (AVX-512 friendly, zero-copy loading);
  * edgegen.* keys only from KEYS below, each with a fixed GGUF type; models/GGUF_KEYS.md documents every one
    (the self-test checks that the two agree);
  * tensors in f32, f16, q8_0 or q4_0, quantised by our own numpy code, which is bit-exact with ggml's reference
    quantize_row_q8_0_ref / quantize_row_q4_0_ref (ggml-quants.c); the self-test compares with gguf.quants;
  * written to a temp file next to the destination, fsync'd, then renamed: a crash never leaves half a model.

Shapes: pass numpy/PyTorch arrays as they are, (rows, cols) etc.; GGUF stores dims innermost first, so the C
side sees ne[0] = cols. Tensor names should be the PyTorch module names (STYLE.md §5), at most 255 bytes
(keep them under 64 if llama.cpp tools must read the file).

    from gguf_export import Exporter
    with Exporter("codec.gguf", arch="edgegen.codec", name="pico-codec") as ex:
        ex.add_u32("edgegen.codec.sample_rate", 16000)
        ex.add_tensor("decoder.head.weight", w, "q8_0")

Run `python3 models/train/gguf_export.py --self-test` for the checks (prints "N passed, N failed, N skipped").
"""
import os
import re
import sys
import tempfile

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - reported by the self-test / exporter users
    gguf = None

ALIGNMENT = 64
QK = 32  # elements per q8_0 / q4_0 block

# Every edgegen.* key, with its GGUF type. Adding a key: add it here AND to models/GGUF_KEYS.md.
# Types: "u32", "f32", "str", "bool", "u32[]", "f32[]", "str[]".
KEYS = {
    # file-level
    "edgegen.format_version": "u32",
    "edgegen.license": "str",
    "edgegen.source": "str",
    # codec (architecture "edgegen.codec"), models/train/codec_model.py
    "edgegen.codec.sample_rate": "u32",
    "edgegen.codec.hop_length": "u32",
    "edgegen.codec.n_fft": "u32",
    "edgegen.codec.latent_dim": "u32",
    "edgegen.codec.fsq_levels": "u32[]",
    "edgegen.codec.dim": "u32",
    "edgegen.codec.ffn_dim": "u32",
    "edgegen.codec.n_layers": "u32",
    "edgegen.codec.kernel_size": "u32",
    "edgegen.codec.layer_norm_eps": "f32",
    "edgegen.codec.mag_clamp": "f32",
    "edgegen.codec.n_phonemes": "u32",
    "edgegen.codec.phonemes": "str[]",
    # voice v2 decoder (architecture "edgegen.voice"), models/train/voice_model.py VoiceDecoder, export_voice.py
    "edgegen.voice.sample_rate": "u32",
    "edgegen.voice.hop_length": "u32",
    "edgegen.voice.n_fft": "u32",
    "edgegen.voice.latent_dim": "u32",
    "edgegen.voice.fsq_levels": "u32[]",
    "edgegen.voice.dim": "u32",
    "edgegen.voice.ffn_dim": "u32",
    "edgegen.voice.n_layers": "u32",
    "edgegen.voice.kernel_size": "u32",
    "edgegen.voice.layer_norm_eps": "f32",
    "edgegen.voice.mag_clamp": "f32",
    "edgegen.voice.n_phonemes": "u32",
    "edgegen.voice.phonemes": "str[]",
    "edgegen.voice.harmonic": "bool",
    "edgegen.voice.n_env": "u32",
    "edgegen.voice.env_clamp": "f32",
    "edgegen.voice.harm_f_max": "f32",
    "edgegen.voice.f0_min": "f32",
    "edgegen.voice.f0_max": "f32",
    "edgegen.voice.f0_center": "f32",
    "edgegen.voice.vuv_threshold": "f32",
    "edgegen.voice.noise_white": "bool",
    # AR model (architecture "edgegen.ar"), models/train/ar_model.py PicoAR, written by export_ar.py
    "edgegen.ar.n_phonemes": "u32",
    "edgegen.ar.dim": "u32",
    "edgegen.ar.n_heads": "u32",
    "edgegen.ar.ffn_dim": "u32",
    "edgegen.ar.enc_layers": "u32",
    "edgegen.ar.dec_layers": "u32",
    "edgegen.ar.window": "u32",
    "edgegen.ar.rope_theta": "f32",
    "edgegen.ar.norm_eps": "f32",
    "edgegen.ar.fsq_levels": "u32[]",
    "edgegen.ar.dur_kernel_size": "u32",
    "edgegen.ar.dur_norm_eps": "f32",
    "edgegen.ar.phonemes": "str[]",
    "edgegen.ar.pad_id": "u32",
    "edgegen.ar.bos_id": "u32",
    "edgegen.ar.eos_id": "u32",
    "edgegen.ar.length_scale": "f32",
    "edgegen.ar.draft_for": "str",
}

DTYPES = ("f32", "f16", "q8_0", "q4_0")
MAX_NAME_BYTES = 255


# ---- quantisers (ggml reference layouts) ------------------------------------------------------------------
def _roundf(x):
    """C roundf: halves away from zero, in float32."""
    return (np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))).astype(np.float32)


def quantize_q8_0(x):
    """x: float32 [..., n] with n % 32 == 0 -> uint8 [..., n/32*34]; block = f16 d, int8 qs[32].
    ggml quantize_row_q8_0_ref: d = max|x| / 127, q = roundf(x * (1/d)) (id = 0 when d == 0)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK:
        raise ValueError(f"q8_0 needs the last dimension divisible by {QK}, got {x.shape}")
    b = x.reshape(-1, QK)
    d = (np.abs(b).max(axis=1, keepdims=True) / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    q = _roundf(b * idv).astype(np.int8)
    out = np.concatenate([d.astype(np.float16).view(np.uint8), q.view(np.uint8)], axis=1)
    return out.reshape(*x.shape[:-1], x.shape[-1] // QK * 34)


def quantize_q4_0(x):
    """x: float32 [..., n] with n % 32 == 0 -> uint8 [..., n/32*18]; block = f16 d, uint8 qs[16] with element j
    in the low nibble of qs[j] and element j+16 in the high nibble. ggml quantize_row_q4_0_ref: max = the signed
    value of largest magnitude (first one), d = max / -8, q = min(15, (int)(x * (1/d) + 8.5))."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK:
        raise ValueError(f"q4_0 needs the last dimension divisible by {QK}, got {x.shape}")
    b = x.reshape(-1, QK)
    imax = np.abs(b).argmax(axis=1)[:, None]
    mx = np.take_along_axis(b, imax, axis=1)
    d = (mx / np.float32(-8)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    q = np.minimum(np.trunc(b * idv + np.float32(8.5)), np.float32(15)).astype(np.uint8)
    qs = q[:, :QK // 2] | (q[:, QK // 2:] << np.uint8(4))
    out = np.concatenate([d.astype(np.float16).view(np.uint8), qs], axis=1)
    return out.reshape(*x.shape[:-1], x.shape[-1] // QK * 18)


def dequantize(raw, dtype, shape):
    """Inverse of the above (for tests): raw bytes/array -> float32 array of `shape`."""
    raw = np.ascontiguousarray(raw).view(np.uint8).reshape(-1)
    if dtype == "f32":
        return raw.view(np.float32).reshape(shape).copy()
    if dtype == "f16":
        return raw.view(np.float16).astype(np.float32).reshape(shape)
    bb = 34 if dtype == "q8_0" else 18
    blk = raw.reshape(-1, bb)
    d = blk[:, :2].copy().view(np.float16).astype(np.float32)
    if dtype == "q8_0":
        q = blk[:, 2:].view(np.int8).astype(np.float32)
    else:
        qs = blk[:, 2:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) - 8
    return (d * q).reshape(shape)


# ---- the writer -------------------------------------------------------------------------------------------
class Exporter:
    """GGUF writer with our conventions; use as a context manager (or call close())."""

    def __init__(self, path, arch, name, alignment=ALIGNMENT):
        if gguf is None:
            raise ImportError("the `gguf` package is missing: run ports/setup-debian.sh (pip install gguf)")
        if not re.fullmatch(r"[a-z0-9_.]+", arch):
            raise ValueError(f"architecture {arch!r}: lower-case letters, digits, '_' and '.' only")
        self.path = os.fspath(path)
        d = os.path.dirname(os.path.abspath(self.path))
        fd, self.tmp_path = tempfile.mkstemp(prefix=".gguf-export-", suffix=".tmp", dir=d)
        os.close(fd)
        self.w = gguf.GGUFWriter(self.tmp_path, arch)   # writes general.architecture itself
        self.w.add_custom_alignment(alignment)
        self.w.add_key_value("general.name", name, gguf.GGUFValueType.STRING)
        self.keys = {"general.architecture", "general.alignment", "general.name"}
        self.tensors = {}
        self.closed = False

    # metadata
    def _key(self, key, typ):
        if key in self.keys:
            raise ValueError(f"key {key!r} written twice")
        if key.startswith("edgegen."):
            if key not in KEYS:
                raise ValueError(f"key {key!r} is not in gguf_export.KEYS / models/GGUF_KEYS.md: document it first")
            if KEYS[key] != typ:
                raise TypeError(f"key {key!r} is {KEYS[key]}, not {typ}")
        self.keys.add(key)

    def add_u32(self, key, v):
        v = int(v)
        if not 0 <= v < 2**32:
            raise ValueError(f"{key}: {v} does not fit u32")
        self._key(key, "u32")
        self.w.add_uint32(key, v)

    def add_f32(self, key, v):
        self._key(key, "f32")
        self.w.add_float32(key, float(v))

    def add_bool(self, key, v):
        self._key(key, "bool")
        self.w.add_bool(key, bool(v))

    def add_str(self, key, v):
        self._key(key, "str")
        self.w.add_key_value(key, str(v), gguf.GGUFValueType.STRING)

    def add_arr_u32(self, key, values):
        values = [int(v) for v in values]
        if not values or not all(0 <= v < 2**32 for v in values):
            raise ValueError(f"{key}: expected a non-empty list of u32 values")
        self._key(key, "u32[]")
        self.w.add_key_value(key, values, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT32)

    def add_arr_f32(self, key, values):
        values = [float(v) for v in values]
        if not values:
            raise ValueError(f"{key}: empty array")
        self._key(key, "f32[]")
        self.w.add_key_value(key, values, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)

    def add_arr_str(self, key, values):
        values = [str(v) for v in values]
        if not values:
            raise ValueError(f"{key}: empty array")
        self._key(key, "str[]")
        self.w.add_key_value(key, values, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.STRING)

    def add_raw(self, key, value, vtype, sub_type=None):
        """Any GGUF type, for tests and non-edgegen keys (edgegen.* keys must use the typed adders)."""
        if key.startswith("edgegen."):
            raise ValueError("edgegen.* keys go through the typed add_* methods")
        if key in self.keys:
            raise ValueError(f"key {key!r} written twice")
        self.keys.add(key)
        self.w.add_key_value(key, value, vtype, sub_type=sub_type)

    # tensors
    def add_tensor(self, name, array, dtype):
        """array: numpy (or torch, converted) of any shape, 1..4 dims; dtype: f32, f16, q8_0, q4_0."""
        if hasattr(array, "detach"):
            array = array.detach().cpu().numpy()
        a = np.asarray(array)
        if dtype not in DTYPES:
            raise ValueError(f"tensor {name!r}: dtype {dtype!r} not in {DTYPES}")
        nb = len(name.encode())
        if not 0 < nb <= MAX_NAME_BYTES or "\0" in name:
            raise ValueError(f"tensor name {name!r}: 1..{MAX_NAME_BYTES} bytes, no NUL")
        if name in self.tensors:
            raise ValueError(f"tensor {name!r} written twice")
        if not 1 <= a.ndim <= 4 or 0 in a.shape:
            raise ValueError(f"tensor {name!r}: shape {a.shape}: 1..4 dims, none zero")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"tensor {name!r}: contains NaN or inf")
        a = np.ascontiguousarray(a, dtype=np.float32)
        if dtype == "f32":
            self.w.add_tensor(name, a)
        elif dtype == "f16":
            self.w.add_tensor(name, a.astype(np.float16))
        else:
            q = quantize_q8_0(a) if dtype == "q8_0" else quantize_q4_0(a)
            qt = gguf.GGMLQuantizationType.Q8_0 if dtype == "q8_0" else gguf.GGMLQuantizationType.Q4_0
            self.w.add_tensor(name, q, raw_dtype=qt)   # byte shape → element shape inside
        self.tensors[name] = (dtype, a.shape)

    # output
    def close(self):
        if self.closed:
            return
        try:
            self.w.write_header_to_file()
            self.w.write_kv_data_to_file()
            self.w.write_tensors_to_file()
            self.w.close()
            with open(self.tmp_path, "rb+") as f:
                os.fsync(f.fileno())
            umask = os.umask(0)   # mkstemp made it 0600; give the model the usual 0666 & ~umask
            os.umask(umask)
            os.chmod(self.tmp_path, 0o666 & ~umask)
            os.replace(self.tmp_path, self.path)
        except BaseException:
            self.abort()
            raise
        self.closed = True

    def abort(self):
        self.closed = True
        try:
            self.w.close()
        except Exception:
            pass
        if os.path.exists(self.tmp_path):
            os.unlink(self.tmp_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


# ---- self-test ------------------------------------------------------------------------------------------------
def reread_tensors(path, ref):
    """Re-read `path` with the `gguf` package and compare every tensor (dequantised) with ref {name: float array
    in PyTorch order}: same names, same shapes (GGUF dims innermost first). -> (the gguf.GGUFReader,
    {name: max |error| / max |ref|})."""
    import gguf
    r = gguf.GGUFReader(str(path))
    err = {}
    for t in r.tensors:
        a = ref[t.name]
        assert tuple(int(x) for x in t.shape) == a.shape[::-1], (t.name, t.shape, a.shape)
        if t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            x = np.asarray(t.data, dtype=np.float32).reshape(a.shape)
        else:
            x = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(a.shape)
        err[t.name] = float(np.max(np.abs(x - a)) / (np.max(np.abs(a)) + 1e-12))
    assert set(err) == set(ref), set(ref) ^ set(err)
    return r, err


def _self_test():
    n_pass = n_fail = n_skip = 0

    def check(name, cond, msg=""):
        nonlocal n_pass, n_fail
        if cond:
            n_pass += 1
            print(f"ok   {name}")
        else:
            n_fail += 1
            print(f"FAIL {name} {msg}")

    if gguf is None:
        print("SKIP gguf package missing")
        print("0 passed, 0 failed, 1 skipped")
        return 0
    import gguf.quants as gq
    rng = np.random.default_rng(1234)
    cases = [rng.standard_normal((7, 64)).astype(np.float32) * 3,
             np.zeros((2, 32), np.float32),
             np.tile(np.float32([1.5, -1.5, 0.25, -0.25]), (3, 16)),
             (rng.standard_normal((4, 96)) * 1e-3).astype(np.float32),
             np.linspace(-8, 8, 256, dtype=np.float32).reshape(2, 128)]
    # exact ties: x*id lands on .5 for q8_0 (roundf halves away from zero)
    t = np.zeros((1, 32), np.float32); t[0, 0] = 127; t[0, 1] = 0.5; t[0, 2] = -0.5; t[0, 3] = 2.5
    cases.append(t)
    for i, c in enumerate(cases):
        ours8, ref8 = quantize_q8_0(c), gq.quantize(c, gguf.GGMLQuantizationType.Q8_0)
        check(f"q8_0 bit-exact vs gguf.quants case {i}", np.array_equal(ours8, ref8))
        ours4, ref4 = quantize_q4_0(c), gq.quantize(c, gguf.GGMLQuantizationType.Q4_0)
        check(f"q4_0 bit-exact vs gguf.quants case {i}", np.array_equal(ours4, ref4))
        for dt, q in (("q8_0", ours8), ("q4_0", ours4)):
            ref = gq.dequantize(q, gguf.GGMLQuantizationType.Q8_0 if dt == "q8_0" else gguf.GGMLQuantizationType.Q4_0)
            check(f"{dt} dequantize matches gguf.quants case {i}", np.array_equal(dequantize(q, dt, c.shape), ref))
    # documented keys
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "GGUF_KEYS.md")
    try:
        text = open(doc).read()
        missing = [k for k in KEYS if f"`{k}`" not in text]
        check("every KEYS entry documented in models/GGUF_KEYS.md", not missing, f"missing: {missing}")
    except OSError as e:
        check("models/GGUF_KEYS.md readable", False, str(e))
    # round trip through gguf.GGUFReader
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.gguf")
        x = rng.standard_normal((3, 64)).astype(np.float32)
        with Exporter(p, "edgegen.codec", "selftest") as ex:
            ex.add_u32("edgegen.codec.sample_rate", 16000)
            ex.add_arr_u32("edgegen.codec.fsq_levels", [5, 5, 5])
            ex.add_f32("edgegen.codec.mag_clamp", 100.0)
            for dt in DTYPES:
                ex.add_tensor("w." + dt, x, dt)
        r = gguf.GGUFReader(p)
        check("round trip: alignment 64", r.alignment == 64)
        check("round trip: architecture", bytes(r.fields["general.architecture"].parts[-1]).decode() == "edgegen.codec")
        check("round trip: no temp file left", os.listdir(d) == ["t.gguf"], str(os.listdir(d)))
        for t in r.tensors:
            dt = t.name.split(".")[1]
            got = dequantize(np.asarray(t.data), dt, x.shape)
            tol = {"f32": 0, "f16": 2e-3, "q8_0": 0.05, "q4_0": 0.6}[dt]
            check(f"round trip: {t.name} values (tol {tol})", float(np.max(np.abs(got - x))) <= tol,
                  f"max err {np.max(np.abs(got - x))}")
            check(f"round trip: {t.name} offset aligned", t.data_offset % 64 == 0)
        # rejected input leaves nothing behind
        try:
            with Exporter(p + "2", "edgegen.codec", "bad") as ex:
                ex.add_u32("edgegen.codec.not_a_key", 1)
            check("undocumented edgegen key rejected", False)
        except ValueError:
            check("undocumented edgegen key rejected", not os.path.exists(p + "2") and len(os.listdir(d)) == 1)
    print(f"{n_pass} passed, {n_fail} failed, {n_skip} skipped")
    return 1 if n_fail else 0


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        sys.exit(_self_test())
    print(__doc__)
