/* edgegen.h — the public API of libedgegen, the only header a user includes.
 *
 * Offline text-to-speech: phonemes → an autoregressive model (AR) that samples codec tokens frame by frame →
 * a non-autoregressive codec decoder → 16-bit-ready PCM, streamed to a callback while the sentence is still
 * being generated.
 *
 *   #include "edgegen.h"
 *   static enum eg_status on_audio(void *user, const void *pcm, int n) {        // n samples, mono
 *       return fwrite(pcm, sizeof(int16_t), (size_t)n, user) == (size_t)n ? EG_OK : EG_ERR_IO;
 *   }
 *   enum eg_status err;
 *   struct eg_model *m = eg_model_load("pico-ar-q8_0.gguf", NULL, &err);     // codec found next to it
 *   struct eg_ctx_params p = eg_ctx_default_params();
 *   p.format = EG_SAMPLE_S16; p.on_audio = on_audio; p.on_audio_user = stdout; p.seed = 42;
 *   struct eg_ctx *ctx = eg_ctx_create(m, &p, &err);
 *   err = eg_ctx_synthesize_text(ctx, "Hello there.", my_phonemiser, my_state); // or _phonemes / _ids
 *   eg_ctx_destroy(ctx);
 *   eg_model_free(m);
 *
 * Model packaging: a TTS model is two GGUF files, the AR model (general.architecture "edgegen.ar") and the codec
 * decoder it was trained against ("edgegen.codec"), normally side by side (models/GGUF_KEYS.md). They must agree
 * on the FSQ levels (the token vocabulary); eg_model_load() checks it.
 *
 * Text: the library does not phonemise. Give it phoneme ids (eg_ctx_synthesize_ids), phoneme codepoints
 * (eg_ctx_synthesize_phonemes; mapped with the model's inventory) or text plus a phonemiser callback: with
 * eg_ctx_synthesize_markup the library does the rest of the front end itself (plain text with [[ inline phonemes ]]
 * or SSML, normalisation of numbers/money/dates, a user lexicon; "text front end" below) and reports word and
 * phoneme timings (on_timing); eg_ctx_synthesize_text hands the raw text to the phonemiser. The `edgegen` CLI plugs
 * in its espeak-ng phonemiser (runtime/text/text.c, GPL-3) that way.
 *
 * Thread safety: a model (struct eg_model) is immutable after eg_model_load() and may be shared by any number
 * of contexts and threads. A context (struct eg_ctx) is one stream of work and must be used by one thread at a
 * time; the audio and phonemiser callbacks run on that thread, from inside the synthesize call (calling a
 * synthesize function of the same context from its own audio callback is refused: EG_ERR_INVALID_ARG). Every function
 * is reentrant across distinct contexts; eg_log_set() is process-wide and should be called before anything else.
 * The library never writes to stdout (it may carry audio) and never calls exit(); detail about a failure goes to
 * the log callback (default: one line on stderr), and every fallible call returns an enum eg_status.
 *
 * Determinism: the same model files, parameters, seed and input give bit-identical audio for any n_threads on
 * the same binary and kernel table with the decoder on the CPU (work is split in fixed blocks; the sampler is
 * single-threaded).
 *
 * Licence: the library is MIT-licensed; it links expat (MIT) for SSML: link static builds with -lexpat. The
 * espeak-ng phonemiser (runtime/text/text.c) links libespeak-ng (GPL-3) and is not part of the library; a binary
 * that includes it, such as the `edgegen` CLI, is GPL-3 as a whole.
 */
#ifndef EDGEGEN_H
#define EDGEGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version: the single source (the Makefile reads it for the shared library's file name and SONAME
 * libedgegen.so.MAJOR, and for edgegen.pc). */
#define EDGEGEN_VERSION "0.1.0"

/* EG_API marks the public functions: libedgegen is compiled with -fvisibility=hidden, so the shared library
 * exports these and nothing else (tests/test_install.sh compares `nm -D` with this header). */
#if defined(_WIN32) && defined(EDGEGEN_BUILD)
#define EG_API __declspec(dllexport)
#elif defined(__GNUC__)
#define EG_API __attribute__((visibility("default")))
#else
#define EG_API
#endif

/* Environment variables the library reads (all optional; the CLI documents its own, EDGEGEN_MODEL_DIR):
 *   EDGEGEN_ISA=ref|avx2|avx512|neon|neon-dotprod   kernel table when eg_ctx_params.isa is EG_ISA_AUTO
 *   EDGEGEN_BACKEND=auto|cpu|opencl   decoder device when eg_ctx_params.device is EG_DEVICE_AUTO
 *   EDGEGEN_NO_MMAP=1          read model files into memory instead of mapping them
 *   EDGEGEN_OPENCL_LIB=PATH    the OpenCL ICD loader to dlopen (default libOpenCL.so.1); OCL_ICD_VENDORS is
 *                              read too, only to explain a missing platform
 *   EDGEGEN_CL_DEVICE=P:D      which OpenCL device (platform:device indices, as `edgegen info` lists them)
 *   EDGEGEN_CL_CACHE=off|0     do not cache compiled programs and probe verdicts; the cache is
 *                              $XDG_CACHE_HOME/edgegen, else $HOME/.cache/edgegen
 *   EDGEGEN_CL_MIN_RATIO=R     use the OpenCL device in AUTO when it is more than R times as fast as the CPU
 *                              (default 1; a verdict with it set is not cached)
 *   EDGEGEN_POOL_SPIN_US=N     microseconds a pool worker spins before it sleeps (tuning)
 *   EDGEGEN_PAR_MIN_BYTES=N    smallest weight matrix split across threads (tuning; results are identical)
 * Test builds only (the test runners' libedgegen-test.a, never the installed library): EDGEGEN_CL_FAULT. */

