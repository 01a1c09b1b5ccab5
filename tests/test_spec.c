/* tests/test_spec.c — speculative decoding (models/spec.h) with the shipped AR model and its distilled draft.
 *
 * spec_greedy_identical: temperature 0, several sentences, k = 1 .. 8, 1 and 2 threads: the tokens are exactly
 *   eg_ar_generate's.
 * spec_sampled_distribution: temperature 0.3 / top-k 50 (the library defaults): the joint distribution of the
 *   first two tokens over many seeds against the exact one (enumerated from the main model), chi-square
 *   goodness of fit at significance 1e-4 — and the same test with two deliberately broken acceptance rules
 *   (test-build hook) must fail it, so the threshold is shown to have power.
 * spec_rejects: a draft with other tokens or another phoneme inventory, k out of range, no draft.
 */
#include "tests/harness.h"
#include "tests/golden.h"
#include "models/ar_lm.h"
#include "models/sampler.h"
#include "models/spec.h"
#include "runtime/edgegen.h"

extern int eg_spec_test_broken;   /* models/spec.c, test builds */

#define MAIN_GGUF  "models/ar/pico-ar-q8_0.gguf"
#define DRAFT_GGUF "models/ar/pico-ar-draft-q8_0.gguf"
#define MAX_IDS 256

/* A sentence in Piper layout (bos pad p pad ... eos) of n_ph random inventory symbols. */
static int random_sentence(const struct eg_ar_model *m, uint64_t *rng, int n_ph, int32_t *ids) {
    const struct eg_ar_config *c = &m->cfg;
    int n = 0;
    ids[n++] = (int32_t)c->bos_id;
    ids[n++] = (int32_t)c->pad_id;
    for (int i = 0; i < n_ph; i++) {
        int id;
        do id = (int)(th_rand_u64(rng) % c->n_phonemes);
        while (!eg_ar_model_phoneme(m, id)[0] || id == (int)c->pad_id || id == (int)c->bos_id || id == (int)c->eos_id);
        ids[n++] = id;
        ids[n++] = (int32_t)c->pad_id;
    }
    ids[n++] = (int32_t)c->eos_id;
    return n;
}

struct rig {
    struct eg_ar_model *mm, *dm;
    struct eg_exec ex;
    struct eg_ar_state *main, *draft;
    struct eg_sampler s;
    void *sampler_mem, *spec_mem;
    struct eg_spec sp;
};

static int rig_open(struct rig *r, int n_threads, int k, const struct eg_sampler_params *spp) {
    memset(r, 0, sizeof *r);
    if (eg_ar_model_load(MAIN_GGUF, &r->mm) != EG_OK || eg_ar_model_load(DRAFT_GGUF, &r->dm) != EG_OK) return 0;
    if (eg_exec_init(&r->ex, EG_ISA_AUTO, n_threads) != EG_OK) return 0;
    if (eg_ar_state_create(r->mm, &r->ex, MAX_IDS, &r->main) != EG_OK ||
        eg_ar_state_create(r->dm, &r->ex, MAX_IDS, &r->draft) != EG_OK) return 0;
    const int nc = (int)r->mm->cfg.n_codes;
    r->sampler_mem = malloc(eg_sampler_scratch_bytes(nc));
    r->spec_mem = aligned_alloc(64, (eg_spec_bytes(r->mm, r->dm, k) + 63) / 64 * 64);
    if (!r->sampler_mem || !r->spec_mem || eg_sampler_init(&r->s, spp, nc, r->sampler_mem) != EG_OK) return 0;
    return eg_spec_init(&r->sp, r->main, r->draft, k, spp, r->spec_mem) == EG_OK;
}

static void rig_close(struct rig *r) {
    eg_ar_state_destroy(r->draft);
    eg_ar_state_destroy(r->main);
    eg_exec_free(&r->ex);
    eg_ar_model_destroy(r->dm);
    eg_ar_model_destroy(r->mm);
    free(r->sampler_mem);
    free(r->spec_mem);
}

