/* tests/bench_kernels.c — `make bench`: kernel throughput per table, next to OpenBLAS and a read-bandwidth probe
 * measured in the same process, so the ratios hold on a shared machine whose absolute numbers drift.
 *
 *   GEMV  (matvec f32/f16/q8_0/q4_0): effective weight GB/s, "cold" (cycling through > 256 MiB of copies, the
 *         decode case) and "hot" (~4 MiB of weights, L3-resident); vs cblas_sgemv and vs read bandwidth;
 *         q8_0/q4_0 also for the reference table (same contract), so one run orders every table.
 *   GEMM  (gemm_f32, NT) GFLOP/s at 256..2048; vs cblas_sgemm (RowMajor, NoTrans x Trans: the same NT product).
 *   Vector math: ns/element for exp/gelu/sincos on 4096 floats (L1), vs the scalar reference.
 * 1 and 2 threads: work goes through runtime/pool in fixed blocks (GEMV: 64 rows, GEMM: 64 columns), as the
 * models do. Each figure is the median of 5 trials of ~0.15 s.
 * OpenBLAS must see neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE (this box's environment sets Haswell, which
 * halves its SGEMM): the Makefile runs us under `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`, because
 * OpenBLAS reads them in its constructor, before main().
 * Usage: bench_kernels [quick] [best] [gemv] [gemm] [vm] [f32|f16|q8_0|q4_0]: naming sections (or GEMV dtypes)
 * runs only those (the read-bandwidth probe always runs); `make bench-kernels BENCH_ARGS="quick gemm"`.
 * `best` reports the fastest trial instead of the median: on a box where other jobs share our cores, timings
 * are bimodal (alone / time-shared) and the fastest trial is the closer estimate of uncontended speed.
 * `min`: the fastest of 100 trials of ~3 ms, for a heavily loaded box (a trial that short often runs between
 * two time slices of the neighbours); the probes and the kernels are measured the same way, so ratios hold.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"
#include "simd/kernels.h"
#include "runtime/core/pool.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int g_trials = 5, g_best = 0;
static double g_trial_s = 0.15;

/* Median seconds per call of fn(arg, i) (i counts calls, for cycling through cold copies). */
typedef void (*bench_fn)(void *arg, long i);
static double time_call(bench_fn fn, void *arg) {
    long i = 0;
    fn(arg, i++);                                   /* warm-up */
    double t0 = now();
    fn(arg, i++);
    double one = now() - t0;
    long reps = (long)(g_trial_s / (one > 1e-7 ? one : 1e-7)) + 1;
    double res[128];
    for (int t = 0; t < g_trials; t++) {
        t0 = now();
        for (long r = 0; r < reps; r++) fn(arg, i++);
        res[t] = (now() - t0) / reps;
    }
    qsort(res, g_trials, sizeof(double), cmpd);
    return g_best ? res[0] : res[g_trials / 2];
}

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void) { g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17; return g_rng; }

static void *big_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 2u << 20, bytes)) { fprintf(stderr, "out of memory (%zu bytes)\n", bytes); exit(2); }
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

