#!/bin/sh
# tests/serve/fuzz_smoke.sh [SECONDS] — build the Wyoming framing libFuzzer target (tests/fuzz_wyoming.c) and run it
# briefly (default 20 s) over tests/fuzz/corpus_wyoming (seed events and past findings) plus a scratch corpus in
# build-fuzz/. Harness summary line: passed when libFuzzer ends without a crash, failed on a crash/leak/timeout
# (the input is kept in build-fuzz/crashes/: add it to tests/fuzz/corpus_wyoming/), skipped without clang.
set -u
secs=${1:-20}
cc=${FUZZ_CC:-clang}
out=${FUZZ_BUILD:-build-fuzz}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP fuzz_wyoming: $cc not found (ports/setup-debian.sh installs clang and libclang-rt-14-dev)"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
mkdir -p "$out/corpus-wyoming" "$out/crashes"
if ! make -s "$out/fuzz_wyoming" FUZZ_CC="$cc" FUZZ_BUILD="$out" >"$out/build-wyoming.log" 2>&1; then
    cat "$out/build-wyoming.log"
    echo "FAIL fuzz_wyoming: build failed (libFuzzer runtime or libcjson-dev missing?)"
    echo "0 passed, 1 failed, 0 skipped"; exit 1
fi
"$out/fuzz_wyoming" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "$out/corpus-wyoming" tests/fuzz/corpus_wyoming >"$out/smoke-wyoming.log" 2>&1
rc=$?
grep -E 'stat::number_of_executed_units' "$out/smoke-wyoming.log" | tail -n 1
if [ "$rc" -eq 0 ]; then
    echo "ok   fuzz_wyoming ($secs s, no crash; $(sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p' "$out/smoke-wyoming.log" | tail -n 1))"
    echo "1 passed, 0 failed, 0 skipped"; exit 0
fi
grep -E 'broken|ERROR' "$out/smoke-wyoming.log" | head -n 5
tail -n 20 "$out/smoke-wyoming.log"
echo "FAIL fuzz_wyoming: libFuzzer exit $rc; input kept in $out/crashes/"
echo "0 passed, 1 failed, 0 skipped"; exit 1
