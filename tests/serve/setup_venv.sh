#!/bin/sh
# tests/serve/setup_venv.sh — the Python venv the `edgegen serve` tests and `make bench-serve` use, with the pinned
# clients of tests/serve/requirements.txt (and, with --bench, the peer server of tests/serve/requirements-bench.txt:
# wyoming-piper + Piper's joe voice). Idempotent: does nothing when the venv already has exactly these pins (a stamp
# holds the requirement files' checksum). Called by ports/setup-debian.sh (tests) and the bench-serve target.
#   EDGEGEN_SERVE_VENV   where (default: $HOME/.cache/edgegen/serve-venv)
# Prints the venv's python on stdout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VENV=${EDGEGEN_SERVE_VENV:-$HOME/.cache/edgegen/serve-venv}
files="$here/requirements.txt"
[ "${1:-}" = --bench ] && files="$files $here/requirements-bench.txt"
sum=$(cat $files | sha256sum | cut -d' ' -f1)
stamp="$VENV/.edgegen-$(echo "$files" | sha256sum | cut -c1-8)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then echo "$VENV/bin/python"; exit 0; fi
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    /usr/bin/python3 -m venv "$VENV" >&2 || { echo "setup_venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
for f in $files; do
    echo "setup_venv: pip install --no-deps -r $(basename "$f") into $VENV" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$f" >&2 || { echo "setup_venv: pip install failed" >&2; exit 1; }
done
echo "$sum" >"$stamp"
echo "$VENV/bin/python"
