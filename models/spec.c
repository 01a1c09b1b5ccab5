/* models/spec.c — speculative decoding of codec tokens (models/spec.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "models/spec.h"
#include "runtime/core/internal.h"

#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS
/* Test builds only: a deliberately broken acceptance rule, to show that tests/test_spec.c's statistical test
 * catches one. 1: keep every draft token; 2: on a rejection draw from p instead of norm(max(0, p - q)). */
int eg_spec_test_broken;
#define BROKEN eg_spec_test_broken
#else
#define BROKEN 0
#endif

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

static const char *str_key(const struct eg_gguf *g, const char *key) {
    const char *s = NULL;
    if (!g || !eg_gguf_has_key(g, key) || eg_gguf_get_str(g, key, &s) != EG_OK) return NULL;
    return s;
}

enum eg_status eg_spec_check(const struct eg_ar_model *mm, const struct eg_ar_model *dm) {
    if (!mm || !dm) return EG_ERR_INVALID_ARG;
    const struct eg_ar_config *a = &mm->cfg, *b = &dm->cfg;
    const char *lbl = dm->gguf ? eg_gguf_label(dm->gguf) : "draft";
#define SAME(field, what) if (a->field != b->field) { \
        EG_LOGE("%s: draft model: %s: expected %u (the main model's), found %u", lbl, what, (unsigned)a->field, \
                (unsigned)b->field); \
        return EG_ERR_FORMAT; }
    SAME(n_codes, "edgegen.ar.fsq_levels product (codec tokens)");
    SAME(n_levels, "edgegen.ar.fsq_levels count");
    for (uint32_t i = 0; i < a->n_levels; i++) SAME(fsq_levels[i], "edgegen.ar.fsq_levels entry");
    SAME(n_phonemes, "edgegen.ar.n_phonemes");
    SAME(pad_id, "edgegen.ar.pad_id");
    SAME(bos_id, "edgegen.ar.bos_id");
    SAME(eos_id, "edgegen.ar.eos_id");
#undef SAME
    for (uint32_t i = 0; i < a->n_phonemes; i++) {
        const char *x = eg_ar_model_phoneme(mm, (int)i), *y = eg_ar_model_phoneme(dm, (int)i);
        if (strcmp(x ? x : "", y ? y : "")) {
            EG_LOGE("%s: draft model: edgegen.ar.phonemes[%u]: expected \"%s\" (the main model's), found \"%s\"", lbl,
                    i, x ? x : "", y ? y : "");
            return EG_ERR_FORMAT;
        }
    }
    /* advisory: which model the draft was distilled from */
    const char *want = str_key(dm->gguf, EG_SPEC_DRAFT_KEY);
    if (want) {
        const char *nm = str_key(mm->gguf, "general.name"), *src = str_key(mm->gguf, "edgegen.source");
        char have[512];
        snprintf(have, sizeof have, "%s %s", nm ? nm : "?", src ? src : "?");
        if (strcmp(want, have))
            EG_LOGW("%s: draft model: %s is \"%s\", the main model is \"%s\": the output is unchanged, but the draft "
                    "may be accepted rarely", lbl, EG_SPEC_DRAFT_KEY, want, have);
    }
    return EG_OK;
}

size_t eg_spec_bytes(const struct eg_ar_model *mm, const struct eg_ar_model *dm, int k) {
    if (!mm || !dm || k < 1 || k > EG_SPEC_MAX_K) return 0;
    const size_t n = mm->cfg.n_codes;
    return round64(eg_ar_rollback_bytes(mm, k + 1)) + round64(eg_ar_rollback_bytes(dm, k + 1)) +
           round64(eg_sampler_scratch_bytes((int)n)) + round64((size_t)k * n * sizeof(float)) +
           round64(n * sizeof(float));
}

