/* simd/x86/kernels_avx2.c — AVX2 + FMA + F16C kernels (Haswell and later); exports eg_kernels_avx2 only.
 *
 * Contract: simd/kernels.h. Every output element is computed by the same instruction sequence wherever it lies
 * in the call (row/column tails reuse the full-width code with masked loads and zero padding), so splitting a
 * call into fixed blocks over threads is bit-identical. Transcendentals: SLEEF u10 (expf, erff, sincosf);
 * GELU uses an erfc fit with an inline exp, no erf call (see gelu8_fast).
 * Quantised matvec: kernels.h's q8-activation contract (x to int8 per 32-block), vpmaddubsw/vpmaddwd integer
 * dots, block terms summed as the reference does (bit-identical).
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

/* ---- quantised matvec (kernels.h's q8-activation contract), bit-identical to the reference. x is quantised per
 * 32-block in chunks of XQ_CHUNK elements into a stack buffer (no allocation); a row's running sum is parked in
 * y between chunks, as in the reference. Rows go in groups of 8, one f32 lane per row:
 *  - per row and block the exact int32 lane dots: q8_0 |w| (u8) x sign(x, w) (s8) by vpmaddubsw (|w| <= 128,
 *    |x| <= 127 keep the 16-bit pair sums <= 32512), q4_0 the raw nibbles 0..15 x x; vpmaddwd to int32;
 *  - the 8 rows' lane dots reduced to one vector, lane r = isum of row r (an exact integer add tree of
 *    blends + in-lane shuffles: hsum8x8_epi32; q4_0 then subtracts 8 * sum(x codes) of the block);
 *  - the 8 rows' f16 scales packed by 16-bit GPR loads into one xmm, one vcvtph2ps, times d_x;
 *  - acc = acc + (d_w * d_x) * (float)isum, lane-wise: the reference's three IEEE operations in its order.
 * A single row (m % 8 tail) runs the same sequence with zero vectors for the other rows.
 * Speed (Zen 3, see simd/PERF.md): ~2.5-3.6 cycles per 32 weights and row; the dot alone (2 x vpsignb,
 * vpmaddubsw, vpmaddwd) measures ~2.1 from L1, the reduction ~0.9, the scales ~0.3. The earlier per-row f32
 * accumulators (cvt + FMA + a scale permute per row and block) ran ~4.5; vphaddd for the reduction ~3.6. -- */

#define XQ_CHUNK 4096
#define XQ_NB (XQ_CHUNK / EG_QK)
#define QR 8                        /* rows per group: lane r of the group's vectors = row r */
/* One quantised block of x: codes, scale and (q4_0) correction side by side, one cache line; a single
 * pointer walks them (separate q[] / d[] arrays indexed by one counter let GCC 12 -O2 build a combined
 * induction variable base (-7 * &xq) after which it dropped the stores to xq as dead: wrong results). */
struct xblk {
    int8_t q[EG_QK];
    float d;                 /* x block scale */
    int32_t corr;            /* q4_0 only: 8 * (sum of the block's x codes) */
    int32_t pad[6];
};
struct xq8 { _Alignas(64) struct xblk b[XQ_NB]; };

EG_INLINE int32_t hsum8_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1)));
}

static void quantize_x(struct xq8 *xq, const float *x, int nb, int with_corr) {
    const __m256i ones16 = _mm256_set1_epi16(1), eight = _mm256_set1_epi8(8);
    for (int b = 0; b < nb; b++) {
        struct xblk *xb = &xq->b[b];
        xb->d = eg_quantize_block_q8_avx2(xb->q, x + b * EG_QK);
        if (with_corr) {
            const __m256i v = _mm256_load_si256((const __m256i *)xb->q);
            xb->corr = hsum8_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(eight, v), ones16));
        }
    }
}

/* lane r = the (exact, int32) sum of the 8 lanes of p[r]. Integer sums are exact, so only the cost matters:
 * vphaddd, the obvious tool, measured 2.2 cycles per ymm op on Zen 3; vshufps (0.5) on the int lanes + vpaddd
 * does the same pairing: merge(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | same for lanes 4-7]. */
EG_INLINE __m256i merge_epi32(__m256i a, __m256i b) {
    const __m256 fa = _mm256_castsi256_ps(a), fb = _mm256_castsi256_ps(b);
    return _mm256_add_epi32(_mm256_castps_si256(_mm256_shuffle_ps(fa, fb, 0x88)),
                            _mm256_castps_si256(_mm256_shuffle_ps(fa, fb, 0xdd)));
}
EG_INLINE __m256i hsum8x8_epi32(const __m256i p[8]) {
    const __m256i f0 = merge_epi32(merge_epi32(p[0], p[1]), merge_epi32(p[2], p[3]));   /* [r0..r3 lo | r0..r3 hi] */
    const __m256i f1 = merge_epi32(merge_epi32(p[4], p[5]), merge_epi32(p[6], p[7]));   /* [r4..r7 lo | r4..r7 hi] */
    return _mm256_add_epi32(_mm256_blend_epi32(f0, f1, 0xf0), _mm256_permute2x128_si256(f0, f1, 0x21));
}

/* q4_0 nibbles of one block → 32 bytes 0..15 in element order: the 16 bytes broadcast to both halves, the upper
 * half shifted right by 4 (vpsrlvq), both masked to 4 bits */
