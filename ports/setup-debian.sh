#!/bin/sh
# ports/setup-debian.sh — install what building and testing edgegen needs on Debian 12 / Raspberry Pi OS.
# Idempotent and quick when everything is present. As root it installs; otherwise it prints the exact command.
#   EG_SETUP_CROSS=0  skip the ARM cross toolchains, their target libraries and qemu (installed by default on
#                     x86-64 hosts)
#   --list            print the packages this script installs here, one per line, and exit (tests/check_deps.py
#                     checks that every header and library the builds read comes from one of them or their Depends)
#   EG_SETUP_ARCH=arm64 (or armhf) with --list: what it installs on a Raspberry Pi (Raspberry Pi OS is Debian 12
#                     with the same package names; the cross part is x86-64 only), i.e. on Raspberry Pi OS:
#                       build-essential pkg-config libsleef-dev libexpat1-dev libespeak-ng-dev espeak-ng-data ocl-icd-opencl-dev
#                       opencl-c-headers pocl-opencl-icd clinfo xxd file clang libclang-rt-14-dev libopenblas-dev
#                       python3 python3-pip python3-numpy python3-yaml python3-tqdm libmicrohttpd-dev libcjson-dev
#                       curl python3-venv  (+ gguf from PyPI)
#
# Everything is installed with --no-install-recommends, so a package the build needs must be named here or be a
# Depends/Pre-Depends of one named here; a Recommends (gcc-aarch64-linux-gnu -> libc6-dev-arm64-cross) is not enough.
# The cross part installs the target's libsleef-dev and libespeak-ng-dev through Debian multiarch (arm64, armhf).
# libespeak-ng1/espeak-ng-data/libespeak-ng-dev are Multi-Arch: same: every architecture must have the same
# version, so the host's copies are upgraded with them in one apt-get call (named explicitly below), and so are
# the shared libraries they pull in (libc6, libsystemd0, ...), which apt upgrades itself.
set -u

PKGS="build-essential pkg-config libsleef-dev libexpat1-dev libespeak-ng-dev espeak-ng-data ocl-icd-opencl-dev opencl-c-headers
      pocl-opencl-icd clinfo xxd file clang libclang-rt-14-dev libopenblas-dev python3 python3-pip python3-numpy python3-yaml python3-tqdm
      libmicrohttpd-dev libcjson-dev curl python3-venv"
MULTI=""
host=${EG_SETUP_ARCH:-$(dpkg --print-architecture 2>/dev/null || echo unknown)}
if [ "$host" = amd64 ] && [ "${EG_SETUP_CROSS:-1}" = 1 ]; then
    PKGS="$PKGS qemu-user gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross"
    MULTI="libsleef-dev:arm64 libsleef-dev:armhf libexpat1-dev:arm64 libexpat1-dev:armhf libespeak-ng-dev:arm64 libespeak-ng-dev:armhf"
fi
# same-version partners of the multiarch packages (Multi-Arch: same): installed/upgraded in the same call
SAME_VERSION="libespeak-ng-dev libespeak-ng1 espeak-ng-data libsleef-dev libsleef3 libexpat1-dev libexpat1"

if [ "${1:-}" = --list ]; then
    for p in $PKGS $MULTI; do echo "$p"; done
    exit 0
fi

missing=""
for p in $PKGS $MULTI; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# a target package installed at another version than its host partner (a host upgrade without the target's)
for p in $MULTI; do
    name=${p%%:*} arch=${p#*:}
    for q in $name $(dpkg-query -W -f='${Depends}' "$p" 2>/dev/null | tr ',' '\n' | sed -E 's/[ (].*//; s/^ *//' ); do
        case " $SAME_VERSION " in *" $q "*) ;; *) continue ;; esac
        vh=$(dpkg-query -W -f='${Version}' "$q:$host" 2>/dev/null); vt=$(dpkg-query -W -f='${Version}' "$q:$arch" 2>/dev/null)
        [ -n "$vh" ] && [ -n "$vt" ] && [ "$vh" != "$vt" ] && { case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac; }
    done
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
    # with a multiarch package, its host partners go into the same call so apt moves every architecture to the
    # same version (otherwise apt refuses: "libespeak-ng1:arm64 ... but 1.51+dfsg-10+deb12u1 is to be installed")
    partners=""
    case "$missing" in *:*) for q in $SAME_VERSION; do
        dpkg-query -W -f='${Status}' "$q" 2>/dev/null | grep -q "ok installed" && partners="$partners $q"; done ;; esac
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing $partners >/tmp/edgegen-apt.log 2>&1 || {
        echo "edgegen setup: apt-get install failed; see /tmp/edgegen-apt.log:" >&2; tail -n 5 /tmp/edgegen-apt.log >&2; exit 1; }
fi
if [ -n "$py_missing" ]; then
    ${PYTHON:-/usr/bin/python3} -m pip install -q --break-system-packages --no-deps gguf >/tmp/edgegen-pip.log 2>&1 || \
    ${PYTHON:-/usr/bin/python3} -m pip install -q --no-deps gguf >>/tmp/edgegen-pip.log 2>&1 || {
        echo "edgegen setup: pip install gguf failed; see /tmp/edgegen-pip.log" >&2; exit 1; }
fi
serve_venv
exit 0
