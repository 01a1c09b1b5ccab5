#!/bin/sh
# tests/test_cli_limits.sh — the memory plan refuses cleanly under a memory limit. `edgegen inspect` on a model
# whose weights (256 MiB, a sparse hole on disk) exceed RLIMIT_AS (prlimit --as, or ulimit -v) must print one
# line "edgegen: error: not enough memory: needs ... available (RLIMIT_AS)" and exit 1 without a crash; with a
# larger limit the same file is inspected and fits. `edgegen decode` is refused the same way before it allocates
# (and leaves no output file) when its decoder window does not fit. Uses the non-sanitizer build (ASan cannot run under
# RLIMIT_AS). Prints the harness summary line. Usage: sh tests/test_cli_limits.sh [BUILD_DIR]
set -u
BUILD=${1:-${BUILD:-build}}
EG="$BUILD/edgegen"
P=0; F=0; S=0
ok()   { P=$((P + 1)); echo "ok   $1"; }
fail() { F=$((F + 1)); echo "FAIL $1"; }
skip() { S=$((S + 1)); echo "SKIP $1"; }

if [ ! -x "$EG" ]; then echo "FAIL $EG not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eg_limits.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
big="$tmp/big.gguf"
cp tests/golden/gguf_big_header.gguf "$big" && truncate -s +268435456 "$big" || { echo "FAIL cannot make $big"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# run CMD... with a LIMIT_MIB (default 160) MiB address-space limit; prlimit when present, else ulimit -v
limited() {
    lim=${LIMIT_MIB:-160}
    if command -v prlimit >/dev/null 2>&1; then prlimit --as=$((lim * 1048576)) "$@"
    else (ulimit -v $((lim * 1024)) && "$@"); fi
}

# 1. refused: weights alone exceed the limit (preflight before mapping)
limited "$EG" inspect "$big" >"$tmp/out" 2>"$tmp/err"; rc=$?
n_lines=$(wc -l <"$tmp/err")
if [ "$rc" -eq 1 ]; then ok "over the limit: exit 1"; else fail "over the limit: exit $rc (expected 1)"; fi
if [ "$n_lines" -eq 1 ] && grep -q '^edgegen: error: not enough memory: needs 256.0 MiB (weights 256.0 MiB mapped), .* available (RLIMIT_AS)$' "$tmp/err"; then
    ok "one line naming the limit: $(cat "$tmp/err")"
else
    fail "refusal message ($n_lines lines): $(cat "$tmp/err")"
fi
if [ "$rc" -lt 128 ]; then ok "no crash"; else fail "killed by signal $((rc - 128))"; fi

# 2. the same with the read() fallback: the weights would be heap, still refused before reading
limited "$EG" inspect --no-mmap "$big" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" -eq 1 ] && grep -q 'not enough memory: .*weights 256.0 MiB), .*(RLIMIT_AS)' "$tmp/err"; then
    ok "--no-mmap refused before reading"
else
    fail "--no-mmap: exit $rc: $(cat "$tmp/err")"
fi

# 3. a limit that fits: inspected, plan printed with the limit, exit 0
if command -v prlimit >/dev/null 2>&1; then
    prlimit --as=1073741824 "$EG" inspect --no-tensors "$big" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'available .*(RLIMIT_AS)' "$tmp/out" && grep -q 'measured peak RSS' "$tmp/out"; then
        ok "under the limit: plan fits"
    else
        fail "under the limit: exit $rc: $(cat "$tmp/err") $(tail -n 5 "$tmp/out")"
    fi
else
    skip "under the limit: prlimit missing"
fi

# 4. bad file: one error line, exit 1
printf 'GGUF\003\000\000\000' >"$tmp/short.gguf"
"$EG" inspect "$tmp/short.gguf" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "short.gguf: truncated" "$tmp/err"; then
    ok "truncated file: one line, exit 1"
else
    fail "truncated file: exit $rc: $(cat "$tmp/err")"
fi
"$EG" inspect --bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" -eq 2 ]; then ok "usage error: exit 2"; else fail "usage error: exit $rc"; fi
"$EG" inspect --help >"$tmp/out" 2>&1; rc=$?
if [ "$rc" -eq 0 ] && grep -q -- '--no-mmap' "$tmp/out" && grep -q 'exit status' "$tmp/out"; then ok "--help"; else fail "--help: exit $rc"; fi

# 5. `edgegen decode`: the plan (weights + process + decoder arena for --chunk 65536 frames: ~113 MiB with the
# committed tiny codec) is checked before the threads, the arena and the output exist: one line naming the limit,
# exit 1, no output file (nor its temporary); the same decode with the default 256-frame window fits under the
# same 100 MiB limit
codec=tests/golden/decoder_tiny_q8_0.gguf
LIMIT_MIB=100 limited "$EG" decode --device cpu --chunk 65536 -m "$codec" tests/golden/decoder_tokens.txt -o "$tmp/dec.wav" \
    >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
   grep -q '^edgegen: error: not enough memory: needs .*decoder activations .* available (RLIMIT_AS)$' "$tmp/err"; then
    ok "decode over the limit: one line naming the limit, exit 1: $(cat "$tmp/err")"
else
    fail "decode over the limit: exit $rc: $(cat "$tmp/err")"
fi
if ls "$tmp" | grep -q '^dec\.wav'; then fail "decode over the limit left $(ls "$tmp" | grep '^dec\.wav')"; else ok "decode over the limit: no output file"; fi
LIMIT_MIB=100 limited "$EG" decode --device cpu -m "$codec" tests/golden/decoder_tokens.txt -o "$tmp/dec.wav" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" -eq 0 ] && [ -s "$tmp/dec.wav" ]; then ok "decode under the limit: written"; else fail "decode under the limit: exit $rc: $(cat "$tmp/err")"; fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