/* All tokens of the encoded sentence through eg_spec_next; returns the count (-1 on error). */
static int spec_run(struct rig *r, const int32_t *ids, int n_ids, int32_t *out) {
    if (eg_spec_begin(&r->sp, ids, n_ids) != EG_OK) return -1;
    const int64_t T = eg_ar_n_frames(r->main);
    int t = 0;
    while (t < T) {
        int32_t toks[EG_SPEC_MAX_K + 1];
        int n = 0;
        if (eg_spec_next(&r->sp, &r->s, toks, &n) != EG_OK || n < 1 || n > r->sp.k + 1 || t + n > T) return -1;
        memcpy(out + t, toks, sizeof(int32_t) * (size_t)n);
        t += n;
    }
    int32_t extra[EG_SPEC_MAX_K + 1];
    int n = -1;
    if (eg_spec_next(&r->sp, &r->s, extra, &n) != EG_OK || n != 0) return -1;   /* nothing past the sentence */
    return t;
}

TEST(spec_greedy_identical) {
    const struct eg_sampler_params greedy = { .temperature = 0.0f, .top_k = 50, .top_p = 1.0f, .seed = 0 };
    uint64_t rng = 2026;
    int total_acc = 0, total_drafted = 0;
    for (int nt = 1; nt <= 2; nt++)
        for (int k = 1; k <= EG_SPEC_MAX_K; k++) {
            if (nt == 2 && k != 3 && k != 8) continue;
            struct rig r;
            REQUIRE(rig_open(&r, nt, k, &greedy), "open " MAIN_GGUF " + " DRAFT_GGUF " (k %d, %d threads)", k, nt);
            for (int si = 0; si < 3; si++) {
                int32_t ids[MAX_IDS], plain[2048], spec[2048];
                const int n_ids = random_sentence(r.mm, &rng, 5 + 6 * si, ids);
                REQUIRE(eg_ar_encode(r.main, ids, n_ids) == EG_OK && eg_ar_predict_durations(r.main, 1.0f, NULL) == EG_OK,
                        "encode");
                const int T = (int)eg_ar_n_frames(r.main);
                REQUIRE(T > 0 && T <= 2048, "frames %d", T);
                REQUIRE(eg_ar_generate(r.main, &r.s, plain) == EG_OK, "plain");
                const int64_t acc0 = r.sp.stats.accepted, dr0 = r.sp.stats.drafted;
                const int n = spec_run(&r, ids, n_ids, spec);
                CHECK(n == T, "k %d, sentence %d: %d tokens, expected %d", k, si, n, T);
                int first = -1;
                for (int t = 0; t < T && first < 0; t++) if (plain[t] != spec[t]) first = t;
                CHECK(first < 0, "k %d, %d threads, sentence %d (%d frames): first differing token at frame %d", k, nt,
                      si, T, first);
                total_acc += (int)(r.sp.stats.accepted - acc0);
                total_drafted += (int)(r.sp.stats.drafted - dr0);
            }
            rig_close(&r);
        }
    /* the draft is a real one: the path where drafts are kept AND the one where they are rejected both ran */
    CHECK(total_acc > 0 && total_acc < total_drafted, "accepted %d of %d draft tokens", total_acc, total_drafted);
}

/* Upper tail of chi-square with df degrees of freedom: x > crit(df) at significance 1e-4 (Wilson-Hilferty). */
static double chi2_crit_1e4(int df) {
    const double z = 3.719016, a = 2.0 / (9.0 * df);
    const double t = 1.0 - a + z * sqrt(a);
    return df * t * t * t;
}

/* Chi-square statistic of counts [nb] against expected probabilities [nb] over n samples; cells with an expected
 * count under 5 are pooled into one (dropped if the pool is still under 5). *df_out = cells - 1. */
