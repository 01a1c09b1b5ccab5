/* opencl/cl_ops.c — argument marshalling and launch geometry for opencl/kernels/NAME.cl (see cl_ops.h).
 *
 * Geometry: gemm uses EG_TS x EG_TS work-groups over a global size rounded up to the tile; layer_norm one
 * work-group of EG_NORM_WG per row; everything else passes no local size (the driver picks one), with global
 * sizes rounded up to 64 in dimension 0 and bounds checks in the kernels.
 */
#include <stdio.h>
#include <string.h>
#include "opencl/cl_ops.h"
#include "runtime/core/internal.h"

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Argument setter: records the first failure; `bad` carries it to the launch. */
struct args { const struct eg_cl_ops *o; cl_kernel k; cl_uint i; cl_int err; };
static void arg(struct args *a, size_t size, const void *v) {
    if (a->err != CL_SUCCESS) return;
    a->err = a->o->cl->api.SetKernelArg(a->k, a->i++, size, v);
}
static void arg_view(struct args *a, struct eg_cl_view v) {
    cl_uint off = (cl_uint)v.off;
    arg(a, sizeof(cl_mem), v.mem ? &v.mem : NULL);
    arg(a, sizeof off, &off);
}
static void arg_mem(struct args *a, cl_mem m) { arg(a, sizeof(cl_mem), &m); }
static void arg_int(struct args *a, int v) { arg(a, sizeof v, &v); }
static void arg_float(struct args *a, float v) { arg(a, sizeof v, &v); }

static enum eg_status launch(struct args *a, cl_uint dims, const size_t *global, const size_t *local) {
    struct eg_cl *cl = a->o->cl;
    if (a->err != CL_SUCCESS) return eg_cl_fail(cl, "clSetKernelArg", a->err);
    for (cl_uint d = 0; d < dims; d++) if (!global[d]) return EG_OK;   /* empty op */
    cl_int err = cl->api.EnqueueNDRangeKernel(cl->queue, a->k, dims, NULL, global, local, 0, NULL, NULL);
    return err == CL_SUCCESS ? EG_OK : eg_cl_fail(cl, "clEnqueueNDRangeKernel", err);
}
#define ARGS(kern) struct args a_ = { o, o->kern, 0, CL_SUCCESS }; struct args *a = &a_

enum eg_status eg_cl_ops_init(struct eg_cl_ops *o, struct eg_cl *cl) {
    static const struct { size_t off; const char *name; } tab[] = {
        { offsetof(struct eg_cl_ops, gemm), "gemm_nt_f32" },
        { offsetof(struct eg_cl_ops, conv_dw), "conv1d_dw_f32" },
        { offsetof(struct eg_cl_ops, layer_norm), "layer_norm_f32" },
        { offsetof(struct eg_cl_ops, gelu), "gelu_f32" },
        { offsetof(struct eg_cl_ops, exp), "exp_f32" },
        { offsetof(struct eg_cl_ops, sincos), "sincos_f32" },
        { offsetof(struct eg_cl_ops, binary), "binary_f32" },
        { offsetof(struct eg_cl_ops, residual_gamma), "residual_gamma_f32" },
        { offsetof(struct eg_cl_ops, spec_head), "spec_head_f32" },
        { offsetof(struct eg_cl_ops, noop), "noop_f32" },
    };
    memset(o, 0, sizeof *o);
    o->cl = cl;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        cl_int err;
        cl_kernel k = cl->api.CreateKernel(cl->program, tab[i].name, &err);
        if (!k || err != CL_SUCCESS) {
            eg_cl_ops_release(o);
            return eg_cl_fail(cl, "clCreateKernel", err);
        }
        memcpy((char *)o + tab[i].off, &k, sizeof k);
    }
    /* the fixed work-group sizes must fit this device and these kernels (CL_INVALID_WORK_GROUP_SIZE otherwise) */
    size_t wg_gemm = 0, wg_norm = 0;
    cl->api.GetKernelWorkGroupInfo(o->gemm, cl->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_gemm, &wg_gemm, NULL);
    cl->api.GetKernelWorkGroupInfo(o->layer_norm, cl->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_norm, &wg_norm, NULL);
    if (wg_gemm < (size_t)(cl->tile * cl->tile) || wg_norm < (size_t)cl->norm_wg) {
        snprintf(cl->why, sizeof cl->why, "kernel work-group limits too small (gemm %zu < %d or norm %zu < %d)",
                 wg_gemm, cl->tile * cl->tile, wg_norm, cl->norm_wg);
        EG_LOGI("opencl: %s", cl->why);
        eg_cl_ops_release(o);
        return EG_ERR_DEVICE;
    }
    return EG_OK;
}

void eg_cl_ops_release(struct eg_cl_ops *o) {
    cl_kernel *ks[] = { &o->gemm, &o->conv_dw, &o->layer_norm, &o->gelu, &o->exp, &o->sincos,
                        &o->binary, &o->residual_gamma, &o->spec_head, &o->noop };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        if (*ks[i] && o->cl) o->cl->api.ReleaseKernel(*ks[i]);
        *ks[i] = NULL;
    }
}

