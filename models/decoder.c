/* models/decoder.c — pico-codec NAR decoder (Vocos-style: ConvNeXt blocks + iSTFT head), reproducing
 * models/train/codec_model.py Decoder.forward: FSQ values → embed conv → LN → n_layers × ConvNeXt
 * (dwconv, LN, Linear, GELU, Linear, gamma * x + residual) → final LN → head → exp(logmag) clamp, phase →
 * irfft → window → overlap-add → envelope normalisation → trim.  (Siuzdak 2023, "Vocos", arXiv:2306.00814.)
 *
 * Layout: activations are time-major, one row of `dim` floats per frame, so every Linear is gemm_f32 on rows
 * and the depthwise conv reads kernel-1 zero/context rows around the range it computes.
 *
 * One forward pass (network below) for every backend: it calls the ops of models/stage.h, which the CPU
 * implements here with the kernel table and the pool (cpu_ops) and the OpenCL stage on a device (stage.c).
 *
 * Streaming: to compute frames [a, a+c) every stage works on exactly the rows the next stage needs:
 * block l (0-based) produces frames [a - r_l, a + c + r_l) with r_l = k2 * (n_layers - 1 - l), the embed conv
 * r = k2 * n_layers, from tokens [a - R, a + c + R), R = k2 * (1 + n_layers) (k2 = kernel/2). Ranges are
 * clipped to [0, n_tokens) where the zero padding of the whole-utterance model applies, so each stage sees the
 * same inputs as in a whole-utterance decode: the streamed output is the same arithmetic, sample for sample.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "models/istft.h"
#include "models/stage.h"
#include "models/voice_source.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"

/* ==== model loading ======================================================================================== */

static int is_pow2_u32(uint32_t n) { return n && !(n & (n - 1)); }

/* Key names: the codec's keys under the file's architecture prefix ("edgegen.codec." or "edgegen.voice."). */
struct keys { const char *pre; char buf[96]; };
static const char *K(struct keys *k, const char *name) {
    snprintf(k->buf, sizeof k->buf, "%s.%s", k->pre, name);
    return k->buf;
}

/* edgegen.voice: the pitch / harmonic-source keys (models/GGUF_KEYS.md). */
static enum eg_status read_voice_config(const struct eg_gguf *g, struct keys *k, struct eg_codec_config *c) {
    const char *lbl = eg_gguf_label(g);
    enum eg_status st;
    const float nyq = 0.5f * (float)c->sample_rate_hz;
    c->voice = 1;
    if ((st = eg_gguf_get_bool(g, K(k, "harmonic"), &c->harmonic)) != EG_OK) return st;
    if ((st = eg_gguf_get_u32_range(g, K(k, "n_env"), 2, 1u << 16, &c->n_env)) != EG_OK) return st;
#define F32(name, field, cond, what) do { \
        if ((st = eg_gguf_get_f32(g, K(k, name), &c->field)) != EG_OK) return st; \
        if (!(cond)) { \
            EG_LOGE("%s: key %s: expected %s, found %g", lbl, K(k, name), what, (double)c->field); \
            return EG_ERR_FORMAT; \
        } } while (0)
    F32("env_clamp", env_clamp, c->env_clamp > 0.0f && isfinite(c->env_clamp), "a finite positive value");
    F32("f0_min", f0_min, c->f0_min > 0.0f && c->f0_min < nyq, "a value in (0, sample_rate/2)");
    F32("f0_max", f0_max, c->f0_max >= c->f0_min && c->f0_max < nyq, "a value in [f0_min, sample_rate/2)");
    F32("f0_center", f0_center, c->f0_center > 0.0f && isfinite(c->f0_center), "a finite positive value");
    F32("harm_f_max", harm_f_max, c->harm_f_max > 0.0f && c->harm_f_max <= nyq, "a value in (0, sample_rate/2]");
    F32("vuv_threshold", vuv_threshold, c->vuv_threshold > 0.0f && c->vuv_threshold < 1.0f, "a value in (0, 1)");
#undef F32
    c->noise_white = 0;
    if (eg_gguf_has_key(g, K(k, "noise_white")) &&
        (st = eg_gguf_get_bool(g, K(k, "noise_white"), &c->noise_white)) != EG_OK) return st;
    if (c->noise_white && !c->harmonic) {
        EG_LOGE("%s: key %s: expected false in a file whose harmonic is false (the white-noise branch belongs "
                "to the harmonic decoder), found true", lbl, K(k, "noise_white"));
        return EG_ERR_FORMAT;
    }
    return EG_OK;
}

static enum eg_status read_config(const struct eg_gguf *g, struct eg_codec_config *c) {
    const char *lbl = eg_gguf_label(g), *arch = NULL;
    struct keys k = { EG_CODEC_ARCH, { 0 } };
    enum eg_status st;
    int n_lv = 0, voice = 0;

