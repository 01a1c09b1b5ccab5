/* tests/bench_opencl.c — the real NAR decoder (models/decoder.c) with its network stage on OpenCL against the
 * CPU kernel tables, as ratios measured in the same run, and OpenCL launch overhead (make bench-opencl).
 *
 * Models: the random-weight full-size decoders `make bench-decoder` generates ($(BUILD)/bench_codec_full_{f32,
 * q8_0}.gguf: dim 256, ffn 768, 6 blocks, n_fft 1024, hop 320, 16 kHz), or the GGUF paths given.
 * For 1 s (50 frames) and 10 s (500 frames) of random tokens:
 *   decoder  eg_decoder_run, whole utterance, chunk 256 (the CLI default): every CPU table at 1 thread, the best
 *            at 2 threads, and the OpenCL stage (strict placement; the iSTFT stays on the CPU, 1 thread).
 * The network has one forward pass (models/decoder.c) for both, so the stage is timed through the decoder.
 * Median of REPS runs after one warm-up. Ratio = CPU time / OpenCL time (> 1: the device is faster).
 * Usage: bench_opencl [--reps N] [MODEL.gguf ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opencl/cl_ops.h"
#include "runtime/core/cpu.h"
#include "models/decoder.h"
#include "simd/dispatch.h"
#include "models/exec.h"
#include "models/stage.h"

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp_d); return v[n / 2]; }
static int g_reps = 5;

/* Median ms of eg_decoder_run over n tokens; stage NULL → CPU. -1 on failure. */
static double time_decoder(const struct eg_codec_model *m, struct eg_exec *ex, struct eg_spectral *stage,
                           const int32_t *tok, int n, float *pcm) {
    struct eg_decoder_params p = eg_decoder_default_params();
    struct eg_decoder *d;
    double t[64];
    p.chunk_frames = 256;
    p.stage = stage;
    if (eg_decoder_create(m, ex, &p, &d) != EG_OK) return -1;
    if (eg_decoder_run(d, tok, NULL, n, pcm) != EG_OK) { eg_decoder_destroy(d); return -1; }
    const int reps = n > 100 ? (g_reps + 1) / 2 : g_reps;
    for (int r = 0; r < reps; r++) {
        const double t0 = eg_cl_now_ms();
        eg_decoder_run(d, tok, NULL, n, pcm);
        t[r] = eg_cl_now_ms() - t0;
    }
    eg_decoder_destroy(d);
    return median(t, reps);
}

static void bench_model(const char *path) {
    struct eg_codec_model *m;
    if (eg_codec_model_load(path, &m) != EG_OK) { printf("%s: cannot load (make bench-decoder generates it)\n", path); return; }
    const struct eg_codec_config *c = &m->cfg;
    printf("\n%s: dim %u, ffn %u, %u layers, n_fft %u, hop %u, matrices %s\n", path, c->dim, c->ffn_dim, c->n_layers,
           c->n_fft, c->hop, eg_dtype_name(m->w.blocks[0].pw1.type));
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    const struct eg_kernels *tabs[8];
    const int nt = eg_dispatch_tables(tabs, 8);
    static const int frames[] = { 50, 500 };
    for (int fi = 0; fi < 2; fi++) {
        const int n = frames[fi];
        const double audio_ms = 1000.0 * n * c->hop / c->sample_rate_hz;
        int32_t *tok = malloc(sizeof *tok * n);
        float *pcm = malloc(sizeof(float) * (size_t)n * c->hop);
        uint64_t s = 12345;
        for (int i = 0; i < n; i++) { s = s * 6364136223846793005ull + 1442695040888963407ull; tok[i] = (int32_t)((s >> 33) % c->n_codes); }
        printf("  %d frames = %.1f s of audio (RTF = time / audio; ratio = CPU / OpenCL)\n", n, audio_ms / 1000);

        /* decoder on every CPU table, 1 thread; the best also at 2 threads */
        double best1 = 0, best2 = 0;
        char best_name[16] = "";
        for (int i = 0; i < nt; i++) {
            struct eg_exec ex;
            const int isa = eg_isa_from_name(tabs[i]->name);
            if (!eg_cpu_can_run(&cpu, tabs[i]) || isa < 0 || eg_exec_init(&ex, (enum eg_isa)isa, 1) != EG_OK) continue;
            const double ms = time_decoder(m, &ex, NULL, tok, n, pcm);
            printf("    decoder cpu %-7s x1 : %9.2f ms  RTF %.4f\n", ex.k.name, ms, ms / audio_ms);
            if (ms > 0 && (!best1 || ms < best1)) { best1 = ms; snprintf(best_name, sizeof best_name, "%s", ex.k.name); }
            eg_exec_free(&ex);
        }
        struct eg_exec ex1, ex2;
        if (eg_exec_init(&ex1, EG_ISA_AUTO, 1) != EG_OK || eg_exec_init(&ex2, EG_ISA_AUTO, 2) != EG_OK) return;
        best2 = time_decoder(m, &ex2, NULL, tok, n, pcm);
        printf("    decoder cpu %-7s x2 : %9.2f ms  RTF %.4f\n", ex2.k.name, best2, best2 / audio_ms);

        enum eg_status st;
        double t0 = eg_cl_now_ms();
        struct eg_spectral *stage = eg_spectral_create(m, &ex1, n > 256 ? n : 256, EG_BACKEND_OPENCL, &st);
        const double create_ms = eg_cl_now_ms() - t0;
        if (!stage) {
            printf("    opencl: not available (%s): skipped\n", eg_status_str(st));
        } else {
            if (fi == 0) printf("    opencl stage create (program from cache or build, dequant + upload, probe): %.0f ms\n", create_ms);
            const double dev = time_decoder(m, &ex1, stage, tok, n, pcm);
            printf("    decoder opencl      : %9.2f ms  RTF %.4f   ratio cpu(%s x1)/opencl %.3f, cpu(x2)/opencl %.3f\n",
                   dev, dev / audio_ms, best_name, best1 / dev, best2 / dev);
            eg_spectral_destroy(stage);
        }
        eg_exec_free(&ex1);
        eg_exec_free(&ex2);
        free(tok); free(pcm);
    }
    eg_codec_model_destroy(m);
}

