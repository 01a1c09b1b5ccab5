/* simd/kernels.h — the kernel contract: one documented signature per op.
 *
 * Every ISA translation unit (simd/kernels_ref.c, simd/x86/kernels_avx2.c, simd/x86/kernels_avx512.c,
 * simd/arm/kernels_neon.c, simd/arm/kernels_dotprod.c) exports exactly one `const struct eg_kernels` table.
 * simd/dispatch.c picks the best table the CPU *and* OS can run and fills NULL slots from the next table down, ending at the scalar
 * reference, which implements every op and is the source of truth for tests.
 *
 * Conventions for every op:
 *  - Counts are `int` elements (>= 0); n == 0 is a no-op. No alignment is required of any pointer.
 *  - Outputs may alias inputs only where the op says so ("in place allowed").
 *  - Matrices are row-major. "W[m][k]" means row i starts at W + i*k (for quantised types: at byte i*row_bytes).
 *  - Kernels are single-threaded; runtime/core/pool.c splits work into fixed-size blocks, so a kernel must compute
 *    each output element the same way wherever it lies in the call (no dependence on m, n or row position):
 *    results are then bit-identical for any thread count.
 *  - Kernels never allocate, never fail, never print.
 *  - Quantised layouts are GGUF's: q8_0 block = { f16 d; int8 qs[32] } (34 bytes, value = d*qs[i]);
 *    q4_0 block = { f16 d; uint8 qs[16] } (18 bytes, element i<16 = d*((qs[i]&15)-8), i>=16 = d*((qs[i-16]>>4)-8)).
 *    k must be a multiple of 32 for q8_0/q4_0 ops.
 *  - matvec_q8_0 / matvec_q4_0 take q8 activations (the numerical contract every table implements, the reference
 *    included; x must be finite). Per 32-element block b of x:
 *        amax = max_j |x[j]|;  if amax < 2^-100: dx[b] = 0 and xq[j] = 0 (a block that small contributes nothing)
 *        else dx[b] = amax / 127 (f32 division), id = 1 / dx[b] (f32), xq[j] = round_half_even(x[j] * id)
 *        (so |xq| <= 127), and  isum_b = sum_j wq[j] * xq[j]  exactly in int32 (wq = the int8 code, for q4_0
 *        the nibble - 8). Then  y[i] = sum_b (d_w[b] * dx[b]) * (float)isum_b  (+ bias[i]), summed in f32.
 *    The reference, avx2, neon and neon-dotprod sum the block terms in block order with these exact IEEE
 *    operations (t = (d_w[b] * dx[b]) * (float)isum_b; acc = acc + t, no FMA), so they agree bit for bit; the
 *    avx512 table sums per-lane partial dots (cvt(int32 lane) * (d_w*dx), FMA) and differs only by f32
 *    rounding of that sum (tests: scaled NMSE <= 1e-11, vs ~1e-6 for any error in the quantisation itself). Against exact f32 dequantised weights the contract's error is that of 8-bit x:
 *    NMSE ~1e-5 per dot product (measured on the AR model: tests/test_ar.c bounds logits vs PyTorch).
 */
#ifndef EG_KERNELS_H
#define EG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define EG_QK 32                 /* elements per q8_0 / q4_0 block */
#define EG_Q8_0_BLOCK_BYTES 34   /* f16 scale + 32 x int8 */
#define EG_Q4_0_BLOCK_BYTES 18   /* f16 scale + 16 bytes of nibbles */

struct eg_block_q8_0 { uint16_t d; int8_t qs[EG_QK]; };
struct eg_block_q4_0 { uint16_t d; uint8_t qs[EG_QK / 2]; };

struct eg_kernels {
    const char *name;   /* "ref", "avx2", "avx512", "neon", "neon-dotprod" */
    uint64_t needs;     /* EG_CPU_* bits (runtime/core/cpu.h) the CPU and OS must provide to run this table */

    /* ---- matrix-vector: y[i] = sum_j W[i][j] * x[j] (+ bias[i] if bias != NULL), i < m, j < k ----------- */
    void (*matvec_f32)(float *y, const float *w, const float *x, const float *bias, int m, int k);
    void (*matvec_f16)(float *y, const uint16_t *w, const float *x, const float *bias, int m, int k);
    void (*matvec_q8_0)(float *y, const void *w, const float *x, const float *bias, int m, int k);
    void (*matvec_q4_0)(float *y, const void *w, const float *x, const float *bias, int m, int k);

