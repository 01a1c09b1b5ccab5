/* opencl/cl_decoder.c — the decoder spectral stage on the CPU kernel table and on an OpenCL device, and the
 * placement between them (see cl_decoder.h). The maths is models/train/codec_model.py Decoder.spectral:
 *
 *   x = LayerNorm(Conv1d_embed(values))                        Conv1d as im2col + gemm (weight [dim][latent*kw])
 *   per block: h = dwconv(x) → LayerNorm → Linear dim→ffn → GELU → Linear ffn→dim;  x += gamma * h
 *   o = Linear_head(LayerNorm(x)) = [log-mag | phase];  mag = min(exp(log-mag), clamp);  re/im = mag*cos/sin
 *
 * The residual stream x lives in a zero-padded buffer [pad + t + pad][dim] (pad = kw/2) so the depthwise conv
 * reads its padding rows directly (simd/kernels.h conv1d_dw_f32 contract). The CPU path and the device path
 * issue the same sequence of ops, so they differ only in summation blocking and libm vs OpenCL builtins.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cl_decoder.h"
#include "cl_ops.h"
#include "cpu.h"
#include "dispatch.h"
#include "internal.h"

#define PROBE_FRAMES 24

struct cl_block { cl_mem dw_w, dw_b, ln_g, ln_b, pw1_w, pw1_b, pw2_w, pw2_b, gamma; };

struct eg_spectral {
    struct eg_spectral_weights w;        /* sizes; pointers valid only during create */
    const struct eg_kernels *k;
    enum eg_backend mode;
    int max_frames, pad, nb, n_col;      /* nb = n_fft/2 + 1, n_col = latent*kw */

    /* CPU: own copies of what the CPU path needs after create (weights are borrowed only during create) */
    float *cpu_mem;                      /* one allocation for everything below */
    float *embed_w, *embed_b, *norm_g, *norm_b, *final_g, *final_b, *head_w, *head_b;
    float *blk;                          /* per block: dwT [kw][dim], dw_b, ln_g, ln_b, pw1_w, pw1_b, pw2_w, pw2_b, gamma */
    size_t blk_floats;
    float *xp, *col, *h, *f, *o;         /* activations */

    /* device */
    struct eg_cl *cl;
    struct eg_cl_ops ops;
    cl_mem d_embed_w, d_embed_b, d_norm_g, d_norm_b, d_final_g, d_final_b, d_head_w, d_head_b;
    struct cl_block *d_blk;
    cl_mem d_vals, d_col, d_xp, d_h, d_f, d_o, d_mag, d_re, d_im;
    int use_device, warned, probed;
    enum eg_cl_fault fault;

    double ratio, snr_db;
    char reason[320];
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

enum eg_backend eg_backend_from_env(enum eg_backend dflt) {
    const char *s = getenv("EDGEGEN_BACKEND");
    if (!s) return dflt;
    if (!strcmp(s, "cpu")) return EG_BACKEND_CPU;
    if (!strcmp(s, "opencl")) return EG_BACKEND_OPENCL;
    if (!strcmp(s, "auto")) return EG_BACKEND_AUTO;
    return dflt;
}

/* ---- CPU path ------------------------------------------------------------------------------------------- */

/* block b's copies: dwT [kw][dim], dw_b, ln_g, ln_b [dim], pw1_w [ffn][dim], pw1_b [ffn], pw2_w [dim][ffn],
 * pw2_b, gamma [dim] */
#define BLK_DWT(s, b)   ((s)->blk + (size_t)(b) * (s)->blk_floats)
#define BLK_DWB(s, b)   (BLK_DWT(s, b) + (size_t)(s)->w.kernel_size * (s)->w.dim)
#define BLK_LNG(s, b)   (BLK_DWB(s, b) + (s)->w.dim)
#define BLK_LNB(s, b)   (BLK_LNG(s, b) + (s)->w.dim)
#define BLK_PW1W(s, b)  (BLK_LNB(s, b) + (s)->w.dim)
#define BLK_PW1B(s, b)  (BLK_PW1W(s, b) + (size_t)(s)->w.ffn_dim * (s)->w.dim)
#define BLK_PW2W(s, b)  (BLK_PW1B(s, b) + (s)->w.ffn_dim)
#define BLK_PW2B(s, b)  (BLK_PW2W(s, b) + (size_t)(s)->w.ffn_dim * (s)->w.dim)
#define BLK_GAMMA(s, b) (BLK_PW2B(s, b) + (s)->w.dim)

