/* runtime/serve/serve_http.c — the OpenAI-compatible HTTP front end on libmicrohttpd (one thread per connection).
 *
 *   POST /v1/audio/speech  {"model", "input", "voice", "response_format": "wav"|"pcm", "speed"} → chunked audio
 *   GET  /v1/models        the model list (one model; OpenAI's TTS model names are accepted as aliases)
 *   GET  /health           {"status": "ok"|"draining", "streams_busy", "streams", ..., "speculative" with --draft}
 *
 * A speech request is checked whole (JSON, types, ranges, text) before a stream is taken from the pool; errors are
 * OpenAI-shaped JSON with a one-line message. The audio is produced by a worker thread into a small ring buffer that
 * libmicrohttpd's content reader drains, so the first chunk leaves as soon as the decoder's first window is ready.
 * WAV is streamed with the header's RIFF and data sizes set to 0xFFFFFFFF ("unknown length", as ffmpeg and most
 * players read it: play to the end of the stream). When the client goes away or stops reading for --timeout, the
 * connection is closed, the response's free callback cancels the synthesis at its next audio chunk and the context
 * goes back to the pool.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "runtime/serve/serve.h"

#define RING_BYTES  (64u << 10)     /* audio buffered between the synthesis and the socket, per stream */
#define SNDBUF      (64 << 10)      /* socket send buffer: a stalled reader backs up into the ring quickly */

struct serve_http {
    struct serve *s;
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    int n_streams;                  /* responses whose producer has not been joined yet */
};

/* ---- per connection: the request body ----------------------------------------------------------------------- */
struct req {
    char *body;
    size_t n, cap;
    int too_big, answered;
    uint64_t t0;
};

/* ---- per speech response: producer thread → ring → content reader ----------------------------------------- */
struct stream {
    struct serve_http *h;
    struct serve_slot *slot;
    char *text;
    float speed;
    int wav;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t ring[RING_BYTES];
    size_t head, len;               /* bytes [head, head+len) mod RING_BYTES are unsent */
    int done;                       /* the producer finished */
    enum eg_status status;
    volatile int cancel;            /* the client is gone (free callback) or stalled */
};

static void ring_put(struct stream *st, const void *p, size_t n) {   /* caller holds mu and made room */
    const uint8_t *b = p;
    size_t tail = (st->head + st->len) % RING_BYTES;
    size_t first = n < RING_BYTES - tail ? n : RING_BYTES - tail;
    memcpy(st->ring + tail, b, first);
    memcpy(st->ring, b + first, n - first);
    st->len += n;
}

static enum eg_status http_sink(void *user, const int16_t *pcm, int n) {
    struct stream *st = user;
    const uint8_t *b = (const uint8_t *)pcm;
    size_t left = (size_t)n * 2;
    const int timeout_ms = st->h->s->o.timeout_ms;
    pthread_mutex_lock(&st->mu);
    while (left && !st->cancel) {
        size_t room = RING_BYTES - st->len;
        if (!room) {   /* wait for the reader; a reader that takes nothing for --timeout is a stalled client */
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += timeout_ms / 1000 + 1;
            if (pthread_cond_timedwait(&st->cv, &st->mu, &dl) && st->len == RING_BYTES) st->cancel = 1;
            continue;
        }
        size_t k = left < room ? left : room;
        ring_put(st, b, k);
        b += k;
        left -= k;
        pthread_cond_broadcast(&st->cv);
    }
    const int cancelled = st->cancel;
    pthread_mutex_unlock(&st->mu);
    return cancelled ? EG_ERR_IO : EG_OK;
}

