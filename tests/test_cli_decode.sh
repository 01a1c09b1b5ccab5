#!/bin/sh
# tests/test_cli_decode.sh — `edgegen decode` end to end with the tiny golden decoder (tests/golden/):
# WAV header and length, stdin/stdout, --raw, --chunk streaming and --threads give the same bytes, bad tokens and
# unwritable paths fail cleanly with no file left behind, a closed stdout pipe is an error and not a crash,
# default model search through EDGEGEN_MODEL_DIR. Ends with the harness line "N passed, N failed, N skipped".
# Usage (from the repository root): sh tests/test_cli_decode.sh [path/to/edgegen]
set -u
EG=${1:-${BUILD:-build}/edgegen}
G=${EG_GOLDEN_DIR:-tests/golden}
MODEL=$G/decoder_tiny_f32.gguf
TOK=$G/decoder_tokens.txt
P=0; F=0; S=0
T=$(mktemp -d "${TMPDIR:-/tmp}/eg_cli_decode.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

ok()   { P=$((P + 1)); echo "ok   $1"; }
fail() { F=$((F + 1)); echo "FAIL $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
# u32le FILE OFFSET: little-endian u32 at a byte offset
u32le() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
size() { wc -c < "$1" | tr -d ' '; }
differ() { ! cmp -s "$1" "$2"; }

if [ ! -x "$EG" ]; then echo "SKIP all: $EG not built"; echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
if [ ! -f "$MODEL" ] || [ ! -f "$TOK" ]; then echo "SKIP all: golden files missing"; echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
N=$(wc -w < "$TOK" | tr -d ' ')
HOP=32
BYTES=$((N * HOP * 2))

# ---- the basic decode and its header ------------------------------------------------------------------------
"$EG" decode "$TOK" -m "$MODEL" -o "$T/a.wav" -t 1 2>"$T/err"; rc=$?
check "decode exits 0" [ "$rc" -eq 0 ]
check "wav length = 44 + tokens*hop*2" [ "$(size "$T/a.wav")" -eq $((44 + BYTES)) ]
check "RIFF/WAVE/fmt/data tags" [ "$(od -An -c -j0 -N4 "$T/a.wav" | tr -d ' ')$(od -An -c -j8 -N8 "$T/a.wav" | tr -d ' ')$(od -An -c -j36 -N4 "$T/a.wav" | tr -d ' ')" = "RIFFWAVEfmtdata" ]
check "riff size" [ "$(u32le "$T/a.wav" 4)" -eq $((36 + BYTES)) ]
check "data size" [ "$(u32le "$T/a.wav" 40)" -eq "$BYTES" ]
check "sample rate 16000" [ "$(u32le "$T/a.wav" 24)" -eq 16000 ]
check "PCM mono 16-bit" [ "$(od -An -tu2 -j20 -N4 "$T/a.wav" | tr -s ' ')" = " 1 1" ] && [ "$(od -An -tu2 -j34 -N2 "$T/a.wav" | tr -d ' ')" = 16 ]
check "no stray output on stderr" [ ! -s "$T/err" ]
check "no temporary left" [ "$(ls "$T" | grep -c tmp)" -eq 0 ]

# ---- same bytes through every path ----------------------------------------------------------------------------
"$EG" decode -m "$MODEL" -o "$T/stdin.wav" -t 1 < "$TOK"
check "stdin (no TOKENS) = file" cmp -s "$T/a.wav" "$T/stdin.wav"
"$EG" decode - -m "$MODEL" -o - -t 1 < "$TOK" > "$T/stdout.wav"
check "stdout (-o -) = file, exact header sizes" cmp -s "$T/a.wav" "$T/stdout.wav"
"$EG" decode "$TOK" -m "$MODEL" -o "$T/t3.wav" -t 3
check "--threads 3 = --threads 1 (bit-identical)" cmp -s "$T/a.wav" "$T/t3.wav"
"$EG" decode "$TOK" -m "$MODEL" -o "$T/a.raw" --raw
tail -c "$BYTES" "$T/a.wav" > "$T/a.data"
check "--raw = WAV data" cmp -s "$T/a.raw" "$T/a.data"
for c in 1 7 1000; do
    "$EG" decode "$TOK" -m "$MODEL" -o "$T/c$c.wav" --chunk $c
    check "--chunk $c file = whole (header patched)" cmp -s "$T/a.wav" "$T/c$c.wav"
done
"$EG" decode -m "$MODEL" -o - --chunk 4 < "$TOK" | cat > "$T/cpipe.wav"
check "--chunk to a pipe: unknown-size header" [ "$(u32le "$T/cpipe.wav" 40)" -eq 4294967295 ] && [ "$(u32le "$T/cpipe.wav" 4)" -eq 4294967295 ]
tail -c "$BYTES" "$T/cpipe.wav" > "$T/cpipe.data"
check "--chunk to a pipe: same samples" cmp -s "$T/a.data" "$T/cpipe.data"

# ---- errors: bad tokens leave nothing behind -------------------------------------------------------------------
printf '1 2 3 4375 5\n' > "$T/bad.txt"
"$EG" decode "$T/bad.txt" -m "$MODEL" -o "$T/bad.wav" 2>"$T/err"; rc=$?
check "out-of-range token: exit 1" [ "$rc" -eq 1 ]
check "out-of-range token: names position and value" grep -q "token 3: value 4375 out of range" "$T/err"
check "out-of-range token: no output file" [ ! -e "$T/bad.wav" ]
check "out-of-range token: no temporary" [ "$(ls "$T" | grep -c '^bad.wav')" -eq 0 ]
printf '1 2 -7\n' | "$EG" decode -m "$MODEL" -o "$T/neg.wav" --chunk 2 2>"$T/err"; rc=$?
check "negative token while streaming: exit 1, named, no file" [ "$rc" -eq 1 ] && grep -q "token 2: value -7" "$T/err" && [ ! -e "$T/neg.wav" ]
printf '1 2 x3\n' > "$T/nan.txt"
"$EG" decode "$T/nan.txt" -m "$MODEL" -o "$T/nan.wav" 2>"$T/err"; rc=$?
check "non-integer token: exit 1, named, no file" [ "$rc" -eq 1 ] && grep -q 'token 2: "x3" is not an integer' "$T/err" && [ ! -e "$T/nan.wav" ]
printf '' > "$T/empty.txt"
"$EG" decode "$T/empty.txt" -m "$MODEL" -o "$T/empty.wav" 2>/dev/null; rc=$?
check "no tokens: exit 1, no file" [ "$rc" -eq 1 ] && [ ! -e "$T/empty.wav" ]
"$EG" decode "$TOK" -m "$MODEL" -o "$T/no/such/dir/x.wav" 2>"$T/err"; rc=$?
check "unwritable path: exit 1 with a reason" [ "$rc" -eq 1 ] && grep -q "cannot create" "$T/err"
cp "$T/a.wav" "$T/keep.wav"
"$EG" decode "$T/bad.txt" -m "$MODEL" -o "$T/keep.wav" 2>/dev/null
check "failed decode leaves an existing target untouched" cmp -s "$T/a.wav" "$T/keep.wav"
"$EG" decode "$TOK" -m "$T/missing.gguf" -o "$T/m.wav" 2>"$T/err"; rc=$?
check "missing model: exit 1, no file" [ "$rc" -eq 1 ] && [ ! -e "$T/m.wav" ] && [ -s "$T/err" ]

# ---- a closed pipe: EPIPE is an error (exit 1), never SIGPIPE (141) or a crash --------------------------------
i=0; : > "$T/long.txt"; while [ $i -lt 40 ]; do cat "$TOK" >> "$T/long.txt"; i=$((i + 1)); done   # 2000 frames, 128 KB
( "$EG" decode "$T/long.txt" -m "$MODEL" -o - 2>"$T/pipe.err"; echo $? > "$T/pipe.rc" ) | head -c 100 > /dev/null
rc=$(cat "$T/pipe.rc")
check "closed stdout pipe: exit 1, not a signal (got $rc)" [ "$rc" -eq 1 ]
check "closed stdout pipe: says why" grep -qi "broken pipe" "$T/pipe.err"
( "$EG" decode "$T/long.txt" -m "$MODEL" -o - --chunk 3 2>/dev/null; echo $? > "$T/pipe.rc" ) | head -c 100 > /dev/null
rc=$(cat "$T/pipe.rc")
check "closed stdout pipe while streaming: exit 1 (got $rc)" [ "$rc" -eq 1 ]

# ---- usage and the default model search ---------------------------------------------------------------------------
"$EG" decode --help > "$T/help" 2>&1; rc=$?
check "--help: exit 0 and documents every option" [ "$rc" -eq 0 ] && grep -q -- "--chunk" "$T/help" && grep -q -- "--raw" "$T/help" && grep -q -- "--isa" "$T/help" && grep -q -- "--threads" "$T/help" && grep -q -- "--model" "$T/help"
"$EG" decode "$TOK" -m "$MODEL" 2>/dev/null; rc=$?
check "no -o: usage error (2)" [ "$rc" -eq 2 ]
"$EG" decode "$TOK" -m "$MODEL" -o "$T/x.wav" --bogus 2>/dev/null; rc=$?
check "unknown option: usage error (2)" [ "$rc" -eq 2 ]
"$EG" decode "$TOK" -m "$MODEL" -o "$T/x.wav" --threads 0 2>/dev/null; rc=$?
check "--threads 0: usage error (2)" [ "$rc" -eq 2 ]
mkdir -p "$T/models/codec" && cp "$MODEL" "$T/models/codec/pico-codec-f32.gguf"
EDGEGEN_MODEL_DIR="$T/models" "$EG" decode "$TOK" -o "$T/def.wav" -t 1
check "default model via EDGEGEN_MODEL_DIR/codec/pico-codec-f32.gguf" cmp -s "$T/a.wav" "$T/def.wav"
"$EG" decode "$TOK" -m "$MODEL" -o "$T/ref.wav" --isa ref -t 1
check "--isa ref decodes (same length)" [ "$(size "$T/ref.wav")" -eq $((44 + BYTES)) ]

# ---- a phoneme-conditioned codec: TOKEN:PHONEME pairs ---------------------------------------------------------------
PHM=$G/decoder_tiny_ph_f32.gguf
PH=$G/decoder_phones.txt
if [ -f "$PHM" ] && [ -f "$PH" ]; then
    # pair every token with its frame's phoneme id (the C test checks these samples against PyTorch)
    tr -s ' \n' '\n\n' < "$TOK" | grep . > "$T/tk"; tr -s ' \n' '\n\n' < "$PH" | grep . > "$T/pk"
    paste -d: "$T/tk" "$T/pk" | tr '\n' ' ' > "$T/pairs.txt"
    "$EG" decode "$T/pairs.txt" -m "$PHM" -o "$T/ph.wav" -t 1 2>"$T/err"; rc=$?
    check "TOKEN:PHONEME pairs decode (exit 0, full length)" [ "$rc" -eq 0 ] && [ "$(size "$T/ph.wav")" -eq $((44 + BYTES)) ]
    "$EG" decode "$T/pairs.txt" -m "$PHM" -o "$T/phc.wav" -t 2 --chunk 3 2>/dev/null
    check "pairs: --chunk 3 --threads 2 = whole" cmp -s "$T/ph.wav" "$T/phc.wav"
    sed 's/:[0-9]*/:3/g' "$T/pairs.txt" > "$T/pairs3.txt"
    "$EG" decode "$T/pairs3.txt" -m "$PHM" -o "$T/ph3.wav" -t 1 2>/dev/null
    check "pairs: the phoneme ids change the audio" differ "$T/ph.wav" "$T/ph3.wav"
    "$EG" decode "$TOK" -m "$PHM" -o "$T/noph.wav" 2>"$T/err"; rc=$?
    check "phoneme-conditioned codec, plain tokens: exit 1, says TOKEN:PHONEME, no file" [ "$rc" -eq 1 ] && grep -q "expected TOKEN:PHONEME" "$T/err" && [ ! -e "$T/noph.wav" ]
    printf '1:0 2:12 3:1\n' | "$EG" decode - -m "$PHM" -o "$T/badph.wav" 2>"$T/err"; rc=$?
    check "phoneme id out of range: exit 1, named, no file" [ "$rc" -eq 1 ] && grep -q "phoneme of frame 1: id 12 out of range" "$T/err" && [ ! -e "$T/badph.wav" ]
    printf '1:0 2:x 3:1\n' | "$EG" decode - -m "$PHM" -o "$T/badph.wav" --chunk 2 2>"$T/err"; rc=$?
    check "malformed pair while streaming: exit 1, named, no file" [ "$rc" -eq 1 ] && grep -q 'token 1: "2:x"' "$T/err" && [ ! -e "$T/badph.wav" ]
    "$EG" decode "$T/pairs.txt" -m "$MODEL" -o "$T/plainph.wav" -t 1 2>/dev/null
    check "plain codec ignores :PHONEME (= plain tokens)" cmp -s "$T/a.wav" "$T/plainph.wav"
else
    S=$((S + 1)); echo "SKIP phoneme-conditioned decode: golden files missing"
fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
