#!/bin/sh
# tests/test_cli_info.sh — `edgegen info` end to end: exit codes, the chosen table named in the output, valid
# --json, and one clear error line for a bad EDGEGEN_ISA. Ends with the harness line "N passed, N failed, N skipped".
# Usage: sh tests/test_cli_info.sh [path/to/edgegen]   (RUNNER="qemu-aarch64 -L ..." to run a cross build)
set -u
BIN=${1:-build/edgegen}
RUN=${RUNNER:-}
P=0; F=0; S=0
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
ok()   { P=$((P + 1)); echo "ok   $1"; }
bad()  { F=$((F + 1)); echo "FAIL $1"; [ -f "$TMP/err" ] && sed 's/^/     stderr: /' "$TMP/err" | head -5; }
skip() { S=$((S + 1)); echo "SKIP $1"; }
# run [env...] -- args : runs the binary with EDGEGEN_ISA cleared unless given; stdout → $TMP/out, stderr → $TMP/err
run() { env -u EDGEGEN_ISA "$@" >"$TMP/out" 2>"$TMP/err"; }

if [ ! -x "$BIN" ]; then echo "no binary at $BIN"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi

# 1. plain info: exit 0, names the chosen table on the kernels line
if run $RUN "$BIN" info; then
    table=$(sed -n 's/^kernels: *\([a-z0-9]*\) (.*/\1/p' "$TMP/out")
    if [ -n "$table" ] && grep -q "^kernels: *$table ($table: " "$TMP/out"; then ok "info names the chosen table ($table)"
    else bad "info: no 'kernels: NAME (NAME: why)' line"; fi
    missing=""
    for field in "CPU:" "arch:" "features:" "cores:" "caches:" "memory:" "OpenCL:"; do
        grep -q "^$field" "$TMP/out" || missing="$missing '$field'"
    done
    if [ -z "$missing" ]; then ok "info prints every section"; else bad "info: missing section line(s):$missing"; fi
else
    bad "info exited non-zero"
fi

# 2. --json parses and has the fields
if run $RUN "$BIN" info --json; then
    if command -v python3 >/dev/null 2>&1; then
        if python3 -m json.tool "$TMP/out" >/dev/null 2>"$TMP/err"; then ok "info --json is valid JSON"
        else bad "info --json does not parse"; fi
        if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernels"]
assert k["table"] in k["built"], "table not among built"
assert k["why"].startswith(k["table"] + ":"), "why does not start with the table"
assert d["cpu"]["cores_online"] >= 1 and d["cpu"]["arch"]
assert d["memory"]["binding"]
' "$TMP/out" 2>"$TMP/err"; then ok "info --json fields consistent"; else bad "info --json fields"; fi
    else
        skip "info --json parse (no python3)"
    fi
else
    bad "info --json exited non-zero"
fi

# 3. EDGEGEN_ISA=bogus: non-zero, exactly one stderr line naming the variable, nothing on stdout
run EDGEGEN_ISA=bogus $RUN "$BIN" info; rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "EDGEGEN_ISA=bogus: unknown kernel table" "$TMP/err" \
   && [ ! -s "$TMP/out" ]; then ok "EDGEGEN_ISA=bogus fails with one clear line (exit $rc)"
else bad "EDGEGEN_ISA=bogus: exit $rc, expected non-zero and one line"; fi

# 4. forcing a table that is not built for this target fails clearly
built=$(run $RUN "$BIN" info && sed -n 's/.*kernel tables built: \([a-z0-9 ]*\)).*/\1/p' "$TMP/out")
missing=""
for t in avx512 avx2 neon; do case " $built " in *" $t "*) ;; *) missing=$t; break;; esac; done
if [ -n "$missing" ]; then
    run EDGEGEN_ISA=$missing $RUN "$BIN" info; rc=$?
    if [ $rc -ne 0 ] && grep -q "EDGEGEN_ISA=$missing: not built for this target" "$TMP/err"; then
        ok "EDGEGEN_ISA=$missing (not built) fails clearly"
    else bad "EDGEGEN_ISA=$missing: exit $rc"; fi
else
    skip "every table is built: no unbuilt table to force"
fi

# 5. EDGEGEN_ISA=ref and --isa ref are honoured; --isa beats the environment
if run EDGEGEN_ISA=ref $RUN "$BIN" info && grep -q "^kernels: *ref (ref: forced by EDGEGEN_ISA" "$TMP/out"; then
    ok "EDGEGEN_ISA=ref honoured"; else bad "EDGEGEN_ISA=ref"; fi
if run EDGEGEN_ISA=bogus $RUN "$BIN" info --isa ref && grep -q "^kernels: *ref (ref: forced by the isa parameter" "$TMP/out"; then
    ok "--isa ref honoured over EDGEGEN_ISA"; else bad "--isa ref"; fi

# 6. usage errors and help
run $RUN "$BIN" info --isa bogus; rc=$?
if [ $rc -eq 2 ] && grep -q "unknown kernel table" "$TMP/err"; then ok "--isa bogus is a usage error (2)"; else bad "--isa bogus: exit $rc"; fi
run $RUN "$BIN" info --frobnicate; rc=$?
if [ $rc -eq 2 ]; then ok "unknown option is a usage error (2)"; else bad "unknown option: exit $rc"; fi
if run $RUN "$BIN" info --help && grep -q -- "--json" "$TMP/out" && grep -q -- "--isa" "$TMP/out" \
   && grep -q "EDGEGEN_ISA" "$TMP/out"; then ok "info --help lists options and environment"; else bad "info --help"; fi
if run $RUN "$BIN" info --dump && grep -q "^expect-features" "$TMP/out"; then ok "info --dump"; else bad "info --dump"; fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