enum eg_status eg_spec_init(struct eg_spec *sp, struct eg_ar_state *main_st, struct eg_ar_state *draft_st, int k,
                            const struct eg_sampler_params *spp, void *mem) {
    enum eg_status st;
    if (!sp || !main_st || !draft_st || !spp || !mem || k < 1 || k > EG_SPEC_MAX_K) {
        EG_LOGE("speculative decoding: expected two AR states, sampler parameters, memory and k in 1..%d, found k %d",
                EG_SPEC_MAX_K, k);
        return EG_ERR_INVALID_ARG;
    }
    const struct eg_ar_model *mm = eg_ar_state_model(main_st), *dm = eg_ar_state_model(draft_st);
    if ((st = eg_spec_check(mm, dm)) != EG_OK) return st;
    memset(sp, 0, sizeof *sp);
    sp->main = main_st;
    sp->draft = draft_st;
    sp->k = k;
    sp->n_codes = (int)mm->cfg.n_codes;
    unsigned char *p = mem;
    const size_t rm = eg_ar_rollback_bytes(mm, k + 1), rd = eg_ar_rollback_bytes(dm, k + 1);
    if ((st = eg_ar_enable_rollback(main_st, p, k + 1)) != EG_OK) return st;
    p += round64(rm);
    if ((st = eg_ar_enable_rollback(draft_st, p, k + 1)) != EG_OK) return st;
    p += round64(rd);
    if ((st = eg_sampler_init(&sp->dsamp, spp, sp->n_codes, p)) != EG_OK) return st;
    p += round64(eg_sampler_scratch_bytes(sp->n_codes));
    sp->q = (float *)p;
    p += round64((size_t)k * sp->n_codes * sizeof(float));
    sp->p = (float *)p;
    return EG_OK;
}

enum eg_status eg_spec_begin(struct eg_spec *sp, const int32_t *ids, int n) {
    enum eg_status st;
    if (!sp || !ids) return EG_ERR_INVALID_ARG;
    const int32_t *dur = eg_ar_durations(sp->main);
    if (!dur) {
        EG_LOGE("speculative decoding: expected an encoded main model state");
        return EG_ERR_INVALID_ARG;
    }
    if ((st = eg_ar_encode(sp->draft, ids, n)) != EG_OK) return st;
    if ((st = eg_ar_set_durations(sp->draft, dur, n)) != EG_OK) return st;
    eg_ar_reset(sp->main);
    sp->pos = 0;
    sp->n_frames = eg_ar_n_frames(sp->main);
    sp->last[0] = sp->last[1] = sp->n_codes;   /* BOS */
    return EG_OK;
}

