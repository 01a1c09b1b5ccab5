/* runtime/serve/serve_wyoming.c — the Wyoming front end (Home Assistant's voice pipeline), one thread per TCP
 * connection. Framing: wyoming_frame.c (bounded, pure). Events handled:
 *   describe           → info (one TTS program "edgegen", one voice, supports_synthesize_streaming: true)
 *   synthesize         → audio-start, audio-chunk... (16-bit mono PCM as it is generated), audio-stop
 *   synthesize-start, synthesize-chunk..., synthesize-stop
 *                      → each sentence is spoken as soon as a chunk completes it (one audio-start before the first
 *                        audio, audio-stop after the last), then synthesize-stopped. A `synthesize` inside such a
 *                        stream is ignored (Home Assistant sends one for older servers).
 *   ping               → pong; anything else is dropped, as the protocol asks of servers.
 * A stream holds one context from synthesize-start to synthesize-stop. A protocol error (a header line that never
 * ends, a length over the limit or not an integer, data that is not JSON) gets an `error` event naming it, then
 * the connection is closed: the byte stream cannot be resynchronised. A client that stalls for --timeout in the
 * middle of a frame or of a stream, or stops reading our audio, is dropped and its context released.
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "runtime/serve/serve.h"
#include "runtime/serve/wyoming_frame.h"

#define CHUNK_SAMPLES 1024          /* per audio-chunk event (wyoming-piper's default samples_per_chunk) */
#define OUT_CAP       (CHUNK_SAMPLES * 2 + 1024)

struct serve_wyoming {
    struct serve *s;
    int fd;
    pthread_t accept_thread;
    volatile int quiesce, stop;
    pthread_mutex_t lock;
    pthread_cond_t gone;
    int n_conns, n_active;
};

struct conn {
    struct serve_wyoming *w;
    int fd;
    uint8_t *in;
    size_t n_in, cap_in;
    uint8_t out[OUT_CAP];
    int dead;                       /* a write failed or timed out: stop everything, close */
    volatile int cancel;
    /* the streaming synthesis in progress (synthesize-start .. synthesize-stop) */
    struct serve_slot *slot;
    int streaming, audio_started, n_spoken;
    char *text;                     /* text received and not yet spoken */
    size_t n_text;
};

/* ---- output --------------------------------------------------------------------------------------------------- */

/* Write all of buf, waiting for the socket at most --timeout without progress. */
static int write_all(struct conn *c, const uint8_t *buf, size_t n) {
    const int timeout_ms = c->w->s->o.timeout_ms;
    while (n && !c->dead) {
        ssize_t k = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) { buf += k; n -= (size_t)k; continue; }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = c->fd, .events = POLLOUT };
            int r = poll(&p, 1, timeout_ms);
            if (r > 0 && !(p.revents & (POLLERR | POLLHUP))) continue;
            if (r == 0) serve_log("wyoming: client stopped reading for %d ms: dropped", timeout_ms);
        }
        c->dead = 1;
    }
    return c->dead ? -1 : 0;
}

static int send_event(struct conn *c, const char *type, cJSON *data, const void *payload, size_t plen) {
    size_t n = wy_write_event(type, data, payload, plen, c->out, sizeof c->out);
    cJSON_Delete(data);
    if (!n) { c->dead = 1; return -1; }
    return write_all(c, c->out, n);
}

static int send_error(struct conn *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int send_error(struct conn *c, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->w->s->o.verbose) serve_log("wyoming: error %s: %s", code, msg);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "text", msg);
    cJSON_AddStringToObject(d, "code", code);
    return send_event(c, "error", d, NULL, 0);
}

static cJSON *audio_format(struct serve *s) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "rate", s->rate);
    cJSON_AddNumberToObject(d, "width", 2);
    cJSON_AddNumberToObject(d, "channels", 1);
    return d;
}

static enum eg_status wy_sink(void *user, const int16_t *pcm, int n) {
    struct conn *c = user;
    struct serve *s = c->w->s;
    if (!c->audio_started) {
        if (send_event(c, "audio-start", audio_format(s), NULL, 0)) return EG_ERR_IO;
        c->audio_started = 1;
    }
    for (int i = 0; i < n; i += CHUNK_SAMPLES) {
        const int k = n - i < CHUNK_SAMPLES ? n - i : CHUNK_SAMPLES;
        if (send_event(c, "audio-chunk", audio_format(s), pcm + i, (size_t)k * 2)) return EG_ERR_IO;
    }
    return EG_OK;
}

/* ---- events --------------------------------------------------------------------------------------------------- */

