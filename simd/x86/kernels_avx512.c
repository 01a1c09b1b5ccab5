/* simd/x86/kernels_avx512.c — AVX-512 F/BW/VL/DQ + VNNI kernels; exports eg_kernels_avx512 only.
 *
 * Contract: simd/kernels.h; same structure and determinism rules as kernels_avx2.c (read that file's comments
 * first), with 16-lane vectors and opmask tails. Quantised matvec uses 256-bit VNNI (vpdpbusd) on x quantised
 * to int8 per 32-block. GEMM: 12x32 register tile (24 zmm accumulators), B packed 32 columns x 256 on the stack.
 * Transcendentals: SLEEF u10 avx512f (expf, erff, sincosf); tanh from expf as in kernels_avx2.c.
 */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__) || \
    !defined(__AVX512VNNI__) || !defined(__FMA__) || !defined(__F16C__)
#error "kernels_avx512.c needs -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c (see Makefile)"
#endif

#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include "kernels.h"
#include "cpu.h"
#include "vec_avx512.h"

#define EG_INLINE static inline __attribute__((always_inline))

/* ---- matvec f32 / f16: 4 rows share x; two 16-lane accumulators per row (j mod 32 < 16 → a0, else a1);
 * the k tail (< 16) goes to a1 under a mask. One row runs the same sequence as a group of four. ------------- */

EG_INLINE void mv_f32_rows(float *y, const float *w, size_t ldw, const float *x, const float *bias, int R, int k) {
    __m512 a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm512_setzero_ps();
    int j = 0;
    for (; j + 32 <= k; j += 32) {
        __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            a0[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * ldw + j), x0, a0[r]);
            a1[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * ldw + j + 16), x1, a1[r]);
        }
    }
    if (j + 16 <= k) {
        __m512 x0 = _mm512_loadu_ps(x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a0[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * ldw + j), x0, a0[r]);
        j += 16;
    }
    if (j < k) {
        __mmask16 msk = eg_mask16(k - j);
        __m512 x0 = _mm512_maskz_loadu_ps(msk, x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a1[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(msk, w + r * ldw + j), x0, a1[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float s = eg_hsum16(_mm512_add_ps(a0[r], a1[r]));
        y[r] = bias ? s + bias[r] : s;
    }
}

static void matvec_f32(float *y, const float *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) mv_f32_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 4, k);
    for (; i < m; i++) mv_f32_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 1, k);
}

EG_INLINE void mv_f16_rows(float *y, const uint16_t *w, size_t ldw, const float *x, const float *bias, int R, int k) {
    __m512 a0[4], a1[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm512_setzero_ps();
    int j = 0;
    for (; j + 32 <= k; j += 32) {
        __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            a0[r] = _mm512_fmadd_ps(eg_load_f16x16(w + r * ldw + j), x0, a0[r]);
            a1[r] = _mm512_fmadd_ps(eg_load_f16x16(w + r * ldw + j + 16), x1, a1[r]);
        }
    }
    if (j + 16 <= k) {
        __m512 x0 = _mm512_loadu_ps(x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) a0[r] = _mm512_fmadd_ps(eg_load_f16x16(w + r * ldw + j), x0, a0[r]);
        j += 16;
    }
    if (j < k) {
        __mmask16 msk = eg_mask16(k - j);
        __m512 x0 = _mm512_maskz_loadu_ps(msk, x + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            a1[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(msk, w + r * ldw + j)), x0, a1[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float s = eg_hsum16(_mm512_add_ps(a0[r], a1[r]));
        y[r] = bias ? s + bias[r] : s;
    }
}

static void matvec_f16(float *y, const uint16_t *w, const float *x, const float *bias, int m, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) mv_f16_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 4, k);
    for (; i < m; i++) mv_f16_rows(y + i, w + (size_t)i * k, k, x, bias ? bias + i : NULL, 1, k);
}

/* ---- quantised matvec (see kernels_avx2.c): x → int8 per 32-block in stack chunks of XQ_CHUNK; per block one
 * 256-bit vpdpbusd. q8_0: |w| (u8) x sign(x, w) (s8). q4_0: nibbles 0..15 (u8) x x (s8) with the accumulator
 * started at -8*sum(x) per lane, which makes the lane dot exact for (nibble - 8). -------------------------------- */

#define XQ_CHUNK 4096
struct xq8 {
    int8_t q[XQ_CHUNK];
    float d[XQ_CHUNK / EG_QK];
    __m256i ncorr[XQ_CHUNK / EG_QK];   /* q4_0 only: per lane -8 * (sum of its 4 x bytes) */
};

