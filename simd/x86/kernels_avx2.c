/* simd/x86/kernels_avx2.c — AVX2 + FMA + F16C kernels (Haswell and later); exports eg_kernels_avx2 only.
 *
 * Contract: simd/kernels.h. Every output element is computed by the same instruction sequence wherever it lies
 * in the call (row/column tails reuse the full-width code with masked loads and zero padding), so splitting a
 * call into fixed blocks over threads is bit-identical. Transcendentals: SLEEF u10 (expf, erff, sincosf);
 * GELU uses an erfc fit with an inline exp, no erf call (see gelu8_fast); tanh is our
 * own (Cephes tanhf: odd polynomial for |x| < 0.625, 1 - 2/(exp(2|x|)+1) above), because SLEEF's tanhf is 5x
 * slower than an exp (perf-baseline.md §6 in the project's shared notes).
 * Quantised matvec quantises x to int8 per 32-block (ggml's q8_0 activations, f32 scale) and uses
 * vpmaddubsw/vpmaddwd integer dots; kernels.h allows this and the tests bound it.
 */
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "kernels_avx2.c needs -mavx2 -mfma -mf16c (see Makefile)"
#endif

#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include "simd/kernels.h"
#include "runtime/core/cpu.h"
#include "simd/x86/vec_avx2.h"

#define EG_INLINE static inline __attribute__((always_inline))

/* ---- matvec f32 / f16: rows in groups of 4 share x loads; each row has two accumulators (j mod 16 < 8 → a0,
 * else a1), the k tail (< 8) goes to a1 through a masked load; y = hsum(a0 + a1) (+ bias). A group of 1 row
 * runs the same sequence, so a row's result does not depend on its position. -------------------------------- */

EG_INLINE void mv_f32_rows(float *y, const float *w, size_t ldw, const float *x, const float *bias, int R, int k) {
    __m256 a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= k; j += 16) {
        __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            a0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + j), x0, a0[r]);
            a1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + j + 8), x1, a1[r]);
        }
    }
    if (j + 8 <= k) {
        __m256 x0 = _mm256_loadu_ps(x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + j), x0, a0[r]);
        j += 8;
    }
    if (j < k) {
        __m256i msk = eg_tail_mask8(k - j);
        __m256 x0 = _mm256_maskload_ps(x + j, msk);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a1[r] = _mm256_fmadd_ps(_mm256_maskload_ps(w + r * ldw + j, msk), x0, a1[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float s = eg_hsum8(_mm256_add_ps(a0[r], a1[r]));
        y[r] = bias ? s + bias[r] : s;
    }
}

static void matvec_f32(float *y, const float *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) mv_f32_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 4, k);
    for (; i < m; i++) mv_f32_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 1, k);
}

EG_INLINE void mv_f16_rows(float *y, const uint16_t *w, size_t ldw, const float *x, const float *bias, int R, int k) {
    __m256 a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= k; j += 16) {
        __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            a0[r] = _mm256_fmadd_ps(eg_load_f16x8(w + r * ldw + j), x0, a0[r]);
            a1[r] = _mm256_fmadd_ps(eg_load_f16x8(w + r * ldw + j + 8), x1, a1[r]);
        }
    }
    if (j + 8 <= k) {
        __m256 x0 = _mm256_loadu_ps(x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a0[r] = _mm256_fmadd_ps(eg_load_f16x8(w + r * ldw + j), x0, a0[r]);
        j += 8;
    }
    if (j < k) {
        int t = k - j;
        __m256 x0 = eg_load_tail8(x + j, t);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            uint16_t h[8] = { 0 };
            memcpy(h, w + r * ldw + j, (size_t)t * 2);
            a1[r] = _mm256_fmadd_ps(eg_load_f16x8(h), x0, a1[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float s = eg_hsum8(_mm256_add_ps(a0[r], a1[r]));
        y[r] = bias ? s + bias[r] : s;
    }
}

static void matvec_f16(float *y, const uint16_t *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) mv_f16_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 4, k);
    for (; i < m; i++) mv_f16_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 1, k);
}