enum eg_status {
    EG_OK = 0,
    EG_ERR_INVALID_ARG = -1,  /* a parameter out of range, a NULL where an object is required */
    EG_ERR_IO = -2,           /* open/read/write/rename failed */
    EG_ERR_FORMAT = -3,       /* a model file (or other input) is malformed; the log names the field */
    EG_ERR_UNSUPPORTED = -4,  /* the CPU/OS/build cannot do what was asked (e.g. EDGEGEN_ISA=avx512 here) */
    EG_ERR_NOMEM = -5,        /* allocation failed, or the memory plan exceeds what the process may use */
    EG_ERR_DEVICE = -6,       /* an OpenCL device failed */
    EG_ERR_INTERNAL = -7,     /* a broken internal invariant (a bug) */
};

/* A short English description of a status ("format error", ...). Never NULL. */
EG_API const char *eg_status_str(enum eg_status s);

enum eg_log_level { EG_LOG_ERROR = 0, EG_LOG_WARN = 1, EG_LOG_INFO = 2, EG_LOG_DEBUG = 3 };

/* Log sink: `msg` is one line without a trailing newline. fn == NULL restores the default (stderr, WARN and
 * above). Process-wide; set it before creating models or contexts. */
typedef void (*eg_log_fn)(enum eg_log_level level, const char *msg, void *user);
EG_API void eg_log_set(eg_log_fn fn, void *user);
EG_API void eg_log_set_level(enum eg_log_level max_level);

/* Kernel table selection. EG_ISA_AUTO picks the best table the CPU and OS support; the environment variable
 * EDGEGEN_ISA=ref|avx2|avx512|neon|neon-dotprod overrides AUTO. Forcing a table the CPU cannot run is
 * EG_ERR_UNSUPPORTED. EG_ISA_NEON_DOTPROD ("neon-dotprod"): AArch64 with the dot product extension (Pi 5). */
enum eg_isa { EG_ISA_AUTO = 0, EG_ISA_REF, EG_ISA_AVX2, EG_ISA_AVX512, EG_ISA_NEON, EG_ISA_NEON_DOTPROD };

/* EDGEGEN_VERSION as a string, e.g. "0.1.0". Never NULL; static storage. */
EG_API const char *eg_version(void);

/* ==== model: AR + codec decoder, immutable, shareable ======================================================= */

struct eg_model;   /* opaque */

/* Load a TTS model: ar_path is the AR GGUF ("edgegen.ar"), codec_path the codec decoder GGUF ("edgegen.codec").
 * codec_path == NULL: the decoder is looked for next to the AR file, first found: pico-voice-q8_0.gguf,
 * pico-voice-f16.gguf, pico-voice-f32.gguf (the 22.05 kHz voice v2 decoder, "edgegen.voice"), then
 * pico-codec-q8_0.gguf, pico-codec-f16.gguf, pico-codec-f32.gguf (16 kHz), each name in the AR file's directory,
 * then ../voice/, then ../codec/ relative to it. The output rate is the decoder's: eg_model_sample_rate(). Both files are mapped
 * read-only (zero-copy) and fully validated; the paths are borrowed for the call only.
 * Returns the model, or NULL with *err (err may be NULL): EG_ERR_INVALID_ARG (ar_path NULL), EG_ERR_IO (cannot
 * open/read, or no codec found next to the AR file), EG_ERR_FORMAT (malformed file, wrong architecture, or the
 * two files disagree on the FSQ levels; the log names the key), EG_ERR_NOMEM. Thread-safe. */
EG_API struct eg_model *eg_model_load(const char *ar_path, const char *codec_path, enum eg_status *err);
/* Speculative decoding (off by default): attach a draft AR model (a small "edgegen.ar" GGUF distilled from this
 * one, e.g. models/ar/pico-ar-draft-q8_0.gguf) that contexts with eg_ctx_params.spec_k > 0 use to propose
 * spec_k tokens per main-model pass. The draft never changes what is said: at temperature 0 the audio is
 * byte-identical to plain decoding, and sampled output has exactly the plain distribution (models/spec.h); it
 * changes only the speed. draft_path NULL detaches. Call it before creating contexts from m (not thread-safe
 * with them). Errors: EG_ERR_IO, EG_ERR_FORMAT (malformed, or the draft's codec tokens or phoneme inventory differ
 * from the model's: the log names the field), EG_ERR_NOMEM; m is then unchanged. */
EG_API enum eg_status eg_model_set_draft(struct eg_model *m, const char *draft_path);
/* Unmap and free. NULL allowed. Every context created from m must be destroyed first. */
EG_API void eg_model_free(struct eg_model *m);

