#!/bin/sh
# tests/test_cli_text.sh — the text front end through the CLI: `edgegen phonemize` and `tts --dry-run`, SSML,
# [[ inline phonemes ]], --lexicon, --timings / --subtitles files, and every bad input (malformed markup, a bad or
# missing lexicon, a phoneme the model lacks): one stderr line, exit 1 (2 for usage), no output file, an existing
# file untouched. Last: phonemising and speaking contact no sound server (a fake PulseAudio socket in
# PULSE_SERVER records any connection; the check is proven live by connecting to it once ourselves).
# Prints the harness summary line. Usage: sh tests/test_cli_text.sh [path/to/edgegen]
set -u
EG=${1:-build/edgegen}
AR=tests/golden/tts_tiny_ar-f32.gguf
CODEC=tests/golden/tts_tiny_codec-f32.gguf
P=0; F=0; S=0
ok()   { P=$((P + 1)); echo "ok   $1"; }
fail() { F=$((F + 1)); echo "FAIL $1"; }
skip() { S=$((S + 1)); echo "SKIP $1"; }

if [ ! -x "$EG" ]; then echo "FAIL $EG not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eg_text.XXXXXX") || exit 1
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
M="-m $AR --codec $CODEC"
EDGEGEN_BACKEND=cpu; export EDGEGEN_BACKEND
T="timeout 60"
one_line() { [ "$(wc -l <"$1")" -eq 1 ] && grep -qE '^edgegen( tts)?: (error: )?' "$1"; }

if ! "$EG" phonemize "x" >/dev/null 2>&1 && "$EG" phonemize "x" 2>&1 | grep -q "espeak-ng missing"; then
    skip "built without espeak-ng: the text front end needs it"
    echo "$P passed, $F failed, $((S)) skipped"; exit 0
fi

# ---- phonemize / --dry-run -----------------------------------------------------------------------------------
$T "$EG" phonemize "Dr. Okafor paid \$5.50 on 05/06/2024. The end of the road." >"$tmp/ph" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
   grep -q '^sentence 1: Doctor Okafor paid five dollars fifty cents on May sixth, twenty twenty four\.$' "$tmp/ph" &&
   grep -q '^sentence 2: The end of the road\.$' "$tmp/ph" &&
   grep -q '^  phonemes: .*ɹˈoʊd\.$' "$tmp/ph" && grep -q ' of=ʌv the=ðə ' "$tmp/ph"; then
    ok "phonemize: normalised text, phonemes and words per sentence (\"of the\" split)"
else fail "phonemize: exit $rc: $(cat "$tmp/ph" "$tmp/err" | head -c 600)"; fi

$T "$EG" tts --dry-run "Dr. Okafor paid \$5.50 on 05/06/2024. The end of the road." >"$tmp/dry" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/ph" "$tmp/dry"; then ok "tts --dry-run = phonemize, no model or -o needed"
else fail "tts --dry-run: exit $rc $(head -c 300 "$tmp/err")"; fi

printf '%s\n' '<speak>Hi<break time="300ms"/><prosody rate="slow">slow</prosody> <phoneme alphabet="ipa" ph="təmˈɑːɹoʊ">tmrw</phoneme> <sub alias="World Wide Web">WWW</sub> <say-as interpret-as="characters">ab</say-as></speak>' |
    $T "$EG" phonemize >"$tmp/ph" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^\[pause 300 ms\]$' "$tmp/ph" && grep -q 'tmrw=təmˈɑːɹoʊ(given)' "$tmp/ph" &&
   grep -q '^sentence 2: slow tmrw World Wide Web eh B$' "$tmp/ph" && grep -q '^  rate: *x0.80' "$tmp/ph"; then
    ok "SSML from stdin (auto-detected): break, prosody, phoneme, sub, say-as"
else fail "SSML phonemize: exit $rc: $(cat "$tmp/ph" "$tmp/err" | head -c 600)"; fi

$T "$EG" phonemize --plain "<speak>x</speak>" >"$tmp/ph" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q '^sentence 1: <speak>x</speak>$' "$tmp/ph"; then ok "--plain: tags are text"
else fail "--plain: $(head -c 300 "$tmp/ph")"; fi

$T "$EG" phonemize "<speak>I <emphasis>really</emphasis> do.</speak>" >"$tmp/ph" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && one_line "$tmp/err" && grep -q 'emphasis' "$tmp/err" && grep -q '^sentence 1: I really do\.$' "$tmp/ph"; then
    ok "unknown SSML element: read as text, one warning"
