#!/bin/bash
# Background, resumable teacher-corpus synthesis.  Safe to re-run at any time: finished
# utterances are verified (sha256) and skipped; work is shared between processes by lock files.
#   setsid nohup models/data/run_synth.sh > ~/.cache/edgegen-train/corpus/run_synth.out 2>&1 &
#   SR=22050 setsid nohup models/data/run_synth.sh > ~/.cache/edgegen-train/corpus22k/run_synth.out 2>&1 &
# SR=16000 (default): the 16 kHz corpus in $STATE/corpus (resampled; the whole text lists).
# SR=22050: the native-rate corpus in $STATE/corpus22k; every utterance is checked against the repo's manifests
#   and tokens (--check-manifest); only utterances that have tokens are synthesised.
# Two synth processes (1 onnxruntime thread each) while $STATE/TRAINING_STARTED does not exist; when it
# appears, worker 2 exits after its current utterance and worker 1 finishes. If the file disappears again,
# worker 2 is restarted at the next 2-minute check.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=${EDGEGEN_PY:-$HOME/.cache/edgegen-venv/bin/python}
STATE=${EDGEGEN_TRAIN_STATE:-$HOME/.cache/edgegen-train}
SR=${SR:-16000}
case $SR in
16000) OUT=$STATE/corpus; EXTRA="" ;;
22050) OUT=$STATE/corpus22k; EXTRA="--sr 22050 --check-manifest manifest" ;;
*) echo "run_synth.sh: SR must be 16000 or 22050, found $SR" >&2; exit 2 ;;
esac
STOP=$STATE/TRAINING_STARTED
mkdir -p "$OUT/eval"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
cd "$HERE"
# eval (Harvard dev) first: quality gate only, never trained on
$PY synth.py $EXTRA --list text/eval.tsv --out "$OUT/eval" --claim &
E1=$!
$PY synth.py $EXTRA --list text/eval.tsv --out "$OUT/eval" --claim
wait $E1
LISTS="--list text/valid.tsv --list text/train.tsv"
$PY synth.py $EXTRA $LISTS --out "$OUT" --claim &
W1=$!
W2=
echo "worker 1: $W1"
while kill -0 $W1 2>/dev/null; do
  if [ ! -e "$STOP" ] && { [ -z "$W2" ] || ! kill -0 "$W2" 2>/dev/null; }; then
    $PY synth.py $EXTRA $LISTS --out "$OUT" --claim --stop-file "$STOP" &
    W2=$!
    echo "worker 2: $W2 ($(date))"
  fi
  $PY progress.py "$OUT" > /dev/null 2>&1
  sleep 120 & wait $!
done
wait
# final single-process pass: verifies everything and picks up leftovers (failures, lists appended meanwhile)
$PY synth.py $EXTRA $LISTS --out "$OUT" --claim
$PY progress.py "$OUT"
echo "run_synth finished $(date)"
