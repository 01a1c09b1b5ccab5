/* runtime/pipeline/codec.c — the codec decoder alone behind the public API (edgegen.h eg_codec_*): codec tokens
 * (and frame phoneme ids) → PCM, for `edgegen decode` and any program that generates tokens itself. One object
 * holds the model, the kernel table and pool, the OpenCL placement and one streaming decoder, all made and checked
 * against the memory plan at eg_codec_open (models/decoder.h, models/stage.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "models/stage.h"
#include "ports/port.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"
#include "runtime/pipeline/memplan_archs.h"
#include "runtime/edgegen.h"

struct eg_codec {
    struct eg_codec_model *model;
    struct eg_exec ex;
    struct eg_spectral *stage;   /* only while the placement chose the device */
    struct eg_decoder *dec;
    struct eg_memplan plan;
};

struct eg_codec_params eg_codec_default_params(void) {
    struct eg_codec_params p = { .n_threads = 1, .isa = EG_ISA_AUTO, .device = EG_DEVICE_AUTO, .chunk_frames = 256 };
    return p;
}

struct report { eg_text_fn fn; void *user; };

static void plan_line(const char *text, void *user) {
    const struct report *r = user;
    char line[512];
    snprintf(line, sizeof line, "  %s\n", text);
    r->fn(r->user, line);
}

struct eg_codec *eg_codec_open(const char *path, const struct eg_codec_params *pp, enum eg_status *err) {
    const struct eg_codec_params p = pp ? *pp : eg_codec_default_params();
    struct eg_codec *c = NULL;
    struct eg_memplan_params mp;
    struct eg_decoder_params dp = eg_decoder_default_params();
    enum eg_status st = EG_ERR_INVALID_ARG;
    enum eg_status dummy;
    if (!err) err = &dummy;

    if (!path || p.n_threads < 1 || p.n_threads > 256 || p.chunk_frames < 1 || p.chunk_frames > 65536 ||
        (p.device != EG_DEVICE_AUTO && p.device != EG_DEVICE_CPU && p.device != EG_DEVICE_OPENCL)) {
        EG_LOGE("codec: invalid parameters (threads %d: 1..256, chunk_frames %d: 1..65536)", p.n_threads, p.chunk_frames);
        goto fail;
    }
    if (!(c = calloc(1, sizeof *c))) { st = EG_ERR_NOMEM; goto fail; }
    eg_memplan_default_params(&mp);
    mp.process_bytes = eg_rss_bytes();   /* the process before the model: binary, libraries, stdio */
    if ((st = eg_codec_model_load(path, &c->model)) != EG_OK) goto fail;
    dp.chunk_frames = p.chunk_frames;
    {   /* memory plan (runtime/pipeline/memplan_archs.c, models/decoder.c eg_codec_memplan): the mapped weights, the process, the
         * decoder arena part by part, checked before the threads and the arena exist */
        struct eg_mem mem;
        struct report r = { p.report, p.report_user };
        mp.n_threads = p.n_threads;
        mp.chunk_frames = dp.chunk_frames;
        if ((st = eg_memplan_for_model(c->model->gguf, &mp, &c->plan, NULL)) != EG_OK) goto fail;
        eg_mem_detect(&mem);
        if (p.report) eg_memplan_render(&c->plan, &mem, plan_line, &r);
        if ((st = eg_memplan_check(&c->plan, &mem, NULL, 0)) != EG_OK) goto fail;
    }
    if ((st = eg_exec_init(&c->ex, p.isa, p.n_threads)) != EG_OK) goto fail;
    const enum eg_backend mode = p.device == EG_DEVICE_CPU ? EG_BACKEND_CPU : p.device == EG_DEVICE_OPENCL ?
                                 EG_BACKEND_OPENCL : eg_backend_from_env(EG_BACKEND_AUTO);
    if (mode != EG_BACKEND_CPU) {   /* OpenCL placement: probe, decide, say why (models/stage.h) */
        if (!(c->stage = eg_spectral_create(c->model, &c->ex, dp.chunk_frames, mode, &st))) goto fail;
        if (p.report) {
            char line[512];
            snprintf(line, sizeof line, "decoder stage: %s: %s\n", eg_spectral_on_device(c->stage) ? "opencl" : "cpu",
                     eg_spectral_reason(c->stage));
            p.report(p.report_user, line);
        }
        if (!eg_spectral_on_device(c->stage)) { eg_spectral_destroy(c->stage); c->stage = NULL; }
    }
    dp.stage = c->stage;
    if ((st = eg_decoder_create(c->model, &c->ex, &dp, &c->dec)) != EG_OK) goto fail;
    *err = EG_OK;
    return c;
fail:
    eg_codec_close(c);
    *err = st;
    return NULL;
}

void eg_codec_close(struct eg_codec *c) {
    if (!c) return;
    eg_decoder_destroy(c->dec);
    eg_spectral_destroy(c->stage);   /* after the decoder that borrows it */
    eg_exec_free(&c->ex);
    eg_codec_model_destroy(c->model);
    free(c);
}

int eg_codec_sample_rate(const struct eg_codec *c) { return (int)c->model->cfg.sample_rate_hz; }
int eg_codec_frame_samples(const struct eg_codec *c) { return (int)c->model->cfg.hop; }
int eg_codec_n_phonemes(const struct eg_codec *c) { return (int)c->model->cfg.n_phonemes; }
uint64_t eg_codec_memory_estimate(const struct eg_codec *c) { return eg_memplan_total(&c->plan, 0); }

void eg_codec_describe(const struct eg_codec *c, char *buf, size_t len) {
    const struct eg_codec_config *cfg = &c->model->cfg;
    if (!len) return;
    snprintf(buf, len, "(dim %u, ffn %u, %u layers, n_fft %u, hop %u), kernels %s, %d thread(s), network on %s",
             cfg->dim, cfg->ffn_dim, cfg->n_layers, cfg->n_fft, cfg->hop, c->ex.k.name, c->ex.n_threads,
             c->stage ? "OpenCL" : "the CPU");
}

enum eg_status eg_codec_check(const struct eg_codec *c, const int32_t *tokens, const int32_t *phones, int n,
                              int64_t first_pos) {
    enum eg_status st;
    if (!c || n < 0 || (n > 0 && !tokens)) return EG_ERR_INVALID_ARG;
    if ((st = eg_decoder_check_tokens(&c->model->cfg, tokens, n, first_pos)) != EG_OK) return st;
    return eg_decoder_check_phonemes(&c->model->cfg, phones, n, first_pos);
}

struct sink { eg_audio_fn fn; void *user; };

static enum eg_status to_audio(void *user, const float *pcm, int n) {
    const struct sink *s = user;
    return s->fn ? s->fn(s->user, pcm, n) : EG_OK;
}

enum eg_status eg_codec_push(struct eg_codec *c, const int32_t *tokens, const int32_t *phones, int n,
                             eg_audio_fn on_audio, void *user) {
    struct sink s = { on_audio, user };
    if (!c) return EG_ERR_INVALID_ARG;
    return eg_decoder_push(c->dec, tokens, phones, n, to_audio, &s);
}

enum eg_status eg_codec_flush(struct eg_codec *c, eg_audio_fn on_audio, void *user) {
    struct sink s = { on_audio, user };
    if (!c) return EG_ERR_INVALID_ARG;
    return eg_decoder_flush(c->dec, to_audio, &s);
}