else fail "unknown element: exit $rc: $(cat "$tmp/err")"; fi

$T "$EG" phonemize "Hello 你好 and שלום there." >"$tmp/ph" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && one_line "$tmp/err" && grep -q 'skipped 2 words' "$tmp/err" && grep -q '^sentence 1: Hello and there\.$' "$tmp/ph"; then
    ok "unspeakable scripts: skipped, one warning per input"
else fail "scripts: exit $rc: $(cat "$tmp/ph" "$tmp/err")"; fi

# ---- lexicon ---------------------------------------------------------------------------------------------------
printf '# names\nSiobhan\tʃɪvˈɔːn  # Irish\nnasa nˈæsə\n' >"$tmp/names.lex"
$T "$EG" phonemize --lexicon "$tmp/names.lex" "Siobhan works at NASA." >"$tmp/ph" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q 'Siobhan=ʃɪvˈɔːn(lexicon)' "$tmp/ph" && grep -q 'NASA=nˈæsə(lexicon)' "$tmp/ph"; then
    ok "--lexicon: words replaced, case rule (nasa → NASA)"
else fail "--lexicon: exit $rc: $(cat "$tmp/ph" "$tmp/err" | head -c 500)"; fi

# ---- bad input: one line, exit 1, no file, an existing file untouched -----------------------------------------
echo keep >"$tmp/keep.wav"
bad() {   # bad NAME EXPECTED-REGEX ARGS...
    name=$1; want=$2; shift 2
    rm -f "$tmp/out.wav" "$tmp/out.json" "$tmp/out.srt"
    $T "$EG" tts $M "$@" -o "$tmp/out.wav" --timings "$tmp/out.json" --subtitles "$tmp/out.srt" 2>"$tmp/err" >/dev/null; rc=$?
    $T "$EG" tts $M "$@" -o "$tmp/keep.wav" 2>/dev/null >/dev/null
    left=$(ls -A "$tmp" | grep -v -e '^keep.wav$' -e '^err$' -e '^ph$' -e '^dry$' -e '\.lex$' -e '^in' | tr '\n' ' ')
    if [ $rc -eq 1 ] && one_line "$tmp/err" && grep -qE "$want" "$tmp/err" && [ -z "$left" ] && [ "$(cat "$tmp/keep.wav")" = keep ]; then
        ok "$name: one line, exit 1, nothing written"
    else fail "$name: exit $rc, left [$left], stderr: $(cat "$tmp/err")"; fi
}
bad "malformed SSML" 'SSML: line 3, column 3: mismatched tag' "$(printf '<speak>\n  <p>open\n</speak>')"
bad "--ssml on plain text" 'SSML: line 1, column 1' --ssml "just words"
bad "SSML bad attribute" 'SSML: line 1, column 8: <break time="soon">' '<speak><break time="soon"/>x</speak>'
bad "unknown inline phoneme" "phoneme '☃' \(U\+2603\)" "Say [[ ab☃ ]] now."
bad "unterminated [[" "line 1, column 5: '\[\[' has no closing" "Say [[ ab now."
bad "missing lexicon" "$tmp/none.lex: cannot open" --lexicon "$tmp/none.lex" "Hello."
printf 'good ɡʊd\nbad\n' >"$tmp/bad.lex"
bad "lexicon line without phonemes" "$tmp/bad.lex:2: 'bad' has no phonemes" --lexicon "$tmp/bad.lex" "Hello."
printf 'good ɡʊd\nsnow s☃\n' >"$tmp/sym.lex"
bad "lexicon phoneme unknown to the model" "$tmp/sym.lex:2: phoneme '☃'" --lexicon "$tmp/sym.lex" "Hello."
$T "$EG" tts $M "Hi." -o "$tmp/x.wav" --subtitles "$tmp/x.txt" 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && one_line "$tmp/err" && [ ! -e "$tmp/x.wav" ]; then ok "--subtitles needs .srt or .vtt (usage error)"
else fail "--subtitles x.txt: exit $rc $(cat "$tmp/err")"; fi

# ---- timings and subtitles files --------------------------------------------------------------------------------
$T "$EG" tts $M '<speak>Hello there, my friend.<break time="700ms"/>Good morning to you.</speak>' -o "$tmp/a.wav" \
    --timings "$tmp/a.json" --subtitles "$tmp/a.srt" 2>"$tmp/err"; rc=$?