    memset(c, 0, sizeof *c);
    /* edgegen.codec, or edgegen.voice (the same keys under its own prefix + the voice keys) */
    if (eg_gguf_has_key(g, "general.architecture") && eg_gguf_get_str(g, "general.architecture", &arch) == EG_OK &&
        arch && !strcmp(arch, EG_VOICE_ARCH)) {
        k.pre = EG_VOICE_ARCH;
        voice = 1;
    }
    else if ((st = eg_gguf_expect_arch(g, EG_CODEC_ARCH)) != EG_OK)
        return st;
#define U32(key, lo, hi, field) if ((st = eg_gguf_get_u32_range(g, K(&k, key), lo, hi, &c->field)) != EG_OK) return st
    U32("sample_rate", 1000, 384000, sample_rate_hz);
    U32("hop_length", 1, 1u << 16, hop);
    U32("n_fft", 4, 1u << 16, n_fft);
    U32("latent_dim", 1, EG_CODEC_MAX_FSQ, latent_dim);
    U32("dim", 1, 1u << 14, dim);
    U32("ffn_dim", 1, 1u << 16, ffn_dim);
    U32("n_layers", 1, 64, n_layers);
    U32("kernel_size", 1, 63, kernel_size);
#undef U32
    if ((st = eg_gguf_get_f32(g, K(&k, "layer_norm_eps"), &c->layer_norm_eps)) != EG_OK) return st;
    if ((st = eg_gguf_get_f32(g, K(&k, "mag_clamp"), &c->mag_clamp)) != EG_OK) return st;
    if (!is_pow2_u32(c->n_fft)) {
        EG_LOGE("%s: key %s: expected a power of two (radix-2 iFFT), found %u", lbl, K(&k, "n_fft"), c->n_fft);
        return EG_ERR_FORMAT;
    }
    if (2 * c->hop > c->n_fft) {
        EG_LOGE("%s: key %s: expected at most n_fft/2 = %u (positive window envelope), found %u",
                lbl, K(&k, "hop_length"), c->n_fft / 2, c->hop);
        return EG_ERR_FORMAT;
    }
    if (c->kernel_size % 2 == 0) {
        EG_LOGE("%s: key %s: expected an odd value (\"same\" padding), found %u", lbl, K(&k, "kernel_size"), c->kernel_size);
        return EG_ERR_FORMAT;
    }
    if (!(c->layer_norm_eps > 0.0f && c->layer_norm_eps < 1.0f)) {
        EG_LOGE("%s: key %s: expected a value in (0, 1), found %g", lbl, K(&k, "layer_norm_eps"), (double)c->layer_norm_eps);
        return EG_ERR_FORMAT;
    }
    if (!(c->mag_clamp > 0.0f && isfinite(c->mag_clamp))) {
        EG_LOGE("%s: key %s: expected a finite positive value, found %g", lbl, K(&k, "mag_clamp"), (double)c->mag_clamp);
        return EG_ERR_FORMAT;
    }
    if ((st = eg_gguf_get_arr_u32(g, K(&k, "fsq_levels"), c->fsq_levels, EG_CODEC_MAX_FSQ, &n_lv)) != EG_OK) return st;
    if (n_lv != (int)c->latent_dim || eg_gguf_arr_len(g, K(&k, "fsq_levels")) != (int)c->latent_dim) {
        EG_LOGE("%s: key %s: expected %u levels (latent_dim), found %d", lbl, K(&k, "fsq_levels"), c->latent_dim,
                eg_gguf_arr_len(g, K(&k, "fsq_levels")));
        return EG_ERR_FORMAT;
    }
    uint64_t n_codes = 1;
    for (uint32_t i = 0; i < c->latent_dim; i++) {
        const uint32_t l = c->fsq_levels[i];
        if (l < 3 || l % 2 == 0) {
            EG_LOGE("%s: key %s[%u]: expected an odd level count >= 3, found %u", lbl, K(&k, "fsq_levels"), i, l);
            return EG_ERR_FORMAT;
        }
        n_codes *= l;
        if (n_codes > 65536) {
            EG_LOGE("%s: key %s: expected a product <= 65536 (16-bit tokens), found more", lbl, K(&k, "fsq_levels"));
            return EG_ERR_FORMAT;
        }
    }
    c->n_codes = (uint32_t)n_codes;
    /* optional phoneme conditioning (files without the key are plain token decoders) */
    if (eg_gguf_has_key(g, K(&k, "n_phonemes"))) {
        if ((st = eg_gguf_get_u32_range(g, K(&k, "n_phonemes"), 1, 1u << 16, &c->n_phonemes)) != EG_OK) return st;
        if (eg_gguf_arr_len(g, K(&k, "phonemes")) != (int)c->n_phonemes) {
            EG_LOGE("%s: key %s: expected a string array of n_phonemes = %u symbols, found length %d",
                    lbl, K(&k, "phonemes"), c->n_phonemes, eg_gguf_arr_len(g, K(&k, "phonemes")));
            return EG_ERR_FORMAT;
        }
        const char *sym;
        if ((st = eg_gguf_get_arr_str(g, K(&k, "phonemes"), 0, &sym)) != EG_OK) return st;   /* type check */
    }
    return voice ? read_voice_config(g, &k, c) : EG_OK;
}

static enum eg_status bind_weights(const struct eg_gguf *g, const struct eg_codec_config *c, struct eg_codec_weights *w) {
    const int64_t dim = c->dim, ffn = c->ffn_dim, kw = c->kernel_size, lat = c->latent_dim;
    const struct eg_gguf_tensor *t;
    const int64_t ne_embed[3] = { lat, kw, dim };
    enum eg_status st;
    char name[96];

    /* embed conv: numpy (dim, kernel, latent) — one row per output channel in the im2col order */
    if ((st = eg_gguf_bind(g, "dec.embed.weight", EG_DTYPE_BIT(EG_DTYPE_F32), 3, ne_embed, &t)) != EG_OK) return st;
    w->embed.type = EG_DTYPE_F32;
    w->embed.w = t->data;
    w->embed.n_out = (int)dim;
    w->embed.n_in = (int)(kw * lat);
    w->embed.row_bytes = (size_t)(kw * lat) * sizeof(float);
    if ((st = eg_bind_f32(g, "dec.embed.bias", 1, dim, 1, 1, &w->embed.b)) != EG_OK) return st;
    w->phone_embed = NULL;
    if (!c->n_phonemes && eg_gguf_find(g, "dec.phone_embed.weight")) {
        EG_LOGE("%s: key %s.n_phonemes: expected (tensor dec.phone_embed.weight makes the decoder "
                "phoneme-conditioned), found no key", eg_gguf_label(g), c->voice ? EG_VOICE_ARCH : EG_CODEC_ARCH);
        return EG_ERR_FORMAT;
    }
    if (c->n_phonemes &&
        (st = eg_bind_f32(g, "dec.phone_embed.weight", 2, dim, c->n_phonemes, 1, &w->phone_embed)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "dec.norm.weight", 1, dim, 1, 1, &w->norm_w)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "dec.norm.bias", 1, dim, 1, 1, &w->norm_b)) != EG_OK) return st;
    for (uint32_t i = 0; i < c->n_layers; i++) {
        struct eg_codec_block *b = &w->blocks[i];
#define NAME(suffix) (snprintf(name, sizeof name, "dec.blocks.%u.%s", i, suffix), name)
        if ((st = eg_bind_f32(g, NAME("dwconv.weight"), 2, dim, kw, 1, &b->dw_w)) != EG_OK) return st;
        if ((st = eg_bind_f32(g, NAME("dwconv.bias"), 1, dim, 1, 1, &b->dw_b)) != EG_OK) return st;
        if ((st = eg_bind_f32(g, NAME("norm.weight"), 1, dim, 1, 1, &b->norm_w)) != EG_OK) return st;
        if ((st = eg_bind_f32(g, NAME("norm.bias"), 1, dim, 1, 1, &b->norm_b)) != EG_OK) return st;
        if ((st = eg_bind_linear(g, (snprintf(name, sizeof name, "dec.blocks.%u.pwconv1", i), name), dim, ffn, EG_MATRIX_TYPES, 1,
                              &b->pw1)) != EG_OK) return st;
        if ((st = eg_bind_linear(g, (snprintf(name, sizeof name, "dec.blocks.%u.pwconv2", i), name), ffn, dim, EG_MATRIX_TYPES, 1,
                              &b->pw2)) != EG_OK) return st;
        if ((st = eg_bind_f32(g, NAME("gamma"), 1, dim, 1, 1, &b->gamma)) != EG_OK) return st;
#undef NAME
    }
    if ((st = eg_bind_f32(g, "dec.final_norm.weight", 1, dim, 1, 1, &w->final_norm_w)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "dec.final_norm.bias", 1, dim, 1, 1, &w->final_norm_b)) != EG_OK) return st;
    /* noise_white files name their head dec.noise_head (magnitudes only), so a reader that predates the key
     * refuses the file (no dec.head) instead of playing magnitudes with the phase of another network */
    if (c->noise_white) {
        if ((st = eg_bind_linear(g, "dec.noise_head", dim, (int64_t)c->n_fft / 2 + 1, EG_MATRIX_TYPES, 1,
                                 &w->head)) != EG_OK) return st;
    } else if ((st = eg_bind_linear(g, "dec.head", dim, (int64_t)c->n_fft + 2, EG_MATRIX_TYPES, 1, &w->head)) != EG_OK)
        return st;
    memset(&w->pitch_head, 0, sizeof w->pitch_head);
    memset(&w->env_head, 0, sizeof w->env_head);
    if (c->voice &&
        (st = eg_bind_linear(g, "dec.pitch_head", dim, 2, EG_DTYPE_BIT(EG_DTYPE_F32), 1, &w->pitch_head)) != EG_OK) return st;
    if (c->voice && !c->harmonic && eg_gguf_find(g, "dec.env_head.weight")) {
        EG_LOGE("%s: key edgegen.voice.harmonic: expected true (tensor dec.env_head.weight is an envelope head), "
                "found false", eg_gguf_label(g));
        return EG_ERR_FORMAT;
    }
    if (c->harmonic &&
        (st = eg_bind_linear(g, "dec.env_head", dim, c->n_env, EG_MATRIX_TYPES, 1, &w->env_head)) != EG_OK) return st;
    return EG_OK;
}

