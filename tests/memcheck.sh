#!/bin/sh
# tests/memcheck.sh — the memory plan against the measured peak RSS, for every model that exists here.
#
# For each model and 1 and 2 threads, run the real thing at the limits the plan is sized for and compare the
# plan's total (runtime/pipeline/memplan_archs.c eg_memplan_for_model, runtime/core/memplan.c eg_memplan_add_process + the model's own breakdown) with
# the process's peak RSS (getrusage ru_maxrss):
#   edgegen.codec and edgegen.voice (the voice v2 decoders: harmonic source, white-noise branch)
#                  `edgegen decode -v --device cpu -t T` on 1500 random tokens (30 s of audio at 50 frames/s,
#                  more than the 256-frame window the plan is sized for), which prints
#                  "memory: estimated X MiB, peak RSS Y MiB";
#   edgegen.ar     `bench_ar MODEL -t T -p 512 -n 8 --mem` (there is no AR-only CLI): 512 phoneme ids per
#                  encode (eg_memplan_default_params' max_phonemes) and a full attention window of steps.
# Models: the golden tiny decoders and AR models (tests/golden), the trained codecs and AR models (models/), and the
# full-size random-weight decoders and AR models of `make bench-decoder` / `make bench-ar` when they exist
# (missing ones are skipped, not passed). A row passes when |estimate / measured - 1| <= 0.10, or when the
# estimate is above the measurement by at most 1.5 MiB (untouched per-worker scratch of the tiny models). The OpenCL
# runtime is not in the plan, hence --device cpu. Only the 1-thread rows are counted: with 2 threads, whether a
# worker's scratch becomes resident depends on which thread ran which block (timing), so those rows are printed
# for reading, marked "not counted", and never pass the suite (a missing memory line still fails it). Prints the
# table and "N passed, N failed, N skipped" (one test per model: its 1-thread row).
# Usage (repository root): sh tests/memcheck.sh [BUILD_DIR]
set -u
BUILD=${1:-${BUILD:-build}}
EG="$BUILD/edgegen"
BENCH_AR="$BUILD/bench_ar"
P=0; F=0; S=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eg_memcheck.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

[ -x "$EG" ] || { echo "FAIL $EG not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
make -s BUILD="$BUILD" "$BENCH_AR" >/dev/null 2>&1 || true

# 1500 tokens in [0, 4375) (every codec here has fsq_levels 7,5,5,5,5), deterministic,
# as TOKEN:PHONEME pairs (ids in runs of 3 frames, < 12 so every conditioned golden/trained codec takes them; a plain
# codec ignores the suffix)
awk 'BEGIN { s = 12345; for (i = 0; i < 1500; i++) { s = (s * 1103515245 + 12345) % 2147483648; printf "%d:%d ", int(s / 65536) % 4375, int(i / 3) % 12 } print "" }' >"$tmp/tokens.txt"

printf '%-28s %3s %12s %12s %7s\n' "model" "thr" "estimate" "peak RSS" "ratio"
# row NAME THREADS "memory: estimated X MiB, peak RSS Y MiB" line
row() {
    est=$(echo "$3" | sed -nE 's/.*memory: estimated ([0-9.]+) MiB, peak RSS ([0-9.]+) MiB.*/\1/p')
    meas=$(echo "$3" | sed -nE 's/.*memory: estimated ([0-9.]+) MiB, peak RSS ([0-9.]+) MiB.*/\2/p')
    if [ -z "$est" ] || [ -z "$meas" ]; then
        F=$((F + 1)); printf '%-28s %3s %s\n' "$1" "$2" "FAIL: no memory line"; return
    fi
    # within 10 %, or an over-estimate of at most 1.5 MiB: a worker's scratch that the plan counts is resident only
    # if that worker ran a block, which for the tiny models (all work below the pool's inline threshold) depends on
    # timing (seen: ar_tiny_f32 at 2 threads 5.65 MiB planned vs 4.57 or 5.69 measured in two runs)
    verdict=$(awk -v e="$est" -v m="$meas" 'BEGIN { r = e / m; d = r - 1; if (d < 0) d = -d;
        printf "%.3f %s", r, (d <= 0.10 || (e >= m && e - m <= 1.5) ? "ok" : "FAIL") }')
    if [ "$2" != 1 ]; then   # timing-dependent: printed, not counted
        printf '%-28s %3s %8s MiB %8s MiB %s (not counted: timing-dependent)\n' "$1" "$2" "$est" "$meas" "$verdict"
        return
    fi
    printf '%-28s %3s %8s MiB %8s MiB %s\n' "$1" "$2" "$est" "$meas" "$verdict"
    case $verdict in *ok) P=$((P + 1)) ;; *) F=$((F + 1)) ;; esac
}

for m in tests/golden/decoder_tiny_f32.gguf tests/golden/decoder_tiny_f16.gguf tests/golden/decoder_tiny_q8_0.gguf \
         models/codec/pico-codec-f32.gguf models/codec/pico-codec-f16.gguf models/codec/pico-codec-q8_0.gguf \
         tests/golden/voice_tiny_hn_f32.gguf tests/golden/voice_tiny_nz_q8_0.gguf \
         models/voice/pico-voice-f16.gguf models/voice/pico-voice-q8_0.gguf \
         "$BUILD/bench_codec_full_f32.gguf" "$BUILD/bench_codec_full_q8_0.gguf"; do
    name=$(basename "$m")
    if [ ! -f "$m" ]; then S=$((S + 1)); echo "SKIP $name: absent (make bench-decoder generates the full-size ones)"; continue; fi
    for t in 1 2; do
        row "$name" "$t" "$("$EG" decode -v --device cpu -t "$t" -m "$m" "$tmp/tokens.txt" -o "$tmp/out.wav" 2>&1 | grep '^memory:')"
    done
done

for m in tests/golden/ar_tiny_f32.gguf tests/golden/ar_tiny_f16.gguf tests/golden/ar_tiny_q8_0.gguf \
         models/ar/pico-ar-f32.gguf models/ar/pico-ar-f16.gguf models/ar/pico-ar-q8_0.gguf \
         "$BUILD/ar-bench/pico-ar-rand-f32.gguf" "$BUILD/ar-bench/pico-ar-rand-q8_0.gguf"; do
    name=$(basename "$m")
    if [ ! -f "$m" ]; then S=$((S + 1)); echo "SKIP $name: absent (make bench-ar generates it)"; continue; fi
    if [ ! -x "$BENCH_AR" ]; then S=$((S + 1)); echo "SKIP $name: $BENCH_AR not built"; continue; fi
    for t in 1 2; do
        row "$name" "$t" "$("$BENCH_AR" "$m" -t "$t" -p 512 -n 8 --mem 2>&1 | grep '^memory:')"
    done
done

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