/* ---- quantised matvec: x is quantised per 32-block in chunks of XQ_CHUNK elements into a stack buffer (no
 * allocation); for k > XQ_CHUNK, per-chunk row sums are added into y in chunk order (fixed, so still
 * position-independent). Per block: int32x8 lane dots → f32, times d_w*d_x, accumulated in one f32 vector per
 * row; y = hsum. q8_0 uses the sign trick (|w| unsigned × sign(x, w)); q4_0 multiplies the raw nibbles 0..15
 * and subtracts the per-lane 8*sum(x) correction computed once per block of x. ---------------------------------- */

#define XQ_CHUNK 4096
struct xq8 {
    int8_t q[XQ_CHUNK];
    float d[XQ_CHUNK / EG_QK];
    __m256i corr[XQ_CHUNK / EG_QK];   /* q4_0 only: per lane 8 * (sum of its 4 x bytes) */
};

static void quantize_x(struct xq8 *xq, const float *x, int nb, int with_corr) {
    const __m256i ones16 = _mm256_set1_epi16(1), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < nb; b++) {
        xq->d[b] = eg_quantize_block_q8_avx2(xq->q + b * EG_QK, x + b * EG_QK);
        if (with_corr) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(xq->q + b * EG_QK));
            xq->corr[b] = _mm256_madd_epi16(_mm256_maddubs_epi16(eight, v), ones16);
        }
    }
}

/* int8 dot of one 32-block, 8 int32 lanes: |w| (u8) x sign(x, w) (s8); |w| <= 128 and |x| <= 127 keep the
 * 16-bit pair sums (<= 32512) from saturating. */
EG_INLINE __m256i dot_q8_block(__m256i w, __m256i xv) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

EG_INLINE void mv_q8_rows(float *y, const uint8_t *w, size_t row_bytes, const struct xq8 *xq, int R, int nb) {
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq->q + b * EG_QK));
        float dx = xq->d[b];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * row_bytes + (size_t)b * EG_Q8_0_BLOCK_BYTES;
            __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + 2));
            __m256 s = _mm256_set1_ps(eg_load_f16_scale(blk) * dx);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_q8_block(wv, xv)), s, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) y[r] = eg_hsum8(acc[r]);
}

EG_INLINE void mv_q4_rows(float *y, const uint8_t *w, size_t row_bytes, const struct xq8 *xq, int R, int nb) {
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq->q + b * EG_QK));
        __m256i corr = xq->corr[b];
        float dx = xq->d[b];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * row_bytes + (size_t)b * EG_Q4_0_BLOCK_BYTES;
            __m256i u = eg_q4_unpack(blk + 2);
            __m256i dp = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones16), corr);
            __m256 s = _mm256_set1_ps(eg_load_f16_scale(blk) * dx);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dp), s, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) y[r] = eg_hsum8(acc[r]);
}

/* Shared driver for q8_0 / q4_0: chunk over k, rows in groups of 4. */
EG_INLINE void matvec_quant(float *y, const void *w, const float *x, const float *bias, int m, int k, int is_q4) {
    struct xq8 xq;
    const int nb = k / EG_QK, bbytes = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    const size_t row_bytes = (size_t)nb * bbytes;
    const int cb = XQ_CHUNK / EG_QK;
    if (nb == 0) { for (int i = 0; i < m; i++) y[i] = bias ? 0.0f + bias[i] : 0.0f; return; }
    for (int b0 = 0; b0 < nb; b0 += cb) {
        int nbc = nb - b0 < cb ? nb - b0 : cb;
        quantize_x(&xq, x + (size_t)b0 * EG_QK, nbc, is_q4);
        const uint8_t *wc = (const uint8_t *)w + (size_t)b0 * bbytes;
        for (int i = 0; i < m; i += 4) {
            float part[4];
            int R = m - i < 4 ? m - i : 4;
            if (is_q4) {
                if (R == 4) mv_q4_rows(part, wc + i * row_bytes, row_bytes, &xq, 4, nbc);
                else for (int r = 0; r < R; r++) mv_q4_rows(part + r, wc + (i + r) * row_bytes, row_bytes, &xq, 1, nbc);
            } else {
                if (R == 4) mv_q8_rows(part, wc + i * row_bytes, row_bytes, &xq, 4, nbc);
                else for (int r = 0; r < R; r++) mv_q8_rows(part + r, wc + (i + r) * row_bytes, row_bytes, &xq, 1, nbc);
            }
            for (int r = 0; r < R; r++) {
                float v = b0 == 0 ? part[r] : y[i + r] + part[r];
                y[i + r] = (bias && b0 + cb >= nb) ? v + bias[i + r] : v;
            }
        }
    }
}

