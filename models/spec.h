/* models/spec.h — speculative decoding of codec tokens: a small draft AR model proposes k tokens, the main model
 * checks all k in one batched step (eg_ar_step_batch: its weights are read once for k + 1 frames), the longest
 * acceptable prefix is kept and both KV caches are rolled back to it (eg_ar_rollback).
 *
 *   eg_spec_check(main_model, draft_model)            // same tokens and conditioning, else EG_ERR_FORMAT
 *   void *mem = malloc(eg_spec_bytes(main_model, draft_model, k));
 *   eg_spec_init(&sp, main_state, draft_state, k, &sampler_params, mem);
 *   per sentence: eg_ar_encode(main, ...) + durations, then eg_spec_begin(&sp, ids, n);
 *   while (pos < n_frames) eg_spec_next(&sp, &sampler, tokens, &n_new);   // 1 .. k + 1 tokens a call
 *
 * The draft runs on the main model's durations (its own encoder reads the same phoneme ids); its duration
 * predictor is unused. The output does not depend on the draft at all in distribution:
 *  - temperature <= 0 (greedy): draft token i is kept while it equals the main model's argmax at that frame, the
 *    first mismatch is replaced by the main argmax, and if all k are kept the main row k gives one more token.
 *    Every main row is bit-identical to a single eg_ar_step (eg_ar_step_batch), so the tokens are exactly those
 *    of plain greedy decoding, for any draft, k and thread count.
 *  - temperature > 0: the standard rejection scheme (Leviathan et al. 2023; Chen et al. 2023). p and q are the
 *    FINAL distributions the sampler draws from (eg_sampler_probs: temperature, top-k, top-p applied) of the main
 *    model and of the draft (same sampler parameters). The draft samples x ~ q; x is kept with probability
 *    min(1, p(x)/q(x)); at the first rejection a token is drawn from norm(max(0, p - q)) and the round ends; if
 *    all k are kept one more is drawn from the main model's next row. Each emitted token then has exactly the
 *    distribution plain sampling gives (not the same draws: the RNG is consumed differently). All draws come
 *    from the sampler's RNG (xoshiro256**), so a seed still fixes the output, for any thread count.
 * Memory: eg_spec_bytes, given at init; nothing is allocated after. Thread safety: as the two states.
 */
#ifndef EG_SPEC_H
#define EG_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "models/ar_lm.h"
#include "models/sampler.h"

#define EG_SPEC_MAX_K 8          /* draft tokens per verification: 1 .. EG_SPEC_MAX_K */
#define EG_SPEC_DRAFT_KEY "edgegen.ar.draft_for"   /* in a draft GGUF: "<general.name> <edgegen.source>" of the
                                                      model it was distilled from (advisory) */

struct eg_spec_stats {
    int64_t rounds;              /* verifications (main batched steps) */
    int64_t drafted;             /* draft tokens proposed */
    int64_t accepted;            /* of those, kept */
    int64_t emitted;             /* tokens emitted (accepted + one per round) */
};

struct eg_spec {
    struct eg_ar_state *main, *draft;   /* borrowed */
    int k;
    int n_codes;
    struct eg_sampler dsamp;     /* draft-side distributions (same parameters as the caller's sampler) */
    float   *q;                  /* [k][n_codes] draft distributions of this round */
    float   *p;                  /* [n_codes] main distribution / residual */
    int32_t  feed[EG_SPEC_MAX_K + 1];
    int64_t  pos;                /* tokens emitted in this sentence */
    int64_t  n_frames;
    int32_t  last[2];            /* tokens of frames pos-2, pos-1 (BOS before the sentence) */
    struct eg_spec_stats stats;  /* since eg_spec_init (the caller may clear it) */
    /* benchmarks: called before every draft step and every verification when set (bench_spec --cold evicts the
     * caches there, as on a board whose caches cannot hold the weights) */
    void (*before_step)(void *user);
    void *before_step_user;
};

/* EG_OK when draft can draft for main: same n_codes and FSQ levels (tokens), same phoneme inventory size,
 * symbols and pad/bos/eos ids (conditioning). Else EG_ERR_FORMAT, one log line naming the draft file (label),
 * the field, the expected and the found value. When the draft's EG_SPEC_DRAFT_KEY names another model than
 * main's general.name + edgegen.source, a warning (the output is unaffected; acceptance may be low). */
enum eg_status eg_spec_check(const struct eg_ar_model *main_m, const struct eg_ar_model *draft_m);

/* Bytes of memory eg_spec_init needs for k (1..EG_SPEC_MAX_K): the two rollback logs, the draft sampler's scratch
 * and the distributions. 0 on invalid arguments. */
size_t eg_spec_bytes(const struct eg_ar_model *main_m, const struct eg_ar_model *draft_m, int k);
/* Bind the two states (they keep their own models and exec contexts) with mem (eg_spec_bytes, 64-byte aligned,
 * borrowed, outlives sp): enables their rollback logs. sp_params: the sampler parameters the caller's sampler
 * has (temperature, top-k, top-p; the seed is unused). EG_ERR_INVALID_ARG / EG_ERR_FORMAT (eg_spec_check). */
enum eg_status eg_spec_init(struct eg_spec *sp, struct eg_ar_state *main_st, struct eg_ar_state *draft_st, int k,
                            const struct eg_sampler_params *sp_params, void *mem);
/* Start a sentence: main_st must have been encoded with ids [n] and given its durations; the draft is encoded
 * with the same ids and given the same durations, both restart at frame 0. */
enum eg_status eg_spec_begin(struct eg_spec *sp, const int32_t *ids, int n);
/* The next 1 .. k + 1 tokens (never past the sentence's eg_ar_n_frames), written to out [k + 1]; *n_out = how
 * many. s: the caller's sampler (its parameters must be those given to init; its RNG is used). Frame f's
 * phoneme: eg_ar_frame_phoneme(main_st, f). Errors from the steps are returned unchanged. */
enum eg_status eg_spec_next(struct eg_spec *sp, struct eg_sampler *s, int32_t *out, int *n_out);

#endif /* EG_SPEC_H */