enum eg_status eg_spectral_run_cpu(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im) {
    const struct eg_kernels *k = s->k;
    const int dim = s->w.dim, ffn = s->w.ffn_dim, kw = s->w.kernel_size, lat = s->w.latent_dim, nb = s->nb;
    const float eps = s->w.eps;
    if (t < 1 || t > s->max_frames) return EG_ERR_INVALID_ARG;
    float *x = s->xp + (size_t)s->pad * dim;            /* row 0 of the residual stream */
    memset(x + (size_t)t * dim, 0, (size_t)s->pad * dim * sizeof(float));   /* right padding for this t */

    for (int i = 0; i < t; i++)                          /* im2col: col[i][ci*kw + j] = v[i + j - pad][ci] */
        for (int ci = 0; ci < lat; ci++)
            for (int j = 0; j < kw; j++) {
                int src = i + j - s->pad;
                s->col[(size_t)i * s->n_col + ci * kw + j] = src >= 0 && src < t ? values[(size_t)src * lat + ci] : 0.0f;
            }
    k->gemm_f32(x, dim, s->col, s->n_col, s->embed_w, s->n_col, s->embed_b, t, dim, s->n_col);
    k->layer_norm_f32(x, x, s->norm_g, s->norm_b, t, dim, eps);
    for (int b = 0; b < s->w.n_layers; b++) {
        k->conv1d_dw_f32(s->h, s->xp, BLK_DWT(s, b), BLK_DWB(s, b), t, dim, kw);
        k->layer_norm_f32(s->h, s->h, BLK_LNG(s, b), BLK_LNB(s, b), t, dim, eps);
        k->gemm_f32(s->f, ffn, s->h, dim, BLK_PW1W(s, b), dim, BLK_PW1B(s, b), t, ffn, dim);
        k->gelu_f32(s->f, s->f, t * ffn);
        k->gemm_f32(s->h, dim, s->f, ffn, BLK_PW2W(s, b), ffn, BLK_PW2B(s, b), t, dim, ffn);
        for (int i = 0; i < t; i++) {
            float *hr = s->h + (size_t)i * dim;
            k->mul_f32(hr, hr, BLK_GAMMA(s, b), dim);
            k->add_f32(x + (size_t)i * dim, x + (size_t)i * dim, hr, dim);
        }
    }
    k->layer_norm_f32(s->h, x, s->final_g, s->final_b, t, dim, eps);
    k->gemm_f32(s->o, 2 * nb, s->h, dim, s->head_w, dim, s->head_b, t, 2 * nb, dim);
    for (int i = 0; i < t; i++) {
        float *lm = s->o + (size_t)i * 2 * nb, *ph = lm + nb;
        float *m = s->f, *sn = s->f + nb, *cs = s->f + 2 * nb;   /* ffn >= 3*nb is not guaranteed: see create */
        k->exp_f32(m, lm, nb);
        for (int j = 0; j < nb; j++) m[j] = fminf(m[j], s->w.mag_clamp);
        k->sincos_f32(sn, cs, ph, nb);
        k->mul_f32(re + (size_t)i * nb, m, cs, nb);
        k->mul_f32(im + (size_t)i * nb, m, sn, nb);
        if (mag) memcpy(mag + (size_t)i * nb, m, (size_t)nb * sizeof(float));
    }
    return EG_OK;
}

/* ---- device path ---------------------------------------------------------------------------------------- */

static enum eg_status upload(struct eg_spectral *s, cl_mem *m, const float *src, size_t n) {
    return eg_cl_buffer(s->cl, m, n * sizeof(float), src);
}

static void device_free(struct eg_spectral *s) {
    if (!s->cl) return;
    cl_mem *ms[] = { &s->d_embed_w, &s->d_embed_b, &s->d_norm_g, &s->d_norm_b, &s->d_final_g, &s->d_final_b,
                     &s->d_head_w, &s->d_head_b, &s->d_vals, &s->d_col, &s->d_xp, &s->d_h, &s->d_f, &s->d_o,
                     &s->d_mag, &s->d_re, &s->d_im };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) eg_cl_release(s->cl, ms[i]);
    if (s->d_blk) {
        for (int b = 0; b < s->w.n_layers; b++) {
            struct cl_block *d = &s->d_blk[b];
            cl_mem *bm[] = { &d->dw_w, &d->dw_b, &d->ln_g, &d->ln_b, &d->pw1_w, &d->pw1_b, &d->pw2_w, &d->pw2_b, &d->gamma };
            for (size_t i = 0; i < sizeof bm / sizeof bm[0]; i++) eg_cl_release(s->cl, bm[i]);
        }
        free(s->d_blk);
        s->d_blk = NULL;
    }
    eg_cl_ops_release(&s->ops);
    eg_cl_destroy(s->cl);
    s->cl = NULL;
    s->use_device = 0;
}

