/* opencl/cl_decoder.c — the decoder's spectral stage on an OpenCL device, its CPU composition (the probe's
 * reference), and the placement between them (see cl_decoder.h). The maths is models/decoder.c decode_frames:
 *
 *   x = LayerNorm(embed(cols) [+ add])               embed = gemm over im2col rows, columns (kernel, latent);
 *                                                    add = the phoneme-embedding rows of a conditioned decoder
 *   per block: h = dwconv(x) → LayerNorm → Linear dim→ffn → GELU → Linear ffn→dim;  x += gamma * h
 *   o = head(LayerNorm(x)) = [log-mag | phase];  mag = min(exp(log-mag), clamp);  re/im = mag * cos/sin
 *
 * Device layout of one window (frames [a, a+c), R0 = k2 * n_layers, k2 = kernel/2): the residual stream d_x
 * holds k2 zero rows, then frames [a - R0, a + c + R0), then k2 zero rows, so frame fr is row k2 + fr - (a - R0)
 * and the depthwise conv reads its padding rows in place (simd/kernels.h conv1d_dw_f32 contract). Rows of
 * frames outside [e0, e1) (outside the known stream) are zeroed each window; block l then computes only the
 * frames [a - r_l, a + c + r_l) clipped to [0, end), r_l = k2 * (n_layers - 1 - l), as the CPU decoder does, so
 * both see the same inputs and differ only in summation blocking and libm vs OpenCL builtins.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "opencl/cl_decoder.h"
#include "opencl/cl_ops.h"
#include "runtime/core/cpu.h"
#include "models/decoder.h"
#include "simd/dispatch.h"
#include "models/exec.h"
#include "runtime/core/internal.h"
#include "models/models.h"

#define PROBE_FRAMES 24

struct cl_block { cl_mem dw_w, dw_b, ln_g, ln_b, pw1_w, pw1_b, pw2_w, pw2_b, gamma; };

struct eg_spectral {
    const struct eg_codec_model *m;      /* borrowed */
    struct eg_exec *ex;                  /* borrowed: the CPU composition's table and pool */
    enum eg_backend mode;
    int max_frames, k2, R0, n_win;       /* n_win = max_frames + 2*R0 rows per window */
    int dim, ffn, kw, lat, nb, n_cols;   /* nb = n_fft/2 + 1, n_cols = kernel*latent */

    /* host: one allocation for the CPU composition (whole utterance, <= max_frames) and device staging */
    float *host_mem;
    float *cols;                         /* [max_frames][n_cols] */
    float *xp;                           /* [k2 + max_frames + k2][dim] residual stream with zero padding rows */
    float *h, *f, *o;                    /* [max_frames][dim], [max_frames][ffn], [max_frames][2*nb] */
    float *row_tmp;                      /* [3][nb] exp, sin, cos of one frame */
    float *lin_scratch;                  /* eg_linear_scratch_floats for the largest quantised n_in */
    float *zeros;                        /* [k2 + n_win + k2][dim] zeros (device padding writes) */
    float *st_re, *st_im;                /* [max_frames][nb] device read-back */

    /* device */
    struct eg_cl *cl;
    struct eg_cl_ops ops;
    cl_mem d_embed_w, d_embed_b, d_norm_g, d_norm_b, d_final_g, d_final_b, d_head_w, d_head_b;
    struct cl_block *d_blk;
    cl_mem d_cols, d_x, d_h, d_f, d_o, d_mag, d_re, d_im;
    int use_device, warned, probed;
    enum eg_cl_fault fault;

    double ratio, snr_db, cpu_ms, dev_ms;
    char reason[384];
};

double eg_snr_db(const float *ref, const float *got, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ref[i]) || !isfinite(got[i])) return -300.0;
        double d = (double)ref[i] - got[i];
        num += d * d; den += (double)ref[i] * ref[i];
    }
    if (num == 0) return 300.0;
    return 10.0 * log10((den > 0 ? den : 1e-30) / num);
}

int eg_backend_from_name(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "cpu")) return EG_BACKEND_CPU;
    if (!strcmp(s, "opencl")) return EG_BACKEND_OPENCL;
    if (!strcmp(s, "auto")) return EG_BACKEND_AUTO;
    return -1;
}

enum eg_backend eg_backend_from_env(enum eg_backend dflt) {
    const int b = eg_backend_from_name(getenv("EDGEGEN_BACKEND"));
    return b < 0 ? dflt : (enum eg_backend)b;
}

/* im2col of whole-utterance values [t][lat]: col[i][j*lat + ci] = v[i + j - k2][ci], zero outside [0, t). */
static void im2col(const struct eg_spectral *s, const float *values, int t) {
    for (int i = 0; i < t; i++)
        for (int j = 0; j < s->kw; j++) {
            float *dst = s->cols + (size_t)i * s->n_cols + (size_t)j * s->lat;
            const int src = i + j - s->k2;
            if (src >= 0 && src < t) memcpy(dst, values + (size_t)src * s->lat, sizeof(float) * s->lat);
            else memset(dst, 0, sizeof(float) * s->lat);
        }
}

/* ---- CPU composition (whole utterance; the probe's reference and the fallback of eg_spectral_run) ---------- */

