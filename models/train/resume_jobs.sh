#!/bin/sh
# models/train/resume_jobs.sh — restart the long-running background jobs after a session change (processes do not
# survive it; their state does, in ~/.cache/edgegen-train). Each job resumes from its own checkpoint. Jobs already
# running are left alone. setsid detaches them from the calling shell, so they outlive it.
#   sh models/train/resume_jobs.sh            the session-4 jobs: synth22k voice-hn-a voice-nohn-a
#   JOBS="codec-a synth" sh ...               any of: codec-a codec-b-gan codec-c-dec-gan ar-small ar-a synth synth22k
#                                             dec-phone-a dec-phone-b dec-phone-c dec-phone-d (train_decoder.py)
#                                             voice-hn-a voice-nohn-a (train_voice.py: the 22.05 kHz decoders, issue 11)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${EDGEGEN_PY:-$HOME/.cache/edgegen-venv/bin/python}
STATE=${EDGEGEN_TRAIN_STATE:-$HOME/.cache/edgegen-train}
JOBS=${JOBS:-"synth22k voice-hn-a voice-nohn-a"}
[ -x "$PY" ] || { echo "no venv at $PY: run bash models/setup.sh first" >&2; exit 1; }
for job in $JOBS; do
    case $job in
    synth)
        if pgrep -f "synth.py --list" >/dev/null; then echo "synth: already running"; continue; fi
        (cd "$ROOT/models/data" && setsid nohup ./run_synth.sh > "$STATE/corpus/run_synth.out" 2>&1 < /dev/null &)
        echo "synth: started (progress: $STATE/corpus/PROGRESS)" ;;
    synth22k)
        # the native 22.05 kHz corpus (CORPUS.md, "Native-rate corpus"); run_synth.sh's processes carry --sr 22050
        if pgrep -f "synth.py --sr 22050" >/dev/null; then echo "synth22k: already running"; continue; fi
        mkdir -p "$STATE/corpus22k"
        (cd "$ROOT/models/data" && SR=22050 setsid nohup ./run_synth.sh >> "$STATE/corpus22k/run_synth.out" 2>&1 < /dev/null &)
        echo "synth22k: started (progress: $STATE/corpus22k/PROGRESS)" ;;
    codec-*)
        if pgrep -f "configs/$job.json" >/dev/null; then echo "$job: already running"; continue; fi
        mkdir -p "$STATE/codec/$job"
        (cd "$ROOT" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup "$PY" -m models.train.train_codec \
            --config "models/train/configs/$job.json" >> "$STATE/codec/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/codec/$job/stdout.log)" ;;
    dec-*)
        if pgrep -f "configs/$job.json" >/dev/null; then echo "$job: already running"; continue; fi
        mkdir -p "$STATE/codec/$job"
        (cd "$ROOT" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup "$PY" -m models.train.train_decoder \
            --config "models/train/configs/$job.json" >> "$STATE/codec/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/codec/$job/stdout.log)" ;;
    voice-*)
        if pgrep -f "configs/$job.json" >/dev/null; then echo "$job: already running"; continue; fi
        mkdir -p "$STATE/voice/$job"
        (cd "$ROOT" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup "$PY" -m models.train.train_voice \
            --config "models/train/configs/$job.json" >> "$STATE/voice/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/voice/$job/train.log)" ;;
    ar-*)
        # steps and batch as first launched (AR_RUNS.md); the cosine schedule depends on --steps, keep it
        if pgrep -f "train_ar --run $job " >/dev/null; then echo "$job: already running"; continue; fi
        case $job in ar-small) steps=8000 ;; *) steps=4600 ;; esac
        mkdir -p "$STATE/ar/$job"
        (cd "$ROOT" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid nohup "$PY" -m models.train.train_ar \
            --run "$job" --config "models/train/configs/$job.json" --steps $steps --batch-frames 2000 \
            >> "$STATE/ar/$job/stdout.log" 2>&1 < /dev/null &)
        echo "$job: started (log: $STATE/ar/$job/stdout.log)" ;;
    *) echo "unknown job $job" >&2; exit 2 ;;
    esac
done