/* Output sample rate in Hz (from the codec). */
EG_API int eg_model_sample_rate(const struct eg_model *m);
/* Samples per codec frame (one AR token = this many samples). */
EG_API int eg_model_frame_samples(const struct eg_model *m);
/* Phoneme inventory: ids are in [0, eg_model_n_phoneme_ids()). eg_model_phoneme_id() maps one phoneme
 * codepoint (IPA, NFD, as Piper/espeak-ng write it) to its id, -1 when the model does not know it (the special
 * symbols pad "_", bos "^", eos "$" are not returned). eg_model_special_ids() gives those three ids (any pointer
 * may be NULL). Ids for eg_ctx_synthesize_ids follow Piper's layout: bos pad p1 pad p2 pad ... eos. */
EG_API int eg_model_n_phoneme_ids(const struct eg_model *m);
EG_API int eg_model_phoneme_id(const struct eg_model *m, uint32_t codepoint);
EG_API void eg_model_special_ids(const struct eg_model *m, int *pad_id, int *bos_id, int *eos_id);

/* ==== context: one stream, all memory sized at creation ===================================================== */

struct eg_ctx;     /* opaque */

enum eg_sample_format {
    EG_SAMPLE_F32 = 0,   /* float, nominally [-1, 1] (not clamped) */
    EG_SAMPLE_S16 = 1,   /* int16: clamp to [-1, 1], * 32767, round to nearest (the WAV writer's rule) */
};

/* Where the codec decoder's network runs (the AR model and the iSTFT always run on the CPU):
 * AUTO   the environment variable EDGEGEN_BACKEND=auto|cpu|opencl if set, else auto: at eg_ctx_create an OpenCL
 *        device is probed against the CPU and used only when it is correct and faster (the verdict is cached per
 *        device, see models/stage.h); otherwise, or on any device failure, the CPU, with one warning line.
 * CPU    never touches OpenCL.
 * OPENCL strict: the device must build and pass the probe, else eg_ctx_create fails (EG_ERR_UNSUPPORTED or
 *        EG_ERR_DEVICE, one log line); a later device failure is an error, never a silent fallback.
 * The audio is the same up to the device's float rounding (probe SNR >= 50 dB); bit-exact determinism across
 * thread counts holds on the CPU. */
enum eg_device { EG_DEVICE_AUTO = 0, EG_DEVICE_CPU, EG_DEVICE_OPENCL };

/* Receives audio in stream order: n_samples mono samples of the context's format (const float * or
 * const int16_t *), at eg_model_sample_rate(). `samples` is valid only during the call. Return EG_OK to go on;
 * any other status stops the synthesis, which returns that status unchanged (use it to cancel). */
typedef enum eg_status (*eg_audio_fn)(void *user, const void *samples, int n_samples);

/* The library's side of a phonemiser (below): call it once per sentence, in order, with that sentence's
 * phoneme codepoints (n_phonemes >= 0). It synthesises the sentence before returning (audio callbacks run from
 * inside it) and returns EG_OK, or a status the phonemiser must return unchanged to stop. */
typedef enum eg_status (*eg_phonemes_fn)(void *sink, const uint32_t *phonemes, int n_phonemes);
/* A user phonemiser: split `utf8` (NUL-terminated, valid UTF-8) into sentences, phonemise each and pass it to
 * emit(sink, ...). Sentences should hold at most max_phonemes codepoints (longer ones are split by the library
 * at the last space before the limit). Return EG_OK, or the first non-OK status emit returned. */
typedef enum eg_status (*eg_phonemiser_fn)(void *user, const char *utf8, int max_phonemes,
                                           eg_phonemes_fn emit, void *sink);

struct eg_sentence_timing;   /* below: word and phoneme timings */

struct eg_ctx_params {
    /* sampling (models/sampler.h semantics) */
    uint64_t seed;            /* default 0. Each sentence reseeds from (seed, sentence index in the stream) */
    float    temperature;     /* default 0.3; <= 0: greedy */
    int      top_k;           /* default 50; <= 0: off */
    float    top_p;           /* default 1.0 (off); in (0, 1] */
    /* timing */
    float    speed;           /* default 1.0; 0.1 .. 10; durations are scaled by 1/speed (Piper length_scale) */
    int      sentence_pause_ms;  /* default 100; 0 .. 10000: silence between consecutive sentences */
    /* limits and execution */
    int      max_phonemes;    /* default 256; 1 .. 2000 codepoints per sentence (sizes the arena) */
    int      chunk_frames;    /* default 16; 1 .. 1024: the first decoder window of each sentence (later windows
                                 are max(chunk_frames, 64)). Smaller = earlier first audio; the audio is
                                 identical for any value */
    int      n_threads;       /* default 1; 1 .. 256 */
    enum eg_isa    isa;       /* default EG_ISA_AUTO (EDGEGEN_ISA honoured) */
    enum eg_device device;    /* default EG_DEVICE_AUTO */
    /* output */
    enum eg_sample_format format;   /* default EG_SAMPLE_F32 */
    eg_audio_fn on_audio;     /* required */
    void       *on_audio_user;      /* passed to on_audio; borrowed */
    /* timings (optional, default NULL): per-sentence word and phoneme times, see eg_timing_fn below */
    enum eg_status (*on_timing)(void *user, const struct eg_sentence_timing *t);
    void       *on_timing_user;
    /* speculative decoding: draft tokens per main-model pass, 0 (default, off) .. 8; needs eg_model_set_draft.
       Same audio (bit-identical at temperature 0), different speed: it pays where the main model's weights stream
       from slow memory (make bench-spec) */
    int         spec_k;
};

