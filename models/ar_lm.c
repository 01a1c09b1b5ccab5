/* models/ar_lm.c — pico-AR inference, reproducing models/train/ar_model.py (PicoAR.encoder, .duration,
 * regulate/condition, and decode() one frame at a time with a KV cache). See ar_lm.h for the model in brief.
 *
 * Layout: activations are row-major [rows][dim]. Encoder: every Linear is eg_linear_rows over all P phonemes;
 * attention per head as two gemm_f32 calls (S = Q K^T, O = softmax(S) V via V^T). Decoder: one frame per step,
 * every Linear eg_linear_vec; the KV cache is head-major [layer][head][W][head_dim], a ring indexed by
 * pos % W, so the scores for one head are one matvec over the W cached keys. The window holds exactly the frames
 * t-W+1 .. t, which is PicoAR.window_mask. Softmax and the weighted sum run over ring slots (not position order):
 * the same values, summed in another order than torch, deterministic for a given position.
 * Numerics follow torch's order where it is cheap: x = (sum of digit rows) + (cond_proj(enc) + f * cond_frac);
 * scores = (q . k) / sqrt(head_dim); RoPE angle = (float)pos * inv_freq in f32, as rope_tables().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/ar_lm.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"

/* ==== model loading ======================================================================================== */

static enum eg_status get_f32_range(const struct eg_gguf *g, const char *key, float lo, float hi, float *out) {
    enum eg_status st = eg_gguf_get_f32(g, key, out);
    if (st != EG_OK) return st;
    if (!(*out > lo && *out <= hi)) {
        EG_LOGE("%s: key %s: expected a value in (%g, %g], found %g", eg_gguf_label(g), key, (double)lo, (double)hi,
                (double)*out);
        return EG_ERR_FORMAT;
    }
    return EG_OK;
}

static enum eg_status read_config(const struct eg_gguf *g, struct eg_ar_config *c) {
    const char *lbl = eg_gguf_label(g);
    enum eg_status st;
    int n_lv = 0;

    memset(c, 0, sizeof *c);
    if ((st = eg_gguf_expect_arch(g, EG_AR_ARCH)) != EG_OK) return st;
#define U32(key, lo, hi, field) if ((st = eg_gguf_get_u32_range(g, "edgegen.ar." key, lo, hi, &c->field)) != EG_OK) return st
    U32("n_phonemes", 1, 1u << 16, n_phonemes);
    U32("dim", 2, 1u << 14, dim);
    U32("n_heads", 1, 1024, n_heads);
    U32("ffn_dim", 1, 1u << 16, ffn_dim);
    U32("enc_layers", 0, 64, enc_layers);
    U32("dec_layers", 1, 64, dec_layers);
    U32("window", 1, 1u << 16, window);
    U32("dur_kernel_size", 1, 31, dur_kernel);
    U32("pad_id", 0, c->n_phonemes - 1, pad_id);
    U32("bos_id", 0, c->n_phonemes - 1, bos_id);
    U32("eos_id", 0, c->n_phonemes - 1, eos_id);
#undef U32
    if ((st = get_f32_range(g, "edgegen.ar.rope_theta", 1.0f, 1e9f, &c->rope_theta)) != EG_OK) return st;
    if ((st = get_f32_range(g, "edgegen.ar.norm_eps", 0.0f, 0.5f, &c->norm_eps)) != EG_OK) return st;
    if ((st = get_f32_range(g, "edgegen.ar.dur_norm_eps", 0.0f, 0.5f, &c->dur_norm_eps)) != EG_OK) return st;
    c->length_scale = 1.0f;                  /* optional: files exported before the key existed mean "as predicted" */
    if (eg_gguf_has_key(g, "edgegen.ar.length_scale") &&
        (st = get_f32_range(g, "edgegen.ar.length_scale", 0.25f, 4.0f, &c->length_scale)) != EG_OK) return st;
    if (c->dim % c->n_heads != 0 || (c->dim / c->n_heads) % 2 != 0) {
        EG_LOGE("%s: key edgegen.ar.n_heads: expected a divisor of dim %u leaving an even head size, found %u", lbl,
                c->dim, c->n_heads);
        return EG_ERR_FORMAT;
    }
    c->head_dim = c->dim / c->n_heads;
    if (c->dur_kernel % 2 == 0) {
        EG_LOGE("%s: key edgegen.ar.dur_kernel_size: expected an odd value (\"same\" padding), found %u", lbl,
                c->dur_kernel);
        return EG_ERR_FORMAT;
    }
    if ((st = eg_gguf_get_arr_u32(g, "edgegen.ar.fsq_levels", c->fsq_levels, EG_AR_MAX_FSQ, &n_lv)) != EG_OK) return st;
    if (n_lv < 1) {
        EG_LOGE("%s: key edgegen.ar.fsq_levels: expected 1..%d levels, found 0", lbl, EG_AR_MAX_FSQ);
        return EG_ERR_FORMAT;
    }
    c->n_levels = (uint32_t)n_lv;
    uint64_t n_codes = 1;
    for (int i = 0; i < n_lv; i++) {
        if (c->fsq_levels[i] < 2 || c->fsq_levels[i] > 1024) {
            EG_LOGE("%s: key edgegen.ar.fsq_levels[%d]: expected a level count in [2, 1024], found %u", lbl, i,
                    c->fsq_levels[i]);
            return EG_ERR_FORMAT;
        }
        n_codes *= c->fsq_levels[i];
        if (n_codes > (1u << 20)) {
            EG_LOGE("%s: key edgegen.ar.fsq_levels: expected at most 2^20 codes in total, found more", lbl);
            return EG_ERR_FORMAT;
        }
    }
    c->n_codes = (uint32_t)n_codes;
    if (eg_gguf_arr_len(g, "edgegen.ar.phonemes") != (int)c->n_phonemes) {
        EG_LOGE("%s: key edgegen.ar.phonemes: expected a string array of n_phonemes = %u symbols, found length %d",
                lbl, c->n_phonemes, eg_gguf_arr_len(g, "edgegen.ar.phonemes"));
        return EG_ERR_FORMAT;
    }
    const char *sym;
    if ((st = eg_gguf_get_arr_str(g, "edgegen.ar.phonemes", 0, &sym)) != EG_OK) return st;   /* type check */
    return EG_OK;
}

