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
rm -f "$LOG_DIR"/*.log   # this run's logs only: a suite renamed or dropped leaves no stale log behind

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

# skip_suite NAME WHY [N] : a whole suite of N tests (default 1) that cannot run on this machine: N skipped
skip_suite() { echo "== $1: skipped ($(( ${3:-1} )) tests): $2"; TOTAL_S=$((TOTAL_S + ${3:-1})); }
# n_tests FILTER... : how many tests the native runner holds for these test_runner arguments
n_tests() { "$BUILD/test_runner" --list "$@" 2>/dev/null | grep -c .; }

# What each configuration counts. Every test is counted once, in the run that covers it; a run under another
# configuration counts only the tests that exercise what that configuration changes:
#   native                    everything: text, detection, dispatch, pool, GGUF, every kernel test on every table
#                             this CPU can run (EDGEGEN_ISA unset), and the models on the automatic table;
#   native EDGEGEN_ISA=NAME   the model and pipeline tests that compute through the kernel table (MODEL_TESTS),
#                             now on NAME; the kernels of NAME were tested in "native" already;
#   qemu CPU runs             see the ARM section below.
MODEL_TESTS="decoder_ voice_ ar_ tts_ -x trained -x istft -x _bad_ -x rejects -x _load -x _params -x sampler -x length_scale_key"

# ---- native: every table this CPU supports, chosen automatically and forced ---------------------------------
suite "native" "$BUILD/test_runner"
# shellcheck disable=SC2086
suite "native EDGEGEN_ISA=ref" env EDGEGEN_ISA=ref "$BUILD/test_runner" $MODEL_TESTS
# a forced lower table runs the model tests through it; a CPU without it is a skip of those tests
for isa in avx2; do
    if EDGEGEN_ISA=$isa "$BUILD/edgegen" info >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        suite "native EDGEGEN_ISA=$isa" env EDGEGEN_ISA=$isa "$BUILD/test_runner" $MODEL_TESTS
    else
        # shellcheck disable=SC2086
        skip_suite "native EDGEGEN_ISA=$isa" "this CPU/build cannot run the $isa table" "$(n_tests $MODEL_TESTS)"
    fi
done
if command -v python3 >/dev/null 2>&1; then suite "layers" python3 tests/check_layers.py
else skip_suite "layers" "python3 is missing (ports/setup-debian.sh)" 6; fi
suite "cli info" sh tests/test_cli_info.sh "$BUILD/edgegen"
suite "cli decode" sh tests/test_cli_decode.sh "$BUILD/edgegen"
suite "cli tts" sh tests/test_cli_tts.sh "$BUILD/edgegen"
suite "cli text" sh tests/test_cli_text.sh "$BUILD/edgegen"   # phonemize, SSML, lexicon, timings, no sound server
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

# ---- edgegen serve: the real clients (openai, wyoming, curl) against the server, a 10,000-request soak with RSS
# flat, and a bounded fuzz run of the Wyoming framing. The clients live in the venv of tests/serve/setup_venv.sh
# (ports/setup-debian.sh creates it; a missing venv fails here, it is not a skip).
if "$BUILD/edgegen" serve --help >/dev/null 2>&1; then
    if serve_py=$(sh tests/serve/setup_venv.sh 2>"$LOG_DIR/serve_venv.log"); then
        suite "serve (openai, wyoming, curl)" "$serve_py" tests/serve/test_serve.py --edgegen "$BUILD/edgegen"
        suite "serve soak 10000 requests" "$serve_py" tests/serve/soak.py --edgegen "$BUILD/edgegen" --requests 10000
        # the same client tests against an ASan+UBSan server: a memory error crashes it, a leak makes its exit non-zero
        suite "serve, asan+ubsan server" sh -c 'make -s SAN=1 -j2 build-san/edgegen >/dev/null && \
            ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 \
            "$0" tests/serve/test_serve.py --edgegen build-san/edgegen' "$serve_py"
    else
        echo "== serve: tests/serve/setup_venv.sh failed: $(tail -n 1 "$LOG_DIR/serve_venv.log"): counted as 1 failed"
        TOTAL_F=$((TOTAL_F + 1))
    fi
    suite "fuzz wyoming ${EG_FUZZ_SECONDS:-20}s" sh tests/serve/fuzz_smoke.sh "${EG_FUZZ_SECONDS:-20}"
else
    n=$(grep -c '^    ("' tests/serve/test_serve.py)   # its tests (+2 exit checks), twice (asan), the soak's 4, fuzz 1
    skip_suite "serve" "edgegen serve is not in this build (libmicrohttpd-dev / libcjson-dev missing when it was built)" \
        $(( 2 * (n + 2) + 4 + 1 ))
fi

# ---- opencl: kernels vs the reference, decoder stage vs CPU, fault injection, cache (tests/test_opencl.c) ---
# Without an ICD loader / platform / device the whole suite is skipped, never passed.
cl_probe=$("$BUILD/test_opencl" opencl_list_devices 2>&1)
if echo "$cl_probe" | grep -q '^ok   opencl_list_devices'; then
    suite "opencl" "$BUILD/test_opencl"
else
    skip_suite "opencl" "$(echo "$cl_probe" | sed -n 's/^SKIP opencl_list_devices: //p' | head -n 1)" \
        "$("$BUILD/test_opencl" --list 2>/dev/null | grep -c .)"
fi

# ---- guard: no optional-ISA instructions in baseline objects (tests/run_qemu.sh guard) -----------------------
suite "native isa guard" env BUILD="$BUILD" sh tests/run_qemu.sh guard

# ---- ARM cross builds under qemu-user: Cortex-A53/A72 have no dotprod and must get plain NEON (and refuse
# EDGEGEN_ISA=neon-dotprod), Cortex-A76 (Pi 5) must get neon-dotprod; Cortex-A8 has NEON but no VFPv4 and must
# get the reference. EG_TEST_CROSS=0 skips this section (about 2-3 minutes on 2 cores). --
# Per port, the first CPU runs the whole runner; the others count only what differs on them: the A72 picks the
# same neon table as the A53, so only detection and dispatch (cpu_, dispatch_) run again; the A76 adds the
# neon-dotprod kernels and the models through them; a forced EDGEGEN_ISA=ref runs the models (MODEL_TESTS).
# A port that cannot run here counts its tests as skipped (numbers from the native runner's list with the same
# filters, plus one per build/guard/pick suite).
DETECT_TESTS="cpu_ dispatch_"
# Speculative decoding (spec_) runs the full-size shipped model thousands of times (minutes under qemu): its logic is
# the same on every table, and what it relies on per table (eg_ar_step_batch rows bit-identical to single steps,
# rollback) is covered by the ar_ tests that do run under qemu. It runs natively and under asan.
QEMU_SKIP="-x spec_"
cross_start=$(date +%s)
for port in aarch64 armhf; do
    why=""
    if [ "${EG_TEST_CROSS:-1}" = 0 ]; then why="EG_TEST_CROSS=0"; else why=$(sh tests/run_qemu.sh missing "$port"); fi
    if [ -n "$why" ]; then
        # shellcheck disable=SC2086
        if [ "$port" = aarch64 ]; then n=$(( $(n_tests $QEMU_SKIP) + $(n_tests $DETECT_TESTS) + $(n_tests $DETECT_TESTS neon_dotprod $MODEL_TESTS) + $(n_tests $MODEL_TESTS) + 4 ))
        else n=$(( $(n_tests $QEMU_SKIP) + $(n_tests $MODEL_TESTS) + 4 )); fi
        skip_suite "$port" "$why" "$n"; continue
    fi
    suite "$port build" sh tests/run_qemu.sh build "$port"
    suite "$port isa guard" sh tests/run_qemu.sh guard "$port"
    # shellcheck disable=SC2086
    if [ "$port" = aarch64 ]; then
        suite "aarch64 cortex-a53 pick" sh tests/run_qemu.sh pick aarch64 cortex-a53 neon
        suite "aarch64 cortex-a53" sh tests/run_qemu.sh run aarch64 cortex-a53 -- $QEMU_SKIP
        suite "aarch64 cortex-a72 (detection)" sh tests/run_qemu.sh run aarch64 cortex-a72 -- $DETECT_TESTS
        suite "aarch64 cortex-a76 pick" sh tests/run_qemu.sh pick aarch64 cortex-a76 neon-dotprod
        suite "aarch64 cortex-a76 (detection, neon-dotprod, models)" sh tests/run_qemu.sh run aarch64 cortex-a76 -- \
            $DETECT_TESTS neon_dotprod $MODEL_TESTS
        suite "aarch64 cortex-a53 EDGEGEN_ISA=ref (models)" sh tests/run_qemu.sh run aarch64 cortex-a53 EDGEGEN_ISA=ref -- \
            $MODEL_TESTS
        suite "aarch64 cortex-a53 tts vs native" env BUILD="$BUILD" sh tests/run_qemu.sh tts aarch64 cortex-a53
    else
        suite "armhf cortex-a7 pick" sh tests/run_qemu.sh pick armhf cortex-a7 neon
        suite "armhf cortex-a8 pick" sh tests/run_qemu.sh pick armhf cortex-a8 ref
        suite "armhf cortex-a7" sh tests/run_qemu.sh run armhf cortex-a7 -- $QEMU_SKIP
        suite "armhf cortex-a7 EDGEGEN_ISA=ref (models)" sh tests/run_qemu.sh run armhf cortex-a7 EDGEGEN_ISA=ref -- $MODEL_TESTS
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