static void info(struct conn *c) {
    struct serve *s = c->w->s;
    cJSON *d = cJSON_CreateObject();
    cJSON *tts = cJSON_AddArrayToObject(d, "tts"), *prog = cJSON_CreateObject(), *voices, *voice, *attr;
    cJSON_AddItemToArray(tts, prog);
    cJSON_AddStringToObject(prog, "name", "edgegen");
    attr = cJSON_AddObjectToObject(prog, "attribution");
    cJSON_AddStringToObject(attr, "name", "edgegen");
    cJSON_AddStringToObject(attr, "url", "");
    cJSON_AddBoolToObject(prog, "installed", 1);
    cJSON_AddStringToObject(prog, "description", "edgegen: offline generative text-to-speech for small devices");
    cJSON_AddStringToObject(prog, "version", eg_version());
    voices = cJSON_AddArrayToObject(prog, "voices");
    voice = cJSON_CreateObject();
    cJSON_AddItemToArray(voices, voice);
    cJSON_AddStringToObject(voice, "name", SERVE_MODEL_ID);
    attr = cJSON_AddObjectToObject(voice, "attribution");
    cJSON_AddStringToObject(attr, "name", "edgegen");
    cJSON_AddStringToObject(attr, "url", "");
    cJSON_AddBoolToObject(voice, "installed", 1);
    cJSON_AddStringToObject(voice, "description", "edgegen pico (AR transformer + codec decoder)");
    cJSON_AddStringToObject(voice, "version", eg_version());
    cJSON *langs = cJSON_AddArrayToObject(voice, "languages");
    cJSON_AddItemToArray(langs, cJSON_CreateString(s->o.language));
    cJSON_AddNullToObject(voice, "speakers");
    cJSON_AddBoolToObject(prog, "supports_synthesize_streaming", 1);
    static const char *const empty[] = { "asr", "handle", "intent", "wake", "mic", "snd" };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) cJSON_AddArrayToObject(d, empty[i]);
    send_event(c, "info", d, NULL, 0);
}

/* The voice a request names, if any, must be ours. Returns 0 ok, else an error was sent. */
static int check_voice(struct conn *c, const cJSON *data) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "voice");
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsObject(v)) { send_error(c, "bad-request", "voice: expected an object"); return -1; }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
    if (name && !cJSON_IsNull(name) && !(cJSON_IsString(name) && !strcmp(name->valuestring, SERVE_MODEL_ID))) {
        send_error(c, "unknown-voice", "voice: '%.64s' not found (this server has '%s')",
                   cJSON_IsString(name) ? name->valuestring : "?", SERVE_MODEL_ID);
        return -1;
    }
    return 0;
}

static struct serve_slot *take_slot(struct conn *c) {
    const char *why = NULL;
    struct serve_slot *sl = serve_acquire(c->w->s, -1, &why);
    if (!sl) send_error(c, c->w->s->draining ? "shutting-down" : "busy", "%s (%d streams)", why, c->w->s->n_slots);
    return sl;
}

/* Speak text (NUL-terminated) on the connection's slot; a sentence with nothing to say is skipped. */
static void speak(struct conn *c, const char *text) {
    struct serve *s = c->w->s;
    if (serve_check_text(text, strlen(text))) return;
    enum eg_status st = serve_speak(s, c->slot, text, 0, c->n_spoken > 0, wy_sink, c, &c->cancel);
    c->n_spoken++;
    if (st != EG_OK && !c->dead && !s->abort_all) send_error(c, "synthesis-failed", "synthesis failed: %s", eg_status_str(st));
}

static void stream_end(struct conn *c) {
    if (!c->slot) return;
    serve_release(c->w->s, c->slot);
    c->slot = NULL;
    pthread_mutex_lock(&c->w->lock); c->w->n_active--; pthread_cond_broadcast(&c->w->gone); pthread_mutex_unlock(&c->w->lock);
}

static void synthesize(struct conn *c, const cJSON *data) {
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(data, "text");
    if (!cJSON_IsString(text)) { send_error(c, "bad-request", "synthesize: \"text\" missing or not a string"); return; }
    const char *bad = serve_check_text(text->valuestring, strlen(text->valuestring));
    if (bad) { send_error(c, "bad-request", "synthesize: %s", bad); return; }
    if (check_voice(c, data)) return;
    if (!(c->slot = take_slot(c))) return;
    c->audio_started = 0;
    c->n_spoken = 0;
    pthread_mutex_lock(&c->w->lock); c->w->n_active++; pthread_mutex_unlock(&c->w->lock);
    wy_sink(c, NULL, 0);   /* audio-start now: the client knows the format before the first audio */
    speak(c, text->valuestring);
    stream_end(c);   /* the context goes back before audio-stop: the client's next request finds it free */
    if (!c->dead) send_event(c, "audio-stop", cJSON_CreateObject(), NULL, 0);
}

/* End of the text so far that closes a sentence: after [.!?] (and closing quotes/brackets) followed by white
 * space, or after a newline. 0 when there is none. */
