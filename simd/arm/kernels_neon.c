/* simd/arm/kernels_neon.c — the NEON kernel table, one file for AArch64 ASIMD (every arm64 CPU, e.g. the
 * Cortex-A53 of a Pi 3 / Zero 2 W) and ARMv7 NEON + VFPv4 (32-bit Pi OS on a Cortex-A7 or later).
 * Exports eg_kernels_neon only; every kernel is static. Semantics are those of simd/kernels.h.
 *
 * Per-element determinism (kernels.h): each output is computed by one formula that depends only on its own row
 * (k, n) and never on m, t or its position, so tails are padded vectors (eg_ld_part), not scalar loops, and the
 * 4-row / 4x4 register tiles run the same per-element arithmetic as their 1-row / 1x1 edge versions.
 * Transcendentals are SLEEF's u10 vector functions (advsimd / neonvfpv4 variants, no SLEEF dispatcher).
 * matvec_q8_0/q4_0: kernels.h's q8-activation contract, bit-identical to the reference (vec_neon.h eg_matvec_q).
 * ARMv7 NEON flushes denormals to zero: there, add/mul/scale/axpy (exact by contract) run on scalar VFP.
 */
#if !defined(__ARM_NEON)
#error "kernels_neon.c needs NEON (AArch64, or ARMv7 with -mfpu=neon-vfpv4; see Makefile ARMV7_NEON_CFLAGS)"
#endif
#if !defined(__aarch64__) && !defined(__ARM_FEATURE_FMA)
#error "kernels_neon.c on ARMv7 needs VFPv4 fused multiply-add: -mfpu=neon-vfpv4"
#endif

#include <math.h>
#include <sleef.h>
#include "runtime/core/cpu.h"
#include "simd/kernels.h"
#include "simd/arm/vec_neon.h"

/* The R/C loops below run over register tiles and must be unrolled so the accumulators stay in registers. */
#define EG_UNROLL _Pragma("GCC unroll 4")

/* ---- matvec f32/f16 -------------------------------------------------------------------------------------
 * Per row: two accumulators over alternating 4-lane chunks (8 elements per step), one more 4-chunk into acc0
 * when k % 8 >= 4, the last k % 4 elements zero-padded into acc1; y = hsum(acc0 + acc1) (+ bias).
 * Rows go four at a time (x loaded once per step for four weight streams); R is a compile-time 4 or 1 and
 * both instantiations do the same arithmetic per row. */
static inline void dot_rows_f32(float *y, const float *w, const float *x, int k, int R) {
    float32x4_t a0[4], a1[4];
    EG_UNROLL
    for (int r = 0; r < R; r++) { a0[r] = vdupq_n_f32(0.0f); a1[r] = vdupq_n_f32(0.0f); }
    int j = 0;
    for (; j + 8 <= k; j += 8) {
        const float32x4_t x0 = vld1q_f32(x + j), x1 = vld1q_f32(x + j + 4);
        EG_UNROLL
        for (int r = 0; r < R; r++) {
            a0[r] = vfmaq_f32(a0[r], vld1q_f32(w + (size_t)r * k + j), x0);
            a1[r] = vfmaq_f32(a1[r], vld1q_f32(w + (size_t)r * k + j + 4), x1);
        }
    }
    if (j + 4 <= k) {
        const float32x4_t x0 = vld1q_f32(x + j);
        EG_UNROLL
        for (int r = 0; r < R; r++) a0[r] = vfmaq_f32(a0[r], vld1q_f32(w + (size_t)r * k + j), x0);
        j += 4;
    }
    if (j < k) {
        const float32x4_t x1 = eg_ld_part(x + j, k - j);
        EG_UNROLL
        for (int r = 0; r < R; r++) a1[r] = vfmaq_f32(a1[r], eg_ld_part(w + (size_t)r * k + j, k - j), x1);
    }
    EG_UNROLL
    for (int r = 0; r < R; r++) y[r] = eg_hsum_f32x4(vaddq_f32(a0[r], a1[r]));
}