static void *producer(void *arg) {
    struct stream *st = arg;
    struct serve *s = st->h->s;
    enum eg_status rc = serve_speak(s, st->slot, st->text, st->speed, 0, http_sink, st, &st->cancel);
    /* the context goes back before the reader can end the response: a client that sends its next request as soon
     * as this one is complete finds it free */
    serve_release(s, st->slot);
    st->slot = NULL;
    pthread_mutex_lock(&st->mu);
    st->done = 1;
    st->status = rc;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (rc != EG_OK && !st->cancel) serve_log("http: synthesis failed: %s", eg_status_str(rc));
    return NULL;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    struct stream *st = cls;
    (void)pos;
    pthread_mutex_lock(&st->mu);
    while (!st->len && !st->done && !st->cancel) pthread_cond_wait(&st->cv, &st->mu);
    ssize_t r;
    if (st->len) {
        size_t k = st->len < max ? st->len : max;
        size_t first = k < RING_BYTES - st->head ? k : RING_BYTES - st->head;
        memcpy(buf, st->ring + st->head, first);
        memcpy(buf + first, st->ring, k - first);
        st->head = (st->head + k) % RING_BYTES;
        st->len -= k;
        pthread_cond_broadcast(&st->cv);
        r = (ssize_t)k;
    } else {
        /* a failed synthesis ends the chunked body without its last chunk: the client sees a truncated response */
        r = st->status == EG_OK && !st->cancel ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

static void stream_free(void *cls) {
    struct stream *st = cls;
    pthread_mutex_lock(&st->mu);
    st->cancel = 1;                /* no-op when the producer is done; else it stops at its next audio chunk */
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->thread, NULL);   /* the producer has released the context */
    pthread_mutex_lock(&st->h->lock);
    st->h->n_streams--;
    pthread_mutex_unlock(&st->h->lock);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->text);
    free(st);
}

/* ---- responses ---------------------------------------------------------------------------------------------- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, cJSON *j) {
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!txt) return MHD_NO;
    size_t n = strlen(txt);
    char *body = malloc(n + 2);
    if (!body) { cJSON_free(txt); return MHD_NO; }
    memcpy(body, txt, n);
    body[n] = '\n';
    cJSON_free(txt);
    struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (code == MHD_HTTP_TOO_MANY_REQUESTS || code == MHD_HTTP_SERVICE_UNAVAILABLE) MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* OpenAI's error shape: {"error": {"message", "type", "param", "code"}}; message is one line. */
static enum MHD_Result send_error(struct serve *s, struct MHD_Connection *c, unsigned code, const char *param,
                                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(struct serve *s, struct MHD_Connection *c, unsigned code, const char *param,
                                  const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", code == 429 ? "rate_limit_error" : code >= 500 ? "server_error" : "invalid_request_error");
    if (param) cJSON_AddStringToObject(e, "param", param); else cJSON_AddNullToObject(e, "param");
    cJSON_AddNullToObject(e, "code");
    pthread_mutex_lock(&s->lock);
    s->n_errors++;
    pthread_mutex_unlock(&s->lock);
    if (s->o.verbose) serve_log("http: %u %s", code, msg);
    return send_json(c, code, j);
}

static const char *const model_aliases[] = { SERVE_MODEL_ID, "tts-1", "tts-1-hd", "gpt-4o-mini-tts", NULL };

static enum MHD_Result models(struct serve *s, struct MHD_Connection *c) {
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "data");
    cJSON_AddStringToObject(j, "object", "list");
    for (int i = 0; model_aliases[i]; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "id", model_aliases[i]);
        cJSON_AddStringToObject(m, "object", "model");
        cJSON_AddNumberToObject(m, "created", 0);
        cJSON_AddStringToObject(m, "owned_by", "edgegen");
        cJSON_AddItemToArray(arr, m);
    }
    return send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result health(struct serve *s, struct MHD_Connection *c) {
    cJSON *j = cJSON_CreateObject();
    pthread_mutex_lock(&s->lock);
    cJSON_AddStringToObject(j, "status", s->draining ? "draining" : "ok");
    cJSON_AddNumberToObject(j, "streams", s->n_slots);
    cJSON_AddNumberToObject(j, "streams_busy", s->n_busy);
    cJSON_AddNumberToObject(j, "waiting", s->n_waiting);
    cJSON_AddNumberToObject(j, "requests", (double)s->n_requests);
    cJSON_AddNumberToObject(j, "refused_busy", (double)s->n_refused_busy);
    cJSON_AddNumberToObject(j, "errors", (double)s->n_errors);
    if (s->o.draft_path) {   /* speculative decoding (--draft): main-model passes, draft tokens proposed, accepted */
        cJSON *sp = cJSON_AddObjectToObject(j, "speculative");
        cJSON_AddNumberToObject(sp, "k", s->o.cp.spec_k);
        cJSON_AddNumberToObject(sp, "rounds", (double)s->n_spec_rounds);
        cJSON_AddNumberToObject(sp, "drafted", (double)s->n_spec_drafted);
        cJSON_AddNumberToObject(sp, "accepted", (double)s->n_spec_accepted);
    }
    pthread_mutex_unlock(&s->lock);
    cJSON_AddStringToObject(j, "model", SERVE_MODEL_ID);
    cJSON_AddNumberToObject(j, "sample_rate", s->rate);
    cJSON_AddStringToObject(j, "version", eg_version());
    return send_json(c, s->draining ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, j);
}

