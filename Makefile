# edgegen — top-level GNU Makefile.
#
#   make                 library (libedgegen.a/.so), the edgegen CLI and the test runner, for this machine
#   make test            set up missing packages, build, and run every test suite (tests/run.sh)
#   make run             speak a sample sentence with the bundled default model
#   make bench           kernel / model benchmarks (ratios against OpenBLAS and bandwidth probes, same run)
#   make fuzz            libFuzzer target for the GGUF reader (clang), FUZZ_SECONDS=60 by default
#   make PORT=aarch64    cross-build for 64-bit Raspberry Pi OS (ports/toolchains/aarch64.mk)
#   make PORT=armhf      cross-build for 32-bit Raspberry Pi OS, ARMv7 + NEON (ports/toolchains/armhf.mk)
#   make SAN=1           AddressSanitizer + UndefinedBehaviorSanitizer build (in build-san/)
#
# ISA flags go only on the per-ISA kernel objects (target-specific ISA_CFLAGS); no -march=native anywhere.
# -ffp-contract=off everywhere: multiply-adds are fused only where the code says so.

PORT ?=
ifneq ($(PORT),)
include ports/toolchains/$(PORT).mk
endif

CC      ?= cc
HOSTCC  ?= cc
AR      ?= ar
TARGET_TRIPLE := $(shell $(CC) -dumpmachine)
BUILD   ?= build$(if $(PORT),-$(PORT))$(if $(SAN),-san)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -ffp-contract=off -fPIC -pthread
CPPFLAGS += -D_GNU_SOURCE -Iruntime -Isimd -Imodels -Iopencl $(PORT_CPPFLAGS)
LDFLAGS  += $(PORT_LDFLAGS) -pthread
LDLIBS   += -lsleef -lm -ldl
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# ---- sources ---------------------------------------------------------------------------------------------
RUNTIME_SRCS := runtime/core.c runtime/arena.c
SIMD_SRCS    := simd/kernels_ref.c
MODEL_SRCS   :=
OPENCL_SRCS  :=
CLI_SRCS     := runtime/cli.c
TEST_SRCS    := tests/test_main.c

# Per-ISA kernel files and their flags, by target architecture.
X86_AVX2_CFLAGS   ?= -mavx2 -mfma -mf16c
X86_AVX512_CFLAGS ?= -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
ARM64_NEON_CFLAGS ?=
ARMV7_NEON_CFLAGS ?= -mfpu=neon-vfpv4 -mfloat-abi=hard

ifneq ($(filter x86_64%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/x86/kernels_avx2.c simd/x86/kernels_avx512.c
CPPFLAGS  += -DEG_BUILD_AVX2 -DEG_BUILD_AVX512
$(BUILD)/simd/x86/kernels_avx2.o:   ISA_CFLAGS = $(X86_AVX2_CFLAGS)
$(BUILD)/simd/x86/kernels_avx512.o: ISA_CFLAGS = $(X86_AVX512_CFLAGS)
endif
ifneq ($(filter aarch64%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/arm/kernels_neon.c
CPPFLAGS  += -DEG_BUILD_NEON
$(BUILD)/simd/arm/kernels_neon.o:   ISA_CFLAGS = $(ARM64_NEON_CFLAGS)
endif
ifneq ($(filter arm%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/arm/kernels_neon.c
CPPFLAGS  += -DEG_BUILD_NEON
$(BUILD)/simd/arm/kernels_neon.o:   ISA_CFLAGS = $(ARMV7_NEON_CFLAGS)
endif

LIB_SRCS  := $(RUNTIME_SRCS) $(SIMD_SRCS) $(MODEL_SRCS) $(OPENCL_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

LIB_A   := $(BUILD)/libedgegen.a
LIB_SO  := $(BUILD)/libedgegen.so
CLI     := $(BUILD)/edgegen
TESTBIN := $(BUILD)/test_runner

.PHONY: all lib cli tests test run bench fuzz setup clean
all: $(LIB_A) $(LIB_SO) $(CLI) $(TESTBIN)
lib: $(LIB_A) $(LIB_SO)
cli: $(CLI)
tests: $(TESTBIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ISA_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(CLI): $(CLI_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(LDLIBS) $(CLI_LDLIBS)

$(TESTBIN): $(TEST_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_A) $(LDLIBS) $(CLI_LDLIBS)

# ---- top-level jobs ---------------------------------------------------------------------------------------
setup:
	@sh ports/setup-debian.sh

test: setup
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh

clean:
	rm -rf build build-*

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