/* Defaults as listed above (on_audio NULL: set it). */
EG_API struct eg_ctx_params eg_ctx_default_params(void);

/* Create a context for model m (borrowed: must outlive the context). p is copied. Before allocating, the
 * memory plan (mapped weights + the context's arenas) is checked against MemAvailable, cgroup limits and
 * RLIMIT_AS/DATA; if it does not fit the log gets one line "not enough memory: needs ... available (...)" and
 * the result is NULL with EG_ERR_NOMEM. Other errors: EG_ERR_INVALID_ARG (a parameter out of range, the log
 * names it), EG_ERR_UNSUPPORTED / EG_ERR_DEVICE (isa or device not available here). Nothing is allocated after
 * this call. With device AUTO the OpenCL probe runs here (first use on a machine: up to seconds for the
 * driver's compiler; later a cached verdict). The OpenCL stage's own buffers are not in the memory plan.
 * Thread-safe (distinct contexts). */
EG_API struct eg_ctx *eg_ctx_create(const struct eg_model *m, const struct eg_ctx_params *p, enum eg_status *err);
EG_API void eg_ctx_destroy(struct eg_ctx *ctx);   /* NULL allowed */

/* Bytes the context would allocate for these params (arenas; the weights are not included), 0 on invalid
 * params. For memory plans and tests. */
EG_API size_t eg_ctx_memory_bytes(const struct eg_model *m, const struct eg_ctx_params *p);

/* How many contexts with params p this process could hold at the same time, from the memory plan eg_ctx_create
 * checks (the weights once; each context's arenas and its threads' stacks n times; against MemAvailable, cgroup
 * and rlimits as they are now), at most max_n (<= 4096). 0 when not even one fits (not logged) or on invalid
 * arguments (logged as eg_ctx_create would). For servers that size a pool of contexts up front (`edgegen serve`). Thread-safe. */
EG_API int eg_ctx_fit_count(const struct eg_model *m, const struct eg_ctx_params *p, int max_n);

/* Change the context's speed (as eg_ctx_params.speed, 0.1 .. 10) for the sentences synthesised from now on; the
 * audio is then the same as from a context created with that speed. Sizes nothing: a server sets each request's
 * speed on a pooled context. EG_ERR_INVALID_ARG (logged) for NULL or out of range; the speed is then unchanged. */
EG_API enum eg_status eg_ctx_set_speed(struct eg_ctx *ctx, float speed);

/* Start a new stream: the next sentence is sentence 0 (no pause before it, seed index 0). The synthesize calls
 * below continue the current stream, so calling _ids once per sentence gives the same audio as one _text call. */
EG_API void eg_ctx_reset(struct eg_ctx *ctx);

/* One sentence of phoneme ids (Piper layout, 3 <= n_ids <= 2 * max_phonemes + 3, each in
 * [0, eg_model_n_phoneme_ids)). Emits the pause (if not the first sentence of the stream), then the sentence's
 * audio: exactly eg_model_frame_samples() * (sum of the predicted frames) samples, faded in and out over 5 ms so
 * sentence joins do not click. Audio starts as soon as the decoder has chunk_frames frames plus its look-ahead,
 * long before the sentence is finished. Errors: EG_ERR_INVALID_ARG (ids; nothing emitted), the callback's status,
 * EG_ERR_INTERNAL. */
EG_API enum eg_status eg_ctx_synthesize_ids(struct eg_ctx *ctx, const int32_t *ids, int n_ids);

/* One sentence of phoneme codepoints: mapped with the model's inventory (unknown codepoints are dropped and
 * counted in eg_ctx_stats.n_unknown_phonemes), split at max_phonemes, then as eg_ctx_synthesize_ids. A sentence
 * with no known phoneme emits nothing. */
EG_API enum eg_status eg_ctx_synthesize_phonemes(struct eg_ctx *ctx, const uint32_t *phonemes, int n_phonemes);

/* Text: eg_ctx_reset, then phonemiser(user, utf8, max_phonemes, ...) whose sentences go through
 * eg_ctx_synthesize_phonemes. Returns when all audio has been delivered. Errors: EG_ERR_INVALID_ARG for NULL,
 * invalid UTF-8 (the log names the byte offset) or text with nothing to speak ("no speakable text": empty,
 * whitespace or punctuation only); the phonemiser's or callback's status otherwise. */
EG_API enum eg_status eg_ctx_synthesize_text(struct eg_ctx *ctx, const char *utf8, eg_phonemiser_fn phonemiser,
                                      void *user);

/* Counters since the last eg_ctx_reset (eg_ctx_synthesize_text resets), readable at any time, including from
 * inside the audio callback (then they describe the progress so far). */