/* Conv1d weight stored (out, k, in) = ne [in, k, out]: one im2col row of k*in per output channel, + bias. */
static enum eg_status bind_conv(const struct eg_gguf *g, const char *name, int64_t c, int64_t k,
                                struct eg_linear *lin) {
    char wname[128], bname[128];
    const struct eg_gguf_tensor *w, *b;
    const int64_t ne_w[3] = { c, k, c }, ne_b[1] = { c };
    enum eg_status st;

    snprintf(wname, sizeof wname, "%s.weight", name);
    snprintf(bname, sizeof bname, "%s.bias", name);
    if ((st = eg_gguf_bind(g, wname, EG_MATRIX_TYPES, 3, ne_w, &w)) != EG_OK) return st;
    if ((st = eg_gguf_bind(g, bname, EG_DTYPE_BIT(EG_DTYPE_F32), 1, ne_b, &b)) != EG_OK) return st;
    lin->type = w->type;
    lin->w = w->data;
    lin->b = b->data;
    lin->n_in = (int)(k * c);
    lin->n_out = (int)c;
    lin->row_bytes = (size_t)eg_dtype_row_bytes(w->type, (uint64_t)(k * c));  /* = k rows of c: blocks never straddle */
    return EG_OK;
}

static enum eg_status bind_block(const struct eg_gguf *g, const char *prefix, const struct eg_ar_config *c,
                                 struct eg_ar_block *b) {
    char name[128];
    enum eg_status st;
    const int64_t d = c->dim, f = c->ffn_dim;
#define N(s) (snprintf(name, sizeof name, "%s.%s", prefix, s), name)
    if ((st = eg_bind_f32(g, N("norm1.weight"), 1, d, 1, 1, &b->norm1)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("wq"), d, d, EG_MATRIX_TYPES, 0, &b->wq)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("wk"), d, d, EG_MATRIX_TYPES, 0, &b->wk)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("wv"), d, d, EG_MATRIX_TYPES, 0, &b->wv)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("wo"), d, d, EG_MATRIX_TYPES, 0, &b->wo)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, N("norm2.weight"), 1, d, 1, 1, &b->norm2)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("up"), d, f, EG_MATRIX_TYPES, 0, &b->up)) != EG_OK) return st;
    if ((st = eg_bind_linear(g, N("down"), f, d, EG_MATRIX_TYPES, 0, &b->down)) != EG_OK) return st;
#undef N
    return EG_OK;
}

static enum eg_status bind_weights(const struct eg_gguf *g, const struct eg_ar_config *c, struct eg_ar_weights *w) {
    const int64_t d = c->dim;
    const float *pb;
    char name[128];
    enum eg_status st;

    if ((st = eg_bind_f32(g, "encoder.embed.weight", 2, d, c->n_phonemes, 1, &w->enc_embed)) != EG_OK) return st;
    for (uint32_t i = 0; i < c->enc_layers; i++) {
        snprintf(name, sizeof name, "encoder.blocks.%u", i);
        if ((st = bind_block(g, name, c, &w->enc[i])) != EG_OK) return st;
    }
    if ((st = eg_bind_f32(g, "encoder.norm.weight", 1, d, 1, 1, &w->enc_norm)) != EG_OK) return st;
    if ((st = bind_conv(g, "duration.conv1", d, c->dur_kernel, &w->dur_conv1)) != EG_OK) return st;
    if ((st = bind_conv(g, "duration.conv2", d, c->dur_kernel, &w->dur_conv2)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.norm1.weight", 1, d, 1, 1, &w->dur_norm1_w)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.norm1.bias", 1, d, 1, 1, &w->dur_norm1_b)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.norm2.weight", 1, d, 1, 1, &w->dur_norm2_w)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.norm2.bias", 1, d, 1, 1, &w->dur_norm2_b)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.proj.weight", 2, d, 1, 1, &w->dur_proj_w)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "duration.proj.bias", 1, 1, 1, 1, &pb)) != EG_OK) return st;
    w->dur_proj_b = pb[0];
    if ((st = eg_bind_linear(g, "cond_proj", d, d, EG_MATRIX_TYPES, 1, &w->cond_proj)) != EG_OK) return st;
    if ((st = eg_bind_f32(g, "cond_frac", 1, d, 1, 1, &w->cond_frac)) != EG_OK) return st;
    for (uint32_t i = 0; i < c->n_levels; i++) {
        snprintf(name, sizeof name, "digit_emb.%u.weight", i);
        if ((st = eg_bind_f32(g, name, 2, d, (int64_t)c->fsq_levels[i] + 1, 1, &w->digit_emb[i])) != EG_OK) return st;
    }
    for (uint32_t i = 0; i < c->dec_layers; i++) {
        snprintf(name, sizeof name, "blocks.%u", i);
        if ((st = bind_block(g, name, c, &w->dec[i])) != EG_OK) return st;
    }
    if ((st = eg_bind_f32(g, "norm_f.weight", 1, d, 1, 1, &w->norm_f)) != EG_OK) return st;
    return eg_bind_linear(g, "head", d, c->n_codes, EG_MATRIX_TYPES, 0, &w->head);
}

enum eg_status eg_ar_model_from_gguf(const struct eg_gguf *g, struct eg_ar_model **out) {
    struct eg_ar_model *m;
    enum eg_status st;

    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (!g) return EG_ERR_INVALID_ARG;
    m = calloc(1, sizeof *m);
    if (!m) return EG_ERR_NOMEM;
    if ((st = read_config(g, &m->cfg)) != EG_OK) goto err_free_model;
    m->blocks = calloc((size_t)m->cfg.enc_layers + m->cfg.dec_layers, sizeof *m->blocks);
    if (!m->blocks) { st = EG_ERR_NOMEM; goto err_free_model; }
    m->w.enc = m->blocks;
    m->w.dec = m->blocks + m->cfg.enc_layers;
    if ((st = bind_weights(g, &m->cfg, &m->w)) != EG_OK) goto err_free_blocks;
    m->gguf = (struct eg_gguf *)g;
    *out = m;
    return EG_OK;

err_free_blocks:
    free(m->blocks);
err_free_model:
    free(m);
    return st;
}

enum eg_status eg_ar_model_load(const char *path, struct eg_ar_model **out) {
    struct eg_gguf *g;
    enum eg_status st;

    if (!out || !path) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if ((st = eg_gguf_open(path, &g)) != EG_OK) return st;
    if ((st = eg_ar_model_from_gguf(g, out)) != EG_OK) {
        eg_gguf_close(g);
        return st;
    }
    (*out)->owns_gguf = 1;
    return EG_OK;
}

void eg_ar_model_destroy(struct eg_ar_model *m) {
    if (!m) return;
    if (m->owns_gguf) eg_gguf_close(m->gguf);
    free(m->blocks);
    free(m);
}

const char *eg_ar_model_phoneme(const struct eg_ar_model *m, int id) {
    const char *s = NULL;
    if (!m || id < 0 || (uint32_t)id >= m->cfg.n_phonemes) return NULL;
    return eg_gguf_get_arr_str(m->gguf, "edgegen.ar.phonemes", id, &s) == EG_OK ? s : NULL;
}

static uint64_t lin_bytes(const struct eg_linear *l) { return (uint64_t)l->n_out * l->row_bytes; }