static void add_bias(float *y, const float *bias, int m) {
    if (!bias) return;
    int i = 0;
    for (; i + 4 <= m; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(bias + i)));
    if (i < m) eg_st_part(y + i, vaddq_f32(eg_ld_part(y + i, m - i), eg_ld_part(bias + i, m - i)), m - i);
}

static void matvec_f32(float *y, const float *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) dot_rows_f32(y + i, w + (size_t)i * k, x, k, 4);
    for (; i < m; i++) dot_rows_f32(y + i, w + (size_t)i * k, x, k, 1);
    add_bias(y, bias, m);
}

static inline float32x4_t ld_f16_part(const uint16_t *p, int n) {
    uint16_t t[4] = { 0, 0, 0, 0 };
    memcpy(t, p, (size_t)n * sizeof(uint16_t));
    return eg_f16x4_to_f32(vld1_u16(t));
}

/* Same blocking as dot_rows_f32, weights converted from f16 on the fly. */
static inline void dot_rows_f16(float *y, const uint16_t *w, const float *x, int k, int R) {
    float32x4_t a0[4], a1[4];
    EG_UNROLL
    for (int r = 0; r < R; r++) { a0[r] = vdupq_n_f32(0.0f); a1[r] = vdupq_n_f32(0.0f); }
    int j = 0;
    for (; j + 8 <= k; j += 8) {
        const float32x4_t x0 = vld1q_f32(x + j), x1 = vld1q_f32(x + j + 4);
        EG_UNROLL
        for (int r = 0; r < R; r++) {
            const uint16x8_t h = vld1q_u16(w + (size_t)r * k + j);
            a0[r] = vfmaq_f32(a0[r], eg_f16x4_to_f32(vget_low_u16(h)), x0);
            a1[r] = vfmaq_f32(a1[r], eg_f16x4_to_f32(vget_high_u16(h)), x1);
        }
    }
    if (j + 4 <= k) {
        const float32x4_t x0 = vld1q_f32(x + j);
        EG_UNROLL
        for (int r = 0; r < R; r++)
            a0[r] = vfmaq_f32(a0[r], eg_f16x4_to_f32(vld1_u16(w + (size_t)r * k + j)), x0);
        j += 4;
    }
    if (j < k) {
        const float32x4_t x1 = eg_ld_part(x + j, k - j);
        EG_UNROLL
        for (int r = 0; r < R; r++) a1[r] = vfmaq_f32(a1[r], ld_f16_part(w + (size_t)r * k + j, k - j), x1);
    }
    EG_UNROLL
    for (int r = 0; r < R; r++) y[r] = eg_hsum_f32x4(vaddq_f32(a0[r], a1[r]));
}

static void matvec_f16(float *y, const uint16_t *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) dot_rows_f16(y + i, w + (size_t)i * k, x, k, 4);
    for (; i < m; i++) dot_rows_f16(y + i, w + (size_t)i * k, x, k, 1);
    add_bias(y, bias, m);
}

/* ---- matvec q8_0 / q4_0: eg_matvec_q (vec_neon.h), kernels.h's q8-activation contract with the reference's
 * exact IEEE operations per row, so the result is bit-identical to eg_kernels_ref (and to neon-dotprod). -------- */
static void matvec_q8_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    eg_matvec_q(y, w, x, bias, m, k, 0);
}
static void matvec_q4_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    eg_matvec_q(y, w, x, bias, m, k, 1);
}

/* ---- gemm f32, NT layout: C[i][j] = dot(A[i], B[j]) (+ bias[j]) ---------------------------------------
 * Every element: one 4-lane accumulator over k (last k % 4 zero-padded), hsum, then + bias.
 * Register tiles of R x C elements (AArch64 4x4: 16 accumulators of its 32 registers; ARMv7 2x4 of 16);
 * the edges use 1 x C, R x 1 and 1 x 1 tiles with the same per-element arithmetic. */
#if defined(__aarch64__)
#define GEMM_R 4
#else
#define GEMM_R 2
#endif
#define GEMM_C 4