enum eg_status eg_spectral_run_cpu(struct eg_spectral *s, const float *values, int t, float *re, float *im) {
    if (!s || !values || !re || !im || t < 1 || t > s->max_frames) return EG_ERR_INVALID_ARG;
    const struct eg_codec_config *cfg = &s->m->cfg;
    const struct eg_codec_weights *w = &s->m->w;
    const struct eg_kernels *k = &s->ex->k;
    const int dim = s->dim, ffn = s->ffn, nb = s->nb;
    const float eps = cfg->layer_norm_eps, clamp = cfg->mag_clamp;
    float *x = s->xp + (size_t)s->k2 * dim;
    memset(s->xp, 0, sizeof(float) * (size_t)s->k2 * dim);
    memset(x + (size_t)t * dim, 0, sizeof(float) * (size_t)s->k2 * dim);

    im2col(s, values, t);
    eg_linear_rows(s->ex, &w->embed, x, dim, s->cols, s->n_cols, t, EG_ACT_NONE, NULL);
    k->layer_norm_f32(x, x, w->norm_w, w->norm_b, t, dim, eps);
    for (uint32_t l = 0; l < cfg->n_layers; l++) {
        const struct eg_codec_block *b = &w->blocks[l];
        k->conv1d_dw_f32(s->h, s->xp, b->dw_w, b->dw_b, t, dim, s->kw);
        k->layer_norm_f32(s->h, s->h, b->norm_w, b->norm_b, t, dim, eps);
        eg_linear_rows(s->ex, &b->pw1, s->f, ffn, s->h, dim, t, EG_ACT_GELU, s->lin_scratch);
        eg_linear_rows(s->ex, &b->pw2, s->h, dim, s->f, ffn, t, EG_ACT_NONE, s->lin_scratch);
        for (int i = 0; i < t; i++) {
            float *hr = s->h + (size_t)i * dim, *xr = x + (size_t)i * dim;
            k->mul_f32(hr, hr, b->gamma, dim);
            k->add_f32(xr, xr, hr, dim);
        }
    }
    k->layer_norm_f32(s->h, x, w->final_norm_w, w->final_norm_b, t, dim, eps);
    eg_linear_rows(s->ex, &w->head, s->o, 2 * nb, s->h, dim, t, EG_ACT_NONE, s->lin_scratch);
    float *mg = s->row_tmp, *sn = mg + nb, *cs = sn + nb;
    for (int i = 0; i < t; i++) {
        const float *row = s->o + (size_t)i * 2 * nb;
        k->exp_f32(mg, row, nb);
        for (int j = 0; j < nb; j++) if (mg[j] > clamp) mg[j] = clamp;
        k->sincos_f32(sn, cs, row + nb, nb);
        k->mul_f32(re + (size_t)i * nb, mg, cs, nb);
        k->mul_f32(im + (size_t)i * nb, mg, sn, nb);
    }
    return EG_OK;
}

/* ---- device: weights, buffers ------------------------------------------------------------------------------ */

static void device_free(struct eg_spectral *s) {
    if (!s->cl) return;
    cl_mem *ms[] = { &s->d_embed_w, &s->d_embed_b, &s->d_norm_g, &s->d_norm_b, &s->d_final_g, &s->d_final_b,
                     &s->d_head_w, &s->d_head_b, &s->d_cols, &s->d_x, &s->d_h, &s->d_f, &s->d_o, &s->d_mag,
                     &s->d_re, &s->d_im };
    if (s->d_blk) {
        for (uint32_t b = s->m->cfg.n_layers; b-- > 0;) {
            struct cl_block *d = &s->d_blk[b];
            cl_mem *bm[] = { &d->dw_w, &d->dw_b, &d->ln_g, &d->ln_b, &d->pw1_w, &d->pw1_b, &d->pw2_w, &d->pw2_b, &d->gamma };
            for (size_t i = 0; i < sizeof bm / sizeof bm[0]; i++) eg_cl_release(s->cl, bm[i]);
        }
        free(s->d_blk);
        s->d_blk = NULL;
    }
    for (size_t i = sizeof ms / sizeof ms[0]; i-- > 0;) eg_cl_release(s->cl, ms[i]);
    eg_cl_ops_release(&s->ops);
    eg_cl_destroy(s->cl);
    s->cl = NULL;
    s->use_device = 0;
}

/* Upload an f32 vector. */
static enum eg_status up_vec(struct eg_spectral *s, cl_mem *dst, const float *src, size_t n) {
    return eg_cl_buffer(s->cl, dst, n * sizeof(float), src);
}

/* Upload a matrix [n_out][n_in] as f32: directly when it is f32, else dequantised row by row (the kernel
 * table's exact dequantisers, the same values the CPU gemm sees). */
static enum eg_status up_linear(struct eg_spectral *s, cl_mem *dst, const struct eg_linear *lin) {
    const struct eg_kernels *k = &s->ex->k;
    const size_t n = (size_t)lin->n_out * lin->n_in;
    if (lin->type == EG_DTYPE_F32) return eg_cl_buffer(s->cl, dst, n * sizeof(float), lin->w);
    float *tmp = malloc(n * sizeof(float));
    if (!tmp) { snprintf(s->cl->why, sizeof s->cl->why, "out of memory dequantising a %s matrix", eg_dtype_name(lin->type)); return EG_ERR_NOMEM; }
    for (int j = 0; j < lin->n_out; j++) {
        const void *row = (const char *)lin->w + (size_t)j * lin->row_bytes;
        float *y = tmp + (size_t)j * lin->n_in;
        switch (lin->type) {
        case EG_DTYPE_F16:  k->dequant_f16(y, row, lin->n_in); break;
        case EG_DTYPE_Q8_0: k->dequant_q8_0(y, row, lin->n_in); break;
        case EG_DTYPE_Q4_0: k->dequant_q4_0(y, row, lin->n_in); break;
        default:
            free(tmp);
            snprintf(s->cl->why, sizeof s->cl->why, "matrix type %s not supported", eg_dtype_name(lin->type));
            return EG_ERR_UNSUPPORTED;
        }
    }
    enum eg_status st = eg_cl_buffer(s->cl, dst, n * sizeof(float), tmp);
    free(tmp);
    return st;
}

