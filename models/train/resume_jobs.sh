#!/bin/sh
# models/train/resume_jobs.sh — restart the long-running background jobs after a session change (processes do not
# survive it; their state does, in ~/.cache/edgegen-train). Each job resumes from its own checkpoint. Jobs already
# running are left alone. setsid detaches them from the calling shell, so they outlive it.
#   sh models/train/resume_jobs.sh            the decoder GAN fine-tune (one core; the AR run ar-small is done)
#   JOBS="codec-a synth" sh ...               any of: codec-a codec-b-gan codec-c-dec-gan ar-small ar-a synth
#                                             dec-phone-a dec-phone-b dec-phone-c dec-phone-d (train_decoder.py)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/root/.cache/edgegen-venv/bin/python
STATE=${EDGEGEN_TRAIN_STATE:-$HOME/.cache/edgegen-train}
JOBS=${JOBS:-"codec-c-dec-gan"}
[ -x "$PY" ] || { echo "no venv at $PY: run sh models/data/setup.sh first" >&2; exit 1; }
for job in $JOBS; do
    case $job in
    synth)
        if pgrep -f "run_synth.sh" >/dev/null; then echo "synth: already running"; continue; fi
        (cd "$ROOT/models/data" && setsid nohup ./run_synth.sh > "$STATE/corpus/run_synth.out" 2>&1 < /dev/null &)
        echo "synth: started (progress: $STATE/corpus/PROGRESS)" ;;
    codec-*)
        if pgrep -f "configs/$job.json" >/dev/null; then echo "$job: already running"; continue; fi
        mkdir -p "$STATE/codec/$job"
        (cd "$ROOT/models/train" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup "$PY" train_codec.py \
            --config "configs/$job.json" >> "$STATE/codec/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/codec/$job/stdout.log)" ;;
    dec-*)
        if pgrep -f "configs/$job.json" >/dev/null; then echo "$job: already running"; continue; fi
        mkdir -p "$STATE/codec/$job"
        (cd "$ROOT/models/train" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup /usr/bin/python3 train_decoder.py \
            --config "configs/$job.json" >> "$STATE/codec/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/codec/$job/stdout.log)" ;;
    ar-*)
        # steps and batch as first launched (AR_RUNS.md); the cosine schedule depends on --steps, keep it
        if pgrep -f "train_ar.py --run $job " >/dev/null; then echo "$job: already running"; continue; fi
        case $job in ar-small) steps=8000 ;; *) steps=4600 ;; esac
        mkdir -p "$STATE/ar/$job"
        (cd "$ROOT/models/train" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup /usr/bin/python3 train_ar.py \
            --run "$job" --config "configs/$job.json" --steps $steps --batch-frames 2000 \
            >> "$STATE/ar/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/ar/$job/stdout.log)" ;;
    *) echo "unknown job $job" >&2; exit 2 ;;
    esac
done
