/* simd/arm/vec_neon.h — static-inline NEON helpers shared by the ARM kernel files (AArch64 ASIMD and ARMv7
 * NEON+VFPv4). Only ever included by simd/arm/kernels_*.c, which are compiled with NEON flags; nothing here has
 * external linkage, so no NEON code can leak into baseline objects.
 *
 * Where the two architectures differ (no vdivq_f32, vaddvq_f32, vcvtnq_s32_f32 or f16 vector conversion on
 * ARMv7) the ARMv7 branch gives the same result or, for division, a result within ~1 ulp. ARMv7 NEON always
 * flushes denormals to zero while scalar VFP does not, so kernels handle tails by padding into a vector
 * (eg_ld_part / eg_st_part) rather than with scalar code: every element then takes the same path.
 */
#ifndef EG_VEC_NEON_H
#define EG_VEC_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

/* SLEEF's ISA-suffixed vector functions (no dispatcher): EG_SLEEF(expf4_u10) → Sleef_expf4_u10advsimd. */
#if defined(__aarch64__)
#define EG_SLEEF(f) Sleef_##f##advsimd
#else
#define EG_SLEEF(f) Sleef_##f##neonvfpv4
#endif

/* ---- partial loads/stores: lanes >= n read as 0 and are never written (0 <= n <= 4) ----------------------- */
static inline float32x4_t eg_ld_part(const float *p, int n) {
    float t[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    memcpy(t, p, (size_t)n * sizeof(float));
    return vld1q_f32(t);
}
static inline void eg_st_part(float *p, float32x4_t v, int n) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, (size_t)n * sizeof(float));
}

/* ---- horizontal sum in a fixed order on both architectures: (v0 + v2) + (v1 + v3) ------------------------- */
static inline float eg_hsum_f32x4(float32x4_t v) {
    float32x2_t t = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(t, t), 0);
}
static inline float eg_hmax_f32x4(float32x4_t v) {
    float32x2_t t = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(t, t), 0);
}
static inline int32_t eg_hsum_s32x4(int32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t t = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(t, t), 0);
#endif
}

/* ---- a / b: exact on AArch64; on ARMv7 reciprocal estimate + two Newton steps (<= ~2 ulp). VRECPS returns
 * 2.0 for inf*0, so b = +-inf gives a*0, as the exact quotient would. -------------------------------------- */
static inline float32x4_t eg_div_f32x4(float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
    return vdivq_f32(a, b);
#else
    float32x4_t r = vrecpeq_f32(b);
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    return vmulq_f32(a, r);
#endif
}

/* ---- round to nearest integer (int32), ties to even on both architectures (ARMv7 has no vcvtn: adding and
 * subtracting 1.5 * 2^23 rounds |v| < 2^22 to an integer in the default round-to-nearest-even mode) ---------- */
static inline int32x4_t eg_round_s32(float32x4_t v) {
#if defined(__aarch64__)
    return vcvtnq_s32_f32(v);
#else
    const float32x4_t magic = vdupq_n_f32(12582912.0f);
    return vcvtq_s32_f32(vsubq_f32(vaddq_f32(v, magic), magic));
#endif
}

/* ---- IEEE binary16 → f32, 4 lanes, exact (denormals, inf, NaN included) --------------------------------- */
static inline float32x4_t eg_f16x4_to_f32(uint16x4_t h) {
#if defined(__aarch64__)
    return vcvt_f32_f16(vreinterpret_f16_u16(h));
#else
    /* Integer re-bias (F. Giesen, "half_to_float_fast"): move exponent and mantissa into place and add
     * 127-15 to the exponent; inf/NaN get the rest of the bias; f16 denormals are rebuilt as
     * (2^-14 * (1 + m/1024)) - 2^-14, a difference of two normal floats, so NEON's flush-to-zero cannot bite. */
    const uint32x4_t h32 = vmovl_u16(h);
    const uint32x4_t sign = vshlq_n_u32(vandq_u32(h32, vdupq_n_u32(0x8000u)), 16);
    uint32x4_t o = vshlq_n_u32(vandq_u32(h32, vdupq_n_u32(0x7fffu)), 13);
    const uint32x4_t e = vandq_u32(o, vdupq_n_u32(0x0f800000u));
    o = vaddq_u32(o, vdupq_n_u32((127u - 15u) << 23));
    const uint32x4_t is_infnan = vceqq_u32(e, vdupq_n_u32(0x0f800000u));
    const uint32x4_t is_denorm = vceqq_u32(e, vdupq_n_u32(0));
    o = vaddq_u32(o, vandq_u32(is_infnan, vdupq_n_u32((128u - 16u) << 23)));
    const uint32x4_t od = vaddq_u32(o, vdupq_n_u32(1u << 23));
    const float32x4_t magic = vreinterpretq_f32_u32(vdupq_n_u32(113u << 23));
    const uint32x4_t fd = vreinterpretq_u32_f32(vsubq_f32(vreinterpretq_f32_u32(od), magic));
    o = vbslq_u32(is_denorm, fd, o);
    return vreinterpretq_f32_u32(vorrq_u32(o, sign));
#endif
}