EG_INLINE __m256i q4_unpack_fast(const uint8_t *p, __m256i shifts, __m256i m4) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    return _mm256_and_si256(_mm256_srlv_epi64(v, shifts), m4);
}

static inline uint64_t ld16(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return h; }

/* R rows (R = 8, or 1 for the m % 8 tail) from row w on, over nb blocks; acc (lane r = row r) carries the
 * running sum in and out. Per block: the rows' exact int32 dots isum (8 x [32 products → 8 int32 lanes] →
 * one vector by a fixed add tree; exact, so the tree's shape does not matter), then lane-wise
 * acc = acc + (d_w * d_x) * (float)isum: the reference's operations in its order (bit-identical). */
EG_INLINE __m256 mv_quant_rows(__m256 acc, const uint8_t *w, size_t row_bytes, const struct xq8 *xq, int R, int nb,
                               int is_q4) {
    const __m256i ones16 = _mm256_set1_epi16(1), shifts = _mm256_setr_epi64x(0, 0, 4, 4), m4 = _mm256_set1_epi8(0x0f);
    const size_t bbytes = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    const struct xblk *xb = xq->b;
    for (int b = 0; b < nb; b++, xb++) {
        const __m256i xv = _mm256_load_si256((const __m256i *)xb->q);
        const uint8_t *p = w + (size_t)b * bbytes;
        __m256i dp[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            if (r >= R) { dp[r] = _mm256_setzero_si256(); continue; }
            const uint8_t *blk = p + r * row_bytes + 2;
            if (is_q4) {
                dp[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(q4_unpack_fast(blk, shifts, m4), xv), ones16);
            } else {
                const __m256i wv = _mm256_loadu_si256((const __m256i *)blk);
                dp[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv)), ones16);
            }
        }
        __m256i isum = hsum8x8_epi32(dp);
        if (is_q4) isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(xb->corr));
        /* the rows' f16 scales: 16-bit GPR loads packed into two 64-bit words, 8 conversions at once */
        uint64_t lo = ld16(p), hi = 0;
        if (R == QR) {
            lo |= ld16(p + row_bytes) << 16 | ld16(p + 2 * row_bytes) << 32 | ld16(p + 3 * row_bytes) << 48;
            hi = ld16(p + 4 * row_bytes) | ld16(p + 5 * row_bytes) << 16 | ld16(p + 6 * row_bytes) << 32 |
                 ld16(p + 7 * row_bytes) << 48;
        }
        const __m128i h = _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi));
        const __m256 s = _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_set1_ps(xb->d));
        acc = _mm256_add_ps(acc, _mm256_mul_ps(s, _mm256_cvtepi32_ps(isum)));
    }
    return acc;
}

/* Shared driver for q8_0 / q4_0: chunk over k (a row's running sum is parked in y between chunks, as in the
 * reference: a float store/load is exact), rows in groups of 8, then single rows. */
EG_INLINE void matvec_quant(float *y, const void *w, const float *x, const float *bias, int m, int k, int is_q4) {
    struct xq8 xq;
    const int nb = k / EG_QK;
    const size_t bbytes = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES, row_bytes = (size_t)nb * bbytes;
    if (nb == 0) for (int i = 0; i < m; i++) y[i] = 0.0f;
    for (int b0 = 0; b0 < nb; b0 += XQ_NB) {
        const int nbc = nb - b0 < XQ_NB ? nb - b0 : XQ_NB;
        quantize_x(&xq, x + (size_t)b0 * EG_QK, nbc, is_q4);
        const uint8_t *wc = (const uint8_t *)w + (size_t)b0 * bbytes;
        int i = 0;
        for (; i + QR <= m; i += QR) {     /* the first chunk starts from +0 (y is written only after x is read) */
            const __m256 a = b0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(y + i);
            _mm256_storeu_ps(y + i, is_q4 ? mv_quant_rows(a, wc + i * row_bytes, row_bytes, &xq, QR, nbc, 1)
                                          : mv_quant_rows(a, wc + i * row_bytes, row_bytes, &xq, QR, nbc, 0));
        }
        for (; i < m; i++) {
            const __m256 a = _mm256_set_ps(0, 0, 0, 0, 0, 0, 0, b0 == 0 ? 0.0f : y[i]);
            y[i] = _mm256_cvtss_f32(is_q4 ? mv_quant_rows(a, wc + i * row_bytes, row_bytes, &xq, 1, nbc, 1)
                                          : mv_quant_rows(a, wc + i * row_bytes, row_bytes, &xq, 1, nbc, 0));
        }
    }
    if (bias) for (int i = 0; i < m; i++) y[i] = y[i] + bias[i];
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

#define EG_UNARY(name, fn)                                                                      \
    static void name(float *y, const float *x, int n) {                                        \
        int i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));       \
        if (i < n) eg_store_tail8(y + i, fn(eg_load_tail8(x + i, n - i)), n - i);              \
    }
EG_UNARY(gelu_f32, gelu8)
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
    .exp_f32 = exp_f32,
    .sincos_f32 = sincos_f32,
    .add_f32 = add_f32,
    .mul_f32 = mul_f32,
    .axpy_f32 = axpy_f32,
    .rope_f32 = rope_f32,
};