struct eg_ctx_stats {
    int64_t n_sentences;          /* sentences started */
    int64_t n_frames;             /* AR frames (tokens) generated */
    int64_t n_frames_sentence;    /* frames planned for the current sentence (sum of its durations) */
    int64_t n_frames_done_sentence; /* of those, generated so far */
    int64_t n_samples;            /* samples delivered to on_audio, pauses included */
    int64_t n_unknown_phonemes;   /* codepoints the model's inventory did not have */
    int64_t n_spec_rounds;        /* speculative decoding: main-model passes (verifications) */
    int64_t n_spec_drafted;       /*   draft tokens proposed */
    int64_t n_spec_accepted;      /*   of those, accepted */
};
EG_API void eg_ctx_get_stats(const struct eg_ctx *ctx, struct eg_ctx_stats *out);
/* The kernel table in use ("avx2", "ref", ...). Static storage; "" for NULL. */
EG_API const char *eg_ctx_isa_name(const struct eg_ctx *ctx);
/* One line: where the decoder runs and why ("cpu: requested", "opencl: PoCL ...: correct (SNR 120 dB), faster
 * (ratio 1.8)", "cpu: ... CPU faster (ratio 0.07)"). Valid while the context lives. */
EG_API const char *eg_ctx_device_info(const struct eg_ctx *ctx);

/* ==== tools: what `edgegen` needs beyond synthesis (the commands use only this header) ====================== */

/* "ref" / "avx2" / "avx512" / "neon" / "neon-dotprod" / "auto" → enum eg_isa; -1 for an unknown name (or NULL).
 * eg_isa_name is the reverse ("auto" for EG_ISA_AUTO); static storage. */
EG_API int eg_isa_from_name(const char *name);
EG_API const char *eg_isa_name(enum eg_isa isa);

/* The default worker count: online cores, at most 4 (at least 1). */
EG_API int eg_default_threads(void);

/* Peak resident set size of this process so far, in bytes (getrusage / VmHWM); 0 when unknown. */
EG_API uint64_t eg_peak_rss_bytes(void);

/* Receives report text: one or more whole lines, each ending in '\n'. Called from inside the report function. */
typedef void (*eg_text_fn)(void *user, const char *text);

/* `edgegen info`: CPU model, architecture, features the CPU and OS allow (x86: XCR0), the kernel table `isa`
 * selects here and why, cores and clusters, caches, the memory this process may use and which limit binds, and
 * OpenCL (platforms, devices, and whether the decoder stage would be used: this builds the kernels and times a
 * synthetic decoder, up to seconds on first use). json: one JSON object instead of text. The text is delivered
 * once, complete. Errors: EG_ERR_UNSUPPORTED when `isa` cannot run here (the log says why), EG_ERR_NOMEM. */
EG_API enum eg_status eg_report_system(enum eg_isa isa, int json, eg_text_fn out, void *user);
/* This machine's raw CPUID/XCR0 or HWCAP values in the tests/data/cpu/ dump format (bug reports). */
EG_API enum eg_status eg_report_cpu_dump(eg_text_fn out, void *user);

struct eg_inspect_params {
    int    tensors;       /* default 1: the tensor table */
    int    all;           /* default 0: at most 200 tensor rows and 256 characters per metadata value; 1: all */
    int    n_threads;     /* 1 .. 1024: threads the memory plan is sized for (default as a context's) */
    double max_seconds;   /* 0 .. 86400: audio one context must hold, for the memory plan */
};
EG_API struct eg_inspect_params eg_inspect_default_params(void);
/* `edgegen inspect`: validate a GGUF model file (every byte, as loading does) and report its header, metadata,
 * tensors, totals per type and the memory plan of model + context against the memory this process may use.
 * Before mapping, the file size alone is checked against the limits (EDGEGEN_NO_MMAP=1: read, not mapped).
 * Errors (one log line names the file and field, or the limit): EG_ERR_IO, EG_ERR_FORMAT, EG_ERR_NOMEM (the plan
 * does not fit: the report up to the plan is still delivered), EG_ERR_INVALID_ARG. */
EG_API enum eg_status eg_report_model(const char *path, const struct eg_inspect_params *p, eg_text_fn out, void *user);

/* ---- the codec decoder alone: codec tokens → PCM (`edgegen decode`) --------------------------------------- */

struct eg_codec;   /* opaque: one codec model, its kernel table and threads, one streaming decoder */

struct eg_codec_params {
    int            n_threads;      /* default 1; 1 .. 256; the audio is bit-identical for any value */
    enum eg_isa    isa;            /* default EG_ISA_AUTO (EDGEGEN_ISA honoured) */
    enum eg_device device;         /* default EG_DEVICE_AUTO (EDGEGEN_BACKEND honoured), as eg_ctx_params */
    int            chunk_frames;   /* default 256; 1 .. 65536 frames per decoder window (the audio is the same) */
    eg_text_fn     report;         /* optional: the memory plan lines and the placement's reason, at open */
    void          *report_user;
};
EG_API struct eg_codec_params eg_codec_default_params(void);

/* Load a codec decoder GGUF ("edgegen.codec"), check its memory plan against the limits before allocating
 * (EG_ERR_NOMEM with one log line when it does not fit), choose the kernel table and the device as
 * eg_ctx_create does. NULL with *err (err may be NULL): EG_ERR_INVALID_ARG, EG_ERR_IO, EG_ERR_FORMAT,
 * EG_ERR_NOMEM, EG_ERR_UNSUPPORTED, EG_ERR_DEVICE. */