uint64_t eg_ar_weight_bytes_per_frame(const struct eg_ar_model *m) {
    const struct eg_ar_config *c = &m->cfg;
    uint64_t b = 0;
    for (uint32_t i = 0; i < c->dec_layers; i++) {
        const struct eg_ar_block *k = &m->w.dec[i];
        b += lin_bytes(&k->wq) + lin_bytes(&k->wk) + lin_bytes(&k->wv) + lin_bytes(&k->wo) + lin_bytes(&k->up) +
             lin_bytes(&k->down) + 2ull * c->dim * sizeof(float);
    }
    /* final norm, head, one row per digit table, cond_frac (the cond_proj row was computed by encode) */
    return b + lin_bytes(&m->w.head) + (uint64_t)(c->n_levels + 2) * c->dim * sizeof(float);
}

double eg_ar_flops_per_frame(const struct eg_ar_model *m) {
    const struct eg_ar_config *c = &m->cfg;
    const double d = c->dim, f = c->ffn_dim;
    const double per_layer = 2.0 * (4.0 * d * d + 2.0 * d * f)     /* q, k, v, o, up, down */
                           + 2.0 * 2.0 * (double)c->window * d;    /* scores + weighted sum over the window */
    return c->dec_layers * per_layer + 2.0 * d * c->n_codes;
}

/* ==== state ================================================================================================ */

struct eg_ar_state {
    const struct eg_ar_model *m;
    struct eg_exec *ex;
    struct eg_arena arena;
    int max_phonemes;

    /* encode results */
    int    n_ph;                  /* 0 before the first encode */
    float *enc;                   /* [max_ph][dim] encoder output */
    float *cp;                    /* [max_ph][dim] cond_proj(enc) (bias included) */
    float *logd;                  /* [max_ph] */
    int32_t *dur, *start;         /* [max_ph] frames and first frame per phoneme */
    int64_t n_frames;

    /* encoder / duration scratch */
    float *ex_x, *ex_h, *ex_q, *ex_k, *ex_v, *ex_a;  /* [max_ph][dim] */
    float *ex_ffn;                /* [max_ph][max(ffn_dim, k*dim)]: FFN hidden and the im2col rows */
    float *ex_cos, *ex_sin;       /* [max_ph][head_dim/2] */
    float *ex_att;                /* [n_threads][max_ph*max_ph + head_dim*max_ph]: scores + V^T per thread */
    float *lin_scratch;           /* eg_linear_rows dequantisation panels (NULL for all-f32 models) */

    /* decoder */
    int     n_layers;             /* decoder layers a step runs: dec_layers, or fewer for an early-exit draft */
    int64_t pos;                  /* next frame */
    int     cur;                  /* phoneme of frame pos (advanced incrementally) */
    float *kc, *vc;               /* [dec_layers][n_heads][window][head_dim] rings */
    float *x, *h, *q, *k, *v, *a; /* [EG_AR_MAX_BATCH][dim]: one row per frame of a step batch */
    float *u;                     /* [EG_AR_MAX_BATCH][ffn_dim] */
    float *logits;                /* [EG_AR_MAX_BATCH][n_codes] */
    float *inv_freq;              /* [head_dim/2] theta^(-2i/head_dim) */
    float *ang, *cos, *sin;       /* [EG_AR_MAX_BATCH][head_dim/2] for the batch's frames */
    float *scores;                /* [n_heads][window] */

    /* rollback log (eg_ar_enable_rollback): the ring slots the steps since the mark overwrote */
    float  *rb;                   /* [rb_max][dec_layers][2][dim] (K then V, heads in order), caller's memory */
    int     rb_max;               /* frames after the mark that can be undone; 0 = off */
    int64_t rb_mark;              /* position at eg_ar_mark, -1 = none */
};

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static int any_quantised(const struct eg_ar_model *m) {
    const struct eg_ar_config *c = &m->cfg;
    for (uint32_t i = 0; i < c->enc_layers + c->dec_layers; i++) {
        const struct eg_ar_block *b = &m->blocks[i];
        if (b->wq.type || b->wk.type || b->wv.type || b->wo.type || b->up.type || b->down.type) return 1;
    }
    return m->w.dur_conv1.type || m->w.dur_conv2.type || m->w.cond_proj.type || m->w.head.type;
}

/* Named groups of state buffers, for memory plans (eg_ar_state_memplan). */
enum { G_ENC, G_KV, G_DEC, G_THREAD, N_GROUPS };
static const char *const group_name[N_GROUPS] = {
    "ar encoder buffers", "ar kv cache", "ar decoder state", "ar per-thread scratch",
};

/* One pass over the state's buffers: with a == NULL it only adds up the 64-byte-rounded sizes into *total
 * (in uint64_t: every count is bounded by the config limits, so nothing wraps even on 32-bit targets) and, when
 * groups != NULL, into groups[G_*] as well; otherwise it carves them from the arena. Returns 0 when the arena ran
 * out (a sizing bug). */
static int layout(struct eg_ar_state *st, const struct eg_ar_model *m, const struct eg_exec *ex, int max_ph,
                  struct eg_arena *a, uint64_t *total, uint64_t groups[N_GROUPS]) {
    const struct eg_ar_config *c = &m->cfg;
    const uint64_t P = (uint64_t)max_ph, d = c->dim, hd = c->head_dim, h2 = hd / 2, nt = (uint64_t)ex->n_threads;
    const uint64_t kd = (uint64_t)c->dur_kernel * d;
    const uint64_t kv = (uint64_t)c->dec_layers * c->n_heads * c->window * hd;
    const uint64_t max_in = max_u64(max_u64(d, c->ffn_dim), kd);
    int ok = 1;
#define TAKE(g, ptr, type, count) do {                                                \
        const uint64_t nb_ = (uint64_t)(count) * sizeof(type);                        \
        const uint64_t r_ = (nb_ + EG_ARENA_ALIGN - 1) / EG_ARENA_ALIGN * EG_ARENA_ALIGN; \
        if (a) { (ptr) = eg_arena_alloc(a, (size_t)nb_); ok &= (ptr) != NULL; }      \
        else { *total += r_; if (groups) groups[g] += r_; }                           \
    } while (0)
    TAKE(G_ENC, st->enc, float, P * d);
    TAKE(G_ENC, st->cp, float, P * d);
    TAKE(G_ENC, st->logd, float, P);
    TAKE(G_ENC, st->dur, int32_t, P);
    TAKE(G_ENC, st->start, int32_t, P);
    TAKE(G_ENC, st->ex_x, float, P * d);
    TAKE(G_ENC, st->ex_h, float, P * d);
    TAKE(G_ENC, st->ex_q, float, P * d);
    TAKE(G_ENC, st->ex_k, float, P * d);
    TAKE(G_ENC, st->ex_v, float, P * d);
    TAKE(G_ENC, st->ex_a, float, P * d);
    TAKE(G_ENC, st->ex_ffn, float, P * max_u64(c->ffn_dim, kd));
    TAKE(G_ENC, st->ex_cos, float, P * h2);
    TAKE(G_ENC, st->ex_sin, float, P * h2);
    TAKE(G_THREAD, st->ex_att, float, nt * (P * P + hd * P));
    if (any_quantised(m)) TAKE(G_THREAD, st->lin_scratch, float, nt * EG_LINEAR_PANEL * max_in);  /* eg_linear_scratch_floats */
    TAKE(G_KV, st->kc, float, kv);
    TAKE(G_KV, st->vc, float, kv);
    const uint64_t B = EG_AR_MAX_BATCH;
    TAKE(G_DEC, st->x, float, B * d);
    TAKE(G_DEC, st->h, float, B * d);
    TAKE(G_DEC, st->q, float, B * d);
    TAKE(G_DEC, st->k, float, B * d);
    TAKE(G_DEC, st->v, float, B * d);
    TAKE(G_DEC, st->a, float, B * d);
    TAKE(G_DEC, st->u, float, B * c->ffn_dim);
    TAKE(G_DEC, st->logits, float, B * c->n_codes);
    TAKE(G_DEC, st->inv_freq, float, h2);
    TAKE(G_DEC, st->ang, float, B * h2);
    TAKE(G_DEC, st->cos, float, B * h2);
    TAKE(G_DEC, st->sin, float, B * h2);
    TAKE(G_DEC, st->scores, float, (uint64_t)c->n_heads * c->window);