/* Open the device, create the kernels, upload the weights, allocate one window's activations. On failure the
 * device is released and `why` says what failed. */
static enum eg_status device_init(struct eg_spectral *s, char *why, size_t why_len) {
    const struct eg_codec_weights *w = &s->m->w;
    const size_t dim = s->dim, ffn = s->ffn, W = s->n_win, T = s->max_frames, nb = s->nb;
    enum eg_status st = eg_cl_create(&s->cl, NULL, why, why_len);
    if (st != EG_OK) return st;
    if ((st = eg_cl_ops_init(&s->ops, s->cl)) != EG_OK) goto fail;
    s->d_blk = calloc(s->m->cfg.n_layers, sizeof *s->d_blk);
    if (!s->d_blk) { st = EG_ERR_NOMEM; snprintf(s->cl->why, sizeof s->cl->why, "out of memory"); goto fail; }
#define TRY(call) if ((st = (call)) != EG_OK) goto fail
    TRY(up_linear(s, &s->d_embed_w, &w->embed));
    TRY(up_vec(s, &s->d_embed_b, w->embed.b, dim));
    TRY(up_vec(s, &s->d_norm_g, w->norm_w, dim));
    TRY(up_vec(s, &s->d_norm_b, w->norm_b, dim));
    for (uint32_t b = 0; b < s->m->cfg.n_layers; b++) {
        const struct eg_codec_block *bw = &w->blocks[b];
        struct cl_block *d = &s->d_blk[b];
        TRY(up_vec(s, &d->dw_w, bw->dw_w, (size_t)s->kw * dim));
        TRY(up_vec(s, &d->dw_b, bw->dw_b, dim));
        TRY(up_vec(s, &d->ln_g, bw->norm_w, dim));
        TRY(up_vec(s, &d->ln_b, bw->norm_b, dim));
        TRY(up_linear(s, &d->pw1_w, &bw->pw1));
        TRY(up_vec(s, &d->pw1_b, bw->pw1.b, ffn));
        TRY(up_linear(s, &d->pw2_w, &bw->pw2));
        TRY(up_vec(s, &d->pw2_b, bw->pw2.b, dim));
        TRY(up_vec(s, &d->gamma, bw->gamma, dim));
    }
    TRY(up_vec(s, &s->d_final_g, w->final_norm_w, dim));
    TRY(up_vec(s, &s->d_final_b, w->final_norm_b, dim));
    TRY(up_linear(s, &s->d_head_w, &w->head));
    TRY(up_vec(s, &s->d_head_b, w->head.b, 2 * nb));
    TRY(eg_cl_buffer(s->cl, &s->d_cols, W * s->n_cols * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_x, (W + 2 * (size_t)s->k2) * dim * sizeof(float), s->zeros));
    TRY(eg_cl_buffer(s->cl, &s->d_h, W * dim * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_f, W * ffn * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_o, T * 2 * nb * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_mag, T * nb * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_re, T * nb * sizeof(float), NULL));
    TRY(eg_cl_buffer(s->cl, &s->d_im, T * nb * sizeof(float), NULL));
#undef TRY
    return EG_OK;
fail:
    snprintf(why, why_len, "%s", s->cl->why);
    device_free(s);
    return st;
}

/* ---- device: one window ------------------------------------------------------------------------------------ */

/* Frames [a, a+c) of a stream with frames [0, end); cols = im2col rows of [e0, e1) (cl_decoder.h). Leaves
 * re/im of the c frames in st_re/st_im. The caller validated a, c, end. */