static size_t sentence_end(const char *t, size_t n) {
    size_t cut = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (t[i] == '\n') { cut = i + 1; continue; }
        if (!strchr(".!?", t[i])) continue;
        size_t j = i + 1;
        while (j < n && strchr("\"')]", t[j])) j++;
        if (j < n && (t[j] == ' ' || t[j] == '\n' || t[j] == '\t' || t[j] == '\r')) cut = j + 1;
    }
    return cut;
}

static void handle(struct conn *c, const cJSON *ev) {
    const char *type = cJSON_GetObjectItemCaseSensitive(ev, "type")->valuestring;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    if (!strcmp(type, "describe")) { info(c); return; }
    if (!strcmp(type, "ping")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(data, "text");
        cJSON *d = cJSON_CreateObject();
        if (cJSON_IsString(t)) cJSON_AddStringToObject(d, "text", t->valuestring);
        send_event(c, "pong", d, NULL, 0);
        return;
    }
    if (!strcmp(type, "synthesize")) { if (!c->streaming) synthesize(c, data); return; }
    if (!strcmp(type, "synthesize-start")) {
        if (c->streaming) { send_error(c, "bad-request", "synthesize-start inside a stream (no synthesize-stop yet)"); return; }
        if (check_voice(c, data)) return;
        if (c->w->s->draining) { send_error(c, "shutting-down", "server is shutting down"); return; }
        c->streaming = 1;   /* even when refused below: its chunks and stop are then answered, not misread */
        c->n_text = 0;
        c->audio_started = 0;
        c->n_spoken = 0;
        if ((c->slot = take_slot(c))) { pthread_mutex_lock(&c->w->lock); c->w->n_active++; pthread_mutex_unlock(&c->w->lock); }
        return;
    }
    if (!strcmp(type, "synthesize-chunk")) {
        if (!c->streaming) { send_error(c, "bad-request", "synthesize-chunk outside a stream (no synthesize-start)"); return; }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(data, "text");
        if (!cJSON_IsString(t)) { send_error(c, "bad-request", "synthesize-chunk: \"text\" missing or not a string"); return; }
        if (!c->slot) return;   /* refused at synthesize-start (the error was sent) */
        const size_t k = strlen(t->valuestring);
        if (c->n_text + k > SERVE_MAX_INPUT) {
            send_error(c, "too-long", "streamed text without a sentence end is longer than %d bytes", SERVE_MAX_INPUT);
            c->dead = 1;
            return;
        }
        memcpy(c->text + c->n_text, t->valuestring, k);
        c->n_text += k;
        size_t cut = sentence_end(c->text, c->n_text);
        if (cut) {
            char keep = c->text[cut];
            c->text[cut] = 0;
            speak(c, c->text);
            c->text[cut] = keep;
            memmove(c->text, c->text + cut, c->n_text - cut);
            c->n_text -= cut;
        }
        return;
    }
    if (!strcmp(type, "synthesize-stop")) {
        if (!c->streaming) { send_error(c, "bad-request", "synthesize-stop outside a stream (no synthesize-start)"); return; }
        const int had_slot = c->slot != NULL;
        if (had_slot) {
            c->text[c->n_text] = 0;
            speak(c, c->text);
            c->n_text = 0;
        }
        stream_end(c);
        if (had_slot && c->audio_started && !c->dead) send_event(c, "audio-stop", cJSON_CreateObject(), NULL, 0);
        c->streaming = 0;
        if (!c->dead) send_event(c, "synthesize-stopped", cJSON_CreateObject(), NULL, 0);
        return;
    }
    /* other events: dropped (the protocol asks servers to ignore what they do not know) */
}

/* ---- the connection loop -------------------------------------------------------------------------------------- */

