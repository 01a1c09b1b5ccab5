# ports/toolchains/armhf.mk — 32-bit Raspberry Pi OS / Debian armhf (ARMv7-A, hard float), cross from x86-64.
#
#   make PORT=armhf -j2 all                   → build-armhf/{libedgegen.a,libedgegen.so,edgegen,test_runner}
#   $(QEMU) build-armhf/test_runner           (tests/run.sh does this with -cpu cortex-a7)
#
# Baseline objects get ARMv7-A + VFPv3-D16 only (what Debian armhf itself assumes), so code that runs before
# CPU detection cannot contain NEON. Only simd/arm/kernels_neon.o gets -mfpu=neon-vfpv4 (ARMV7_NEON_CFLAGS in
# the Makefile); its table needs EG_CPU_NEON | EG_CPU_VFPV4 (Cortex-A7 and later; a Cortex-A8 has NEON without
# VFPv4 and runs the reference; the ARMv6 Pi 1/Zero cannot run ARMv7 code at all). libc from the cross sysroot,
# SLEEF from the multiarch dirs.
CROSS          ?= arm-linux-gnueabihf-
CC             := $(CROSS)gcc
AR             := $(CROSS)ar
HOSTCC         ?= cc
SYSROOT        ?= /usr/arm-linux-gnueabihf
MULTIARCH_LIB  ?= /usr/lib/arm-linux-gnueabihf
MULTIARCH_INC  ?= /usr/include/arm-linux-gnueabihf

PORT_CFLAGS    += -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb -mtune=cortex-a7
# 64-bit off_t/ino_t: model files over 2 GiB, and readdir()/stat() on hosts (or qemu) with 64-bit inode numbers
PORT_CPPFLAGS  += -D_FILE_OFFSET_BITS=64 -idirafter $(MULTIARCH_INC)
# the sysroot first: a libc6-dev:<arch> that happens to be installed must not replace the cross libc
PORT_LDFLAGS   += -L$(SYSROOT)/lib -L$(MULTIARCH_LIB) -Wl,-rpath-link,$(SYSROOT)/lib

QEMU_CPU       ?= cortex-a7
QEMU           ?= qemu-arm -cpu $(QEMU_CPU) -L $(SYSROOT) -E LD_LIBRARY_PATH=$(SYSROOT)/lib:$(MULTIARCH_LIB)
