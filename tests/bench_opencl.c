/* tests/bench_opencl.c — the decoder spectral stage on OpenCL vs every CPU kernel table this machine runs, and
 * OpenCL launch overhead, as ratios measured in the same run (make bench / make bench-opencl).
 *
 * Stage: codec_model.py DEFAULT_CONFIG decoder (dim 256, ffn 768, 6 blocks, n_fft 1024) with random weights,
 * T = 50 frames = 1 s of 16 kHz audio; median of REPS runs after one warm-up. The CPU path is single-threaded
 * (one kernel table, no pool); the device uses whatever the driver does (PoCL: POCL_MAX_PTHREAD_COUNT).
 * Launch overhead: a trivial kernel, (a) enqueue + clFinish each, (b) N enqueues then one clFinish.
 * Usage: bench_opencl [frames] [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cl_decoder.h"
#include "cl_ops.h"
#include "cpu.h"
#include "dispatch.h"

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp_d); return v[n / 2]; }

int main(int argc, char **argv) {
    const int T = argc > 1 ? atoi(argv[1]) : 50, reps = argc > 2 ? atoi(argv[2]) : 7;
    const int dim = 256, ffn = 768, nl = 6, kw = 7, lat = 5, nfft = 1024, nb = nfft / 2 + 1;
    struct eg_spectral_weights w = { .latent_dim = lat, .dim = dim, .ffn_dim = ffn, .n_layers = nl, .kernel_size = kw,
                                     .n_fft = nfft, .mag_clamp = 100.0f, .eps = 1e-6f };
    struct eg_spectral_block_weights bw[6];
    size_t n_all = (size_t)dim * lat * kw + 4 * dim + (size_t)(nfft + 2) * (dim + 1) +
                   nl * ((size_t)dim * kw + 5 * dim + 2 * (size_t)ffn * dim + ffn);
    float *mem = malloc(n_all * sizeof(float)), *p = mem;
    uint32_t r = 1;
    for (size_t i = 0; i < n_all; i++) { r = r * 1664525u + 1013904223u; mem[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.12f; }
#define TAKE(ptr, n) do { ptr = p; p += (n); } while (0)
    TAKE(w.embed_w, (size_t)dim * lat * kw); TAKE(w.embed_b, dim); TAKE(w.norm_g, dim); TAKE(w.norm_b, dim);
    for (int b = 0; b < nl; b++) {
        TAKE(bw[b].dw_w, (size_t)dim * kw); TAKE(bw[b].dw_b, dim); TAKE(bw[b].ln_g, dim); TAKE(bw[b].ln_b, dim);
        TAKE(bw[b].pw1_w, (size_t)ffn * dim); TAKE(bw[b].pw1_b, ffn); TAKE(bw[b].pw2_w, (size_t)dim * ffn);
        TAKE(bw[b].pw2_b, dim); TAKE(bw[b].gamma, dim);
    }
    w.blocks = bw;
    TAKE(w.final_g, dim); TAKE(w.final_b, dim); TAKE(w.head_w, (size_t)(nfft + 2) * dim); TAKE(w.head_b, nfft + 2);
#undef TAKE
    float *v = malloc((size_t)T * lat * sizeof(float)), *re = malloc((size_t)T * nb * 4), *im = malloc((size_t)T * nb * 4);
    for (int i = 0; i < T * lat; i++) { r = r * 1664525u + 1013904223u; v[i] = (float)((int)(r >> 29) % 5 - 2) / 2.0f; }
    double *t = malloc((size_t)(reps > 2000 ? reps : 2000) * sizeof(double));
    const double audio_ms = T * 320.0 / 16.0;   /* hop 320 at 16 kHz */
    double gflop = 2.0 * T * ((double)dim * lat * kw + nl * (2.0 * dim * ffn + dim * kw) + (double)dim * (nfft + 2)) * 1e-9;

    printf("decoder spectral stage, default config, T=%d frames (%.0f ms audio), %.3f GFLOP/run, median of %d\n",
           T, audio_ms, gflop, reps);
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    const struct eg_kernels *tabs[8];
    int nt = eg_dispatch_tables(tabs, 8);
    double cpu_best = 0;
    const char *best_name = "";
    for (int i = 0; i < nt; i++) {
        if (!eg_cpu_can_run(&cpu, tabs[i])) continue;
        struct eg_kernels k;
        char why[160];
        int isa = eg_isa_from_name(tabs[i]->name);
        if (isa < 0 || eg_dispatch_select(&cpu, (enum eg_isa)isa, &k, why, sizeof why) != EG_OK) continue;
        enum eg_status st;
        struct eg_spectral *s = eg_spectral_create(&w, &k, T, EG_BACKEND_CPU, &st);
        if (!s) continue;
        eg_spectral_run_cpu(s, v, T, NULL, re, im);
        int n = reps;
        for (int j = 0; j < n; j++) { double t0 = eg_cl_now_ms(); eg_spectral_run_cpu(s, v, T, NULL, re, im); t[j] = eg_cl_now_ms() - t0; }
        double ms = median(t, n);
        printf("  cpu %-7s 1 thread : %8.2f ms  (%5.1f GFLOP/s, RTF %.3f)\n", k.name, ms, gflop / ms * 1e3, ms / audio_ms);
        if (!cpu_best || ms < cpu_best) { cpu_best = ms; best_name = tabs[i]->name; }
        eg_spectral_destroy(s);
    }

    enum eg_status st;
    struct eg_kernels kbest;
    char why[160];
    if (eg_dispatch_select(&cpu, EG_ISA_AUTO, &kbest, why, sizeof why) != EG_OK) kbest = eg_kernels_ref;
    double t0 = eg_cl_now_ms();
    struct eg_spectral *s = eg_spectral_create(&w, &kbest, T, EG_BACKEND_OPENCL, &st);
    double create_ms = eg_cl_now_ms() - t0;
    if (!s) { printf("  opencl: not available (%s): skipped\n", eg_status_str(st)); return 0; }
    printf("  opencl create (build/cache + upload + self-test): %.0f ms; %s\n", create_ms, eg_spectral_reason(s));
    for (int j = 0; j < reps; j++) { t0 = eg_cl_now_ms(); eg_spectral_run_device(s, v, T, NULL, re, im); t[j] = eg_cl_now_ms() - t0; }
    double dev_ms = median(t, reps);
    printf("  opencl              : %8.2f ms  (%5.1f GFLOP/s, RTF %.3f)\n", dev_ms, gflop / dev_ms * 1e3, dev_ms / audio_ms);
    printf("  ratio cpu(%s)/opencl = %.3f  (> 1: device faster)\n", best_name, cpu_best / dev_ms);
    eg_spectral_destroy(s);

    /* launch overhead */
    struct eg_cl *cl;
    struct eg_cl_ops ops;
    char whyc[256];
    if (eg_cl_create(&cl, NULL, whyc, sizeof whyc) != EG_OK || eg_cl_ops_init(&ops, cl) != EG_OK) return 0;
    cl_mem y = NULL;
    eg_cl_buffer(cl, &y, 65536 * sizeof(float), NULL);
    static const int globals[] = { 1, 1024, 65536 };
    double queued_1024 = 0;
    printf("launch overhead, trivial kernel (us per launch, median):\n");
    for (int g = 0; g < 3; g++) {
        const int n = 400;
        for (int j = 0; j < 20; j++) { eg_cl_noop(&ops, y, globals[g]); eg_cl_finish(cl); }
        for (int j = 0; j < n; j++) {
            t0 = eg_cl_now_ms();
            eg_cl_noop(&ops, y, globals[g]);
            eg_cl_finish(cl);
            t[j] = (eg_cl_now_ms() - t0) * 1e3;
        }
        double sync_us = median(t, n);
        double q[5];
        for (int rr = 0; rr < 5; rr++) {
            t0 = eg_cl_now_ms();
            for (int j = 0; j < 2000; j++) eg_cl_noop(&ops, y, globals[g]);
            eg_cl_finish(cl);
            q[rr] = (eg_cl_now_ms() - t0) * 1e3 / 2000;
        }
        double queued_us = median(q, 5);
        if (globals[g] == 1024) queued_1024 = queued_us;
        printf("  global %6d: enqueue+finish %7.2f us, queued back-to-back %6.2f us, ratio %.1f\n", globals[g],
               sync_us, queued_us, sync_us / queued_us);
    }
    printf("  the stage issues %d launches per run: at the queued rate (global 1024) that is %.2f ms of %.2f ms\n",
           3 + nl * 6 + 3, (3 + nl * 6 + 3) * queued_1024 * 1e-3, dev_ms);
    eg_cl_release(cl, &y);
    eg_cl_ops_release(&ops);
    eg_cl_destroy(cl);
    free(mem); free(v); free(re); free(im); free(t);
    return 0;
}