static inline void gemm_tile(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                             const float *bias, int k, int R, int C) {
    float32x4_t acc[GEMM_R][GEMM_C];
    EG_UNROLL
    for (int r = 0; r < R; r++)
        EG_UNROLL
        for (int q = 0; q < C; q++) acc[r][q] = vdupq_n_f32(0.0f);
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        float32x4_t va[GEMM_R], vb[GEMM_C];
        EG_UNROLL
        for (int r = 0; r < R; r++) va[r] = vld1q_f32(a + (size_t)r * lda + p);
        EG_UNROLL
        for (int q = 0; q < C; q++) vb[q] = vld1q_f32(b + (size_t)q * ldb + p);
        EG_UNROLL
        for (int r = 0; r < R; r++)
            EG_UNROLL
            for (int q = 0; q < C; q++) acc[r][q] = vfmaq_f32(acc[r][q], va[r], vb[q]);
    }
    if (p < k) {
        float32x4_t va[GEMM_R], vb[GEMM_C];
        EG_UNROLL
        for (int r = 0; r < R; r++) va[r] = eg_ld_part(a + (size_t)r * lda + p, k - p);
        EG_UNROLL
        for (int q = 0; q < C; q++) vb[q] = eg_ld_part(b + (size_t)q * ldb + p, k - p);
        EG_UNROLL
        for (int r = 0; r < R; r++)
            EG_UNROLL
            for (int q = 0; q < C; q++) acc[r][q] = vfmaq_f32(acc[r][q], va[r], vb[q]);
    }
    EG_UNROLL
    for (int r = 0; r < R; r++)
        EG_UNROLL
        for (int q = 0; q < C; q++) {
            float s = eg_hsum_f32x4(acc[r][q]);
            if (bias) s += bias[q];
            c[(size_t)r * ldc + q] = s;
        }
}

static void gemm_f32(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                     const float *bias, int m, int n, int k) {
    int i = 0;
    for (; i + GEMM_R <= m; i += GEMM_R) {
        const float *ai = a + (size_t)i * lda;
        float *ci = c + (size_t)i * ldc;
        int j = 0;
        for (; j + GEMM_C <= n; j += GEMM_C)
            gemm_tile(ci + j, ldc, ai, lda, b + (size_t)j * ldb, ldb, bias ? bias + j : NULL, k, GEMM_R, GEMM_C);
        for (; j < n; j++)
            gemm_tile(ci + j, ldc, ai, lda, b + (size_t)j * ldb, ldb, bias ? bias + j : NULL, k, GEMM_R, 1);
    }
    for (; i < m; i++) {
        const float *ai = a + (size_t)i * lda;
        float *ci = c + (size_t)i * ldc;
        int j = 0;
        for (; j + GEMM_C <= n; j += GEMM_C)
            gemm_tile(ci + j, ldc, ai, lda, b + (size_t)j * ldb, ldb, bias ? bias + j : NULL, k, 1, GEMM_C);
        for (; j < n; j++)
            gemm_tile(ci + j, ldc, ai, lda, b + (size_t)j * ldb, ldb, bias ? bias + j : NULL, k, 1, 1);
    }
}

/* ---- dequantise one row ------------------------------------------------------------------------------ */
static void dequant_f16(float *y, const uint16_t *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(x + i);
        vst1q_f32(y + i, eg_f16x4_to_f32(vget_low_u16(h)));
        vst1q_f32(y + i + 4, eg_f16x4_to_f32(vget_high_u16(h)));
    }
    for (; i < n; i += 4) {
        const int r = n - i < 4 ? n - i : 4;
        eg_st_part(y + i, ld_f16_part(x + i, r), r);
    }
}