static double chi2_stat(const int *counts, const double *prob, int nb, int n, int *df_out) {
    double x = 0, pool_e = 0, pool_o = 0;
    int cells = 0;
    for (int i = 0; i < nb; i++) {
        const double e = prob[i] * n;
        if (e >= 5.0) { x += (counts[i] - e) * (counts[i] - e) / e; cells++; }
        else { pool_e += e; pool_o += counts[i]; }
    }
    if (pool_e >= 5.0) { x += (pool_o - pool_e) * (pool_o - pool_e) / pool_e; cells++; }
    *df_out = cells - 1;
    return x;
}

/* N seeds of a 3-frame sentence with k 2 (frames 0, 1 drafted, frame 2 the bonus or a replacement): the joint
 * of (token 0, token 1) as counts over the exact support. Returns the chi-square statistic vs exact, df. */
#define N_SEEDS 1500
#define MAX_SUP 64
struct exact {
    int n0;
    int32_t x0[MAX_SUP];
    double p0[MAX_SUP];
    int n1[MAX_SUP];
    int32_t x1[MAX_SUP][MAX_SUP];
    double p01[MAX_SUP][MAX_SUP];   /* joint P(x0, x1) */
};

static int support(const float *p, int n, int32_t *ids, double *pr) {
    int k = 0;
    for (int i = 0; i < n && k < MAX_SUP; i++) if (p[i] > 0.0f) { ids[k] = i; pr[k] = p[i]; k++; }
    return k;
}

static double sampled_chi2(struct rig *r, const int32_t *ids, int n_ids, const int32_t *dur, const struct exact *ex,
                           int *df, double *accept_rate) {
    static int counts[MAX_SUP * MAX_SUP + 1];
    memset(counts, 0, sizeof counts);
    const int64_t a0 = r->sp.stats.accepted, d0 = r->sp.stats.drafted;
    if (eg_ar_encode(r->main, ids, n_ids) != EG_OK || eg_ar_set_durations(r->main, dur, n_ids) != EG_OK) return INFINITY;
    for (int seed = 0; seed < N_SEEDS; seed++) {
        int32_t out[8];
        eg_sampler_reseed(&r->s, 0x5eed0000u + (uint64_t)seed);
        if (spec_run(r, ids, n_ids, out) != 3) return INFINITY;
        int cell = MAX_SUP * MAX_SUP;   /* outside the exact support: impossible for a correct sampler */
        for (int i = 0; i < ex->n0; i++)
            if (ex->x0[i] == out[0])
                for (int j = 0; j < ex->n1[i]; j++)
                    if (ex->x1[i][j] == out[1]) cell = i * MAX_SUP + j;
        counts[cell]++;
    }
    *accept_rate = (double)(r->sp.stats.accepted - a0) / (double)(r->sp.stats.drafted - d0);
    static double prob[MAX_SUP * MAX_SUP + 1];
    memset(prob, 0, sizeof prob);
    for (int i = 0; i < ex->n0; i++)
        for (int j = 0; j < ex->n1[i]; j++) prob[i * MAX_SUP + j] = ex->p01[i][j];
    if (counts[MAX_SUP * MAX_SUP]) return INFINITY;
    return chi2_stat(counts, prob, MAX_SUP * MAX_SUP, N_SEEDS, df);
}

