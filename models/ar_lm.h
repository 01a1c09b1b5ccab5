/* models/ar_lm.h — pico-AR: phoneme ids → codec tokens, frame-aligned (models/train/ar_model.py PicoAR).
 *
 *   struct eg_ar_model *m;  eg_ar_model_load("pico-ar-q8_0.gguf", &m);          // immutable, shareable
 *   struct eg_exec ex;      eg_exec_init(&ex, EG_ISA_AUTO, 2);
 *   struct eg_ar_state *st; eg_ar_state_create(m, &ex, 512, &st);               // one per stream
 *   eg_ar_encode(st, ids, n_ids);                  // phoneme encoder + duration predictor
 *   eg_ar_predict_durations(st, 1.0f, NULL);       // or eg_ar_set_durations(st, teacher, n_ids)
 *   eg_ar_generate(st, &sampler, tokens);          // eg_ar_n_frames(st) tokens; or eg_ar_step() per frame
 *
 * Model: phoneme encoder (bidirectional transformer, RoPE over phoneme positions) → duration predictor
 * (2 × Conv1d + ReLU + LayerNorm, Linear → log(1 + frames)); length regulation with the in-phoneme fraction;
 * token decoder (causal transformer, sliding window of W frames, RoPE over frame positions), one frame per
 * eg_ar_step. The token fed at frame t is the previous frame's token (BOS = n_codes at t = 0).
 *
 * Duration rule: frames[p] = max(0, floor((exp(logd[p]) - 1) * length_scale + 0.5)) — round half up of the
 * predicted count scaled by Piper's length_scale (1 = as predicted, > 1 slower); export_ar.durations_from_log is
 * the Python twin.
 *
 * Memory: one arena per state, sized at creation from the config, max_phonemes and the thread count: the KV
 * cache is a ring of W frames per decoder layer, so a sentence of any length runs in fixed memory; nothing is
 * allocated by encode/step. Thread safety: a state and its eg_exec are used by one thread at a time; the model
 * may be shared by any number of states. Results are bit-identical for any thread count (fixed work blocks).
 */
#ifndef EG_AR_LM_H
#define EG_AR_LM_H

#include <stddef.h>
#include <stdint.h>
#include "models/exec.h"
#include "runtime/core/gguf.h"
#include "models/sampler.h"

#define EG_AR_ARCH        "edgegen.ar"
#define EG_AR_MAX_FSQ     16                 /* FSQ digits we accept */
#define EG_AR_MAX_FRAMES  (1 << 24)          /* frame positions stay exact in f32 (RoPE angle = pos * freq) */
#define EG_AR_MAX_PHONEMES 4096              /* per encode; the encoder attention scratch is max_phonemes^2 */
#define EG_AR_MAX_BATCH   16                 /* frames per eg_ar_step_batch (sizes the decoder buffers) */

struct eg_ar_config {
    uint32_t n_phonemes;                     /* edgegen.ar.n_phonemes: ids are in [0, n_phonemes) */
    uint32_t dim, n_heads, head_dim;         /* head_dim = dim / n_heads, even */
    uint32_t ffn_dim;
    uint32_t enc_layers, dec_layers;
    uint32_t window;                         /* W: frame t attends to frames t-W+1 .. t */
    float    rope_theta, norm_eps;
    uint32_t n_levels;                       /* FSQ digits */
    uint32_t fsq_levels[EG_AR_MAX_FSQ];      /* digit 0 least significant */
    uint32_t n_codes;                        /* prod(fsq_levels); token n_codes = BOS */
    uint32_t dur_kernel;                     /* odd */
    float    dur_norm_eps;
    uint32_t pad_id, bos_id, eos_id;         /* phoneme ids of '_', '^', '$' */
    float    length_scale;                   /* edgegen.ar.length_scale (optional, default 1): the model's own
                                              * duration calibration, multiplied into the caller's length_scale
                                              * by the TTS pipeline (1/speed x this) */
};

struct eg_ar_block {                         /* ar_model.Block: pre-RMSNorm attention + GELU FFN, no biases */
    const float *norm1;                      /* f32 [dim] */
    struct eg_linear wq, wk, wv, wo;         /* f32|f16|q8_0|q4_0 [dim][dim] */
    const float *norm2;                      /* f32 [dim] */
    struct eg_linear up;                     /* [ffn_dim][dim] */
    struct eg_linear down;                   /* [dim][ffn_dim] */
};