static void *conn_main(void *arg) {
    struct conn *c = arg;
    struct serve_wyoming *w = c->w;
    struct serve *s = w->s;
    const struct wy_limits lim = WY_DEFAULT_LIMITS;
    uint64_t t_last = serve_now_ms();
    while (!c->dead && !w->stop) {
        /* every whole event in the buffer */
        for (;;) {
            cJSON *ev = NULL;
            const uint8_t *payload;
            size_t plen, used;
            char why[256];
            enum wy_parse r = wy_parse_event(c->in, c->n_in, &lim, &ev, &payload, &plen, &used, why, sizeof why);
            if (r == WY_PARSE_MORE) break;
            if (r == WY_PARSE_ERROR) { send_error(c, "protocol", "%s", why); c->dead = 1; break; }
            handle(c, ev);
            cJSON_Delete(ev);
            memmove(c->in, c->in + used, c->n_in - used);
            c->n_in -= used;
            t_last = serve_now_ms();
            if (c->dead) break;
        }
        if (c->dead) break;
        if (s->draining && !c->streaming && !c->n_in) break;   /* SIGTERM: idle connections close */
        /* wait for bytes: a started frame or a stream in progress must go on within --timeout; an idle connection
         * may wait --idle-timeout */
        const uint64_t now = serve_now_ms();
        const int limit = c->n_in || c->streaming ? s->o.timeout_ms : s->o.idle_timeout_ms;
        if (now - t_last >= (uint64_t)limit) {
            if (c->n_in) send_error(c, "timeout", "incomplete event: no more bytes for %d ms (%zu bytes pending)", limit, c->n_in);
            else if (c->streaming) send_error(c, "timeout", "stream stalled: no event for %d ms after synthesize-start", limit);
            break;
        }
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int r = poll(&p, 1, 200);
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) continue;
        if (c->n_in == c->cap_in) { send_error(c, "protocol", "event larger than %zu bytes", c->cap_in); break; }
        ssize_t k = recv(c->fd, c->in + c->n_in, c->cap_in - c->n_in, 0);
        if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) break;   /* closed or reset */
        if (k > 0) { c->n_in += (size_t)k; t_last = serve_now_ms(); }
    }
    stream_end(c);
    close(c->fd);
    free(c->in);
    free(c->text);
    pthread_mutex_lock(&w->lock);
    w->n_conns--;
    pthread_cond_broadcast(&w->gone);
    pthread_mutex_unlock(&w->lock);
    free(c);
    return NULL;
}

static void *accept_main(void *arg) {
    struct serve_wyoming *w = arg;
    struct serve *s = w->s;
    const struct wy_limits lim = WY_DEFAULT_LIMITS;
    while (!w->quiesce) {
        struct pollfd p = { .fd = w->fd, .events = POLLIN };
        if (poll(&p, 1, 200) <= 0) continue;
        int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        pthread_mutex_lock(&w->lock);
        const int full = w->n_conns >= s->o.max_connections;
        if (!full) w->n_conns++;
        pthread_mutex_unlock(&w->lock);
        if (full) {   /* one error event, then close: never a thread beyond the limit */
            struct conn tmp = { .w = w, .fd = fd };
            send_error(&tmp, "busy", "too many connections (%d)", s->o.max_connections);
            close(fd);
            continue;
        }
        int one = 1, sz = 64 << 10;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        struct conn *c = calloc(1, sizeof *c);
        if (c) {
            c->w = w;
            c->fd = fd;
            c->cap_in = lim.max_line + lim.max_data + lim.max_payload;
            c->in = malloc(c->cap_in);
            c->text = malloc(SERVE_MAX_INPUT + 1);
        }
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (!c || !c->in || !c->text || pthread_create(&t, &a, conn_main, c) != 0) {
            if (c) { free(c->in); free(c->text); free(c); }
            close(fd);
            pthread_mutex_lock(&w->lock); w->n_conns--; pthread_mutex_unlock(&w->lock);
        }
        pthread_attr_destroy(&a);
    }
    return NULL;
}

struct serve_wyoming *serve_wyoming_start(struct serve *s, const char *uri) {
    if (strncmp(uri, "tcp://", 6)) { serve_log("--wyoming %s: expected tcp://HOST:PORT", uri); return NULL; }
    struct sockaddr_storage ss;
    unsigned len;
    const char *why;
    if (serve_parse_hostport(uri + 6, &ss, &len, &why)) { serve_log("--wyoming %s: %s", uri, why); return NULL; }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) { serve_log("--wyoming %s: socket: %s", uri, strerror(errno)); return NULL; }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
        serve_log("--wyoming %s: cannot listen there: %s", uri, strerror(errno));
        close(fd);
        return NULL;
    }
    struct serve_wyoming *w = calloc(1, sizeof *w);
    if (!w) { close(fd); return NULL; }
    w->s = s;
    w->fd = fd;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->gone, NULL);
    if (pthread_create(&w->accept_thread, NULL, accept_main, w) != 0) {
        serve_log("--wyoming: cannot start a thread");
        close(fd);
        free(w);
        return NULL;
    }
    return w;
}

void serve_wyoming_quiesce(struct serve_wyoming *w) {
    if (!w || w->quiesce) return;
    w->quiesce = 1;
    pthread_join(w->accept_thread, NULL);
    close(w->fd);
}

int serve_wyoming_active(struct serve_wyoming *w) {
    if (!w) return 0;
    pthread_mutex_lock(&w->lock);
    int n = w->n_active;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void serve_wyoming_stop(struct serve_wyoming *w) {
    if (!w) return;
    serve_wyoming_quiesce(w);
    w->stop = 1;   /* connection threads leave at their next poll tick (at most 200 ms), or their synthesis is
                      cancelled by abort_all */
    pthread_mutex_lock(&w->lock);
    while (w->n_conns) pthread_cond_wait(&w->gone, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->gone);
    free(w);
}
