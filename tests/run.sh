#!/bin/sh
# tests/run.sh — every test suite, one after another; sums their "N passed, N failed, N skipped" lines and ends
# with the total in the same form. A suite that cannot run here (no qemu, no OpenCL device) reports skipped,
# never passed. Run from the repository root (make test does).
#
# Suites add themselves below with: suite "name" command args...
# The command must print a harness line "N passed, N failed, N skipped" (tests/harness.h) as its last such line.
set -u
BUILD=${BUILD:-build}
TOTAL_P=0; TOTAL_F=0; TOTAL_S=0
LOG_DIR=${TEST_LOG_DIR:-$BUILD/test-logs}
mkdir -p "$LOG_DIR"

# suite NAME CMD... : run CMD, show its output, add its counts. A crash or a missing summary line is one failure.
suite() {
    name=$1; shift
    log="$LOG_DIR/$(echo "$name" | tr ' /=' '___').log"
    echo "== $name: $*"
    "$@" >"$log" 2>&1
    rc=$?
    grep -vE '^ok   ' "$log" | tail -n 40
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "   $name: no summary line (exit $rc): counted as 1 failed"
        TOTAL_F=$((TOTAL_F + 1)); return
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped$/\1/p'); s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   $name: exit $rc with no failed test: counted as 1 failed"; fi
    TOTAL_P=$((TOTAL_P + p)); TOTAL_F=$((TOTAL_F + f)); TOTAL_S=$((TOTAL_S + s))
}

# skip_suite NAME WHY : a whole suite that cannot run on this machine
skip_suite() { echo "== $1: skipped: $2"; TOTAL_S=$((TOTAL_S + 1)); }

# ---- native: every table this CPU supports, chosen automatically and forced ---------------------------------
suite "native" "$BUILD/test_runner"
suite "native EDGEGEN_ISA=ref" env EDGEGEN_ISA=ref "$BUILD/test_runner"

echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"
[ "$TOTAL_F" -eq 0 ]
