/* tests/test_kernels.c — every op of struct eg_kernels x every SIMD table linked in this build, against the scalar
 * reference (simd/kernels_ref.c), plus hand-computed checks of the reference itself so the oracle is not circular.
 *
 * How to add a kernel test (after adding the op to simd/kernels.h, the reference and a SIMD table):
 *   1. write `static void check_<op>(struct th_state *th_, const struct eg_kernels *k)` that runs k-><op> and
 *      eg_kernels_ref.<op> on the same inputs: random data, every tail length (lens[] below), a misaligned
 *      pointer (galloc(n, 1)), the op's edge values; outputs in galloc() buffers, checked with guard_ok();
 *   2. compare with cmp() and a bound from the tolerance table below (or cmp_exact() when the op must be
 *      bit-identical); calibrate the bound on every table and note the measured worst case next to it;
 *   3. add `TABLE_TESTS(<op>)` at the bottom: it registers one test per linked table (kernels_<op>_avx2, ...);
 *      a table the CPU cannot run is SKIPPED, never passed.
 *   4. if the reference has a closed form for small inputs, add a hand-computed case to the ref_* tests.
 * Run one op with `build/test_runner kernels_gemm` (substring filter).
 *
 * Tolerances (NMSE = sum (ref-got)^2 / sum ref^2 over finite values; rel = max |ref-got| / (|ref| + floor)).
 * Worst NMSE measured on the dev box (Zen 5, avx2 / avx512) in brackets; bounds leave ~10-100x margin.
 */
#include <float.h>
#include <stdlib.h>
#include "tests/harness.h"
#include "simd/kernels.h"
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"

#define TOL_MATVEC_F32  1e-10   /* f32/f16 weights, reordered f32 sums + FMA       [8.1e-12] */
#define TOL_MATVEC_Q    1e-11   /* kernels.h's q8-activation contract, same quantiser as the reference: only the
                                 * f32 summation order differs (avx512); NMSE scaled by ||w_i||*||x||, see
                                 * check_matvec_q. Any quantiser difference gives >= ~1e-8  [avx2 0: exact since issue 16] */
#define TOL_GEMM_SCALED 1e-12  /* per row: sum d^2 / (||a_i||^2 sum_j ||b_j||^2); a wrong element gives ~1e-3 */
#define TOL_CONV        1e-11   /* kw-term FMA chain                                  [3.3e-13] */
#define TOL_NORM        1e-11   /* f32 lane sums vs double sums (incl. rows offset by 1000) [4.7e-14] */
#define TOL_SOFTMAX     1e-11   /* SLEEF expf + f32 lane sum vs libm + double sum    [1.5e-13] */
#define TOL_TRANSC      1e-11   /* SLEEF u10 vs libm                                 [1.3e-14] */
#define REL_TRANSC      1e-5    /* max relative error per element                    [2.2e-7; the
                                 * reference gelu is exact (erfc in double), but a table computing
                                 * 1 + erff() in float (NEON) keeps few bits below x = -4: gelu uses an
                                 * absolute floor of 1e-6 there] */

/* ---- buffers ------------------------------------------------------------------------------------------- */

/* A guarded buffer of n floats whose first element sits `mis` floats past the allocation (mis = 1: pointer
 * not 8-byte aligned). The guard check covers everything before and after [p, p+n). */
struct gbuf { float *base, *p; size_t n; };
static struct gbuf galloc(long long n_, int mis) {
    struct gbuf b;
    size_t n = n_ > 0 ? (size_t)n_ : 0;
    b.base = th_guarded_alloc(n + (size_t)mis);
    b.p = b.base + mis;
    b.n = n;
    return b;
}
static int guard_ok(struct gbuf b) { return th_guard_ok(b.p, b.n); }
static void gfree(struct gbuf b) { th_guarded_free(b.base); }
static void fill(float *p, size_t n, uint64_t *s, float lo, float hi) {
    for (size_t i = 0; i < n; i++) p[i] = th_rand_uniform(s, lo, hi);
}

static int has_nan(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++) if (isnan(p[i])) return 1;
    return 0;
}

/* NMSE over finite reference values; an infinite reference value must be matched exactly; any NaN fails
 * (returns +inf). *rel receives the worst relative error. */
static double cmp_nmse(const float *ref, const float *got, size_t n, double floor_, double *rel) {
    double num = 0, den = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(ref[i]) || isnan(got[i])) { *rel = INFINITY; return INFINITY; }
        if (isinf(ref[i]) || isinf(got[i])) {
            if (ref[i] != got[i]) { *rel = INFINITY; return INFINITY; }
            continue;
        }
        double d = (double)ref[i] - got[i];
        num += d * d; den += (double)ref[i] * ref[i];
        double r = fabs(d) / (fabs((double)ref[i]) + floor_);
        if (r > worst) worst = r;
    }
    *rel = worst;
    return den > 1e-30 ? num / den : num;
}

/* Largest NMSE seen per test, printed at the end of each test so the bounds above can be recalibrated. */
static double g_worst_nmse, g_worst_rel;
static void note(double e, double r) {
    if (e > g_worst_nmse) g_worst_nmse = e;
    if (r > g_worst_rel && r != INFINITY) g_worst_rel = r;
}

#define CMP(ref, got, n, tol, floor_, ...) do {                                                       \
        double rel_; double e_ = cmp_nmse((ref), (got), (n), (floor_), &rel_); note(e_, rel_);         \
        CHECK(e_ <= (tol), "nmse %.3g > %.3g (max rel %.3g): " __VA_ARGS__);                         \
    } while (0)
#define CMP_REL(ref, got, n, tol, rtol, floor_, ...) do {                                              \
        double rel_; double e_ = cmp_nmse((ref), (got), (n), (floor_), &rel_); note(e_, rel_);         \
        CHECK(e_ <= (tol) && rel_ <= (rtol), "nmse %.3g (<= %.3g), max rel %.3g (<= %.3g): " __VA_ARGS__); \
    } while (0)
#define CMP_EXACT(ref, got, n, ...) do {                                                               \
        CHECK(!has_nan((got), (n)) && memcmp((ref), (got), (n) * sizeof(float)) == 0, __VA_ARGS__);   \
    } while (0)

/* Tail lengths: every length up to 2*16+1 (two AVX-512 vectors plus one), then a few larger ones. */
static const int lens[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                            24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 47, 63, 64, 65, 100, 255, 4097 };
#define N_LENS ((int)(sizeof lens / sizeof lens[0]))

/* ---- table selection --------------------------------------------------------------------------------- */

typedef void (*check_fn)(struct th_state *th_, const struct eg_kernels *k);

/* Test table `name` against the reference. EDGEGEN_ISA (as the library honours it) narrows the run to that one
 * table: forcing a table tests that table only (tests/run.sh runs the models under each forced table, the kernels
 * once, in the run that tests every table). */
static void for_table(struct th_state *th_, const char *name, check_fn fn) {
    const char *forced = getenv("EDGEGEN_ISA");
    if (forced && *forced && strcmp(forced, "auto") != 0 && strcmp(forced, name) != 0)
        SKIP("EDGEGEN_ISA=%s: only that table is under test", forced);
    const struct eg_kernels *tabs[16];
    int n = eg_dispatch_tables(tabs, 16);
    const struct eg_kernels *k = NULL;
    for (int i = 0; i < n; i++) if (tabs[i] && strcmp(tabs[i]->name, name) == 0) k = tabs[i];
    if (!k) SKIP("table %s not linked in this build", name);
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    if (!eg_cpu_can_run(&cpu, k)) SKIP("this CPU/OS cannot run table %s", name);
    g_worst_nmse = g_worst_rel = 0;
    fn(th_, k);
    if (getenv("EG_TEST_VERBOSE")) printf("     %s: worst nmse %.3g, worst rel %.3g\n", name, g_worst_nmse, g_worst_rel);
}

