/* runtime/serve/serve.h — `edgegen serve`: shared state of the HTTP (serve_http.c) and Wyoming (serve_wyoming.c)
 * front ends, the pool of contexts (serve_pool.c) and the command (serve_main.c).
 *
 * One process, one model (loaded once, shared read-only), a fixed pool of slots sized from the memory plan
 * (eg_ctx_fit_count): each slot is one eg_ctx plus its own espeak-ng phonemiser state and text buffers, and serves
 * one stream at a time. A request takes a slot (waiting at most queue_timeout_ms), synthesises on it and gives it
 * back; the audio callback is where a disconnected client, a stalled reader or a forced shutdown stops synthesis.
 * Layer 5: the public API (runtime/edgegen.h) and the text front end only.
 */
#ifndef EG_SERVE_H
#define EG_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/edgegen.h"

#define SERVE_MODEL_ID   "edgegen-pico"
#define SERVE_MAX_INPUT  65536          /* bytes of text in one request (HTTP input, Wyoming text/chunks) */

struct serve_opts {
    const char *http;            /* "HOST:PORT" or NULL */
    const char *wyoming;         /* "tcp://HOST:PORT" or NULL */
    const char *model_path, *codec_path, *espeak_voice, *language;
    const char *draft_path;      /* speculative decoding's draft AR model, or NULL (cp.spec_k > 0 then) */
    int streams;                 /* 0 = min(online cores, what fits) */
    int threads;                 /* per context */
    int queue_timeout_ms;        /* wait for a free slot; 0 = refuse at once */
    int timeout_ms;              /* a client that sends or reads nothing for this long is dropped */
    int idle_timeout_ms;         /* a Wyoming connection with nothing in flight */
    int drain_timeout_ms;        /* SIGTERM: streams in flight get this long to finish */
    size_t max_body;             /* HTTP request body limit (413 beyond) */
    int max_connections;         /* per front end */
    int max_chars;               /* HTTP input limit in characters (OpenAI: 4096) */
    int verbose;
    struct eg_ctx_params cp;     /* seed, temperature, ... for every context */
};

/* What a synthesis sends its audio to: s16 mono samples; return EG_OK or a status to stop. */
typedef enum eg_status (*serve_sink_fn)(void *user, const int16_t *pcm, int n);

struct serve;
struct serve_slot {
    struct serve *srv;
    int index;
    struct eg_ctx *ctx;
    struct eg_phonemizer *ph;
    char *piece, *norm;          /* normaliser buffers (serve_pool.c) */
    serve_sink_fn sink;          /* the current job's audio sink */
    void *sink_user;
    volatile int *cancel;        /* the current job's cancel flag (checked per audio chunk and sentence) */
    int busy;
    struct serve_slot *next_free;
};

struct serve {
    struct serve_opts o;
    struct eg_model *model;
    int rate;
    int n_slots;
    struct serve_slot *slots;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct serve_slot *free_list;
    int n_busy, n_waiting;
    volatile int draining;       /* SIGTERM seen: take no new work */
    volatile int abort_all;      /* drain deadline passed: cancel everything in flight */
    /* counters for /health and the log */
    uint64_t n_requests, n_refused_busy, n_errors;
    uint64_t n_spec_rounds, n_spec_drafted, n_spec_accepted;   /* speculative decoding, summed over streams */
};

/* serve_pool.c */
int  serve_pool_init(struct serve *s);            /* 0 ok; logs why not */
void serve_pool_free(struct serve *s);
/* A free slot, waiting at most timeout_ms (< 0: the configured queue timeout); NULL when none came free, or the
 * server is draining (*why set to a static one-line reason). */
struct serve_slot *serve_acquire(struct serve *s, int timeout_ms, const char **why);
void serve_release(struct serve *s, struct serve_slot *slot);
int  serve_busy(struct serve *s);
/* Check text before anything is sent: valid UTF-8, no NUL, something to say. NULL when fine, else a static reason. */
const char *serve_check_text(const char *utf8, size_t n);
/* Synthesise utf8 on the slot (normalised, phonemised with espeak-ng, sentence by sentence) into sink. speed: 0 =
 * the configured one. continue_stream: 1 = keep the slot's stream going (sentence pause, seed index), for Wyoming's
 * streamed text. Returns EG_OK, the sink's status, or the library's. */
enum eg_status serve_speak(struct serve *s, struct serve_slot *slot, const char *utf8, float speed,
                           int continue_stream, serve_sink_fn sink, void *user, volatile int *cancel);

/* serve_http.c / serve_wyoming.c */
struct serve_http;
struct serve_http *serve_http_start(struct serve *s, const char *hostport);
void serve_http_quiesce(struct serve_http *h);    /* stop accepting */
int  serve_http_active(struct serve_http *h);     /* responses still streaming */
void serve_http_stop(struct serve_http *h);
struct serve_wyoming;
struct serve_wyoming *serve_wyoming_start(struct serve *s, const char *uri);
void serve_wyoming_quiesce(struct serve_wyoming *w);
int  serve_wyoming_active(struct serve_wyoming *w);   /* connections with a synthesis in flight */
void serve_wyoming_stop(struct serve_wyoming *w);

/* serve_main.c: the `edgegen serve` command. The CLI (runtime/cli/cli.c) calls it with its default-model search
 * (eg_cli_default_model: 1 and the path in out when one of names exists, else 0), so that this folder includes
 * nothing of the CLI's. Returns the exit status: 0 after a signal, 1 failure to start, 2 usage error. */
typedef int (*eg_serve_find_model_fn)(const char *sub, const char *const *names, char *out, size_t len);
int eg_serve_main(int argc, char **argv, eg_serve_find_model_fn find_model);

/* serve_main.c: "HOST:PORT" → address (127.0.0.1 when HOST is empty); 0 ok, else a static reason in *why */
struct sockaddr_storage;
int serve_parse_hostport(const char *hp, struct sockaddr_storage *ss, unsigned *len, const char **why);
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t serve_now_ms(void);

#endif