EG_API struct eg_codec *eg_codec_open(const char *path, const struct eg_codec_params *p, enum eg_status *err);
EG_API void eg_codec_close(struct eg_codec *c);   /* NULL allowed */

EG_API int eg_codec_sample_rate(const struct eg_codec *c);
EG_API int eg_codec_frame_samples(const struct eg_codec *c);   /* samples per token */
/* > 0: the codec is phoneme-conditioned and every token needs its frame's phoneme id in [0, n). */
EG_API int eg_codec_n_phonemes(const struct eg_codec *c);
/* The memory plan's total in bytes (what eg_codec_open checked). */
EG_API uint64_t eg_codec_memory_estimate(const struct eg_codec *c);
/* One line without newline: "(dim D, ffn F, L layers, n_fft N, hop H), kernels K, T thread(s), network on X". */
EG_API void eg_codec_describe(const struct eg_codec *c, char *buf, size_t len);

/* EG_OK when every token is in [0, n_codes) and (conditioned codecs) phones is non-NULL with every id in
 * [0, eg_codec_n_phonemes); else EG_ERR_INVALID_ARG with a log line naming the position (first_pos + index). */
EG_API enum eg_status eg_codec_check(const struct eg_codec *c, const int32_t *tokens, const int32_t *phones, int n,
                              int64_t first_pos);
/* Append n tokens (and their frame phoneme ids; NULL for an unconditioned codec), all checked first (a bad value
 * consumes nothing), and deliver every sample no later token can change to on_audio as float (mono, nominally
 * [-1, 1]). The stream lags the input by the decoder's receptive field. */
EG_API enum eg_status eg_codec_push(struct eg_codec *c, const int32_t *tokens, const int32_t *phones, int n,
                             eg_audio_fn on_audio, void *user);
/* End of stream: the rest of the audio (the stream then totals n_tokens * frame samples), then start over. */
EG_API enum eg_status eg_codec_flush(struct eg_codec *c, eg_audio_fn on_audio, void *user);

/* ---- WAV output: 16-bit PCM mono (or headerless s16le) that never leaves a half-written file ---------------
 * A file is written to a temporary name in the target's directory and renamed over the target only by
 * eg_wav_close(); eg_wav_abort() (or any failure) removes the temporary. Path "-" streams to stdout: the header
 * carries the exact sizes when the sample count is known up front, else 0xFFFFFFFF ("unknown length", as
 * sox/ffmpeg write to pipes); a seekable stdout is patched at close. Write errors, EPIPE included (ignore
 * SIGPIPE), are EG_ERR_IO with the OS reason logged. */
struct eg_wav;
struct eg_wav_params {
    int      sample_rate_hz;     /* 1 .. 1,000,000 */
    int      raw;                /* 1: no header, bare s16le samples */
    uint64_t n_samples_hint;     /* total samples if known (exact header on pipes), 0 = unknown */
};
/* path: output file, or "-" for stdout. Errors: EG_ERR_INVALID_ARG, EG_ERR_IO (directory not writable, ...),
 * EG_ERR_NOMEM. */
EG_API enum eg_status eg_wav_open(const char *path, const struct eg_wav_params *p, struct eg_wav **out);
/* Append mono float samples: clamped to [-1, 1], scaled by 32767, rounded to nearest (EG_SAMPLE_S16's rule). */
EG_API enum eg_status eg_wav_write_f32(struct eg_wav *w, const float *pcm, size_t n);
/* Flush, fix the header, fsync and rename into place; frees w in every case. On error the temporary is
 * removed and the target is left untouched. */
EG_API enum eg_status eg_wav_close(struct eg_wav *w);
/* Discard: remove the temporary (stdout: just stop) and free w. NULL allowed. */
EG_API void eg_wav_abort(struct eg_wav *w);
/* Samples written so far. */
EG_API uint64_t eg_wav_n_samples(const struct eg_wav *w);

