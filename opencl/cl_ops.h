/* opencl/cl_ops.h — host wrappers for the OpenCL kernels, with simd/kernels.h semantics on device buffers.
 *
 * Every wrapper enqueues on the eg_cl in-order queue and returns without waiting; call eg_cl_finish() (or a
 * blocking read) before using results on the host. Buffers are addressed as (cl_mem, element offset) views so
 * rows of a larger buffer can be used in place. Shapes, strides and aliasing rules are those of the matching
 * struct eg_kernels op; decoder-specific fused ops are documented here. Errors: EG_ERR_DEVICE with the failing
 * call in cl->why (cl_runtime.h). Thread safety: as the eg_cl they belong to.
 */
#ifndef EG_CL_OPS_H
#define EG_CL_OPS_H

#include "opencl/cl_runtime.h"

struct eg_cl_view { cl_mem mem; size_t off; };   /* off in floats */
static inline struct eg_cl_view eg_cl_at(cl_mem m, size_t off) { struct eg_cl_view v = { m, off }; return v; }
#define EG_CL_NONE ((struct eg_cl_view){ NULL, 0 })

struct eg_cl_ops {
    struct eg_cl *cl;   /* borrowed; must outlive the ops */
    cl_kernel gemm, conv_dw, layer_norm, gelu, exp, sincos, binary, residual_gamma, spec_head, noop;
};

/* Create every kernel of cl->program and check that the fixed work-group sizes fit the device
 * (CL_KERNEL_WORK_GROUP_SIZE); EG_ERR_DEVICE otherwise. eg_cl_ops_release is safe on a zeroed struct. */
enum eg_status eg_cl_ops_init(struct eg_cl_ops *ops, struct eg_cl *cl);
void eg_cl_ops_release(struct eg_cl_ops *ops);

/* C[i][j] = sum_p A[i][p] * B[j][p] (+ bias[j]); strides in elements. bias.mem == NULL: no bias. */
enum eg_status eg_cl_gemm_f32(const struct eg_cl_ops *o, struct eg_cl_view c, int ldc, struct eg_cl_view a, int lda,
                              struct eg_cl_view b, int ldb, struct eg_cl_view bias, int m, int n, int k);
/* Depthwise conv1d: x [t + kw - 1][c] (padding rows supplied), w [kw][c], bias [c] or none, y [t][c]. */
enum eg_status eg_cl_conv1d_dw_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x,
                                   struct eg_cl_view w, struct eg_cl_view bias, int t, int c, int kw);
/* LayerNorm of `rows` rows of n (row strides ldy/ldx); g, b optional. In place allowed. */
enum eg_status eg_cl_layer_norm_f32(const struct eg_cl_ops *o, struct eg_cl_view y, int ldy, struct eg_cl_view x,
                                    int ldx, struct eg_cl_view g, struct eg_cl_view b, int rows, int n, float eps);
/* Elementwise, in place allowed. */
enum eg_status eg_cl_gelu_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x, int n);
enum eg_status eg_cl_exp_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x, int n);
enum eg_status eg_cl_sincos_f32(const struct eg_cl_ops *o, struct eg_cl_view s, struct eg_cl_view c,
                                struct eg_cl_view x, int n);
enum eg_status eg_cl_add_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view a, struct eg_cl_view b, int n);
enum eg_status eg_cl_mul_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view a, struct eg_cl_view b, int n);
/* ConvNeXt residual with layer scale: x[r][ch] += gamma[ch] * h[r][ch] (product rounded, then added), r < t. */
enum eg_status eg_cl_residual_gamma_f32(const struct eg_cl_ops *o, struct eg_cl_view x, struct eg_cl_view h,
                                        struct eg_cl_view gamma, int t, int c);
/* Decoder head: h [t][2*nb] = [log-mag | phase] → mag = min(exp(logmag), clamp_max), re = mag*cos(phase),
 * im = mag*sin(phase), each [t][nb] at offset 0 of their buffers. */
enum eg_status eg_cl_spec_head_f32(const struct eg_cl_ops *o, cl_mem mag, cl_mem re, cl_mem im, cl_mem h,
                                   int t, int nb, float clamp_max);
/* Trivial kernel (y[i] = i) for launch-overhead measurements. */
enum eg_status eg_cl_noop(const struct eg_cl_ops *o, cl_mem y, int n);

#endif /* EG_CL_OPS_H */