TEST(spec_sampled_distribution) {
    const struct eg_sampler_params spp = { .temperature = 0.3f, .top_k = 50, .top_p = 1.0f, .seed = 0 };
    struct rig r;
    REQUIRE(rig_open(&r, 1, 2, &spp), "open " MAIN_GGUF " + " DRAFT_GGUF);
    const int nc = (int)r.mm->cfg.n_codes;
    uint64_t rng = 3;   /* a sentence whose first frames the draft gets right ~18 % of the time at T 0.3 */
    int32_t ids[MAX_IDS], dur[MAX_IDS];
    const int n_ids = random_sentence(r.mm, &rng, 3, ids);
    for (int i = 0; i < n_ids; i++) dur[i] = 0;
    dur[2] = 2;                 /* frames 0, 1 on the first phoneme, frame 2 on the next */
    dur[4] = 1;
    float *p = malloc(sizeof(float) * (size_t)nc);
    static struct exact ex;
    /* exact joint: P(x0) from frame 0; for every x0 in its support, P(x1 | x0) from frame 1 fed x0 */
    REQUIRE(p && eg_ar_encode(r.main, ids, n_ids) == EG_OK && eg_ar_set_durations(r.main, dur, n_ids) == EG_OK, "encode");
    const float *lg;
    REQUIRE(eg_ar_step(r.main, nc, &lg) == EG_OK, "step 0");
    eg_sampler_probs(&r.s, lg, p);
    ex.n0 = support(p, nc, ex.x0, ex.p0);
    REQUIRE(ex.n0 > 1 && ex.n0 <= 50, "support of frame 0: %d tokens", ex.n0);
    for (int i = 0; i < ex.n0; i++) {
        eg_ar_reset(r.main);
        int32_t feed[2] = { nc, ex.x0[i] };
        REQUIRE(eg_ar_step_batch(r.main, feed, 2, &lg) == EG_OK, "step 1");
        eg_sampler_probs(&r.s, lg + nc, p);
        double pr[MAX_SUP];
        ex.n1[i] = support(p, nc, ex.x1[i], pr);
        for (int j = 0; j < ex.n1[i]; j++) ex.p01[i][j] = ex.p0[i] * pr[j];
    }
    rig_close(&r);
    REQUIRE(rig_open(&r, 1, 2, &spp), "reopen");

    int df = 0;
    double acc = 0;
    const double x = sampled_chi2(&r, ids, n_ids, dur, &ex, &df, &acc);
    REQUIRE(df > 3, "too few cells (%d degrees of freedom)", df);
    const double crit = chi2_crit_1e4(df);
    fprintf(stderr, "  spec sampled: chi2 %.1f, df %d, critical %.1f at 1e-4; draft acceptance %.2f\n", x, df, crit, acc);
    CHECK(x < crit, "speculative tokens are not distributed as the model's: chi2 %.1f > %.1f (df %d)", x, crit, df);
    CHECK(acc * N_SEEDS > 10 && (1 - acc) * N_SEEDS > 10, "acceptance %.3f: the test needs both kept and rejected drafts", acc);
    /* power: two broken rules must fail the same test */
    for (int b = 1; b <= 2; b++) {
        eg_spec_test_broken = b;
        int dfb = 0;
        double accb = 0;
        const double xb = sampled_chi2(&r, ids, n_ids, dur, &ex, &dfb, &accb);
        eg_spec_test_broken = 0;
        fprintf(stderr, "  spec sampled, broken rule %d: chi2 %.1f, df %d, critical %.1f\n", b, xb, dfb,
                chi2_crit_1e4(dfb > 0 ? dfb : 1));
        CHECK(!(xb < chi2_crit_1e4(dfb > 0 ? dfb : 1)), "broken rule %d passed the test (chi2 %.1f): it has no power", b, xb);
    }
    free(p);
    rig_close(&r);
}

TEST(spec_rejects) {
    struct eg_ar_model *mm = NULL, *dm = NULL, *tiny = NULL;
    REQUIRE(eg_ar_model_load(MAIN_GGUF, &mm) == EG_OK && eg_ar_model_load(DRAFT_GGUF, &dm) == EG_OK, "load");
    CHECK(eg_spec_check(mm, dm) == EG_OK, "the shipped draft fits the shipped model");
    CHECK(eg_spec_check(mm, mm) == EG_OK, "a model is a valid draft of itself");
    QUIET();
    if (eg_ar_model_load("tests/golden/tts_tiny_ar-f32.gguf", &tiny) == EG_OK) {
        CHECK(eg_spec_check(mm, tiny) == EG_ERR_FORMAT, "a draft with other tokens/inventory refused");
        eg_ar_model_destroy(tiny);
    } else {
        CHECK(0, "load tests/golden/tts_tiny_ar-f32.gguf");
    }
    /* same tokens, one phoneme symbol changed: refused */
    struct eg_ar_model alt = *dm;
    alt.gguf = NULL;
    alt.cfg.eos_id = dm->cfg.eos_id + 1;
    CHECK(eg_spec_check(mm, &alt) == EG_ERR_FORMAT, "other eos id refused");
    CHECK(eg_spec_bytes(mm, dm, 0) == 0 && eg_spec_bytes(mm, dm, EG_SPEC_MAX_K + 1) == 0, "k out of range: 0 bytes");
    LOUD();
    eg_ar_model_destroy(dm);
    eg_ar_model_destroy(mm);
}