static void matvec_q8_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    matvec_quant(y, w, x, bias, m, k, 0);
}
static void matvec_q4_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    matvec_quant(y, w, x, bias, m, k, 1);
}

/* ---- GEMM, NT: C[i][j] = sum_p A[i][p] B[j][p]. B is packed 16 columns x KC at a time into a stack panel
 * bp[p][16] (zero-padded past n) that stays in L1 while every 6-row strip of A streams past it; A is read in
 * place (broadcasts). Each C element is one FMA chain over p = 0..k-1 in order: the chain continues across KC
 * blocks through C itself, and the bias is added after the last block. Edge tiles run the same chain with fewer
 * rows / masked columns, so the result does not depend on tiling or on the caller's split. ------------------- */

#define G2_MR 6
#define G2_NR 16
#define G2_KC 256

EG_INLINE void g2_ukr(int MR, int kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc,
                      int nr, int first, const float *bias) {
    __m256 acc[G2_MR][2];
    const __m256i m0 = eg_tail_mask8(nr < 8 ? nr : 8), m1 = eg_tail_mask8(nr > 8 ? nr - 8 : 0);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        if (first) { acc[r][0] = acc[r][1] = _mm256_setzero_ps(); }
        else {
            acc[r][0] = _mm256_maskload_ps(c + r * ldc, m0);
            acc[r][1] = _mm256_maskload_ps(c + r * ldc + 8, m1);
        }
    }
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp + p * G2_NR), b1 = _mm256_load_ps(bp + p * G2_NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(a + r * lda + p);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    __m256 bi0 = _mm256_setzero_ps(), bi1 = bi0;
    if (bias) { bi0 = _mm256_maskload_ps(bias, m0); bi1 = _mm256_maskload_ps(bias + 8, m1); }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        __m256 v0 = acc[r][0], v1 = acc[r][1];
        if (bias) { v0 = _mm256_add_ps(v0, bi0); v1 = _mm256_add_ps(v1, bi1); }
        _mm256_maskstore_ps(c + r * ldc, m0, v0);
        _mm256_maskstore_ps(c + r * ldc + 8, m1, v1);
    }
}

static void g2_strip(int mr, int kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc, int nr,
                     int first, const float *bias) {
    switch (mr) {
    case 6: g2_ukr(6, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 5: g2_ukr(5, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 4: g2_ukr(4, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 3: g2_ukr(3, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 2: g2_ukr(2, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    default: g2_ukr(1, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    }
}

static void gemm_f32(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                     const float *bias, int m, int n, int k) {
    _Alignas(64) float bp[G2_KC * G2_NR];
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = bias ? 0.0f + bias[j] : 0.0f;
        return;
    }
    for (int p0 = 0; p0 < k; p0 += G2_KC) {
        int kc = k - p0 < G2_KC ? k - p0 : G2_KC, first = p0 == 0, last = p0 + kc == k;
        for (int j0 = 0; j0 < n; j0 += G2_NR) {
            int nr = n - j0 < G2_NR ? n - j0 : G2_NR;
            /* pack B[j0 .. j0+nr)[p0 .. p0+kc) transposed; zero columns beyond nr */
            for (int jj = 0; jj < G2_NR; jj++) {
                if (jj < nr) {
                    const float *src = b + (size_t)(j0 + jj) * ldb + p0;
                    for (int p = 0; p < kc; p++) bp[p * G2_NR + jj] = src[p];
                } else {
                    for (int p = 0; p < kc; p++) bp[p * G2_NR + jj] = 0.0f;
                }
            }
            for (int i0 = 0; i0 < m; i0 += G2_MR) {
                int mr = m - i0 < G2_MR ? m - i0 : G2_MR;
                g2_strip(mr, kc, a + (size_t)i0 * lda + p0, lda, bp, c + (size_t)i0 * ldc + j0, ldc, nr, first,
                         last && bias ? bias + j0 : NULL);
            }
        }
    }
}

/* ---- dequantisation (exact: same operations as the reference) ------------------------------------------------ */

static void dequant_f16(float *y, const uint16_t *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, eg_load_f16x8(x + i));
    for (; i < n; i++) y[i] = _cvtsh_ss(x[i]);
}

static void dequant_q8_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q8_0_BLOCK_BYTES) {
        __m256 d = _mm256_set1_ps(eg_load_f16_scale(p));
        for (int j = 0; j < EG_QK; j += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + j)));
            _mm256_storeu_ps(y + b * EG_QK + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
        }
    }
}