#undef TAKE
    return ok;
}

size_t eg_ar_state_arena_bytes(const struct eg_ar_model *m, const struct eg_exec *ex, int max_phonemes) {
    struct eg_ar_state tmp;
    uint64_t total = 0;
    if (!m || !ex || ex->n_threads < 1 || max_phonemes < 1 || max_phonemes > EG_AR_MAX_PHONEMES) return 0;
    memset(&tmp, 0, sizeof tmp);
    layout(&tmp, m, ex, max_phonemes, NULL, &total, NULL);
    return total <= (uint64_t)(SIZE_MAX / 2) ? (size_t)total : 0;
}

enum eg_status eg_ar_state_memplan(const struct eg_ar_model *m, const struct eg_exec *ex, int max_phonemes,
                                   struct eg_memplan *plan) {
    struct eg_ar_state tmp;
    uint64_t total = 0, groups[N_GROUPS] = { 0 };
    enum eg_status st = EG_OK;
    if (!plan || !eg_ar_state_arena_bytes(m, ex, max_phonemes)) return EG_ERR_INVALID_ARG;
    memset(&tmp, 0, sizeof tmp);
    layout(&tmp, m, ex, max_phonemes, NULL, &total, groups);
    for (int i = 0; i < N_GROUPS && st == EG_OK; i++) st = eg_memplan_add(plan, group_name[i], EG_MEM_HEAP, groups[i]);
    return st;
}

enum eg_status eg_ar_state_create(const struct eg_ar_model *m, struct eg_exec *ex, int max_phonemes,
                                  struct eg_ar_state **out) {
    struct eg_ar_state *st;
    enum eg_status err;
    size_t bytes;

    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    bytes = eg_ar_state_arena_bytes(m, ex, max_phonemes);
    if (!bytes) {
        EG_LOGE("ar state: expected a model, an exec context and max_phonemes in [1, %d] (and an arena that fits "
                "the address space), found %d", EG_AR_MAX_PHONEMES, max_phonemes);
        return EG_ERR_INVALID_ARG;
    }
    st = calloc(1, sizeof *st);
    if (!st) return EG_ERR_NOMEM;
    if ((err = eg_arena_init(&st->arena, bytes)) != EG_OK) goto err_free_state;
    if (!layout(st, m, ex, max_phonemes, &st->arena, NULL, NULL)) { err = EG_ERR_INTERNAL; goto err_free_arena; }
    st->m = m;
    st->ex = ex;
    st->max_phonemes = max_phonemes;
    st->n_layers = (int)m->cfg.dec_layers;
    st->rb_mark = -1;
    /* inv_freq exactly as rope_tables(): theta ** (-(i * 2.0) / hd), f32 */
    const int hd = (int)m->cfg.head_dim;
    for (int i = 0; i < hd / 2; i++) st->inv_freq[i] = powf(m->cfg.rope_theta, (-(float)i * 2.0f) / (float)hd);
    *out = st;
    return EG_OK;

err_free_arena:
    eg_arena_free(&st->arena);
err_free_state:
    free(st);
    return err;
}

void eg_ar_state_destroy(struct eg_ar_state *st) {
    if (!st) return;
    eg_arena_free(&st->arena);
    free(st);
}

/* cos/sin of pos * inv_freq (angle rounded to f32 first, as torch builds it) */
static void rope_row(const struct eg_ar_state *st, int64_t pos, float *ang, float *cs, float *sn) {
    const int h2 = (int)st->m->cfg.head_dim / 2;
    for (int i = 0; i < h2; i++) ang[i] = (float)pos * st->inv_freq[i];
    st->ex->k.sincos_f32(sn, cs, ang, h2);
}

/* ==== encoder ============================================================================================== */

struct enc_att_job {
    struct eg_ar_state *st;
    int P;
};

/* One head of bidirectional attention over all P phonemes: S = Q_h K_h^T / sqrt(hd), softmax rows, O_h = S V_h. */
static void enc_att_task(void *arg, int head, int thread) {
    const struct enc_att_job *jb = arg;
    struct eg_ar_state *st = jb->st;
    const struct eg_kernels *k = &st->ex->k;
    const int P = jb->P, d = (int)st->m->cfg.dim, hd = (int)st->m->cfg.head_dim;
    const size_t Pm = (size_t)st->max_phonemes;
    float *S = st->ex_att + (size_t)thread * (Pm * Pm + (size_t)hd * Pm);
    float *vt = S + Pm * Pm;                               /* V_h^T [hd][P] */
    const float scale = sqrtf((float)hd);
    const size_t off = (size_t)head * hd;

    k->gemm_f32(S, P, st->ex_q + off, d, st->ex_k + off, d, NULL, P, P, hd);
    for (int i = 0; i < P; i++) {
        float *row = S + (size_t)i * P;
        for (int j = 0; j < P; j++) row[j] /= scale;
        k->softmax_f32(row, row, P);
    }
    for (int j = 0; j < P; j++)
        for (int e = 0; e < hd; e++) vt[(size_t)e * P + j] = st->ex_v[(size_t)j * d + off + e];
    k->gemm_f32(st->ex_a + off, d, S, P, vt, P, NULL, P, hd, P);
}

