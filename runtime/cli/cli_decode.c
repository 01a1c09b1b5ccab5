/* runtime/cli/cli_decode.c — `edgegen decode TOKENS -o out.wav`: codec tokens → speech with the NAR decoder.
 *
 * Tokens are whitespace-separated integers (FSQ codes) from a file or stdin; for a phoneme-conditioned codec each
 * is written TOKEN:PHONEME (the frame's phoneme id). Without --chunk all tokens are read
 * and checked first, so a bad token fails before any output exists; with --chunk tokens are decoded as they
 * arrive (a pipe from a token generator) and audio is written as soon as it is final. Output goes through
 * the library's WAV writer: temp file + rename (no partial file on failure), or a pipe-safe stream to stdout with
 * `-o -`. Everything goes through the public API (edgegen.h eg_codec_*, eg_wav_*).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen decode [TOKENS] -o OUT [options]\n"
            "\n"
            "Decode codec tokens (FSQ codes, whitespace-separated integers) to 16-bit mono speech with the NAR\n"
            "decoder. TOKENS is a text file; \"-\" or no argument reads stdin. A phoneme-conditioned codec\n"
            "(edgegen.codec.n_phonemes in `edgegen inspect`) takes TOKEN:PHONEME pairs, the phoneme id of each\n"
            "frame; other codecs ignore a :PHONEME suffix. A voice v2 decoder (edgegen.voice) decodes the same\n"
            "tokens at its own rate (22050 Hz); the WAV header (and --raw) carry the decoder's rate.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT   WAV file to write (written to a temporary name and renamed when complete:\n"
            "                     a failed decode leaves no file); \"-\" streams to stdout\n"
            "  -m, --model PATH   decoder GGUF (default: pico-codec-q8_0.gguf, else pico-codec-f32.gguf, searched\n"
            "                     in $EDGEGEN_MODEL_DIR, <binary>/../models, " EG_DATADIR "/models;\n"
            "                     each directory is tried as is and with a codec/ subdirectory)\n"
            "  -t, --threads N    worker threads, 1..256 (default: online cores, at most 4); the output is\n"
            "                     bit-identical for any N\n"
            "      --isa NAME     kernel table: auto, ref, avx2, avx512, neon, neon-dotprod (default auto; overrides EDGEGEN_ISA)\n"
            "      --device D     where the decoder's network runs: auto, cpu, opencl (default auto, or\n"
            "                     $EDGEGEN_BACKEND). auto uses an OpenCL device only when a self-test proves it\n"
            "                     correct and faster than the CPU (-v says why not); opencl requires it (strict:\n"
            "                     any OpenCL failure is an error, no CPU fallback). The iSTFT runs on the CPU\n"
            "      --raw          write headerless s16le samples instead of WAV\n"
            "      --chunk N      streaming: decode as tokens arrive, N frames per window (1..65536); the audio is\n"
            "                     the same as without --chunk, it just starts sooner. The WAV sizes are then\n"
            "                     0xFFFFFFFF (\"unknown\") on a pipe, and patched at the end in a file\n"
            "  -v, --verbose      print the model, kernel table, timing and real-time factor to stderr\n"
            "  -h, --help         this help\n"
            "\n"
            "A token outside [0, prod(fsq_levels)), a phoneme id outside [0, n_phonemes) or a missing :PHONEME for\n"
            "a phoneme-conditioned codec is an error naming its position and value; nothing is written.\n"
            "\n"
            "environment:\n"
            "  EDGEGEN_MODEL_DIR   first directory searched for the default model\n"
            "  EDGEGEN_ISA         kernel table when --isa is not given\n"
            "  EDGEGEN_BACKEND     auto|cpu|opencl when --device is not given\n"
            "  EDGEGEN_CL_DEVICE   OpenCL platform:device (indices as `edgegen info` lists them)\n"
            "  EDGEGEN_CL_MIN_RATIO  auto accepts the device when CPU time / device time exceeds this (default 1)\n"
            "\n"
            "exit status: 0 ok, 1 failure (bad input, model, I/O; one line on stderr says why), 2 usage error\n"
            "\n"
            "examples:\n"
            "  edgegen decode tokens.txt -o speech.wav\n"
            "  cat tokens.txt | edgegen decode --chunk 8 -o - | aplay\n");
}

/* ---- token input --------------------------------------------------------------------------------------------- */