enum eg_status eg_codec_model_from_gguf(const struct eg_gguf *g, struct eg_codec_model **out) {
    struct eg_codec_model *m;
    enum eg_status st;

    *out = NULL;
    m = calloc(1, sizeof *m);
    if (!m) return EG_ERR_NOMEM;
    if ((st = read_config(g, &m->cfg)) != EG_OK) goto err_free_model;
    m->w.blocks = calloc(m->cfg.n_layers, sizeof *m->w.blocks);
    if (!m->w.blocks) { st = EG_ERR_NOMEM; goto err_free_model; }
    if ((st = bind_weights(g, &m->cfg, &m->w)) != EG_OK) goto err_free_blocks;
    m->gguf = (struct eg_gguf *)g;
    *out = m;
    return EG_OK;

err_free_blocks:
    free(m->w.blocks);
err_free_model:
    free(m);
    return st;
}

enum eg_status eg_codec_model_load(const char *path, struct eg_codec_model **out) {
    struct eg_gguf *g;
    enum eg_status st;

    *out = NULL;
    if ((st = eg_gguf_open(path, &g)) != EG_OK) return st;
    if ((st = eg_codec_model_from_gguf(g, out)) != EG_OK) {
        eg_gguf_close(g);
        return st;
    }
    (*out)->owns_gguf = 1;
    return EG_OK;
}

void eg_codec_model_destroy(struct eg_codec_model *m) {
    if (!m) return;
    if (m->owns_gguf) eg_gguf_close(m->gguf);
    free(m->w.blocks);
    free(m);
}

const char *eg_codec_model_phoneme(const struct eg_codec_model *m, int id) {
    const char *s;
    if (!m || id < 0 || (uint32_t)id >= m->cfg.n_phonemes) return NULL;
    return eg_gguf_get_arr_str(m->gguf, m->cfg.voice ? EG_VOICE_ARCH ".phonemes" : EG_CODEC_ARCH ".phonemes", id, &s)
           == EG_OK ? s : NULL;
}

int eg_codec_receptive_frames(const struct eg_codec_config *c) {
    return (int)(c->kernel_size / 2) * (1 + (int)c->n_layers);
}

double eg_codec_flops_per_frame(const struct eg_codec_config *c) {
    const double dim = c->dim, ffn = c->ffn_dim, kw = c->kernel_size, n = c->n_fft;
    double f = 2.0 * dim * kw * c->latent_dim;                  /* embed conv */
    f += c->n_layers * (2.0 * kw * dim + 4.0 * dim * ffn);      /* dwconv + two Linears */
    f += 2.0 * dim * (c->noise_white ? n / 2 + 1 : n + 2);      /* head */
    if (c->n_phonemes) f += dim;                                /* phoneme embedding row */
    f += 5.0 * (n / 2) * log2(n / 2) + 8.0 * n;                 /* complex FFT of n/2 + split, window, OLA */
    if (c->voice) f += 2.0 * dim * 2;                           /* pitch head */
    if (c->harmonic) {
        const double nb = n / 2 + 1;
        f += 2.0 * dim * c->n_env + 3.0 * nb;                   /* envelope head, interpolation to the bins */
        f += c->hop * (4 * 20.0 + 20.0);                        /* source: 4 sines (~20 FLOP each, as
                                                                 * voice_model.flops_per_second), phase, interp */
        f += 5.0 * (n / 2) * log2(n / 2) + 8.0 * n + 4.0 * nb;  /* source STFT (window, FFT, split), H*E + N */
        if (c->noise_white)                                     /* noise: ~12 integer ops a sample, its STFT */
            f += 12.0 * n + 5.0 * (n / 2) * log2(n / 2) + 8.0 * n + 2.0 * nb;
    }
    return f;
}

/* ==== decoder context ====================================================================================== */

struct eg_decoder {
    const struct eg_codec_model *m;
    struct eg_exec *ex;
    struct eg_spectral *stage;  /* borrowed, optional: windows' network on an OpenCL device (stage.h) */
    int chunk;                /* frames per window */
    int first_chunk;          /* frames in the first window of an utterance (<= chunk) */
    int k2, R, R0;            /* kernel/2, receptive field (tokens), reach of the embed output */
    int n_lat, n_cols, spec_ld;

    struct eg_arena arena;
    struct eg_istft istft;
    struct eg_ola ola;

    float *vals;              /* [chunk + 2R][latent]: FSQ values of frames [hist0, hist0 + n_hist) */
    int32_t *phon;            /* [chunk + 2R]: their phoneme ids (phoneme-conditioned decoders) */
    int64_t hist0;
    int n_hist;
    float *cols;              /* [chunk + 2R0][kernel*latent] embed im2col */
    float *x;                 /* [k2 + chunk + 2R0 + k2][dim] residual stream (EG_SB_X); row k2 + i is frame
                               * a - R0 + i, rows of frames outside the known stream are zero (dwconv padding) */
    float *h;                 /* [chunk + 2R0][dim] */
    float *f;                 /* [chunk + 2R0][ffn] */
    float *spec;              /* [chunk][n_fft+2] head output, then the windowed time frames */
    float *lin_scratch;       /* eg_linear_scratch_floats for the largest n_in */
    float *frame_scratch;     /* [n_threads][frame_floats] */
    size_t frame_floats;
    float *pcm;               /* [chunk*hop + 2*n_fft] emitted samples */

    /* voice v2, harmonic (models/voice_source.h): frames [n_syn, n_done) wait for their source window */
    int harm;                 /* 1: harmonic voice file */
    int pend_cap;             /* chunk + voice_lag(): frames that can wait */
    struct eg_voice_src src;
    float *pend_noise;        /* [pend_cap][n_fft+2] noise head rows of the waiting frames, then their time frames */
    float *pend_env;          /* [pend_cap][n_env] envelope head rows */
    float *pitch;             /* [chunk][2] pitch head rows of the window, then [2*chunk] scratch */
    int64_t n_total;          /* samples of the stream once it has ended (flush), else INT64_MAX */
    int64_t n_syn;            /* frames synthesised (overlap-added) */

