/* tests/bench_tts.c — end-to-end TTS timing through the public API (make bench / make bench-tts).
 *
 * For a 20-word sentence (phonemes fixed below, espeak-ng en-us output, so the bench needs no GPL front end):
 *   - time to first audio: from eg_ctx_synthesize_phonemes() to the first on_audio callback;
 *   - RTF: synthesis time / audio duration (< 1 = faster than real time), whole sentence, AR + sampler + decoder;
 * at 1 and 2 threads (or -t LIST), median of REPS runs, seed 0, default sampling and chunk_frames (-c N).
 * Models: AR.gguf [CODEC.gguf] on the command line; else the trained default models/ar/pico-ar-q8_0.gguf (codec next
 * to it) when present; else the random full-size pair in build/tts-bench/ that `make bench-tts` generates
 * (tests/gen_tts_golden.py --bench: same sizes as the trained models, speech-like durations).
 * Usage: bench_tts [AR.gguf [CODEC.gguf]] [-t 1,2] [-c chunk_frames] [-r reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/edgegen.h"
#include "ports/port.h"

/* "The old lighthouse keeper walked slowly along the rocky shore, counting the boats that returned safely before
 * the storm arrived." (20 words) through runtime/text/text.c, 131 phoneme codepoints. */
static const char *const SENTENCE_IPA =   /* UTF-8 */
    "ðɪ ˈoʊld lˈaɪthaʊs kˈiːpɚ wˈɔːkt slˈoʊli ɐlˈɔŋ ðə ɹˈɑːki ʃˈoːɹ, kˈaʊntɪŋ ðə bˈoʊts ðæt ɹᵻtˈɜːnd sˈeɪfli "
    "bᵻfˌoːɹ ðə stˈoːɹm ɚɹˈaɪvd.";

#define MAX_REPS 15

struct timing { uint64_t t0, t_first; int64_t n; };

static enum eg_status on_audio(void *user, const void *samples, int n) {
    struct timing *t = user;
    (void)samples;
    if (!t->t_first) t->t_first = eg_time_ns();
    t->n += n;
    return EG_OK;
}

static int utf8_to_cps(const char *s, uint32_t *out, int max) {
    const unsigned char *u = (const unsigned char *)s;
    int n = 0;
    while (*u && n < max) {
        uint32_t cp;
        int len = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        cp = len == 1 ? *u : len == 2 ? (*u & 0x1Fu) : len == 3 ? (*u & 0x0Fu) : (*u & 0x07u);
        for (int k = 1; k < len; k++) cp = (cp << 6) | (u[k] & 0x3Fu);
        out[n++] = cp;
        u += len;
    }
    return n;
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int exists(const char *p) { struct stat sb; return stat(p, &sb) == 0; }

int main(int argc, char **argv) {
    const char *ar = NULL, *codec = NULL, *threads = "1,2";
    int chunk = 0, reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "-c") && i + 1 < argc) chunk = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!ar) ar = argv[i];
        else if (!codec) codec = argv[i];
        else { fprintf(stderr, "usage: bench_tts [AR.gguf [CODEC.gguf]] [-t 1,2] [-c chunk_frames] [-r reps]\n"); return 2; }
    }
    if (reps < 1 || reps > MAX_REPS) reps = 5;
    if (!ar) ar = exists("models/ar/pico-ar-q8_0.gguf") ? "models/ar/pico-ar-q8_0.gguf" : "build/tts-bench/pico-ar-q8_0.gguf";

    enum eg_status st;
    struct eg_model *m = eg_model_load(ar, codec, &st);
    if (!m) { fprintf(stderr, "bench_tts: cannot load %s (%s)\n", ar, eg_status_str(st)); return 1; }
    uint32_t ph[512];
    const int n_ph = utf8_to_cps(SENTENCE_IPA, ph, 512);
    printf("bench_tts: %s (+ codec), %d Hz, %d samples/frame; 20-word sentence, %d phonemes; median of %d runs\n",
           ar, eg_model_sample_rate(m), eg_model_frame_samples(m), n_ph, reps);

    for (const char *t = threads; *t;) {
        const int n_threads = atoi(t);
        struct timing tm;
        struct eg_ctx_params p = eg_ctx_default_params();
        p.n_threads = n_threads;
        if (chunk > 0) p.chunk_frames = chunk;
        p.on_audio = on_audio;
        p.on_audio_user = &tm;
        struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
        if (!ctx) { fprintf(stderr, "bench_tts: context (%d threads): %s\n", n_threads, eg_status_str(st)); eg_model_free(m); return 1; }
        double first[MAX_REPS], total[MAX_REPS];
        int64_t n_samples = 0;
        for (int r = 0; r < reps; r++) {
            memset(&tm, 0, sizeof tm);
            eg_ctx_reset(ctx);
            tm.t0 = eg_time_ns();
            if ((st = eg_ctx_synthesize_phonemes(ctx, ph, n_ph)) != EG_OK) {
                fprintf(stderr, "bench_tts: synthesis failed: %s\n", eg_status_str(st));
                eg_ctx_destroy(ctx); eg_model_free(m); return 1;
            }
            const uint64_t t1 = eg_time_ns();
            first[r] = tm.t_first ? (double)(tm.t_first - tm.t0) * 1e-6 : 0;
            total[r] = (double)(t1 - tm.t0) * 1e-9;
            n_samples = tm.n;
        }
        qsort(first, (size_t)reps, sizeof *first, cmp_d);
        qsort(total, (size_t)reps, sizeof *total, cmp_d);
        struct eg_ctx_stats s;
        eg_ctx_get_stats(ctx, &s);
        const double audio = (double)n_samples / eg_model_sample_rate(m);
        printf("  %d thread(s), %-7s chunk %3d: time to first audio %7.1f ms; %lld frames = %.2f s audio in %.3f s: "
               "RTF %.3f (%.1fx real time)\n", n_threads, eg_ctx_isa_name(ctx), p.chunk_frames, first[reps / 2],
               (long long)s.n_frames, audio, total[reps / 2], total[reps / 2] / audio, audio / total[reps / 2]);
        printf("      decoder %s\n", eg_ctx_device_info(ctx));
        eg_ctx_destroy(ctx);
        while (*t && *t != ',') t++;
        if (*t == ',') t++;
    }
    eg_model_free(m);
    return 0;
}
