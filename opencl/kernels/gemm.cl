/* gemm.cl — C[i][j] = sum_p A[i][p] * B[j][p] (+ bias[j]): the "NT" layout of a Linear layer on rows of
 * activations (simd/kernels.h gemm_f32). Offsets and strides in elements.
 *
 * Blocking: an EG_TS x EG_TS work-group computes a (4*EG_TS) x (4*EG_TS) output tile, each work-item a 4 x 4
 * register block at rows li + EG_TS*r and columns lj + EG_TS*c (so adjacent work-items in dimension 0 write
 * adjacent columns). K is walked in EG_TS steps through local memory; the B tile is stored transposed
 * (bt[p][j]) so adjacent work-items read adjacent words (CPU drivers such as PoCL vectorise across
 * dimension 0, GPUs coalesce on it). Products are summed in p order with separate roundings
 * (FP_CONTRACT OFF), like the reference; only the blocking of the sum differs from the CPU's.
 */
#pragma OPENCL FP_CONTRACT OFF

#define EG_TM (4 * EG_TS)

__kernel __attribute__((reqd_work_group_size(EG_TS, EG_TS, 1)))
void gemm_nt_f32(__global float *c, uint c_off, int ldc,
                 __global const float *a, uint a_off, int lda,
                 __global const float *b, uint b_off, int ldb,
                 __global const float *bias, uint bias_off, int has_bias,
                 int m, int n, int k)
{
    __local float at[EG_TS][EG_TM];       /* at[p][i]: A tile transposed */
    __local float bt[EG_TS][EG_TM];       /* bt[p][j]: B tile transposed */
    const int lj = get_local_id(0), li = get_local_id(1);
    const int j0 = get_group_id(0) * EG_TM, i0 = get_group_id(1) * EG_TM;
    a += a_off; b += b_off; c += c_off;
    float acc[4][4];
    for (int r = 0; r < 4; r++) for (int q = 0; q < 4; q++) acc[r][q] = 0.0f;
    for (int p0 = 0; p0 < k; p0 += EG_TS) {
        const int p = p0 + lj;
        for (int r = 0; r < 4; r++) {           /* each work-item loads 4 A and 4 B elements */
            const int row = li + EG_TS * r;
            at[lj][row] = (i0 + row < m && p < k) ? a[(size_t)(i0 + row) * lda + p] : 0.0f;
            bt[lj][row] = (j0 + row < n && p < k) ? b[(size_t)(j0 + row) * ldb + p] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int q_end = min(EG_TS, k - p0);
        for (int q = 0; q < q_end; q++) {
            float av[4], bv[4];
            for (int r = 0; r < 4; r++) { av[r] = at[q][li + EG_TS * r]; bv[r] = bt[q][lj + EG_TS * r]; }
            for (int r = 0; r < 4; r++)
                for (int s = 0; s < 4; s++) acc[r][s] += av[r] * bv[s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int r = 0; r < 4; r++) {
        const int i = i0 + li + EG_TS * r;
        if (i >= m) continue;
        for (int s = 0; s < 4; s++) {
            const int j = j0 + lj + EG_TS * s;
            if (j < n) c[(size_t)i * ldc + j] = has_bias ? acc[r][s] + bias[bias_off + j] : acc[r][s];
        }
    }
}
