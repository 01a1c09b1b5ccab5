/* simd/kernels_ref.c — scalar C reference for every op in struct eg_kernels (simd/kernels.h).
 *
 * This table is the source of truth: every SIMD table (x86, NEON) and the OpenCL ops are tested against it, and
 * it is the fallback for any slot a SIMD table leaves NULL. Straightforward C in the order the maths is written;
 * no intrinsics, libm for transcendentals (erff, expf, sinf, cosf). Built with baseline flags and
 * -ffp-contract=off, so each `a*b + c` below is two roundings on every compiler and target.
 *
 * Accumulation: matvec/gemm/conv sum in f32 in index order (one rounding per multiply and per add); matvec_q8_0/
 * q4_0 follow kernels.h's q8-activation contract (exact int32 block dots, block terms summed in order). The
 * normalisations and softmax accumulate their sums in double, so the oracle is more accurate than the kernels
 * it judges (SIMD tables use f32 with several partial sums; tests bound the difference).
 */
#include <math.h>
#include <string.h>
#include "simd/kernels.h"
#include "runtime/core/cpu.h"

/* ---- f16 <-> f32 (IEEE binary16) ------------------------------------------------------------------------- */

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float eg_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    if (exp == 0x1f)                         /* inf / nan (keep payload, force quiet) */
        return bits_f32(sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0));
    if (exp == 0) {
        if (man == 0) return bits_f32(sign);  /* ±0 */
        /* denormal: man * 2^-24, exact in f32 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t eg_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xff, man = u & 0x7fffffu;
    if (exp == 0xff)                          /* inf, or nan kept quiet with its top payload bits */
        return sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0);
    int e = (int)exp - 127 + 15;              /* rebiased exponent */
    if (e >= 0x1f) return sign | 0x7c00u;     /* overflow → inf */
    if (e <= 0) {
        /* result is an f16 denormal (or 0): value = m * 2^(e-1-23+... ) — shift the full mantissa */
        if (e < -10) return sign;             /* below half the smallest denormal: rounds to ±0 */
        uint32_t m = man | 0x800000u;         /* implicit bit */
        int shift = 14 - e;                   /* 13 + (1 - e) */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return sign | (uint16_t)q;            /* q may carry into the smallest normal: still correct */
    }
    uint32_t q = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;   /* may carry into exponent / up to inf: correct */
    return sign | (uint16_t)q;
}

/* ---- matrix-vector --------------------------------------------------------------------------------------- */

static void matvec_f32(float *y, const float *w, const float *x, const float *bias, int m, int k) {
    for (int i = 0; i < m; i++) {
        const float *row = w + (size_t)i * k;
        float acc = 0.0f;
        for (int j = 0; j < k; j++) acc += row[j] * x[j];
        y[i] = bias ? acc + bias[i] : acc;
    }
}

static void matvec_f16(float *y, const uint16_t *w, const float *x, const float *bias, int m, int k) {
    for (int i = 0; i < m; i++) {
        const uint16_t *row = w + (size_t)i * k;
        float acc = 0.0f;
        for (int j = 0; j < k; j++) acc += eg_f16_to_f32(row[j]) * x[j];
        y[i] = bias ? acc + bias[i] : acc;
    }
}

/* A block's f16 scale, read bytewise: blocks (34 / 18 bytes) lie at any byte offset, so no struct access. */
static float block_scale(const uint8_t *blk) {
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    return eg_f16_to_f32(h);
}

/* q8 activations (kernels.h): one 32-block of x to int8 codes, returns the block scale dx. */
static float quantize_block_q8(int8_t *q, const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < EG_QK; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    if (!(amax >= 0x1p-100f)) {
        memset(q, 0, EG_QK);
        return 0.0f;
    }
    const float d = amax / 127.0f, id = 1.0f / d;
    for (int j = 0; j < EG_QK; j++) q[j] = (int8_t)nearbyintf(x[j] * id);   /* default rounding: half to even */
    return d;
}