    int64_t n_recv, n_done;   /* tokens received, frames decoded (network; codec files: also overlap-added) */
    int64_t n_computed;       /* frames the network computed, with context (bench) */
};

struct eg_decoder_params eg_decoder_default_params(void) {
    struct eg_decoder_params p = { .chunk_frames = 64 };
    return p;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Per-thread floats for one spectral frame: re, im, sin, cos [n_fft/2+1] and the FFT buffer [n_fft]; harmonic
 * voice: the source window [n_fft], re, im and eg_voice_spectrum's scratch. */
static size_t frame_floats(const struct eg_codec_config *c) {
    const size_t codec = 4 * round16(c->n_fft / 2 + 1) + round16(c->n_fft);
    const size_t voice = round16(c->n_fft) + 2 * round16(c->n_fft / 2 + 1) + eg_voice_spectrum_floats(c);
    return c->harmonic && voice > codec ? voice : codec;
}

/* Frames a harmonic voice decoder may hold back: frame t's source window ends at sample t*hop - p_l + n_fft,
 * whose interpolation reaches frame t + (n_fft - p_l)/hop + 2 at most. */
static int voice_lag(const struct eg_codec_config *c) {
    return c->harmonic ? (int)((c->n_fft - (c->n_fft - c->hop) / 2) / c->hop) + 3 : 0;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* Named groups of arena buffers, for memory plans (eg_decoder_memplan). */
enum { G_ACT, G_STATE, G_ISTFT, G_THREAD, N_GROUPS };
static const char *const group_name[N_GROUPS] = {
    "decoder activations", "decoder state", "iSTFT tables", "decoder thread scratch",
};

/* All arena allocations, in order; with d == NULL only sums the sizes. groups != NULL: also the rounded bytes
 * per group (G_*), which add up to the total. */
static size_t layout(struct eg_decoder *d, const struct eg_codec_model *m, const struct eg_exec *ex, int chunk,
                     size_t groups[N_GROUPS]) {
    const struct eg_codec_config *c = &m->cfg;
    const size_t k2 = c->kernel_size / 2, R = k2 * (1 + c->n_layers), R0 = k2 * c->n_layers;
    const size_t win = chunk + 2 * R0, hist = chunk + 2 * R;
    const int harm = c->harmonic, pend = chunk + voice_lag(c);   /* pend: frames between two OLA emits */
    size_t lin = 0, total = 0;
    for (uint32_t i = 0; i < c->n_layers; i++) {
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.blocks[i].pw1.type, m->w.blocks[i].pw1.n_in));
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.blocks[i].pw2.type, m->w.blocks[i].pw2.n_in));
    }
    lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.head.type, m->w.head.n_in));
    if (harm) {
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.pitch_head.type, m->w.pitch_head.n_in));
        lin = max_sz(lin, eg_linear_scratch_floats(ex, m->w.env_head.type, m->w.env_head.n_in));
    }
    const size_t sizes[] = {
        eg_istft_get_size((int)c->n_fft),
        sizeof(float) * hist * c->latent_dim,
        sizeof(int32_t) * hist,
        sizeof(float) * win * c->kernel_size * c->latent_dim,
        sizeof(float) * (win + 2 * k2) * c->dim,
        sizeof(float) * win * c->dim,
        sizeof(float) * win * c->ffn_dim,
        sizeof(float) * (size_t)chunk * (c->n_fft + 2),
        sizeof(float) * max_sz(lin, 1),
        sizeof(float) * (size_t)ex->n_threads * frame_floats(c),
        sizeof(float) * 2 * (2 * (size_t)c->n_fft + (size_t)pend * c->hop),   /* eg_ola_floats */
        sizeof(float) * ((size_t)pend * c->hop + 2 * (size_t)c->n_fft),
        harm ? sizeof(float) * eg_voice_src_floats(c, pend) : 0,
        harm ? sizeof(float) * (size_t)pend * (c->n_fft + 2) : 0,
        harm ? sizeof(float) * (size_t)pend * c->n_env : 0,
        harm ? sizeof(float) * 4 * (size_t)chunk : 0,
    };
    /* istft, vals (token history), phon (its phoneme ids), cols, x, h, f, spec, linear panels, frame scratch,
     * ola tail, pcm out; harmonic voice: source state, waiting noise rows, envelope rows, pitch rows */
    static const unsigned char group[] = { G_ISTFT, G_STATE, G_STATE, G_ACT, G_ACT, G_ACT, G_ACT, G_ACT, G_THREAD,
                                           G_THREAD, G_STATE, G_STATE, G_STATE, G_STATE, G_STATE, G_ACT };
    _Static_assert(sizeof group == sizeof sizes / sizeof sizes[0], "one group per buffer");
    void *p[sizeof sizes / sizeof sizes[0]];
    if (groups) memset(groups, 0, sizeof(size_t) * N_GROUPS);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        total += eg_arena_round(sizes[i]);
        if (groups) groups[group[i]] += eg_arena_round(sizes[i]);
        if (d) {
            p[i] = eg_arena_alloc(&d->arena, sizes[i]);
            if (!p[i]) return 0;
        }
    }
    if (d) {
        eg_istft_init(&d->istft, p[0], (int)c->n_fft, (int)c->hop);   /* sizes validated at load */
        d->vals = p[1]; d->phon = p[2]; d->cols = p[3]; d->x = p[4]; d->h = p[5]; d->f = p[6];
        d->spec = p[7]; d->lin_scratch = p[8]; d->frame_scratch = p[9];
        eg_ola_init(&d->ola, &d->istft, p[10], pend);
        d->pcm = p[11];
        d->harm = harm;
        d->pend_cap = pend;
        if (harm) eg_voice_src_init(&d->src, c, p[12], pend);
        d->pend_noise = p[13]; d->pend_env = p[14]; d->pitch = p[15];
    }
    return total;
}

size_t eg_decoder_arena_bytes(const struct eg_codec_model *m, const struct eg_exec *ex, const struct eg_decoder_params *p) {
    const int chunk = p ? p->chunk_frames : eg_decoder_default_params().chunk_frames;
    if (!m || !ex || chunk < 1 || chunk > (1 << 16)) return 0;
    return layout(NULL, m, ex, chunk, NULL);
}

enum eg_status eg_decoder_memplan(const struct eg_codec_model *m, const struct eg_exec *ex,
                                  const struct eg_decoder_params *p, struct eg_memplan *plan) {
    const int chunk = p ? p->chunk_frames : eg_decoder_default_params().chunk_frames;
    size_t groups[N_GROUPS];
    enum eg_status st = EG_OK;
    if (!m || !ex || ex->n_threads < 1 || chunk < 1 || chunk > (1 << 16) || !plan) return EG_ERR_INVALID_ARG;
    layout(NULL, m, ex, chunk, groups);
    for (int i = 0; i < N_GROUPS && st == EG_OK; i++) st = eg_memplan_add(plan, group_name[i], EG_MEM_HEAP, groups[i]);
    return st;
}