/* One f16 scalar (a q8_0/q4_0 block scale) through the same conversion as the vector path. */
static inline float eg_f16_to_f32_neon(uint16_t h) {
    return vgetq_lane_f32(eg_f16x4_to_f32(vdup_n_u16(h)), 0);
}

/* ---- q8_0 / q4_0 helpers shared by kernels_neon.c and kernels_dotprod.c (one quantiser, so both tables give
 * bit-identical results) ------------------------------------------------------------------------------------ */
/* x per 32-block to q8 activations (kernels.h): dx = max|x|/127 (0 and all-zero codes when max|x| < 2^-100),
 * xq = round-half-even(x / dx) via x * (1/dx) (needs EG_QK from kernels.h). |xq| <= 127. Only used for |x*id|
 * <= 127.0001, where eg_round_s32 is exact on both architectures. */
static inline void quantize_x_q8(int8_t *xq, float *dx, const float *x, int n_blocks) {
    for (int b = 0; b < n_blocks; b++) {
        const float *xb = x + (size_t)b * EG_QK;
        float32x4_t amax = vdupq_n_f32(0.0f);
        for (int j = 0; j < EG_QK; j += 4) amax = vmaxq_f32(amax, vabsq_f32(vld1q_f32(xb + j)));
        const float m = eg_hmax_f32x4(amax);
        const float d = m >= 0x1p-100f ? m / 127.0f : 0.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        dx[b] = d;
        for (int j = 0; j < EG_QK; j += 8) {
            const int32x4_t q0 = eg_round_s32(vmulq_n_f32(vld1q_f32(xb + j), id));
            const int32x4_t q1 = eg_round_s32(vmulq_n_f32(vld1q_f32(xb + j + 4), id));
            const int16x8_t q = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
            vst1_s8(xq + (size_t)b * EG_QK + j, vmovn_s16(q));
        }
    }
}

/* q4_0 nibbles: element j < 16 is qs[j] & 15, element j >= 16 is qs[j-16] >> 4, both minus 8. */
static inline void unpack_q4(const uint8_t *qs, int8x16_t *w0, int8x16_t *w1) {
    const uint8x16_t q = vld1q_u8(qs);
    const int8x16_t eight = vdupq_n_s8(8);
    *w0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15))), eight);
    *w1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
}

/* q4_0 nibbles as they are (0..15), element order as unpack_q4: the matvec subtracts 8 * sum(x) once per block
 * instead of 8 from every weight (one correction per block of x instead of two SUBs per row and block). */
static inline void unpack_q4_raw(const uint8_t *qs, int8x16_t *w0, int8x16_t *w1) {
    const uint8x16_t q = vld1q_u8(qs);
    *w0 = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15)));
    *w1 = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
}

/* sum of the 32 codes of a block of x (exact: |sum| <= 32 * 127) */
static inline int32_t eg_sum_s8x32(int8x16_t x0, int8x16_t x1) {
    const int16x8_t s = vpadalq_s8(vpaddlq_s8(x0), x1);
#if defined(__aarch64__)
    return vaddlvq_s16(s);
#else
    const int32x4_t t = vpaddlq_s16(s);
    const int64x2_t u = vpaddlq_s32(t);
    return (int32_t)(vgetq_lane_s64(u, 0) + vgetq_lane_s64(u, 1));
#endif
}

/* ---- the q8_0 / q4_0 matvec shared by kernels_neon.c and kernels_dotprod.c --------------------------------
 * One chunk of cb blocks for R rows (R a compile-time 4 or 1) starting at `row` (stride row_bytes):
 * y[r] = (first ? 0 : y[r]) + sum over blocks, in block order, of (dw * dx[b]) * (float)isum, exactly the
 * reference's IEEE operations (kernels.h), one row per float lane (lanes >= R run on zeros and are dropped).
 * The exact int32 block dot is two SDOTs where the CPU has them (this header compiled with +dotprod), else
 * four widening multiplies and two pairwise adds (q4_0: on the raw nibbles 0..15, |products| <= 15 * 127); the
 * 4 rows' dots are then reduced to one int32x4 by pairwise adds (q4_0: minus 8 * sum(x codes), exact). Per 4
 * rows x 32 weights (AArch64 disassembly, tests/loop_count.py, simd/PERF.md): q8_0 44 instructions with SDOT
 * (8 SDOT), 58 without (8 SMULL + 8 SMLAL2 + 8 SADDLP/SADALP); 3 ADDP, 4 LDRH + 3 ORR + 1 FMOV for the scales,
 * 5 float ops. */
