#!/bin/sh
# tests/run_qemu.sh — ARM cross builds and their tests under qemu-user, one step per call, so tests/run.sh can
# count each step as a suite. Every step that runs ends with a harness line "N passed, N failed, N skipped".
#
#   tests/run_qemu.sh missing PORT          print why PORT cannot be built/run here (nothing when it can)
#   tests/run_qemu.sh build PORT            make PORT=PORT -j2 all (libedgegen.a/.so, edgegen, test_runner)
#   tests/run_qemu.sh guard [PORT]          objdump: no ISA instructions in baseline objects (PORT "" = native)
#   tests/run_qemu.sh run PORT CPU [VAR=VALUE...] [-- ARGS]
#                                           build-PORT/test_runner under qemu -cpu CPU with VAR=VALUE set
#   tests/run_qemu.sh tts PORT CPU          build-PORT/edgegen tts under qemu -cpu CPU against the native build
#                                           ($BUILD/edgegen): same phoneme ids and codec tokens (edgegen tts --debug),
#                                           audio within 90 dB SNR with each side's SIMD table, and bit-identical
#                                           with EDGEGEN_ISA=ref on both sides
#   tests/run_qemu.sh pick PORT CPU ISA     the table chosen automatically on qemu -cpu CPU is ISA
#                                           (`edgegen info`), and EDGEGEN_ISA=<each SIMD table built> is
#                                           accepted for ISA and the tables below it, refused for those above
#
# PORT is aarch64 or armhf (ports/toolchains/PORT.mk holds the compiler and the qemu command). The qemu command
# comes from the toolchain file: make -s PORT=... print-QEMU, with QEMU_CPU overridden per call.
set -u
MAKE=${MAKE:-make}
cmd=${1:-}; shift || true

mk() { $MAKE -s --no-print-directory "$@"; }
port_var() { if [ -n "${3:-}" ]; then mk PORT="$1" QEMU_CPU="$3" "print-$2"; else mk PORT="$1" "print-$2"; fi; }
summary() { echo "$1 passed, $2 failed, 0 skipped"; }
# espeak_copy PORT: a temporary directory on tmpfs holding the target's espeak-ng-data (for ESPEAK_DATA_PATH)
espeak_copy() {
    lib_=$(port_var "$1" MULTIARCH_LIB)
    [ -d "$lib_/espeak-ng-data" ] || { echo "FAIL no $lib_/espeak-ng-data (libespeak-ng-dev for $1; sh ports/setup-debian.sh)" >&2; return 1; }
    d_=$(mktemp -d "$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/eg-espeak.XXXXXX") || return 1
    cp -r "$lib_/espeak-ng-data" "$d_/" && echo "$d_"
}

case $cmd in
missing)
    port=$1
    [ -f "ports/toolchains/$port.mk" ] || { echo "no ports/toolchains/$port.mk"; exit 0; }
    cc=$(port_var "$port" CC)
    command -v "$cc" >/dev/null 2>&1 || { echo "cross compiler $cc not installed (sh ports/setup-debian.sh)"; exit 0; }
    q=$(port_var "$port" QEMU | cut -d' ' -f1)
    command -v "$q" >/dev/null 2>&1 || { echo "$q not installed (qemu-user; sh ports/setup-debian.sh)"; exit 0; }
    lib=$(port_var "$port" MULTIARCH_LIB)
    [ -e "$lib/libsleef.so" ] || { echo "no $lib/libsleef.so (libsleef-dev for $port; sh ports/setup-debian.sh)"; exit 0; }
    exit 0 ;;

build)
    port=$1
    jobs=${EG_JOBS:-2}
    start=$(date +%s)
    if $MAKE --no-print-directory PORT="$port" -j"$jobs" all; then
        b=build-$port; ok=1
        for f in $b/libedgegen.a $b/libedgegen.so $b/edgegen $b/test_runner; do
            [ -f "$f" ] || { echo "FAIL missing $f"; ok=0; }
        done
        file "$b/test_runner" 2>/dev/null | head -n 1
        echo "built $port in $(( $(date +%s) - start )) s"
        [ $ok = 1 ] && { echo "ok   build $port"; summary 1 0; exit 0; }
    fi
    echo "FAIL build $port"; summary 0 1; exit 1 ;;

