/* tests/decoder_run.h — decode an utterance with the NAR decoder, whole (a fresh exec + decoder) or streamed
 * through eg_decoder_push/flush (the NAR decoder tests: test_decoder.c for edgegen.codec, test_voice.c for
 * edgegen.voice). */
#ifndef EG_TEST_DECODER_RUN_H
#define EG_TEST_DECODER_RUN_H

#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "runtime/core/internal.h"

/* Tokens (+ frame phoneme ids, NULL for a plain decoder) through eg_decoder_run in windows of `chunk` frames on
 * `threads` threads; returns malloc'd PCM [n*hop] or NULL. */
static inline float *decode_ph(const struct eg_codec_model *m, const int32_t *tok, const int32_t *ph, int n,
                               int threads, int chunk) {
    struct eg_exec ex;
    struct eg_decoder *d = NULL;
    struct eg_decoder_params p = { .chunk_frames = chunk };
    float *pcm = malloc(sizeof(float) * (size_t)n * m->cfg.hop + 1);
    if (eg_exec_init(&ex, EG_ISA_AUTO, threads) != EG_OK) { free(pcm); return NULL; }
    if (eg_decoder_create(m, &ex, &p, &d) != EG_OK || eg_decoder_run(d, tok, ph, n, pcm) != EG_OK) { free(pcm); pcm = NULL; }
    eg_decoder_destroy(d);
    eg_exec_free(&ex);
    return pcm;
}

/* A streamed decode's output: the PCM (pcm malloc'd, cap samples), the sink calls, and how many tokens had been
 * pushed when the first audio arrived. */
struct stream_out { float *pcm; size_t n, cap; int calls, pushed, first_at; };

static inline enum eg_status stream_sink(void *user, const float *pcm, int n) {
    struct stream_out *c = user;
    if (c->n + (size_t)n > c->cap) return EG_ERR_INTERNAL;
    memcpy(c->pcm + c->n, pcm, sizeof(float) * (size_t)n);
    c->n += (size_t)n;
    if (!c->calls++) c->first_at = c->pushed;
    return EG_OK;
}

/* Push n tokens (+ frame phoneme ids, or NULL) per_push at a time into d (fresh, or flushed since its last
 * stream), then flush; *out gets the PCM (free out->pcm). Returns the first error, or EG_OK. */
static inline enum eg_status decode_streamed(struct eg_decoder *d, const int32_t *tok, const int32_t *ph, int n,
                                             int per_push, size_t cap, struct stream_out *out) {
    enum eg_status st = EG_OK;
    *out = (struct stream_out){ malloc(sizeof(float) * cap + 1), 0, cap, 0, 0, 0 };
    if (!out->pcm) return EG_ERR_NOMEM;
    for (int i = 0; i < n && st == EG_OK; i += per_push) {
        const int k = n - i < per_push ? n - i : per_push;
        out->pushed = i + k;
        st = eg_decoder_push(d, tok + i, ph ? ph + i : NULL, k, stream_sink, out);
    }
    return st == EG_OK ? eg_decoder_flush(d, stream_sink, out) : st;
}

#endif