/* ---- POST /v1/audio/speech ----------------------------------------------------------------------------------- */

static enum MHD_Result speech(struct serve_http *h, struct MHD_Connection *c, const char *body, size_t n) {
    struct serve *s = h->s;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, n, &end, 0);
    if (!j) return send_error(s, c, 400, NULL, "request body is not valid JSON (error at byte %ld)",
                              end ? (long)(end - body) : 0L);
    for (const char *p = end; p && p < body + n; p++)
        if (!(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            cJSON_Delete(j);
            return send_error(s, c, 400, NULL, "request body has bytes after its JSON value (at byte %ld)", (long)(p - body));
        }
    enum MHD_Result ret;
#define FAIL(param, ...) do { ret = send_error(s, c, 400, param, __VA_ARGS__); goto out; } while (0)
    if (!cJSON_IsObject(j)) FAIL(NULL, "request body must be a JSON object");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model"), *input = cJSON_GetObjectItemCaseSensitive(j, "input"),
                *voice = cJSON_GetObjectItemCaseSensitive(j, "voice"), *fmt = cJSON_GetObjectItemCaseSensitive(j, "response_format"),
                *speed = cJSON_GetObjectItemCaseSensitive(j, "speed"), *sfmt = cJSON_GetObjectItemCaseSensitive(j, "stream_format");
    if (!model) FAIL("model", "model: required (\"%s\")", SERVE_MODEL_ID);
    if (!cJSON_IsString(model)) FAIL("model", "model: expected a string");
    int known = 0;
    for (int i = 0; model_aliases[i]; i++) known |= !strcmp(model->valuestring, model_aliases[i]);
    if (!known) FAIL("model", "model: '%.64s' not found (this server has '%s'; tts-1, tts-1-hd, gpt-4o-mini-tts are aliases)",
                     model->valuestring, SERVE_MODEL_ID);
    if (!input) FAIL("input", "input: required");
    if (!cJSON_IsString(input)) FAIL("input", "input: expected a string");
    if (voice && !cJSON_IsString(voice) && !cJSON_IsNull(voice)) FAIL("voice", "voice: expected a string");
    if (cJSON_IsString(voice) && strlen(voice->valuestring) > 64) FAIL("voice", "voice: longer than 64 bytes");
    int wav = 1;
    if (fmt && !cJSON_IsNull(fmt)) {
        if (!cJSON_IsString(fmt)) FAIL("response_format", "response_format: expected a string (wav or pcm)");
        if (!strcmp(fmt->valuestring, "pcm")) wav = 0;
        else if (strcmp(fmt->valuestring, "wav")) FAIL("response_format", "response_format: '%.32s' not supported (wav or pcm)", fmt->valuestring);
    }
    if (sfmt && !cJSON_IsNull(sfmt) && !(cJSON_IsString(sfmt) && !strcmp(sfmt->valuestring, "audio")))
        FAIL("stream_format", "stream_format: only \"audio\" is supported");
    float sp = 0;
    if (speed && !cJSON_IsNull(speed)) {
        if (!cJSON_IsNumber(speed)) FAIL("speed", "speed: expected a number");
        if (!(speed->valuedouble >= 0.25 && speed->valuedouble <= 4.0)) FAIL("speed", "speed: expected 0.25 .. 4.0, found %g", speed->valuedouble);
        sp = (float)speed->valuedouble;
    }
    const char *text = input->valuestring;
    const size_t tlen = strlen(text);
    size_t chars = 0;
    for (size_t i = 0; i < tlen; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    if (chars > (size_t)s->o.max_chars) FAIL("input", "input: %zu characters, over the limit of %d", chars, s->o.max_chars);
    const char *bad = serve_check_text(text, tlen);
    if (bad) FAIL("input", "input: %s", bad);

    /* a stream from the pool (waiting up to --queue-timeout), then the response */
    const char *why = NULL;
    struct serve_slot *slot = serve_acquire(s, -1, &why);
    if (!slot) {
        ret = send_error(s, c, s->draining ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_TOO_MANY_REQUESTS, NULL,
                         "%s (%d of %d)", why, s->n_busy, s->n_slots);
        goto out;
    }
    struct stream *st = calloc(1, sizeof *st);
    if (!st || !(st->text = strdup(text))) {
        free(st);
        serve_release(s, slot);
        ret = send_error(s, c, 500, NULL, "out of memory");
        goto out;
    }
    st->h = h;
    st->slot = slot;
    st->speed = sp;
    st->wav = wav;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    if (wav) {   /* 44-byte header, sizes unknown (0xFFFFFFFF): 16-bit mono PCM at the model's rate */
        uint8_t hd[44];
        const uint32_t rate = (uint32_t)s->rate, u = 0xFFFFFFFFu;
        memcpy(hd, "RIFF", 4); memcpy(hd + 4, &u, 4); memcpy(hd + 8, "WAVEfmt ", 8);
        const uint32_t fmt_len = 16, byte_rate = rate * 2;
        const uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
        memcpy(hd + 16, &fmt_len, 4); memcpy(hd + 20, &pcm, 2); memcpy(hd + 22, &ch, 2); memcpy(hd + 24, &rate, 4);
        memcpy(hd + 28, &byte_rate, 4); memcpy(hd + 32, &align, 2); memcpy(hd + 34, &bits, 2);
        memcpy(hd + 36, "data", 4); memcpy(hd + 40, &u, 4);
        ring_put(st, hd, sizeof hd);
    }
    pthread_mutex_lock(&h->lock);
    h->n_streams++;
    pthread_mutex_unlock(&h->lock);
    if (pthread_create(&st->thread, NULL, producer, st) != 0) {
        pthread_mutex_lock(&h->lock);
        h->n_streams--;
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_destroy(&st->mu); pthread_cond_destroy(&st->cv);
        free(st->text); free(st);
        serve_release(s, slot);
        ret = send_error(s, c, 500, NULL, "cannot start a synthesis thread");
        goto out;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, st, stream_free);
    if (!r) { stream_free(st); ret = MHD_NO; goto out; }
    char rate_s[16];
    snprintf(rate_s, sizeof rate_s, "%d", s->rate);
    MHD_add_response_header(r, "Content-Type", wav ? "audio/wav" : "audio/pcm");
    MHD_add_response_header(r, "X-Sample-Rate", rate_s);
    MHD_add_response_header(r, "X-Sample-Format", "s16le; channels=1");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);   /* freed (stream_free) when the connection is done with it */
out:
    cJSON_Delete(j);
    return ret;
#undef FAIL
}