guard)
    # Code that runs before CPU detection (runtime/, models/, ports/, opencl/, kernels_ref, tests) must hold no
    # instruction of an optional ISA; only simd/x86/*.o and simd/arm/*.o may. Each pattern is also checked to
    # match the port's own kernel object, so a broken pattern cannot pass silently.
    port=${1:-}
    pos_re=""
    if [ -n "$port" ]; then b=build-$port; od=$(port_var "$port" CROSS)objdump; else b=${BUILD:-build}; od=objdump; fi
    [ -d "$b" ] || { echo "FAIL no $b (build first)"; summary 0 1; exit 1; }
    triple=$(mk PORT="$port" print-TARGET_TRIPLE)
    case $triple in
    x86_64*)  re='%[yz]mm[0-9]|\{%k[0-7]\}'                                       # AVX/AVX2/AVX-512 registers
              pos=$b/simd/x86/kernels_avx2.o ;;
    aarch64*) re='\b[su]dot\b|\b(us|su)?mmla\b|\bz[0-9]+\.|\bp[0-9]+/[zm]|\bf[a-z]+\s+v[0-9]+\.[48]h\b|\bfmlal'
              pos=$b/simd/arm/kernels_dotprod.o             # dotprod/i8mm/SVE/fp16 arithmetic (ASIMD is baseline)
              pos_re='\bsdot\b' ;;                         # and the neon-dotprod object must really use SDOT
    arm*)     re='^v[a-z0-9.]*[[:space:]].*\b(q([0-9]|1[0-5])|d(1[6-9]|2[0-9]|3[01]))\b|^v(ld|st)[1-4]\.|^vfm[as]|^vcvt\.f(16|32)\.f(32|16)'
              pos=$b/simd/arm/kernels_neon.o ;;             # NEON, d16-d31, VFPv4 fma, fp16 conversion
    *)        echo "SKIP guard: no pattern for $triple"; echo "0 passed, 0 failed, 1 skipped"; exit 0 ;;
    esac
    # tests/bench_*.o are excluded: the bandwidth probes there are target("avx2")-attributed functions called
    # only after their own CPU check, and the bench binary is a developer tool, not the library.
    objs=$(find "$b" -name '*.o' ! -path "$b/simd/x86/*" ! -path "$b/simd/arm/*" ! -path "$b/tests/bench_*" | sort)
    [ -n "$objs" ] || { echo "FAIL no objects in $b"; summary 0 1; exit 1; }
    # instruction text only: drop the address column, symbol references <...> and comments (@ on ARM, # on x86)
    insns() { "$od" -d --no-show-raw-insn "$1" | sed -nE 's/^[[:space:]]*[0-9a-f]+:[[:space:]]+//p' | sed -E 's/<[^>]*>//g; s/[[:space:]](@|#|\/\/).*$//'; }
    p=0; f=0
    for o in $objs; do
        hits=$(insns "$o" | grep -E "$re" | head -n 3)
        if [ -n "$hits" ]; then echo "FAIL guard $o:"; echo "$hits" | sed 's/^/    /'; f=$((f + 1)); else p=$((p + 1)); fi
    done
    if [ ! -f "$pos" ]; then echo "FAIL guard: no $pos to check the pattern against"; f=$((f + 1))
    elif insns "$pos" | grep -qE "$re"; then p=$((p + 1))
    else echo "FAIL guard pattern matches nothing in $pos: the pattern is broken"; f=$((f + 1)); fi
    if [ -n "$pos_re" ] && [ -f "$pos" ]; then
        n=$(insns "$pos" | grep -cE "$pos_re")
        if [ "$n" -gt 0 ]; then echo "ok   $pos: $n instructions of its own ISA (sdot)"; p=$((p + 1))
        else echo "FAIL $pos has no instruction of its own ISA (sdot): ISA_CFLAGS or the kernels are wrong"; f=$((f + 1)); fi
    fi
    echo "guard $triple: $(echo "$objs" | wc -l) baseline objects checked"
    summary $p $f; [ $f -eq 0 ]; exit ;;

run)
    port=$1 cpu=$2; shift 2
    # the target's espeak-ng-data from tmpfs (the tts step below says why)
    tmp=$(espeak_copy "$port") || { summary 0 1; exit 1; }
    trap 'rm -rf "$tmp"' EXIT
    envs="-E ESPEAK_DATA_PATH=$tmp"
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs -E $1"; shift; done
    [ "${1:-}" = "--" ] && shift
    q=$(port_var "$port" QEMU "$cpu")
    start=$(date +%s)
    # shellcheck disable=SC2086
    $q $envs "build-$port/test_runner" "$@"
    rc=$?
    echo "qemu -cpu $cpu: $(( $(date +%s) - start )) s, exit $rc" >&2
    exit $rc ;;

