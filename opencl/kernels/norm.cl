/* norm.cl — LayerNorm over rows (torch.nn.LayerNorm, biased variance), as simd/kernels.h layer_norm_f32, with
 * row strides so it can read and write rows of a padded activation buffer. In place allowed.
 *
 * One work-group of EG_NORM_WG (a power of two) per row: two passes (mean, then the sum of squared deviations)
 * with a tree reduction in local memory, then y = (x - mean) / sqrt(var + eps) * g + b. Two passes instead of
 * E[x^2] - mean^2 keep the precision close to the double-accumulating reference.
 * EG_FAULT_WRONG (set only by the test builds' fault injection "wrong") scales the output by 1.01, to test that the self-test notices.
 */
#pragma OPENCL FP_CONTRACT OFF

static float wg_sum(__local float *red, float v)
{
    const int l = get_local_id(0);
    red[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = EG_NORM_WG / 2; s > 0; s >>= 1) {
        if (l < s) red[l] += red[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel __attribute__((reqd_work_group_size(EG_NORM_WG, 1, 1)))
void layer_norm_f32(__global float *y, uint y_off, int ldy, __global const float *x, uint x_off, int ldx,
                    __global const float *g, __global const float *b, int has_g, int has_b, int n, float eps)
{
    __local float red[EG_NORM_WG];
    const int r = get_group_id(0), l = get_local_id(0);
    __global const float *xr = x + x_off + (size_t)r * ldx;
    __global float *yr = y + y_off + (size_t)r * ldy;
    float s = 0.0f;
    for (int i = l; i < n; i += EG_NORM_WG) s += xr[i];
    const float mean = wg_sum(red, s) / (float)n;
    float v = 0.0f;
    for (int i = l; i < n; i += EG_NORM_WG) { const float d = xr[i] - mean; v += d * d; }
    const float rstd = 1.0f / sqrt(wg_sum(red, v) / (float)n + eps);
    for (int i = l; i < n; i += EG_NORM_WG) {
        float o = (xr[i] - mean) * rstd;
        if (has_g) o = o * g[i];
        if (has_b) o = o + b[i];
#ifdef EG_FAULT_WRONG
        o = o * 1.01f;
#endif
        yr[i] = o;
    }
}