    /* ---- matrix-matrix (f32), "NT" layout, the shape of a Linear layer applied to rows of activations:
     * C[i][j] = sum_p A[i][p] * B[j][p] (+ bias[j]), i < m, j < n, p < k.
     * A row i at a + i*lda, B row j at b + j*ldb, C row i at c + i*ldc (strides in elements, >= k / >= n).
     * C must not alias A or B. */
    void (*gemm_f32)(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                     const float *bias, int m, int n, int k);

    /* ---- dequantise one row of n weights to f32 (n % 32 == 0 for q8_0/q4_0) ----------------------------- */
    void (*dequant_f16)(float *y, const uint16_t *x, int n);
    void (*dequant_q8_0)(float *y, const void *x, int n);
    void (*dequant_q4_0)(float *y, const void *x, int n);

    /* ---- depthwise conv1d over time-major data:
     * x: [t + kw - 1][c] (the caller supplies the left/right padding rows), w: [kw][c], bias: [c] or NULL,
     * y: [t][c]:  y[i][ch] = bias[ch] + sum_{j<kw} w[j][ch] * x[i + j][ch].  y must not alias x. */
    void (*conv1d_dw_f32)(float *y, const float *x, const float *w, const float *bias, int t, int c, int kw);

    /* ---- normalisation over rows of n: y[r] = (x[r]-mean)/sqrt(var+eps) * g + b  (g, b may be NULL);
     * rms: y[r] = x[r] / sqrt(mean(x^2)+eps) * g (g may be NULL). In place allowed. Variance is biased
     * (divide by n), as torch.nn.LayerNorm. */
    void (*layer_norm_f32)(float *y, const float *x, const float *g, const float *b, int rows, int n, float eps);
    void (*rms_norm_f32)(float *y, const float *x, const float *g, int rows, int n, float eps);

    /* ---- softmax over one row of n (max-subtracted); in place allowed ----------------------------------- */
    void (*softmax_f32)(float *y, const float *x, int n);

    /* ---- elementwise, in place allowed (y may equal x / a / b) ------------------------------------------ */
    void (*gelu_f32)(float *y, const float *x, int n);   /* exact: 0.5*x*(1+erf(x/sqrt(2))), torch.nn.GELU() */
    void (*exp_f32)(float *y, const float *x, int n);
    void (*sincos_f32)(float *s, float *c, const float *x, int n); /* s = sin(x), c = cos(x); |x| <= 1e4 */
    void (*add_f32)(float *y, const float *a, const float *b, int n);   /* y = a + b */
    void (*mul_f32)(float *y, const float *a, const float *b, int n);   /* y = a * b */
    void (*axpy_f32)(float *y, float a, const float *x, int n);         /* y += a * x (fused or not: see ref) */

    /* ---- rotary position embedding, "half" (GPT-NeoX) pairing, in place on n_heads rows of head_dim:
     * for i < head_dim/2: (x0, x1) = (x[i], x[i + head_dim/2]);
     *   x[i] = x0*cos[i] - x1*sin[i];  x[i + head_dim/2] = x0*sin[i] + x1*cos[i].
     * cos/sin: [head_dim/2] for this position (the caller computes them once per position). */
    void (*rope_f32)(float *x, const float *cos, const float *sin, int n_heads, int head_dim);
};
/* The last op slot above (simd/dispatch.c walks the slots from matvec_f32 to it; the struct's size may include
 * tail padding on 32-bit targets, so it is not the bound). Keep it the last member. */
#define EG_KERNELS_LAST_SLOT rope_f32

/* The tables. A table is only *linked* when its file is built for this target (EG_BUILD_AVX2 etc.);
 * whether the CPU can *run* it is runtime/core/cpu.h's business. */
extern const struct eg_kernels eg_kernels_ref;
#if defined(EG_BUILD_AVX2)
extern const struct eg_kernels eg_kernels_avx2;
#endif
#if defined(EG_BUILD_AVX512)
extern const struct eg_kernels eg_kernels_avx512;
#endif
#if defined(EG_BUILD_NEON)
extern const struct eg_kernels eg_kernels_neon;
#endif
#if defined(EG_BUILD_NEON_DOTPROD)
extern const struct eg_kernels eg_kernels_neon_dotprod;   /* matvec_q8_0/q4_0 only; the rest from neon */
#endif

/* f16 <-> f32 conversion used by reference code (IEEE binary16, round to nearest even). */
float eg_f16_to_f32(uint16_t h);
uint16_t eg_f32_to_f16(float f);

#endif /* EG_KERNELS_H */