/* ---- the access handler ------------------------------------------------------------------------------------- */

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    struct serve_http *h = cls;
    struct serve *s = h->s;
    (void)version;
    const int post = !strcmp(method, "POST");
    if (!*con_cls) {   /* first call: headers only */
        struct req *r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->t0 = serve_now_ms();
        *con_cls = r;
        if (post) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
                r->too_big = r->answered = 1;
                return send_error(s, c, 413, NULL, "request body of %s bytes is over the limit of %zu",
                                  cl, s->o.max_body);
            }
        }
        return MHD_YES;
    }
    struct req *r = *con_cls;
    if (*upload_size) {   /* a body piece: keep it (bounded), however slowly it comes, until the deadline */
        /* libmicrohttpd queues a response only before or after the body, so a body that comes too slowly is cut
         * (connection closed) and one over the limit is read on (discarded, up to 4x the limit) to answer 413 */
        if (serve_now_ms() - r->t0 > (uint64_t)s->o.timeout_ms) {
            serve_log("http: request body not received within %d ms: connection closed", s->o.timeout_ms);
            return MHD_NO;
        }
        if (r->too_big || r->n + *upload_size > s->o.max_body) {
            r->too_big += 1;
            r->n += *upload_size;
            *upload_size = 0;
            if (r->n > 4 * s->o.max_body) {
                serve_log("http: request body over 4x the limit of %zu bytes: connection closed", s->o.max_body);
                return MHD_NO;
            }
            return MHD_YES;
        }
        if (r->n + *upload_size > r->cap) {
            size_t cap = (r->n + *upload_size) * 2;
            if (cap > s->o.max_body) cap = s->o.max_body;
            char *nb = realloc(r->body, cap);
            if (!nb) return MHD_NO;
            r->body = nb;
            r->cap = cap;
        }
        memcpy(r->body + r->n, upload, *upload_size);
        r->n += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big > 0 && !r->answered) {
        r->answered = 1;
        return send_error(s, c, 413, NULL, "request body is over the limit of %zu bytes", s->o.max_body);
    }
    if (r->answered) return MHD_YES;   /* the 413 is queued */
    if (!strcmp(url, "/v1/audio/speech")) {
        if (!post) return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "%s /v1/audio/speech: use POST", method);
        return speech(h, c, r->body ? r->body : "", r->n);
    }
    if (!strcmp(url, "/v1/models") || !strcmp(url, "/health")) {
        if (strcmp(method, "GET") && strcmp(method, "HEAD")) return send_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "%s %s: use GET", method, url);
        return url[1] == 'h' ? health(s, c) : models(s, c);
    }
    return send_error(s, c, MHD_HTTP_NOT_FOUND, NULL, "no such endpoint: %s %.128s (POST /v1/audio/speech, GET /v1/models, GET /health)", method, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    struct req *r = *con_cls;
    (void)cls; (void)c; (void)toe;
    if (r) { free(r->body); free(r); }
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code) {
    (void)cls; (void)socket_context;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int sz = SNDBUF;
    if (ci) setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    struct serve *s = cls;
    if (!s->o.verbose) return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    serve_log("http: %s", msg);
}

struct serve_http *serve_http_start(struct serve *s, const char *hostport) {
    struct sockaddr_storage ss;
    unsigned len;
    const char *why;
    if (serve_parse_hostport(hostport, &ss, &len, &why)) { serve_log("--http %s: %s", hostport, why); return NULL; }
    struct serve_http *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->s = s;
    pthread_mutex_init(&h->lock, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((s->o.timeout_ms + 999) / 1000),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_connections,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 << 10),
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                            MHD_OPTION_END);
    if (!h->d) {
        serve_log("--http %s: cannot listen there (address in use, or not an address of this machine)", hostport);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    return h;
}

void serve_http_quiesce(struct serve_http *h) {
    if (!h) return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

int serve_http_active(struct serve_http *h) {
    if (!h) return 0;
    pthread_mutex_lock(&h->lock);
    int n = h->n_streams;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void serve_http_stop(struct serve_http *h) {
    if (!h) return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