static void quantize_x(struct xq8 *xq, const float *x, int nb, int with_corr) {
    const __m256i eight = _mm256_set1_epi8(8);
    for (int b = 0; b < nb; b++) {
        xq->d[b] = eg_quantize_block_q8_avx512(xq->q + b * EG_QK, x + b * EG_QK);
        if (with_corr) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(xq->q + b * EG_QK));
            xq->ncorr[b] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), eight, v));
        }
    }
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
            __m256i dp = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
            __m256 s = _mm256_set1_ps(eg_load_f16_scale(blk) * dx);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dp), s, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) y[r] = eg_hsum8(acc[r]);
}

EG_INLINE void mv_q4_rows(float *y, const uint8_t *w, size_t row_bytes, const struct xq8 *xq, int R, int nb) {
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq->q + b * EG_QK));
        __m256i nc = xq->ncorr[b];
        float dx = xq->d[b];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * row_bytes + (size_t)b * EG_Q4_0_BLOCK_BYTES;
            __m256i dp = _mm256_dpbusd_epi32(nc, eg_q4_unpack(blk + 2), xv);
            __m256 s = _mm256_set1_ps(eg_load_f16_scale(blk) * dx);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dp), s, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) y[r] = eg_hsum8(acc[r]);
}

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

/* ---- GEMM, NT (see kernels_avx2.c for the scheme): B packed as bp[p][32] for 32 columns x KC (32 KiB, L1),
 * 12-row strips of A read in place; each C element is one in-order FMA chain over p. -------------------------- */

#define G5_MR 12
#define G5_NR 32
#define G5_KC 256

EG_INLINE void g5_ukr(int MR, int kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc,
                      int nr, int first, const float *bias) {
    __m512 acc[G5_MR][2];
    const __mmask16 m0 = eg_mask16(nr < 16 ? nr : 16), m1 = eg_mask16(nr > 16 ? nr - 16 : 0);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        if (first) { acc[r][0] = acc[r][1] = _mm512_setzero_ps(); }
        else {
            acc[r][0] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
            acc[r][1] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
        }
    }
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(bp + p * G5_NR), b1 = _mm512_load_ps(bp + p * G5_NR + 16);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    __m512 bi0 = _mm512_setzero_ps(), bi1 = bi0;
    if (bias) { bi0 = _mm512_maskz_loadu_ps(m0, bias); bi1 = _mm512_maskz_loadu_ps(m1, bias + 16); }
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (bias) { v0 = _mm512_add_ps(v0, bi0); v1 = _mm512_add_ps(v1, bi1); }
        _mm512_mask_storeu_ps(c + r * ldc, m0, v0);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, v1);
    }
}

static void g5_strip(int mr, int kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc, int nr,
                     int first, const float *bias) {
    switch (mr) {
    case 12: g5_ukr(12, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 11: g5_ukr(11, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 10: g5_ukr(10, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 9: g5_ukr(9, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 8: g5_ukr(8, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 7: g5_ukr(7, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 6: g5_ukr(6, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 5: g5_ukr(5, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 4: g5_ukr(4, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 3: g5_ukr(3, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    case 2: g5_ukr(2, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    default: g5_ukr(1, kc, a, lda, bp, c, ldc, nr, first, bias); break;
    }
}

/* Pack B[j0 .. j0+nr)[p0 .. p0+kc) into bp[p][32] (a transpose), zero columns >= nr. */
static void g5_pack_b(float *bp, const float *b, size_t ldb, int nr, int kc) {
    for (int jj = 0; jj < G5_NR; jj++) {
        if (jj < nr) {
            const float *src = b + (size_t)jj * ldb;
            for (int p = 0; p < kc; p++) bp[p * G5_NR + jj] = src[p];
        } else {
            for (int p = 0; p < kc; p++) bp[p * G5_NR + jj] = 0.0f;
        }
    }
}

static void gemm_f32(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                     const float *bias, int m, int n, int k) {
    _Alignas(64) float bp[G5_KC * G5_NR];
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = bias ? 0.0f + bias[j] : 0.0f;
        return;
    }
    for (int p0 = 0; p0 < k; p0 += G5_KC) {
        int kc = k - p0 < G5_KC ? k - p0 : G5_KC, first = p0 == 0, last = p0 + kc == k;
        for (int j0 = 0; j0 < n; j0 += G5_NR) {
            int nr = n - j0 < G5_NR ? n - j0 : G5_NR;
            g5_pack_b(bp, b + (size_t)j0 * ldb + p0, ldb, nr, kc);
            for (int i0 = 0; i0 < m; i0 += G5_MR) {
                int mr = m - i0 < G5_MR ? m - i0 : G5_MR;
                g5_strip(mr, kc, a + (size_t)i0 * lda + p0, lda, bp, c + (size_t)i0 * ldc + j0, ldc, nr, first,
                         last && bias ? bias + j0 : NULL);
            }
        }
    }
}

/* ---- dequantisation (exact) ------------------------------------------------------------------------------ */

static void dequant_f16(float *y, const uint16_t *x, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, eg_load_f16x16(x + i));
    if (i < n) {
        __mmask16 msk = eg_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, msk, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(msk, x + i)));
    }
}

static void dequant_q8_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q8_0_BLOCK_BYTES) {
        __m512 d = _mm512_set1_ps(eg_load_f16_scale(p));
        for (int j = 0; j < EG_QK; j += 16) {
            __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2 + j)));
            _mm512_storeu_ps(y + b * EG_QK + j, _mm512_mul_ps(d, _mm512_cvtepi32_ps(q)));
        }
    }
}

static void dequant_q4_0(float *y, const void *x, int n) {
    const uint8_t *p = x;
    const __m512i eight = _mm512_set1_epi32(8);
    for (int b = 0; b < n / EG_QK; b++, p += EG_Q4_0_BLOCK_BYTES) {
        __m512 d = _mm512_set1_ps(eg_load_f16_scale(p));
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 2));
        __m512i lo = _mm512_and_si512(_mm512_cvtepu8_epi32(v), _mm512_set1_epi32(15));
        __m512i hi = _mm512_srli_epi32(_mm512_cvtepu8_epi32(v), 4);
        _mm512_storeu_ps(y + b * EG_QK, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(lo, eight))));
        _mm512_storeu_ps(y + b * EG_QK + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(hi, eight))));
    }
}

