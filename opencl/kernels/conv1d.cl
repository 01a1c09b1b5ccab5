/* conv1d.cl — convolutions over time-major activations [t][c].
 *
 * conv1d_dw_f32: depthwise, as simd/kernels.h conv1d_dw_f32: x is [t + kw - 1][c] with the padding rows supplied
 * by the caller, w is [kw][c], y[i][ch] = bias[ch] + sum_{j<kw} w[j][ch] * x[i + j][ch] (bias added first, then
 * the taps in j order, as the reference). Dimension 0 runs over channels so adjacent work-items read adjacent
 * words. y must not alias x.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void conv1d_dw_f32(__global float *y, uint y_off, __global const float *x, uint x_off,
                            __global const float *w, uint w_off, __global const float *bias, uint bias_off,
                            int has_bias, int t, int c, int kw)
{
    const int ch = get_global_id(0), i = get_global_id(1);
    if (ch >= c || i >= t) return;
    x += x_off + (size_t)i * c + ch;
    w += w_off + ch;
    float acc = has_bias ? bias[bias_off + ch] : 0.0f;
    for (int j = 0; j < kw; j++) acc += w[(size_t)j * c] * x[(size_t)j * c];
    y[y_off + (size_t)i * c + ch] = acc;
}