/* Estimator for `edgegen.codec` files (registered in runtime/pipeline/memplan_archs.c): one decoder for p->n_threads threads and
 * p->chunk_frames frames per window, as `edgegen decode` creates it. Weights are bound zero-copy (no repack);
 * every bound tensor is read for each window, so the whole mapping becomes resident (the "weights" part). */
enum eg_status eg_codec_memplan(const struct eg_gguf *g, const struct eg_memplan_params *p, struct eg_memplan *plan) {
    struct eg_codec_model *m;
    struct eg_exec fake;
    struct eg_decoder_params dp = eg_decoder_default_params();
    enum eg_status st;
    if ((st = eg_codec_model_from_gguf(g, &m)) != EG_OK) return st;
    memset(&fake, 0, sizeof fake);
    fake.n_threads = p && p->n_threads >= 1 && p->n_threads <= 256 ? p->n_threads : 1;
    if (p && p->chunk_frames >= 1) dp.chunk_frames = p->chunk_frames;
    st = eg_decoder_memplan(m, &fake, &dp, plan);
    eg_codec_model_destroy(m);
    return st;
}

enum eg_status eg_decoder_create(const struct eg_codec_model *m, struct eg_exec *ex, const struct eg_decoder_params *p,
                                 struct eg_decoder **out) {
    struct eg_decoder_params dp = p ? *p : eg_decoder_default_params();
    struct eg_decoder *d;
    enum eg_status st;

    *out = NULL;
    if (!m || !ex || ex->n_threads < 1) return EG_ERR_INVALID_ARG;
    if (dp.chunk_frames < 1 || dp.chunk_frames > (1 << 16)) {
        EG_LOGE("decoder: chunk_frames: expected 1..65536, found %d", dp.chunk_frames);
        return EG_ERR_INVALID_ARG;
    }
    if (dp.stage && m->cfg.voice) {
        EG_LOGE("decoder: the OpenCL stage does not run %s networks (pitch head, harmonic source); place the "
                "decoder on the CPU", EG_VOICE_ARCH);
        return EG_ERR_UNSUPPORTED;
    }
    if (dp.stage && eg_spectral_max_frames(dp.stage) < dp.chunk_frames) {
        EG_LOGE("decoder: OpenCL stage made for %d frames per window, chunk_frames is %d",
                eg_spectral_max_frames(dp.stage), dp.chunk_frames);
        return EG_ERR_INVALID_ARG;
    }
    d = calloc(1, sizeof *d);
    if (!d) return EG_ERR_NOMEM;
    d->m = m; d->ex = ex; d->chunk = dp.chunk_frames; d->stage = dp.stage;
    d->first_chunk = dp.first_chunk_frames >= 1 && dp.first_chunk_frames < dp.chunk_frames ? dp.first_chunk_frames
                                                                                          : dp.chunk_frames;
    d->k2 = (int)m->cfg.kernel_size / 2;
    d->R = eg_codec_receptive_frames(&m->cfg);
    d->R0 = d->k2 * (int)m->cfg.n_layers;
    d->n_lat = (int)m->cfg.latent_dim;
    d->n_cols = (int)(m->cfg.kernel_size * m->cfg.latent_dim);
    d->spec_ld = (int)m->cfg.n_fft + 2;
    d->frame_floats = frame_floats(&m->cfg);
    if ((st = eg_arena_init(&d->arena, layout(NULL, m, ex, d->chunk, NULL))) != EG_OK) goto err_free_dec;
    if (!layout(d, m, ex, d->chunk, NULL)) { st = EG_ERR_INTERNAL; goto err_free_arena; }
    eg_decoder_reset(d);
    *out = d;
    return EG_OK;

err_free_arena:
    eg_arena_free(&d->arena);
err_free_dec:
    free(d);
    return st;
}

void eg_decoder_destroy(struct eg_decoder *d) {
    if (!d) return;
    eg_arena_free(&d->arena);
    free(d);
}

void eg_decoder_reset(struct eg_decoder *d) {
    d->hist0 = 0; d->n_hist = 0;
    d->n_recv = 0; d->n_done = 0; d->n_syn = 0; d->n_total = INT64_MAX;
    eg_ola_reset(&d->ola);
    if (d->harm) eg_voice_src_reset(&d->src);
}

int64_t eg_decoder_frames_computed(const struct eg_decoder *d) { return d->n_computed; }

enum eg_status eg_decoder_check_tokens(const struct eg_codec_config *cfg, const int32_t *tokens, int n, int64_t first_pos) {
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= cfg->n_codes) {
            EG_LOGE("token %lld: value %d out of range [0, %u)", (long long)(first_pos + i), tokens[i], cfg->n_codes);
            return EG_ERR_INVALID_ARG;
        }
    return EG_OK;
}

/* FSQ: code → mixed-radix digits (digit 0 least significant) → value_d = (digit_d - h_d) / h_d. */
static void token_values(const struct eg_codec_config *c, int32_t tok, float *v) {
    uint32_t code = (uint32_t)tok;
    for (uint32_t i = 0; i < c->latent_dim; i++) {
        const uint32_t l = c->fsq_levels[i], digit = code % l;
        const float h = (float)((l - 1) / 2);
        code /= l;
        v[i] = ((float)digit - h) / h;
    }
}

/* ---- spectral head → time frames, one task per frame ---------------------------------------------------- */

struct spec_job { struct eg_decoder *d; int reim; };   /* reim: rows already hold [re | im] (device) */

static void spec_task(void *arg, int task, int thread) {
    struct eg_decoder *d = ((struct spec_job *)arg)->d;
    const struct eg_kernels *k = &d->ex->k;
    const int nb = (int)d->m->cfg.n_fft / 2 + 1;
    const size_t stride = round16((size_t)nb);
    float *row = d->spec + (size_t)task * d->spec_ld;
    float *re = d->frame_scratch + (size_t)thread * d->frame_floats;
    float *im = re + stride, *sn = im + stride, *cs = sn + stride, *fft = cs + stride;
    const float clamp = d->m->cfg.mag_clamp;

    if (((struct spec_job *)arg)->reim) {   /* spectra from the OpenCL stage; out may alias re and im */
        eg_istft_frame(&d->istft, row, row, row + nb, fft);
        return;
    }
    /* mag = min(exp(logmag), mag_clamp) (NaN stays NaN, as torch.clamp); X = mag * (cos, sin)(phase) */
    k->exp_f32(re, row, nb);
    for (int i = 0; i < nb; i++) if (re[i] > clamp) re[i] = clamp;
    k->sincos_f32(sn, cs, row + nb, nb);
    k->mul_f32(im, re, sn, nb);
    k->mul_f32(re, re, cs, nb);
    eg_istft_frame(&d->istft, row, re, im, fft);
}

/* ---- the ops of models/stage.h on the CPU: the kernel table and the pool, on the decoder's arena ---------- */