static enum eg_status device_window(struct eg_spectral *s, const float *cols, const float *add, int64_t a, int c,
                                    int64_t end) {
    const struct eg_codec_config *cfg = &s->m->cfg;
    const struct eg_cl_ops *o = &s->ops;
    const int dim = s->dim, ffn = s->ffn, kw = s->kw, k2 = s->k2, nb = s->nb;
    const int64_t xbase = a - s->R0;
    const int64_t e0 = a - s->R0 < 0 ? 0 : a - s->R0, e1 = a + c + s->R0 > end ? end : a + c + s->R0;
    const size_t last_row = (size_t)k2 + (size_t)c + 2 * (size_t)s->R0 + k2;   /* rows this window can read */
    const float eps = cfg->layer_norm_eps;
    enum eg_status st;
#define ROW(fr) ((size_t)(k2 + ((fr) - xbase)))
#define TRY(call) if ((st = (call)) != EG_OK) return st
#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS
    if (s->fault == EG_CL_FAULT_ENQUEUE && s->probed)   /* injected: every window after the self-test fails */
        return eg_cl_fail(s->cl, "clEnqueueNDRangeKernel (injected by EDGEGEN_CL_FAULT=enqueue)", CL_OUT_OF_RESOURCES);
#endif
    /* inputs: the im2col rows, and zero rows for every frame outside [e0, e1) the blocks may read */
    TRY(eg_cl_write(s->cl, s->d_cols, 0, (size_t)(e1 - e0) * s->n_cols * sizeof(float), cols));
    if (ROW(e0) > 0) TRY(eg_cl_write(s->cl, s->d_x, 0, ROW(e0) * dim * sizeof(float), s->zeros));
    if (ROW(e1) < last_row)
        TRY(eg_cl_write(s->cl, s->d_x, ROW(e1) * dim * sizeof(float), (last_row - ROW(e1)) * dim * sizeof(float), s->zeros));

    if (add) TRY(eg_cl_write(s->cl, s->d_h, 0, (size_t)(e1 - e0) * dim * sizeof(float), add));   /* d_h is free here */
    TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_x, ROW(e0) * dim), dim, eg_cl_at(s->d_cols, 0), s->n_cols,
                       eg_cl_at(s->d_embed_w, 0), s->n_cols, eg_cl_at(s->d_embed_b, 0), (int)(e1 - e0), dim, s->n_cols));
    if (add) TRY(eg_cl_add_f32(o, eg_cl_at(s->d_x, ROW(e0) * dim), eg_cl_at(s->d_x, ROW(e0) * dim), eg_cl_at(s->d_h, 0),
                               (int)(e1 - e0) * dim));
    TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_x, ROW(e0) * dim), dim, eg_cl_at(s->d_x, ROW(e0) * dim), dim,
                             eg_cl_at(s->d_norm_g, 0), eg_cl_at(s->d_norm_b, 0), (int)(e1 - e0), dim, eps));
    for (uint32_t l = 0; l < cfg->n_layers; l++) {
        const struct cl_block *d = &s->d_blk[l];
        const int64_t r = (int64_t)k2 * (cfg->n_layers - 1 - l);
        const int64_t o0 = a - r < 0 ? 0 : a - r, o1 = a + c + r > end ? end : a + c + r;
        const int n = (int)(o1 - o0);
        const struct eg_cl_view xo = eg_cl_at(s->d_x, ROW(o0) * dim);
        TRY(eg_cl_conv1d_dw_f32(o, eg_cl_at(s->d_h, 0), eg_cl_at(s->d_x, (ROW(o0) - k2) * dim), eg_cl_at(d->dw_w, 0),
                                eg_cl_at(d->dw_b, 0), n, dim, kw));
        TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_h, 0), dim, eg_cl_at(d->ln_g, 0),
                                 eg_cl_at(d->ln_b, 0), n, dim, eps));
        TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_f, 0), ffn, eg_cl_at(s->d_h, 0), dim, eg_cl_at(d->pw1_w, 0), dim,
                           eg_cl_at(d->pw1_b, 0), n, ffn, dim));
        TRY(eg_cl_gelu_f32(o, eg_cl_at(s->d_f, 0), eg_cl_at(s->d_f, 0), n * ffn));
        TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_f, 0), ffn, eg_cl_at(d->pw2_w, 0), ffn,
                           eg_cl_at(d->pw2_b, 0), n, dim, ffn));
        TRY(eg_cl_residual_gamma_f32(o, xo, eg_cl_at(s->d_h, 0), eg_cl_at(d->gamma, 0), n, dim));
    }
    TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_x, ROW(a) * dim), dim,
                             eg_cl_at(s->d_final_g, 0), eg_cl_at(s->d_final_b, 0), c, dim, eps));
    TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_o, 0), 2 * nb, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_head_w, 0), dim,
                       eg_cl_at(s->d_head_b, 0), c, 2 * nb, dim));
    TRY(eg_cl_spec_head_f32(o, s->d_mag, s->d_re, s->d_im, s->d_o, c, nb, cfg->mag_clamp));
    TRY(eg_cl_read(s->cl, s->d_re, 0, (size_t)c * nb * sizeof(float), s->st_re));
    TRY(eg_cl_read(s->cl, s->d_im, 0, (size_t)c * nb * sizeof(float), s->st_im));
#undef TRY
#undef ROW
    return EG_OK;
}

/* A device call failed (after one retry): strict → one error line and the status; auto → release the device,
 * one warning line (first time only), EG_ERR_UNSUPPORTED so the caller computes on the CPU. */
static enum eg_status device_failed(struct eg_spectral *s, enum eg_status st) {
    if (s->mode == EG_BACKEND_OPENCL) {
        EG_LOGE("OpenCL decoder stage failed (--device opencl is strict, no CPU fallback): %s", s->cl->why);
        return st;
    }
    if (!s->warned) EG_LOGW("OpenCL decoder stage failed, continuing on the CPU: %s", s->cl->why);
    s->warned = 1;
    snprintf(s->reason, sizeof s->reason, "dropped after a run-time failure: %s", s->cl->why);
    device_free(s);
    return EG_ERR_UNSUPPORTED;
}

