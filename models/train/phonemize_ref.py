"""Python twin of runtime/text.c: phonemise with Debian's libespeak-ng exactly as the C front end does.

Used (1) to phonemise training text so the AR model sees the runtime's phonemes, and (2) to write the golden
file tests/golden/phonemes.tsv that tests/test_text.c compares the C implementation against.
Conventions (Piper's): IPA per clause, "(lang)" flags removed, the clause terminator (last . ? ! , : ; of the
consumed text) appended, ", : ;" followed by a space, NFD, one codepoint per phoneme; sentences end at . ? !.

usage: python3 phonemize_ref.py golden OUT.tsv < sentences.txt     (text \\t sentence1 | sentence2 ...)
"""
import ctypes
import re
import sys
import unicodedata

_lib = None


def _init(voice=b"en-us"):
    global _lib
    if _lib is None:
        lib = ctypes.CDLL("libespeak-ng.so.1")
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        if lib.espeak_Initialize(0x02, 0, None, 0x8000) <= 0:   # AUDIO_OUTPUT_SYNCHRONOUS, DONT_EXIT
            raise RuntimeError("espeak-ng initialisation failed")
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        _lib = lib
    _lib.espeak_SetVoiceByName(voice)
    return _lib


def phonemize(text, voice=b"en-us"):
    """text -> list of sentences, each a list of phoneme strings (one codepoint each)."""
    lib = _init(voice)
    raw = text.encode("utf-8")
    buf = ctypes.create_string_buffer(raw)
    base = ctypes.addressof(buf)
    ptr = ctypes.c_void_p(base)
    sents, cur = [], []
    while ptr.value is not None:
        start = ptr.value - base
        ph = lib.espeak_TextToPhonemes(ctypes.byref(ptr), 1, 0x02) or b""
        end = (ptr.value - base) if ptr.value is not None else len(raw)
        span = raw[start:end].decode("utf-8", errors="ignore")
        term = ""
        for i, ch in enumerate(span):   # as runtime/text.c: dash = ';', "..." = no terminator
            if ch in ".?!,:;":
                term = ch
            if ch in "\u2014\u2013":
                term = ";"
            if ch == "." and i >= 2 and span[i - 2:i] == "..":
                term = ""
        s = re.sub(r"\([^)]*\)", "", ph.decode("utf-8")) + term
        if term in (",", ":", ";") and term:
            s += " "
        cur.extend(unicodedata.normalize("NFD", s))
        if term in (".", "?", "!") and term or ptr.value is None:
            if any(c != " " for c in cur):
                sents.append(cur)
            cur = []
    return sents


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "golden":
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            for line in sys.stdin:
                line = line.rstrip("\n")
                if line:
                    f.write(line + "\t" + " | ".join("".join(s) for s in phonemize(line)) + "\n")
    else:
        for line in sys.stdin:
            print(" | ".join("".join(s) for s in phonemize(line.rstrip("\n"))))