static void dequant_q4_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    const __m256i eight = _mm256_set1_epi32(8);
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q4_0_BLOCK_BYTES) {
        __m256 d = _mm256_set1_ps(eg_load_f16_scale(p));
        uint8_t u[32];
        _mm256_storeu_si256((__m256i *)u, eg_q4_unpack(p + 2));
        for (int j = 0; j < EG_QK; j += 8) {
            __m256i q = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + j))), eight);
            _mm256_storeu_ps(y + b * EG_QK + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
        }
    }
}

/* ---- depthwise conv1d, time-major, vectorised over channels (8 at a time, masked channel tail) ------------- */

static void conv1d_dw_f32(float *y, const float *x, const float *w, const float *bias, int t, int c, int kw) {
    for (int i = 0; i < t; i++) {
        for (int ch = 0; ch < c; ch += 8) {
            int r = c - ch < 8 ? c - ch : 8;
            __m256i msk = eg_tail_mask8(r);
            __m256 acc = bias ? _mm256_maskload_ps(bias + ch, msk) : _mm256_setzero_ps();
            for (int j = 0; j < kw; j++)
                acc = _mm256_fmadd_ps(_mm256_maskload_ps(w + (size_t)j * c + ch, msk),
                                      _mm256_maskload_ps(x + (size_t)(i + j) * c + ch, msk), acc);
            _mm256_maskstore_ps(y + (size_t)i * c + ch, msk, acc);
        }
    }
}

/* ---- normalisation: per row, f32 sums in 8 lanes then eg_hsum8 ------------------------------------------------ */

static float row_sum(const float *x, int n) {
    __m256 s = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(x + i));
    if (i < n) s = _mm256_add_ps(s, eg_load_tail8(x + i, n - i));
    return eg_hsum8(s);
}

/* layer norm: mean, then a second pass over d = x - mean accumulating sum(d) and sum(d^2); the first-pass
 * mean is corrected by sum(d)/n and var = sum(d^2)/n - (sum(d)/n)^2 (corrected two-pass algorithm), which keeps
 * rows with a large common offset accurate in f32. */
static void layer_norm_f32(float *y, const float *x, const float *g, const float *b, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        float mean = row_sum(xr, n) / (float)n;
        __m256 vm = _mm256_set1_ps(mean), s = _mm256_setzero_ps(), sd = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm);
            sd = _mm256_add_ps(sd, d);
            s = _mm256_fmadd_ps(d, d, s);
        }
        if (i < n) {
            __m256i msk = eg_tail_mask8(n - i);
            __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + i, msk), vm), _mm256_castsi256_ps(msk));
            sd = _mm256_add_ps(sd, d);
            s = _mm256_fmadd_ps(d, d, s);
        }
        float dm = eg_hsum8(sd) / (float)n, var = eg_hsum8(s) / (float)n - dm * dm;
        vm = _mm256_set1_ps(mean + dm);
        __m256 rs = _mm256_set1_ps(1.0f / sqrtf((var > 0.0f ? var : 0.0f) + eps));
        for (i = 0; i < n; i += 8) {
            int t = n - i < 8 ? n - i : 8;
            __m256i msk = eg_tail_mask8(t);
            __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + i, msk), vm), rs);
            if (g) v = _mm256_mul_ps(v, _mm256_maskload_ps(g + i, msk));
            if (b) v = _mm256_add_ps(v, _mm256_maskload_ps(b + i, msk));
            _mm256_maskstore_ps(yr + i, msk, v);
        }
    }
}