$T "$EG" tts $M '<speak>Hello there, my friend.<break time="700ms"/>Good morning to you.</speak>' -o "$tmp/b.wav" \
    --subtitles "$tmp/a.vtt" 2>/dev/null
if [ $rc -eq 0 ] && [ -s "$tmp/a.json" ] && cmp -s "$tmp/a.wav" "$tmp/b.wav"; then ok "--timings / --subtitles written; the audio is the same with and without them"
else fail "timings: exit $rc $(head -c 300 "$tmp/err")"; fi
if /usr/bin/python3 - "$tmp/a.json" "$tmp/a.wav" <<'PY'
import json, sys, wave
t = json.load(open(sys.argv[1]))
w = wave.open(sys.argv[2]); n = w.getnframes(); rate = w.getframerate()
assert t["sample_rate"] == rate, (t["sample_rate"], rate)
s = t["sentences"]; assert len(s) == 2, len(s)
assert [x["text"] for x in s[0]["words"]] == ["Hello", "there", "my", "friend"], s[0]["words"]
assert s[1]["start_sample"] - s[0]["end_sample"] == 700 * rate // 1000, "the break"
assert s[1]["end_sample"] == n, (s[1]["end_sample"], n)
prev = 0
for x in s:
    for wd in x["words"]:
        assert x["start_sample"] <= wd["start_sample"] < wd["end_sample"] <= x["end_sample"], wd
        assert wd["start_sample"] >= prev, wd; prev = wd["end_sample"]
        ph = wd["phonemes"]; assert ph and abs(ph[0]["start"] - wd["start"]) < 1e-9 and abs(ph[-1]["end"] - wd["end"]) < 1e-9, wd
PY
then ok "timings JSON: words in order inside their sentence, the break is 700 ms, ends at the WAV's last sample"
else fail "timings JSON inconsistent"; fi
if head -n 3 "$tmp/a.srt" | tr -d '\r' | grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} --> [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3}$' &&
   [ "$(head -n 1 "$tmp/a.srt")" = 1 ] && grep -q '^Hello there my friend$' "$tmp/a.srt" &&
   [ "$(head -n 1 "$tmp/a.vtt")" = WEBVTT ] && grep -qE '^[0-9:]{8}\.[0-9]{3} --> ' "$tmp/a.vtt"; then
    ok "subtitles: SubRip and WebVTT cues"
else fail "subtitles: $(head -n 8 "$tmp/a.srt")"; fi

# ---- no sound server ------------------------------------------------------------------------------------------
# espeak-ng 1.51's espeak_Initialize() creates a PulseAudio client; PULSE_SERVER points any such client at our
# socket, which logs each connection.
sock="$tmp/pulse.sock"; log="$tmp/pulse.log"
/usr/bin/python3 - "$sock" "$log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(8)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f: f.write("connection\n")
    c.close()
PY
srv_pid=$!
i=0; while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -S "$sock" ]; then fail "fake sound server did not start"
else
    PULSE_SERVER="unix:$sock" $T "$EG" phonemize "Hello there." >/dev/null 2>&1
    PULSE_SERVER="unix:$sock" $T "$EG" tts $M "Hello there." -o "$tmp/p.wav" 2>/dev/null
    n_ours=$(wc -l <"$log")
    /usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.close()' "$sock"
    i=0; while [ "$(wc -l <"$log")" -lt 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    n_probe=$(wc -l <"$log")
    if [ "$n_ours" -eq 0 ] && [ "$n_probe" -eq 1 ]; then ok "phonemize and tts open no sound-server connection (the probe's one is seen)"
    else fail "sound server contacted: $n_ours connection(s) from edgegen, probe saw $n_probe"; fi
fi
if command -v strace >/dev/null 2>&1; then
    strace -f -e trace=openat,connect -o "$tmp/strace" $T "$EG" tts $M "Hello there." -o "$tmp/s.wav" 2>/dev/null
    if grep -qE '/dev/snd|pulse/native|\.pulse-cookie|connect\(.*sun_path=.*pulse' "$tmp/strace"; then
        fail "strace: an audio device or sound server was touched: $(grep -E '/dev/snd|pulse' "$tmp/strace" | head -n 2)"
    else ok "strace: no /dev/snd, no pulse socket"; fi
else skip "strace not installed"; fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
