/* act.cl — elementwise ops (simd/kernels.h semantics; in place allowed) and the decoder's fused elementwise
 * steps. One work-item per element; offsets in elements. Builtins only (erf, exp, sin, cos: OpenCL full-profile
 * accuracy, a few ulp), never native_* or half_*.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void gelu_f32(__global float *y, uint y_off, __global const float *x, uint x_off, int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[x_off + i];
    y[y_off + i] = 0.5f * v * (1.0f + erf(v * 0.70710678118654752440f));   /* exact GELU (torch default) */
}

__kernel void exp_f32(__global float *y, uint y_off, __global const float *x, uint x_off, int n)
{
    const int i = get_global_id(0);
    if (i < n) y[y_off + i] = exp(x[x_off + i]);
}

__kernel void sincos_f32(__global float *s, uint s_off, __global float *c, uint c_off,
                         __global const float *x, uint x_off, int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[x_off + i];
    s[s_off + i] = sin(v);
    c[c_off + i] = cos(v);
}

/* op: 0 add (y = a + b), 1 mul (y = a * b) */
__kernel void binary_f32(__global float *y, uint y_off, __global const float *a, uint a_off,
                         __global const float *b, uint b_off, int n, int op)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float u = a[a_off + i], v = b[b_off + i];
    y[y_off + i] = op == 0 ? u + v : u * v;
}

/* ConvNeXt residual with layer scale: x[r][ch] += gamma[ch] * h[r][ch] over rows r < t of c channels
 * (the product rounded first, then the add: the reference's mul_f32 then add_f32). */
__kernel void residual_gamma_f32(__global float *x, uint x_off, __global const float *h, uint h_off,
                                 __global const float *gamma, int t, int c)
{
    const int ch = get_global_id(0), r = get_global_id(1);
    if (ch >= c || r >= t) return;
    const size_t k = (size_t)r * c + ch;
    const float p = gamma[ch] * h[h_off + k];
    x[x_off + k] = x[x_off + k] + p;
}

/* Spectral head of the decoder: h[r] = [log-magnitude (nb) | phase (nb)] → mag = min(exp(logmag), clamp),
 * re = mag * cos(phase), im = mag * sin(phase), each [t][nb]. */
__kernel void spec_head_f32(__global float *mag, __global float *re, __global float *im,
                            __global const float *h, int t, int nb, float clamp_max)
{
    const int f = get_global_id(0), r = get_global_id(1);
    if (f >= nb || r >= t) return;
    __global const float *hr = h + (size_t)r * 2 * nb;
    const float m = fmin(exp(hr[f]), clamp_max), ph = hr[nb + f];
    const size_t k = (size_t)r * nb + f;
    mag[k] = m;
    re[k] = m * cos(ph);
    im[k] = m * sin(ph);
}

/* For launch-overhead measurements (tests/bench_opencl.c). */
__kernel void noop_f32(__global float *y, int n)
{
    const int i = get_global_id(0);
    if (i < n) y[i] = (float)i;
}