/* Upload weights (from the CPU copies) and allocate activations for max_frames. */
static enum eg_status device_init(struct eg_spectral *s, char *why, size_t why_len) {
    const int dim = s->w.dim, ffn = s->w.ffn_dim, kw = s->w.kernel_size, T = s->max_frames, nb = s->nb;
    enum eg_status st = eg_cl_create(&s->cl, NULL, why, why_len);
    if (st != EG_OK) return st;
    st = eg_cl_ops_init(&s->ops, s->cl);
    if (st != EG_OK) goto fail;
    s->d_blk = calloc((size_t)s->w.n_layers, sizeof *s->d_blk);
    if (!s->d_blk) { st = EG_ERR_NOMEM; snprintf(s->cl->why, sizeof s->cl->why, "out of memory"); goto fail; }
#define UP(m, p, n) if ((st = upload(s, &(m), (p), (n))) != EG_OK) goto fail
    UP(s->d_embed_w, s->embed_w, (size_t)dim * s->n_col);
    UP(s->d_embed_b, s->embed_b, dim);
    UP(s->d_norm_g, s->norm_g, dim);
    UP(s->d_norm_b, s->norm_b, dim);
    for (int b = 0; b < s->w.n_layers; b++) {
        struct cl_block *d = &s->d_blk[b];
        UP(d->dw_w, BLK_DWT(s, b), (size_t)kw * dim);
        UP(d->dw_b, BLK_DWB(s, b), dim);
        UP(d->ln_g, BLK_LNG(s, b), dim);
        UP(d->ln_b, BLK_LNB(s, b), dim);
        UP(d->pw1_w, BLK_PW1W(s, b), (size_t)ffn * dim);
        UP(d->pw1_b, BLK_PW1B(s, b), ffn);
        UP(d->pw2_w, BLK_PW2W(s, b), (size_t)dim * ffn);
        UP(d->pw2_b, BLK_PW2B(s, b), dim);
        UP(d->gamma, BLK_GAMMA(s, b), dim);
    }
    UP(s->d_final_g, s->final_g, dim);
    UP(s->d_final_b, s->final_b, dim);
    UP(s->d_head_w, s->head_w, (size_t)2 * nb * dim);
    UP(s->d_head_b, s->head_b, (size_t)2 * nb);
    /* activations; the padded residual buffer starts zeroed (its left padding rows are never written) */
    UP(s->d_xp, s->xp, (size_t)(T + 2 * s->pad) * dim);
#undef UP
#define ALLOC(m, n) if ((st = eg_cl_buffer(s->cl, &(m), (size_t)(n) * sizeof(float), NULL)) != EG_OK) goto fail
    ALLOC(s->d_vals, (size_t)T * s->w.latent_dim);
    ALLOC(s->d_col, (size_t)T * s->n_col);
    ALLOC(s->d_h, (size_t)T * dim);
    ALLOC(s->d_f, (size_t)T * ffn);
    ALLOC(s->d_o, (size_t)T * 2 * nb);
    ALLOC(s->d_mag, (size_t)T * nb);
    ALLOC(s->d_re, (size_t)T * nb);
    ALLOC(s->d_im, (size_t)T * nb);
#undef ALLOC
    return EG_OK;
fail:
    snprintf(why, why_len, "%s", s->cl->why);
    device_free(s);
    return st;
}