/* y[0..15] = d * w0, y[16..31] = d * w1 (int8 → f32 is exact, one rounding in the product) */
static inline void store_block_s8(float *y, float d, int8x16_t w0, int8x16_t w1) {
    const int16x8_t h[4] = { vmovl_s8(vget_low_s8(w0)), vmovl_s8(vget_high_s8(w0)),
                             vmovl_s8(vget_low_s8(w1)), vmovl_s8(vget_high_s8(w1)) };
    for (int q = 0; q < 4; q++) {
        vst1q_f32(y + 8 * q, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[q]))), d));
        vst1q_f32(y + 8 * q + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(h[q]))), d));
    }
}

static void dequant_q8_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q8_0_BLOCK_BYTES) {
        uint16_t dh;
        memcpy(&dh, p, sizeof dh);
        store_block_s8(y + (size_t)b * EG_QK, eg_f16_to_f32_neon(dh), vld1q_s8((const int8_t *)p + 2),
                       vld1q_s8((const int8_t *)p + 18));
    }
}

static void dequant_q4_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q4_0_BLOCK_BYTES) {
        uint16_t dh;
        memcpy(&dh, p, sizeof dh);
        int8x16_t w0, w1;
        unpack_q4(p + 2, &w0, &w1);
        store_block_s8(y + (size_t)b * EG_QK, eg_f16_to_f32_neon(dh), w0, w1);
    }
}

/* ---- depthwise conv1d, time-major: vectorised over channels; y = bias + w[0]*x[i] + ... + w[kw-1]*x[i+kw-1]
 * accumulated in that order with fused multiply-adds. */
static void conv1d_dw_f32(float *y, const float *x, const float *w, const float *bias, int t, int c, int kw) {
    for (int i = 0; i < t; i++) {
        const float *xi = x + (size_t)i * c;
        float *yi = y + (size_t)i * c;
        int ch = 0;
        for (; ch + 4 <= c; ch += 4) {
            float32x4_t acc = bias ? vld1q_f32(bias + ch) : vdupq_n_f32(0.0f);
            for (int j = 0; j < kw; j++)
                acc = vfmaq_f32(acc, vld1q_f32(w + (size_t)j * c + ch), vld1q_f32(xi + (size_t)j * c + ch));
            vst1q_f32(yi + ch, acc);
        }
        if (ch < c) {
            const int r = c - ch;
            float32x4_t acc = bias ? eg_ld_part(bias + ch, r) : vdupq_n_f32(0.0f);
            for (int j = 0; j < kw; j++)
                acc = vfmaq_f32(acc, eg_ld_part(w + (size_t)j * c + ch, r), eg_ld_part(xi + (size_t)j * c + ch, r));
            eg_st_part(yi + ch, acc, r);
        }
    }
}

/* ---- normalisation ----------------------------------------------------------------------------------- */
/* sum of a row: one accumulator, zero-padded tail, fixed-order hsum */
static inline float row_sum(const float *x, int n) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    int j = 0;
    for (; j + 4 <= n; j += 4) acc = vaddq_f32(acc, vld1q_f32(x + j));
    if (j < n) acc = vaddq_f32(acc, eg_ld_part(x + j, n - j));
    return eg_hsum_f32x4(acc);
}
/* sum of (x - mu) into *sd and of (x - mu)^2 (returned); padded tail lanes are masked to 0 */
static inline float row_sumsq(const float *x, float mu, int n, float *sd) {
    const float32x4_t vm = vdupq_n_f32(mu);
    float32x4_t acc = vdupq_n_f32(0.0f), accd = vdupq_n_f32(0.0f);
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(x + j), vm);
        accd = vaddq_f32(accd, d);
        acc = vfmaq_f32(acc, d, d);
    }
    if (j < n) {
        const float32x4_t d = vsubq_f32(eg_ld_part(x + j, n - j), vm);
        const uint32x4_t live = vcltq_u32(vld1q_u32((const uint32_t[4]){ 0, 1, 2, 3 }), vdupq_n_u32((uint32_t)(n - j)));
        const float32x4_t dm = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(d), live));
        accd = vaddq_f32(accd, dm);
        acc = vfmaq_f32(acc, dm, dm);
    }
    if (sd) *sd = eg_hsum_f32x4(accd);
    return eg_hsum_f32x4(acc);
}

