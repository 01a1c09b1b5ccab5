/* simd/x86/vec_avx2.h — static-inline AVX2/FMA/F16C helpers shared by the x86 kernel files.
 *
 * Only included by TUs compiled with at least -mavx2 -mfma -mf16c (kernels_avx2.c, kernels_avx512.c); nothing
 * here has external linkage. Tails: a partial vector of r < 8 floats is loaded/stored with vmaskmov through
 * eg_tail_mask8(r) (masked-off lanes read as 0 and are never written, so no access past the end).
 */
#ifndef EG_VEC_AVX2_H
#define EG_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* lanes [0, r) all-ones, the rest zero; 0 <= r <= 8 */
static inline __m256i eg_tail_mask8(int r) {
    static const int32_t tbl[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
    return _mm256_loadu_si256((const __m256i *)(tbl + 8 - r));
}
static inline __m256 eg_load_tail8(const float *p, int r) { return _mm256_maskload_ps(p, eg_tail_mask8(r)); }
static inline void eg_store_tail8(float *p, __m256 v, int r) { _mm256_maskstore_ps(p, eg_tail_mask8(r), v); }

/* Horizontal sum in a fixed order: (lo128 + hi128), then pairwise. */
static inline float eg_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float eg_hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* f16 scale of a quantised block (first two bytes) → f32 */
static inline float eg_load_f16_scale(const void *blk) {
    uint16_t h;
    memcpy(&h, blk, 2);
    return _cvtsh_ss(h);
}

/* 8 halves → 8 floats (unaligned) */
static inline __m256 eg_load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

/* q4_0 nibbles of one block (16 bytes at p) → 32 unsigned bytes 0..15 in element order
 * (bytes 0..15 = low nibbles = elements 0..15, bytes 16..31 = high nibbles = elements 16..31). */
static inline __m256i eg_q4_unpack(const uint8_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    __m256i b = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0f));
}

/* Activation quantisation to q8 per 32-element block, kernels.h's contract (ggml's quantize_row_q8_0 with an
 * f32 scale): d = max|x| / 127 (0 when max|x| < 2^-100), q = round_half_even(x * (1/d)), |q| <= 127.
 * Writes 32 int8 to q and returns d. */
static inline float eg_quantize_block_q8_avx2(int8_t *q, const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16),
           v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    float amax = eg_hmax8(m);
    float d = amax >= 0x1p-100f ? amax / 127.0f : 0.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    __m256 vid = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
    i0 = _mm256_packs_epi32(i0, i1);
    i2 = _mm256_packs_epi32(i2, i3);
    i0 = _mm256_packs_epi16(i0, i2);
    i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, i0);
    return d;
}

#endif /* EG_VEC_AVX2_H */