/* Run a window, retrying once after clFinish (a transient CL_OUT_OF_RESOURCES, reliability.md §3.1). */
static enum eg_status window_retry(struct eg_spectral *s, const float *cols, const float *add, int64_t a, int c,
                                   int64_t end) {
    enum eg_status st = device_window(s, cols, add, a, c, end);
    if (st == EG_OK) return EG_OK;
    char first[256];
    snprintf(first, sizeof first, "%s", s->cl->why);
    eg_cl_finish(s->cl);
    st = device_window(s, cols, add, a, c, end);
    if (st != EG_OK) snprintf(s->cl->why, sizeof s->cl->why, "%s", first);
    return st;
}

enum eg_status eg_spectral_window(struct eg_spectral *s, const float *cols, const float *add, int64_t a, int c,
                                  int64_t end, float *spec, int ld) {
    if (!s || !s->use_device) return EG_ERR_UNSUPPORTED;
    if (!cols || !spec || c < 1 || c > s->max_frames || a < 0 || a + c > end || ld < 2 * s->nb) return EG_ERR_INVALID_ARG;
    enum eg_status st = window_retry(s, cols, add, a, c, end);
    if (st != EG_OK) return device_failed(s, st);
    for (int i = 0; i < c; i++) {
        float *row = spec + (size_t)i * ld;
        memcpy(row, s->st_re + (size_t)i * s->nb, sizeof(float) * s->nb);
        memcpy(row + s->nb, s->st_im + (size_t)i * s->nb, sizeof(float) * s->nb);
    }
    return EG_OK;
}

enum eg_status eg_spectral_run_device(struct eg_spectral *s, const float *values, int t, float *re, float *im) {
    if (!s || !s->cl) return EG_ERR_UNSUPPORTED;
    if (!values || !re || !im || t < 1 || t > s->max_frames) return EG_ERR_INVALID_ARG;
    im2col(s, values, t);
    enum eg_status st = device_window(s, s->cols, NULL, 0, t, t);
    if (st != EG_OK) return st;
    memcpy(re, s->st_re, sizeof(float) * (size_t)t * s->nb);
    memcpy(im, s->st_im, sizeof(float) * (size_t)t * s->nb);
    return EG_OK;
}

enum eg_status eg_spectral_run(struct eg_spectral *s, const float *values, int t, float *re, float *im) {
    if (!s || !values || !re || !im || t < 1 || t > s->max_frames) return EG_ERR_INVALID_ARG;
    if (s->use_device) {
        im2col(s, values, t);
        enum eg_status st = window_retry(s, s->cols, NULL, 0, t, t);
        if (st == EG_OK) {
            memcpy(re, s->st_re, sizeof(float) * (size_t)t * s->nb);
            memcpy(im, s->st_im, sizeof(float) * (size_t)t * s->nb);
            return EG_OK;
        }
        if ((st = device_failed(s, st)) != EG_ERR_UNSUPPORTED) return st;
    }
    return eg_spectral_run_cpu(s, values, t, re, im);
}

/* ---- placement ----------------------------------------------------------------------------------------------- */

/* Run both paths on a deterministic probe (FSQ values of random codes, as the decoder feeds), compare, time.
 * Device: the better of two runs (the first touches every buffer); CPU: the better of two (the first pages in
 * mapped weights). */
static enum eg_status probe(struct eg_spectral *s, char *why, size_t why_len) {
    const struct eg_codec_config *cfg = &s->m->cfg;
    const int t = s->max_frames < PROBE_FRAMES ? s->max_frames : PROBE_FRAMES, nb = s->nb;
    const size_t n = (size_t)t * nb;
    enum eg_status st = EG_ERR_NOMEM;
    float *v = malloc((size_t)t * s->lat * sizeof(float)), *out = malloc(4 * n * sizeof(float));
    if (!v || !out) { snprintf(why, why_len, "out of memory"); goto done; }
    uint32_t r = 12345u;
    for (int i = 0; i < t; i++)
        for (int d = 0; d < s->lat; d++) {
            const int lv = (int)cfg->fsq_levels[d], h = (lv - 1) / 2;
            r = r * 1664525u + 1013904223u;
            v[(size_t)i * s->lat + d] = (float)((int)((r >> 8) % (uint32_t)lv) - h) / (float)h;
        }
    float *re_c = out, *im_c = out + n, *re_d = out + 2 * n, *im_d = out + 3 * n;

    double dev_ms = 1e30, cpu_ms = 1e30;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = eg_cl_now_ms();
        if ((st = eg_spectral_run_device(s, v, t, re_d, im_d)) != EG_OK) { snprintf(why, why_len, "%s", s->cl->why); goto done; }
        double el = eg_cl_now_ms() - t0;
        if (el < dev_ms) dev_ms = el;
        t0 = eg_cl_now_ms();
        eg_spectral_run_cpu(s, v, t, re_c, im_c);
        el = eg_cl_now_ms() - t0;
        if (el < cpu_ms) cpu_ms = el;
    }
    double snr_re = eg_snr_db(re_c, re_d, n), snr_im = eg_snr_db(im_c, im_d, n);
    s->snr_db = snr_re < snr_im ? snr_re : snr_im;
    s->cpu_ms = cpu_ms;
    s->dev_ms = dev_ms;
    s->ratio = dev_ms > 0 ? cpu_ms / dev_ms : 0;
    s->probed = 1;
    if (s->snr_db < EG_SPECTRAL_MIN_SNR_DB) {
        snprintf(why, why_len, "wrong results on the self-test (SNR %.1f dB < %.0f dB vs the CPU)", s->snr_db,
                 EG_SPECTRAL_MIN_SNR_DB);
        st = EG_ERR_DEVICE;
    }