static int parse_i32(const char *s, int32_t *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < INT32_MIN || v > INT32_MAX) return 0;
    *out = (int32_t)v;
    return 1;
}

/* Next whitespace-separated TOKEN or TOKEN:PHONEME (*ph = -1 when absent); 1 ok, 0 end of input, -1 malformed
 * (logged with its position). need_ph: the codec is phoneme-conditioned, so the :PHONEME part is required. */
static int next_token(FILE *f, int64_t pos, int need_ph, int32_t *tok, int32_t *ph) {
    char word[32];
    int c, n = 0;
    while ((c = getc(f)) != EOF && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')) {}
    if (c == EOF) return 0;
    while (c != EOF && !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')) {
        if (n < (int)sizeof word - 1) word[n++] = (char)c;
        else n = (int)sizeof word;   /* too long: reported below */
        c = getc(f);
    }
    if (n >= (int)sizeof word) {
        eg_cli_error("token %lld: not an integer (too long)", (long long)pos);
        return -1;
    }
    word[n] = 0;
    char *colon = strchr(word, ':');
    if (colon) *colon = 0;
    if (!parse_i32(word, tok) || (colon && !parse_i32(colon + 1, ph))) {
        if (colon) *colon = ':';
        eg_cli_error("token %lld: \"%s\" is not an integer or TOKEN:PHONEME pair", (long long)pos, word);
        return -1;
    }
    if (!colon) *ph = -1;
    if (need_ph && !colon) {
        eg_cli_error("token %lld: the codec is phoneme-conditioned: expected TOKEN:PHONEME, found \"%s\"", (long long)pos, word);
        return -1;
    }
    return 1;
}

/* All tokens of f (and their phoneme ids, -1 where absent) into growing arrays. */
static enum eg_status read_tokens(FILE *f, int need_ph, int32_t **out, int32_t **ph_out, int *n_out) {
    int32_t *t = NULL, *p = NULL, v, w;
    int n = 0, cap = 0, r;
    while ((r = next_token(f, n, need_ph, &v, &w)) == 1) {
        if (n == cap) {
            if (cap >= INT_MAX / 2) { free(t); free(p); eg_cli_error("too many tokens"); return EG_ERR_INVALID_ARG; }
            cap = cap ? 2 * cap : 4096;
            int32_t *nt = realloc(t, sizeof *t * (size_t)cap);
            if (nt) t = nt;
            int32_t *np = nt ? realloc(p, sizeof *p * (size_t)cap) : NULL;
            if (!np) { free(t); free(p); return EG_ERR_NOMEM; }
            p = np;
        }
        t[n] = v;
        p[n++] = w;
    }
    if (r < 0 || ferror(f)) {
        if (ferror(f)) eg_cli_error("reading tokens: %s", strerror(errno));
        free(t); free(p);
        return EG_ERR_INVALID_ARG;
    }
    *out = t;
    *ph_out = p;
    *n_out = n;
    return EG_OK;
}

/* ---- the command ---------------------------------------------------------------------------------------------- */

static enum eg_status wav_sink(void *user, const void *pcm, int n) {
    return eg_wav_write_f32(user, pcm, (size_t)n);
}

static void report_line(void *user, const char *text) { (void)user; fputs(text, stderr); }

static int run(int argc, char **argv) {
    const char *in_path = NULL, *out_path = NULL, *model_path = NULL;
    int threads = 0, raw = 0, chunk = 0, verbose = 0, isa = EG_ISA_AUTO, device = EG_DEVICE_AUTO;
    char model_buf[PATH_MAX + 64];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL() do { if (!val) { fprintf(stderr, "edgegen decode: %s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { NEED_VAL(); out_path = val; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { NEED_VAL(); model_path = val; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED_VAL();
            if (!eg_cli_parse_int(val, 1, 256, &threads)) { fprintf(stderr, "edgegen decode: --threads: expected 1..256, got '%s'\n", val); return 2; }
        } else if (!strcmp(a, "--chunk")) {
            NEED_VAL();
            if (!eg_cli_parse_int(val, 1, 65536, &chunk)) { fprintf(stderr, "edgegen decode: --chunk: expected 1..65536 frames, got '%s'\n", val); return 2; }
        } else if (!strcmp(a, "--isa")) {
            NEED_VAL();
            if ((isa = eg_isa_from_name(val)) < 0) { fprintf(stderr, "edgegen decode: --isa: unknown table '%s' (auto, ref, avx2, avx512, neon, neon-dotprod)\n", val); return 2; }
        } else if (!strcmp(a, "--device")) {
            NEED_VAL();
            if (!strcmp(val, "auto")) device = EG_DEVICE_AUTO;
            else if (!strcmp(val, "cpu")) device = EG_DEVICE_CPU;
            else if (!strcmp(val, "opencl")) device = EG_DEVICE_OPENCL;
            else { fprintf(stderr, "edgegen decode: --device: expected auto, cpu or opencl, got '%s'\n", val); return 2; }
        } else if (!strcmp(a, "--raw")) raw = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) verbose = 1;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "edgegen decode: unknown option '%s' (edgegen decode --help)\n", a); return 2; }
        else if (!in_path) in_path = a;
        else { fprintf(stderr, "edgegen decode: more than one TOKENS argument ('%s', '%s')\n", in_path, a); return 2; }
#undef NEED_VAL
    }
    if (!out_path) { fprintf(stderr, "edgegen decode: no output: give -o FILE, or -o - for stdout\n"); return 2; }
    if (!in_path) in_path = "-";
    if (!model_path) {
        static const char *const names[] = { "pico-codec-q8_0.gguf", "pico-codec-f32.gguf", NULL };
        if (!eg_cli_default_model("codec", names, model_buf, sizeof model_buf)) {
            fprintf(stderr, "edgegen decode: no model given and none of pico-codec-q8_0.gguf, pico-codec-f32.gguf "
                            "found (searched %s); use --model PATH\n", eg_cli_model_dirs());
            return 1;
        }
        model_path = model_buf;
    }
    if (!threads) threads = eg_default_threads();
    /* a closed stdout pipe must be a write error (EPIPE), not a silent death by SIGPIPE */
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    enum eg_status st;
    FILE *in = NULL;
    int32_t *tokens = NULL, *phones = NULL;
    int n_tokens = 0;
    struct eg_codec *codec = NULL;
    struct eg_wav *wav = NULL;
    const uint64_t t0 = eg_cli_time_ns();

    in = strcmp(in_path, "-") ? fopen(in_path, "r") : stdin;
    if (!in) { eg_cli_error("cannot open %s: %s", in_path, strerror(errno)); goto out; }
    struct eg_codec_params cp = eg_codec_default_params();
    cp.n_threads = threads;
    cp.isa = (enum eg_isa)isa;
    cp.device = (enum eg_device)device;
    cp.chunk_frames = chunk ? chunk : 256;
    if (verbose) cp.report = report_line;
    if (!(codec = eg_codec_open(model_path, &cp, &st))) goto out;
    const uint64_t t1 = eg_cli_time_ns();   /* decode time excludes loading */

    const int need_ph = eg_codec_n_phonemes(codec) > 0, rate = eg_codec_sample_rate(codec);
    struct eg_wav_params wp = { .sample_rate_hz = rate, .raw = raw };
    if (!chunk) {
        /* whole input first: every token checked before the output file exists */
        if ((st = read_tokens(in, need_ph, &tokens, &phones, &n_tokens)) != EG_OK) goto out;
        if (n_tokens == 0) { eg_cli_error("%s: no tokens", in_path); goto out; }
        if ((st = eg_codec_check(codec, tokens, phones, n_tokens, 0)) != EG_OK) goto out;
        wp.n_samples_hint = (uint64_t)n_tokens * (uint64_t)eg_codec_frame_samples(codec);
        if ((st = eg_wav_open(out_path, &wp, &wav)) != EG_OK) goto out;
        if ((st = eg_codec_push(codec, tokens, phones, n_tokens, wav_sink, wav)) != EG_OK) goto out;
    } else {
        /* streaming: push every `chunk` tokens as they are read */
        int32_t *buf = malloc(sizeof *buf * 2 * (size_t)chunk), *pbuf = buf + (buf ? chunk : 0);
        int n = 0, r;
        if (!buf) goto out;
        if ((st = eg_wav_open(out_path, &wp, &wav)) != EG_OK) { free(buf); goto out; }
        st = EG_OK;
        while (st == EG_OK && (r = next_token(in, n_tokens, need_ph, &buf[n], &pbuf[n])) == 1) {
            n_tokens++;
            if (++n == chunk) { st = eg_codec_push(codec, buf, pbuf, n, wav_sink, wav); n = 0; }
        }
        if (st == EG_OK && r < 0) st = EG_ERR_INVALID_ARG;
        if (st == EG_OK && n) st = eg_codec_push(codec, buf, pbuf, n, wav_sink, wav);
        free(buf);
        if (st != EG_OK) goto out;
        if (n_tokens == 0) { eg_cli_error("%s: no tokens", in_path); goto out; }
    }
    if ((st = eg_codec_flush(codec, wav_sink, wav)) != EG_OK) goto out;
    const uint64_t n_samples = eg_wav_n_samples(wav);
    st = eg_wav_close(wav);
    wav = NULL;
    if (st != EG_OK) goto out;
    if (verbose) {
        char desc[256];
        const char *be = getenv("EDGEGEN_BACKEND");
        const int cpu_only = device == EG_DEVICE_CPU || (device == EG_DEVICE_AUTO && be && !strcmp(be, "cpu"));
        const double sec = (double)(eg_cli_time_ns() - t1) * 1e-9, audio = (double)n_samples / rate;
        eg_codec_describe(codec, desc, sizeof desc);
        fprintf(stderr, "loaded in %.1f ms; decoded %d tokens → %llu samples (%.2f s) in %.3f s (reading input and "
                        "writing included): RTF %.4f (%.0fx real time)\n",
                (double)(t1 - t0) * 1e-6, n_tokens, (unsigned long long)n_samples, audio, sec, sec / audio, audio / sec);
        fprintf(stderr, "model %s %s\n", model_path, desc);
        fprintf(stderr, "memory: estimated %.2f MiB, peak RSS %.2f MiB%s\n",
                (double)eg_codec_memory_estimate(codec) / 1048576.0, (double)eg_peak_rss_bytes() / 1048576.0,
                cpu_only ? "" : " (the estimate leaves out the OpenCL runtime; --device cpu)");
    }
    rc = 0;

out:
    if (rc != 0 && strcmp(out_path, "-") != 0 && verbose) fprintf(stderr, "edgegen decode: nothing written to %s\n", out_path);
    eg_wav_abort(wav);
    eg_codec_close(codec);
    free(tokens);
    free(phones);
    if (in && in != stdin) fclose(in);
    return rc;
}

const struct eg_cli_cmd eg_cli_decode = {
    .name = "decode",
    .summary = "codec tokens → speech (WAV) with the NAR decoder",
    .run = run,
};
