/* gemm.cl — C[i][j] = sum_p A[i][p] * B[j][p] (+ bias[j]): the "NT" layout of a Linear layer on rows of
 * activations (simd/kernels.h gemm_f32). Offsets and strides in elements.
 *
 * Blocking: one EG_TS x EG_TS work-group per output tile, one output per work-item, K walked in EG_TS steps
 * through local memory. The B tile is stored transposed (bt[p][j]) so that work-items adjacent in dimension 0
 * (adjacent j) read adjacent words: CPU drivers (PoCL) vectorise across dimension 0, GPUs coalesce on it.
 * The A value is uniform across dimension 0 (a broadcast). Products are summed in p order with separate
 * roundings (FP_CONTRACT OFF), like the reference; only the blocking of the sum is the same as the CPU's.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel __attribute__((reqd_work_group_size(EG_TS, EG_TS, 1)))
void gemm_nt_f32(__global float *c, uint c_off, int ldc,
                 __global const float *a, uint a_off, int lda,
                 __global const float *b, uint b_off, int ldb,
                 __global const float *bias, uint bias_off, int has_bias,
                 int m, int n, int k)
{
    __local float at[EG_TS][EG_TS];       /* at[i][p]: rows of A */
    __local float bt[EG_TS][EG_TS + 1];   /* bt[p][j]: B transposed (+1 against bank conflicts on GPUs) */
    const int lj = get_local_id(0), li = get_local_id(1);
    const int j0 = get_group_id(0) * EG_TS, i0 = get_group_id(1) * EG_TS;
    const int i = i0 + li, j = j0 + lj;
    a += a_off; b += b_off; c += c_off;
    float acc = 0.0f;
    for (int p0 = 0; p0 < k; p0 += EG_TS) {
        const int p = p0 + lj;
        at[li][lj] = (i < m && p < k) ? a[(size_t)i * lda + p] : 0.0f;
        bt[lj][li] = (j0 + li < n && p < k) ? b[(size_t)(j0 + li) * ldb + p] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        const int q_end = min(EG_TS, k - p0);
        for (int q = 0; q < q_end; q++) acc += at[li][q] * bt[q][lj];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < m && j < n) c[(size_t)i * ldc + j] = has_bias ? acc + bias[bias_off + j] : acc;
}
