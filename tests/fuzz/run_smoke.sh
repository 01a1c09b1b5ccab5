#!/bin/sh
# tests/fuzz/run_smoke.sh [SECONDS] — build the GGUF libFuzzer target and run it briefly (default 25 s) over the
# committed corpus (tests/fuzz/corpus) plus a scratch corpus in build-fuzz/. Prints the harness summary line:
# passed when libFuzzer finishes without a crash, failed on a crash/leak/timeout (the input is kept in
# build-fuzz/crashes/: minimise it and commit it to tests/fuzz/regressions/), skipped without clang.
set -u
secs=${1:-25}
cc=${FUZZ_CC:-clang}
out=${FUZZ_BUILD:-build-fuzz}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP fuzz_gguf: $cc not found (ports/setup-debian.sh installs clang and libclang-rt-14-dev)"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
mkdir -p "$out"
if ! make -s fuzz-build FUZZ_CC="$cc" FUZZ_BUILD="$out" >"$out/build.log" 2>&1; then
    cat "$out/build.log"
    echo "FAIL fuzz_gguf: build failed (libFuzzer runtime missing? install libclang-rt-14-dev)"
    echo "0 passed, 1 failed, 0 skipped"; exit 1
fi
mkdir -p "$out/corpus" "$out/crashes"
"$out/fuzz_gguf" -max_total_time="$secs" -max_len=16384 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "$out/corpus" tests/fuzz/corpus >"$out/smoke.log" 2>&1
rc=$?
grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$out/smoke.log" | tail -n 3
if [ "$rc" -eq 0 ]; then
    echo "ok   fuzz_gguf ($secs s, no crash; $(sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p' "$out/smoke.log" | tail -n 1))"
    echo "1 passed, 0 failed, 0 skipped"; exit 0
fi
tail -n 40 "$out/smoke.log"
echo "FAIL fuzz_gguf: libFuzzer exit $rc; input kept in $out/crashes/"
echo "0 passed, 1 failed, 0 skipped"; exit 1