static float *cpu_buf(struct eg_decoder *d, enum eg_stage_buf b, int row) {
    const struct eg_codec_config *c = &d->m->cfg;
    switch (b) {
    case EG_SB_COLS: return d->cols + (size_t)row * d->n_cols;
    case EG_SB_X:    return d->x + (size_t)row * c->dim;
    case EG_SB_H:    return d->h + (size_t)row * c->dim;
    case EG_SB_F:    return d->f + (size_t)row * c->ffn_dim;
    case EG_SB_SPEC: return d->spec + (size_t)row * d->spec_ld;
    default:         return NULL;
    }
}
static int cpu_ld(const struct eg_decoder *d, enum eg_stage_buf b) {
    const struct eg_codec_config *c = &d->m->cfg;
    return b == EG_SB_COLS ? d->n_cols : b == EG_SB_F ? (int)c->ffn_dim : b == EG_SB_SPEC ? d->spec_ld : (int)c->dim;
}

static enum eg_status cpu_put(void *be, enum eg_stage_buf b, int row, int n_rows, const float *src) {
    struct eg_decoder *d = be;
    float *dst = cpu_buf(d, b, row);
    if (dst != src) memmove(dst, src, sizeof(float) * (size_t)n_rows * cpu_ld(d, b));
    return EG_OK;
}

static enum eg_status cpu_zero(void *be, enum eg_stage_buf b, int row, int n_rows) {
    struct eg_decoder *d = be;
    memset(cpu_buf(d, b, row), 0, sizeof(float) * (size_t)n_rows * cpu_ld(d, b));
    return EG_OK;
}

static const struct eg_linear *cpu_lin(const struct eg_decoder *d, enum eg_stage_weight w, int layer) {
    const struct eg_codec_weights *wt = &d->m->w;
    return w == EG_SW_EMBED ? &wt->embed : w == EG_SW_PW1 ? &wt->blocks[layer].pw1 :
           w == EG_SW_PW2 ? &wt->blocks[layer].pw2 : &wt->head;
}

static enum eg_status cpu_linear(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                                 enum eg_stage_buf x, int x_row, int n_rows, enum eg_act act) {
    struct eg_decoder *d = be;
    const struct eg_linear *lin = cpu_lin(d, w, layer);
    eg_linear_rows(d->ex, lin, cpu_buf(d, y, y_row), cpu_ld(d, y), cpu_buf(d, x, x_row), cpu_ld(d, x), n_rows, act,
                   w == EG_SW_EMBED ? NULL : d->lin_scratch);
    return EG_OK;
}

static enum eg_status cpu_add(void *be, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row, int n_rows) {
    struct eg_decoder *d = be;
    const int dim = (int)d->m->cfg.dim;
    for (int i = 0; i < n_rows; i++) {
        float *yr = cpu_buf(d, y, y_row + i);
        d->ex->k.add_f32(yr, yr, cpu_buf(d, x, x_row + i), dim);
    }
    return EG_OK;
}

static enum eg_status cpu_layer_norm(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                                     enum eg_stage_buf x, int x_row, int n_rows) {
    struct eg_decoder *d = be;
    const struct eg_codec_weights *wt = &d->m->w;
    const float *g = w == EG_SW_NORM ? wt->norm_w : w == EG_SW_BLOCK_NORM ? wt->blocks[layer].norm_w : wt->final_norm_w;
    const float *b = w == EG_SW_NORM ? wt->norm_b : w == EG_SW_BLOCK_NORM ? wt->blocks[layer].norm_b : wt->final_norm_b;
    d->ex->k.layer_norm_f32(cpu_buf(d, y, y_row), cpu_buf(d, x, x_row), g, b, n_rows, (int)d->m->cfg.dim,
                            d->m->cfg.layer_norm_eps);
    return EG_OK;
}

static enum eg_status cpu_conv_dw(void *be, int layer, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row,
                                  int n_rows) {
    struct eg_decoder *d = be;
    const struct eg_codec_block *b = &d->m->w.blocks[layer];
    d->ex->k.conv1d_dw_f32(cpu_buf(d, y, y_row), cpu_buf(d, x, x_row), b->dw_w, b->dw_b, n_rows, (int)d->m->cfg.dim,
                           (int)d->m->cfg.kernel_size);
    return EG_OK;
}

static enum eg_status cpu_residual(void *be, int layer, enum eg_stage_buf x, int x_row, enum eg_stage_buf h, int h_row,
                                   int n_rows) {
    struct eg_decoder *d = be;
    const struct eg_kernels *k = &d->ex->k;
    const float *gamma = d->m->w.blocks[layer].gamma;
    const int dim = (int)d->m->cfg.dim;
    for (int i = 0; i < n_rows; i++) {   /* x = x + gamma * y, rounded as torch: (gamma * y), then the add */
        float *hr = cpu_buf(d, h, h_row + i), *xr = cpu_buf(d, x, x_row + i);
        k->mul_f32(hr, hr, gamma, dim);
        k->add_f32(xr, xr, hr, dim);
    }
    return EG_OK;
}

static enum eg_status cpu_spectrum(void *be, int n_rows, float *spec, int ld, int *reim) {
    (void)be; (void)n_rows; (void)spec; (void)ld;   /* the head wrote the rows in place (spec is d->spec) */
    *reim = 0;   /* the iSTFT tasks turn [log-mag | phase] into spectra, one frame per task */
    return EG_OK;
}

static const struct eg_stage_ops cpu_ops = {
    cpu_put, cpu_zero, cpu_linear, cpu_add, cpu_layer_norm, cpu_conv_dw, cpu_residual, cpu_spectrum,
};

/* ---- one window: frames [a, a + c) ------------------------------------------------------------------------ */

/* Phoneme-embedding row of frame fr (phoneme-conditioned decoders; fr in the token history). */
static const float *phone_row(const struct eg_decoder *d, int64_t fr) {
    return d->m->w.phone_embed + (size_t)d->phon[fr - d->hist0] * d->m->cfg.dim;
}

/* The network of one window, on any backend: d->cols holds the embed im2col rows of frames [e0, e1) (and, for
 * a phoneme-conditioned decoder, d->h their phoneme-embedding rows); leaves the c output frames' spectra in
 * d->spec ([re | im] when *reim, else [log-mag | phase]). Every stage computes the rows the next one needs,
 * clipped to [0, end) with zero padding as the whole-utterance model (see the top of this file). */
struct window { struct eg_decoder *d; int64_t a, end, e0, e1; int c, reim; };