enum eg_status eg_spectral_run_device(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im) {
    const int dim = s->w.dim, ffn = s->w.ffn_dim, kw = s->w.kernel_size, nb = s->nb;
    const struct eg_cl_ops *o = &s->ops;
    enum eg_status st;
    if (!s->cl) return EG_ERR_UNSUPPORTED;
    if (t < 1 || t > s->max_frames) return EG_ERR_INVALID_ARG;
    if (s->fault == EG_CL_FAULT_ENQUEUE && s->probed)   /* injected: every run after the self-test fails */
        return eg_cl_fail(s->cl, "clEnqueueNDRangeKernel (injected by EDGEGEN_CL_FAULT=enqueue)", CL_OUT_OF_RESOURCES);
    const size_t xo = (size_t)s->pad * dim;                 /* row 0 of the residual stream in d_xp */
    const struct eg_cl_view none = EG_CL_NONE;
#define TRY(call) if ((st = (call)) != EG_OK) return st
    TRY(eg_cl_write(s->cl, s->d_vals, 0, (size_t)t * s->w.latent_dim * sizeof(float), values));
    /* zero the right padding rows for this t (a longer earlier run may have left data there) */
    TRY(eg_cl_write(s->cl, s->d_xp, (xo + (size_t)t * dim) * sizeof(float), (size_t)s->pad * dim * sizeof(float),
                    s->xp + (size_t)(s->max_frames + s->pad) * dim));
    TRY(eg_cl_im2col_f32(o, eg_cl_at(s->d_col, 0), eg_cl_at(s->d_vals, 0), t, s->w.latent_dim, kw, s->pad));
    TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_xp, xo), dim, eg_cl_at(s->d_col, 0), s->n_col, eg_cl_at(s->d_embed_w, 0),
                       s->n_col, eg_cl_at(s->d_embed_b, 0), t, dim, s->n_col));
    TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_xp, xo), dim, eg_cl_at(s->d_xp, xo), dim, eg_cl_at(s->d_norm_g, 0),
                             eg_cl_at(s->d_norm_b, 0), t, dim, s->w.eps));
    for (int b = 0; b < s->w.n_layers; b++) {
        const struct cl_block *d = &s->d_blk[b];
        TRY(eg_cl_conv1d_dw_f32(o, eg_cl_at(s->d_h, 0), eg_cl_at(s->d_xp, 0), eg_cl_at(d->dw_w, 0),
                                eg_cl_at(d->dw_b, 0), t, dim, kw));
        TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_h, 0), dim, eg_cl_at(d->ln_g, 0),
                                 eg_cl_at(d->ln_b, 0), t, dim, s->w.eps));
        TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_f, 0), ffn, eg_cl_at(s->d_h, 0), dim, eg_cl_at(d->pw1_w, 0), dim,
                           eg_cl_at(d->pw1_b, 0), t, ffn, dim));
        TRY(eg_cl_gelu_f32(o, eg_cl_at(s->d_f, 0), eg_cl_at(s->d_f, 0), t * ffn));
        TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_f, 0), ffn, eg_cl_at(d->pw2_w, 0), ffn,
                           eg_cl_at(d->pw2_b, 0), t, dim, ffn));
        TRY(eg_cl_residual_gamma_f32(o, eg_cl_at(s->d_xp, xo), eg_cl_at(s->d_h, 0), eg_cl_at(d->gamma, 0), t, dim));
    }
    TRY(eg_cl_layer_norm_f32(o, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_xp, xo), dim, eg_cl_at(s->d_final_g, 0),
                             eg_cl_at(s->d_final_b, 0), t, dim, s->w.eps));
    TRY(eg_cl_gemm_f32(o, eg_cl_at(s->d_o, 0), 2 * nb, eg_cl_at(s->d_h, 0), dim, eg_cl_at(s->d_head_w, 0), dim,
                       eg_cl_at(s->d_head_b, 0), t, 2 * nb, dim));
    TRY(eg_cl_spec_head_f32(o, s->d_mag, s->d_re, s->d_im, s->d_o, t, nb, s->w.mag_clamp));
    TRY(eg_cl_read(s->cl, s->d_re, 0, (size_t)t * nb * sizeof(float), re));
    TRY(eg_cl_read(s->cl, s->d_im, 0, (size_t)t * nb * sizeof(float), im));
    if (mag) TRY(eg_cl_read(s->cl, s->d_mag, 0, (size_t)t * nb * sizeof(float), mag));
#undef TRY
    (void)none;
    return EG_OK;
}

/* ---- placement ------------------------------------------------------------------------------------------ */