/* y = ((x - mu) * inv) * g + b, with g / b optional; vector v of 4 lanes */
static inline float32x4_t norm_lanes(float32x4_t v, float32x4_t vm, float32x4_t vinv, const float *g,
                                     const float *b, int j, int r) {
    float32x4_t o = vmulq_f32(vsubq_f32(v, vm), vinv);
    if (g) o = vmulq_f32(o, r == 4 ? vld1q_f32(g + j) : eg_ld_part(g + j, r));
    if (b) o = vaddq_f32(o, r == 4 ? vld1q_f32(b + j) : eg_ld_part(b + j, r));
    return o;
}

static void layer_norm_f32(float *y, const float *x, const float *g, const float *b, int rows, int n, float eps) {
    if (n <= 0) return;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        /* corrected two-pass: mean, then sum(d) and sum(d^2) over d = x - mean; the mean is corrected by
         * sum(d)/n and var = sum(d^2)/n - (sum(d)/n)^2, so rows with a large common offset stay accurate */
        const float mu0 = row_sum(xr, n) / (float)n;
        float sd;
        const float sdd = row_sumsq(xr, mu0, n, &sd);
        const float dm = sd / (float)n, var = sdd / (float)n - dm * dm;
        const float32x4_t vm = vdupq_n_f32(mu0 + dm), vinv = vdupq_n_f32(1.0f / sqrtf((var > 0.0f ? var : 0.0f) + eps));
        int j = 0;
        for (; j + 4 <= n; j += 4) vst1q_f32(yr + j, norm_lanes(vld1q_f32(xr + j), vm, vinv, g, b, j, 4));
        if (j < n) eg_st_part(yr + j, norm_lanes(eg_ld_part(xr + j, n - j), vm, vinv, g, b, j, n - j), n - j);
    }
}

static void rms_norm_f32(float *y, const float *x, const float *g, int rows, int n, float eps) {
    if (n <= 0) return;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        const float ms = row_sumsq(xr, 0.0f, n, NULL) / (float)n;
        const float32x4_t vm = vdupq_n_f32(0.0f), vinv = vdupq_n_f32(1.0f / sqrtf(ms + eps));
        int j = 0;
        for (; j + 4 <= n; j += 4) vst1q_f32(yr + j, norm_lanes(vld1q_f32(xr + j), vm, vinv, g, NULL, j, 4));
        if (j < n) eg_st_part(yr + j, norm_lanes(eg_ld_part(xr + j, n - j), vm, vinv, g, NULL, j, n - j), n - j);
    }
}