/* The public API: spec_k needs a draft; a refused draft leaves the model as it was; with a draft, temperature 0
 * gives the same samples (memcmp of the f32 audio) as spec_k 0, and the stats count the rounds. */
struct pcm { float *x; int64_t n, cap; };
static enum eg_status collect(void *user, const void *samples, int n) {
    struct pcm *p = user;
    if (p->n + n > p->cap) return EG_ERR_NOMEM;
    memcpy(p->x + p->n, samples, sizeof(float) * (size_t)n);
    p->n += n;
    return EG_OK;
}

TEST(spec_public_api) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(MAIN_GGUF, NULL, &st);
    REQUIRE(m, "load " MAIN_GGUF " + its codec");
    static float bufa[1 << 20], bufb[1 << 20];
    struct pcm a = { bufa, 0, 1 << 20 }, b = { bufb, 0, 1 << 20 };
    struct eg_ctx_params p = eg_ctx_default_params();
    p.temperature = 0.0f;
    p.device = EG_DEVICE_CPU;
    p.on_audio = collect;
    p.spec_k = 3;
    QUIET();
    CHECK(!eg_ctx_create(m, &p, &st) && st == EG_ERR_INVALID_ARG, "spec_k without a draft refused");
    CHECK(eg_model_set_draft(m, "tests/golden/tts_tiny_ar-f32.gguf") == EG_ERR_FORMAT, "mismatched draft refused");
    CHECK(!eg_ctx_create(m, &p, &st), "still no draft after the refusal");
    p.spec_k = EG_SPEC_MAX_K + 1;
    REQUIRE(eg_model_set_draft(m, DRAFT_GGUF) == EG_OK, "set the draft");
    CHECK(!eg_ctx_create(m, &p, &st) && st == EG_ERR_INVALID_ARG, "spec_k 9 refused");
    LOUD();
    uint64_t rng = 5;
    int32_t ids[MAX_IDS];
    struct eg_ar_model *mm = NULL;
    REQUIRE(eg_ar_model_load(MAIN_GGUF, &mm) == EG_OK, "load");
    const int n = random_sentence(mm, &rng, 14, ids);
    eg_ar_model_destroy(mm);
    for (int k = 0; k <= 5; k += 5) {
        p.spec_k = k;
        p.on_audio_user = k ? &b : &a;
        struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
        REQUIRE(ctx, "context spec_k %d", k);
        CHECK(eg_ctx_synthesize_ids(ctx, ids, n) == EG_OK, "synthesize spec_k %d", k);
        struct eg_ctx_stats s;
        eg_ctx_get_stats(ctx, &s);
        if (k) CHECK(s.n_spec_rounds > 0 && s.n_spec_drafted > 0 && s.n_spec_rounds < s.n_frames,
                     "stats: %lld rounds, %lld drafted, %lld frames", (long long)s.n_spec_rounds,
                     (long long)s.n_spec_drafted, (long long)s.n_frames);
        else CHECK(s.n_spec_rounds == 0, "no rounds without a draft");
        eg_ctx_destroy(ctx);
    }
    CHECK(a.n > 0 && a.n == b.n && memcmp(a.x, b.x, sizeof(float) * (size_t)a.n) == 0,
          "greedy audio with spec_k 5 differs from plain (%lld vs %lld samples)", (long long)a.n, (long long)b.n);
    eg_model_free(m);
}
