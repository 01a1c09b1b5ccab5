/* models/stage.c — the decoder network's ops on an OpenCL device (models/stage.h), and the placement between
 * the device and the CPU. The forward pass itself is models/decoder.c (network); this file only implements its
 * ops on device buffers with opencl/cl_ops.h, which knows no model:
 *
 *   put / zero          clEnqueueWriteBuffer of host rows / zero rows
 *   linear              gemm (+ GELU) with the weight dequantised to f32 once, at creation
 *   add, layer_norm, conv_dw, residual (x += gamma * h)   the kernel of the same name
 *   spectrum            head rows → mag = min(exp(log-mag), clamp), re/im = mag * cos/sin, read back [re | im]
 *
 * Device buffers mirror the decoder's (stage.h EG_SB_*) for windows of up to max_frames frames; X keeps k2
 * padding rows on each side so the depthwise convolutions read their zero rows in place (simd/kernels.h
 * conv1d_dw_f32 contract). Device and CPU run the same ops in the same order and differ only in summation
 * blocking and libm vs OpenCL builtins.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "models/decoder.h"
#include "models/models.h"
#include "models/stage.h"
#include "opencl/cl_ops.h"
#include "runtime/core/cpu.h"
#include "runtime/core/internal.h"

#define PROBE_FRAMES 24

struct cl_block { cl_mem dw_w, dw_b, ln_g, ln_b, pw1_w, pw1_b, pw2_w, pw2_b, gamma; };

struct eg_spectral {
    const struct eg_codec_model *m;      /* borrowed */
    struct eg_exec *ex;                  /* borrowed: the probe's CPU side (table and pool), the dequantisers */
    enum eg_backend mode;
    int max_frames, k2, R0, n_win;       /* n_win = max_frames + 2*R0 rows per window */
    int dim, ffn, kw, nb, n_cols;        /* nb = n_fft/2 + 1, n_cols = kernel*latent */

    float *host_mem;                     /* one allocation: */
    float *zeros;                        /* [k2 + n_win + k2][dim] zeros (device padding writes) */
    float *st_re, *st_im;                /* [max_frames][nb] device read-back */

    /* device */
    struct eg_cl *cl;
    struct eg_cl_ops ops;
    cl_mem d_embed_w, d_embed_b, d_norm_g, d_norm_b, d_final_g, d_final_b, d_head_w, d_head_b;
    struct cl_block *d_blk;
    cl_mem d_cols, d_x, d_h, d_f, d_o, d_mag, d_re, d_im;
    int use_device, warned, probing, probed;
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

/* Upload a matrix [n_out][n_in] as f32: directly when it is f32, else dequantised (the kernel table's exact
 * dequantisers, the same values the CPU gemm sees). */
