#!/bin/sh
# tests/test_install.sh — `make install` / `uninstall` into temporary directories, then the installed library as a
# user sees it. Run from the repository root; builds in its own temporary BUILD (the flags differ: EG_DATADIR).
#
#   1. make install PREFIX=$T/prefix: every file and link, the SONAME, the version from edgegen.h, edgegen.pc
#   2. libedgegen.so exports exactly the EG_API functions of runtime/edgegen.h (nm -D --defined-only), and the
#      installed library has no test hook (EDGEGEN_CL_FAULT) in it
#   3. the installed edgegen, run from elsewhere with no --model, finds the installed default model and speaks
#   4. make install DESTDIR=$T/dest: the README's C example (extracted from README.md) built with
#      `pkg-config --cflags --libs edgegen` (PKG_CONFIG_SYSROOT_DIR=$T/dest), run: non-silent PCM of plausible
#      length, identical to `edgegen tts --raw --seed 42 --threads 2 "Hello."` (same phonemes, seed, model);
#      and linked with libedgegen.a (pkg-config --static)
#   5. make uninstall removes everything it installed
set -u
p=0; f=0
ok()   { echo "ok   $*"; p=$((p + 1)); }
fail() { echo "FAIL $*"; f=$((f + 1)); }
done_() { echo "$p passed, $f failed, 0 skipped"; [ $f -eq 0 ]; exit; }
T=$(mktemp -d "${TMPDIR:-/tmp}/eg-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
MAKE=${MAKE:-make}
B=$T/build
m() { $MAKE -s --no-print-directory BUILD="$B" "$@"; }

version=$(sed -n 's/^#define EDGEGEN_VERSION "\([0-9.]*\)".*/\1/p' runtime/edgegen.h)
major=${version%%.*}
[ -n "$version" ] || { fail "no EDGEGEN_VERSION in runtime/edgegen.h"; done_; }

# ---- 1. install into a prefix ------------------------------------------------------------------------------
P=$T/prefix
if m -j"${EG_JOBS:-2}" PREFIX="$P" install >"$T/install.log" 2>&1; then ok "make install PREFIX=$P"
else fail "make install PREFIX=$P:"; tail -n 5 "$T/install.log" | sed 's/^/    /'; done_; fi
for x in bin/edgegen lib/libedgegen.a "lib/libedgegen.so.$version" include/edgegen.h lib/pkgconfig/edgegen.pc \
         share/edgegen/models/ar/pico-ar-q8_0.gguf share/edgegen/models/voice/pico-voice-q8_0.gguf; do
    [ -f "$P/$x" ] && ok "installed $x" || fail "not installed: $x"
done
[ "$(readlink "$P/lib/libedgegen.so.$major")" = "libedgegen.so.$version" ] && ok "link libedgegen.so.$major -> libedgegen.so.$version" \
    || fail "libedgegen.so.$major: $(readlink "$P/lib/libedgegen.so.$major" || echo missing)"
[ "$(readlink "$P/lib/libedgegen.so")" = "libedgegen.so.$major" ] && ok "link libedgegen.so -> libedgegen.so.$major" \
    || fail "libedgegen.so: $(readlink "$P/lib/libedgegen.so" || echo missing)"
soname=$(readelf -d "$P/lib/libedgegen.so.$version" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libedgegen.so.$major" ] && ok "SONAME $soname" || fail "SONAME '$soname', want libedgegen.so.$major"
pcv=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --modversion edgegen 2>&1)
[ "$pcv" = "$version" ] && ok "pkg-config --modversion edgegen = $version (EDGEGEN_VERSION)" || fail "pkg-config --modversion: '$pcv', want $version"
"$P/bin/edgegen" --version 2>&1 | grep -q "$version" && ok "edgegen --version says $version" || fail "edgegen --version: $("$P/bin/edgegen" --version 2>&1 | head -n 1)"

# ---- 2. exported symbols = the EG_API declarations of the header ------------------------------------------------
sed -n 's/^EG_API[^(]*[ *]\(eg_[a-z0-9_]*\)(.*/\1/p' runtime/edgegen.h | sort -u > "$T/api.txt"
nm -D --defined-only "$P/lib/libedgegen.so.$version" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' | sort -u > "$T/exported.txt"
n_api=$(wc -l < "$T/api.txt")
if [ "$n_api" -lt 10 ]; then fail "only $n_api EG_API functions parsed from runtime/edgegen.h"
elif cmp -s "$T/api.txt" "$T/exported.txt"; then ok "libedgegen.so exports exactly the $n_api EG_API functions"
else fail "libedgegen.so exports differ from the EG_API functions of edgegen.h (< header only, > exported only):"
     diff "$T/api.txt" "$T/exported.txt" | grep '^[<>]' | head -n 10 | sed 's/^/    /'; fi
for lib in "$P/lib/libedgegen.so.$version" "$P/lib/libedgegen.a" "$P/bin/edgegen"; do
    if grep -q EDGEGEN_CL_FAULT "$lib"; then fail "$(basename "$lib") contains the test hook EDGEGEN_CL_FAULT"
    else ok "$(basename "$lib") has no test hook (EDGEGEN_CL_FAULT)"; fi
done
m "$B/libedgegen-test.a" >/dev/null 2>&1
grep -q EDGEGEN_CL_FAULT "$B/libedgegen-test.a" && ok "the test runners' libedgegen-test.a does have it (the check can see it)" \
    || fail "libedgegen-test.a has no EDGEGEN_CL_FAULT: the hook check above proves nothing"

# ---- 3. the installed CLI finds the installed model with no flag ---------------------------------------------------
if (cd "$T" && env -u EDGEGEN_MODEL_DIR "$P/bin/edgegen" tts --seed 42 --threads 2 --raw -o "$T/cli.raw" "Hello.") 2>"$T/cli.err"; then
    ok "installed edgegen tts with no --model (run from $T)"
else fail "installed edgegen tts with no --model: $(tail -n 1 "$T/cli.err")"; fi

# ---- 4. DESTDIR install, the README example through pkg-config ---------------------------------------------------
D=$T/dest
if m PREFIX="$P" DESTDIR="$D" install >"$T/install2.log" 2>&1 && [ -f "$D$P/lib/libedgegen.so.$version" ]; then
    ok "make install DESTDIR=$D"
else fail "make install DESTDIR=$D:"; tail -n 5 "$T/install2.log" | sed 's/^/    /'; fi
awk '/^## Library API/{a=1} a && /^```c$/{c=1; next} c && /^```$/{exit} c' README.md > "$T/example.c"
if ! grep -q 'int main' "$T/example.c"; then fail "no C example with main() in README.md (## Library API)"
else
    export PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_PATH="$D$P/lib/pkgconfig"
    flags=$(pkg-config --cflags --libs edgegen 2>&1)
    echo "pkg-config --cflags --libs edgegen: $flags"
    if cc -std=c11 -Wall -Werror "$T/example.c" $flags -o "$T/example" 2>"$T/cc.err"; then ok "README example compiles with pkg-config edgegen"
    else fail "README example does not compile:"; head -n 5 "$T/cc.err" | sed 's/^/    /'; fi
    if [ -x "$T/example" ]; then
        so=$(LD_LIBRARY_PATH="$D$P/lib" ldd "$T/example" | sed -n 's/.*libedgegen.so.* => \([^ ]*\).*/\1/p')
        [ "$so" = "$D$P/lib/libedgegen.so.$major" ] && ok "example loads the installed $so" || fail "example loads libedgegen from '$so'"
        if (cd "$T" && LD_LIBRARY_PATH="$D$P/lib" ./example "$D$P/share/edgegen/models/ar/pico-ar-q8_0.gguf" > "$T/example.raw" 2>"$T/example.err"); then
            ok "README example runs"
        else fail "README example: $(tail -n 1 "$T/example.err")"; fi
        # speech: 0.2 s at 16 kHz .. 5 s at 22.05 kHz of int16 (the default decoder's rate), RMS well above silence, and the same samples as the CLI's
        r=$(/usr/bin/python3 -c '
import sys, array, math
a = array.array("h"); a.frombytes(open(sys.argv[1], "rb").read())
n = len(a); rms = math.sqrt(sum(x * x for x in a) / n) if n else 0
print(n, "%.0f" % rms, max((abs(x) for x in a), default=0))' "$T/example.raw")
        n=${r%% *}; rms=$(echo "$r" | cut -d' ' -f2)
        if [ "$n" -ge 3200 ] && [ "$n" -le 110250 ] && [ "$rms" -ge 300 ]; then ok "example wrote speech: $n samples, RMS $rms"
        else fail "example output is not speech: $n samples, RMS $rms (want 3200..110250 samples, RMS >= 300)"; fi
        if [ -s "$T/cli.raw" ] && cmp -s "$T/cli.raw" "$T/example.raw"; then ok "example PCM = edgegen tts --raw --seed 42 \"Hello.\" (bit-identical)"
        else fail "example PCM differs from edgegen tts --raw --seed 42 \"Hello.\" ($(wc -c < "$T/example.raw") vs $(wc -c < "$T/cli.raw" 2>/dev/null) bytes)"; fi
    fi
    # libedgegen.a through pkg-config --static (-l:libedgegen.a picks the archive; Debian ships SLEEF shared only)
    sflags=$(pkg-config --static --cflags --libs edgegen 2>&1 | sed 's/-ledgegen/-l:libedgegen.a/')
    if cc -std=c11 "$T/example.c" $sflags -o "$T/example-static" 2>"$T/cc2.err" \
       && (cd "$T" && ./example-static "$D$P/share/edgegen/models/ar/pico-ar-q8_0.gguf" > "$T/static.raw" 2>/dev/null) \
       && cmp -s "$T/static.raw" "$T/example.raw"; then ok "linked with libedgegen.a (pkg-config --static): same PCM"
    else fail "static link with pkg-config --static: $(head -n 2 "$T/cc2.err")"; fi
fi

# ---- 5. uninstall --------------------------------------------------------------------------------------------
m PREFIX="$P" uninstall >/dev/null 2>&1
left=$(find "$P" -type f -o -type l 2>/dev/null)
[ -z "$left" ] && ok "make uninstall removed every installed file" || { fail "left after uninstall:"; echo "$left" | head -n 5 | sed 's/^/    /'; }
done_
