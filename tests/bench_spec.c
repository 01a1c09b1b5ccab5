/* tests/bench_spec.c — speculative decoding of codec tokens, measured (make bench-spec).
 *
 * Usage: bench_spec MAIN.gguf DRAFT.gguf IDS [CODEC.gguf] [-k 1,2,4,8] [-T 0,0.3] [-n sentences] [-r reps] [--cold]
 *                   [--tts]
 * IDS: one sentence a line, its phoneme ids (Piper layout) separated by spaces (`make bench-spec` writes the first
 * 60 Harvard sentences of models/data/ar/eval.jsonl.gz, the dev sentences; the draft never saw them).
 * One thread. Per sentence the main model's durations are predicted (length_scale of the file, speed 1), then:
 *   - plain: eg_ar_step + eg_sampler_sample over every frame;
 *   - speculative, for each k: eg_spec_begin (the draft's encoder, timed) + eg_spec_next until the sentence ends;
 * at each temperature (top-k 50, seed = sentence index). Each sentence runs -r times (default 3) and its fastest
 * run counts (the box is shared: the fastest run is the one that ran alone). Reported per (T, k): draft acceptance (accepted / drafted),
 * tokens per verification (tokens / main passes), µs per token (AR + sampling, summed over the sentences), the
 * speed-up over plain and the AR real-time factor (50 frames/s: RTF = 50 * s/token).
 * --cold: before EVERY model step (plain step, draft step, verification) 96 MiB are streamed through the caches so
 *   weights come from DRAM (the small-board case, as bench_ar --cold); that time is excluded. Default 10 sentences.
 * --tts: also whole-TTS RTF through the public API (eg_ctx_synthesize_ids; AR + sampler + codec decoder), plain vs
 *   spec_k = each k, hot only, with CODEC.gguf (default: the codec next to MAIN).
 * Also printed: counted weight bytes and FLOPs per frame of both models (eg_ar_weight_bytes_per_frame,
 * eg_ar_flops_per_frame): a verification of k + 1 frames reads the main weights once and does k + 1 frames of FLOPs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/ar_lm.h"
#include "models/sampler.h"
#include "models/spec.h"
#include "ports/port.h"
#include "runtime/edgegen.h"

#define MAX_SENT 400
#define MAX_IDS 1024
#define MAX_FRAMES 4096
#define EVICT_BYTES (96u << 20)

static volatile unsigned char *g_evict;
static uint64_t g_evict_ns;
static void evict(void *user) {
    (void)user;
    const uint64_t t0 = eg_time_ns();
    unsigned s = 0;
    for (size_t i = 0; i < EVICT_BYTES; i += 64) { g_evict[i] = (unsigned char)(g_evict[i] + 1); s += g_evict[i]; }
    (void)s;
    g_evict_ns += eg_time_ns() - t0;
}

static int parse_list(const char *s, double *v, int max) {
    int n = 0;
    while (*s && n < max) {
        char *e;
        v[n++] = strtod(s, &e);
        if (e == s) return -1;
        s = *e == ',' ? e + 1 : e;
    }
    return n;
}

static int32_t g_ids[MAX_SENT][MAX_IDS];
static int g_n_ids[MAX_SENT];

static int read_ids(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "bench_spec: cannot open %s\n", path); return -1; }
    static char line[16384];
    int n = 0;
    while (n < MAX_SENT && fgets(line, sizeof line, f)) {
        char *p = line, *e;
        int k = 0;
        for (long v = strtol(p, &e, 10); e != p && k < MAX_IDS; v = strtol(p, &e, 10)) { g_ids[n][k++] = (int32_t)v; p = e; }
        if (k >= 3) g_n_ids[n++] = k;
    }
    fclose(f);
    return n;
}

struct tts_user { int64_t n; };
static enum eg_status on_audio(void *user, const void *samples, int n) {
    (void)samples;
    ((struct tts_user *)user)->n += n;
    return EG_OK;
}

int main(int argc, char **argv) {
    const char *paths[4] = { 0 };
    int n_paths = 0, cold = 0, tts = 0, n_sent = -1, reps = 3;
    double ks[16] = { 1, 2, 4, 8 }, temps[8] = { 0, 0.3 };
    int n_k = 4, n_t = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-k") && i + 1 < argc) n_k = parse_list(argv[++i], ks, 16);
        else if (!strcmp(argv[i], "-T") && i + 1 < argc) n_t = parse_list(argv[++i], temps, 8);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) n_sent = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--cold")) cold = 1;
        else if (!strcmp(argv[i], "--tts")) tts = 1;
        else if (argv[i][0] != '-' && n_paths < 4) paths[n_paths++] = argv[i];
        else { fprintf(stderr, "bench_spec: bad argument %s\n", argv[i]); return 2; }
    }
    if (n_paths < 3 || n_k < 1 || n_t < 1) {
        fprintf(stderr, "usage: bench_spec MAIN.gguf DRAFT.gguf IDS [CODEC.gguf] [-k 1,2,4,8] [-T 0,0.3] [-n N] "
                        "[--cold] [--tts]\n");
        return 2;
    }
    for (int i = 0; i < n_k; i++)
        if (ks[i] < 1 || ks[i] > EG_SPEC_MAX_K) { fprintf(stderr, "bench_spec: k must be 1 .. %d\n", EG_SPEC_MAX_K); return 2; }
    int n_all = read_ids(paths[2]);
    if (n_all <= 0) { fprintf(stderr, "bench_spec: no sentences in %s\n", paths[2]); return 1; }
    if (n_sent < 0) n_sent = cold ? 10 : n_all;
    if (n_sent > n_all) n_sent = n_all;
    if (cold && !(g_evict = calloc(EVICT_BYTES, 1))) return 1;

    struct eg_ar_model *mm, *dm;
    if (eg_ar_model_load(paths[0], &mm) != EG_OK || eg_ar_model_load(paths[1], &dm) != EG_OK) return 1;
    if (eg_spec_check(mm, dm) != EG_OK) return 1;
    struct eg_exec ex;
    if (eg_exec_init(&ex, EG_ISA_AUTO, 1) != EG_OK) return 1;
    struct eg_ar_state *ms, *ds;
    if (eg_ar_state_create(mm, &ex, MAX_IDS, &ms) != EG_OK || eg_ar_state_create(dm, &ex, MAX_IDS, &ds) != EG_OK) return 1;
    const int nc = (int)mm->cfg.n_codes;
    void *smem = malloc(eg_sampler_scratch_bytes(nc));
    int32_t *toks = malloc(sizeof(int32_t) * MAX_FRAMES);

    const double mb = (double)eg_ar_weight_bytes_per_frame(mm), db = (double)eg_ar_weight_bytes_per_frame(dm);
    const double mf = eg_ar_flops_per_frame(mm), df = eg_ar_flops_per_frame(dm);
    printf("main  %s: dim %u, %u decoder layers, ffn %u, head %u x %u: %.3f MB weights read and %.2f MFLOP per frame\n",
           paths[0], mm->cfg.dim, mm->cfg.dec_layers, mm->cfg.ffn_dim, nc, mm->cfg.dim, mb / 1e6, mf / 1e6);
    printf("draft %s: dim %u, %u decoder layers, ffn %u, head %u x %u: %.3f MB weights read and %.2f MFLOP per frame "
           "(%.1f %% / %.1f %% of main)\n", paths[1], dm->cfg.dim, dm->cfg.dec_layers, dm->cfg.ffn_dim, nc,
           dm->cfg.dim, db / 1e6, df / 1e6, 100 * db / mb, 100 * df / mf);
    const double mkv = 2.0 * mm->cfg.dec_layers * mm->cfg.window * mm->cfg.dim * sizeof(float),
                 dkv = 2.0 * dm->cfg.dec_layers * dm->cfg.window * dm->cfg.dim * sizeof(float);
    printf("KV cache read per frame (full window, f32): main %.3f MB, draft %.3f MB. A verification of k + 1 frames "
           "reads the main weights once, k + 1 windows of KV, and does k + 1 frames of FLOPs\n", mkv / 1e6, dkv / 1e6);
    printf("%d sentences, 1 thread, kernels: %s; %s\n", n_sent, ex.why,
           cold ? "COLD (caches evicted before every model step; eviction not timed)" : "hot (weights stay in cache)");

    for (int ti = 0; ti < n_t; ti++) {
        const struct eg_sampler_params spp = { .temperature = (float)temps[ti], .top_k = 50, .top_p = 1.0f, .seed = 0 };
        struct eg_sampler s;
        eg_sampler_init(&s, &spp, nc, smem);
        /* plain */
        double plain_ns = 0;
        int64_t frames = 0;
        for (int si = 0; si < n_sent; si++) {
            if (eg_ar_encode(ms, g_ids[si], g_n_ids[si]) != EG_OK ||
                eg_ar_predict_durations(ms, mm->cfg.length_scale, NULL) != EG_OK) return 1;
            double best = 1e30;
            for (int r = 0; r < reps; r++) {
                eg_sampler_reseed(&s, (uint64_t)si);
                eg_ar_reset(ms);
                int32_t prev = nc;
                g_evict_ns = 0;
                const uint64_t t0 = eg_time_ns();
                for (int64_t t = 0; t < eg_ar_n_frames(ms); t++) {
                    const float *lg;
                    if (cold) evict(NULL);
                    if (eg_ar_step(ms, prev, &lg) != EG_OK) return 1;
                    prev = eg_sampler_sample(&s, lg);
                }
                const double ns = (double)(eg_time_ns() - t0 - g_evict_ns);
                if (ns < best) best = ns;
            }
            plain_ns += best;
            frames += eg_ar_n_frames(ms);
        }
        const double plain_us = plain_ns / 1e3 / (double)frames;
        printf("\nT %.2f: %lld frames. plain: %.1f us/token, AR RTF %.4f\n", temps[ti], (long long)frames, plain_us,
               plain_us * 50e-6);
        printf("  k  accept  tok/verif  us/token  speed-up  AR RTF\n");
        for (int ki = 0; ki < n_k; ki++) {
            const int k = (int)ks[ki];
            struct eg_spec sp;
            void *mem = aligned_alloc(64, (eg_spec_bytes(mm, dm, k) + 63) / 64 * 64);
            if (!mem || eg_spec_init(&sp, ms, ds, k, &spp, mem) != EG_OK) return 1;
            if (cold) sp.before_step = evict;
            double ns = 0;
            for (int si = 0; si < n_sent; si++) {
                if (eg_ar_encode(ms, g_ids[si], g_n_ids[si]) != EG_OK ||
                    eg_ar_predict_durations(ms, mm->cfg.length_scale, NULL) != EG_OK) return 1;
                double best = 1e30;
                for (int r = 0; r < reps; r++) {
                    const struct eg_spec_stats s0 = sp.stats;
                    eg_sampler_reseed(&s, (uint64_t)si);
                    g_evict_ns = 0;
                    const uint64_t t0 = eg_time_ns();
                    if (eg_spec_begin(&sp, g_ids[si], g_n_ids[si]) != EG_OK) return 1;
                    for (int64_t t = 0; t < eg_ar_n_frames(ms);) {
                        int n = 0;
                        if (eg_spec_next(&sp, &s, toks, &n) != EG_OK || n < 1) return 1;
                        t += n;
                    }
                    const double t_ns = (double)(eg_time_ns() - t0 - g_evict_ns);
                    if (t_ns < best) best = t_ns;
                    if (r > 0) sp.stats = s0;   /* same seed, same run: count it once */
                }
                ns += best;
            }
            const double us = ns / 1e3 / (double)frames;
            printf("  %d  %5.1f %%  %8.2f  %9.1f  %7.2fx  %.4f\n", k,
                   100.0 * (double)sp.stats.accepted / (double)(sp.stats.drafted ? sp.stats.drafted : 1),
                   (double)sp.stats.emitted / (double)(sp.stats.rounds ? sp.stats.rounds : 1), us, plain_us / us,
                   us * 50e-6);
            free(mem);
        }
    }

    if (tts) {   /* whole TTS through the public API, hot */
        struct eg_model *m = NULL;
        enum eg_status st;
        if (!(m = eg_model_load(paths[0], paths[3], &st)) || eg_model_set_draft(m, paths[1]) != EG_OK) return 1;
        for (int ti = 0; ti < n_t; ti++) {
            printf("\nwhole TTS (AR + sampler + codec decoder, public API), T %.2f, hot:\n", temps[ti]);
            for (int ki = -1; ki < n_k; ki++) {
                struct eg_ctx_params p = eg_ctx_default_params();
                struct tts_user u = { 0 };
                p.temperature = (float)temps[ti];
                p.device = EG_DEVICE_CPU;
                p.max_phonemes = 500;
                p.on_audio = on_audio;
                p.on_audio_user = &u;
                p.spec_k = ki < 0 ? 0 : (int)ks[ki];
                struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
                if (!ctx) return 1;
                double sec = 0;
                int64_t samples = 0;
                for (int si = 0; si < n_sent; si++) {   /* each sentence alone (no pause), fastest of reps */
                    double best = 1e30;
                    for (int r = 0; r < reps; r++) {
                        eg_ctx_reset(ctx);
                        u.n = 0;
                        const uint64_t t0 = eg_time_ns();
                        if (eg_ctx_synthesize_ids(ctx, g_ids[si], g_n_ids[si]) != EG_OK) return 1;
                        const double t_s = (double)(eg_time_ns() - t0) * 1e-9;
                        if (t_s < best) best = t_s;
                    }
                    sec += best;
                    samples += u.n;
                }
                const double audio = (double)samples / eg_model_sample_rate(m);
                if (ki < 0) printf("  plain      RTF %.4f (%.1f s audio in %.2f s)\n", sec / audio, audio, sec);
                else printf("  spec k %d   RTF %.4f (%.1f s audio in %.2f s)\n", p.spec_k, sec / audio, audio, sec);
                eg_ctx_destroy(ctx);
            }
        }
        eg_model_free(m);
    }
    eg_ar_state_destroy(ds);
    eg_ar_state_destroy(ms);
    eg_exec_free(&ex);
    eg_ar_model_destroy(dm);
    eg_ar_model_destroy(mm);
    free(smem);
    free(toks);
    free((void *)g_evict);
    return 0;
}