static enum eg_status up_linear(struct eg_spectral *s, cl_mem *dst, const struct eg_linear *lin) {
    const size_t n = (size_t)lin->n_out * lin->n_in;
    if (lin->type == EG_DTYPE_F32) return eg_cl_buffer(s->cl, dst, n * sizeof(float), lin->w);
    float *tmp = malloc(n * sizeof(float));
    if (!tmp) { snprintf(s->cl->why, sizeof s->cl->why, "out of memory dequantising a %s matrix", eg_dtype_name(lin->type)); return EG_ERR_NOMEM; }
    eg_linear_dequant_rows(&s->ex->k, lin, tmp, 0, lin->n_out);
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
    TRY(eg_cl_buffer(s->cl, &s->d_o, T * 2 * nb * sizeof(float), NULL));   /* EG_SB_SPEC */
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

/* ---- the ops of models/stage.h on the device ------------------------------------------------------------- */

static int row_floats(const struct eg_spectral *s, enum eg_stage_buf b) {
    return b == EG_SB_COLS ? s->n_cols : b == EG_SB_F ? s->ffn : b == EG_SB_SPEC ? 2 * s->nb : s->dim;
}
static struct eg_cl_view view(const struct eg_spectral *s, enum eg_stage_buf b, int row) {
    const cl_mem m = b == EG_SB_COLS ? s->d_cols : b == EG_SB_X ? s->d_x : b == EG_SB_H ? s->d_h :
                     b == EG_SB_F ? s->d_f : s->d_o;
    return eg_cl_at(m, (size_t)row * row_floats(s, b));
}

static enum eg_status dev_put(void *be, enum eg_stage_buf b, int row, int n_rows, const float *src) {
    struct eg_spectral *s = be;
    const struct eg_cl_view v = view(s, b, row);
#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS
    if (b == EG_SB_COLS && s->fault == EG_CL_FAULT_ENQUEUE && s->probed)   /* injected: every window after the
                                                                            * self-test fails */
        return eg_cl_fail(s->cl, "clEnqueueNDRangeKernel (injected by EDGEGEN_CL_FAULT=enqueue)", CL_OUT_OF_RESOURCES);
#endif
    return eg_cl_write(s->cl, v.mem, v.off * sizeof(float), (size_t)n_rows * row_floats(s, b) * sizeof(float), src);
}

static enum eg_status dev_zero(void *be, enum eg_stage_buf b, int row, int n_rows) {
    struct eg_spectral *s = be;
    const struct eg_cl_view v = view(s, b, row);
    return eg_cl_write(s->cl, v.mem, v.off * sizeof(float), (size_t)n_rows * row_floats(s, b) * sizeof(float), s->zeros);
}

static enum eg_status dev_linear(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                                 enum eg_stage_buf x, int x_row, int n_rows, enum eg_act act) {
    struct eg_spectral *s = be;
    const struct cl_block *d = &s->d_blk[layer];
    const cl_mem wm = w == EG_SW_EMBED ? s->d_embed_w : w == EG_SW_PW1 ? d->pw1_w : w == EG_SW_PW2 ? d->pw2_w : s->d_head_w;
    const cl_mem bm = w == EG_SW_EMBED ? s->d_embed_b : w == EG_SW_PW1 ? d->pw1_b : w == EG_SW_PW2 ? d->pw2_b : s->d_head_b;
    const int n_in = row_floats(s, x), n_out = row_floats(s, y);
    enum eg_status st = eg_cl_gemm_f32(&s->ops, view(s, y, y_row), n_out, view(s, x, x_row), n_in, eg_cl_at(wm, 0), n_in,
                                       eg_cl_at(bm, 0), n_rows, n_out, n_in);
    if (st == EG_OK && act == EG_ACT_GELU)
        st = eg_cl_gelu_f32(&s->ops, view(s, y, y_row), view(s, y, y_row), n_rows * n_out);
    return st;
}

static enum eg_status dev_add(void *be, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row, int n_rows) {
    struct eg_spectral *s = be;
    return eg_cl_add_f32(&s->ops, view(s, y, y_row), view(s, y, y_row), view(s, x, x_row), n_rows * s->dim);
}

static enum eg_status dev_layer_norm(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                                     enum eg_stage_buf x, int x_row, int n_rows) {
    struct eg_spectral *s = be;
    const cl_mem g = w == EG_SW_NORM ? s->d_norm_g : w == EG_SW_BLOCK_NORM ? s->d_blk[layer].ln_g : s->d_final_g;
    const cl_mem b = w == EG_SW_NORM ? s->d_norm_b : w == EG_SW_BLOCK_NORM ? s->d_blk[layer].ln_b : s->d_final_b;
    return eg_cl_layer_norm_f32(&s->ops, view(s, y, y_row), s->dim, view(s, x, x_row), s->dim, eg_cl_at(g, 0),
                                eg_cl_at(b, 0), n_rows, s->dim, s->m->cfg.layer_norm_eps);
}

static enum eg_status dev_conv_dw(void *be, int layer, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row,
                                  int n_rows) {
    struct eg_spectral *s = be;
    const struct cl_block *d = &s->d_blk[layer];
    return eg_cl_conv1d_dw_f32(&s->ops, view(s, y, y_row), view(s, x, x_row), eg_cl_at(d->dw_w, 0), eg_cl_at(d->dw_b, 0),
                               n_rows, s->dim, s->kw);
}

static enum eg_status dev_residual(void *be, int layer, enum eg_stage_buf x, int x_row, enum eg_stage_buf h, int h_row,
                                   int n_rows) {
    struct eg_spectral *s = be;
    return eg_cl_residual_gamma_f32(&s->ops, view(s, x, x_row), view(s, h, h_row), eg_cl_at(s->d_blk[layer].gamma, 0),
                                    n_rows, s->dim);
}

static enum eg_status dev_spectrum(void *be, int n_rows, float *spec, int ld, int *reim) {
    struct eg_spectral *s = be;
    const int nb = s->nb;
    enum eg_status st;
    if ((st = eg_cl_spec_head_f32(&s->ops, s->d_mag, s->d_re, s->d_im, s->d_o, n_rows, nb, s->m->cfg.mag_clamp)) != EG_OK ||
        (st = eg_cl_read(s->cl, s->d_re, 0, (size_t)n_rows * nb * sizeof(float), s->st_re)) != EG_OK ||
        (st = eg_cl_read(s->cl, s->d_im, 0, (size_t)n_rows * nb * sizeof(float), s->st_im)) != EG_OK)
        return st;
    for (int i = 0; i < n_rows; i++) {
        float *row = spec + (size_t)i * ld;
        memcpy(row, s->st_re + (size_t)i * nb, sizeof(float) * nb);
        memcpy(row + nb, s->st_im + (size_t)i * nb, sizeof(float) * nb);
    }
    *reim = 1;
    return EG_OK;
}

static const struct eg_stage_ops dev_ops = {
    dev_put, dev_zero, dev_linear, dev_add, dev_layer_norm, dev_conv_dw, dev_residual, dev_spectrum,
};

/* A device call failed (after one retry): strict (or the probe) → one error line (the probe: none) and the
 * status; auto → release the device, one warning line (first time only), EG_ERR_UNSUPPORTED so the caller
 * computes on the CPU. */
static enum eg_status device_failed(struct eg_spectral *s, enum eg_status st) {
    if (s->probing) return st;
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
enum eg_status eg_spectral_window(struct eg_spectral *s, eg_stage_run_fn run, void *arg) {
    if (!s || !s->use_device) return EG_ERR_UNSUPPORTED;
    if (!run) return EG_ERR_INVALID_ARG;
    enum eg_status st = run(arg, &dev_ops, s);
    if (st == EG_OK) return EG_OK;
    char first[256];
    snprintf(first, sizeof first, "%s", s->cl->why);
    eg_cl_finish(s->cl);
    if ((st = run(arg, &dev_ops, s)) == EG_OK) return EG_OK;
    snprintf(s->cl->why, sizeof s->cl->why, "%s", first);
    return device_failed(s, st);
}

/* ---- placement ----------------------------------------------------------------------------------------------- */

/* Decode n random frames (and phoneme ids, for a conditioned codec) whole-utterance, windows of max_frames,
 * through `stage` (NULL: the CPU). Returns the time in ms, or -1 with the status in *st. */
static double probe_decode(struct eg_spectral *s, struct eg_spectral *stage, const int32_t *tok, const int32_t *ph,
                           int n, float *pcm, enum eg_status *st) {
    struct eg_decoder_params p = eg_decoder_default_params();
    struct eg_decoder *d = NULL;
    p.chunk_frames = s->max_frames;
    p.stage = stage;
    if ((*st = eg_decoder_create(s->m, s->ex, &p, &d)) != EG_OK) return -1;
    const double t0 = eg_cl_now_ms();
    *st = eg_decoder_run(d, tok, ph, n, pcm);
    const double el = eg_cl_now_ms() - t0;
    eg_decoder_destroy(d);
    return *st == EG_OK ? el : -1;
}

/* The model's own path on both sides: the decoder (eg_decoder_run) on the same random frames, phoneme rows
 * included, with its network on the device and on the CPU; compare the waveforms, time both. Device: the better
 * of two runs (the first touches every buffer); CPU: the better of two (the first pages in mapped weights). */
static enum eg_status probe(struct eg_spectral *s, char *why, size_t why_len) {
    const struct eg_codec_config *cfg = &s->m->cfg;
    const int n = PROBE_FRAMES;
    const size_t n_pcm = (size_t)n * cfg->hop;
    enum eg_status st = EG_ERR_NOMEM;
    int32_t *tok = malloc(2 * (size_t)n * sizeof(int32_t));
    float *cpu = malloc(2 * n_pcm * sizeof(float)), *dev = cpu + n_pcm;
    if (!tok || !cpu) { snprintf(why, why_len, "out of memory"); goto done; }
    int32_t *ph = cfg->n_phonemes ? tok + n : NULL;
    uint32_t r = 12345u;
    for (int i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        tok[i] = (int32_t)((r >> 8) % cfg->n_codes);
        r = r * 1664525u + 1013904223u;
        if (ph) ph[i] = (int32_t)((r >> 8) % cfg->n_phonemes);
    }
    double dev_ms = 1e30, cpu_ms = 1e30;
    s->use_device = 1;   /* the decoder sends its windows here */
    s->probing = 1;      /* and a failure comes back as a status, not a fallback */
    for (int rep = 0; rep < 2; rep++) {
        double el = probe_decode(s, s, tok, ph, n, dev, &st);
        if (el < 0) { snprintf(why, why_len, "%s", s->cl->why[0] ? s->cl->why : eg_status_str(st)); goto done; }
        if (el < dev_ms) dev_ms = el;
        el = probe_decode(s, NULL, tok, ph, n, cpu, &st);
        if (el < 0) { snprintf(why, why_len, "the CPU decoder failed: %s", eg_status_str(st)); goto done; }
        if (el < cpu_ms) cpu_ms = el;
    }
    s->snr_db = eg_snr_db(cpu, dev, n_pcm);
    s->cpu_ms = cpu_ms;
    s->dev_ms = dev_ms;
    s->ratio = dev_ms > 0 ? cpu_ms / dev_ms : 0;
    s->probed = 1;
    if (s->snr_db < EG_SPECTRAL_MIN_SNR_DB) {
        snprintf(why, why_len, "wrong results on the self-test (waveform SNR %.1f dB < %.0f dB vs the CPU)", s->snr_db,
                 EG_SPECTRAL_MIN_SNR_DB);
        st = EG_ERR_DEVICE;
    }
done:
    s->use_device = 0;
    s->probing = 0;
    free(tok);
    free(cpu);
    return st;
}

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
    snprintf(key, sizeof key, "probe2|%s|%s|%u %u %u %u %u %u|%s %s %s|%s x%d|%d", dev ? dev : "", EDGEGEN_VERSION, c->dim,
             c->ffn_dim, c->n_layers, c->kernel_size, c->latent_dim, c->n_fft, eg_dtype_name(s->m->w.blocks[0].pw1.type),
             eg_dtype_name(s->m->w.blocks[0].pw2.type), eg_dtype_name(s->m->w.head.type), s->ex->k.name,
             s->ex->n_threads, s->max_frames);
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
    s->dim = (int)c->dim; s->ffn = (int)c->ffn_dim; s->kw = (int)c->kernel_size;
    s->nb = (int)c->n_fft / 2 + 1;
    s->n_cols = s->kw * (int)c->latent_dim;
    s->fault = eg_cl_fault_from_env();