/* ==== text front end: plain text, inline phonemes, SSML, a user lexicon, timings (runtime/text/, MIT) ========== *
 *
 * eg_ctx_synthesize_markup() takes text as a user writes it and does, in the library:
 *   1. markup: plain text (with inline phonemes "[[ hˈɛloʊ ]]") or SSML (a subset, parsed with expat; below);
 *   2. normalisation: written forms become words ("$5.50" → "five dollars fifty cents"; tests/data/normalize_spec.tsv
 *      is the specification, with the reasoning for every ambiguous reading); text in a script the voice cannot
 *      speak (Chinese, Japanese, Korean, Arabic, Hebrew, Cyrillic, ...) is skipped with one warning per input;
 *   3. the lexicon: a normalised word found in it is spoken with the lexicon's phonemes;
 *   4. the phonemiser (the caller's, e.g. the CLI's espeak-ng front end) for everything else;
 * and synthesises the sentences in order, reporting each sentence's word and phoneme timings (on_timing).
 *
 *   static enum eg_status on_timing(void *user, const struct eg_sentence_timing *t) {   // before its audio
 *       for (int i = 0; i < t->n_words; i++)
 *           printf("%.2f-%.2f %s\n", t->words[i].start_sample / 16000.0, t->words[i].end_sample / 16000.0, t->words[i].text);
 *       return EG_OK;
 *   }
 *   struct eg_lexicon *lex;
 *   if (eg_lexicon_load("names.lex", &lex) != EG_OK) ...;                    // "Siobhan ʃɪvˈɔːn" per line
 *   struct eg_text_params tp = eg_text_default_params();
 *   tp.lexicon = lex;
 *   p.on_timing = on_timing;                                                   // in eg_ctx_params, before create
 *   err = eg_ctx_synthesize_markup(ctx, "<speak>Siobhan <break time=\"300ms\"/> paid $5.</speak>", &tp,
 *                                  my_phonemiser, my_state);
 *   eg_lexicon_free(lex);
 *
 * Phoneme alphabet (inline, <phoneme alphabet="ipa">, lexicon): IPA exactly as the model's inventory spells it,
 * one codepoint per symbol (Unicode NFD: write "ç" as c + U+0327), stress marks ˈ ˌ and length ː as separate
 * symbols — the alphabet `edgegen phonemize` prints. A space separates words. A symbol the model has no id for
 * is an error naming it (EG_ERR_INVALID_ARG, before any audio).
 *
 * SSML subset (W3C SSML 1.1 names): <speak> (root; attributes ignored), <p>, <s> (sentence boundaries),
 * <break time="250ms|1.5s" strength="none|x-weak|weak|medium|strong|x-strong"/> (silence of that length:
 * 0, 100, 200, 400, 700, 1200 ms; time wins over strength; a break ends the sentence and replaces the sentence
 * pause there; consecutive breaks add up), <phoneme alphabet="ipa" ph="..">text</phoneme> (the text is spoken
 * as ph), <sub alias="..">text</sub> (alias spoken instead), <say-as interpret-as="characters|spell-out|
 * cardinal|ordinal|digits|date|time|telephone" format="mdy|dmy|ymd|..">, <prosody rate="x-slow|slow|medium|
 * fast|x-fast|N%|N">: speaking rate x 0.6, 0.8, 1, 1.25, 1.6, N/100 or N (0.25 .. 4), multiplied into the
 * context's speed for the phonemes inside (nested prosody multiplies). Other prosody attributes and unknown
 * elements: their text is read, with one warning per input. Malformed XML, a wrong root, a bad attribute value:
 * EG_ERR_INVALID_ARG with one log line "SSML: line L, column C: ...", before any audio.
 */

struct eg_lexicon;   /* opaque: word → phonemes */

/* Load a lexicon file (UTF-8): one entry a line, "WORD<spaces or tab>PHONEMES"; '#' starts a comment (a whole
 * line, or after whitespace); blank lines are skipped. WORD is one word as it appears in the normalised text:
 * letters and digits, with inner apostrophes, hyphens or periods ("O'Neill", "e-mail"); PHONEMES is the rest of the
 * line (IPA as above; spaces inside make several spoken words). Matching: surrounding punctuation of a text word
 * is ignored ("Siobhan," matches Siobhan); an entry matches exactly, else a text word whose lower-case form (ASCII
 * letters) equals an entry that is all lower case — so "nasa" matches NASA and Nasa, while "US" matches only US.
 * A word listed twice is an error. Errors (one log line "FILE:LINE: ...", nothing returned): EG_ERR_IO (cannot
 * read), EG_ERR_FORMAT (a line without phonemes, a bad word, invalid UTF-8, a duplicate), EG_ERR_NOMEM. */
EG_API enum eg_status eg_lexicon_load(const char *path, struct eg_lexicon **out);
/* The same from memory (n_bytes of text; `name` is used in messages, borrowed for the call). */
EG_API enum eg_status eg_lexicon_parse(const char *text, size_t n_bytes, const char *name, struct eg_lexicon **out);
EG_API void eg_lexicon_free(struct eg_lexicon *lex);   /* NULL allowed */
/* Number of entries; the phonemes for one word (n_bytes of UTF-8, the matching rule above) or NULL. The string
 * is valid while the lexicon lives. Thread-safe (a loaded lexicon is immutable). */
EG_API int eg_lexicon_size(const struct eg_lexicon *lex);
EG_API const char *eg_lexicon_lookup(const struct eg_lexicon *lex, const char *word, size_t n_bytes);
/* Every entry's phonemes must be in m's inventory: EG_OK, or EG_ERR_INVALID_ARG with one log line
 * "FILE:LINE: phoneme 'x' (U+0078) is not in the model's inventory". */
EG_API enum eg_status eg_lexicon_check(const struct eg_lexicon *lex, const struct eg_model *m);

enum eg_text_format {
    EG_TEXT_AUTO = 0,    /* SSML when the text begins (after whitespace, a BOM or an <?xml ...?> declaration) with
                          * "<speak", else plain */
    EG_TEXT_PLAIN = 1,   /* plain text with inline phonemes [[ ... ]] */
    EG_TEXT_SSML = 2,
};

struct eg_text_params {
    enum eg_text_format format;        /* default EG_TEXT_AUTO */
    int normalize;                     /* default 1: written forms → words (0: the text goes to the phonemiser as is) */
    const struct eg_lexicon *lexicon;  /* default NULL; borrowed for the call */
    int max_phonemes;                  /* default 256, 1 .. 2000: longer sentences are split at a word boundary
                                        * (eg_ctx_synthesize_markup uses the context's max_phonemes instead) */
};
EG_API struct eg_text_params eg_text_default_params(void);