/* ---- read-bandwidth probe (as ../shared/bench/stream.c "read": a vector sum over one array) ------------ */

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float read_sum_avx512(const float *p, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
__attribute__((target("avx2"))) static float read_sum_avx2(const float *p, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif
static float read_sum_c(const float *p, size_t n) {
    float a[8] = { 0 };
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) a[j] += p[i + j];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}
static float (*g_read_sum)(const float *, size_t) = read_sum_c;

struct read_arg { const float *p; size_t n; struct eg_pool *pool; volatile float sink[64]; };
#define READ_TASKS 64
static void read_task(void *arg, int task, int thread) {
    struct read_arg *a = arg;
    size_t chunk = a->n / READ_TASKS;
    a->sink[task] = g_read_sum(a->p + task * chunk, chunk);
}
static void read_call(void *arg, long i) {
    struct read_arg *a = arg;
    eg_pool_run(a->pool, READ_TASKS, read_task, a);
}

/* ---- GEMV ------------------------------------------------------------------------------------------------ */

enum wtype { W_F32, W_F16, W_Q8, W_Q4 };
static const char *wname[] = { "f32", "f16", "q8_0", "q4_0" };
static size_t row_bytes(enum wtype t, int k) {
    switch (t) {
    case W_F32: return (size_t)k * 4;
    case W_F16: return (size_t)k * 2;
    case W_Q8: return (size_t)k / 32 * EG_Q8_0_BLOCK_BYTES;
    default: return (size_t)k / 32 * EG_Q4_0_BLOCK_BYTES;
    }
}

/* Fill `bytes` at p with valid weights of type t (values ~±[0.5, 1), scales ~0.002-0.004). */
static void fill_weights(uint8_t *p, size_t bytes, enum wtype t) {
    uint64_t *q = (uint64_t *)p;
    for (size_t i = 0; i < bytes / 8; i++) {
        uint64_t r = rnd();
        if (t == W_F32) r = (r & 0x807fffff807fffffull) | 0x3f0000003f000000ull;
        if (t == W_F16) r = (r & 0x83ff83ff83ff83ffull) | 0x3800380038003800ull;
        q[i] = r;
    }
    if (t == W_Q8 || t == W_Q4) {
        size_t bb = t == W_Q8 ? EG_Q8_0_BLOCK_BYTES : EG_Q4_0_BLOCK_BYTES;
        for (size_t off = 0; off + bb <= bytes; off += bb) { uint16_t d = 0x1c00 | (rnd() & 0x3ff); memcpy(p + off, &d, 2); }
    }
}

#define GEMV_BLOCK 64
struct gemv_arg {
    const struct eg_kernels *k;
    enum wtype t;
    const uint8_t *w0;        /* first copy */
    size_t mat_bytes;         /* bytes of one matrix (copies are contiguous) */
    int n_copies;
    const uint8_t *w;         /* the copy used by this call */
    const float *x;
    float *y;
    int m, kdim;
    struct eg_pool *pool;
    int blas;                 /* 1: cblas_sgemv instead of k->matvec_f32 */
};
static void gemv_task(void *arg, int task, int thread) {
    struct gemv_arg *a = arg;
    int i0 = task * GEMV_BLOCK, r = a->m - i0 < GEMV_BLOCK ? a->m - i0 : GEMV_BLOCK;
    const uint8_t *w = a->w + (size_t)i0 * row_bytes(a->t, a->kdim);
    switch (a->t) {
    case W_F32: a->k->matvec_f32(a->y + i0, (const float *)w, a->x, NULL, r, a->kdim); break;
    case W_F16: a->k->matvec_f16(a->y + i0, (const uint16_t *)w, a->x, NULL, r, a->kdim); break;
    case W_Q8: a->k->matvec_q8_0(a->y + i0, w, a->x, NULL, r, a->kdim); break;
    case W_Q4: a->k->matvec_q4_0(a->y + i0, w, a->x, NULL, r, a->kdim); break;
    }
}
static void gemv_call(void *arg, long i) {
    struct gemv_arg *a = arg;
    a->w = a->w0 + (size_t)(i % a->n_copies) * a->mat_bytes;
    if (a->blas)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, a->m, a->kdim, 1.0f, (const float *)a->w, a->kdim, a->x, 1, 0.0f, a->y, 1);
    else
        eg_pool_run(a->pool, (a->m + GEMV_BLOCK - 1) / GEMV_BLOCK, gemv_task, a);
}

/* ---- GEMM ------------------------------------------------------------------------------------------------ */

#define GEMM_BLOCK 64
struct gemm_arg { const struct eg_kernels *k; const float *a, *b; float *c; int n; struct eg_pool *pool; int blas; };
static void gemm_task(void *arg, int task, int thread) {
    struct gemm_arg *g = arg;
    int j0 = task * GEMM_BLOCK, nn = g->n - j0 < GEMM_BLOCK ? g->n - j0 : GEMM_BLOCK;
    g->k->gemm_f32(g->c + j0, g->n, g->a, g->n, g->b + (size_t)j0 * g->n, g->n, NULL, g->n, nn, g->n);
}
static void gemm_call(void *arg, long i) {
    struct gemm_arg *g = arg;
    if (g->blas)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
    else
        eg_pool_run(g->pool, (g->n + GEMM_BLOCK - 1) / GEMM_BLOCK, gemm_task, g);
}