static enum eg_status network(void *arg, const struct eg_stage_ops *o, void *be) {
    struct window *wi = arg;
    struct eg_decoder *d = wi->d;
    const struct eg_codec_config *cfg = &d->m->cfg;
    const int64_t a = wi->a, end = wi->end, e0 = wi->e0, e1 = wi->e1, xbase = a - d->R0;
    const int k2 = d->k2, c = wi->c, n_emb = (int)(e1 - e0);
    const int x_rows = k2 + c + 2 * d->R0 + k2;   /* the X rows this window can read */
    enum eg_status st;
#define XR(fr) ((int)(k2 + ((fr) - xbase)))
#define TRY(call) do { if ((st = (call)) != EG_OK) return st; } while (0)
    TRY(o->put(be, EG_SB_COLS, 0, n_emb, d->cols));
    if (XR(e0) > 0) TRY(o->zero(be, EG_SB_X, 0, XR(e0)));               /* frames before 0 and the pad rows */
    if (XR(e1) < x_rows) TRY(o->zero(be, EG_SB_X, XR(e1), x_rows - XR(e1)));   /* frames from end on */
    /* x_t = conv(v)_t [+ E[phone_t]], then the LayerNorm (codec_model.Decoder.spectral) */
    TRY(o->linear(be, EG_SW_EMBED, 0, EG_SB_X, XR(e0), EG_SB_COLS, 0, n_emb, EG_ACT_NONE));
    if (d->m->w.phone_embed) {
        TRY(o->put(be, EG_SB_H, 0, n_emb, d->h));
        TRY(o->add(be, EG_SB_X, XR(e0), EG_SB_H, 0, n_emb));
    }
    TRY(o->layer_norm(be, EG_SW_NORM, 0, EG_SB_X, XR(e0), EG_SB_X, XR(e0), n_emb));
    d->n_computed += n_emb;
    for (int l = 0; l < (int)cfg->n_layers; l++) {
        const int64_t r = (int64_t)k2 * ((int)cfg->n_layers - 1 - l);
        const int64_t o0 = a - r < 0 ? 0 : a - r, o1 = a + c + r > end ? end : a + c + r;
        const int n = (int)(o1 - o0);
        /* dwconv input: frames [o0 - k2, o1 + k2), the previous stage's rows inside [0, end), zeros outside */
        TRY(o->conv_dw(be, l, EG_SB_H, 0, EG_SB_X, XR(o0) - k2, n));
        TRY(o->layer_norm(be, EG_SW_BLOCK_NORM, l, EG_SB_H, 0, EG_SB_H, 0, n));
        TRY(o->linear(be, EG_SW_PW1, l, EG_SB_F, 0, EG_SB_H, 0, n, EG_ACT_GELU));
        TRY(o->linear(be, EG_SW_PW2, l, EG_SB_H, 0, EG_SB_F, 0, n, EG_ACT_NONE));
        TRY(o->residual(be, l, EG_SB_X, XR(o0), EG_SB_H, 0, n));
        d->n_computed += n;
    }
    /* final LN + head on the c output frames */
    TRY(o->layer_norm(be, EG_SW_FINAL_NORM, 0, EG_SB_H, 0, EG_SB_X, XR(a), c));
    TRY(o->linear(be, EG_SW_HEAD, 0, EG_SB_SPEC, 0, EG_SB_H, 0, c, EG_ACT_NONE));
    TRY(o->spectrum(be, c, d->spec, d->spec_ld, &wi->reim));
#undef TRY
#undef XR
    return EG_OK;
}

/* ---- voice v2, harmonic: frames wait until their source window is generated -------------------------------- */

static void voice_task(void *arg, int task, int thread) {
    struct eg_decoder *d = arg;
    const struct eg_codec_config *c = &d->m->cfg;
    const size_t nb = round16(c->n_fft / 2 + 1);
    float *src = d->frame_scratch + (size_t)thread * d->frame_floats, *re = src + round16(c->n_fft), *im = re + nb;
    float *row = d->pend_noise + (size_t)task * d->spec_ld;
    const int ok = eg_voice_src_window(&d->src, d->n_syn + task, d->n_total, src);
    EG_ASSERT(ok);   /* voice_synth only hands out frames whose window is generated */
    (void)ok;
    eg_voice_spectrum(c, &d->ex->k, &d->istft, row, d->pend_env + (size_t)task * c->n_env, src, d->n_syn + task,
                      d->n_total, re, im, im + nb);
    eg_istft_frame(&d->istft, row, re, im, im + nb);   /* the time frame replaces the noise row */
}

/* Pitch and envelope heads of the window's c frames (final LN rows in d->h), queued behind the waiting ones. */
static enum eg_status voice_queue(struct eg_decoder *d, int c) {
    const struct eg_codec_config *cfg = &d->m->cfg;
    const int off = (int)(d->n_done - d->n_syn), dim = (int)cfg->dim;
    EG_CHECK(off >= 0 && off + c <= d->pend_cap);
    eg_linear_rows(d->ex, &d->m->w.pitch_head, d->pitch, 2, d->h, dim, c, EG_ACT_NONE, d->lin_scratch);
    eg_linear_rows(d->ex, &d->m->w.env_head, d->pend_env + (size_t)off * cfg->n_env, (int)cfg->n_env, d->h, dim, c,
                   EG_ACT_NONE, d->lin_scratch);
    memcpy(d->pend_noise + (size_t)off * d->spec_ld, d->spec, sizeof(float) * (size_t)c * d->spec_ld);
    eg_voice_src_push_pitch(&d->src, &d->ex->k, d->pitch, 2, c, d->pitch + 2 * (size_t)c);
    return EG_OK;
}

/* Generate the source as far as the known F0 allows, then synthesise and overlap-add every waiting frame whose
 * source window is complete (final: the stream has ended, all of them). */
static enum eg_status voice_synth(struct eg_decoder *d, int final) {
    const struct eg_codec_config *c = &d->m->cfg;
    const int64_t pl = (int64_t)(c->n_fft - c->hop) / 2;
    int n = 0;
    eg_voice_src_generate(&d->src, &d->ex->k, final);
    while (d->n_syn + n < d->n_done) {
        const int64_t end = (d->n_syn + n) * (int64_t)c->hop - pl + c->n_fft;
        if ((end < d->n_total ? end : d->n_total) > d->src.n_gen) break;
        n++;
    }
    EG_CHECK(!final || d->n_syn + n == d->n_done);
    if (!n) return EG_OK;
    eg_exec_parallel(d->ex, n, voice_task, d);
    for (int i = 0; i < n; i++) eg_ola_add(&d->ola, &d->istft, d->pend_noise + (size_t)i * d->spec_ld);
    const int keep = (int)(d->n_done - d->n_syn - n);
    memmove(d->pend_noise, d->pend_noise + (size_t)n * d->spec_ld, sizeof(float) * (size_t)keep * d->spec_ld);
    memmove(d->pend_env, d->pend_env + (size_t)n * c->n_env, sizeof(float) * (size_t)keep * c->n_env);
    d->n_syn += n;
    eg_voice_src_drop(&d->src, d->n_syn * (int64_t)c->hop - pl);
    return EG_OK;
}

static enum eg_status decode_frames(struct eg_decoder *d, int c, eg_pcm_sink sink, void *user) {
    const int64_t a = d->n_done, end = d->n_recv;
    const int dim = (int)d->m->cfg.dim, kw = (int)d->m->cfg.kernel_size, k2 = d->k2, lat = d->n_lat;
    struct window wi = { d, a, end, a - d->R0 < 0 ? 0 : a - d->R0, a + c + d->R0 > end ? end : a + c + d->R0, c, 0 };
    enum eg_status st;

