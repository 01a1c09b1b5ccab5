/* models/decoder.h — the NAR codec decoder: FSQ tokens → 16-bit-ready float PCM, whole-utterance or streamed.
 *
 *   struct eg_codec_model *m;  eg_codec_model_load("pico-codec-q8_0.gguf", &m);   // immutable, shareable
 *   struct eg_exec ex;         eg_exec_init(&ex, EG_ISA_AUTO, 2);
 *   struct eg_decoder *d;      eg_decoder_create(m, &ex, NULL, &d);                // one per stream
 *   eg_decoder_run(d, tokens, phones, n, pcm);             // pcm: n * hop floats
 *   // or streaming: eg_decoder_push(d, tok, ph, k, sink, user) ... eg_decoder_flush(d, sink, user)
 *
 * Phoneme conditioning: a codec with edgegen.codec.n_phonemes > 0 also takes, per frame, the id of the phoneme
 * the frame belongs to (the TTS pipeline expands the AR model's ids by their durations); phones may be NULL
 * only for an unconditioned codec, which ignores them.
 *
 * The convolutions are non-causal: frame t depends on tokens t-R .. t+R, R = eg_codec_receptive_frames().
 * Streaming therefore lags R frames behind the input. Frames are computed in windows of at most chunk_frames
 * with exactly the context they need, and the overlap-add tail is carried, so the streamed PCM equals the
 * whole-utterance PCM (the same arithmetic per output sample; tests/test_decoder.c checks it).
 *
 * Memory: one arena per decoder, sized at creation from the config, thread count and chunk_frames; nothing is
 * allocated per call. Thread safety: a decoder and its eg_exec are used by one thread at a time; the model may
 * be shared by any number of decoders.
 */
#ifndef EG_DECODER_H
#define EG_DECODER_H

#include <stddef.h>
#include <stdint.h>
#include "models/exec.h"
#include "models/models.h"

struct eg_spectral;      /* models/stage.h */

struct eg_decoder_params {
    int chunk_frames;   /* frames computed per window (>= 1); larger is faster, smaller lowers latency */
    int first_chunk_frames;  /* 1 .. chunk_frames: the first window after create/reset/flush (time to first
                              * audio); 0 = chunk_frames. The audio is the same for any window sizes */
    struct eg_spectral *stage;   /* optional, borrowed (must outlive the decoder; one per decoder): runs each
                                  * window's network on an OpenCL device (eg_spectral_window), the iSTFT stays on
                                  * the CPU; its max_frames must be >= chunk_frames. NULL: CPU only */
};
struct eg_decoder_params eg_decoder_default_params(void);   /* chunk_frames = 64, stage = NULL */

struct eg_decoder;

/* Arena bytes a decoder needs (for memory plans); 0 on invalid params. */
size_t eg_decoder_arena_bytes(const struct eg_codec_model *m, const struct eg_exec *ex,
                              const struct eg_decoder_params *p);
/* The same arena, part by part ("decoder activations", "decoder state", "iSTFT tables", "decoder thread
 * scratch"; heap), appended to plan; the parts add up to eg_decoder_arena_bytes. ex only needs n_threads. */
struct eg_memplan;
enum eg_status eg_decoder_memplan(const struct eg_codec_model *m, const struct eg_exec *ex,
                                  const struct eg_decoder_params *p, struct eg_memplan *plan);
/* Estimator for `edgegen.codec` files (runtime/pipeline/memplan_archs.c): one decoder for p->n_threads threads
 * and p->chunk_frames frames per window, as `edgegen decode` creates it. */
struct eg_gguf;
struct eg_memplan_params;
enum eg_status eg_codec_memplan(const struct eg_gguf *g, const struct eg_memplan_params *p, struct eg_memplan *plan);
/* m and ex are borrowed and must outlive the decoder. p == NULL: defaults. Errors: EG_ERR_INVALID_ARG,
 * EG_ERR_NOMEM. */
enum eg_status eg_decoder_create(const struct eg_codec_model *m, struct eg_exec *ex,
                                 const struct eg_decoder_params *p, struct eg_decoder **out);
void eg_decoder_destroy(struct eg_decoder *d);   /* NULL allowed */

/* Forget the stream (tokens, overlap-add tail). */
void eg_decoder_reset(struct eg_decoder *d);

/* Receives PCM (float, nominally [-1, 1]) in stream order; pcm is valid only during the call. A status other
 * than EG_OK aborts the decode and is returned by push/flush/run. */
typedef enum eg_status (*eg_pcm_sink)(void *user, const float *pcm, int n_samples);

/* 0 when every token is in [0, n_codes); otherwise EG_ERR_INVALID_ARG and a log line naming the position
 * (first_pos + index) and the value. */
enum eg_status eg_decoder_check_tokens(const struct eg_codec_config *cfg, const int32_t *tokens, int n,
                                       int64_t first_pos);

/* 0 when the decoder is not phoneme-conditioned, or phones is non-NULL with every id in [0, n_phonemes);
 * otherwise EG_ERR_INVALID_ARG and a log line naming the frame (first_pos + index) and the id. */
enum eg_status eg_decoder_check_phonemes(const struct eg_codec_config *cfg, const int32_t *phones, int n,
                                         int64_t first_pos);

/* Append n tokens and their frame phoneme ids (all checked first: on a bad value nothing is consumed) and emit
 * every sample that no later token can change. */
enum eg_status eg_decoder_push(struct eg_decoder *d, const int32_t *tokens, const int32_t *phones, int n,
                               eg_pcm_sink sink, void *user);
/* End of stream: decode the remaining frames (zero padding after the last token, as the whole-utterance
 * decode), emit the rest so that the stream totals n_tokens * hop samples, then reset. */
enum eg_status eg_decoder_flush(struct eg_decoder *d, eg_pcm_sink sink, void *user);

/* Whole utterance: reset, push, flush into pcm [n * hop]. */
enum eg_status eg_decoder_run(struct eg_decoder *d, const int32_t *tokens, const int32_t *phones, int n, float *pcm);

/* Frames actually computed by the network so far, counting the context recomputed per window (for bench). */
int64_t eg_decoder_frames_computed(const struct eg_decoder *d);

#endif /* EG_DECODER_H */