/* x [P][dim] += Block(x) with RoPE over rows 0..P-1 (cos/sin in ex_cos/ex_sin). */
static void enc_block(struct eg_ar_state *st, const struct eg_ar_block *b, int P) {
    struct eg_exec *ex = st->ex;
    const struct eg_kernels *k = &ex->k;
    const struct eg_ar_config *c = &st->m->cfg;
    const int d = (int)c->dim, h2 = (int)c->head_dim / 2;
    float *x = st->ex_x, *h = st->ex_h;

    k->rms_norm_f32(h, x, b->norm1, P, d, c->norm_eps);
    eg_linear_rows(ex, &b->wq, st->ex_q, d, h, d, P, EG_ACT_NONE, st->lin_scratch);
    eg_linear_rows(ex, &b->wk, st->ex_k, d, h, d, P, EG_ACT_NONE, st->lin_scratch);
    eg_linear_rows(ex, &b->wv, st->ex_v, d, h, d, P, EG_ACT_NONE, st->lin_scratch);
    for (int i = 0; i < P; i++) {
        k->rope_f32(st->ex_q + (size_t)i * d, st->ex_cos + (size_t)i * h2, st->ex_sin + (size_t)i * h2,
                    (int)c->n_heads, (int)c->head_dim);
        k->rope_f32(st->ex_k + (size_t)i * d, st->ex_cos + (size_t)i * h2, st->ex_sin + (size_t)i * h2,
                    (int)c->n_heads, (int)c->head_dim);
    }
    struct enc_att_job jb = { .st = st, .P = P };
    eg_exec_parallel(ex, (int)c->n_heads, enc_att_task, &jb);
    eg_linear_rows(ex, &b->wo, h, d, st->ex_a, d, P, EG_ACT_NONE, st->lin_scratch);
    k->add_f32(x, x, h, P * d);
    k->rms_norm_f32(h, x, b->norm2, P, d, c->norm_eps);
    eg_linear_rows(ex, &b->up, st->ex_ffn, (int)c->ffn_dim, h, d, P, EG_ACT_GELU, st->lin_scratch);
    eg_linear_rows(ex, &b->down, h, d, st->ex_ffn, (int)c->ffn_dim, P, EG_ACT_NONE, st->lin_scratch);
    k->add_f32(x, x, h, P * d);
}

/* y [P][dim] = LayerNorm(ReLU(Conv1d_k(x))) with zero "same" padding; x, y [P][dim] (y may not alias x). */
static void dur_conv(struct eg_ar_state *st, const struct eg_linear *conv, const float *g, const float *bias,
                     float *y, const float *x, int P) {
    const struct eg_ar_config *c = &st->m->cfg;
    const int d = (int)c->dim, kw = (int)c->dur_kernel;
    float *col = st->ex_ffn;                                  /* im2col [P][kw*d] */
    eg_im2col(col, x, 0, 0, P, 0, P, kw, d);
    eg_linear_rows(st->ex, conv, y, d, col, kw * d, P, EG_ACT_NONE, st->lin_scratch);
    for (size_t i = 0; i < (size_t)P * d; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    st->ex->k.layer_norm_f32(y, y, g, bias, P, d, c->dur_norm_eps);
}

enum eg_status eg_ar_encode(struct eg_ar_state *st, const int32_t *ids, int n) {
    if (!st || !ids || n < 1 || n > st->max_phonemes) {
        EG_LOGE("ar encode: expected 1..%d phoneme ids, found %d", st ? st->max_phonemes : 0, n);
        return EG_ERR_INVALID_ARG;
    }
    const struct eg_ar_model *m = st->m;
    const struct eg_ar_config *c = &m->cfg;
    const struct eg_kernels *k = &st->ex->k;
    const int d = (int)c->dim, h2 = (int)c->head_dim / 2;
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= c->n_phonemes) {
            EG_LOGE("ar encode: phoneme %d: expected an id in [0, %u), found %d", i, c->n_phonemes, ids[i]);
            return EG_ERR_INVALID_ARG;
        }

    /* embedding + RoPE tables for positions 0..n-1 */
    for (int i = 0; i < n; i++)
        memcpy(st->ex_x + (size_t)i * d, m->w.enc_embed + (size_t)ids[i] * d, (size_t)d * sizeof(float));
    for (int i = 0; i < n; i++) rope_row(st, i, st->ang, st->ex_cos + (size_t)i * h2, st->ex_sin + (size_t)i * h2);
    for (uint32_t l = 0; l < c->enc_layers; l++) enc_block(st, &m->w.enc[l], n);
    k->rms_norm_f32(st->enc, st->ex_x, m->w.enc_norm, n, d, c->norm_eps);

    /* duration predictor (every phoneme is real: the mask multiplications are identities) */
    dur_conv(st, &m->w.dur_conv1, m->w.dur_norm1_w, m->w.dur_norm1_b, st->ex_h, st->enc, n);
    dur_conv(st, &m->w.dur_conv2, m->w.dur_norm2_w, m->w.dur_norm2_b, st->ex_q, st->ex_h, n);
    for (int i = 0; i < n; i++) {
        const float *r = st->ex_q + (size_t)i * d;
        float s = 0.0f;
        k->matvec_f32(&s, r, m->w.dur_proj_w, NULL, 1, d);
        st->logd[i] = s + m->w.dur_proj_b;
    }

    /* conditioning rows: cond_proj(enc[p]) for every phoneme, gathered per frame by eg_ar_step */
    eg_linear_rows(st->ex, &m->w.cond_proj, st->cp, d, st->enc, d, n, EG_ACT_NONE, st->lin_scratch);
    st->n_ph = n;
    st->n_frames = 0;
    memset(st->dur, 0, (size_t)n * sizeof *st->dur);
    memset(st->start, 0, (size_t)n * sizeof *st->start);
    eg_ar_reset(st);
    return EG_OK;
}

const float *eg_ar_log_durations(const struct eg_ar_state *st) { return st && st->n_ph ? st->logd : NULL; }

enum eg_status eg_ar_set_durations(struct eg_ar_state *st, const int32_t *frames, int n) {
    if (!st || !frames || st->n_ph == 0 || n != st->n_ph) {
        EG_LOGE("ar durations: expected %d values (the encoded phonemes), found %d", st ? st->n_ph : 0, n);
        return EG_ERR_INVALID_ARG;
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (frames[i] < 0 || frames[i] > EG_AR_MAX_FRAMES || (total += frames[i]) > EG_AR_MAX_FRAMES) {
            EG_LOGE("ar durations: phoneme %d: expected frames >= 0 and a total <= %d, found %d (total %lld)", i,
                    EG_AR_MAX_FRAMES, frames[i], (long long)total);
            return EG_ERR_INVALID_ARG;
        }
    }
    total = 0;
    for (int i = 0; i < n; i++) {
        st->dur[i] = frames[i];
        st->start[i] = (int32_t)total;
        total += frames[i];
    }
    st->n_frames = total;
    eg_ar_reset(st);
    return EG_OK;
}

