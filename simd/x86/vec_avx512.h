/* simd/x86/vec_avx512.h — static-inline AVX-512 (F/BW/VL/DQ) helpers for kernels_avx512.c.
 *
 * Tails use opmasks: eg_mask16(r) selects lanes [0, r); masked loads (maskz) read zeros and never fault on
 * masked-off lanes, masked stores never write them.
 */
#ifndef EG_VEC_AVX512_H
#define EG_VEC_AVX512_H

#include <immintrin.h>
#include <stdint.h>
#include "simd/x86/vec_avx2.h"

static inline __mmask16 eg_mask16(int r) { return (__mmask16)((1u << r) - 1u); }   /* 0 <= r <= 16 */

/* Horizontal sum in a fixed order (256-bit halves, then eg_hsum8). */
static inline float eg_hsum16(__m512 v) {
    return eg_hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/* 16 halves → 16 floats */
static inline __m512 eg_load_f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

/* Activation quantisation of one 32-block, same rule as eg_quantize_block_q8_avx2 (d = max|x|/127, q =
 * round_half_even(x / d)), 16 lanes at a time. */
static inline float eg_quantize_block_q8_avx512(int8_t *q, const float *x) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    float d = amax >= 0x1p-100f ? amax / 127.0f : 0.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    __m512 vid = _mm512_set1_ps(id);
    _mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid))));
    _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid))));
    return d;
}

#endif /* EG_VEC_AVX512_H */
