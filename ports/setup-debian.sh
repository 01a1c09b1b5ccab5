#!/bin/sh
# ports/setup-debian.sh — install what building and testing edgegen needs on Debian 12 / Raspberry Pi OS.
# Idempotent and quick when everything is present. As root it installs; otherwise it prints the exact command.
#   EG_SETUP_CROSS=0  skip the ARM cross toolchains and qemu (they are installed by default on x86-64 hosts)
set -u

PKGS="build-essential pkg-config libsleef-dev libexpat1-dev libespeak-ng-dev espeak-ng-data ocl-icd-opencl-dev opencl-c-headers
      pocl-opencl-icd clinfo xxd clang libclang-rt-14-dev libopenblas-dev python3 python3-pip python3-numpy python3-yaml python3-tqdm
      libmicrohttpd-dev libcjson-dev curl python3-venv"
MULTI=""
host=$(dpkg --print-architecture 2>/dev/null || echo unknown)
if [ "$host" = amd64 ] && [ "${EG_SETUP_CROSS:-1}" = 1 ]; then
    PKGS="$PKGS qemu-user gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross"
    MULTI="libsleef-dev:arm64 libsleef-dev:armhf libexpat1-dev:arm64 libexpat1-dev:armhf"
fi

missing=""
for p in $PKGS $MULTI; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# the gguf Python package (writes test models); Debian has no package for it
py_missing=""
${PYTHON:-/usr/bin/python3} -c "import gguf" 2>/dev/null || py_missing="gguf"

# the clients the `edgegen serve` tests drive (openai, wyoming: pinned in tests/serve/requirements.txt) in their own
# venv ($EDGEGEN_SERVE_VENV, default ~/.cache/edgegen/serve-venv); a no-op when it is already there with those pins
serve_venv() {
    sh "$(dirname "$0")/../tests/serve/setup_venv.sh" >/dev/null || {
        echo "edgegen setup: the serve test venv failed (tests/serve/setup_venv.sh)" >&2; exit 1; }
}

[ -z "$missing" ] && [ -z "$py_missing" ] && { serve_venv; exit 0; }

if [ "$(id -u)" != 0 ]; then
    echo "edgegen setup: missing packages. Run as root:" >&2
    [ -n "$missing" ] && echo "  sudo dpkg --add-architecture arm64; sudo dpkg --add-architecture armhf; sudo apt-get update && sudo apt-get install -y$missing" >&2
    [ -n "$py_missing" ] && echo "  sudo ${PYTHON:-/usr/bin/python3} -m pip install --break-system-packages --no-deps gguf" >&2
    exit 1
fi

if [ -n "$missing" ]; then
    echo "edgegen setup: installing$missing"
    if [ -n "$MULTI" ]; then dpkg --add-architecture arm64; dpkg --add-architecture armhf; fi
    # the mirror is sometimes mid-sync: retry the index update, then go on with what we have
    for i in 1 2 3; do apt-get update -q >/dev/null 2>&1 && break; echo "apt-get update failed (try $i), retrying" >&2; sleep 10; done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/tmp/edgegen-apt.log 2>&1 || {
        echo "edgegen setup: apt-get install failed; see /tmp/edgegen-apt.log:" >&2; tail -n 5 /tmp/edgegen-apt.log >&2; exit 1; }
fi
if [ -n "$py_missing" ]; then
    ${PYTHON:-/usr/bin/python3} -m pip install -q --break-system-packages --no-deps gguf >/tmp/edgegen-pip.log 2>&1 || \
    ${PYTHON:-/usr/bin/python3} -m pip install -q --no-deps gguf >>/tmp/edgegen-pip.log 2>&1 || {
        echo "edgegen setup: pip install gguf failed; see /tmp/edgegen-pip.log" >&2; exit 1; }
fi
serve_venv
exit 0
