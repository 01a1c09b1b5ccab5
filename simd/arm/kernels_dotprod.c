/* simd/arm/kernels_dotprod.c — AArch64 ASIMD + dot product (FEAT_DotProd, Linux HWCAP_ASIMDDP): Cortex-A55/A76
 * and later, e.g. the Pi 5; not the Pi 3/4 or Zero 2 W (A53/A72). Exports eg_kernels_neon_dotprod only.
 *
 * Implements matvec_q8_0 and matvec_q4_0 only; every other slot is NULL and simd/dispatch.c fills it from
 * eg_kernels_neon. Both kernels are vec_neon.h's eg_matvec_q, the same code as kernels_neon.c, except that this
 * file is compiled with +dotprod, so the exact int32 block dot is two SDOTs (vdotq_s32) instead of widening
 * multiply-accumulates. Same quantiser, same block-order IEEE accumulation (kernels.h's q8-activation contract):
 * results are bit-identical to the neon table and to the reference (tests/test_kernels.c checks both).
 */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "kernels_dotprod.c needs AArch64 with the dot product extension: -march=armv8.2-a+dotprod (see Makefile ARM_DOTPROD_CFLAGS)"
#endif

#include "runtime/core/cpu.h"
#include "simd/kernels.h"
#include "simd/arm/vec_neon.h"

static void matvec_q8_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    eg_matvec_q(y, w, x, bias, m, k, 0);   /* vec_neon.h, with SDOT block dots under +dotprod */
}
static void matvec_q4_0(float *y, const void *w, const float *x, const float *bias, int m, int k) {
    eg_matvec_q(y, w, x, bias, m, k, 1);
}

const struct eg_kernels eg_kernels_neon_dotprod = {
    .name = "neon-dotprod",
    .needs = EG_CPU_NEON | EG_CPU_DOTPROD,
    .matvec_q8_0 = matvec_q8_0,
    .matvec_q4_0 = matvec_q4_0,
    /* every other op: NULL, filled from eg_kernels_neon by simd/dispatch.c */
};
