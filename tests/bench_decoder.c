/* tests/bench_decoder.c — speed of the NAR codec decoder: real-time factor at 1 and 2 threads, whole-utterance
 * and streamed (--chunk), model FLOPs per second of audio, achieved GFLOP/s, arena size and peak RSS.
 *
 * usage: bench_decoder [--quick] [--frames N] [MODEL.gguf ...]
 *   default models: models/codec/pico-codec-{q8_0,f32}.gguf when present, else the random-weight full-size
 *   decoders `make bench-decoder` generates ($(BUILD)/bench_codec_full_{q8_0,f32}.gguf), else the tiny golden.
 * Each configuration: one warm-up, then trials of >= 0.3 s (0.1 s with --quick); min and median trial reported.
 * RTF = decode time / audio duration (lower is better; 0.01 = 100x real time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "ports/port.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int exists(const char *p) {
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Median and min seconds per decode of n tokens. chunk 0: eg_decoder_run with a window holding everything. */
static int time_decode(const struct eg_codec_model *m, int threads, int chunk, const int32_t *tok, const int32_t *ph, int n,
                       double min_trial,
                       double *t_min, double *t_med, size_t *arena_bytes, double *frames_ratio) {
    struct eg_exec ex;
    struct eg_decoder *d;
    struct eg_decoder_params p = { .chunk_frames = chunk ? chunk : n };
    float *pcm = malloc(sizeof(float) * (size_t)n * m->cfg.hop);
    double trials[9];
    if (!pcm || eg_exec_init(&ex, EG_ISA_AUTO, threads) != EG_OK) { free(pcm); return -1; }
    if (eg_decoder_create(m, &ex, &p, &d) != EG_OK) { eg_exec_free(&ex); free(pcm); return -1; }
    *arena_bytes = eg_decoder_arena_bytes(m, &ex, &p);
    eg_decoder_run(d, tok, ph, n, pcm);   /* warm-up: page in weights, fault the arena */
    const int64_t c0 = eg_decoder_frames_computed(d);
    eg_decoder_run(d, tok, ph, n, pcm);
    *frames_ratio = (double)(eg_decoder_frames_computed(d) - c0) / ((double)n * (1 + m->cfg.n_layers));
    for (int t = 0; t < 9; t++) {
        int reps = 0;
        uint64_t t0 = eg_time_ns(), el;
        do { eg_decoder_run(d, tok, ph, n, pcm); reps++; el = eg_time_ns() - t0; } while ((double)el * 1e-9 < min_trial);
        trials[t] = (double)el * 1e-9 / reps;
    }
    qsort(trials, 9, sizeof trials[0], cmp_d);
    *t_min = trials[0];
    *t_med = trials[4];
    eg_decoder_destroy(d);
    eg_exec_free(&ex);
    free(pcm);
    return 0;
}

static void bench_model(const char *path, int n, double min_trial) {
    struct eg_codec_model *m;
    if (eg_codec_model_load(path, &m) != EG_OK) { printf("%s: cannot load\n", path); return; }
    const struct eg_codec_config *c = &m->cfg;
    const double audio_s = (double)n * c->hop / c->sample_rate_hz;
    const double flops_frame = eg_codec_flops_per_frame(c), frames_per_s = (double)c->sample_rate_hz / c->hop;
    int32_t *tok = malloc(sizeof *tok * (size_t)n);
    uint64_t s = 12345;
    for (int i = 0; i < n; i++) { s = s * 6364136223846793005ull + 1442695040888963407ull; tok[i] = (int32_t)((s >> 33) % c->n_codes); }
    /* a phoneme-conditioned codec also gets a frame phoneme id (runs of 3 frames, about speech rate) */
    int32_t *ph = c->n_phonemes ? malloc(sizeof *ph * (size_t)n) : NULL;
    for (int i = 0; ph && i < n; i++) ph[i] = (int32_t)((uint32_t)(i / 3) % c->n_phonemes);

    printf("\n%s\n  dim %u, ffn %u, %u layers, kernel %u, n_fft %u, hop %u, %u Hz; matrices %s; %d frames = %.1f s audio\n",
           path, c->dim, c->ffn_dim, c->n_layers, c->kernel_size, c->n_fft, c->hop, c->sample_rate_hz,
           eg_dtype_name(m->w.blocks[0].pw1.type), n, audio_s);
    printf("  model cost: %.2f MFLOP per frame, %.1f MFLOP per second of audio (receptive field +-%d frames)\n",
           flops_frame * 1e-6, flops_frame * frames_per_s * 1e-6, eg_codec_receptive_frames(c));
    printf("  %-8s %-7s %10s %10s %9s %9s %10s %11s\n", "threads", "chunk", "RTF(med)", "RTF(min)", "x-real", "GFLOP/s",
           "recompute", "arena");
    static const int chunks[] = { 0, 64, 8 };
    for (int ci = 0; ci < 3; ci++)
        for (int th = 1; th <= 2; th++) {
            double tmin, tmed, ratio;
            size_t arena;
            if (time_decode(m, th, chunks[ci], tok, ph, n, min_trial, &tmin, &tmed, &arena, &ratio) != 0) {
                printf("  %d threads chunk %d: failed\n", th, chunks[ci]);
                continue;
            }
            char ch[16];
            snprintf(ch, sizeof ch, "%s%d", chunks[ci] ? "" : "all=", chunks[ci] ? chunks[ci] : n);
            printf("  %-8d %-7s %10.5f %10.5f %8.0fx %9.2f %9.2fx %8.1f KiB\n", th, ch, tmed / audio_s, tmin / audio_s,
                   audio_s / tmed, flops_frame * n / tmed * 1e-9, ratio, (double)arena / 1024.0);
        }
    free(tok);
    free(ph);
    eg_codec_model_destroy(m);
}

int main(int argc, char **argv) {
    int n = 500, quick = 0, n_models = 0;
    const char *models[16];
    const char *build = getenv("BUILD");
    char gen_q8[512], gen_f32[512];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc) n = atoi(argv[++i]);
        else if (n_models < 16) models[n_models++] = argv[i];
    }
    if (n < 1) n = 500;
    if (!n_models) {
        snprintf(gen_q8, sizeof gen_q8, "%s/bench_codec_full_q8_0.gguf", build && *build ? build : "build");
        snprintf(gen_f32, sizeof gen_f32, "%s/bench_codec_full_f32.gguf", build && *build ? build : "build");
        static const char *const trained[] = { "models/codec/pico-codec-q8_0.gguf", "models/codec/pico-codec-f32.gguf" };
        for (int i = 0; i < 2; i++) if (exists(trained[i])) models[n_models++] = trained[i];
        if (!n_models) {
            if (exists(gen_q8)) models[n_models++] = gen_q8;
            if (exists(gen_f32)) models[n_models++] = gen_f32;
        }
        if (!n_models) models[n_models++] = "tests/golden/decoder_tiny_f32.gguf";
    }
    printf("bench_decoder: %d frames per decode, trials of >= %.1f s; RTF = decode seconds / audio seconds\n", n,
           quick ? 0.1 : 0.3);
    for (int i = 0; i < n_models; i++) bench_model(models[i], n, quick ? 0.1 : 0.3);
    printf("\npeak RSS %.1f MiB\n", (double)eg_peak_rss_bytes() / (1024.0 * 1024.0));
    return 0;
}
