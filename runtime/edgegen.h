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
 * (eg_ctx_synthesize_phonemes; mapped with the model's inventory) or text plus a phonemiser callback
 * (eg_ctx_synthesize_text). The `edgegen` CLI plugs in its espeak-ng front end (runtime/text/text.c, GPL-3) that way.
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
 * Licence: the library is MIT-licensed. The text front end (runtime/text*.c) links libespeak-ng (GPL-3); a
 * binary that includes it, such as the `edgegen` CLI, is GPL-3 as a whole.
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
 * codec_path == NULL: the codec is looked for next to the AR file: in its directory, then in ../codec/ relative
 * to it, as pico-codec-q8_0.gguf, pico-codec-f16.gguf, pico-codec-f32.gguf (first found). Both files are mapped
 * read-only (zero-copy) and fully validated; the paths are borrowed for the call only.
 * Returns the model, or NULL with *err (err may be NULL): EG_ERR_INVALID_ARG (ar_path NULL), EG_ERR_IO (cannot
 * open/read, or no codec found next to the AR file), EG_ERR_FORMAT (malformed file, wrong architecture, or the
 * two files disagree on the FSQ levels; the log names the key), EG_ERR_NOMEM. Thread-safe. */
EG_API struct eg_model *eg_model_load(const char *ar_path, const char *codec_path, enum eg_status *err);
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
 *        device, see opencl/cl_decoder.h); otherwise, or on any device failure, the CPU, with one warning line.
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
};
EG_API void eg_ctx_get_stats(const struct eg_ctx *ctx, struct eg_ctx_stats *out);
/* The kernel table in use ("avx2", "ref", ...). Static storage; "" for NULL. */
EG_API const char *eg_ctx_isa_name(const struct eg_ctx *ctx);
/* One line: where the decoder runs and why ("cpu: requested", "opencl: PoCL ...: correct (SNR 120 dB), faster
 * (ratio 1.8)", "cpu: ... CPU faster (ratio 0.07)"). Valid while the context lives. */
EG_API const char *eg_ctx_device_info(const struct eg_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* EDGEGEN_H */