enum eg_status eg_cl_gemm_f32(const struct eg_cl_ops *o, struct eg_cl_view c, int ldc, struct eg_cl_view am, int lda,
                              struct eg_cl_view b, int ldb, struct eg_cl_view bias, int m, int n, int k) {
    ARGS(gemm);
    const size_t ts = (size_t)o->cl->tile;
    arg_view(a, c); arg_int(a, ldc); arg_view(a, am); arg_int(a, lda); arg_view(a, b); arg_int(a, ldb);
    arg_view(a, bias); arg_int(a, bias.mem != NULL); arg_int(a, m); arg_int(a, n); arg_int(a, k);
    /* each work-group covers a 4*ts square of C (gemm.cl) */
    size_t global[2] = { round_up((size_t)n, 4 * ts) / 4, round_up((size_t)m, 4 * ts) / 4 }, local[2] = { ts, ts };
    return launch(a, 2, global, local);
}

enum eg_status eg_cl_conv1d_dw_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x,
                                   struct eg_cl_view w, struct eg_cl_view bias, int t, int c, int kw) {
    ARGS(conv_dw);
    arg_view(a, y); arg_view(a, x); arg_view(a, w); arg_view(a, bias); arg_int(a, bias.mem != NULL);
    arg_int(a, t); arg_int(a, c); arg_int(a, kw);
    size_t global[2] = { round_up((size_t)c, 64), (size_t)t };
    return launch(a, 2, global, NULL);
}

enum eg_status eg_cl_layer_norm_f32(const struct eg_cl_ops *o, struct eg_cl_view y, int ldy, struct eg_cl_view x,
                                    int ldx, struct eg_cl_view g, struct eg_cl_view b, int rows, int n, float eps) {
    ARGS(layer_norm);
    arg_view(a, y); arg_int(a, ldy); arg_view(a, x); arg_int(a, ldx);
    arg(a, sizeof(cl_mem), g.mem ? &g.mem : NULL); arg(a, sizeof(cl_mem), b.mem ? &b.mem : NULL);
    arg_int(a, g.mem != NULL); arg_int(a, b.mem != NULL); arg_int(a, n); arg_float(a, eps);
    if (g.off || b.off) { snprintf(o->cl->why, sizeof o->cl->why, "layer_norm: g/b offsets unsupported"); return EG_ERR_INTERNAL; }
    if (n <= 0) return EG_OK;
    size_t local[1] = { (size_t)o->cl->norm_wg }, global[1] = { (size_t)rows * local[0] };
    return launch(a, 1, global, local);
}

static enum eg_status unary(const struct eg_cl_ops *o, cl_kernel k, struct eg_cl_view y, struct eg_cl_view x, int n) {
    struct args a_ = { o, k, 0, CL_SUCCESS }, *a = &a_;
    arg_view(a, y); arg_view(a, x); arg_int(a, n);
    size_t global[1] = { round_up((size_t)n, 64) };
    return launch(a, 1, global, NULL);
}
enum eg_status eg_cl_gelu_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x, int n) {
    return unary(o, o->gelu, y, x, n);
}
enum eg_status eg_cl_exp_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view x, int n) {
    return unary(o, o->exp, y, x, n);
}

enum eg_status eg_cl_sincos_f32(const struct eg_cl_ops *o, struct eg_cl_view s, struct eg_cl_view c,
                                struct eg_cl_view x, int n) {
    ARGS(sincos);
    arg_view(a, s); arg_view(a, c); arg_view(a, x); arg_int(a, n);
    size_t global[1] = { round_up((size_t)n, 64) };
    return launch(a, 1, global, NULL);
}

static enum eg_status binary(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view u,
                             struct eg_cl_view v, int n, int op) {
    ARGS(binary);
    arg_view(a, y); arg_view(a, u); arg_view(a, v); arg_int(a, n); arg_int(a, op);
    size_t global[1] = { round_up((size_t)n, 64) };
    return launch(a, 1, global, NULL);
}
enum eg_status eg_cl_add_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view u, struct eg_cl_view v, int n) {
    return binary(o, y, u, v, n, 0);
}
enum eg_status eg_cl_mul_f32(const struct eg_cl_ops *o, struct eg_cl_view y, struct eg_cl_view u, struct eg_cl_view v, int n) {
    return binary(o, y, u, v, n, 1);
}

enum eg_status eg_cl_residual_gamma_f32(const struct eg_cl_ops *o, struct eg_cl_view x, struct eg_cl_view h,
                                        struct eg_cl_view gamma, int t, int c) {
    ARGS(residual_gamma);
    if (gamma.off) return EG_ERR_INTERNAL;
    arg_view(a, x); arg_view(a, h); arg_mem(a, gamma.mem); arg_int(a, t); arg_int(a, c);
    size_t global[2] = { round_up((size_t)c, 64), (size_t)t };
    return launch(a, 2, global, NULL);
}

enum eg_status eg_cl_spec_head_f32(const struct eg_cl_ops *o, cl_mem mag, cl_mem re, cl_mem im, cl_mem h,
                                   int t, int nb, float clamp_max) {
    ARGS(spec_head);
    arg_mem(a, mag); arg_mem(a, re); arg_mem(a, im); arg_mem(a, h); arg_int(a, t); arg_int(a, nb);
    arg_float(a, clamp_max);
    size_t global[2] = { round_up((size_t)nb, 64), (size_t)t };
    return launch(a, 2, global, NULL);
}

enum eg_status eg_cl_noop(const struct eg_cl_ops *o, cl_mem y, int n) {
    ARGS(noop);
    arg_mem(a, y); arg_int(a, n);
    size_t global[1] = { round_up((size_t)n, 64) };
    return launch(a, 1, global, NULL);
}