/* ---- depthwise conv1d, time-major, 16 channels per vector, masked channel tail ----------------------------- */

static void conv1d_dw_f32(float *y, const float *x, const float *w, const float *bias, int t, int c, int kw) {
    for (int i = 0; i < t; i++) {
        for (int ch = 0; ch < c; ch += 16) {
            __mmask16 msk = eg_mask16(c - ch < 16 ? c - ch : 16);
            __m512 acc = bias ? _mm512_maskz_loadu_ps(msk, bias + ch) : _mm512_setzero_ps();
            for (int j = 0; j < kw; j++)
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(msk, w + (size_t)j * c + ch),
                                      _mm512_maskz_loadu_ps(msk, x + (size_t)(i + j) * c + ch), acc);
            _mm512_mask_storeu_ps(y + (size_t)i * c + ch, msk, acc);
        }
    }
}

/* ---- normalisation: per row, 16-lane f32 sums (masked tail lanes are zero), eg_hsum16 ------------------------ */

/* layer norm: corrected two-pass algorithm, as in kernels_avx2.c */
static void layer_norm_f32(float *y, const float *x, const float *g, const float *b, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        __m512 s = _mm512_setzero_ps(), sd = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(eg_mask16(n - i < 16 ? n - i : 16), xr + i));
        float mean = eg_hsum16(s) / (float)n;
        __m512 vm = _mm512_set1_ps(mean);
        s = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
            __m512 d = _mm512_maskz_sub_ps(msk, _mm512_maskz_loadu_ps(msk, xr + i), vm);
            sd = _mm512_add_ps(sd, d);
            s = _mm512_fmadd_ps(d, d, s);
        }
        float dm = eg_hsum16(sd) / (float)n, var = eg_hsum16(s) / (float)n - dm * dm;
        vm = _mm512_set1_ps(mean + dm);
        __m512 rs = _mm512_set1_ps(1.0f / sqrtf((var > 0.0f ? var : 0.0f) + eps));
        for (int i = 0; i < n; i += 16) {
            __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
            __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(msk, xr + i), vm), rs);
            if (g) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(msk, g + i));
            if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(msk, b + i));
            _mm512_mask_storeu_ps(yr + i, msk, v);
        }
    }
}

static void rms_norm_f32(float *y, const float *x, const float *g, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        __m512 s = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 v = _mm512_maskz_loadu_ps(eg_mask16(n - i < 16 ? n - i : 16), xr + i);
            s = _mm512_fmadd_ps(v, v, s);
        }
        __m512 rs = _mm512_set1_ps(1.0f / sqrtf(eg_hsum16(s) / (float)n + eps));
        for (int i = 0; i < n; i += 16) {
            __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(msk, xr + i), rs);
            if (g) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(msk, g + i));
            _mm512_mask_storeu_ps(yr + i, msk, v);
        }
    }
}

/* ---- elementwise ------------------------------------------------------------------------------------------- */