done:
    free(v);
    free(out);
    return st;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* ---- the placement verdict cache ------------------------------------------------------------------------------
 * reliability.md §3.1 "cache the verdict": an AUTO decision "correct, but the CPU is faster" is remembered per
 * (OpenCL platforms/devices/drivers as listed, EDGEGEN_CL_DEVICE, edgegen version, model shape and matrix types,
 * CPU table, threads, probe size), so later runs skip the device build, upload and probe (~0.4 s on PoCL).
 * Only that verdict is cached: a device that would be used is self-tested on every creation, and failures are
 * not cached (they warn every time). Read and written only in plain AUTO runs (no EDGEGEN_CL_FAULT, no
 * EDGEGEN_CL_MIN_RATIO); EDGEGEN_CL_CACHE=off disables it; delete $XDG_CACHE_HOME/edgegen/placement-*.txt
 * (or ~/.cache/edgegen/...) to measure again. Entries: "EGPL1 ratio snr cpu_ms dev_ms\nreason\n". */
static int verdict_path(const struct eg_spectral *s, char *path, size_t len) {
    const char *off = getenv("EDGEGEN_CL_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *dev = getenv("EDGEGEN_CL_DEVICE");
    const struct eg_codec_config *c = &s->m->cfg;
    char list[4096], base[400], key[256];
    if ((off && (!strcmp(off, "off") || !strcmp(off, "0"))) || s->fault != EG_CL_FAULT_NONE || getenv("EDGEGEN_CL_MIN_RATIO"))
        return 0;
    if (xdg && *xdg) snprintf(base, sizeof base, "%s", xdg);
    else if (home && *home) snprintf(base, sizeof base, "%s/.cache", home);
    else return 0;
    /* the installed drivers, fingerprinted without loading them: a cached "CPU faster" verdict must not cost the
     * ICD loader and driver start-up (PoCL maps LLVM: ~65 MiB of RSS and ~0.1 s) it exists to avoid */
    if (!eg_cl_icd_fingerprint(list, sizeof list)) return 0;
    snprintf(key, sizeof key, "|%s|%s|%u %u %u %u %u %u|%s %s %s|%s x%d|%d", dev ? dev : "", EDGEGEN_VERSION, c->dim,
             c->ffn_dim, c->n_layers, c->kernel_size, c->latent_dim, c->n_fft, eg_dtype_name(s->m->w.blocks[0].pw1.type),
             eg_dtype_name(s->m->w.blocks[0].pw2.type), eg_dtype_name(s->m->w.head.type), s->ex->k.name,
             s->ex->n_threads, s->max_frames < PROBE_FRAMES ? s->max_frames : PROBE_FRAMES);
    uint64_t h = 1469598103934665603ull;   /* FNV-1a 64 */
    for (const char *p = list; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return snprintf(path, len, "%s/edgegen/placement-%016llx.txt", base, (unsigned long long)h) < (int)len;
}

/* 1 when a cached "CPU faster" verdict was found and applied to s. */
static int verdict_load(struct eg_spectral *s, const char *path) {
    FILE *f = fopen(path, "r");
    char reason[sizeof s->reason];
    int ok = 0;
    if (!f) return 0;
    if (fscanf(f, "EGPL1 %lf %lf %lf %lf\n", &s->ratio, &s->snr_db, &s->cpu_ms, &s->dev_ms) == 4 &&
        fgets(reason, sizeof reason, f) && strlen(reason) > 1) {
        reason[strcspn(reason, "\n")] = 0;
        snprintf(s->reason, sizeof s->reason, "%.300s [cached verdict]", reason);
        ok = 1;
    }
    fclose(f);
    return ok;
}

static void verdict_store(const struct eg_spectral *s, const char *path) {
    char dir[600], tmp[640];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = 0;
    char *up = strrchr(dir, '/');
    if (up) { *up = 0; mkdir(dir, 0700); *up = '/'; }   /* $XDG_CACHE_HOME or ~/.cache may not exist yet */
    mkdir(dir, 0700);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    int ok = fprintf(f, "EGPL1 %.6g %.6g %.6g %.6g\n%s\n", s->ratio, s->snr_db, s->cpu_ms, s->dev_ms, s->reason) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

static struct eg_spectral *create(const struct eg_codec_model *m, struct eg_exec *ex, int max_frames,
                                  enum eg_backend mode, int use_cache, enum eg_status *err);

struct eg_spectral *eg_spectral_create(const struct eg_codec_model *m, struct eg_exec *ex, int max_frames,
                                       enum eg_backend mode, enum eg_status *err) {
    return create(m, ex, max_frames, mode, 1, err);
}

static struct eg_spectral *create(const struct eg_codec_model *m, struct eg_exec *ex, int max_frames,
                                  enum eg_backend mode, int use_cache, enum eg_status *err) {
    enum eg_status st;
    char why[256] = "";
    if (!m || !ex || ex->n_threads < 1 || max_frames < 1 || max_frames > (1 << 16) ||
        (mode != EG_BACKEND_AUTO && mode != EG_BACKEND_CPU && mode != EG_BACKEND_OPENCL)) {
        EG_LOGE("OpenCL decoder stage: invalid arguments (max_frames %d)", max_frames);
        *err = EG_ERR_INVALID_ARG;
        return NULL;
    }
    struct eg_spectral *s = calloc(1, sizeof *s);
    if (!s) { *err = EG_ERR_NOMEM; return NULL; }
    const struct eg_codec_config *c = &m->cfg;
    s->m = m; s->ex = ex; s->mode = mode; s->max_frames = max_frames;
    s->k2 = (int)c->kernel_size / 2;
    s->R0 = s->k2 * (int)c->n_layers;
    s->n_win = max_frames + 2 * s->R0;
    s->dim = (int)c->dim; s->ffn = (int)c->ffn_dim; s->kw = (int)c->kernel_size; s->lat = (int)c->latent_dim;
    s->nb = (int)c->n_fft / 2 + 1;
    s->n_cols = s->kw * s->lat;
    s->fault = eg_cl_fault_from_env();

    size_t lin = 0;
    for (uint32_t i = 0; i < c->n_layers; i++) {
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.blocks[i].pw1.type, m->w.blocks[i].pw1.n_in));
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.blocks[i].pw2.type, m->w.blocks[i].pw2.n_in));
    }
    lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.head.type, m->w.head.n_in));
    const size_t T = (size_t)max_frames, dim = s->dim, nb = s->nb, pad_rows = 2 * (size_t)s->k2;
    const size_t sizes[] = { T * s->n_cols, (T + pad_rows) * dim, T * dim, T * s->ffn, T * 2 * nb, 3 * nb,
                             max_sz(lin, 1), ((size_t)s->n_win + pad_rows) * dim, T * nb, T * nb };
    float **ptrs[] = { &s->cols, &s->xp, &s->h, &s->f, &s->o, &s->row_tmp, &s->lin_scratch, &s->zeros, &s->st_re, &s->st_im };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += (sizes[i] + 15) & ~(size_t)15;
    s->host_mem = calloc(total, sizeof(float));
    if (!s->host_mem) { free(s); *err = EG_ERR_NOMEM; return NULL; }
    float *p = s->host_mem;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) { *ptrs[i] = p; p += (sizes[i] + 15) & ~(size_t)15; }

    if (mode == EG_BACKEND_CPU) {
        snprintf(s->reason, sizeof s->reason, "CPU requested (--device cpu)");
        *err = EG_OK;
        return s;
    }
    char vpath[600];
    const int cache = use_cache && mode == EG_BACKEND_AUTO && verdict_path(s, vpath, sizeof vpath);
    if (cache && verdict_load(s, vpath)) {
        EG_LOGI("decoder stage: %s", s->reason);
        *err = EG_OK;
        return s;
    }
    st = device_init(s, why, sizeof why);
    if (st == EG_OK && (st = probe(s, why, sizeof why)) != EG_OK) device_free(s);
    if (st != EG_OK) {
        if (mode == EG_BACKEND_OPENCL) {
            EG_LOGE("OpenCL decoder stage unusable (--device opencl is strict, no CPU fallback): %s", why);
            eg_spectral_destroy(s);
            *err = st;
            return NULL;
        }
        snprintf(s->reason, sizeof s->reason, "not usable: %s", why);
        if (st == EG_ERR_UNSUPPORTED) {   /* no OpenCL here at all: normal on most devices, not a warning */
            EG_LOGI("decoder stage on the CPU: no OpenCL (%s)", why);
        } else {
            EG_LOGW("OpenCL decoder stage not used, running on the CPU: %s", why);
            s->warned = 1;
        }
        *err = EG_OK;
        return s;
    }
    const struct eg_cl_device_info *d = &s->cl->dev;
    const char *min_env = getenv("EDGEGEN_CL_MIN_RATIO");
    const double min_ratio = min_env && *min_env ? atof(min_env) : 1.0;
    if (mode == EG_BACKEND_OPENCL || s->ratio > min_ratio) {
        s->use_device = 1;
        snprintf(s->reason, sizeof s->reason, "%s / %s: correct (probe SNR %.0f dB), used (%s; CPU %s x%d %.2f ms vs "
                 "device %.2f ms per %d frames, ratio %.2f)", d->platform_short, d->name, s->snr_db,
                 mode == EG_BACKEND_OPENCL ? "--device opencl" : s->ratio > 1.0 ? "device faster" : "EDGEGEN_CL_MIN_RATIO",
                 ex->k.name, ex->n_threads, s->cpu_ms, s->dev_ms,
                 max_frames < PROBE_FRAMES ? max_frames : PROBE_FRAMES, s->ratio);
    } else {
        snprintf(s->reason, sizeof s->reason, "%s / %s: correct (probe SNR %.0f dB), not used — CPU faster (CPU %s x%d "
                 "%.2f ms vs device %.2f ms per %d frames, ratio %.2f < %.2f)", d->platform_short, d->name, s->snr_db,
                 ex->k.name, ex->n_threads, s->cpu_ms, s->dev_ms, max_frames < PROBE_FRAMES ? max_frames : PROBE_FRAMES,
                 s->ratio, min_ratio);
        device_free(s);   /* keep no device memory we will not use */
        if (cache) verdict_store(s, vpath);
    }
    EG_LOGI("decoder stage: %s", s->reason);
    *err = EG_OK;
    return s;
}