struct eg_ar_weights {
    const float *enc_embed;                  /* f32 [n_phonemes][dim]  encoder.embed.weight */
    struct eg_ar_block *enc;                 /* [enc_layers]           encoder.blocks.i */
    const float *enc_norm;                   /* f32 [dim]              encoder.norm.weight */
    struct eg_linear dur_conv1, dur_conv2;   /* [dim][k*dim] (file (out, k, in): im2col rows) + f32 bias [dim] */
    const float *dur_norm1_w, *dur_norm1_b;  /* f32 [dim] LayerNorm */
    const float *dur_norm2_w, *dur_norm2_b;  /* f32 [dim] */
    const float *dur_proj_w;                 /* f32 [dim]  duration.proj.weight (1, dim) */
    float        dur_proj_b;                 /*            duration.proj.bias (1,) */
    struct eg_linear cond_proj;              /* [dim][dim] + f32 bias [dim] */
    const float *cond_frac;                  /* f32 [dim] */
    const float *digit_emb[EG_AR_MAX_FSQ];   /* f32 [fsq_levels[d] + 1][dim]; row fsq_levels[d] = BOS */
    struct eg_ar_block *dec;                 /* [dec_layers]           blocks.i */
    const float *norm_f;                     /* f32 [dim] */
    struct eg_linear head;                   /* [n_codes][dim], no bias */
};

struct eg_ar_model {
    struct eg_ar_config cfg;
    struct eg_ar_weights w;
    struct eg_ar_block *blocks;              /* enc_layers + dec_layers, owned */
    struct eg_gguf *gguf;                    /* owned when loaded from a path, else borrowed */
    int owns_gguf;
};

/* Load and validate (metadata ranges, every tensor's dtype and exact shape). Errors: EG_ERR_IO, EG_ERR_FORMAT
 * (the log names the key or tensor, the expected and the found value), EG_ERR_NOMEM. */
enum eg_status eg_ar_model_load(const char *path, struct eg_ar_model **out);
/* Same from an opened GGUF, borrowed: it must outlive the model. */
enum eg_status eg_ar_model_from_gguf(const struct eg_gguf *g, struct eg_ar_model **out);
void eg_ar_model_destroy(struct eg_ar_model *m);   /* NULL allowed */

/* Symbol of phoneme id (edgegen.ar.phonemes; "" for an unused id), NULL when id is out of range. Valid while
 * the model lives. */
const char *eg_ar_model_phoneme(const struct eg_ar_model *m, int id);

/* Per generated frame: weight bytes read (decoder blocks, final norm, head, digit rows) and FLOPs (2 x MACs of
 * the matrix products + attention over a full window). For benchmarks and memory plans. */
uint64_t eg_ar_weight_bytes_per_frame(const struct eg_ar_model *m);
double   eg_ar_flops_per_frame(const struct eg_ar_model *m);

struct eg_ar_state;

/* Arena bytes a state needs (for memory plans); 0 on invalid arguments. */
size_t eg_ar_state_arena_bytes(const struct eg_ar_model *m, const struct eg_exec *ex, int max_phonemes);
/* The same arena, part by part ("ar encoder buffers", "ar kv cache", "ar decoder state", "ar per-thread
 * scratch"; heap), appended to plan; the parts add up to eg_ar_state_arena_bytes. ex only needs n_threads. */
struct eg_memplan;
enum eg_status eg_ar_state_memplan(const struct eg_ar_model *m, const struct eg_exec *ex, int max_phonemes,
                                   struct eg_memplan *plan);
/* m and ex are borrowed and must outlive the state. max_phonemes in [1, EG_AR_MAX_PHONEMES] (Piper ids, about
 * 2 per phoneme: 512 covers a long sentence). Errors: EG_ERR_INVALID_ARG, EG_ERR_NOMEM. */
enum eg_status eg_ar_state_create(const struct eg_ar_model *m, struct eg_exec *ex, int max_phonemes,
                                  struct eg_ar_state **out);
void eg_ar_state_destroy(struct eg_ar_state *st);   /* NULL allowed */

/* Run the phoneme encoder and the duration predictor on ids [n] (1 <= n <= max_phonemes, each id in
 * [0, n_phonemes); else EG_ERR_INVALID_ARG and nothing changes). Clears the durations (eg_ar_n_frames = 0 until
 * eg_ar_set_durations / eg_ar_predict_durations). */
enum eg_status eg_ar_encode(struct eg_ar_state *st, const int32_t *ids, int n);
/* The duration predictor's output log(1 + frames) [n] for the last encode (NULL before any). Valid until the
 * next encode. */
const float *eg_ar_log_durations(const struct eg_ar_state *st);
/* Apply the duration rule above with length_scale in (0, 100]; writes the frames to frames_out [n] when not
 * NULL, then behaves as eg_ar_set_durations. */
enum eg_status eg_ar_predict_durations(struct eg_ar_state *st, float length_scale, int32_t *frames_out);
/* Set frames per phoneme (n = the encoded count, each >= 0, total <= EG_AR_MAX_FRAMES; teacher durations for
 * tests, or edited ones) and restart decoding at frame 0. */