static void rms_norm_f32(float *y, const float *x, const float *g, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        __m256 s = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= n; i += 8) { __m256 v = _mm256_loadu_ps(xr + i); s = _mm256_fmadd_ps(v, v, s); }
        if (i < n) { __m256 v = eg_load_tail8(xr + i, n - i); s = _mm256_fmadd_ps(v, v, s); }
        __m256 rs = _mm256_set1_ps(1.0f / sqrtf(eg_hsum8(s) / (float)n + eps));
        for (i = 0; i < n; i += 8) {
            int t = n - i < 8 ? n - i : 8;
            __m256i msk = eg_tail_mask8(t);
            __m256 v = _mm256_mul_ps(_mm256_maskload_ps(xr + i, msk), rs);
            if (g) v = _mm256_mul_ps(v, _mm256_maskload_ps(g + i, msk));
            _mm256_maskstore_ps(yr + i, msk, v);
        }
    }
}

/* ---- elementwise: full vectors, then one masked tail vector through the same function --------------------- */

/* tanh (Cephes tanhf, ~2 ulp): odd polynomial below 0.625, else sign(x) * (1 - 2/(exp(2|x|) + 1)), which
 * saturates to ±1 (exp overflows to inf, 2/inf = 0) and propagates NaN. */
EG_INLINE __m256 tanh8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = Sleef_expf8_u10avx2(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}
EG_INLINE __m256 exp8(__m256 x) { return Sleef_expf8_u10avx2(x); }
/* GELU, fast path without erf: with a = min(|x|, 20) and z = a/sqrt(2), h = 0.5*a*erfc(z) is computed as
 * 0.5*a*t*exp(-z^2 + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc Chebyshev fit, relative error < 1.2e-7
 * for all z >= 0; t from rcp + one Newton step). Then gelu = x - h for x >= 0 and -h for x < 0: no
 * cancellation on either side. exp: Cephes expf polynomial on the reduced argument, which is clamped at -87
 * so that 2^n stays a normal number (below that h only meets x >= 13 in x - h, where it vanishes anyway).
 * NaN propagates (min keeps the NaN operand); +inf gives inf - 0. */
EG_INLINE __m256 gelu8_fast(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 a = _mm256_min_ps(_mm256_set1_ps(20.0f), _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x));
    __m256 z = _mm256_mul_ps(a, _mm256_set1_ps((float)M_SQRT1_2));
    __m256 d = _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), one);
    __m256 t = _mm256_rcp_ps(d);
    t = _mm256_mul_ps(t, _mm256_fnmadd_ps(d, t, _mm256_set1_ps(2.0f)));
    __m256 p = _mm256_set1_ps(0.17087277f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
    __m256 v = _mm256_max_ps(_mm256_fnmadd_ps(z, z, p), _mm256_set1_ps(-87.0f));   /* -z^2 + P(t) */
    /* exp(v) = 2^n * e^r, r = v - n*ln2 in [-ln2/2, ln2/2], n in [-126, 0] */
    __m256 n = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), v);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 e = _mm256_set1_ps(1.9875691500e-4f);
    e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(1.3981999507e-3f));
    e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(8.3334519073e-3f));
    e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(4.1665795894e-2f));
    e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(1.6666665459e-1f));
    e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(5.0000001201e-1f));
    e = _mm256_fmadd_ps(e, _mm256_mul_ps(r, r), _mm256_add_ps(r, one));
    __m256i pw = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    e = _mm256_mul_ps(e, _mm256_castsi256_ps(pw));
    __m256 h = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), a), t), e);
    __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    return _mm256_blendv_ps(_mm256_sub_ps(_mm256_setzero_ps(), h), _mm256_sub_ps(x, h), pos);
}
EG_INLINE __m256 gelu8(__m256 x) { return gelu8_fast(x); }   /* accurate on the whole range: no erf call */
EG_INLINE __m256 silu8(__m256 x) {
    __m256 e = Sleef_expf8_u10avx2(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

#define EG_UNARY(name, fn)                                                                      \
    static void name(float *y, const float *x, int n) {                                        \
        int i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));       \
        if (i < n) eg_store_tail8(y + i, fn(eg_load_tail8(x + i, n - i)), n - i);              \
    }