    const size_t T = (size_t)max_frames, dim = s->dim, nb = s->nb, pad_rows = 2 * (size_t)s->k2;
    const size_t sizes[] = { ((size_t)s->n_win + pad_rows) * dim, T * nb, T * nb };
    float **ptrs[] = { &s->zeros, &s->st_re, &s->st_im };
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
    if (c->voice) {   /* declined: the device ops here cover the edgegen.codec network only */
        snprintf(s->reason, sizeof s->reason, "not usable: the OpenCL stage runs %s networks only; this %s "
                 "decoder (pitch head, harmonic source, envelope) runs on the CPU", EG_CODEC_ARCH, EG_VOICE_ARCH);
        if (mode == EG_BACKEND_OPENCL) {
            EG_LOGE("OpenCL decoder stage unusable (--device opencl is strict, no CPU fallback): %s", s->reason);
            eg_spectral_destroy(s);
            *err = EG_ERR_UNSUPPORTED;
            return NULL;
        }
        EG_LOGI("decoder stage on the CPU: %s", s->reason);
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
                 ex->k.name, ex->n_threads, s->cpu_ms, s->dev_ms, PROBE_FRAMES, s->ratio);
    } else {
        snprintf(s->reason, sizeof s->reason, "%s / %s: correct (probe SNR %.0f dB), not used — CPU faster (CPU %s x%d "
                 "%.2f ms vs device %.2f ms per %d frames, ratio %.2f < %.2f)", d->platform_short, d->name, s->snr_db,
                 ex->k.name, ex->n_threads, s->cpu_ms, s->dev_ms, PROBE_FRAMES, s->ratio, min_ratio);
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

void eg_spectral_describe(char *buf, size_t len, struct eg_exec *ex_in) {
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