/* Run both paths on a deterministic probe input (values in [-1, 1] like FSQ outputs), compare, time. */
static enum eg_status probe(struct eg_spectral *s, char *why, size_t why_len) {
    const int t = s->max_frames < PROBE_FRAMES ? s->max_frames : PROBE_FRAMES, nb = s->nb;
    const size_t n = (size_t)t * nb;
    enum eg_status st = EG_ERR_NOMEM;
    float *v = malloc((size_t)t * s->w.latent_dim * sizeof(float)), *out = malloc(4 * n * sizeof(float));
    if (!v || !out) { snprintf(why, why_len, "out of memory"); goto done; }
    uint32_t r = 12345u;
    for (size_t i = 0; i < (size_t)t * s->w.latent_dim; i++) { r = r * 1664525u + 1013904223u; v[i] = (float)(int)(r >> 29) / 3.5f - 1.0f; }
    float *re_c = out, *im_c = out + n, *re_d = out + 2 * n, *im_d = out + 3 * n;

    double t0 = eg_cl_now_ms();
    st = eg_spectral_run_device(s, v, t, NULL, re_d, im_d);          /* first run: touches every buffer */
    if (st != EG_OK) { snprintf(why, why_len, "%s", s->cl->why); goto done; }
    double dev_ms = eg_cl_now_ms() - t0;
    t0 = eg_cl_now_ms();
    st = eg_spectral_run_device(s, v, t, NULL, re_d, im_d);
    if (st != EG_OK) { snprintf(why, why_len, "%s", s->cl->why); goto done; }
    double d2 = eg_cl_now_ms() - t0;
    if (d2 < dev_ms) dev_ms = d2;
    t0 = eg_cl_now_ms();
    eg_spectral_run_cpu(s, v, t, NULL, re_c, im_c);
    double cpu_ms = eg_cl_now_ms() - t0;

    double snr_re = eg_snr_db(re_c, re_d, n), snr_im = eg_snr_db(im_c, im_d, n);
    s->snr_db = snr_re < snr_im ? snr_re : snr_im;
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

/* Copy the weights the CPU path needs (transposing the depthwise kernel to [kw][dim]). */
static void copy_weights(struct eg_spectral *s, const struct eg_spectral_weights *w) {
    const int dim = w->dim, ffn = w->ffn_dim, kw = w->kernel_size, nb = s->nb;
    memcpy(s->embed_w, w->embed_w, (size_t)dim * s->n_col * sizeof(float));
    memcpy(s->embed_b, w->embed_b, (size_t)dim * sizeof(float));
    memcpy(s->norm_g, w->norm_g, (size_t)dim * sizeof(float));
    memcpy(s->norm_b, w->norm_b, (size_t)dim * sizeof(float));
    memcpy(s->final_g, w->final_g, (size_t)dim * sizeof(float));
    memcpy(s->final_b, w->final_b, (size_t)dim * sizeof(float));
    memcpy(s->head_w, w->head_w, (size_t)2 * nb * dim * sizeof(float));
    memcpy(s->head_b, w->head_b, (size_t)2 * nb * sizeof(float));
    for (int b = 0; b < w->n_layers; b++) {
        const struct eg_spectral_block_weights *bw = &w->blocks[b];
        for (int j = 0; j < kw; j++)
            for (int c = 0; c < dim; c++) BLK_DWT(s, b)[(size_t)j * dim + c] = bw->dw_w[(size_t)c * kw + j];
        memcpy(BLK_DWB(s, b), bw->dw_b, (size_t)dim * sizeof(float));
        memcpy(BLK_LNG(s, b), bw->ln_g, (size_t)dim * sizeof(float));
        memcpy(BLK_LNB(s, b), bw->ln_b, (size_t)dim * sizeof(float));
        memcpy(BLK_PW1W(s, b), bw->pw1_w, (size_t)ffn * dim * sizeof(float));
        memcpy(BLK_PW1B(s, b), bw->pw1_b, (size_t)ffn * sizeof(float));
        memcpy(BLK_PW2W(s, b), bw->pw2_w, (size_t)dim * ffn * sizeof(float));
        memcpy(BLK_PW2B(s, b), bw->pw2_b, (size_t)dim * sizeof(float));
        memcpy(BLK_GAMMA(s, b), bw->gamma, (size_t)dim * sizeof(float));
    }
}

struct eg_spectral *eg_spectral_create(const struct eg_spectral_weights *w, const struct eg_kernels *k,
                                       int max_frames, enum eg_backend mode, enum eg_status *err) {
    enum eg_status st;
    char why[256] = "";
    if (!w || !k || max_frames < 1 || max_frames > (1 << 20) || w->dim < 1 || w->ffn_dim < 1 || w->latent_dim < 1 ||
        w->n_layers < 0 || w->kernel_size < 1 || !(w->kernel_size & 1) || w->n_fft < 2 || (w->n_fft & 1)) {
        EG_LOGE("spectral stage: invalid sizes");
        *err = EG_ERR_INVALID_ARG;
        return NULL;
    }
    struct eg_spectral *s = calloc(1, sizeof *s);
    if (!s) { *err = EG_ERR_NOMEM; return NULL; }
    s->w = *w;
    s->w.blocks = NULL;
    s->k = k;
    s->mode = eg_backend_from_env(mode);
    s->max_frames = max_frames;
    s->pad = w->kernel_size / 2;
    s->nb = w->n_fft / 2 + 1;
    s->n_col = w->latent_dim * w->kernel_size;
    s->fault = eg_cl_fault_from_env();

    const size_t dim = (size_t)w->dim, ffn = (size_t)w->ffn_dim, T = (size_t)max_frames, nb = (size_t)s->nb;
    s->blk_floats = (size_t)w->kernel_size * dim + 5 * dim + 2 * ffn * dim + ffn;
    size_t f_rows = ffn > 3 * nb ? ffn : 3 * nb;   /* s->f doubles as the head's exp/sin/cos row scratch */
    size_t sizes[] = { dim * s->n_col, dim, dim, dim, dim, dim, 2 * nb * dim, 2 * nb,
                       s->blk_floats * (size_t)w->n_layers,
                       (T + 2 * s->pad) * dim + (size_t)s->pad * dim,   /* xp + a zero row block for device writes */
                       T * s->n_col, T * dim, T * f_rows, T * 2 * nb };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    s->cpu_mem = calloc(total, sizeof(float));
    if (!s->cpu_mem) { free(s); *err = EG_ERR_NOMEM; return NULL; }
    float **ptrs[] = { &s->embed_w, &s->embed_b, &s->norm_g, &s->norm_b, &s->final_g, &s->final_b, &s->head_w,
                       &s->head_b, &s->blk, &s->xp, &s->col, &s->h, &s->f, &s->o };
    float *p = s->cpu_mem;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) { *ptrs[i] = p; p += sizes[i]; }
    copy_weights(s, w);