static const struct eg_kernels *R = &eg_kernels_ref;

/* ---- reference self-checks (hand-computed values) ------------------------------------------------------- */

static float bits2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

TEST(ref_f16_conversion) {
    struct { uint16_t h; float f; } exact[] = {
        { 0x0000, 0.0f }, { 0x3c00, 1.0f }, { 0xc000, -2.0f }, { 0x7bff, 65504.0f }, { 0x0001, 0x1p-24f },
        { 0x03ff, 1023 * 0x1p-24f }, { 0x0400, 0x1p-14f }, { 0x3555, 0.333251953125f }, { 0x7c00, INFINITY },
        { 0xfc00, -INFINITY }, { 0x8001, -0x1p-24f },
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        CHECK(eg_f16_to_f32(exact[i].h) == exact[i].f, "f16 %04x -> %g, want %g", exact[i].h, eg_f16_to_f32(exact[i].h), exact[i].f);
        CHECK(eg_f32_to_f16(exact[i].f) == exact[i].h, "f32 %g -> %04x, want %04x", exact[i].f, eg_f32_to_f16(exact[i].f), exact[i].h);
    }
    CHECK(eg_f32_to_f16(-0.0f) == 0x8000, "-0");
    CHECK(signbit(eg_f16_to_f32(0x8000)) && eg_f16_to_f32(0x8000) == 0.0f, "-0 back");
    /* rounding: ties to even, overflow, underflow */
    CHECK(eg_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00, "1+2^-11 ties to even (down)");
    CHECK(eg_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02, "1+3*2^-11 ties to even (up)");
    CHECK(eg_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01, "just above a tie rounds up");
    CHECK(eg_f32_to_f16(65519.0f) == 0x7bff, "65519 -> max finite");
    CHECK(eg_f32_to_f16(65520.0f) == 0x7c00, "65520 -> inf");
    CHECK(eg_f32_to_f16(1e10f) == 0x7c00, "1e10 -> inf");
    CHECK(eg_f32_to_f16(0x1p-25f) == 0x0000, "2^-25 (half the smallest denormal) ties to 0");
    CHECK(eg_f32_to_f16(0x1.8p-25f) == 0x0001, "1.5*2^-25 -> smallest denormal");
    CHECK(eg_f32_to_f16(0x1.ffcp-15f) == 0x0400, "largest denormal + half ulp rounds up into the normals");
    CHECK(eg_f32_to_f16(1e-30f) == 0x0000, "1e-30 -> 0");
    CHECK(eg_f32_to_f16(bits2f(0x00000001)) == 0x0000, "f32 denormal -> 0");
    CHECK((eg_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (eg_f32_to_f16(NAN) & 0x3ff), "nan stays nan");
    CHECK(isnan(eg_f16_to_f32(0x7e00)) && isnan(eg_f16_to_f32(0x7c01)), "f16 nan -> nan");
    /* every non-NaN half round-trips */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;
        if (eg_f32_to_f16(eg_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "%d halves do not round-trip", bad);
}

TEST(ref_dequant_blocks) {
    struct eg_block_q8_0 b8 = { 0x3800 /* 0.5 */, { 0 } };
    b8.qs[0] = -128; b8.qs[1] = -1; b8.qs[2] = 0; b8.qs[3] = 1; b8.qs[31] = 127;
    float y[32];
    R->dequant_q8_0(y, &b8, 32);
    CHECK(y[0] == -64.0f && y[1] == -0.5f && y[2] == 0.0f && y[3] == 0.5f && y[31] == 63.5f && y[4] == 0.0f,
          "q8_0: %g %g %g %g %g", y[0], y[1], y[2], y[3], y[31]);
    struct eg_block_q4_0 b4 = { 0x4000 /* 2.0 */, { 0 } };
    for (int i = 0; i < 16; i++) b4.qs[i] = 0x88;   /* every element 8 → 0 */
    b4.qs[0] = 0x1f;   /* element 0 = 15 → 14, element 16 = 1 → -14 */
    b4.qs[15] = 0x0f | 0x80; /* element 15 = 15 → 14, element 31 = 8 → 0 */
    b4.qs[7] = 0xf0;   /* element 7 = 0 → -16, element 23 = 15 → 14 */
    R->dequant_q4_0(y, &b4, 32);
    CHECK(y[0] == 14.0f && y[16] == -14.0f && y[15] == 14.0f && y[31] == 0.0f && y[7] == -16.0f && y[23] == 14.0f &&
          y[1] == 0.0f, "q4_0: %g %g %g %g %g %g", y[0], y[16], y[15], y[31], y[7], y[23]);
    /* matvec of the same blocks: x = 1 everywhere → row sums */
    float x[32], out;
    for (int i = 0; i < 32; i++) x[i] = 1.0f;
    R->matvec_q8_0(&out, &b8, x, NULL, 1, 32);
    CHECK(out == -64.0f - 0.5f + 0.5f + 63.5f, "q8_0 matvec %g", out);
    R->matvec_q4_0(&out, &b4, x, NULL, 1, 32);
    CHECK(out == 14.0f - 14.0f + 14.0f - 16.0f + 14.0f, "q4_0 matvec %g", out);
    uint16_t h[3] = { 0x3c00, 0xc000, 0x3800 };
    R->dequant_f16(y, h, 3);
    CHECK(y[0] == 1.0f && y[1] == -2.0f && y[2] == 0.5f, "f16 dequant");
}

TEST(ref_small_cases) {
    float y[8];
    const float x4[4] = { 1, 2, 3, 4 };
    R->layer_norm_f32(y, x4, NULL, NULL, 1, 4, 0.0f);   /* mean 2.5, var 1.25 */
    const float ln[4] = { -1.34164079f, -0.44721360f, 0.44721360f, 1.34164079f };
    CHECK(max_abs_diff(ln, y, 4) < 1e-6, "layer norm %g %g %g %g", y[0], y[1], y[2], y[3]);
    const float g[4] = { 2, 2, 2, 2 }, b[4] = { 1, 1, 1, 1 };
    R->layer_norm_f32(y, x4, g, b, 1, 4, 0.0f);
    CHECK(fabsf(y[0] - (1 - 2 * 1.34164079f)) < 1e-6 && fabsf(y[3] - (1 + 2 * 1.34164079f)) < 1e-6, "layer norm affine");
    const float x2[2] = { 3, 4 };
    R->rms_norm_f32(y, x2, NULL, 1, 2, 0.0f);          /* rms = sqrt(12.5) */
    CHECK(fabsf(y[0] - 0.84852814f) < 1e-6 && fabsf(y[1] - 1.13137085f) < 1e-6, "rms norm %g %g", y[0], y[1]);
    const float xs[3] = { 0.0f, logf(2.0f), logf(3.0f) };
    R->softmax_f32(y, xs, 3);
    CHECK(fabsf(y[0] - 1 / 6.0f) < 1e-6 && fabsf(y[1] - 2 / 6.0f) < 1e-6 && fabsf(y[2] - 3 / 6.0f) < 1e-6, "softmax");
    const float xm[3] = { -INFINITY, 0.0f, -INFINITY };
    R->softmax_f32(y, xm, 3);
    CHECK(y[0] == 0.0f && y[1] == 1.0f && y[2] == 0.0f, "softmax with -inf (masked) entries");
    const float one = 1.0f;
    R->gelu_f32(y, &one, 1);
    CHECK(fabsf(y[0] - 0.84134475f) < 1e-6, "gelu(1) = %g", y[0]);
    /* matvec 2x3 with bias; gemm 2x2x3 NT */
    const float w[6] = { 1, 2, 3, 4, 5, 6 }, xv[3] = { 1, -1, 2 }, bias[2] = { 10, 20 };
    R->matvec_f32(y, w, xv, bias, 2, 3);
    CHECK(y[0] == 15.0f && y[1] == 31.0f, "matvec %g %g", y[0], y[1]);
    const float bm[6] = { 1, 0, 0, 0, 1, 1 };   /* B rows: e0, e1+e2 */
    R->gemm_f32(y, 2, w, 3, bm, 3, bias, 2, 2, 3);
    CHECK(y[0] == 11.0f && y[1] == 25.0f && y[2] == 14.0f && y[3] == 31.0f, "gemm %g %g %g %g", y[0], y[1], y[2], y[3]);
    /* conv1d: t=2, c=2, kw=2: y[i][ch] = b + w0*x[i] + w1*x[i+1] */
    const float cx[6] = { 1, 10, 2, 20, 3, 30 }, cw[4] = { 1, 2, 3, 4 }, cb[2] = { 0.5f, -0.5f };
    R->conv1d_dw_f32(y, cx, cw, cb, 2, 2, 2);
    CHECK(y[0] == 0.5f + 1 + 6 && y[1] == -0.5f + 20 + 80 && y[2] == 0.5f + 2 + 9 && y[3] == -0.5f + 40 + 120,
          "conv1d %g %g %g %g", y[0], y[1], y[2], y[3]);
    /* rope: head_dim 4, rotate pair (x0, x2) by 90 degrees, pair (x1, x3) by 0 */
    float xr[4] = { 1, 2, 3, 4 };
    const float cs[2] = { 0, 1 }, sn[2] = { 1, 0 };
    R->rope_f32(xr, cs, sn, 1, 4);
    CHECK(xr[0] == -3 && xr[2] == 1 && xr[1] == 2 && xr[3] == 4, "rope %g %g %g %g", xr[0], xr[1], xr[2], xr[3]);
}

/* ---- matvec ------------------------------------------------------------------------------------------- */

static const int mv_m[] = { 1, 2, 3, 4, 5, 7, 8, 9, 13, 33 };
#define N_MV_M ((int)(sizeof mv_m / sizeof mv_m[0]))

/* Determinism: the same rows computed as one call and as fixed blocks starting at row offsets must be
 * bit-identical (the pool's partitioning). */
typedef void (*mv_call)(const struct eg_kernels *k, float *y, const void *w, size_t row_bytes, const float *x,
                        const float *bias, int m, int kdim);
static void check_mv_blocks(struct th_state *th_, const struct eg_kernels *k, mv_call call, const void *w,
                            size_t row_bytes, const float *x, const float *bias, int m, int kdim, const float *full) {
    float *y = malloc(sizeof(float) * m);
    for (int blk = 1; blk <= 5; blk += 2) {
        for (int i = 0; i < m; i += blk) {
            int r = m - i < blk ? m - i : blk;
            call(k, y + i, (const uint8_t *)w + (size_t)i * row_bytes, row_bytes, x, bias ? bias + i : NULL, r, kdim);
        }
        CHECK(memcmp(y, full, sizeof(float) * m) == 0, "m=%d k=%d: blocks of %d rows differ from one call", m, kdim, blk);
    }
    free(y);
}
static void call_mv_f32(const struct eg_kernels *k, float *y, const void *w, size_t rb, const float *x, const float *b, int m, int kd) { k->matvec_f32(y, w, x, b, m, kd); }
static void call_mv_f16(const struct eg_kernels *k, float *y, const void *w, size_t rb, const float *x, const float *b, int m, int kd) { k->matvec_f16(y, w, x, b, m, kd); }
static void call_mv_q8(const struct eg_kernels *k, float *y, const void *w, size_t rb, const float *x, const float *b, int m, int kd) { k->matvec_q8_0(y, w, x, b, m, kd); }
static void call_mv_q4(const struct eg_kernels *k, float *y, const void *w, size_t rb, const float *x, const float *b, int m, int kd) { k->matvec_q4_0(y, w, x, b, m, kd); }

static void check_matvec_f32(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 1;
    for (int mi = 0; mi < N_MV_M; mi++)
        for (int li = 0; li < N_LENS; li++) {
            int m = mv_m[mi], kd = lens[li];
            if ((size_t)m * kd > 40000) continue;
            struct gbuf w = galloc((size_t)m * kd, 1), x = galloc(kd, 1), b = galloc(m, 0), y = galloc(m, 1),
                        yr = galloc(m, 0);
            fill(w.p, w.n, &s, -1, 1); fill(x.p, x.n, &s, -1, 1); fill(b.p, b.n, &s, -1, 1);
            const float *bias = (li & 1) ? b.p : NULL;
            R->matvec_f32(yr.p, w.p, x.p, bias, m, kd);
            k->matvec_f32(y.p, w.p, x.p, bias, m, kd);
            CMP(yr.p, y.p, m, TOL_MATVEC_F32, 1e-3, "m=%d k=%d", e_, TOL_MATVEC_F32, rel_, m, kd);
            CHECK(guard_ok(y), "guard m=%d k=%d", m, kd);
            check_mv_blocks(th_, k, call_mv_f32, w.p, (size_t)kd * 4, x.p, bias, m, kd, y.p);
            gfree(w); gfree(x); gfree(b); gfree(y); gfree(yr);
        }
    /* large magnitudes and denormals in w and x */
    int m = 7, kd = 77;
    struct gbuf w = galloc((size_t)m * kd, 0), x = galloc(kd, 0), y = galloc(m, 0), yr = galloc(m, 0);
    for (size_t i = 0; i < w.n; i++) w.p[i] = (i % 3 == 0) ? 1e-40f : (i % 3 == 1 ? 1e15f : -0.0f);
    for (int i = 0; i < kd; i++) x.p[i] = (i % 2) ? 1e-20f : -3e10f;
    R->matvec_f32(yr.p, w.p, x.p, NULL, m, kd);
    k->matvec_f32(y.p, w.p, x.p, NULL, m, kd);
    CMP(yr.p, y.p, m, TOL_MATVEC_F32, 0, "extremes", e_, TOL_MATVEC_F32, rel_);
    CHECK(guard_ok(y), "guard extremes");
    gfree(w); gfree(x); gfree(y); gfree(yr);
}

static void check_matvec_f16(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 2;
    for (int mi = 0; mi < N_MV_M; mi++)
        for (int li = 0; li < N_LENS; li++) {
            int m = mv_m[mi], kd = lens[li];
            if ((size_t)m * kd > 40000) continue;
            uint16_t *wbuf = malloc(((size_t)m * kd + 1) * 2), *w = wbuf + 1;   /* 2-byte misaligned rows */
            for (size_t i = 0; i < (size_t)m * kd; i++) w[i] = eg_f32_to_f16(th_rand_uniform(&s, -2, 2));
            if (kd > 3) { w[0] = 0x0001; w[1] = 0x8000; w[2] = 0x7bff; w[3] = 0x03ff; }   /* denormals, -0, max */
            struct gbuf x = galloc(kd, 1), b = galloc(m, 0), y = galloc(m, 1), yr = galloc(m, 0);
            fill(x.p, x.n, &s, -1, 1); fill(b.p, b.n, &s, -1, 1);
            const float *bias = (li & 1) ? b.p : NULL;
            R->matvec_f16(yr.p, w, x.p, bias, m, kd);
            k->matvec_f16(y.p, w, x.p, bias, m, kd);
            CMP(yr.p, y.p, m, TOL_MATVEC_F32, 1e-3, "m=%d k=%d", e_, TOL_MATVEC_F32, rel_, m, kd);
            CHECK(guard_ok(y), "guard m=%d k=%d", m, kd);
            check_mv_blocks(th_, k, call_mv_f16, w, (size_t)kd * 2, x.p, bias, m, kd, y.p);
            free(wbuf); gfree(x); gfree(b); gfree(y); gfree(yr);
        }
}

/* Random quantised rows: scales in [0.001, 0.05] (f16), values uniform over the full code range. */
static void *rand_qrows(uint64_t *s, int m, int kd, int is_q4, int mis) {
    size_t bb = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES, nbytes = (size_t)m * (kd / EG_QK) * bb;
    uint8_t *buf = malloc(nbytes + 1 + (size_t)mis), *p = buf + mis;
    for (size_t off = 0; off < nbytes; off += bb) {
        uint16_t d = eg_f32_to_f16(th_rand_uniform(s, 0.001f, 0.05f));
        memcpy(p + off, &d, 2);
        for (size_t i = 2; i < bb; i++) p[off + i] = (uint8_t)(th_rand_u64(s) >> 56);
    }
    return buf;
}

/* The quantiser itself, bit-exact on every table: 32 one-hot rows (code 1 at column j, scale 1.0) read back the
 * activation codes q_j * dx of one 32-block; blocks probe ties (amax = 127 so dx = 1: x = n + 0.5 rounds to
 * even), negative ties, the 2^-100 zero threshold, a denormal block and an all-zero block. */
static void check_q8_activations(struct th_state *th_, const struct eg_kernels *k, int is_q4) {
    static const float ties[8] = { 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f };
    const size_t bb = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    uint8_t w[32 * EG_Q8_0_BLOCK_BYTES];
    float x[32], y[32], yr[32];
    memset(w, 0, sizeof w);
    for (int j = 0; j < 32; j++) {
        uint8_t *blk = w + j * bb;
        const uint16_t one = 0x3c00;
        memcpy(blk, &one, 2);
        if (is_q4) {   /* every nibble 8 (0) except element j = 9 (1) */
            memset(blk + 2, 0x88, 16);
            blk[2 + (j & 15)] = j < 16 ? (uint8_t)0x89 : (uint8_t)0x98;
        } else {
            blk[2 + j] = 1;
        }
    }
    for (int v = 0; v < 5; v++) {
        for (int j = 0; j < 32; j++) {
            switch (v) {
            case 0: x[j] = j == 7 ? -127.0f : ties[j % 8] * (j < 8 ? 1.0f : 0.5f) + (j >= 16 ? 40.0f : 0.0f); break;
            case 1: x[j] = (float)(j - 16) * 0.37f; break;
            case 2: x[j] = j == 3 ? 0x1.fp-101f : 0x1p-110f * (float)j; break;   /* amax just under 2^-100: zero */
            case 3: x[j] = j == 3 ? 0x1p-100f : -0x1p-106f * (float)j; break;   /* amax at 2^-100: quantised */
            default: x[j] = 0.0f; break;
            }
        }
        if (v == 2) x[5] = 1e-39f;
        if (is_q4) { R->matvec_q4_0(yr, w, x, NULL, 32, 32); k->matvec_q4_0(y, w, x, NULL, 32, 32); }
        else       { R->matvec_q8_0(yr, w, x, NULL, 32, 32); k->matvec_q8_0(y, w, x, NULL, 32, 32); }
        CMP_EXACT(yr, y, 32, "%s activation codes, case %d (first %g vs ref %g)", is_q4 ? "q4_0" : "q8_0", v, y[0], yr[0]);
        if (v == 2) for (int j = 0; j < 32; j++) CHECK(yr[j] == 0.0f, "block below 2^-100 not zero: %g", yr[j]);
        if (v == 3) CHECK(fabsf(yr[3] - 0x1p-100f) <= 1e-6f * 0x1p-100f, "block at 2^-100: %g", yr[3]);
    }
    /* ties with dx = 1 (case 0 rebuilt): the reference's codes are the round-half-even values */
    for (int j = 0; j < 8; j++) x[j] = ties[j];
    for (int j = 8; j < 32; j++) x[j] = 0.0f;
    x[9] = 127.0f;
    if (is_q4) R->matvec_q4_0(yr, w, x, NULL, 32, 32); else R->matvec_q8_0(yr, w, x, NULL, 32, 32);
    static const float want[8] = { 2, 4, -2, -4, 0, -0.0f, 2, 126 };
    for (int j = 0; j < 8; j++) CHECK(yr[j] == want[j], "ref code of %g = %g, want %g (round half to even)", ties[j], yr[j], want[j]);
}

static void check_matvec_q(struct th_state *th_, const struct eg_kernels *k, int is_q4) {
    /* neon, neon-dotprod and avx2 implement the reference's block-order sum: bit-identical (kernels.h) */
    const int exact = strncmp(k->name, "neon", 4) == 0 || strcmp(k->name, "avx2") == 0;
    check_q8_activations(th_, k, is_q4);
    static const int ks[] = { 32, 64, 96, 160, 512, 4096, 4128, 8256 };   /* 8256 > the 4096 x-chunk */
    uint64_t s = 3 + is_q4;
    size_t bb = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    for (int mi = 0; mi < N_MV_M; mi++)
        for (int ki = 0; ki < (int)(sizeof ks / sizeof ks[0]); ki++) {
            int m = mv_m[mi], kd = ks[ki];
            if ((size_t)m * kd > 80000) continue;
            uint8_t *buf = rand_qrows(&s, m, kd, is_q4, 1), *w = buf + 1;
            struct gbuf x = galloc(kd, 1), b = galloc(m, 0), y = galloc(m, 1), yr = galloc(m, 0);
            fill(x.p, x.n, &s, -1, 1); fill(b.p, b.n, &s, -1, 1);
            if (ki == 2) for (int i = 0; i < 32; i++) x.p[i] = 0.0f;           /* an all-zero x block */
            if (ki == 3) for (int i = 32; i < 64; i++) x.p[i] = 1e-39f;        /* denormal x block */
            if (ki == 4) for (int i = 0; i < 64; i++) x.p[i] *= 1e6f;          /* large x block */
            if (ki == 5) for (int i = 0; i < 32; i++) x.p[i] = i == 0 ? 127.0f : (float)((int)(th_rand_u64(&s) % 253) - 126) + 0.5f;   /* ties */
            const float *bias = (ki & 1) ? b.p : NULL;
            if (is_q4) { R->matvec_q4_0(yr.p, w, x.p, bias, m, kd); k->matvec_q4_0(y.p, w, x.p, bias, m, kd); }
            else       { R->matvec_q8_0(yr.p, w, x.p, bias, m, kd); k->matvec_q8_0(y.p, w, x.p, bias, m, kd); }
            /* error relative to the scale of each dot product, ||w_i|| * ||x|| (a plain NMSE over a single
             * output that happens to cancel to ~0 says nothing about the kernel); ||w_i|| from the reference
             * dequantisation */
            double num = 0, den = 0;
            int nan = 0;
            float *row = malloc(sizeof(float) * kd);
            double xx = 0;
            for (int j = 0; j < kd; j++) xx += (double)x.p[j] * x.p[j];
            for (int i = 0; i < m; i++) {
                const uint8_t *wr = w + (size_t)i * (kd / EG_QK) * bb;
                if (is_q4) R->dequant_q4_0(row, wr, kd); else R->dequant_q8_0(row, wr, kd);
                double ww = 0;
                for (int j = 0; j < kd; j++) ww += (double)row[j] * row[j];
                double d = (double)yr.p[i] - y.p[i];
                nan |= isnan(y.p[i]) || isnan(yr.p[i]);
                num += d * d; den += ww * xx;
            }
            free(row);
            double e = nan ? INFINITY : num / (den > 1e-30 ? den : 1e-30);
            note(e, 0);
            if (exact) CMP_EXACT(yr.p, y.p, (size_t)m, "%s m=%d k=%d: %s differs from the reference", is_q4 ? "q4_0" : "q8_0", m, kd, k->name);
            CHECK(e <= TOL_MATVEC_Q, "%s m=%d k=%d: scaled nmse %.3g > %.3g (plain nmse %.3g)", is_q4 ? "q4_0" : "q8_0",
                  m, kd, e, TOL_MATVEC_Q, nmse(yr.p, y.p, m));
            CHECK(guard_ok(y), "guard m=%d k=%d", m, kd);
            check_mv_blocks(th_, k, is_q4 ? call_mv_q4 : call_mv_q8, w, (size_t)(kd / EG_QK) * bb, x.p, bias, m, kd, y.p);
            free(buf); gfree(x); gfree(b); gfree(y); gfree(yr);
        }
}
static void check_matvec_q8_0(struct th_state *th_, const struct eg_kernels *k) { check_matvec_q(th_, k, 0); }
static void check_matvec_q4_0(struct th_state *th_, const struct eg_kernels *k) { check_matvec_q(th_, k, 1); }

/* ---- gemm --------------------------------------------------------------------------------------------- */

static void gemm_case(struct th_state *th_, const struct eg_kernels *k, uint64_t *s, int m, int n, int kd, int use_bias) {
    int lda = kd + 3, ldb = kd + 1, ldc = n + 5;
    struct gbuf a = galloc((size_t)m * lda, 1), b = galloc((size_t)n * ldb, 1), bias = galloc(n, 1),
                c = galloc((size_t)m * ldc, 1), cr = galloc((size_t)m * ldc, 0), c2 = galloc((size_t)m * ldc, 0);
    fill(a.p, a.n, s, -1, 1); fill(b.p, b.n, s, -1, 1); fill(bias.p, bias.n, s, -1, 1);
    const float *bp = use_bias ? bias.p : NULL;
    R->gemm_f32(cr.p, ldc, a.p, lda, b.p, ldb, bp, m, n, kd);
    k->gemm_f32(c.p, ldc, a.p, lda, b.p, ldb, bp, m, n, kd);
    /* compare the m x n payload; the ldc padding must be untouched (still the sentinel NaN) */
    int pad_ok = 1;
    /* error of each row relative to the scale of its dot products, sum_j ||a_i||^2 ||b_j||^2: a plain NMSE over
     * a row with n = 1 whose dot product cancels to ~0 measures the reference's own rounding, not the kernel */
    double bb_sum = 0;
    for (int j = 0; j < n; j++)
        for (int p = 0; p < kd; p++) bb_sum += (double)b.p[(size_t)j * ldb + p] * b.p[(size_t)j * ldb + p];
    for (int i = 0; i < m; i++) {
        double aa = 0, num = 0;
        int nan = 0;
        for (int p = 0; p < kd; p++) aa += (double)a.p[(size_t)i * lda + p] * a.p[(size_t)i * lda + p];
        for (int j = 0; j < n; j++) {
            double d = (double)cr.p[(size_t)i * ldc + j] - c.p[(size_t)i * ldc + j];
            nan |= isnan(c.p[(size_t)i * ldc + j]);
            num += d * d;
        }
        double e = nan ? INFINITY : num / (aa * bb_sum > 1e-30 ? aa * bb_sum : 1e-30);
        note(e, 0);
        CHECK(e <= TOL_GEMM_SCALED, "m=%d n=%d k=%d row %d: scaled nmse %.3g > %.3g (plain nmse %.3g)", m, n, kd, i, e,
              TOL_GEMM_SCALED, nmse(cr.p + (size_t)i * ldc, c.p + (size_t)i * ldc, n));
        for (int j = n; j < ldc && i < m - 1; j++) {
            uint32_t u; memcpy(&u, c.p + (size_t)i * ldc + j, 4);
            if (u != TH_SENTINEL) pad_ok = 0;
        }
    }
    CHECK(pad_ok, "m=%d n=%d k=%d: wrote into the ldc padding", m, n, kd);
    CHECK(guard_ok(c), "guard m=%d n=%d k=%d", m, n, kd);
    /* determinism: a split into row and column blocks at odd offsets gives bit-identical results */
    memcpy(c2.p, c.p, sizeof(float) * c.n);
    int mi = m / 2 + 1, nj = n / 3 + 1;
    for (int i0 = 0; i0 < m; i0 += mi)
        for (int j0 = 0; j0 < n; j0 += nj) {
            int mm = m - i0 < mi ? m - i0 : mi, nn = n - j0 < nj ? n - j0 : nj;
            k->gemm_f32(c2.p + (size_t)i0 * ldc + j0, ldc, a.p + (size_t)i0 * lda, lda, b.p + (size_t)j0 * ldb, ldb,
                        bp ? bp + j0 : NULL, mm, nn, kd);
        }
    CHECK(memcmp(c2.p, c.p, sizeof(float) * c.n) == 0, "m=%d n=%d k=%d: split call differs", m, n, kd);
    gfree(a); gfree(b); gfree(bias); gfree(c); gfree(cr); gfree(c2);
}

static void check_gemm_f32(struct th_state *th_, const struct eg_kernels *k) {
    static const int ms[] = { 1, 2, 5, 6, 7, 11, 12, 13, 25 };
    static const int ns[] = { 1, 3, 8, 15, 16, 17, 31, 32, 33, 65 };
    static const int ks[] = { 0, 1, 7, 16, 33, 255, 256, 257, 600 };
    uint64_t s = 5;
    int t = 0;
    for (int a = 0; a < (int)(sizeof ms / sizeof ms[0]); a++)
        for (int b = 0; b < (int)(sizeof ns / sizeof ns[0]); b++)
            for (int c = 0; c < (int)(sizeof ks / sizeof ks[0]); c++, t++) {
                if ((a + b + c) % 3) continue;   /* a third of the grid covers every value of each dimension */
                gemm_case(th_, k, &s, ms[a], ns[b], ks[c], t & 1);
            }
    gemm_case(th_, k, &s, 64, 96, 512, 1);
    gemm_case(th_, k, &s, 37, 70, 1030, 0);
    gemm_case(th_, k, &s, 601, 40, 300, 1);   /* A slab > 512 KiB: the AVX-512 next-strip prefetch path */
}

/* ---- dequant -------------------------------------------------------------------------------------------- */

static void check_dequant(struct th_state *th_, const struct eg_kernels *k) {
    /* f16: all 65536 codes, NaN codes excluded (checked separately) */
    uint16_t *h = malloc(65536 * 2 + 2), *hp = h + 1;
    int nn = 0;
    for (uint32_t c = 0; c < 65536; c++) if (!((c & 0x7c00) == 0x7c00 && (c & 0x3ff))) hp[nn++] = (uint16_t)c;
    struct gbuf y = galloc(nn, 1), yr = galloc(nn, 0);
    R->dequant_f16(yr.p, hp, nn);
    k->dequant_f16(y.p, hp, nn);
    CMP_EXACT(yr.p, y.p, (size_t)nn, "dequant_f16 over all non-NaN codes");
    CHECK(guard_ok(y), "guard f16");
    gfree(y); gfree(yr);
    uint16_t qnan[2] = { 0x7e00, 0xfc01 };
    float fn[2];
    k->dequant_f16(fn, qnan, 2);
    CHECK(isnan(fn[0]) && isnan(fn[1]), "f16 NaN codes must give NaN");
    for (int li = 0; li < N_LENS; li++) {
        int n = lens[li];
        uint64_t s = 7 + li;
        for (int i = 0; i < n; i++) hp[i] = eg_f32_to_f16(th_rand_uniform(&s, -100, 100));
        struct gbuf a = galloc(n, 1), ar = galloc(n, 0);
        R->dequant_f16(ar.p, hp, n); k->dequant_f16(a.p, hp, n);
        CMP_EXACT(ar.p, a.p, (size_t)n, "dequant_f16 n=%d", n);
        CHECK(guard_ok(a), "guard f16 n=%d", n);
        gfree(a); gfree(ar);
    }
    free(h);
    /* q8_0 / q4_0: rows of 1..65 blocks, misaligned source, exact */
    for (int q4 = 0; q4 < 2; q4++)
        for (int nb = 1; nb <= 65; nb += (nb < 5 ? 1 : 16)) {
            uint64_t s = 11 + nb;
            uint8_t *buf = rand_qrows(&s, 1, nb * EG_QK, q4, 1);
            struct gbuf a = galloc((size_t)nb * EG_QK, 1), ar = galloc((size_t)nb * EG_QK, 0);
            if (q4) { R->dequant_q4_0(ar.p, buf + 1, nb * EG_QK); k->dequant_q4_0(a.p, buf + 1, nb * EG_QK); }
            else    { R->dequant_q8_0(ar.p, buf + 1, nb * EG_QK); k->dequant_q8_0(a.p, buf + 1, nb * EG_QK); }
            CMP_EXACT(ar.p, a.p, a.n, "dequant %s nb=%d", q4 ? "q4_0" : "q8_0", nb);
            CHECK(guard_ok(a), "guard %s nb=%d", q4 ? "q4_0" : "q8_0", nb);
            free(buf); gfree(a); gfree(ar);
        }
}

/* ---- conv1d --------------------------------------------------------------------------------------------- */

static void check_conv1d_dw(struct th_state *th_, const struct eg_kernels *k) {
    static const int ts[] = { 1, 2, 5, 17 }, kws[] = { 1, 3, 5, 7 };
    uint64_t s = 13;
    for (int ti = 0; ti < 4; ti++)
        for (int li = 0; li < N_LENS; li++)
            for (int wi = 0; wi < 4; wi++) {
                int t = ts[ti], c = lens[li], kw = kws[wi];
                if (c > 600 && ti > 1) continue;
                size_t cu = (unsigned)c, tu = (unsigned)t, kwu = (unsigned)kw;   /* all > 0 */
                struct gbuf x = galloc((tu + kwu - 1) * cu, 1), w = galloc(kwu * cu, 1), b = galloc(cu, 0),
                            y = galloc(tu * cu, 1), yr = galloc(tu * cu, 0);
                fill(x.p, x.n, &s, -2, 2); fill(w.p, w.n, &s, -1, 1); fill(b.p, b.n, &s, -1, 1);
                const float *bias = ((li + wi) & 1) ? b.p : NULL;
                R->conv1d_dw_f32(yr.p, x.p, w.p, bias, t, c, kw);
                k->conv1d_dw_f32(y.p, x.p, w.p, bias, t, c, kw);
                CMP(yr.p, y.p, y.n, TOL_CONV, 1e-3, "t=%d c=%d kw=%d", e_, TOL_CONV, rel_, t, c, kw);
                CHECK(guard_ok(y), "guard t=%d c=%d kw=%d", t, c, kw);
                gfree(x); gfree(w); gfree(b); gfree(y); gfree(yr);
            }
}

/* ---- normalisation -------------------------------------------------------------------------------------- */

static void check_norms(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 17;
    for (int li = 0; li < N_LENS; li++)
        for (int v = 0; v < 4; v++) {
            int n = lens[li], rows = 3;
            struct gbuf x = galloc((size_t)rows * n, 1), g = galloc(n, 1), b = galloc(n, 0),
                        y = galloc((size_t)rows * n, 1), yr = galloc((size_t)rows * n, 0);
            /* v: 0 plain, 1 offset 1000 (mean removal), 2 tiny values near the eps floor, 3 constant rows */
            fill(x.p, x.n, &s, -2, 2); fill(g.p, g.n, &s, 0.5f, 1.5f); fill(b.p, b.n, &s, -1, 1);
            for (size_t i = 0; i < x.n; i++) {
                if (v == 1) x.p[i] += 1000.0f;
                if (v == 2) x.p[i] *= 1e-4f;
                if (v == 3) x.p[i] = 3.25f;
            }
            const float *gp = (li & 1) ? g.p : NULL, *bp = (li & 2) ? b.p : NULL;
            R->layer_norm_f32(yr.p, x.p, gp, bp, rows, n, 1e-5f);
            k->layer_norm_f32(y.p, x.p, gp, bp, rows, n, 1e-5f);
            CMP(yr.p, y.p, y.n, TOL_NORM, 1e-3, "layer_norm n=%d v=%d", e_, TOL_NORM, rel_, n, v);
            CHECK(guard_ok(y), "guard layer_norm n=%d", n);
            /* in place */
            memcpy(y.p, x.p, sizeof(float) * x.n);
            k->layer_norm_f32(y.p, y.p, gp, bp, rows, n, 1e-5f);
            CMP(yr.p, y.p, y.n, TOL_NORM, 1e-3, "layer_norm in place n=%d v=%d", e_, TOL_NORM, rel_, n, v);
            R->rms_norm_f32(yr.p, x.p, gp, rows, n, 1e-6f);
            k->rms_norm_f32(y.p, x.p, gp, rows, n, 1e-6f);
            CMP(yr.p, y.p, y.n, TOL_NORM, 1e-3, "rms_norm n=%d v=%d", e_, TOL_NORM, rel_, n, v);
            CHECK(guard_ok(y), "guard rms_norm n=%d", n);
            memcpy(y.p, x.p, sizeof(float) * x.n);
            k->rms_norm_f32(y.p, y.p, gp, rows, n, 1e-6f);
            CMP(yr.p, y.p, y.n, TOL_NORM, 1e-3, "rms_norm in place n=%d v=%d", e_, TOL_NORM, rel_, n, v);
            gfree(x); gfree(g); gfree(b); gfree(y); gfree(yr);
        }
}

static void check_softmax(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 19;
    for (int li = 0; li < N_LENS; li++)
        for (int v = 0; v < 3; v++) {
            int n = lens[li];
            struct gbuf x = galloc(n, 1), y = galloc(n, 1), yr = galloc(n, 0);
            /* v: 0 logits in [-10, 10], 1 in [-1e4, 1e4] (most terms underflow), 2 with -inf (masked) entries */
            fill(x.p, x.n, &s, v == 1 ? -1e4f : -10, v == 1 ? 1e4f : 10);
            if (v == 2) for (int i = 0; i < n; i += 3) if (i != n / 2) x.p[i] = -INFINITY;
            R->softmax_f32(yr.p, x.p, n);
            k->softmax_f32(y.p, x.p, n);
            CMP(yr.p, y.p, n, TOL_SOFTMAX, 1e-30, "n=%d v=%d", e_, TOL_SOFTMAX, rel_, n, v);
            CHECK(guard_ok(y), "guard n=%d", n);
            memcpy(y.p, x.p, sizeof(float) * n);
            k->softmax_f32(y.p, y.p, n);
            CMP(yr.p, y.p, n, TOL_SOFTMAX, 1e-30, "in place n=%d v=%d", e_, TOL_SOFTMAX, rel_, n, v);
            gfree(x); gfree(y); gfree(yr);
        }
}

/* ---- elementwise transcendentals ------------------------------------------------------------------------ */

typedef void (*unary_fn)(float *y, const float *x, int n);
/* Edge values for every unary op: signed zeros, denormals, tiny, large, and each op's saturating ranges. */
static const float edge_vals[] = { 0.0f, -0.0f, 1e-40f, -1e-40f, 1.17549435e-38f, 1e-30f, -1e-30f, 1e-7f, -1e-7f,
                                   0.5f, -0.5f, 0.624f, 0.626f, -0.625f, 1.0f, -1.0f, 3.0f, -3.0f, 9.0f, -9.0f,
                                   10.0f, -10.0f, 15.0f, -15.0f, 20.0f, -20.0f, 40.0f, -40.0f, 80.0f, -80.0f,
                                   87.0f, 88.7f, 89.0f, -87.0f, -88.0f, -103.0f, -104.0f, -110.0f, 200.0f, -200.0f,
                                   1e4f, -1e4f, 1e30f, -1e30f, 3.4e38f, -3.4e38f };
#define N_EDGE ((int)(sizeof edge_vals / sizeof edge_vals[0]))

static void check_unary(struct th_state *th_, const char *name, unary_fn ref, unary_fn got, float lo, float hi,
                        int use_edges, double floor_) {
    uint64_t s = 23;
    for (int li = 0; li < N_LENS; li++) {
        int n = lens[li];
        struct gbuf x = galloc(n, 1), y = galloc(n, 1), yr = galloc(n, 0);
        fill(x.p, x.n, &s, lo, hi);
        ref(yr.p, x.p, n);
        got(y.p, x.p, n);
        CMP_REL(yr.p, y.p, n, TOL_TRANSC, REL_TRANSC, floor_, "%s n=%d", e_, TOL_TRANSC, rel_, REL_TRANSC, name, n);
        CHECK(guard_ok(y), "guard %s n=%d", name, n);
        memcpy(y.p, x.p, sizeof(float) * n);   /* in place */
        got(y.p, y.p, n);
        CMP_REL(yr.p, y.p, n, TOL_TRANSC, REL_TRANSC, floor_, "%s in place n=%d", e_, TOL_TRANSC, rel_, REL_TRANSC, name, n);
        gfree(x); gfree(y); gfree(yr);
    }
    if (!use_edges) return;
    /* edges: every value at every lane position (the list is shifted through a 33-wide window) */
    for (int sh = 0; sh < 17; sh++) {
        int n = N_EDGE;
        struct gbuf x = galloc(n, 1), y = galloc(n, 1), yr = galloc(n, 0);
        for (int i = 0; i < n; i++) x.p[i] = edge_vals[(i + sh) % N_EDGE];
        ref(yr.p, x.p, n);
        got(y.p, x.p, n);
        /* relative bound with an absolute floor of 1e-37 (below it, flush-to-zero differences are allowed) */
        CMP_REL(yr.p, y.p, n, TOL_TRANSC, REL_TRANSC, floor_ > 1e-37 ? floor_ : 1e-37, "%s edges shift %d", e_, TOL_TRANSC, rel_, REL_TRANSC, name, sh);
        for (int i = 0; i < n; i++)
            if (!(yr.p[i] == y.p[i] || fabs((double)yr.p[i] - y.p[i]) <= REL_TRANSC * (fabs((double)yr.p[i]) + floor_) + 1e-37)) {
                CHECK(0, "%s(%g) = %g, ref %g", name, x.p[i], y.p[i], yr.p[i]);
                break;
            }
        CHECK(guard_ok(y), "guard %s edges", name);
        gfree(x); gfree(y); gfree(yr);
    }
}

static void check_gelu(struct th_state *th_, const struct eg_kernels *k) { check_unary(th_, "gelu", R->gelu_f32, k->gelu_f32, -8, 8, 1, 1e-6); }
static void check_exp(struct th_state *th_, const struct eg_kernels *k) {
    check_unary(th_, "exp", R->exp_f32, k->exp_f32, -20, 20, 1, 1e-30);
    check_unary(th_, "exp", R->exp_f32, k->exp_f32, -87, 88, 0, 1e-30);
}

static void check_sincos(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 29;
    for (int li = 0; li < N_LENS; li++)
        for (int v = 0; v < 2; v++) {
            int n = lens[li];
            struct gbuf x = galloc(n, 1), sn = galloc(n, 1), cs = galloc(n, 0), snr = galloc(n, 0), csr = galloc(n, 0);
            fill(x.p, x.n, &s, v ? -1e4f : -7, v ? 1e4f : 7);
            if (n > 4) { x.p[0] = 0.0f; x.p[1] = -0.0f; x.p[2] = 1e-40f; x.p[3] = (float)M_PI; }
            R->sincos_f32(snr.p, csr.p, x.p, n);
            k->sincos_f32(sn.p, cs.p, x.p, n);
            /* absolute error matters for sin/cos (values near zero at multiples of pi): floor 1e-6 */
            CMP_REL(snr.p, sn.p, n, TOL_TRANSC, REL_TRANSC, 1e-6, "sin n=%d", e_, TOL_TRANSC, rel_, REL_TRANSC, n);
            CMP_REL(csr.p, cs.p, n, TOL_TRANSC, REL_TRANSC, 1e-6, "cos n=%d", e_, TOL_TRANSC, rel_, REL_TRANSC, n);
            CHECK(guard_ok(sn) && guard_ok(cs), "guard n=%d", n);
            gfree(x); gfree(sn); gfree(cs); gfree(snr); gfree(csr);
        }
}

/* ---- exact elementwise ops and RoPE ---------------------------------------------------------------------- */

static void check_elementwise(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 31;
    for (int li = 0; li < N_LENS; li++) {
        int n = lens[li];
        struct gbuf a = galloc(n, 1), b = galloc(n, 0), y = galloc(n, 1), yr = galloc(n, 0);
        fill(a.p, a.n, &s, -100, 100); fill(b.p, b.n, &s, -1, 1);
        if (n > 3) { a.p[0] = -0.0f; b.p[1] = 1e-40f; a.p[2] = 3e38f; b.p[2] = 3e38f; }   /* -0, denormal, overflow */
        R->add_f32(yr.p, a.p, b.p, n); k->add_f32(y.p, a.p, b.p, n);
        CMP_EXACT(yr.p, y.p, (size_t)n, "add n=%d", n);
        R->mul_f32(yr.p, a.p, b.p, n); k->mul_f32(y.p, a.p, b.p, n);
        CMP_EXACT(yr.p, y.p, (size_t)n, "mul n=%d", n);
        memcpy(yr.p, b.p, sizeof(float) * n); memcpy(y.p, b.p, sizeof(float) * n);
        R->axpy_f32(yr.p, 0.3f, a.p, n); k->axpy_f32(y.p, 0.3f, a.p, n);
        CMP_EXACT(yr.p, y.p, (size_t)n, "axpy n=%d", n);
        CHECK(guard_ok(y), "guard n=%d", n);
        /* in place: y == a */
        memcpy(y.p, a.p, sizeof(float) * n);
        k->add_f32(y.p, y.p, b.p, n); R->add_f32(yr.p, a.p, b.p, n);
        CMP_EXACT(yr.p, y.p, (size_t)n, "add in place n=%d", n);
        memcpy(y.p, a.p, sizeof(float) * n);
        k->mul_f32(y.p, y.p, b.p, n); R->mul_f32(yr.p, a.p, b.p, n);
        CMP_EXACT(yr.p, y.p, (size_t)n, "mul in place n=%d", n);
        gfree(a); gfree(b); gfree(y); gfree(yr);
    }
}

static void check_rope(struct th_state *th_, const struct eg_kernels *k) {
    uint64_t s = 37;
    for (int heads = 1; heads <= 3; heads += 2)
        for (int hd = 2; hd <= 130; hd += (hd < 40 ? 2 : 30)) {
            struct gbuf x = galloc((size_t)heads * hd, 1), xr = galloc((size_t)heads * hd, 0), c = galloc(hd / 2, 1),
                        sn = galloc(hd / 2, 0);
            fill(x.p, x.n, &s, -3, 3);
            for (int i = 0; i < hd / 2; i++) { float th = th_rand_uniform(&s, -100, 100); c.p[i] = cosf(th); sn.p[i] = sinf(th); }
            memcpy(xr.p, x.p, sizeof(float) * x.n);
            R->rope_f32(xr.p, c.p, sn.p, heads, hd);
            k->rope_f32(x.p, c.p, sn.p, heads, hd);
            CMP_EXACT(xr.p, x.p, x.n, "rope heads=%d head_dim=%d", heads, hd);
            CHECK(guard_ok(x), "guard heads=%d head_dim=%d", heads, hd);
            gfree(x); gfree(xr); gfree(c); gfree(sn);
        }
}

/* ---- registration: one test per op and linked SIMD table ------------------------------------------------ */

#if defined(EG_BUILD_AVX2)
#define T_AVX2(op) TEST(kernels_##op##_avx2) { for_table(th_, "avx2", check_##op); }
#else
#define T_AVX2(op)
#endif
#if defined(EG_BUILD_AVX512)
#define T_AVX512(op) TEST(kernels_##op##_avx512) { for_table(th_, "avx512", check_##op); }
#else
#define T_AVX512(op)
#endif
#if defined(EG_BUILD_NEON)
#define T_NEON(op) TEST(kernels_##op##_neon) { for_table(th_, "neon", check_##op); }
#else
#define T_NEON(op)
#endif
#define TABLE_TESTS(op) T_AVX2(op) T_AVX512(op) T_NEON(op)

/* neon-dotprod (AArch64 + SDOT) implements matvec_q8_0/q4_0 only, so it is registered for those two ops (its
 * other slots are NULL in the table and inherit neon's, tested above). Its int32 block dots are exact and its
 * x quantisation and float accumulation order are neon's, so it must also match the neon table bit for bit. */
#if defined(EG_BUILD_NEON_DOTPROD)
#define T_NEON_DOTPROD(op) TEST(kernels_##op##_neon_dotprod) { for_table(th_, "neon-dotprod", check_##op); }
static void check_dotprod_vs_neon(struct th_state *th_, const struct eg_kernels *k) {
    static const int ks[] = { 32, 64, 160, 2048, 2080, 4128 };   /* 2080, 4128: more than one 64-block x chunk */
    uint64_t s = 11;
    for (int is_q4 = 0; is_q4 <= 1; is_q4++)
        for (int mi = 0; mi < N_MV_M; mi++)
            for (int ki = 0; ki < (int)(sizeof ks / sizeof ks[0]); ki++) {
                int m = mv_m[mi], kd = ks[ki];
                uint8_t *buf = rand_qrows(&s, m, kd, is_q4, 1), *w = buf + 1;
                struct gbuf x = galloc(kd, 1), b = galloc(m, 0), y = galloc(m, 1), yn = galloc(m, 0);
                fill(x.p, x.n, &s, -1, 1); fill(b.p, b.n, &s, -1, 1);
                if (ki == 1) for (int i = 0; i < 32; i++) x.p[i] = 0.0f;
                if (ki == 2) for (int i = 32; i < 64; i++) x.p[i] *= 1e6f;
                const float *bias = (ki & 1) ? b.p : NULL;
                if (is_q4) { eg_kernels_neon.matvec_q4_0(yn.p, w, x.p, bias, m, kd); k->matvec_q4_0(y.p, w, x.p, bias, m, kd); }
                else       { eg_kernels_neon.matvec_q8_0(yn.p, w, x.p, bias, m, kd); k->matvec_q8_0(y.p, w, x.p, bias, m, kd); }
                CMP_EXACT(yn.p, y.p, (size_t)m, "%s m=%d k=%d: neon-dotprod differs from neon", is_q4 ? "q4_0" : "q8_0", m, kd);
                CHECK(guard_ok(y), "guard m=%d k=%d", m, kd);
                free(buf); gfree(x); gfree(b); gfree(y); gfree(yn);
            }
    /* dispatch: forcing neon-dotprod keeps its two kernels and fills every other slot from neon */
    struct eg_cpu cpu;
    struct eg_kernels d;
    char why[512];
    eg_cpu_detect(&cpu);
    CHECK(eg_dispatch_select(&cpu, EG_ISA_NEON_DOTPROD, &d, why, sizeof why) == EG_OK, "select: %s", why);
    CHECK(d.matvec_q8_0 == k->matvec_q8_0 && d.matvec_q4_0 == k->matvec_q4_0, "dotprod matvec slots replaced");
    CHECK(d.matvec_f32 == eg_kernels_neon.matvec_f32 && d.gelu_f32 == eg_kernels_neon.gelu_f32 &&
          d.rope_f32 == eg_kernels_neon.rope_f32, "empty slots not filled from neon");
    CHECK(strstr(why, "DOTPROD") != NULL, "why does not name dotprod: %s", why);
}
TEST(kernels_matvec_q_neon_dotprod_vs_neon) { for_table(th_, "neon-dotprod", check_dotprod_vs_neon); }
#else
#define T_NEON_DOTPROD(op)
#endif
T_NEON_DOTPROD(matvec_q8_0)
T_NEON_DOTPROD(matvec_q4_0)

TABLE_TESTS(matvec_f32)
TABLE_TESTS(matvec_f16)
TABLE_TESTS(matvec_q8_0)
TABLE_TESTS(matvec_q4_0)
TABLE_TESTS(gemm_f32)
TABLE_TESTS(dequant)
TABLE_TESTS(conv1d_dw)
TABLE_TESTS(norms)
TABLE_TESTS(softmax)
TABLE_TESTS(gelu)
TABLE_TESTS(exp)
TABLE_TESTS(sincos)
TABLE_TESTS(elementwise)
TABLE_TESTS(rope)