    /* embed conv over frames [e0, e1): im2col rows [kernel][latent] with zero values outside [0, end) */
    EG_CHECK(wi.e0 - (a - d->R0) >= 0 && wi.e1 - (a - d->R0) <= d->chunk + 2 * d->R0 && wi.e0 >= d->hist0 &&
             (wi.e1 + k2 > end ? end : wi.e1 + k2) <= d->hist0 + d->n_hist);
    eg_im2col(d->cols, d->vals, d->hist0, 0, end, wi.e0, (int)(wi.e1 - wi.e0), kw, lat);
    if (d->m->w.phone_embed)   /* the phoneme rows of frames [e0, e1), staged in h (unused until the blocks) */
        for (int64_t o = wi.e0; o < wi.e1; o++) memcpy(d->h + (size_t)(o - wi.e0) * dim, phone_row(d, o), sizeof(float) * dim);
    /* OpenCL (optional): the network of this window on the device; EG_ERR_UNSUPPORTED means "not on the device
     * (any more)": compute the window here. Nothing of it has been emitted yet. */
    st = d->stage ? eg_spectral_window(d->stage, network, &wi) : EG_ERR_UNSUPPORTED;
    if (st == EG_ERR_UNSUPPORTED) st = network(&wi, &cpu_ops, d);   /* a device reads d->cols and d->h only */
    if (st != EG_OK) return st;
    if (d->harm) {      /* the OpenCL stage never runs a voice network (eg_decoder_create): d->h is the CPU's */
        if ((st = voice_queue(d, c)) != EG_OK) return st;
        d->n_done += c;
        if ((st = voice_synth(d, 0)) != EG_OK) return st;
    } else {
        struct spec_job sj = { d, wi.reim };
        eg_exec_parallel(d->ex, c, spec_task, &sj);
        for (int i = 0; i < c; i++) eg_ola_add(&d->ola, &d->istft, d->spec + (size_t)i * d->spec_ld);
        d->n_done += c;
    }

    /* drop token values no later window needs (frames below n_done - R) */
    const int64_t keep0 = d->n_done - d->R > 0 ? d->n_done - d->R : 0;
    if (keep0 > d->hist0) {
        const int drop = (int)(keep0 - d->hist0);
        memmove(d->vals, d->vals + (size_t)drop * lat, sizeof(float) * (size_t)(d->n_hist - drop) * lat);
        memmove(d->phon, d->phon + drop, sizeof(int32_t) * (size_t)(d->n_hist - drop));
        d->n_hist -= drop;
        d->hist0 = keep0;
    }
    const int n_pcm = eg_ola_emit(&d->ola, &d->istft, d->pcm, 0);
    return n_pcm > 0 && sink ? sink(user, d->pcm, n_pcm) : EG_OK;
}

enum eg_status eg_decoder_check_phonemes(const struct eg_codec_config *cfg, const int32_t *phones, int n,
                                         int64_t first_pos) {
    if (!cfg->n_phonemes) return EG_OK;        /* not conditioned: phoneme ids are ignored */
    if (n > 0 && !phones) {
        EG_LOGE("decoder: this codec is phoneme-conditioned (edgegen.codec.n_phonemes = %u): frame phoneme ids are "
                "required, found none", cfg->n_phonemes);
        return EG_ERR_INVALID_ARG;
    }
    for (int i = 0; i < n; i++)
        if (phones[i] < 0 || (uint32_t)phones[i] >= cfg->n_phonemes) {
            EG_LOGE("phoneme of frame %lld: id %d out of range [0, %u)", (long long)(first_pos + i), phones[i],
                    cfg->n_phonemes);
            return EG_ERR_INVALID_ARG;
        }
    return EG_OK;
}

enum eg_status eg_decoder_push(struct eg_decoder *d, const int32_t *tokens, const int32_t *phones, int n,
                               eg_pcm_sink sink, void *user) {
    const int cap = d->chunk + 2 * d->R, lat = d->n_lat;
    const int cond = d->m->cfg.n_phonemes > 0;
    enum eg_status st;
    if (n < 0 || (n > 0 && !tokens)) return EG_ERR_INVALID_ARG;
    if ((st = eg_decoder_check_tokens(&d->m->cfg, tokens, n, d->n_recv)) != EG_OK) return st;
    if ((st = eg_decoder_check_phonemes(&d->m->cfg, phones, n, d->n_recv)) != EG_OK) return st;
    for (int i = 0; i < n;) {
        int take = cap - d->n_hist;
        EG_CHECK(take > 0);
        if (take > n - i) take = n - i;
        for (int j = 0; j < take; j++) token_values(&d->m->cfg, tokens[i + j], d->vals + (size_t)(d->n_hist + j) * lat);
        if (cond) memcpy(d->phon + d->n_hist, phones + i, sizeof(int32_t) * (size_t)take);
        d->n_hist += take; d->n_recv += take; i += take;
        /* a window of `chunk` frames (the first one: `first_chunk`) is ready once R tokens of right context
         * have arrived */
        for (int w = d->n_done ? d->chunk : d->first_chunk; d->n_recv - d->R - d->n_done >= w; w = d->chunk)
            if ((st = decode_frames(d, w, sink, user)) != EG_OK) return st;
    }
    return EG_OK;
}

enum eg_status eg_decoder_flush(struct eg_decoder *d, eg_pcm_sink sink, void *user) {
    enum eg_status st = EG_OK;
    while (d->n_done < d->n_recv) {
        const int64_t left = d->n_recv - d->n_done;
        if ((st = decode_frames(d, left < d->chunk ? (int)left : d->chunk, sink, user)) != EG_OK) break;
    }
    if (st == EG_OK && d->harm) {   /* the stream ends here: the last frames' windows see zeros from n_done * hop on */
        d->n_total = d->n_done * (int64_t)d->m->cfg.hop;
        st = voice_synth(d, 1);
    }
    if (st == EG_OK) {
        const int n_pcm = eg_ola_emit(&d->ola, &d->istft, d->pcm, 1);
        if (n_pcm > 0 && sink) st = sink(user, d->pcm, n_pcm);
    }
    eg_decoder_reset(d);
    return st;
}

struct buf_sink { float *pcm; int64_t n, cap; };

static enum eg_status buf_sink_fn(void *user, const float *pcm, int n) {
    struct buf_sink *b = user;
    EG_CHECK(b->n + n <= b->cap);
    memcpy(b->pcm + b->n, pcm, sizeof(float) * (size_t)n);
    b->n += n;
    return EG_OK;
}

enum eg_status eg_decoder_run(struct eg_decoder *d, const int32_t *tokens, const int32_t *phones, int n, float *pcm) {
    struct buf_sink b = { pcm, 0, (int64_t)n * d->m->cfg.hop };
    enum eg_status st;
    eg_decoder_reset(d);
    if ((st = eg_decoder_push(d, tokens, phones, n, buf_sink_fn, &b)) != EG_OK) { eg_decoder_reset(d); return st; }
    if ((st = eg_decoder_flush(d, buf_sink_fn, &b)) != EG_OK) return st;
    EG_CHECK(b.n == b.cap);
    return EG_OK;
}
