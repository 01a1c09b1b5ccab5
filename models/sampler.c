/* models/sampler.c — temperature / top-k / top-p sampling with an explicit xoshiro256** state.
 *
 * The pipeline is models/train/ar_model.py sample() step by step (see sampler.h): softmax of logits/T, top-k by
 * a k-element min-heap (O(n log k), no full sort: n_codes is 21875 for the default FSQ), top-p over the
 * surviving candidates sorted by probability (descending, ties by id), then an inverse-CDF draw in id order.
 * All sums are in double and in a fixed order, so the result depends only on the logits and the RNG state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/sampler.h"
#include "runtime/core/internal.h"

struct eg_sampler_params eg_sampler_default_params(void) {
    struct eg_sampler_params p = { .temperature = 0.6f, .top_k = 50, .top_p = 1.0f, .seed = 0 };
    return p;
}

/* ---- RNG: splitmix64 seeding + xoshiro256** (public domain reference, prng.di.unimi.it) ----------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t eg_sampler_next_u64(struct eg_sampler *s) {
    uint64_t *r = s->rng;
    const uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;
    r[2] ^= r[0]; r[3] ^= r[1]; r[1] ^= r[2]; r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return out;
}

void eg_sampler_reseed(struct eg_sampler *s, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);   /* never all zero: splitmix64 is a bijection */
    s->p.seed = seed;
}

/* ---- setup ---------------------------------------------------------------------------------------------- */

size_t eg_sampler_scratch_bytes(int n_vocab) {
    if (n_vocab < 1 || n_vocab > (1 << 26)) return 0;
    return (size_t)n_vocab * (2 * sizeof(float) + sizeof(int32_t));
}

enum eg_status eg_sampler_init(struct eg_sampler *s, const struct eg_sampler_params *p, int n_vocab, void *scratch) {
    if (!s || !p || !scratch || eg_sampler_scratch_bytes(n_vocab) == 0) {
        EG_LOGE("sampler: expected a non-NULL sampler, params and scratch and 1 <= n_vocab <= 2^26, found n_vocab %d",
                n_vocab);
        return EG_ERR_INVALID_ARG;
    }
    if (isnan(p->temperature) || !(p->top_p > 0.0f)) {
        EG_LOGE("sampler: expected a temperature (not NaN) and top_p > 0, found temperature %g top_p %g",
                (double)p->temperature, (double)p->top_p);
        return EG_ERR_INVALID_ARG;
    }
    memset(s, 0, sizeof *s);
    s->p = *p;
    s->n_vocab = n_vocab;
    s->probs = scratch;
    s->heap = s->probs + n_vocab;
    s->idx = (int32_t *)(s->heap + n_vocab);
    eg_sampler_reseed(s, p->seed);
    return EG_OK;
}

/* ---- the pipeline --------------------------------------------------------------------------------------- */

/* Index of the largest logit, NaN ignored, first one on ties (torch.argmax); 0 when all are NaN. */
static int32_t argmax(const float *x, int n) {
    int32_t best = -1;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]) && (best < 0 || x[i] > x[best])) best = i;
    return best < 0 ? 0 : best;
}

/* Sift-down for a min-heap of n floats. */
static void heap_down(float *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l] < h[m]) m = l;
        if (r < n && h[r] < h[m]) m = r;
        if (m == i) return;
        float t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

/* top-p candidates are sorted as (prob, id) pairs (qsort has no context pointer), packed in the heap + idx
 * scratch, which are contiguous: n pairs of 8 bytes. Order: probability descending, then id ascending. */
struct cand { float p; int32_t id; };
static int cand_cmp(const void *a, const void *b) {
    const struct cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Fill s->probs with the unnormalised distribution to draw from (sample() before `p / p.sum()`).
 * Returns -1 when it is a proper distribution, or a token id when the result is one-hot (greedy / degenerate). */
static int32_t build_probs(struct eg_sampler *s, const float *logits) {
    const int n = s->n_vocab;
    float *p = s->probs;
    const int32_t am = argmax(logits, n);
    if (!(s->p.temperature > 0.0f) || !isfinite(logits[am])) return am;

    /* softmax(logits / T): max-subtracted, normalised as torch does (NaN → 0) */
    const float t = s->p.temperature, mx = logits[am] / t;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        p[i] = isnan(logits[i]) ? 0.0f : expf(logits[i] / t - mx);
        sum += p[i];
    }
    const float inv = (float)(1.0 / sum);   /* sum >= 1: the maximum contributes exp(0) */
    for (int i = 0; i < n; i++) p[i] *= inv;

    /* top-k: threshold = k-th largest probability (min of a k-element min-heap); keep p >= threshold */
    if (s->p.top_k > 0 && s->p.top_k < n) {
        const int k = s->p.top_k;
        float *h = s->heap;
        memcpy(h, p, (size_t)k * sizeof *h);
        for (int i = k / 2 - 1; i >= 0; i--) heap_down(h, k, i);
        for (int i = k; i < n; i++)
            if (p[i] > h[0]) { h[0] = p[i]; heap_down(h, k, 0); }
        const float thr = h[0];
        for (int i = 0; i < n; i++) if (p[i] < thr) p[i] = 0.0f;
    }

    /* top-p: candidates sorted descending; keep the prefix whose exclusive cumulative sum < top_p * total */
    if (s->p.top_p < 1.0f) {
        struct cand *c = (struct cand *)s->heap;
        int nc = 0;
        double total = 0;
        for (int i = 0; i < n; i++)
            if (p[i] > 0.0f) { c[nc].p = p[i]; c[nc].id = i; nc++; total += p[i]; }
        qsort(c, (size_t)nc, sizeof *c, cand_cmp);
        const double lim = (double)s->p.top_p * total;
        double cum = 0;
        int keep = 0;
        while (keep < nc && cum < lim) cum += c[keep++].p;
        for (int j = keep; j < nc; j++) p[c[j].id] = 0.0f;
    }
    return -1;
}

int32_t eg_sampler_sample(struct eg_sampler *s, const float *logits) {
    const int n = s->n_vocab;
    const int32_t one = build_probs(s, logits);
    if (one >= 0) return one;
    const float *p = s->probs;
    double total = 0;
    for (int i = 0; i < n; i++) total += p[i];
    /* inverse CDF in id order; u in [0, 1) from the top 53 bits */
    const double r = (double)(eg_sampler_next_u64(s) >> 11) * (1.0 / 9007199254740992.0) * total;
    double acc = 0;
    int32_t last = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] <= 0.0f) continue;
        acc += p[i];
        last = i;
        if (r < acc) return i;
    }
    return last;   /* rounding left r at the very top: the last candidate */
}

void eg_sampler_probs(struct eg_sampler *s, const float *logits, float *probs_out) {
    const int n = s->n_vocab;
    const int32_t one = build_probs(s, logits);
    if (one >= 0) {
        memset(probs_out, 0, (size_t)n * sizeof *probs_out);
        probs_out[one] = 1.0f;
        return;
    }
    double total = 0;
    for (int i = 0; i < n; i++) total += s->probs[i];
    for (int i = 0; i < n; i++) probs_out[i] = (float)(s->probs[i] / total);
}