/* ---- softmax: max, e = exp(x - max) (SLEEF), sum, y = e * (1/sum) -------------------------------------- */
static void softmax_f32(float *y, const float *x, int n) {
    if (n <= 0) return;
    float32x4_t vmax = vdupq_n_f32(-INFINITY);
    int j = 0;
    for (; j + 4 <= n; j += 4) vmax = vmaxq_f32(vmax, vld1q_f32(x + j));
    float mx = eg_hmax_f32x4(vmax);
    for (; j < n; j++) mx = x[j] > mx ? x[j] : mx;
    const float32x4_t vm = vdupq_n_f32(mx);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (j = 0; j + 4 <= n; j += 4) {
        const float32x4_t e = EG_SLEEF(expf4_u10)(vsubq_f32(vld1q_f32(x + j), vm));
        vst1q_f32(y + j, e);
        acc = vaddq_f32(acc, e);
    }
    if (j < n) {
        /* padded lanes are exp(-inf) = 0 and add nothing */
        float t[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
        memcpy(t, x + j, (size_t)(n - j) * sizeof(float));
        const float32x4_t e = EG_SLEEF(expf4_u10)(vsubq_f32(vld1q_f32(t), vm));
        eg_st_part(y + j, e, n - j);
        acc = vaddq_f32(acc, e);
    }
    const float32x4_t inv = vdupq_n_f32(1.0f / eg_hsum_f32x4(acc));
    for (j = 0; j + 4 <= n; j += 4) vst1q_f32(y + j, vmulq_f32(vld1q_f32(y + j), inv));
    if (j < n) eg_st_part(y + j, vmulq_f32(eg_ld_part(y + j, n - j), inv), n - j);
}

/* ---- elementwise: F(v) on each 4-lane vector, the tail through the same F on a zero-padded vector ------- */
#define ELEMENTWISE_1(name, F)                                                                       \
    static void name(float *y, const float *x, int n) {                                              \
        int j = 0;                                                                                   \
        for (; j + 4 <= n; j += 4) vst1q_f32(y + j, F(vld1q_f32(x + j)));                            \
        if (j < n) eg_st_part(y + j, F(eg_ld_part(x + j, n - j)), n - j);                            \
    }

/* GELU = 0.5*x*(1 + erf(x/sqrt 2)) without the float cancellation of 1 + erf for negative x (as the x86
 * tables): with a = min(|x|, 20), z = a/sqrt 2, h = 0.5*a*erfc(z) = 0.5*a*t*exp(-z^2 + P(t)), t = 1/(1 + z/2)
 * (Numerical Recipes' erfcc Chebyshev fit, relative error < 1.2e-7); gelu = x - h for x >= 0, -h otherwise. */
static inline float32x4_t gelu4(float32x4_t x) {
    static const float c[10] = { 0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                 -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f };
    const float32x4_t a = vminq_f32(vdupq_n_f32(20.0f), vabsq_f32(x));
    const float32x4_t z = vmulq_n_f32(a, 0.70710678118654752f);
    const float32x4_t t = eg_div_f32x4(vdupq_n_f32(1.0f), vfmaq_f32(vdupq_n_f32(1.0f), z, vdupq_n_f32(0.5f)));
    float32x4_t p = vdupq_n_f32(c[0]);
    for (int i = 1; i < 10; i++) p = vfmaq_f32(vdupq_n_f32(c[i]), p, t);
    const float32x4_t e = EG_SLEEF(expf4_u10)(vfmsq_f32(p, z, z));   /* exp(-z^2 + P(t)) */
    const float32x4_t h = vmulq_f32(vmulq_f32(vmulq_n_f32(a, 0.5f), t), e);
    return vbslq_f32(vcgeq_f32(x, vdupq_n_f32(0.0f)), vsubq_f32(x, h), vnegq_f32(h));
}
static inline float32x4_t exp4(float32x4_t v) { return EG_SLEEF(expf4_u10)(v); }

ELEMENTWISE_1(gelu_f32, gelu4)
ELEMENTWISE_1(exp_f32, exp4)

static void sincos_f32(float *s, float *c, const float *x, int n) {
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const Sleef_float32x4_t_2 sc = EG_SLEEF(sincosf4_u10)(vld1q_f32(x + j));
        vst1q_f32(s + j, sc.x);
        vst1q_f32(c + j, sc.y);
    }
    if (j < n) {
        const Sleef_float32x4_t_2 sc = EG_SLEEF(sincosf4_u10)(eg_ld_part(x + j, n - j));
        eg_st_part(s + j, sc.x, n - j);
        eg_st_part(c + j, sc.y, n - j);
    }
}

#define ELEMENTWISE_2(name, OP)                                                                      \
    static void name(float *y, const float *a, const float *b, int n) {                              \
        int j = 0;                                                                                   \
        for (; j + 4 <= n; j += 4) vst1q_f32(y + j, OP(vld1q_f32(a + j), vld1q_f32(b + j)));         \
        if (j < n) eg_st_part(y + j, OP(eg_ld_part(a + j, n - j), eg_ld_part(b + j, n - j)), n - j); \
    }
#if defined(__aarch64__)   /* ARMv7: see the table at the end */
ELEMENTWISE_2(add_f32, vaddq_f32)
ELEMENTWISE_2(mul_f32, vmulq_f32)

