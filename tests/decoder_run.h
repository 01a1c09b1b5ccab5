/* tests/decoder_run.h — decode a whole utterance with a fresh exec + decoder (the NAR decoder tests: test_decoder.c
 * for edgegen.codec, test_voice.c for edgegen.voice). */
#ifndef EG_TEST_DECODER_RUN_H
#define EG_TEST_DECODER_RUN_H

#include <stdlib.h>
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

#endif