    if (s->mode == EG_BACKEND_CPU) {
        snprintf(s->reason, sizeof s->reason, "CPU backend requested");
        *err = EG_OK;
        return s;
    }
    st = device_init(s, why, sizeof why);
    if (st == EG_OK) {
        st = probe(s, why, sizeof why);
        if (st != EG_OK) device_free(s);
    }
    if (st != EG_OK) {
        if (s->mode == EG_BACKEND_OPENCL) {
            EG_LOGE("OpenCL decoder stage unusable (EDGEGEN_BACKEND/--backend opencl is strict): %s", why);
            eg_spectral_destroy(s);
            *err = st;
            return NULL;
        }
        snprintf(s->reason, sizeof s->reason, "not usable: %s", why);
        EG_LOGW("OpenCL decoder stage not used, running on the CPU: %s", why);
        s->warned = 1;
        *err = EG_OK;
        return s;
    }
    const struct eg_cl_device_info *d = &s->cl->dev;
    const char *min_ratio_env = getenv("EDGEGEN_CL_MIN_RATIO");
    double min_ratio = min_ratio_env ? atof(min_ratio_env) : 1.0;
    if (s->mode == EG_BACKEND_OPENCL || s->ratio > min_ratio) {
        s->use_device = 1;
        snprintf(s->reason, sizeof s->reason, "%s / %s: usable (SNR %.0f dB), used (%s, ratio %.2f)",
                 d->platform_short, d->name, s->snr_db, s->mode == EG_BACKEND_OPENCL ? "opencl requested" :
                 s->ratio > 1.0 ? "device faster" : "EDGEGEN_CL_MIN_RATIO", s->ratio);
    } else {
        snprintf(s->reason, sizeof s->reason, "%s / %s: usable (SNR %.0f dB), not used by default — CPU faster (ratio %.2f)",
                 d->platform_short, d->name, s->snr_db, s->ratio);
        device_free(s);   /* keep no device memory we will not use */
    }
    EG_LOGI("decoder spectral stage: %s", s->reason);
    *err = EG_OK;
    return s;
}