/* y += a * x, unfused (product rounded, then sum rounded), exactly as the reference */
static void axpy_f32(float *y, float a, const float *x, int n) {
    int j = 0;
    for (; j + 4 <= n; j += 4) vst1q_f32(y + j, vaddq_f32(vld1q_f32(y + j), vmulq_n_f32(vld1q_f32(x + j), a)));
    if (j < n) eg_st_part(y + j, vaddq_f32(eg_ld_part(y + j, n - j), vmulq_n_f32(eg_ld_part(x + j, n - j), a)), n - j);
}

#else
/* ARMv7 Advanced SIMD always flushes denormals to zero (FPSCR.FZ does not apply to it), so the ops that must
 * equal the reference bit for bit run on scalar VFP here (IEEE, denormals kept). GCC does not vectorise float
 * code for ARMv7 NEON without -funsafe-math-optimizations, so these loops stay scalar. */
static void add_f32(float *y, const float *a, const float *b, int n) { for (int j = 0; j < n; j++) y[j] = a[j] + b[j]; }
static void mul_f32(float *y, const float *a, const float *b, int n) { for (int j = 0; j < n; j++) y[j] = a[j] * b[j]; }
static void axpy_f32(float *y, float a, const float *x, int n) { for (int j = 0; j < n; j++) y[j] = y[j] + a * x[j]; }
#endif

/* ---- rope, NeoX "half" pairing: (x0, x1) → (x0*c - x1*s, x0*s + x1*c), products rounded then summed ------ */
static inline void rope4(float *p0, float *p1, const float *cs, const float *sn, int r) {
    const float32x4_t x0 = r == 4 ? vld1q_f32(p0) : eg_ld_part(p0, r), x1 = r == 4 ? vld1q_f32(p1) : eg_ld_part(p1, r);
    const float32x4_t c = r == 4 ? vld1q_f32(cs) : eg_ld_part(cs, r), s = r == 4 ? vld1q_f32(sn) : eg_ld_part(sn, r);
    const float32x4_t o0 = vsubq_f32(vmulq_f32(x0, c), vmulq_f32(x1, s));
    const float32x4_t o1 = vaddq_f32(vmulq_f32(x0, s), vmulq_f32(x1, c));
    if (r == 4) { vst1q_f32(p0, o0); vst1q_f32(p1, o1); }
    else { eg_st_part(p0, o0, r); eg_st_part(p1, o1, r); }
}

static void rope_f32(float *x, const float *cos, const float *sin, int n_heads, int head_dim) {
    const int half = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *xh = x + (size_t)h * head_dim;
        int i = 0;
        for (; i + 4 <= half; i += 4) rope4(xh + i, xh + half + i, cos + i, sin + i, 4);
        if (i < half) rope4(xh + i, xh + half + i, cos + i, sin + i, half - i);
    }
}

const struct eg_kernels eg_kernels_neon = {
    .name = "neon",
#if defined(__aarch64__)
    .needs = EG_CPU_NEON,
#else
    .needs = EG_CPU_NEON | EG_CPU_VFPV4,
#endif
    .matvec_f32 = matvec_f32,
    .matvec_f16 = matvec_f16,
    .matvec_q8_0 = matvec_q8_0,
    .matvec_q4_0 = matvec_q4_0,
    .gemm_f32 = gemm_f32,
    .dequant_f16 = dequant_f16,
    .dequant_q8_0 = dequant_q8_0,
    .dequant_q4_0 = dequant_q4_0,
    .conv1d_dw_f32 = conv1d_dw_f32,
    .layer_norm_f32 = layer_norm_f32,
    .rms_norm_f32 = rms_norm_f32,
    .softmax_f32 = softmax_f32,
    .gelu_f32 = gelu_f32,
    .exp_f32 = exp_f32,
    .sincos_f32 = sincos_f32,
    .add_f32 = add_f32,     /* ARMv7: scalar VFP, see above */
    .mul_f32 = mul_f32,
    .axpy_f32 = axpy_f32,
    .rope_f32 = rope_f32,
};