/* ---- vector math ------------------------------------------------------------------------------------------ */

struct vm_arg { const struct eg_kernels *k; int op; float *x, *y, *z; int n; };
static const char *vm_name[] = { "exp", "gelu", "sincos", "gelu N(0,1)" };
#define N_VM 4
static void vm_call(void *arg, long i) {
    struct vm_arg *v = arg;
    switch (v->op) {
    case 0: v->k->exp_f32(v->y, v->x, v->n); break;
    case 1: v->k->gelu_f32(v->y, v->x, v->n); break;
    case 2: v->k->sincos_f32(v->y, v->z, v->x, v->n); break;
    default: v->k->gelu_f32(v->y, v->z + 4096, v->n); break;   /* activations-like input: x ~ N(0, 1) */
    }
}

int main(int argc, char **argv) {
    int quick = 0, want_gemv = 0, want_gemm = 0, want_vm = 0, want_dt = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "quick") == 0) quick = 1;
        else if (strcmp(argv[i], "best") == 0) g_best = 1;
        else if (strcmp(argv[i], "min") == 0) { g_best = 1; g_trials = 100; g_trial_s = 0.003; }
        else if (strcmp(argv[i], "gemv") == 0) want_gemv = 1;
        else if (strcmp(argv[i], "gemm") == 0) want_gemm = 1;
        else if (strcmp(argv[i], "vm") == 0) want_vm = 1;
        else {
            int t = 0;
            while (t < 4 && strcmp(argv[i], wname[t]) != 0) t++;
            if (t == 4) { fprintf(stderr, "usage: %s [quick] [best|min] [gemv] [gemm] [vm] [f32|f16|q8_0|q4_0]\n", argv[0]); return 2; }
            want_gemv = 1; want_dt |= 1 << t;
        }
    }
    if (!want_gemv && !want_gemm && !want_vm) want_gemv = want_gemm = want_vm = 1;
    if (!want_dt) want_dt = 15;
    if (quick && g_trials != 100) { g_trials = 3; g_trial_s = 0.05; }
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
#if defined(__x86_64__)
    if (cpu.features & EG_CPU_AVX512F) g_read_sum = read_sum_avx512;
    else if (cpu.features & EG_CPU_AVX2) g_read_sum = read_sum_avx2;