enum eg_status eg_ar_set_durations(struct eg_ar_state *st, const int32_t *frames, int n);
int64_t eg_ar_n_frames(const struct eg_ar_state *st);    /* sum of the durations */
int64_t eg_ar_position(const struct eg_ar_state *st);    /* frames stepped since the last set/reset */
/* Index (into the encoded ids) of the phoneme the last eg_ar_step's frame belongs to, by the length regulation
 * above (zero-length phonemes skipped; past the durations the last one); -1 before the first step. */
int     eg_ar_step_phoneme(const struct eg_ar_state *st);
void    eg_ar_reset(struct eg_ar_state *st);             /* restart decoding at frame 0 (KV cache emptied) */

/* One decoder step for the frame at eg_ar_position(): prev_token = the token of the previous frame, or n_codes
 * (BOS) for frame 0 — any token in [0, n_codes] is accepted, so teacher forcing is just feeding the reference.
 * *logits (n_codes floats, owned by the state) is valid until the next call. Frames past eg_ar_n_frames() use
 * the last phoneme with fraction 1 (ar_model.regulate). EG_ERR_INVALID_ARG: no encode yet, token out of range,
 * or position EG_AR_MAX_FRAMES reached. */
enum eg_status eg_ar_step(struct eg_ar_state *st, int32_t prev_token, const float **logits);
/* n (1..EG_AR_MAX_BATCH) consecutive frames in one pass: prev_tokens[i] is the token fed at frame pos + i (so
 * prev_tokens[i] = the token of frame pos + i - 1); causal inside the batch, the KV cache is appended for all n.
 * *logits = [n][n_codes], row i for frame pos + i, valid until the next step; every row is bit-identical to what
 * n eg_ar_step calls give (same kernel calls per row), but each weight panel is read from memory once for the n
 * frames. Speculative verification and teacher-forced scoring use it. */
enum eg_status eg_ar_step_batch(struct eg_ar_state *st, const int32_t *prev_tokens, int n, const float **logits);
/* Early exit (a layer-skipping draft of the model itself): later steps run only the first n_layers decoder
 * layers (1..dec_layers; dec_layers = the model, the default), then the final norm and head. The KV entries the
 * draft writes for those layers are the model's own. Experimental: measured by bench_ar --draft. */
enum eg_status eg_ar_set_exit_layer(struct eg_ar_state *st, int n_layers);

/* Rollback, for speculative decoding (models/spec.h): rejected frames are undone by moving the position back. The
 * KV cache is a ring of W frames, so a frame stepped at pos >= W overwrote the slot of frame pos - W, which the
 * frames before pos still attend to; the rollback log keeps those slots. eg_ar_rollback_bytes: the log for
 * max_frames (1..EG_AR_MAX_BATCH + 1) frames stepped after a mark; eg_ar_enable_rollback gives the state that
 * memory (borrowed, outlives the state; nothing is allocated). eg_ar_mark remembers the position; eg_ar_rollback
 * (pos in [mark, position], at most max_frames stepped since the mark) restores the slots, the position and the
 * length regulation, so the next steps compute exactly what they would have computed had the frames after pos
 * never been stepped (the other per-frame buffers are scratch, rewritten by every step). Keep the exit layer
 * unchanged between a mark and its rollback. eg_ar_reset and encode clear the mark. */
size_t eg_ar_rollback_bytes(const struct eg_ar_model *m, int max_frames);   /* 0 on invalid arguments */
enum eg_status eg_ar_enable_rollback(struct eg_ar_state *st, void *buf, int max_frames);
enum eg_status eg_ar_mark(struct eg_ar_state *st);
enum eg_status eg_ar_rollback(struct eg_ar_state *st, int64_t pos);
/* Index of the phoneme frame `frame` belongs to by the length regulation (as eg_ar_step_phoneme reports after
 * stepping that frame); -1 before any encode or for a negative frame. */
int eg_ar_frame_phoneme(const struct eg_ar_state *st, int64_t frame);
/* Frames per encoded phoneme as set by eg_ar_set_durations / eg_ar_predict_durations (NULL before any encode);
 * valid until the next encode or set. */
const int32_t *eg_ar_durations(const struct eg_ar_state *st);
const struct eg_ar_model *eg_ar_state_model(const struct eg_ar_state *st);   /* the model a state runs */

/* eg_ar_reset, then eg_ar_n_frames() steps, each fed the previous sampled token: tokens [n_frames]. */
enum eg_status eg_ar_generate(struct eg_ar_state *st, struct eg_sampler *s, int32_t *tokens);

#endif /* EG_AR_LM_H */
