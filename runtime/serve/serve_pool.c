/* runtime/serve/serve_pool.c — the pool of contexts (one per active stream, sized from the memory plan) and the
 * one synthesis path both front ends use: text → normaliser → espeak-ng, sentence by sentence → the context → s16
 * audio to the job's sink. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/serve/serve.h"
#include "runtime/text/normalize.h"
#include "runtime/text/text.h"

/* The normaliser works on pieces of at most PIECE bytes (cut after a sentence end, else a space, else a UTF-8
 * boundary): its worst-case buffer (EG_NORMALIZE_GROWTH x the piece) stays 128 KiB per slot. */
#define PIECE 8192

static enum eg_status slot_audio(void *user, const void *samples, int n) {
    struct serve_slot *sl = user;
    if ((sl->cancel && *sl->cancel) || sl->srv->abort_all) return EG_ERR_IO;
    return sl->sink(sl->sink_user, samples, n);
}

int serve_pool_init(struct serve *s) {
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    if (!(s->slots = calloc((size_t)s->n_slots, sizeof *s->slots))) { serve_log("out of memory"); return -1; }
    for (int i = 0; i < s->n_slots; i++) {
        struct serve_slot *sl = &s->slots[i];
        enum eg_status st;
        struct eg_ctx_params p = s->o.cp;
        sl->srv = s;
        sl->index = i;
        p.format = EG_SAMPLE_S16;
        p.on_audio = slot_audio;
        p.on_audio_user = sl;
        if (!(sl->ctx = eg_ctx_create(s->model, &p, &st))) {
            serve_log("stream %d of %d: context not created (%s)", i + 1, s->n_slots, eg_status_str(st));
            return -1;
        }
        if ((st = eg_phonemizer_create(s->o.espeak_voice, NULL, &sl->ph)) != EG_OK) return -1;
        sl->piece = malloc(PIECE + 1);
        sl->norm = malloc(EG_NORMALIZE_GROWTH * PIECE + 64);
        if (!sl->piece || !sl->norm) { serve_log("out of memory"); return -1; }
        sl->next_free = s->free_list;
        s->free_list = sl;
    }
    return 0;
}

void serve_pool_free(struct serve *s) {
    for (int i = 0; s->slots && i < s->n_slots; i++) {
        eg_ctx_destroy(s->slots[i].ctx);
        eg_phonemizer_destroy(s->slots[i].ph);
        free(s->slots[i].piece);
        free(s->slots[i].norm);
    }
    free(s->slots);
    s->slots = NULL;
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
}

struct serve_slot *serve_acquire(struct serve *s, int timeout_ms, const char **why) {
    if (timeout_ms < 0) timeout_ms = s->o.queue_timeout_ms;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    struct serve_slot *sl = NULL;
    pthread_mutex_lock(&s->lock);
    s->n_waiting++;
    int rc = 0;
    while (!s->free_list && !s->draining && rc != ETIMEDOUT && timeout_ms > 0)
        rc = pthread_cond_timedwait(&s->freed, &s->lock, &dl);
    s->n_waiting--;
    if (s->draining) *why = "server is shutting down";
    else if (!s->free_list) { *why = "server busy: every stream is in use"; s->n_refused_busy++; }
    else {
        sl = s->free_list;
        s->free_list = sl->next_free;
        sl->busy = 1;
        s->n_busy++;
        s->n_requests++;
    }
    pthread_mutex_unlock(&s->lock);
    return sl;
}

void serve_release(struct serve *s, struct serve_slot *sl) {
    if (!sl) return;
    pthread_mutex_lock(&s->lock);
    sl->busy = 0;
    sl->sink = NULL;
    sl->cancel = NULL;
    sl->next_free = s->free_list;
    s->free_list = sl;
    s->n_busy--;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

int serve_busy(struct serve *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->n_busy;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- text ------------------------------------------------------------------------------------------------------ */

/* 1 when the (valid UTF-8) text has a letter or digit (as `edgegen tts` decides it): espeak-ng would otherwise read
 * punctuation aloud as words. */
static int has_word(const char *t, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)eg_utf8_decode(t + i, &cp);
        if ((cp < 0x80 && ((cp | 0x20) - 'a' < 26 || cp - '0' < 10)) ||
            (cp >= 0xC0 && !(cp >= 0x2000 && cp <= 0x206F) && !(cp >= 0x3000 && cp <= 0x303F))) return 1;
    }
    return 0;
}

const char *serve_check_text(const char *utf8, size_t n) {
    if (n > SERVE_MAX_INPUT) return "text is longer than 65536 bytes";
    if (memchr(utf8, 0, n)) return "text contains a NUL character";
    if (eg_utf8_invalid_at(utf8, n) >= 0) return "text is not valid UTF-8";
    if (!has_word(utf8, n)) return "no text to synthesize (no letters or digits)";
    return NULL;
}

static size_t piece_len(const char *t) {
    size_t n = strlen(t), cut = 0;
    if (n <= PIECE) return n;
    for (size_t i = PIECE / 2; i < PIECE; i++)
        if ((t[i] == ' ' || t[i] == '\n') && strchr(".?!", t[i - 1])) cut = i + 1;
    for (size_t i = PIECE; !cut && i > PIECE / 2; i--)
        if (t[i - 1] == ' ' || t[i - 1] == '\n') cut = i;
    if (!cut) for (cut = PIECE; cut > 1 && ((unsigned char)t[cut] & 0xC0) == 0x80; cut--) {}
    return cut;
}

static enum eg_status on_sentence(void *user, const uint32_t *ph, int n, const char *text, size_t len) {
    struct serve_slot *sl = user;
    (void)text; (void)len;
    if ((sl->cancel && *sl->cancel) || sl->srv->abort_all) return EG_ERR_IO;
    return eg_ctx_synthesize_phonemes(sl->ctx, ph, n);
}


enum eg_status serve_speak(struct serve *s, struct serve_slot *sl, const char *utf8, float speed,
                           int continue_stream, serve_sink_fn sink, void *user, volatile int *cancel) {
    sl->sink = sink;
    sl->sink_user = user;
    sl->cancel = cancel;
    enum eg_status st = eg_ctx_set_speed(sl->ctx, speed > 0 ? speed : s->o.cp.speed);
    if (st != EG_OK) return st;
    if (!continue_stream) eg_ctx_reset(sl->ctx);
    struct eg_ctx_stats s0, s1;
    eg_ctx_get_stats(sl->ctx, &s0);
    while (st == EG_OK && *utf8) {
        const size_t n = piece_len(utf8);
        memcpy(sl->piece, utf8, n);
        sl->piece[n] = 0;
        utf8 += n;
        st = eg_text_normalize(sl->piece, sl->norm, EG_NORMALIZE_GROWTH * PIECE + 64, NULL);
        if (st == EG_OK) st = eg_phonemize(sl->ph, sl->norm, s->o.cp.max_phonemes, on_sentence, sl);
    }
    eg_ctx_get_stats(sl->ctx, &s1);
    pthread_mutex_lock(&s->lock);
    s->n_spec_rounds += (uint64_t)(s1.n_spec_rounds - s0.n_spec_rounds);
    s->n_spec_drafted += (uint64_t)(s1.n_spec_drafted - s0.n_spec_drafted);
    s->n_spec_accepted += (uint64_t)(s1.n_spec_accepted - s0.n_spec_accepted);
    pthread_mutex_unlock(&s->lock);
    return st;
}