static inline int32x4_t eg_dot32_lanes(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
    p0 = vmlal_s8(p0, vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t p1 = vmull_s8(vget_low_s8(w1), vget_low_s8(x1));
    p1 = vmlal_s8(p1, vget_high_s8(w1), vget_high_s8(x1));
    return vpadalq_s16(vpaddlq_s16(p0), p1);
#endif
}

/* lane r = sum of the lanes of d[r] (exact int32 sums) */
static inline int32x4_t eg_reduce4_s32(int32x4_t d0, int32x4_t d1, int32x4_t d2, int32x4_t d3) {
#if defined(__aarch64__)
    return vpaddq_s32(vpaddq_s32(d0, d1), vpaddq_s32(d2, d3));
#else
    const int32x2_t a = vpadd_s32(vpadd_s32(vget_low_s32(d0), vget_high_s32(d0)), vpadd_s32(vget_low_s32(d1), vget_high_s32(d1)));
    const int32x2_t b = vpadd_s32(vpadd_s32(vget_low_s32(d2), vget_high_s32(d2)), vpadd_s32(vget_low_s32(d3), vget_high_s32(d3)));
    return vcombine_s32(a, b);
#endif
}

static inline __attribute__((always_inline)) void eg_q_rows_chunk(float *y, const uint8_t *row, size_t row_bytes,
                                                                  size_t block_bytes, int is_q4, const int8_t *xq,
                                                                  const float *dx, int cb, int first, int R) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    if (!first) acc = R == 4 ? vld1q_f32(y) : vsetq_lane_f32(y[0], acc, 0);
    for (int b = 0; b < cb; b++) {
        const int8x16_t x0 = vld1q_s8(xq + (size_t)b * EG_QK), x1 = vld1q_s8(xq + (size_t)b * EG_QK + 16);
        int32x4_t dot[4];
        /* the rows' f16 scales packed in a GPR (4 halfword loads, shifted ORs, one transfer): a chain of lane
         * inserts (LD1 {v.h}[i]) is 4 dependent load+insert latencies long */
        uint64_t hs = 0;
        _Pragma("GCC unroll 4")
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = row + (size_t)r * row_bytes + (size_t)b * block_bytes;
            int8x16_t w0, w1;
            uint16_t h;
            memcpy(&h, blk, sizeof h);
            hs |= (uint64_t)h << (16 * r);
            if (is_q4) unpack_q4_raw(blk + 2, &w0, &w1);
            else { w0 = vld1q_s8((const int8_t *)blk + 2); w1 = vld1q_s8((const int8_t *)blk + 18); }
            dot[r] = eg_dot32_lanes(w0, w1, x0, x1);
        }
        _Pragma("GCC unroll 4")
        for (int r = R; r < 4; r++) dot[r] = vdupq_n_s32(0);
        int32x4_t isum = eg_reduce4_s32(dot[0], dot[1], dot[2], dot[3]);
        if (is_q4) isum = vsubq_s32(isum, vdupq_n_s32(8 * eg_sum_s8x32(x0, x1)));   /* sum (nibble - 8) * x */
        const float32x4_t dw = eg_f16x4_to_f32(vcreate_u16(hs));
        acc = vaddq_f32(acc, vmulq_f32(vmulq_n_f32(dw, dx[b]), vcvtq_f32_s32(isum)));
    }
    if (R == 4) vst1q_f32(y, acc);
    else y[0] = vgetq_lane_f32(acc, 0);
}

/* y = W x (+ bias) for q8_0 / q4_0 rows: x quantised in chunks of EG_NEON_XQ_BLOCKS blocks on the stack, rows
 * four at a time (the 1-row tail runs the same lane arithmetic), partial sums parked in y between chunks. */
#define EG_NEON_XQ_BLOCKS 64
static inline __attribute__((always_inline)) void eg_matvec_q(float *y, const void *w, const float *x,
                                                              const float *bias, int m, int k, int is_q4) {
    int8_t xq[EG_NEON_XQ_BLOCKS * EG_QK];
    float dx[EG_NEON_XQ_BLOCKS];
    const int nb = k / EG_QK;
    const size_t block_bytes = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    const size_t row_bytes = (size_t)nb * block_bytes;
    for (int b0 = 0; b0 < nb; b0 += EG_NEON_XQ_BLOCKS) {
        const int cb = nb - b0 < EG_NEON_XQ_BLOCKS ? nb - b0 : EG_NEON_XQ_BLOCKS;
        quantize_x_q8(xq, dx, x + (size_t)b0 * EG_QK, cb);
        const uint8_t *base = (const uint8_t *)w + (size_t)b0 * block_bytes;
        int i = 0;
        for (; i + 4 <= m; i += 4)
            eg_q_rows_chunk(y + i, base + (size_t)i * row_bytes, row_bytes, block_bytes, is_q4, xq, dx, cb, b0 == 0, 4);
        for (; i < m; i++)
            eg_q_rows_chunk(y + i, base + (size_t)i * row_bytes, row_bytes, block_bytes, is_q4, xq, dx, cb, b0 == 0, 1);
    }
    if (nb == 0) for (int i = 0; i < m; i++) y[i] = 0.0f;
    if (bias) {
        int i = 0;
        for (; i + 4 <= m; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(bias + i)));
        if (i < m) eg_st_part(y + i, vaddq_f32(eg_ld_part(y + i, m - i), eg_ld_part(bias + i, m - i)), m - i);
    }
}

#endif /* EG_VEC_NEON_H */
