#!/bin/bash
# `make eval` (issue 11, deliverable 4): the voice judged on the fixed dev split, edgegen beside the teacher and
# espeak-ng, same sentences (../shared/eval/harvard-dev.txt: 1-60 "choose", 61-120 "held-out"; models/train/RUNS.md).
#   models/eval/make_eval.sh OUTDIR [SYSTEM...]        (default systems: edgegen teacher espeak)
# SYSTEM as in voice_split.sh (edgegen, teacher, espeak, resynth:NAME=WEIGHTS); EDGEGEN_TTS overrides the edgegen
# command (e.g. another model pair). Steps, each printed as it starts (about 25 min for the three default systems
# on 2 busy cores):
#   1. voice_split.sh: Whisper tiny.en WER, DNSMOS (P.835 + P.808), DistillMOS per system and part -> summary.jsonl
#   2. voice_f0.py: F0 RMSE, gross pitch error, voicing error against the teacher corpus renders -> f0-PART.json
#   3. spectrograms.py: sentence 1 of every system side by side -> spectrograms.png
#   4. a Markdown table of all of it -> report.md (and stdout)
# The MOS predictors are judges only: never a loss, never a checkpoint search.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: make_eval.sh OUTDIR [SYSTEM...]}; shift
systems=${*:-edgegen teacher espeak}
PYV=${EDGEGEN_PY:-$HOME/.cache/edgegen-venv/bin/python}
[ -x "$PYV" ] || { echo "make_eval.sh: no Python environment at $PYV: run 'bash models/setup.sh --eval' first" >&2; exit 2; }
E=$("$ROOT/../shared/eval/voice-eval/setup.sh")
mkdir -p "$out"
: > "$out/summary.jsonl"
echo "== 1/4 judges (WER, DNSMOS, DistillMOS) on choose + held-out: $systems" >&2
"$ROOT/models/eval/voice_split.sh" "$out" $systems > /dev/null
names=""
for s in $systems; do
  case $s in resynth:*=*) s=${s#resynth:}; s=${s%%=*} ;; esac
  names="$names $s"
done
echo "== 2/4 pitch against the teacher (DTW-aligned F0 RMSE, GPE, V/UV)" >&2
for part in choose heldout; do
  case $part in choose) f=1 l=60 ;; heldout) f=61 l=120 ;; esac
  args=""
  for n in $names; do args="$args --sys $n=$out/wav-$n-$part"; done
  (cd "$ROOT" && "$PYV" -m models.eval.voice_f0 $args --first $f --last $l --json "$out/f0-$part.json") > /dev/null
done
echo "== 3/4 spectrograms (sentence 1)" >&2
specs=""
for n in $names; do specs="$specs $n=$out/wav-$n-choose/$n-choose-000.wav"; done
"$E/py/bin/python" "$ROOT/models/eval/spectrograms.py" "$out/spectrograms.png" $specs
echo "== 4/4 report" >&2
python3 - "$out" $names <<'PY' | tee "$out/report.md.tmp"
import json, sys
out, names = sys.argv[1], sys.argv[2:]
rows = {}
for line in open(f"{out}/summary.jsonl"):
    r = json.loads(line); n, part = r["name"].rsplit("-", 1); rows[(n, part)] = r
f0 = {p: json.load(open(f"{out}/f0-{p}.json"))["systems"] for p in ("choose", "heldout")}
print("| system | part | WER % | DNSMOS OVRL | DNSMOS P.808 | DistillMOS | F0 RMSE c | GPE % | fine F0 RMSE c | V/UV err % | RTF (whole process) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for n in names:
    for p in ("choose", "heldout"):
        r, g = rows[(n, p)], f0[p][n]
        print(f"| {n} | {p} | {r['wer_pct']:.2f} | {r['dnsmos_ovrl']:.3f} | {r['dnsmos_p808']:.3f} | {r['distillmos']:.3f} | "
              f"{g['f0_rmse_cents']} | {g['f0_gross_pct']} | {g['f0_fine_rmse_cents']} | {g['vuv_err_pct']} | {r['rtf_median']} |")
print(f"\nspectrograms: {out}/spectrograms.png; raw: {out}/summary.jsonl, {out}/f0-*.json")
PY
mv "$out/report.md.tmp" "$out/report.md"