enum eg_status eg_ar_predict_durations(struct eg_ar_state *st, float length_scale, int32_t *frames_out) {
    if (!st || st->n_ph == 0 || !(length_scale > 0.0f && length_scale <= 100.0f)) {
        EG_LOGE("ar durations: expected an encoded sentence and length_scale in (0, 100], found %g",
                (double)length_scale);
        return EG_ERR_INVALID_ARG;
    }
    int32_t *f = st->dur;   /* computed in place: set_durations copies onto itself */
    for (int i = 0; i < st->n_ph; i++) {
        /* floor((exp(logd) - 1) * s + 0.5) clamped to [0, EG_AR_MAX_FRAMES]; NaN → 0 */
        const float x = floorf((expf(st->logd[i]) - 1.0f) * length_scale + 0.5f);
        f[i] = x > 0.0f ? (x < (float)EG_AR_MAX_FRAMES ? (int32_t)x : EG_AR_MAX_FRAMES) : 0;
    }
    int64_t total = 0;
    for (int i = 0; i < st->n_ph; i++) {        /* a too long sentence is cut, never refused */
        if (total + f[i] > EG_AR_MAX_FRAMES) f[i] = (int32_t)(EG_AR_MAX_FRAMES - total);
        total += f[i];
    }
    if (frames_out) memcpy(frames_out, f, (size_t)st->n_ph * sizeof *f);
    return eg_ar_set_durations(st, f, st->n_ph);
}

int64_t eg_ar_n_frames(const struct eg_ar_state *st) { return st ? st->n_frames : 0; }
int64_t eg_ar_position(const struct eg_ar_state *st) { return st ? st->pos : 0; }

int eg_ar_step_phoneme(const struct eg_ar_state *st) {
    if (!st || st->pos == 0 || st->n_ph == 0) return -1;
    return st->cur < st->n_ph ? st->cur : st->n_ph - 1;   /* eg_ar_step's length regulation for frame pos - 1 */
}

void eg_ar_reset(struct eg_ar_state *st) {
    if (!st) return;
    st->pos = 0;
    st->rb_mark = -1;
    st->cur = 0;   /* the ring needs no clearing: slot j is read only once frame j (mod W) has been written */
}

/* ==== decoder step ========================================================================================= */

/* Matrix-vector products for n rows of activations (a step batch), several matrices in ONE pool dispatch (q, k, v
 * share theirs). Tasks are the EG_LINEAR_PANEL-row panels of each matrix in turn; a task runs the panel's matvec
 * once per activation row, exactly as eg_linear_vec calls it, so every row's result is bit-identical to a
 * single-frame step (and to any thread count), while the panel's weights are read from memory once for all n
 * rows (they stay in L1 between the row calls: 64 rows x dim at most a few tens of KiB). */
struct multi_vec_job {
    const struct eg_kernels *k;
    const struct eg_linear *lin[3];
    float *y[3];
    int ldy[3];
    const float *x;
    int ldx, n_rows, n, first_task[4];
};

static void multi_vec_task(void *arg, int task, int thread) {
    const struct multi_vec_job *jb = arg;
    int i = 0;
    (void)thread;
    while (i + 1 < jb->n && task >= jb->first_task[i + 1]) i++;
    const struct eg_linear *lin = jb->lin[i];
    const int j0 = (task - jb->first_task[i]) * EG_LINEAR_PANEL;
    const int nj = lin->n_out - j0 < EG_LINEAR_PANEL ? lin->n_out - j0 : EG_LINEAR_PANEL;
    for (int r = 0; r < jb->n_rows; r++)
        eg_linear_matvec_rows(jb->k, lin, jb->y[i] + (size_t)r * jb->ldy[i] + j0, jb->x + (size_t)r * jb->ldx, j0, nj);
}

/* y_i[r] = lin_i(x[r]) for the n_lin (1..3) matrices and rows r < n_rows; y_i rows are lin_i->n_out apart. */
static void linear_multi(struct eg_exec *ex, int n_lin, const struct eg_linear *const *lin, float *const *y,
                         const float *x, int ldx, int n_rows) {
    struct multi_vec_job jb = { .k = &ex->k, .x = x, .ldx = ldx, .n_rows = n_rows, .n = n_lin };
    size_t bytes = 0;
    for (int i = 0; i < n_lin; i++) {
        jb.lin[i] = lin[i];
        jb.y[i] = y[i];
        jb.ldy[i] = lin[i]->n_out;
        jb.first_task[i + 1] = jb.first_task[i] + (lin[i]->n_out + EG_LINEAR_PANEL - 1) / EG_LINEAR_PANEL;
        bytes += (size_t)lin[i]->n_out * lin[i]->row_bytes;
    }
    if (n_rows == 1 && (!ex->pool || bytes < ex->min_parallel_bytes)) {
        /* one frame on the calling thread: one matvec call per matrix, so x is quantised once per matrix (q8_0/
         * q4_0) instead of once per panel; the same results, as a kernel computes every row the same way wherever
         * it lies in a call (simd/kernels.h) */
        for (int i = 0; i < n_lin; i++) eg_linear_matvec_rows(&ex->k, lin[i], y[i], x, 0, lin[i]->n_out);
        return;
    }
    eg_exec_parallel_sized(ex, jb.first_task[n_lin], bytes, multi_vec_task, &jb);
}

static void linear_1(struct eg_exec *ex, const struct eg_linear *lin, float *y, const float *x, int ldx, int n_rows) {
    linear_multi(ex, 1, &lin, &y, x, ldx, n_rows);
}

struct dec_att_job {
    struct eg_ar_state *st;
    const float *q;   /* this frame's queries [dim] */
    float *a;         /* its attention output [dim] */
    int layer, n_valid;
};

/* One head: scores over the n_valid cached frames, softmax, weighted sum of the cached values into jb->a. */
static void dec_att_task(void *arg, int head, int thread) {
    const struct dec_att_job *jb = arg;
    struct eg_ar_state *st = jb->st;
    const struct eg_kernels *k = &st->ex->k;
    const struct eg_ar_config *c = &st->m->cfg;
    const int hd = (int)c->head_dim, W = (int)c->window, n = jb->n_valid;
    const size_t ring = ((size_t)jb->layer * c->n_heads + head) * W * hd;
    const float *kc = st->kc + ring, *vc = st->vc + ring;
    float *sc = st->scores + (size_t)head * W, *o = jb->a + (size_t)head * hd;
    const float scale = sqrtf((float)hd);
    (void)thread;

    k->matvec_f32(sc, kc, jb->q + (size_t)head * hd, NULL, n, hd);
    for (int j = 0; j < n; j++) sc[j] /= scale;
    k->softmax_f32(sc, sc, n);
    memset(o, 0, (size_t)hd * sizeof *o);
    for (int j = 0; j < n; j++) k->axpy_f32(o, sc[j], vc + (size_t)j * hd, hd);
}