/* x is quantised in chunks of XQ_BLOCKS blocks (stack); a row's partial sum is parked in y[i] between chunks
 * (a float store/load is exact), so every row is the same block-order sum for any m. */
#define XQ_BLOCKS 64

static void matvec_quant(float *y, const void *w, const float *x, const float *bias, int m, int k, int is_q4) {
    int8_t xq[XQ_BLOCKS * EG_QK];
    float dx[XQ_BLOCKS];
    const int nb = k / EG_QK;
    const size_t bb = is_q4 ? EG_Q4_0_BLOCK_BYTES : EG_Q8_0_BLOCK_BYTES, row_bytes = (size_t)nb * bb;
    for (int i = 0; i < m; i++) y[i] = 0.0f;
    for (int b0 = 0; b0 < nb; b0 += XQ_BLOCKS) {
        const int cb = nb - b0 < XQ_BLOCKS ? nb - b0 : XQ_BLOCKS;
        for (int b = 0; b < cb; b++) dx[b] = quantize_block_q8(xq + b * EG_QK, x + (size_t)(b0 + b) * EG_QK);
        for (int i = 0; i < m; i++) {
            const uint8_t *row = (const uint8_t *)w + (size_t)i * row_bytes + (size_t)b0 * bb;
            float acc = y[i];
            for (int b = 0; b < cb; b++) {
                const uint8_t *blk = row + (size_t)b * bb;
                const int8_t *xb = xq + b * EG_QK;
                int32_t isum = 0;
                if (is_q4) {
                    for (int j = 0; j < EG_QK / 2; j++) isum += ((blk[2 + j] & 15) - 8) * xb[j];
                    for (int j = 0; j < EG_QK / 2; j++) isum += ((blk[2 + j] >> 4) - 8) * xb[j + 16];
                } else {
                    for (int j = 0; j < EG_QK; j++) isum += (int8_t)blk[2 + j] * xb[j];
                }
                acc = acc + (block_scale(blk) * dx[b]) * (float)isum;
            }
            y[i] = acc;
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

/* ---- matrix-matrix, NT: C[i][j] = sum_p A[i][p] * B[j][p] (+ bias[j]) -------------------------------------- */

static void gemm_f32(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                     const float *bias, int m, int n, int k) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const float *ar = a + (size_t)i * lda, *br = b + (size_t)j * ldb;
            float acc = 0.0f;
            for (int p = 0; p < k; p++) acc += ar[p] * br[p];
            c[(size_t)i * ldc + j] = bias ? acc + bias[j] : acc;
        }
}

/* ---- dequantisation ---------------------------------------------------------------------------------------- */

static void dequant_f16(float *y, const uint16_t *x, int n) {
    for (int i = 0; i < n; i++) y[i] = eg_f16_to_f32(x[i]);
}

static void dequant_q8_0(float *y, const void *x, int n) {
    for (int b = 0; b < n / EG_QK; b++) {
        const uint8_t *blk = (const uint8_t *)x + (size_t)b * EG_Q8_0_BLOCK_BYTES;
        float d = block_scale(blk);
        for (int j = 0; j < EG_QK; j++) y[b * EG_QK + j] = d * (float)(int8_t)blk[2 + j];
    }
}

static void dequant_q4_0(float *y, const void *x, int n) {
    for (int b = 0; b < n / EG_QK; b++) {
        const uint8_t *qs = (const uint8_t *)x + (size_t)b * EG_Q4_0_BLOCK_BYTES + 2;
        float d = block_scale(qs - 2);
        for (int j = 0; j < EG_QK / 2; j++) {
            y[b * EG_QK + j] = d * (float)((qs[j] & 15) - 8);
            y[b * EG_QK + j + 16] = d * (float)((qs[j] >> 4) - 8);
        }
    }
}

/* ---- depthwise conv1d, time-major: y[i][ch] = bias[ch] + sum_j w[j][ch] * x[i+j][ch] ----------------------- */

static void conv1d_dw_f32(float *y, const float *x, const float *w, const float *bias, int t, int c, int kw) {
    for (int i = 0; i < t; i++)
        for (int ch = 0; ch < c; ch++) {
            float acc = bias ? bias[ch] : 0.0f;
            for (int j = 0; j < kw; j++) acc += w[(size_t)j * c + ch] * x[(size_t)(i + j) * c + ch];
            y[(size_t)i * c + ch] = acc;
        }
}

/* ---- normalisation (sums in double; see the file comment) -------------------------------------------------- */

static void layer_norm_f32(float *y, const float *x, const float *g, const float *b, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        double s = 0.0;
        for (int i = 0; i < n; i++) s += xr[i];
        double mean = s / n, v = 0.0;
        for (int i = 0; i < n; i++) v += (xr[i] - mean) * (xr[i] - mean);
        float meanf = (float)mean;
        float rstd = (float)(1.0 / sqrt(v / n + (double)eps));
        for (int i = 0; i < n; i++) {
            float t = (xr[i] - meanf) * rstd;
            if (g) t = t * g[i];
            if (b) t = t + b[i];
            yr[i] = t;
        }
    }
}