/* Where a word's phonemes came from. */
enum eg_word_source { EG_WORD_PHONEMISER = 0, EG_WORD_LEXICON = 1, EG_WORD_INLINE = 2 /* [[ ]] or <phoneme> */ };

struct eg_text_word {
    const char *text;        /* NUL-terminated UTF-8, as spoken (normalised; the alias of <sub>) */
    int first_phoneme;       /* its phonemes are phonemes[first_phoneme .. first_phoneme + n_phonemes) */
    int n_phonemes;
    enum eg_word_source source;
};

/* One sentence as the front end hands it to synthesis (eg_text_process). Pointers are valid during the call. */
struct eg_text_sentence {
    int64_t index;                 /* 0, 1, ... in the input */
    const char *text;              /* its normalised text (what was spoken), NUL-terminated */
    const uint32_t *phonemes;      /* [n_phonemes] codepoints; ' ' between words */
    int n_phonemes;                /* 0: a pause only (a <break> with no speech after it) */
    const float *rate;             /* [n_phonemes] speaking-rate factor from <prosody> (1 = the context's speed) */
    const uint8_t *given;          /* [n_phonemes] 1 = written by the user (lexicon, [[ ]], <phoneme>) */
    const struct eg_text_word *words;
    int n_words;
    int pause_ms;                  /* silence before it: -1 = the context's rule (sentence_pause_ms, none before
                                    * the first sentence), else exactly this many ms (from <break>) */
};
typedef enum eg_status (*eg_text_sentence_fn)(void *user, const struct eg_text_sentence *s);

/* The front end alone (no model): markup → normalisation → lexicon → phonemiser → fn(user, sentence) per
 * sentence, in order. The whole input is parsed before the first sentence, so a markup error calls fn zero
 * times. Words the phonemiser runs together ("of the" → ʌvðə) are split at the phoneme boundary that best fits
 * their lengths when phonemised alone. Errors: EG_ERR_INVALID_ARG (NULL, invalid UTF-8, malformed markup; one
 * log line), EG_ERR_NOMEM, or the phonemiser's / fn's status. Reentrant. */
EG_API enum eg_status eg_text_process(const char *utf8, const struct eg_text_params *tp, eg_phonemiser_fn phonemiser,
                               void *phonemiser_user, eg_text_sentence_fn fn, void *user);

/* Check text before synthesis, without phonemising: the markup parses, and every user-written phoneme (inline,
 * <phoneme>, every lexicon entry) is in m's inventory. EG_OK, or EG_ERR_INVALID_ARG with one log line naming the
 * place (line and column, or lexicon file and line) and the symbol. */
EG_API enum eg_status eg_text_check(const char *utf8, const struct eg_text_params *tp, const struct eg_model *m);

/* eg_ctx_reset, then eg_text_process with the context's max_phonemes, synthesising each sentence: its phonemes
 * go through the model's inventory (unknown phonemiser symbols are dropped and counted as for
 * eg_ctx_synthesize_phonemes; an unknown user-written symbol is EG_ERR_INVALID_ARG naming it, checked for the
 * whole input before any audio), durations are scaled per phoneme by 1/(speed x rate), and pause_ms is honoured.
 * tp NULL: defaults. Errors as eg_ctx_synthesize_text and eg_text_process. */
EG_API enum eg_status eg_ctx_synthesize_markup(struct eg_ctx *ctx, const char *utf8, const struct eg_text_params *tp,
                                        eg_phonemiser_fn phonemiser, void *user);

/* ---- timings: from the AR model's own durations, exact to the frame ----------------------------------------- */

struct eg_phoneme_timing {
    uint32_t phoneme;                  /* codepoint */
    int64_t start_sample, end_sample;  /* [start, end) in stream samples since eg_ctx_reset; end - start is a
                                        * multiple of eg_model_frame_samples() (its frames plus the pad after it) */
    int word;                          /* index into words, -1 for spaces and punctuation between words */
};
struct eg_word_timing {
    const char *text;                  /* NUL-terminated UTF-8 (eg_text_word.text); "" from _phonemes / _ids */
    int64_t start_sample, end_sample;  /* first phoneme's start .. last phoneme's end */
    int first_phoneme, n_phonemes;     /* into phonemes */
};
struct eg_sentence_timing {
    int64_t index;                     /* sentence index in the stream */
    const char *text;                  /* "" when synthesised from phonemes or ids */
    int64_t start_sample, end_sample;  /* the sentence's audio (after its pause), end - start = frames x hop */
    const struct eg_word_timing *words;       int n_words;
    const struct eg_phoneme_timing *phonemes; int n_phonemes;   /* the phonemes the model spoke (unknown ones
                                                                 * dropped), in order */
};
/* Called once per sentence, after its durations are known and before its first audio sample is delivered (so a
 * player can schedule captions or mouth shapes ahead), from the synthesising thread. Pointers are valid during the
 * call. Return EG_OK to go on; any other status stops the synthesis with that status. Set it in
 * eg_ctx_params.on_timing. Seconds = sample / eg_model_sample_rate(). */
typedef enum eg_status (*eg_timing_fn)(void *user, const struct eg_sentence_timing *t);

#ifdef __cplusplus
}
#endif
#endif /* EDGEGEN_H */