EG_UNARY(gelu_f32, gelu8)
EG_UNARY(silu_f32, silu8)
EG_UNARY(tanh_f32, tanh8)
EG_UNARY(exp_f32, exp8)

static void sincos_f32(float *s, float *c, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        Sleef___m256_2 r = Sleef_sincosf8_u10avx2(_mm256_loadu_ps(x + i));
        _mm256_storeu_ps(s + i, r.x);
        _mm256_storeu_ps(c + i, r.y);
    }
    if (i < n) {
        Sleef___m256_2 r = Sleef_sincosf8_u10avx2(eg_load_tail8(x + i, n - i));
        eg_store_tail8(s + i, r.x, n - i);
        eg_store_tail8(c + i, r.y, n - i);
    }
}

/* softmax: vector max, exp(x - max) stored to y with an 8-lane f32 sum, then scale by 1/sum. */
static void softmax_f32(float *y, const float *x, int n) {
    if (n <= 0) return;
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
    float m = eg_hmax8(mx);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    __m256 vm = _mm256_set1_ps(m), s = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(y + i, e);
        s = _mm256_add_ps(s, e);
    }
    if (i < n) {
        __m256i msk = eg_tail_mask8(n - i);
        __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, msk), vm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(msk));
        _mm256_maskstore_ps(y + i, msk, e);
        s = _mm256_add_ps(s, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / eg_hsum8(s));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    if (i < n) eg_store_tail8(y + i, _mm256_mul_ps(eg_load_tail8(y + i, n - i), inv), n - i);
}

/* ---- binary elementwise and axpy (unfused, bit-identical to the reference) ------------------------------- */

#define EG_BINARY(name, op)                                                                       \
    static void name(float *y, const float *a, const float *b, int n) {                          \
        int i = 0;                                                                               \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))); \
        if (i < n) eg_store_tail8(y + i, op(eg_load_tail8(a + i, n - i), eg_load_tail8(b + i, n - i)), n - i); \
    }
EG_BINARY(add_f32, _mm256_add_ps)
EG_BINARY(mul_f32, _mm256_mul_ps)

static void scale_f32(float *y, const float *x, float s, int n) {
    __m256 vs = _mm256_set1_ps(s);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(vs, _mm256_loadu_ps(x + i)));
    if (i < n) eg_store_tail8(y + i, _mm256_mul_ps(vs, eg_load_tail8(x + i, n - i)), n - i);
}

static void axpy_f32(float *y, float a, const float *x, int n) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
    if (i < n)
        eg_store_tail8(y + i, _mm256_add_ps(eg_load_tail8(y + i, n - i), _mm256_mul_ps(va, eg_load_tail8(x + i, n - i))), n - i);
}

/* RoPE (NeoX half pairing), unfused as the reference: x0*c - x1*s, x0*s + x1*c. */
static void rope_f32(float *x, const float *cs, const float *sn, int n_heads, int head_dim) {
    const int h2 = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < h2; i += 8) {
            int t = h2 - i < 8 ? h2 - i : 8;
            __m256i msk = eg_tail_mask8(t);
            __m256 x0 = _mm256_maskload_ps(v + i, msk), x1 = _mm256_maskload_ps(v + i + h2, msk);
            __m256 c = _mm256_maskload_ps(cs + i, msk), s = _mm256_maskload_ps(sn + i, msk);
            _mm256_maskstore_ps(v + i, msk, _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s)));
            _mm256_maskstore_ps(v + i + h2, msk, _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c)));
        }
    }
}

const struct eg_kernels eg_kernels_avx2 = {
    .name = "avx2",
    .needs = EG_CPU_AVX | EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C,
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
    .silu_f32 = silu_f32,
    .tanh_f32 = tanh_f32,
    .exp_f32 = exp_f32,
    .sincos_f32 = sincos_f32,
    .add_f32 = add_f32,
    .mul_f32 = mul_f32,
    .scale_f32 = scale_f32,
    .axpy_f32 = axpy_f32,
    .rope_f32 = rope_f32,
};
