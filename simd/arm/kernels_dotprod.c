/* simd/arm/kernels_dotprod.c — AArch64 ASIMD + dot product (FEAT_DotProd, Linux HWCAP_ASIMDDP): Cortex-A55/A76
 * and later, e.g. the Pi 5; not the Pi 3/4 or Zero 2 W (A53/A72). Exports eg_kernels_neon_dotprod only.
 *
 * Implements matvec_q8_0 and matvec_q4_0 only; every other slot is NULL and simd/dispatch.c fills it from
 * eg_kernels_neon. The two kernels follow kernels_neon.c exactly, except that the exact int32 block dot comes
 * from two SDOTs (vdotq_s32) instead of widening multiply-accumulates:
 *  - x is quantised per 32-block to int8 by the quantize_x_q8 both tables share (vec_neon.h),
 *    in chunks of XQ_BLOCKS blocks;
 *  - per row and block: acc = acc + (dw * dx) * (float)isum, blocks in order, the partial sum parked in y[i]
 *    between chunks. The 4-row tile does this in the lanes of one float32x4_t with the same IEEE operations
 *    (no FMA), so a row's result does not depend on m or its position (kernels.h), and both kernels give
 *    results bit-identical to the neon table (tests/test_kernels.c checks this).
 */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "kernels_dotprod.c needs AArch64 with the dot product extension: -march=armv8.2-a+dotprod (see Makefile ARM_DOTPROD_CFLAGS)"
#endif

#include "runtime/core/cpu.h"
#include "simd/kernels.h"
#include "simd/arm/vec_neon.h"

#define EG_UNROLL _Pragma("GCC unroll 4")
/* rows_chunk and matvec_q are instantiated per (R, is_q4) so both become compile-time constants */
#define EG_ALWAYS_INLINE static inline __attribute__((always_inline))
#define XQ_BLOCKS 64   /* x blocks quantised per chunk (4 KiB of int8 on the stack); same as kernels_neon.c */



/* One chunk of cb blocks for R rows (R a compile-time 4 or 1) starting at `row` (row stride row_bytes):
 * y[r] = (first ? 0 : y[r]) + sum over blocks, in block order, of (dw * dx[b]) * isum. Lane r of every vector
 * belongs to row r; lanes >= R are computed on zeros and dropped. */
EG_ALWAYS_INLINE void rows_chunk(float *y, const uint8_t *row, size_t row_bytes, size_t block_bytes, int is_q4,
                              const int8_t *xq, const float *dx, int cb, int first, int R) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    if (!first) acc = R == 4 ? vld1q_f32(y) : vsetq_lane_f32(y[0], acc, 0);
    for (int b = 0; b < cb; b++) {
        const int8x16_t x0 = vld1q_s8(xq + (size_t)b * EG_QK), x1 = vld1q_s8(xq + (size_t)b * EG_QK + 16);
        int32x4_t dot[4];
        uint16_t dh[4] = { 0, 0, 0, 0 };
        EG_UNROLL
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = row + (size_t)r * row_bytes + (size_t)b * block_bytes;
            int8x16_t w0, w1;
            memcpy(&dh[r], blk, sizeof dh[r]);
            if (is_q4) unpack_q4(blk + 2, &w0, &w1);
            else { w0 = vld1q_s8((const int8_t *)blk + 2); w1 = vld1q_s8((const int8_t *)blk + 18); }
            dot[r] = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
        }
        int32x4_t isum;
        if (R == 4) isum = vpaddq_s32(vpaddq_s32(dot[0], dot[1]), vpaddq_s32(dot[2], dot[3]));
        else isum = vsetq_lane_s32(vaddvq_s32(dot[0]), vdupq_n_s32(0), 0);
        const float32x4_t dw = eg_f16x4_to_f32(vld1_u16(dh));
        acc = vaddq_f32(acc, vmulq_f32(vmulq_n_f32(dw, dx[b]), vcvtq_f32_s32(isum)));
    }
    if (R == 4) vst1q_f32(y, acc);
    else y[0] = vgetq_lane_f32(acc, 0);
}

static void add_bias(float *y, const float *bias, int m) {
    if (!bias) return;
    int i = 0;
    for (; i + 4 <= m; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(bias + i)));
    if (i < m) eg_st_part(y + i, vaddq_f32(eg_ld_part(y + i, m - i), eg_ld_part(bias + i, m - i)), m - i);
}

EG_ALWAYS_INLINE void matvec_q(float *y, const void *w, const float *x, const float *bias, int m, int k, int is_q4) {
    int8_t xq[XQ_BLOCKS * EG_QK];
    float dx[XQ_BLOCKS];
    const int nb = k / EG_QK;
    const size_t block_bytes = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES;
    const size_t row_bytes = (size_t)nb * block_bytes;
    for (int b0 = 0; b0 < nb; b0 += XQ_BLOCKS) {
        const int cb = nb - b0 < XQ_BLOCKS ? nb - b0 : XQ_BLOCKS;
        quantize_x_q8(xq, dx, x + (size_t)b0 * EG_QK, cb);
        const uint8_t *base = (const uint8_t *)w + (size_t)b0 * block_bytes;
        int i = 0;
        for (; i + 4 <= m; i += 4)
            rows_chunk(y + i, base + (size_t)i * row_bytes, row_bytes, block_bytes, is_q4, xq, dx, cb, b0 == 0, 4);
        for (; i < m; i++)
            rows_chunk(y + i, base + (size_t)i * row_bytes, row_bytes, block_bytes, is_q4, xq, dx, cb, b0 == 0, 1);
    }
    if (nb == 0) for (int i = 0; i < m; i++) y[i] = 0.0f;
    add_bias(y, bias, m);
}

static void matvec_q8_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    matvec_q(y, w, x, bias, m, k, 0);
}
static void matvec_q4_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    matvec_q(y, w, x, bias, m, k, 1);
}

const struct eg_kernels eg_kernels_neon_dotprod = {
    .name = "neon-dotprod",
    .needs = EG_CPU_NEON | EG_CPU_DOTPROD,
    .matvec_q8_0 = matvec_q8_0,
    .matvec_q4_0 = matvec_q4_0,
    /* every other op: NULL, filled from eg_kernels_neon by simd/dispatch.c */
};
