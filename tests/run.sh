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
# a forced lower table runs the whole suite (models included) through it; a CPU without it is a skip
for isa in avx2; do
    if EDGEGEN_ISA=$isa "$BUILD/edgegen" info >/dev/null 2>&1; then
        suite "native EDGEGEN_ISA=$isa" env EDGEGEN_ISA=$isa "$BUILD/test_runner"
    else
        skip_suite "native EDGEGEN_ISA=$isa" "this CPU/build cannot run the $isa table"
    fi
done
if command -v python3 >/dev/null 2>&1; then suite "layers" python3 tests/check_layers.py
else skip_suite "layers" "python3 is missing (ports/setup-debian.sh)"; fi
suite "cli info" sh tests/test_cli_info.sh "$BUILD/edgegen"
suite "cli decode" sh tests/test_cli_decode.sh "$BUILD/edgegen"
suite "cli tts" sh tests/test_cli_tts.sh "$BUILD/edgegen"
# make install/uninstall into temporary dirs; exported symbols = EG_API; the README example via pkg-config (~1-3 min)
suite "install + pkg-config + README example" sh tests/test_install.sh

# ---- sanitizers, the exporter's Python self-test, the memory-limit refusal of the CLI, a bounded fuzz run -----
# Every C test under ASan+UBSan with LeakSanitizer (a leak on any error path fails); OpenCL device tests are
# left out here (PoCL's JIT-compiled kernel modules leak by design) and run in the opencl suite below.
# tests/lsan.supp: third-party process-lifetime state only (libespeak-ng).
suite "all C tests, asan+ubsan" sh -c 'make -s SAN=1 -j2 build-san/test_runner >/dev/null && \
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 \
    build-san/test_runner -x device'
if /usr/bin/python3 -c 'import gguf, numpy' 2>/dev/null; then
    suite "gguf export (python)" /usr/bin/python3 models/train/gguf_export.py --self-test
else
    skip_suite "gguf export (python)" "the gguf Python package is missing (ports/setup-debian.sh)"
fi
suite "cli memory limits" sh tests/test_cli_limits.sh "$BUILD"
suite "memory estimate vs peak RSS" sh tests/memcheck.sh "$BUILD"   # ~10 s: decode / bench_ar per model, 1 and 2 threads
suite "fuzz gguf ${EG_FUZZ_SECONDS:-25}s" sh tests/fuzz/run_smoke.sh "${EG_FUZZ_SECONDS:-25}"

# ---- opencl: kernels vs the reference, decoder stage vs CPU, fault injection, cache (tests/test_opencl.c) ---
# Without an ICD loader / platform / device the whole suite is skipped, never passed.
cl_probe=$("$BUILD/test_opencl" opencl_list_devices 2>&1)
if echo "$cl_probe" | grep -q '^ok   opencl_list_devices'; then
    suite "opencl" "$BUILD/test_opencl"
else
    skip_suite "opencl" "$(echo "$cl_probe" | sed -n 's/^SKIP opencl_list_devices: //p' | head -n 1)"
fi

# ---- guard: no optional-ISA instructions in baseline objects (tests/run_qemu.sh guard) -----------------------
suite "native isa guard" env BUILD="$BUILD" sh tests/run_qemu.sh guard

# ---- ARM cross builds under qemu-user: Cortex-A53/A72 have no dotprod and must get plain NEON (and refuse
# EDGEGEN_ISA=neon-dotprod), Cortex-A76 (Pi 5) must get neon-dotprod; Cortex-A8 has NEON but no VFPv4 and must
# get the reference. EG_TEST_CROSS=0 skips this section (about 2-3 minutes on 2 cores). --
cross_start=$(date +%s)
for port in aarch64 armhf; do
    if [ "${EG_TEST_CROSS:-1}" = 0 ]; then skip_suite "$port" "EG_TEST_CROSS=0"; continue; fi
    why=$(sh tests/run_qemu.sh missing "$port")
    if [ -n "$why" ]; then skip_suite "$port" "$why"; continue; fi
    suite "$port build" sh tests/run_qemu.sh build "$port"
    suite "$port isa guard" sh tests/run_qemu.sh guard "$port"
    if [ "$port" = aarch64 ]; then
        suite "aarch64 cortex-a53 pick" sh tests/run_qemu.sh pick aarch64 cortex-a53 neon
        suite "aarch64 cortex-a53" sh tests/run_qemu.sh run aarch64 cortex-a53
        suite "aarch64 cortex-a72" sh tests/run_qemu.sh run aarch64 cortex-a72
        suite "aarch64 cortex-a76 pick" sh tests/run_qemu.sh pick aarch64 cortex-a76 neon-dotprod
        suite "aarch64 cortex-a76" sh tests/run_qemu.sh run aarch64 cortex-a76
        suite "aarch64 cortex-a53 EDGEGEN_ISA=ref" sh tests/run_qemu.sh run aarch64 cortex-a53 EDGEGEN_ISA=ref
        suite "aarch64 cortex-a53 tts vs native" env BUILD="$BUILD" sh tests/run_qemu.sh tts aarch64 cortex-a53
    else
        suite "armhf cortex-a7 pick" sh tests/run_qemu.sh pick armhf cortex-a7 neon
        suite "armhf cortex-a8 pick" sh tests/run_qemu.sh pick armhf cortex-a8 ref
        suite "armhf cortex-a7" sh tests/run_qemu.sh run armhf cortex-a7
        suite "armhf cortex-a7 EDGEGEN_ISA=ref" sh tests/run_qemu.sh run armhf cortex-a7 EDGEGEN_ISA=ref
        suite "armhf cortex-a7 tts vs native" env BUILD="$BUILD" sh tests/run_qemu.sh tts armhf cortex-a7
    fi
done
echo "   (ARM cross section: $(( $(date +%s) - cross_start )) s)"

# ---- setup from nothing: every header, library and tool the builds above read from outside the repository comes
# from a package ports/setup-debian.sh installs or reaches through Depends (tests/check_deps.py) ---------------
deps_ports=""
for port in aarch64 armhf; do [ -x "build-$port/edgegen" ] && deps_ports="$deps_ports --port $port"; done
# shellcheck disable=SC2086
suite "packages of everything the builds read" /usr/bin/python3 tests/check_deps.py $deps_ports "$BUILD"

echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"
[ "$TOTAL_F" -eq 0 ]