#endif
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("edgegen kernel bench — cpu: %s, OpenBLAS core: %s%s\n", cpu.model, openblas_get_corename(),
           ct ? " (WARNING: OPENBLAS_CORETYPE is set; run via `make bench`, which unsets it)" : "");
    printf("trials: %s of %d x ~%.2f s\n", g_best ? "best" : "median", g_trials, g_trial_s);

    const struct eg_kernels *tabs[8], *run[8];
    int nt = eg_dispatch_tables(tabs, 8), nr = 0;
    for (int i = 0; i < nt; i++)
        if (tabs[i] != &eg_kernels_ref && eg_cpu_can_run(&cpu, tabs[i])) run[nr++] = tabs[i];
        else if (tabs[i] != &eg_kernels_ref) printf("table %s: cannot run on this CPU, skipped\n", tabs[i]->name);

    struct eg_pool *pools[3] = { NULL, NULL, NULL };
    if (eg_pool_create(2, &pools[2]) != EG_OK) { fprintf(stderr, "pool create failed\n"); return 1; }

    /* read bandwidth: DRAM (512 MiB) and L3 (8 MiB) */
    const size_t big_bytes = 320u << 20;
    uint8_t *big = big_alloc(big_bytes);
    fill_weights(big, big_bytes, W_F32);
    double bw_dram[3], bw_l3[3];
    for (int th = 1; th <= 2; th++) {
        struct read_arg ra = { (const float *)big, big_bytes / 4, pools[th], { 0 } };
        bw_dram[th] = big_bytes / time_call(read_call, &ra) * 1e-9;
        ra.n = (8u << 20) / 4;
        bw_l3[th] = (8u << 20) / time_call(read_call, &ra) * 1e-9;
    }
    printf("\n== read bandwidth (vector sum) ==\n");
    printf("  %-22s %9.1f GB/s (1T) %9.1f GB/s (2T)\n", "DRAM, 320 MiB", bw_dram[1], bw_dram[2]);
    printf("  %-22s %9.1f GB/s (1T) %9.1f GB/s (2T)\n", "L3, 8 MiB", bw_l3[1], bw_l3[2]);

    /* GEMV */
    float *x = big_alloc(16384 * 4), *y = big_alloc(16384 * 4);
    if (want_gemv) {
        for (int i = 0; i < 16384; i++) x[i] = (float)(rnd() >> 40) * 0x1p-24f - 0.5f;
        printf("\n== GEMV: effective weight GB/s (cold = 4096x4096 copies cycling over 320 MiB; hot = ~4 MiB) ==\n");
        printf("  %-8s %-6s %-5s %4s %9s %9s  %s\n", "table", "dtype", "mode", "thr", "GB/s", "us/call", "ratios");
        double blas_cold[3], blas_hot[3];
        for (int th = 1; th <= 2; th++) {
            openblas_set_num_threads(th);
            struct gemv_arg a = { NULL, W_F32, big, (size_t)4096 * 4096 * 4, (int)(big_bytes / ((size_t)4096 * 4096 * 4)), NULL,
                                  x, y, 4096, 4096, NULL, 1 };
            double t = time_call(gemv_call, &a);
            blas_cold[th] = a.mat_bytes / t * 1e-9;
            printf("  %-8s %-6s %-5s %4d %9.1f %9.1f  %.2fx read\n", "OpenBLAS", "f32", "cold", th, blas_cold[th], t * 1e6, blas_cold[th] / bw_dram[th]);
            a.m = a.kdim = 1024; a.mat_bytes = (size_t)1024 * 1024 * 4; a.n_copies = 1;
            t = time_call(gemv_call, &a);
            blas_hot[th] = a.mat_bytes / t * 1e-9;
            printf("  %-8s %-6s %-5s %4d %9.1f %9.1f  %.2fx L3 read\n", "OpenBLAS", "f32", "hot", th, blas_hot[th], t * 1e6, blas_hot[th] / bw_l3[th]);
        }
        /* hot shapes of ~4 MiB per dtype */
        static const int hot_m[] = { 1024, 1024, 2048, 2048 }, hot_k[] = { 1024, 2048, 2048, 4096 };
        for (int wt = W_F32; wt <= W_Q4; wt++) {
            if (!(want_dt & (1 << wt))) continue;
            fill_weights(big, big_bytes, (enum wtype)wt);
            /* the reference first (q8_0/q4_0: the same contract, so "no table slower than the one below it" is
             * read off one run), then every SIMD table this CPU runs */
            const struct eg_kernels *gv[9];
            int ng = 0;
            if (wt == W_Q8 || wt == W_Q4) gv[ng++] = &eg_kernels_ref;
            for (int ti = 0; ti < nr; ti++) gv[ng++] = run[ti];
            for (int ti = 0; ti < ng; ti++)
                for (int th = 1; th <= 2; th++) {
                    struct gemv_arg a = { gv[ti], (enum wtype)wt, big, 4096 * row_bytes((enum wtype)wt, 4096), 0, NULL, x, y,
                                          4096, 4096, pools[th], 0 };
                    a.n_copies = (int)(big_bytes / a.mat_bytes);
                    double t = time_call(gemv_call, &a), gb = a.mat_bytes / t * 1e-9;
                    printf("  %-8s %-6s %-5s %4d %9.1f %9.1f  %.2fx read", gv[ti]->name, wname[wt], "cold", th, gb, t * 1e6, gb / bw_dram[th]);
                    if (wt == W_F32) printf(", %.2fx OpenBLAS", gb / blas_cold[th]);
                    printf("\n");
                    a.m = hot_m[wt]; a.kdim = hot_k[wt]; a.mat_bytes = a.m * row_bytes((enum wtype)wt, a.kdim); a.n_copies = 1;
                    t = time_call(gemv_call, &a); gb = a.mat_bytes / t * 1e-9;
                    printf("  %-8s %-6s %-5s %4d %9.1f %9.1f  %.2fx L3 read", gv[ti]->name, wname[wt], "hot", th, gb, t * 1e6, gb / bw_l3[th]);
                    if (wt == W_F32) printf(", %.2fx OpenBLAS", gb / blas_hot[th]);
                    printf("  (%dx%d, %.2f MiB)\n", a.m, a.kdim, a.mat_bytes / 1048576.0);
                }
        }
    }

    /* GEMM */
    if (want_gemm) {
        printf("\n== GEMM f32, C = A B^T, square n: GFLOP/s ==\n");
        printf("  %-8s %5s %4s %9s  %s\n", "table", "n", "thr", "GFLOP/s", "ratios");
        const int gn[] = { 256, 512, 1024, 2048 };
        float *ga = big_alloc((size_t)2048 * 2048 * 4), *gb_ = big_alloc((size_t)2048 * 2048 * 4), *gc = big_alloc((size_t)2048 * 2048 * 4);
        for (size_t i = 0; i < (size_t)2048 * 2048; i++) { ga[i] = (float)(rnd() >> 40) * 0x1p-24f - 0.5f; gb_[i] = (float)(rnd() >> 40) * 0x1p-24f - 0.5f; }
        for (int si = 0; si < 4; si++) {
            int n = gn[si];
            double fl = 2.0 * n * n * n, blas[3], ours1 = 0;
            for (int th = 1; th <= 2; th++) {
                openblas_set_num_threads(th);
                struct gemm_arg g = { NULL, ga, gb_, gc, n, NULL, 1 };
                blas[th] = fl / time_call(gemm_call, &g) * 1e-9;
                printf("  %-8s %5d %4d %9.1f\n", "OpenBLAS", n, th, blas[th]);
            }
            for (int ti = 0; ti < nr; ti++)
                for (int th = 1; th <= 2; th++) {
                    struct gemm_arg g = { run[ti], ga, gb_, gc, n, pools[th], 0 };
                    double gf = fl / time_call(gemm_call, &g) * 1e-9;
                    if (th == 1) ours1 = gf;
                    printf("  %-8s %5d %4d %9.1f  %.2fx OpenBLAS", run[ti]->name, n, th, gf, gf / blas[th]);
                    if (th == 2) printf(", %.2fx own 1T", gf / ours1);
                    printf("\n");
                }
        }
    }

    /* vector math */
    if (want_vm) {
        printf("\n== vector math: ns/element, 4096 floats in [-10, 10] (last column: N(0, 1)) (L1), 1 thread ==\n");
        printf("  %-8s", "table");
        for (int op = 0; op < N_VM; op++) printf(" %14s", vm_name[op]);
        printf("\n");
        float *vx = big_alloc(4 * 4096 * 4);
        for (int i = 0; i < 4096; i++) vx[i] = (float)(rnd() >> 40) * 0x1p-24f * 20.0f - 10.0f;
        for (int i = 0; i < 4096; i++) {   /* Irwin-Hall: sum of 12 uniforms - 6 ~ N(0, 1) */
            float g = -6.0f;
            for (int j = 0; j < 12; j++) g += (float)(rnd() >> 40) * 0x1p-24f;
            vx[12288 + i] = g;
        }
        double ref_ns[N_VM];
        const struct eg_kernels *vt[9];
        int nvt = 0;
        vt[nvt++] = &eg_kernels_ref;
        for (int ti = 0; ti < nr; ti++) vt[nvt++] = run[ti];
        for (int ti = 0; ti < nvt; ti++) {
            printf("  %-8s", vt[ti]->name);
            for (int op = 0; op < N_VM; op++) {
                struct vm_arg v = { vt[ti], op, vx, vx + 4096, vx + 8192, 4096 };
                double ns = time_call(vm_call, &v) / 4096 * 1e9;
                if (ti == 0) { ref_ns[op] = ns; printf(" %14.3f", ns); }
                else printf(" %6.3f (%4.1fx)", ns, ref_ns[op] / ns);
            }
            printf("\n");
        }
        printf("  (x) = speed-up over the scalar reference (libm)\n");
    }
    eg_pool_destroy(pools[2]);
    return 0;
}