void eg_spectral_destroy(struct eg_spectral *s) {
    if (!s) return;
    device_free(s);
    free(s->cpu_mem);
    free(s);
}

enum eg_status eg_spectral_run(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im) {
    if (!s || !values || !re || !im) return EG_ERR_INVALID_ARG;
    if (s->use_device) {
        enum eg_status st = eg_spectral_run_device(s, values, t, mag, re, im);
        if (st == EG_OK || st == EG_ERR_INVALID_ARG) return st;
        if (s->mode == EG_BACKEND_OPENCL) {
            EG_LOGE("OpenCL decoder stage failed (strict opencl backend): %s", s->cl->why);
            return st;
        }
        if (!s->warned) EG_LOGW("OpenCL decoder stage failed, continuing on the CPU: %s", s->cl->why);
        s->warned = 1;
        snprintf(s->reason, sizeof s->reason, "dropped after a run-time failure: %s", s->cl->why);
        device_free(s);
    }
    return eg_spectral_run_cpu(s, values, t, mag, re, im);
}

int eg_spectral_on_device(const struct eg_spectral *s) { return s->use_device; }
const char *eg_spectral_reason(const struct eg_spectral *s) { return s->reason; }
double eg_spectral_ratio(const struct eg_spectral *s) { return s->ratio; }
double eg_spectral_snr_db(const struct eg_spectral *s) { return s->snr_db; }

/* ---- edgegen info --------------------------------------------------------------------------------------- */

void eg_cl_describe(char *buf, size_t len, const struct eg_kernels *k) {
    struct eg_kernels sel;
    if (!len) return;
    eg_cl_list_devices(buf, len);
    size_t used = strlen(buf);
    if (!strstr(buf, "device(s)")) return;   /* no loader / no platform: the listing already says why */
    if (!k) {
        struct eg_cpu cpu;
        char why[160];
        eg_cpu_detect(&cpu);
        if (eg_dispatch_select(&cpu, EG_ISA_AUTO, &sel, why, sizeof why) != EG_OK) sel = eg_kernels_ref;
        k = &sel;
    }
    /* a default-sized decoder (codec_model.py DEFAULT_CONFIG) with small random weights */
    struct eg_spectral_weights w = { .latent_dim = 5, .dim = 256, .ffn_dim = 768, .n_layers = 6, .kernel_size = 7,
                                     .n_fft = 1024, .mag_clamp = 100.0f, .eps = 1e-6f };
    const size_t dim = 256, ffn = 768, nb2 = 1026;
    size_t n_emb = dim * 5 * 7, n_blk = dim * 7 + 5 * dim + 2 * ffn * dim + ffn, n_head = nb2 * dim + nb2;
    float *mem = malloc((n_emb + 4 * dim + n_blk * 6 + n_head) * sizeof(float));
    struct eg_spectral_block_weights bw[6];
    if (!mem) return;
    uint32_t r = 7u;
    size_t n_all = n_emb + 4 * dim + n_blk * 6 + n_head;
    for (size_t i = 0; i < n_all; i++) { r = r * 1664525u + 1013904223u; mem[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.1f; }
    float *p = mem;
    w.embed_w = p; p += n_emb; w.embed_b = p; p += dim; w.norm_g = p; p += dim; w.norm_b = p; p += dim;
    w.final_g = p; w.final_b = p; p += dim;
    for (int b = 0; b < 6; b++) {
        bw[b].dw_w = p; p += dim * 7; bw[b].dw_b = p; bw[b].ln_g = p; bw[b].ln_b = p; bw[b].gamma = p; p += 5 * dim;
        bw[b].pw1_w = p; p += ffn * dim; bw[b].pw1_b = p; p += ffn; bw[b].pw2_w = p; p += ffn * dim; bw[b].pw2_b = bw[b].dw_b;
    }
    w.blocks = bw;
    w.head_w = p; p += nb2 * dim; w.head_b = p;
    enum eg_status st;
    struct eg_spectral *s = eg_spectral_create(&w, k, 50, EG_BACKEND_AUTO, &st);
    if (used < len) {
        if (!s) snprintf(buf + used, len - used, "OpenCL:    decoder stage: %s\n", eg_status_str(st));
        else snprintf(buf + used, len - used, "OpenCL:    decoder stage vs CPU table %s: %s\n", k->name,
                      eg_spectral_reason(s));
    }
    eg_spectral_destroy(s);
    free(mem);
}