/* Rollback log: before frame pos (j = pos - mark) overwrites ring slot `slot` of layer l, keep what the slot held
 * (frame pos - W, still inside the window of the frames before pos). */
static void rollback_save(struct eg_ar_state *st, int l, int64_t j, int slot) {
    const struct eg_ar_config *c = &st->m->cfg;
    const size_t d = c->dim, hd = c->head_dim, W = c->window;
    float *dst = st->rb + ((size_t)j * c->dec_layers + (size_t)l) * 2 * d;
    for (uint32_t hh = 0; hh < c->n_heads; hh++) {
        const size_t src = (((size_t)l * c->n_heads + hh) * W + (size_t)slot) * hd;
        memcpy(dst + hh * hd, st->kc + src, hd * sizeof(float));
        memcpy(dst + d + hh * hd, st->vc + src, hd * sizeof(float));
    }
}

/* The input row of frame pos: sum of the digit embeddings of prev + (cond_proj(enc[p]) + frac * cond_frac),
 * advancing the length regulation (st->cur) to pos; tmp is [dim] scratch. */
static void frame_input(struct eg_ar_state *st, int64_t pos, int32_t prev_token, float *x, float *tmp) {
    const struct eg_ar_model *m = st->m;
    const struct eg_ar_config *c = &m->cfg;
    const struct eg_kernels *k = &st->ex->k;
    const int d = (int)c->dim;

    /* length regulation: phoneme of this frame (zero-length phonemes are skipped) and its fraction */
    while (st->cur < st->n_ph && pos >= (int64_t)st->start[st->cur] + st->dur[st->cur]) st->cur++;
    int p;
    float frac;
    if (st->cur < st->n_ph) {
        p = st->cur;
        frac = ((float)(pos - st->start[p]) + 0.5f) / (float)(st->dur[p] > 1 ? st->dur[p] : 1);
    } else {                                             /* past the durations: last phoneme, fraction 1 */
        p = st->n_ph - 1;
        frac = 1.0f;
    }

    /* x = sum_d digit_emb[d][digit_d(prev)] + (cond_proj(enc[p]) + frac * cond_frac) */
    uint32_t rest = (uint32_t)prev_token;
    for (uint32_t i = 0; i < c->n_levels; i++) {
        const uint32_t lv = c->fsq_levels[i];
        const uint32_t dg = (uint32_t)prev_token == c->n_codes ? lv : rest % lv;
        const float *row = m->w.digit_emb[i] + (size_t)dg * d;
        rest /= lv;
        if (i == 0) memcpy(x, row, (size_t)d * sizeof(float));
        else k->add_f32(x, x, row, d);
    }
    const float *cp = st->cp + (size_t)p * d;
    for (int i = 0; i < d; i++) tmp[i] = cp[i] + frac * m->w.cond_frac[i];
    k->add_f32(x, x, tmp, d);
}

enum eg_status eg_ar_step_batch(struct eg_ar_state *st, const int32_t *prev_tokens, int n, const float **logits) {
    if (!st || !logits || !prev_tokens || st->n_ph == 0 || n < 1 || n > EG_AR_MAX_BATCH) {
        EG_LOGE("ar step: expected a state with an encoded sentence and 1..%d frames, found %d", EG_AR_MAX_BATCH, n);
        return EG_ERR_INVALID_ARG;
    }
    const struct eg_ar_model *m = st->m;
    const struct eg_ar_config *c = &m->cfg;
    const struct eg_kernels *k = &st->ex->k;
    struct eg_exec *ex = st->ex;
    const int d = (int)c->dim, hd = (int)c->head_dim, W = (int)c->window, h2 = hd / 2, F = (int)c->ffn_dim;
    for (int i = 0; i < n; i++)
        if (prev_tokens[i] < 0 || (uint32_t)prev_tokens[i] > c->n_codes) {
            EG_LOGE("ar step: frame %lld: expected a token in [0, %u] (%u = BOS), found %d", (long long)st->pos + i,
                    c->n_codes, c->n_codes, prev_tokens[i]);
            return EG_ERR_INVALID_ARG;
        }
    if (st->pos + n > EG_AR_MAX_FRAMES) {
        EG_LOGE("ar step: expected fewer than %d frames", EG_AR_MAX_FRAMES);
        return EG_ERR_INVALID_ARG;
    }
    const int64_t pos0 = st->pos;
    *logits = NULL;

    for (int i = 0; i < n; i++) {
        frame_input(st, pos0 + i, prev_tokens[i], st->x + (size_t)i * d, st->h);
        rope_row(st, pos0 + i, st->ang, st->cos + (size_t)i * h2, st->sin + (size_t)i * h2);
    }
    for (int l = 0; l < st->n_layers; l++) {
        const struct eg_ar_block *b = &m->w.dec[l];
        k->rms_norm_f32(st->h, st->x, b->norm1, n, d, c->norm_eps);
        const struct eg_linear *qkv[3] = { &b->wq, &b->wk, &b->wv };
        float *const qkv_y[3] = { st->q, st->k, st->v };
        linear_multi(ex, 3, qkv, qkv_y, st->h, d, n);
        /* frames in order: frame i's K/V go into the ring, then frame i attends to the window ending at it (the
         * slot it overwrites, frame pos-W, is outside that window but inside the windows of frames < i, which
         * have attended already) */
        for (int i = 0; i < n; i++) {
            const int64_t pos = pos0 + i;
            float *qi = st->q + (size_t)i * d, *ki = st->k + (size_t)i * d, *vi = st->v + (size_t)i * d;
            const float *cs = st->cos + (size_t)i * h2, *sn = st->sin + (size_t)i * h2;
            k->rope_f32(qi, cs, sn, (int)c->n_heads, hd);
            k->rope_f32(ki, cs, sn, (int)c->n_heads, hd);
            const int slot = (int)(pos % W), n_valid = pos + 1 < W ? (int)pos + 1 : W;
            if (st->rb_max && pos >= W && st->rb_mark >= 0 && pos - st->rb_mark < st->rb_max)
                rollback_save(st, l, pos - st->rb_mark, slot);
            for (uint32_t hh = 0; hh < c->n_heads; hh++) {
                const size_t dst = (((size_t)l * c->n_heads + hh) * W + slot) * hd;
                memcpy(st->kc + dst, ki + (size_t)hh * hd, (size_t)hd * sizeof(float));
                memcpy(st->vc + dst, vi + (size_t)hh * hd, (size_t)hd * sizeof(float));
            }
            struct dec_att_job jb = { .st = st, .q = qi, .a = st->a + (size_t)i * d, .layer = l, .n_valid = n_valid };
            /* per-head tasks compute the same arithmetic inline or on the pool: only worth a dispatch when the K and
             * V rows they read are large (the same byte threshold as the matrix-vector products) */
            eg_exec_parallel_sized(ex, (int)c->n_heads, 2 * (size_t)n_valid * d * sizeof(float), dec_att_task, &jb);
        }
        linear_1(ex, &b->wo, st->h, st->a, d, n);
        k->add_f32(st->x, st->x, st->h, n * d);
        k->rms_norm_f32(st->h, st->x, b->norm2, n, d, c->norm_eps);
        linear_1(ex, &b->up, st->u, st->h, d, n);
        k->gelu_f32(st->u, st->u, n * F);
        linear_1(ex, &b->down, st->h, st->u, F, n);
        k->add_f32(st->x, st->x, st->h, n * d);
    }
    k->rms_norm_f32(st->h, st->x, m->w.norm_f, n, d, c->norm_eps);
    linear_1(ex, &m->w.head, st->logits, st->h, d, n);
    st->pos += n;
    *logits = st->logits;
    return EG_OK;
}