static void bench_launch(void) {
    struct eg_cl *cl;
    struct eg_cl_ops ops;
    char why[256];
    double t[400], t0;
    if (eg_cl_create(&cl, NULL, why, sizeof why) != EG_OK) { printf("\nlaunch overhead: no device (%s)\n", why); return; }
    if (eg_cl_ops_init(&ops, cl) != EG_OK) { eg_cl_destroy(cl); return; }
    cl_mem y = NULL;
    eg_cl_buffer(cl, &y, 65536 * sizeof(float), NULL);
    static const int globals[] = { 1, 1024, 65536 };
    printf("\nlaunch overhead, trivial kernel (us per launch, median):\n");
    for (int g = 0; g < 3; g++) {
        const int n = 400;
        for (int j = 0; j < 20; j++) { eg_cl_noop(&ops, y, globals[g]); eg_cl_finish(cl); }
        for (int j = 0; j < n; j++) {
            t0 = eg_cl_now_ms();
            eg_cl_noop(&ops, y, globals[g]);
            eg_cl_finish(cl);
            t[j] = (eg_cl_now_ms() - t0) * 1e3;
        }
        const double sync_us = median(t, n);
        double q[5];
        for (int r = 0; r < 5; r++) {
            t0 = eg_cl_now_ms();
            for (int j = 0; j < 2000; j++) eg_cl_noop(&ops, y, globals[g]);
            eg_cl_finish(cl);
            q[r] = (eg_cl_now_ms() - t0) * 1e3 / 2000;
        }
        const double queued_us = median(q, 5);
        printf("  global %6d: enqueue+finish %7.2f us, queued back-to-back %6.2f us\n", globals[g], sync_us, queued_us);
        if (globals[g] == 1024)
            printf("  (a 6-block decoder window issues 2 + 6*6 + 3 = 41 launches and 4-6 transfers: ~%.2f ms at the "
                   "queued rate)\n", 41 * queued_us * 1e-3);
    }
    eg_cl_release(cl, &y);
    eg_cl_ops_release(&ops);
    eg_cl_destroy(cl);
}

int main(int argc, char **argv) {
    const char *paths[8];
    int n_paths = 0;
    char def[2][512];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) g_reps = atoi(argv[++i]);
        else if (n_paths < 8) paths[n_paths++] = argv[i];
    }
    if (g_reps < 1) g_reps = 1;
    if (g_reps > 64) g_reps = 64;
    if (!n_paths) {
        const char *b = getenv("BUILD");
        snprintf(def[0], sizeof def[0], "%s/bench_codec_full_f32.gguf", b && *b ? b : "build");
        snprintf(def[1], sizeof def[1], "%s/bench_codec_full_q8_0.gguf", b && *b ? b : "build");
        paths[0] = def[0]; paths[1] = def[1];
        n_paths = 2;
    }
    printf("OpenCL decoder stage vs CPU tables, median of %d (%d for 10 s)\n", g_reps, (g_reps + 1) / 2);
    for (int i = 0; i < n_paths; i++) bench_model(paths[i]);
    bench_launch();
    return 0;
}
