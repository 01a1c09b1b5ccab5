/* models/sampler.h — token sampler: temperature, top-k, top-p (nucleus), explicit RNG state.
 *
 *   struct eg_sampler_params sp = eg_sampler_default_params();     // temperature 0.8, top_k 50, top_p 1, seed 0
 *   struct eg_sampler s;
 *   void *mem = malloc(eg_sampler_scratch_bytes(n_vocab));          // or a slice of the caller's arena
 *   eg_sampler_init(&s, &sp, n_vocab, mem);
 *   int32_t tok = eg_sampler_sample(&s, logits);
 *
 * Semantics = models/train/ar_model.py sample(): temperature <= 0 → argmax (first maximum);
 * else p = softmax(logits / temperature); top_k in (0, n): p[i] = 0 where p[i] < (k-th largest p) (ties with the
 * k-th value are kept); top_p < 1: in descending order keep p[i] while (sum of the larger kept p) < top_p * sum(p);
 * draw from p / sum(p). The draw walks the tokens in id order, as torch.multinomial's inverse CDF does.
 *
 * RNG: xoshiro256** (Blackman & Vigna 2018), state seeded from `seed` by splitmix64; one 64-bit draw per
 * sampled token, mapped to a double in [0, 1) by its top 53 bits. Same seed, same logits → same tokens, on any
 * machine and any thread count (the sampler is single-threaded). It does not reproduce torch.multinomial's
 * draws (different generator); tests compare the distribution (eg_sampler_probs) instead.
 *
 * Memory: the sampler borrows `scratch` (eg_sampler_scratch_bytes) for its lifetime; nothing is allocated.
 * Thread safety: one sampler per stream.
 */
#ifndef EG_SAMPLER_H
#define EG_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

struct eg_sampler_params {
    float    temperature;   /* <= 0: greedy (argmax) */
    int      top_k;         /* <= 0 or >= n_vocab: off */
    float    top_p;         /* >= 1: off; must be > 0 */
    uint64_t seed;
};
struct eg_sampler_params eg_sampler_default_params(void);

struct eg_sampler {
    struct eg_sampler_params p;
    int       n_vocab;
    uint64_t  rng[4];       /* xoshiro256** state */
    float    *probs;        /* [n_vocab] scratch: the distribution being built */
    float    *heap;         /* [n_vocab] scratch: top-k min-heap; with idx, top-p (prob, id) pairs */
    int32_t  *idx;          /* [n_vocab] scratch, directly after heap */
};

/* Scratch bytes for n_vocab tokens (0 when n_vocab < 1 or too large). */
size_t eg_sampler_scratch_bytes(int n_vocab);
/* EG_ERR_INVALID_ARG for n_vocab < 1, a NaN temperature, top_p <= 0 or NaN. scratch: borrowed, >=
 * eg_sampler_scratch_bytes(n_vocab) bytes, aligned to 4 bytes. */
enum eg_status eg_sampler_init(struct eg_sampler *s, const struct eg_sampler_params *p, int n_vocab, void *scratch);
/* Restart the RNG from seed (keeps the other parameters). */
void eg_sampler_reseed(struct eg_sampler *s, uint64_t seed);

/* Next token in [0, n_vocab) from logits [n_vocab]. NaN logits are treated as -inf; if no token has a finite
 * probability the result is the argmax of the finite logits (token 0 if none). */
int32_t eg_sampler_sample(struct eg_sampler *s, const float *logits);

/* The normalised distribution the sampler draws from for these logits (probs_out [n_vocab], sums to 1), without
 * drawing; for temperature <= 0, one-hot at the argmax. For tests and tools. */
void eg_sampler_probs(struct eg_sampler *s, const float *logits, float *probs_out);

/* The raw generator (xoshiro256**), exposed for tests. */
uint64_t eg_sampler_next_u64(struct eg_sampler *s);

#endif /* EG_SAMPLER_H */