static void rms_norm_f32(float *y, const float *x, const float *g, int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        double s = 0.0;
        for (int i = 0; i < n; i++) s += (double)xr[i] * xr[i];
        float rs = (float)(1.0 / sqrt(s / n + (double)eps));
        for (int i = 0; i < n; i++) yr[i] = g ? (xr[i] * rs) * g[i] : xr[i] * rs;
    }
}

/* softmax: y = exp(x - max) / sum. Needs at least one element > -inf (else NaN, as torch). */
static void softmax_f32(float *y, const float *x, int n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
    double s = 0.0;
    for (int i = 0; i < n; i++) { y[i] = expf(x[i] - mx); s += y[i]; }
    float inv = (float)(1.0 / s);
    for (int i = 0; i < n; i++) y[i] *= inv;
}

/* ---- elementwise ------------------------------------------------------------------------------------------- */

/* 0.5*x*(1 + erf(x/sqrt 2)) evaluated as 0.5*x*erfc(-x/sqrt 2) in double: the same function without the float
 * cancellation of 1 + erf for negative x, so the oracle is accurate on the whole range. */
static void gelu_f32(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = (float)(0.5 * (double)x[i] * erfc(-(double)x[i] * M_SQRT1_2));
}
static void exp_f32(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = expf(x[i]);
}
static void sincos_f32(float *s, float *c, const float *x, int n) {
    for (int i = 0; i < n; i++) { float v = x[i]; s[i] = sinf(v); c[i] = cosf(v); }
}
static void add_f32(float *y, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) y[i] = a[i] + b[i];
}
static void mul_f32(float *y, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) y[i] = a[i] * b[i];
}
/* axpy: y + a*x with two roundings (not fused). SIMD tables keep it unfused too, so results are exact. */
static void axpy_f32(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = y[i] + a * x[i];
}

/* ---- RoPE, NeoX "half" pairing ----------------------------------------------------------------------------- */

static void rope_f32(float *x, const float *cos_, const float *sin_, int n_heads, int head_dim) {
    const int h2 = head_dim / 2;
    for (int hd = 0; hd < n_heads; hd++) {
        float *v = x + (size_t)hd * head_dim;
        for (int i = 0; i < h2; i++) {
            float x0 = v[i], x1 = v[i + h2];
            v[i] = x0 * cos_[i] - x1 * sin_[i];
            v[i + h2] = x0 * sin_[i] + x1 * cos_[i];
        }
    }
}

const struct eg_kernels eg_kernels_ref = {
    .name = "ref",
    .needs = 0,
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