/* u in [0, 1) from the top 53 bits of the sampler's generator (as eg_sampler_sample draws) */
static double uniform(struct eg_sampler *s) {
    return (double)(eg_sampler_next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Inverse CDF in id order over w [n] (non-negative, unnormalised: total given); the last positive one when
 * rounding runs off the end. */
static int32_t draw(const float *w, int n, double total, double u) {
    const double r = u * total;
    double acc = 0;
    int32_t last = 0;
    for (int i = 0; i < n; i++) {
        if (w[i] <= 0.0f) continue;
        acc += w[i];
        last = i;
        if (r < acc) return i;
    }
    return last;
}

static void emit(struct eg_spec *sp, int32_t *out, int *n_out, int32_t tok) {
    out[(*n_out)++] = tok;
    sp->last[0] = sp->last[1];
    sp->last[1] = tok;
    sp->pos++;
}

enum eg_status eg_spec_next(struct eg_spec *sp, struct eg_sampler *s, int32_t *out, int *n_out) {
    enum eg_status st;
    if (!sp || !s || !out || !n_out || s->n_vocab != sp->n_codes) return EG_ERR_INVALID_ARG;
    *n_out = 0;
    if (sp->pos >= sp->n_frames) return EG_OK;
    const int n = sp->n_codes;
    const int greedy = !(s->p.temperature > 0.0f);
    const int64_t p0 = sp->pos;
    /* draft tokens this round: never past the sentence (the last frame is the main model's own step) */
    const int k = sp->n_frames - 1 - p0 < sp->k ? (int)(sp->n_frames - 1 - p0) : sp->k;
    const float *lg;

    if (k == 0) {                                     /* plain step */
        if (sp->before_step) sp->before_step(sp->before_step_user);
        if ((st = eg_ar_step(sp->main, sp->last[1], &lg)) != EG_OK) return st;
        emit(sp, out, n_out, eg_sampler_sample(s, lg));
        return EG_OK;
    }

    /* 1. draft k tokens; the draft may lag one frame (all of the last round's drafts were kept): catch up in the
     *    same batch */
    if ((st = eg_ar_mark(sp->draft)) != EG_OK || (st = eg_ar_mark(sp->main)) != EG_OK) return st;
    const int64_t dpos = eg_ar_position(sp->draft);
    if (sp->before_step) sp->before_step(sp->before_step_user);
    if (dpos == p0 - 1) {
        if ((st = eg_ar_step_batch(sp->draft, sp->last, 2, &lg)) != EG_OK) return st;
        lg += n;
    } else if (dpos == p0) {
        if ((st = eg_ar_step(sp->draft, sp->last[1], &lg)) != EG_OK) return st;
    } else {
        EG_LOGE("speculative decoding: draft at frame %lld, main at %lld", (long long)dpos, (long long)p0);
        return EG_ERR_INTERNAL;
    }
    sp->feed[0] = sp->last[1];
    for (int i = 0; i < k; i++) {
        if (i > 0) {
            if (sp->before_step) sp->before_step(sp->before_step_user);
            if ((st = eg_ar_step(sp->draft, sp->feed[i], &lg)) != EG_OK) return st;
        }
        int32_t d;
        if (greedy) {
            d = eg_sampler_sample(&sp->dsamp, lg);    /* argmax, no RNG */
        } else {
            float *q = sp->q + (size_t)i * n;
            eg_sampler_probs(&sp->dsamp, lg, q);
            double tq = 0;
            for (int j = 0; j < n; j++) tq += q[j];
            d = draw(q, n, tq, uniform(s));
        }
        sp->feed[i + 1] = d;
    }

    /* 2. verify: main frames p0 .. p0 + k in one pass, fed the last token and the k drafts */
    if (sp->before_step) sp->before_step(sp->before_step_user);
    if ((st = eg_ar_step_batch(sp->main, sp->feed, k + 1, &lg)) != EG_OK) return st;

    /* 3. accept the longest prefix */
    int a = 0;
    int32_t tok = 0;
    for (; a < k; a++) {
        const float *row = lg + (size_t)a * n;
        const int32_t d = sp->feed[a + 1];
        int keep;
        if (greedy) {
            tok = eg_sampler_sample(s, row);          /* the main argmax; on a mismatch it is the token */
            keep = tok == d;
        } else {
            const float *q = sp->q + (size_t)a * n;
            eg_sampler_probs(s, row, sp->p);
            /* keep d with probability min(1, p/q): u * q < p (q(d) > 0: d was drawn from q) */
            keep = uniform(s) * (double)q[d] < (double)sp->p[d];
            if (BROKEN == 1) keep = 1;
            if (!keep && BROKEN == 2) {
                tok = draw(sp->p, n, 1.0, uniform(s));
            } else if (!keep) {                              /* draw from norm(max(0, p - q)) */
                double tr = 0;
                for (int j = 0; j < n; j++) {
                    const float r = sp->p[j] - q[j];
                    sp->p[j] = r > 0.0f ? r : 0.0f;
                    tr += sp->p[j];
                }
                if (tr > 0) {
                    tok = draw(sp->p, n, tr, uniform(s));
                } else {                              /* p == q up to rounding: the rejection had probability ~0 */
                    eg_sampler_probs(s, row, sp->p);
                    tok = draw(sp->p, n, 1.0, uniform(s));
                }
            }
        }
        if (!keep) break;
        emit(sp, out, n_out, d);
    }
    if (a == k) tok = eg_sampler_sample(s, lg + (size_t)k * n);   /* all kept: one more from main row k */
    emit(sp, out, n_out, tok);
    sp->stats.rounds++;
    sp->stats.drafted += k;
    sp->stats.accepted += a;
    sp->stats.emitted += a + 1;

    /* 4. roll back: main keeps frames p0 .. p0 + a (fed accepted tokens); so does the draft (it stepped frames
     *    p0 .. p0 + k - 1; when a == k it lags one frame, caught up next round) */
    if ((st = eg_ar_rollback(sp->main, p0 + a + 1)) != EG_OK) return st;
    if (a < k && (st = eg_ar_rollback(sp->draft, p0 + a + 1)) != EG_OK) return st;
    return EG_OK;
}