size_t eg_ar_rollback_bytes(const struct eg_ar_model *m, int max_frames) {
    if (!m || max_frames < 1 || max_frames > EG_AR_MAX_BATCH + 1) return 0;
    return (size_t)max_frames * m->cfg.dec_layers * 2 * m->cfg.dim * sizeof(float);
}

enum eg_status eg_ar_enable_rollback(struct eg_ar_state *st, void *buf, int max_frames) {
    if (!st || !buf || !eg_ar_rollback_bytes(st->m, max_frames)) {
        EG_LOGE("ar rollback: expected a state, a buffer and 1..%d frames, found %d", EG_AR_MAX_BATCH + 1, max_frames);
        return EG_ERR_INVALID_ARG;
    }
    st->rb = buf;
    st->rb_max = max_frames;
    st->rb_mark = -1;
    return EG_OK;
}

enum eg_status eg_ar_mark(struct eg_ar_state *st) {
    if (!st || !st->rb_max) {
        EG_LOGE("ar mark: expected a state with a rollback log (eg_ar_enable_rollback)");
        return EG_ERR_INVALID_ARG;
    }
    st->rb_mark = st->pos;
    return EG_OK;
}

enum eg_status eg_ar_rollback(struct eg_ar_state *st, int64_t pos) {
    if (!st || !st->rb_max || st->rb_mark < 0 || pos < st->rb_mark || pos > st->pos ||
        st->pos - st->rb_mark > st->rb_max) {
        EG_LOGE("ar rollback: expected a position in [mark %lld, %lld] with at most %d frames stepped since the "
                "mark, found %lld", st ? (long long)st->rb_mark : -1LL, st ? (long long)st->pos : -1LL,
                st ? st->rb_max : 0, (long long)pos);
        return EG_ERR_INVALID_ARG;
    }
    const struct eg_ar_config *c = &st->m->cfg;
    const size_t d = c->dim, hd = c->head_dim, W = c->window;
    /* newest first: a slot written twice since the mark (window <= frames stepped) ends with its oldest content */
    for (int64_t p = st->pos - 1; p >= pos; p--) {
        if (p < (int64_t)W) continue;          /* the slot held nothing a later frame reads */
        const size_t slot = (size_t)(p % (int64_t)W);
        for (int l = 0; l < st->n_layers; l++) {
            const float *src = st->rb + ((size_t)(p - st->rb_mark) * c->dec_layers + (size_t)l) * 2 * d;
            for (uint32_t hh = 0; hh < c->n_heads; hh++) {
                const size_t dst = (((size_t)l * c->n_heads + hh) * W + slot) * hd;
                memcpy(st->kc + dst, src + hh * hd, hd * sizeof(float));
                memcpy(st->vc + dst, src + d + hh * hd, hd * sizeof(float));
            }
        }
    }
    st->pos = pos;
    /* length regulation back to "frames 0 .. pos-1 stepped": the first phoneme whose end lies past frame pos-1 */
    if (pos == 0) st->cur = 0;
    else
        while (st->cur > 0 && (int64_t)st->start[st->cur - 1] + st->dur[st->cur - 1] > pos - 1) st->cur--;
    return EG_OK;
}

int eg_ar_frame_phoneme(const struct eg_ar_state *st, int64_t frame) {
    if (!st || st->n_ph == 0 || frame < 0) return -1;
    int lo = 0, hi = st->n_ph;                 /* first phoneme whose end is past frame (zero-length ones skipped) */
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if ((int64_t)st->start[mid] + st->dur[mid] > frame) hi = mid;
        else lo = mid + 1;
    }
    return lo < st->n_ph ? lo : st->n_ph - 1;
}

const struct eg_ar_model *eg_ar_state_model(const struct eg_ar_state *st) { return st ? st->m : NULL; }

const int32_t *eg_ar_durations(const struct eg_ar_state *st) { return st && st->n_ph ? st->dur : NULL; }

enum eg_status eg_ar_set_exit_layer(struct eg_ar_state *st, int n_layers) {
    if (!st || n_layers < 1 || n_layers > (int)st->m->cfg.dec_layers) {
        EG_LOGE("ar exit layer: expected 1..%u decoder layers, found %d", st ? st->m->cfg.dec_layers : 0, n_layers);
        return EG_ERR_INVALID_ARG;
    }
    st->n_layers = n_layers;
    return EG_OK;
}

enum eg_status eg_ar_step(struct eg_ar_state *st, int32_t prev_token, const float **logits) {
    return eg_ar_step_batch(st, &prev_token, 1, logits);
}

enum eg_status eg_ar_generate(struct eg_ar_state *st, struct eg_sampler *s, int32_t *tokens) {
    if (!st || !s || !tokens || st->n_ph == 0 || s->n_vocab != (int)st->m->cfg.n_codes) {
        EG_LOGE("ar generate: expected an encoded state and a sampler over n_codes = %u tokens, found %d",
                st ? st->m->cfg.n_codes : 0, s ? s->n_vocab : 0);
        return EG_ERR_INVALID_ARG;
    }
    eg_ar_reset(st);
    int32_t prev = (int32_t)st->m->cfg.n_codes;   /* BOS */
    for (int64_t t = 0; t < st->n_frames; t++) {
        const float *lg;
        enum eg_status err = eg_ar_step(st, prev, &lg);
        if (err != EG_OK) return err;
        prev = tokens[t] = eg_sampler_sample(s, lg);
    }
    return EG_OK;
}
