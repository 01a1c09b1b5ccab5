#!/bin/bash
# Background, resumable teacher-corpus synthesis.  Safe to re-run at any time: finished
# utterances are verified (sha256) and skipped; work is shared between processes by lock files.
#   nohup models/data/run_synth.sh > /root/.cache/edgegen-train/corpus/run_synth.out 2>&1 &
# Two synth processes (1 onnxruntime thread each) while /root/.cache/edgegen-train/TRAINING_STARTED
# does not exist; when it appears, worker 2 exits after its current utterance and worker 1 finishes.
# If the file disappears again (training finished), worker 2 is restarted at the next 2-minute check.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=/root/.cache/edgegen-venv/bin/python
OUT=/root/.cache/edgegen-train/corpus
STOP=/root/.cache/edgegen-train/TRAINING_STARTED
mkdir -p "$OUT/eval"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
cd "$HERE"
# eval (Harvard dev) first: quality gate only, never trained on
$PY synth.py --list text/eval.tsv --out "$OUT/eval"
LISTS="--list text/valid.tsv --list text/train.tsv"
$PY synth.py $LISTS --out "$OUT" --claim &
W1=$!
W2=
echo "worker 1: $W1"
while kill -0 $W1 2>/dev/null; do
  if [ ! -e "$STOP" ] && { [ -z "$W2" ] || ! kill -0 "$W2" 2>/dev/null; }; then
    $PY synth.py $LISTS --out "$OUT" --claim --stop-file "$STOP" &
    W2=$!
    echo "worker 2: $W2 ($(date))"
  fi
  $PY progress.py "$OUT" > /dev/null 2>&1
  sleep 120 & wait $!
done
wait
# final single-process pass: verifies everything and picks up leftovers (failures, lists appended meanwhile)
$PY synth.py $LISTS --out "$OUT" --claim
$PY progress.py "$OUT"
echo "run_synth finished $(date)"