tts)
    # Measured (2026-12-03, models/ar pico-ar-q8_0 + models/codec, seed 1 and 7): a two-sentence text gives the
    # same ids and tokens natively (avx2) and on cortex-a53 (neon) / cortex-a7 (neon), audio at 99.0-100.3 dB SNR
    # (at most 1 LSB apart); a 256-frame sentence can flip a sampled token where the tables round differently
    # (12-44 of 256 differed), so the SIMD comparison uses the short text. With EDGEGEN_ISA=ref on both sides the
    # whole pipeline is bit-identical (both texts, both seeds). The target's espeak-ng-data is read from a copy
    # on tmpfs: a 32-bit libespeak-ng under qemu-user on a 64-bit host gets EOVERFLOW from readdir() on ext4
    # (64-bit directory offsets) and cannot find its voices; a real armhf board, or tmpfs, has no such offsets.
    port=$1 cpu=$2
    b=${BUILD:-build}
    q=$(port_var "$port" QEMU "$cpu")
    p=0; f=0
    tmp=$(espeak_copy "$port") || { summary 0 1; exit 1; }
    trap 'rm -rf "$tmp"' EXIT
    for f_ in "$b/edgegen" "build-$port/edgegen"; do
        [ -x "$f_" ] || { echo "FAIL no $f_ (build first)"; summary 0 1; exit 1; }
    done
    # snr A B: "N SNR_DB MAXDIFF" of two 16-bit mono WAVs ("inf" when identical), or a message
    snr() { /usr/bin/python3 -c '
import sys, wave, array, math
def rd(p):
    w = wave.open(p); a = array.array("h"); a.frombytes(w.readframes(w.getnframes())); return a
a, b = rd(sys.argv[1]), rd(sys.argv[2])
if len(a) != len(b) or not a: print("lengths differ: %d vs %d samples" % (len(a), len(b))); sys.exit(0)
e = sum((x - y) ** 2 for x, y in zip(a, b)); s = sum(x * x for x in a)
print(len(a), "inf" if e == 0 else "%.1f" % (10 * math.log10(s / e)), max(abs(x - y) for x, y in zip(a, b)))' "$1" "$2"; }
    # one comparison: LABEL ISA(auto|ref) MIN_SNR(dB or "exact") TEXT. --device cpu on both sides: natively,
    # `auto` may place the decoder on PoCL when it times faster (seen under load: 97.8 dB instead of identical)
    cmp_tts() {
        label=$1 isa=$2 min=$3 text=$4
        if [ "$isa" = auto ]; then ne=""; qe=""; else ne="EDGEGEN_ISA=$isa"; qe="-E EDGEGEN_ISA=$isa"; fi
        env $ne "$b/edgegen" tts --device cpu --debug --seed 1 -o "$tmp/native.wav" "$text" 2>"$tmp/native.log"; rn=$?
        # shellcheck disable=SC2086
        $q -E ESPEAK_DATA_PATH="$tmp" $qe "build-$port/edgegen" tts --device cpu --debug --seed 1 -o "$tmp/$port.wav" "$text" 2>"$tmp/$port.log"; rq=$?
        if [ $rn -ne 0 ] || [ $rq -ne 0 ]; then
            echo "FAIL $label: edgegen tts exit $rn natively, $rq under qemu -cpu $cpu"
            grep -v ': debug: ' "$tmp/native.log" "$tmp/$port.log" | tail -n 4 | sed 's/^/    /'; f=$((f + 1)); return
        fi
        for what in ids tokens; do
            grep -o ": debug: sentence [0-9]* $what .*" "$tmp/native.log" > "$tmp/n.$what"
            grep -o ": debug: sentence [0-9]* $what .*" "$tmp/$port.log" > "$tmp/q.$what"
            n=$(wc -l < "$tmp/n.$what")
            if [ "$n" -eq 0 ]; then echo "FAIL $label: no $what lines in the native --debug log"; f=$((f + 1))
            elif cmp -s "$tmp/n.$what" "$tmp/q.$what"; then echo "ok   $label: $what identical ($n lines)"; p=$((p + 1))
            else echo "FAIL $label: $what differ (native < > qemu -cpu $cpu):"
                 diff "$tmp/n.$what" "$tmp/q.$what" | head -n 4 | sed 's/^/    /'; f=$((f + 1)); fi
        done
        r=$(snr "$tmp/native.wav" "$tmp/$port.wav")
        db=$(echo "$r" | cut -d' ' -f2)
        case $min:$db in
        exact:inf) echo "ok   $label: audio bit-identical ($(echo "$r" | cut -d' ' -f1) samples)"; p=$((p + 1)) ;;
        exact:*)   echo "FAIL $label: audio not bit-identical: $r (samples, SNR dB, max diff)"; f=$((f + 1)) ;;
        *:inf)     echo "ok   $label: audio bit-identical"; p=$((p + 1)) ;;
        *) if echo "$db" | grep -qE '^-?[0-9.]+$' && [ "$(echo "$db >= $min" | sed 's/ >= / /' | awk '{print ($1 >= $2)}')" = 1 ]
           then echo "ok   $label: audio SNR $db dB >= $min (max diff $(echo "$r" | cut -d' ' -f3) LSB)"; p=$((p + 1))
           else echo "FAIL $label: audio $r (want SNR >= $min dB)"; f=$((f + 1)); fi ;;
        esac
    }
    # 72 dB: with the voice v2 default decoder (22.05 kHz, harmonic source) the SIMD tables measured 89.0 dB
    # (cortex-a53) and 86.4 dB (cortex-a7), at most 6 LSB apart (session 5), and 78.0 / 77.4 dB, at most 10 / 11 LSB,
    # with the session-6 weights (white-noise branch: the noise itself is exact integer maths, the drift is the
    # harmonic part's): F0 that differs in its last bits (f32 summation order, SLEEF's NEON vs AVX2 sin/exp) moves
    # the oscillator's phase, and the phase integrates F0, so the figure depends on the weights' pitch contour; the
    # 16 kHz decoder gave 99-100 dB. A wrong kernel gives tens of dB, not 70. Ids and tokens must still be identical,
    # and ref vs ref bit-identical.
    cmp_tts "$cpu tables vs native" auto 72 "Hello there. This is a test."
    cmp_tts "$cpu EDGEGEN_ISA=ref vs native ref" ref exact \
        "The quick brown fox jumps over the lazy dog, while 42 people watch on March 3rd."
    summary $p $f; [ $f -eq 0 ]; exit ;;