/* tanh: Cephes tanhf as in kernels_avx2.c (polynomial below |x| = 0.625, else via exp(2|x|)). */
EG_INLINE __m512 tanh16(__m512 x) {
    __m512 ax = _mm512_abs_ps(x), z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __m512 e = Sleef_expf16_u10avx512f(_mm512_add_ps(ax, ax));
    __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    big = _mm512_or_ps(big, _mm512_and_ps(_mm512_set1_ps(-0.0f), x));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small);
}
EG_INLINE __m512 exp16(__m512 x) { return Sleef_expf16_u10avx512f(x); }
EG_INLINE __m512 gelu16(__m512 x) {
    __m512 e = Sleef_erff16_u10avx512f(_mm512_mul_ps(x, _mm512_set1_ps((float)M_SQRT1_2)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}
EG_INLINE __m512 silu16(__m512 x) {
    __m512 e = Sleef_expf16_u10avx512f(_mm512_xor_ps(x, _mm512_set1_ps(-0.0f)));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

#define EG_UNARY(name, fn)                                                                          \
    static void name(float *y, const float *x, int n) {                                            \
        int i = 0;                                                                                 \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, fn(_mm512_loadu_ps(x + i)));          \
        if (i < n) {                                                                               \
            __mmask16 msk = eg_mask16(n - i);                                                      \
            _mm512_mask_storeu_ps(y + i, msk, fn(_mm512_maskz_loadu_ps(msk, x + i)));              \
        }                                                                                          \
    }
EG_UNARY(gelu_f32, gelu16)
EG_UNARY(silu_f32, silu16)
EG_UNARY(tanh_f32, tanh16)
EG_UNARY(exp_f32, exp16)

static void sincos_f32(float *s, float *c, const float *x, int n) {
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        Sleef___m512_2 r = Sleef_sincosf16_u10avx512f(_mm512_maskz_loadu_ps(msk, x + i));
        _mm512_mask_storeu_ps(s + i, msk, r.x);
        _mm512_mask_storeu_ps(c + i, msk, r.y);
    }
}

static void softmax_f32(float *y, const float *x, int n) {
    if (n <= 0) return;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        mx = _mm512_mask_max_ps(mx, msk, mx, _mm512_maskz_loadu_ps(msk, x + i));
    }
    __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), s = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_maskz_loadu_ps(msk, x + i), vm));
        e = _mm512_maskz_mov_ps(msk, e);
        _mm512_mask_storeu_ps(y + i, msk, e);
        s = _mm512_add_ps(s, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / eg_hsum16(s));
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        _mm512_mask_storeu_ps(y + i, msk, _mm512_mul_ps(_mm512_maskz_loadu_ps(msk, y + i), inv));
    }
}

/* ---- binary elementwise and axpy (unfused, bit-identical to the reference) ------------------------------- */

#define EG_BINARY(name, op)                                                                          \
    static void name(float *y, const float *a, const float *b, int n) {                             \
        for (int i = 0; i < n; i += 16) {                                                           \
            __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);                                     \
            _mm512_mask_storeu_ps(y + i, msk, op(_mm512_maskz_loadu_ps(msk, a + i), _mm512_maskz_loadu_ps(msk, b + i))); \
        }                                                                                           \
    }
EG_BINARY(add_f32, _mm512_add_ps)
EG_BINARY(mul_f32, _mm512_mul_ps)

static void scale_f32(float *y, const float *x, float s, int n) {
    __m512 vs = _mm512_set1_ps(s);
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        _mm512_mask_storeu_ps(y + i, msk, _mm512_mul_ps(vs, _mm512_maskz_loadu_ps(msk, x + i)));
    }
}

static void axpy_f32(float *y, float a, const float *x, int n) {
    __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 msk = eg_mask16(n - i < 16 ? n - i : 16);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(msk, y + i), _mm512_mul_ps(va, _mm512_maskz_loadu_ps(msk, x + i)));
        _mm512_mask_storeu_ps(y + i, msk, v);
    }
}

static void rope_f32(float *x, const float *cs, const float *sn, int n_heads, int head_dim) {
    const int h2 = head_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < h2; i += 16) {
            __mmask16 msk = eg_mask16(h2 - i < 16 ? h2 - i : 16);
            __m512 x0 = _mm512_maskz_loadu_ps(msk, v + i), x1 = _mm512_maskz_loadu_ps(msk, v + i + h2);
            __m512 c = _mm512_maskz_loadu_ps(msk, cs + i), s = _mm512_maskz_loadu_ps(msk, sn + i);
            _mm512_mask_storeu_ps(v + i, msk, _mm512_sub_ps(_mm512_mul_ps(x0, c), _mm512_mul_ps(x1, s)));
            _mm512_mask_storeu_ps(v + i + h2, msk, _mm512_add_ps(_mm512_mul_ps(x0, s), _mm512_mul_ps(x1, c)));
        }
    }
}

const struct eg_kernels eg_kernels_avx512 = {
    .name = "avx512",
    .needs = EG_CPU_AVX | EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C | EG_CPU_AVX512F | EG_CPU_AVX512BW |
             EG_CPU_AVX512VL | EG_CPU_AVX512DQ | EG_CPU_AVX512VNNI,
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
