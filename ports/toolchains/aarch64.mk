# ports/toolchains/aarch64.mk — 64-bit Raspberry Pi OS / Debian arm64 (Pi 3/4/5, Zero 2 W), cross from Debian x86-64.
#
#   make PORT=aarch64 -j2 all                 → build-aarch64/{libedgegen.a,libedgegen.so,edgegen,test_runner}
#   $(QEMU) build-aarch64/test_runner         (tests/run.sh does this with -cpu cortex-a53 and cortex-a72)
#
# Baseline is plain ARMv8-A (+ASIMD, which every AArch64 Linux CPU has); -mtune only, never -march beyond
# armv8-a, so the binary runs on a Cortex-A53 (no dotprod/fp16). The NEON table needs no extra flags here.
# libc comes from the cross toolchain's sysroot (libc6-dev-arm64-cross); only SLEEF comes from the multiarch
# dirs (libsleef-dev:arm64), because libc6-dev:arm64 may not be co-installable with the host's libc6-dev.
CROSS          ?= aarch64-linux-gnu-
CC             := $(CROSS)gcc
AR             := $(CROSS)ar
HOSTCC         ?= cc
SYSROOT        ?= /usr/aarch64-linux-gnu
MULTIARCH_LIB  ?= /usr/lib/aarch64-linux-gnu
MULTIARCH_INC  ?= /usr/include/aarch64-linux-gnu

PORT_CFLAGS    += -march=armv8-a -mtune=cortex-a53
# -idirafter: sleef.h from the multiarch dir, searched after the sysroot so its libc headers win
PORT_CPPFLAGS  += -idirafter $(MULTIARCH_INC)
# the sysroot first: a libc6-dev:<arch> that happens to be installed must not replace the cross libc
PORT_LDFLAGS   += -L$(SYSROOT)/lib -L$(MULTIARCH_LIB) -Wl,-rpath-link,$(SYSROOT)/lib

# How to run a target binary on this host. The sysroot's ld.so + libc come first, then SLEEF's directory.
QEMU_CPU       ?= cortex-a53
QEMU           ?= qemu-aarch64 -cpu $(QEMU_CPU) -L $(SYSROOT) -E LD_LIBRARY_PATH=$(SYSROOT)/lib:$(MULTIARCH_LIB)