pick)
    # The automatic choice is what `edgegen info` reports. Then every SIMD table of the build (its "kernel tables
    # built:" list, best first) is forced with EDGEGEN_ISA: accepted for the chosen table and those below it,
    # refused with an error naming EDGEGEN_ISA for those above it (EG_ERR_UNSUPPORTED: exit 1/2, never a SIGILL).
    port=$1 cpu=$2 want=$3
    q=$(port_var "$port" QEMU "$cpu")
    p=0; f=0
    out=$($q "build-$port/edgegen" info 2>&1); rc=$?
    echo "$out" | sed 's/^/    /'
    built=$(echo "$out" | sed -nE 's/.*kernel tables built: ([a-z0-9 -]*)\).*/\1/p' | head -n 1)
    if [ $rc -ne 0 ]; then echo "FAIL edgegen info exit $rc"; f=$((f + 1))
    else
        got=$(echo "$out" | sed -nE 's/^[[:space:]]*(kernels|isa|kernel table|table)[[:space:]]*[:=][[:space:]]*([a-z0-9_-]+).*/\2/ip' | head -n 1)
        if [ "$got" = "$want" ]; then echo "ok   auto pick on $cpu = $want"; p=$((p + 1))
        else echo "FAIL auto pick on $cpu: want $want, edgegen info says '${got:-?}'"; f=$((f + 1)); fi
    fi
    [ -n "$built" ] || { echo "FAIL no 'kernel tables built:' list in edgegen info"; f=$((f + 1)); }
    runnable=0
    for t in $built; do
        [ "$t" = "$want" ] && runnable=1
        [ "$t" = ref ] && continue      # always runnable; the run step covers EDGEGEN_ISA=ref
        out=$($q -E EDGEGEN_ISA="$t" "build-$port/edgegen" info 2>&1); rc=$?
        if [ $runnable = 1 ]; then
            if [ $rc -eq 0 ]; then echo "ok   EDGEGEN_ISA=$t accepted on $cpu"; p=$((p + 1))
            else echo "FAIL EDGEGEN_ISA=$t refused on $cpu (exit $rc)"; echo "$out" | sed 's/^/    /'; f=$((f + 1)); fi
        else
            msg=$(echo "$out" | grep "EDGEGEN_ISA=$t:" | tail -n 1)
            case $rc in
            0)   echo "FAIL EDGEGEN_ISA=$t accepted on $cpu, which cannot run it"; f=$((f + 1)) ;;
            1|2) if [ -n "$msg" ]; then echo "ok   EDGEGEN_ISA=$t refused on $cpu (exit $rc): $msg"; p=$((p + 1))
                 else echo "FAIL EDGEGEN_ISA=$t refused on $cpu (exit $rc) without naming it:"
                      echo "$out" | tail -n 3 | sed 's/^/    /'; f=$((f + 1)); fi ;;
            *)   echo "FAIL EDGEGEN_ISA=$t on $cpu: exit $rc (a signal?)"; f=$((f + 1)) ;;
            esac
        fi
    done
    summary $p $f; [ $f -eq 0 ]; exit ;;

*)
    sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