void eg_spectral_destroy(struct eg_spectral *s) {
    if (!s) return;
    device_free(s);
    free(s->host_mem);
    free(s);
}

int eg_spectral_on_device(const struct eg_spectral *s) { return s && s->use_device; }
const char *eg_spectral_reason(const struct eg_spectral *s) { return s->reason; }
double eg_spectral_ratio(const struct eg_spectral *s) { return s->ratio; }
double eg_spectral_snr_db(const struct eg_spectral *s) { return s->snr_db; }
int eg_spectral_max_frames(const struct eg_spectral *s) { return s->max_frames; }
void eg_spectral_probe_ms(const struct eg_spectral *s, double *cpu_ms, double *device_ms) {
    if (cpu_ms) *cpu_ms = s->cpu_ms;
    if (device_ms) *device_ms = s->dev_ms;
}

/* ---- edgegen info ---------------------------------------------------------------------------------------- */

static void lin_f32(struct eg_linear *l, const float *w, const float *b, int n_out, int n_in) {
    l->type = EG_DTYPE_F32; l->w = w; l->b = b; l->n_out = n_out; l->n_in = n_in;
    l->row_bytes = (size_t)n_in * sizeof(float);
}

void eg_cl_describe(char *buf, size_t len, struct eg_exec *ex_in) {
    if (!len) return;
    eg_cl_list_devices(buf, len);
    size_t used = strlen(buf);
    if (!strstr(buf, "device(s)")) return;   /* no loader / no platform: the listing already says why */
    struct eg_exec own = {0};
    struct eg_exec *ex = ex_in;
    if (!ex) {   /* as `edgegen decode` by default: best table, online cores (at most 4) */
        struct eg_cpu cpu;
        eg_cpu_detect(&cpu);
        const int th = cpu.n_cores_online < 1 ? 1 : cpu.n_cores_online > 4 ? 4 : cpu.n_cores_online;
        if (eg_exec_init(&own, EG_ISA_AUTO, th) != EG_OK && eg_exec_init(&own, EG_ISA_REF, 1) != EG_OK) return;
        ex = &own;
    }
    /* a default-sized decoder (codec_model.py DEFAULT_CONFIG) with small random f32 weights */
    enum { DIM = 256, FFN = 768, NL = 6, KW = 7, LAT = 5, NFFT = 1024 };
    struct eg_codec_model m;
    struct eg_codec_block blk[NL];
    memset(&m, 0, sizeof m);
    m.cfg = (struct eg_codec_config){ .sample_rate_hz = 16000, .hop = 320, .n_fft = NFFT, .latent_dim = LAT,
                                      .fsq_levels = { 7, 5, 5, 5, 5 }, .n_codes = 4375, .dim = DIM, .ffn_dim = FFN,
                                      .n_layers = NL, .kernel_size = KW, .layer_norm_eps = 1e-6f, .mag_clamp = 100.0f };
    const size_t n_blk = (size_t)DIM * KW + 5 * DIM + 2 * (size_t)FFN * DIM + FFN;
    const size_t n_all = (size_t)DIM * LAT * KW + 5 * DIM + NL * n_blk + (size_t)(NFFT + 2) * (DIM + 1);
    float *mem = malloc(n_all * sizeof(float)), *p = mem;
    if (!mem) { eg_exec_free(&own); return; }
    uint32_t r = 7u;
    for (size_t i = 0; i < n_all; i++) { r = r * 1664525u + 1013904223u; mem[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.1f; }
#define TAKE(n) (p += (n), p - (n))
    const float *ew = TAKE((size_t)DIM * LAT * KW), *eb = TAKE(DIM);
    lin_f32(&m.w.embed, ew, eb, DIM, LAT * KW);
    m.w.norm_w = TAKE(DIM); m.w.norm_b = TAKE(DIM); m.w.final_norm_w = TAKE(DIM); m.w.final_norm_b = TAKE(DIM);
    for (int b = 0; b < NL; b++) {
        blk[b].dw_w = TAKE((size_t)DIM * KW); blk[b].dw_b = TAKE(DIM); blk[b].norm_w = TAKE(DIM);
        blk[b].norm_b = TAKE(DIM); blk[b].gamma = TAKE(DIM);
        const float *w1 = TAKE((size_t)FFN * DIM), *b1 = TAKE(FFN), *w2 = TAKE((size_t)FFN * DIM);
        lin_f32(&blk[b].pw1, w1, b1, FFN, DIM);
        lin_f32(&blk[b].pw2, w2, blk[b].dw_b, DIM, FFN);
    }
    const float *hw = TAKE((size_t)(NFFT + 2) * DIM), *hb = TAKE(NFFT + 2);
    lin_f32(&m.w.head, hw, hb, NFFT + 2, DIM);
#undef TAKE
    m.w.blocks = blk;
    enum eg_status st;
    struct eg_spectral *s = create(&m, ex, 50, EG_BACKEND_AUTO, 0, &st);   /* measured now, not cached */
    if (used < len) {
        if (!s) snprintf(buf + used, len - used, "OpenCL:    decoder stage: %s\n", eg_status_str(st));
        else snprintf(buf + used, len - used, "OpenCL:    decoder stage vs CPU table %s (%d thread%s): %s\n", ex->k.name,
                      ex->n_threads, ex->n_threads == 1 ? "" : "s", eg_spectral_reason(s));
    }
    eg_spectral_destroy(s);
    free(mem);
    eg_exec_free(&own);
}
