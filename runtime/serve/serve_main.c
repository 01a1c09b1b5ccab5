/* runtime/serve/serve_main.c — `edgegen serve`: options, the model (loaded once), the pool of contexts sized from
 * the memory plan, the HTTP and Wyoming front ends, and SIGTERM: stop accepting, let the streams in flight finish
 * (at most --drain-timeout), exit 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/serve/serve.h"

#ifndef EG_DATADIR
#define EG_DATADIR "/usr/local/share/edgegen"
#endif

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen serve [--http HOST:PORT] [--wyoming tcp://HOST:PORT] [options]\n"
            "\n"
            "Serve speech to other programs from one process: the model is loaded once and shared, and each active\n"
            "stream gets one context from a fixed pool whose size comes from the memory plan (requests beyond it wait\n"
            "up to --queue-timeout, then are refused: HTTP 429, Wyoming error \"busy\"). Audio is sent as it is\n"
            "generated: 16-bit mono PCM at the model's rate (22050 Hz for the bundled voice v2 decoder).\n"
            "With neither --http nor --wyoming: --http 127.0.0.1:8080. HOST may be empty (\":8080\" = 127.0.0.1),\n"
            "an IPv4 or IPv6 address ([::1]:8080) or a name; 0.0.0.0 listens on every interface (no TLS, no auth:\n"
            "put it behind a firewall or a reverse proxy).\n"
            "\n"
            "HTTP, OpenAI-compatible (--http):\n"
            "  POST /v1/audio/speech  JSON {\"model\": \"" SERVE_MODEL_ID "\" (or tts-1, tts-1-hd, gpt-4o-mini-tts),\n"
            "                         \"input\": text (up to --max-chars characters), \"voice\": any string (one voice),\n"
            "                         \"response_format\": \"wav\" (default) | \"pcm\", \"speed\": 0.25 .. 4.0}\n"
            "                         → 200 with a chunked body that starts before synthesis ends. wav: a 44-byte header\n"
            "                         whose RIFF and data sizes are 0xFFFFFFFF (length unknown: read to the end); pcm:\n"
            "                         raw s16le (X-Sample-Rate says the rate). Errors are JSON {\"error\": {\"message\":\n"
            "                         one line, ...}}: 400 bad JSON/field, 404, 405, 413 body over --max-body,\n"
            "                         429 every stream busy (Retry-After: 1), 503 shutting down; a body that is not\n"
            "                         complete within --timeout has its connection closed\n"
            "  GET  /v1/models        the model (and its aliases)\n"
            "  GET  /health           {\"status\": \"ok\", \"streams\", \"streams_busy\", \"waiting\", \"requests\", ...;\n"
            "                         with --draft \"speculative\": {\"k\", \"rounds\", \"drafted\", \"accepted\"}}\n"
            "Wyoming (--wyoming, Home Assistant; port 10200 by convention):\n"
            "  describe → info; synthesize → audio-start, audio-chunk..., audio-stop; synthesize-start,\n"
            "  synthesize-chunk..., synthesize-stop → each sentence spoken as soon as it is complete, then\n"
            "  synthesize-stopped. Protocol errors get an \"error\" event naming the cause, then the connection closes.\n"
            "\n"
            "options:\n"
            "      --http HOST:PORT       OpenAI-compatible HTTP endpoint\n"
            "      --wyoming tcp://HOST:PORT   Wyoming endpoint (e.g. tcp://127.0.0.1:10200)\n"
            "  -m, --model PATH           AR model GGUF (default: as `edgegen tts`: pico-ar-{q8_0,f16,f32}.gguf in\n"
            "                             $EDGEGEN_MODEL_DIR, <binary>/../models, " EG_DATADIR "/models)\n"
            "      --codec PATH           decoder GGUF, as `edgegen tts --codec` (default: pico-voice-{q8_0,f16,f32}.gguf,\n"
            "                             22.05 kHz, else pico-codec-{q8_0,f16,f32}.gguf, 16 kHz, next to the AR model or\n"
            "                             in ../voice/ or ../codec/ relative to it; responses carry the decoder's rate)\n"
            "      --streams N            contexts in the pool, 1 .. 256 (default: online cores, at most what the\n"
            "                             memory plan allows; more than fits is cut to what fits, with a warning)\n"
            "  -t, --threads N            threads per stream, 1 .. 64 (default 1: streams run in parallel instead)\n"
            "      --queue-timeout SEC    wait this long for a free stream, 0 .. 3600 (default 5; 0 = refuse at once)\n"
            "      --timeout SEC          drop a client that sends or reads nothing for this long: a request body or\n"
            "                             Wyoming event that stops half-way, a reader that stalls, a text stream with\n"
            "                             no event (default 30; 1 .. 3600)\n"
            "      --idle-timeout SEC     close a Wyoming connection with nothing in flight (default 300)\n"
            "      --drain-timeout SEC    on SIGTERM/SIGINT, time left to streams in flight before they are cut\n"
            "                             (default 30; 0 .. 3600)\n"
            "      --max-body BYTES       HTTP request body limit, 1024 .. 16777216 (default 65536)\n"
            "      --max-chars N          HTTP input limit in characters, 1 .. 65536 (default 4096, as OpenAI)\n"
            "      --max-connections N    per endpoint, 1 .. 4096 (default 64); more are closed at once\n"
            "      --draft PATH           speculative decoding for every stream, as `edgegen tts --draft`: a small\n"
            "                             draft AR model (models/ar/pico-ar-draft-q8_0.gguf for the default one)\n"
            "                             proposes tokens the model checks in one pass; the audio does not change\n"
            "                             (identical at --temperature 0), only the speed (it pays on small boards).\n"
            "                             /health then counts drafted and accepted tokens. Off by default\n"
            "      --spec-k K             draft tokens per model pass with --draft, 1 .. 8 (default 4)\n"
            "      --seed N, --temperature T, --top-k K, --top-p P, --pause MS, --max-phonemes N, --chunk N, --speed S\n"
            "                             synthesis settings for every stream, as in `edgegen tts` (request speed\n"
            "                             overrides --speed)\n"
            "      --isa NAME, --device NAME   kernel table / decoder placement, as in `edgegen tts`\n"
            "      --voice NAME           espeak-ng voice for phonemes (default en-us)\n"
            "      --language TAG         language announced to Wyoming clients (default en_US)\n"
            "  -v, --verbose              log every refusal and protocol error on stderr\n"
            "  -h, --help                 this help\n"
            "\n"
            "environment:\n"
            "  EDGEGEN_MODEL_DIR   first directory searched for the default model\n"
            "  EDGEGEN_ISA         kernel table when --isa is not given\n"
            "  EDGEGEN_BACKEND     auto|cpu|opencl when --device is not given\n"
            "\n"
            "Logs go to stderr, one line each (\"edgegen serve: ...\"). The line \"edgegen serve: ready ...\" says the\n"
            "endpoints are listening.\n"
            "\n"
            "signals: SIGTERM / SIGINT stop accepting, let the streams in flight finish (at most --drain-timeout;\n"
            "         a second signal cuts them at once), then exit 0.\n"
            "exit status: 0 after a signal, 1 failure to start (model, memory, address in use; one line says why),\n"
            "             2 usage error\n"
            "\n"
            "examples:\n"
            "  edgegen serve --wyoming tcp://127.0.0.1:10200 --http 127.0.0.1:8080\n"
            "  curl -sN localhost:8080/v1/audio/speech -H 'Content-Type: application/json' \\\n"
            "       -d '{\"model\":\"" SERVE_MODEL_ID "\",\"input\":\"Hello there.\",\"voice\":\"default\"}' | aplay\n");
}

void serve_log(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "edgegen serve: %s\n", msg);
}

uint64_t serve_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int serve_parse_hostport(const char *hp, struct sockaddr_storage *ss, unsigned *len, const char **why) {
    char host[256];
    const char *colon = NULL, *port;
    if (hp[0] == '[') {   /* [v6]:port */
        const char *rb = strchr(hp, ']');
        if (!rb || rb[1] != ':') { *why = "expected [IPv6]:PORT"; return -1; }
        if ((size_t)(rb - hp - 1) >= sizeof host) { *why = "host name too long"; return -1; }
        memcpy(host, hp + 1, (size_t)(rb - hp - 1));
        host[rb - hp - 1] = 0;
        port = rb + 2;
    } else {
        colon = strrchr(hp, ':');
        if (!colon) { *why = "expected HOST:PORT"; return -1; }
        if ((size_t)(colon - hp) >= sizeof host) { *why = "host name too long"; return -1; }
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = 0;
        port = colon + 1;
    }
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (!*port || *end || errno || p < 1 || p > 65535) { *why = "PORT: expected 1 .. 65535"; return -1; }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
    if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &ai) || !ai) { *why = "HOST: not an address or a known name"; return -1; }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = (unsigned)ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int parse_float(const char *s, double lo, double hi, int lo_open, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v > hi || v < lo || (lo_open && v == lo)) return 0;
    *out = (float)v;
    return 1;
}

static enum eg_status no_audio(void *user, const void *samples, int n) { (void)user; (void)samples; (void)n; return EG_OK; }

int eg_serve_main(int argc, char **argv, eg_serve_find_model_fn find_model) {
    struct serve s;
    memset(&s, 0, sizeof s);
    struct serve_opts *o = &s.o;
    o->espeak_voice = "en-us";
    o->language = "en_US";
    o->threads = 1;
    o->queue_timeout_ms = 5000;
    o->timeout_ms = 30000;
    o->idle_timeout_ms = 300000;
    o->drain_timeout_ms = 30000;
    o->max_body = 65536;
    o->max_connections = 64;
    o->max_chars = 4096;
    o->cp = eg_ctx_default_params();
    char model_buf[PATH_MAX + 64];
    int iv;
    float fv;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL() do { if (!val) { fprintf(stderr, "edgegen serve: %s needs a value\n", a); return 2; } i++; } while (0)
#define BAD_VAL(range) do { fprintf(stderr, "edgegen serve: invalid value '%s' for %s (expected %s)\n", val, a, range); return 2; } while (0)
#define SECONDS(dst, lo, hi) do { NEED_VAL(); if (!parse_float(val, lo, hi, 0, &fv)) BAD_VAL(#lo " .. " #hi " seconds"); dst = (int)lrintf(fv * 1000); } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--http")) { NEED_VAL(); o->http = val; }
        else if (!strcmp(a, "--wyoming")) { NEED_VAL(); o->wyoming = val; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { NEED_VAL(); o->model_path = val; }
        else if (!strcmp(a, "--codec")) { NEED_VAL(); o->codec_path = val; }
        else if (!strcmp(a, "--draft")) { NEED_VAL(); o->draft_path = val; }
        else if (!strcmp(a, "--spec-k")) { NEED_VAL(); if (!parse_int(val, 1, 8, &o->cp.spec_k)) BAD_VAL("1 .. 8"); }
        else if (!strcmp(a, "--streams")) { NEED_VAL(); if (!parse_int(val, 1, 256, &o->streams)) BAD_VAL("1 .. 256"); }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { NEED_VAL(); if (!parse_int(val, 1, 64, &o->threads)) BAD_VAL("1 .. 64"); }
        else if (!strcmp(a, "--queue-timeout")) SECONDS(o->queue_timeout_ms, 0, 3600);
        else if (!strcmp(a, "--timeout")) SECONDS(o->timeout_ms, 1, 3600);
        else if (!strcmp(a, "--idle-timeout")) SECONDS(o->idle_timeout_ms, 1, 86400);
        else if (!strcmp(a, "--drain-timeout")) SECONDS(o->drain_timeout_ms, 0, 3600);
        else if (!strcmp(a, "--max-body")) { NEED_VAL(); if (!parse_int(val, 1024, 16777216, &iv)) BAD_VAL("1024 .. 16777216"); o->max_body = (size_t)iv; }
        else if (!strcmp(a, "--max-chars")) { NEED_VAL(); if (!parse_int(val, 1, SERVE_MAX_INPUT, &o->max_chars)) BAD_VAL("1 .. 65536"); }
        else if (!strcmp(a, "--max-connections")) { NEED_VAL(); if (!parse_int(val, 1, 4096, &o->max_connections)) BAD_VAL("1 .. 4096"); }
        else if (!strcmp(a, "--seed")) {
            NEED_VAL();
            char *end;
            errno = 0;
            unsigned long long v = strtoull(val, &end, 10);
            if (!*val || *val == '-' || *end || errno) BAD_VAL("0 .. 18446744073709551615");
            o->cp.seed = v;
        }
        else if (!strcmp(a, "--temperature")) { NEED_VAL(); if (!parse_float(val, 0, 100, 0, &o->cp.temperature)) BAD_VAL("0 .. 100"); }
        else if (!strcmp(a, "--top-k")) { NEED_VAL(); if (!parse_int(val, 0, 65536, &o->cp.top_k)) BAD_VAL("0 .. 65536"); }
        else if (!strcmp(a, "--top-p")) { NEED_VAL(); if (!parse_float(val, 0, 1, 1, &o->cp.top_p)) BAD_VAL("a number in (0, 1]"); }
        else if (!strcmp(a, "--speed")) { NEED_VAL(); if (!parse_float(val, 0.1, 10, 0, &o->cp.speed)) BAD_VAL("0.1 .. 10"); }
        else if (!strcmp(a, "--pause")) { NEED_VAL(); if (!parse_int(val, 0, 10000, &o->cp.sentence_pause_ms)) BAD_VAL("0 .. 10000 ms"); }
        else if (!strcmp(a, "--max-phonemes")) { NEED_VAL(); if (!parse_int(val, 1, 2000, &o->cp.max_phonemes)) BAD_VAL("1 .. 2000"); }
        else if (!strcmp(a, "--chunk")) { NEED_VAL(); if (!parse_int(val, 1, 1024, &o->cp.chunk_frames)) BAD_VAL("1 .. 1024 frames"); }
        else if (!strcmp(a, "--isa")) { NEED_VAL(); if ((iv = eg_isa_from_name(val)) < 0) BAD_VAL("auto, ref, avx2, avx512, neon or neon-dotprod"); o->cp.isa = (enum eg_isa)iv; }
        else if (!strcmp(a, "--device")) {
            NEED_VAL();
            if (!strcmp(val, "auto")) o->cp.device = EG_DEVICE_AUTO;
            else if (!strcmp(val, "cpu")) o->cp.device = EG_DEVICE_CPU;
            else if (!strcmp(val, "opencl")) o->cp.device = EG_DEVICE_OPENCL;
            else BAD_VAL("auto, cpu or opencl");
        }
        else if (!strcmp(a, "--voice")) { NEED_VAL(); if (!*val || strlen(val) >= 64) BAD_VAL("an espeak-ng voice name"); o->espeak_voice = val; }
        else if (!strcmp(a, "--language")) { NEED_VAL(); if (!*val || strlen(val) >= 32) BAD_VAL("a language tag such as en_US"); o->language = val; }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) o->verbose = 1;
        else { fprintf(stderr, "edgegen serve: unknown option '%s' (edgegen serve --help lists them)\n", a); return 2; }
#undef NEED_VAL
#undef BAD_VAL
#undef SECONDS
    }
    if (!o->http && !o->wyoming) o->http = "127.0.0.1:8080";
    if (o->cp.spec_k > 0 && !o->draft_path) { fprintf(stderr, "edgegen serve: --spec-k needs --draft FILE.gguf\n"); return 2; }
    if (o->draft_path && o->cp.spec_k <= 0) o->cp.spec_k = 4;
    o->cp.n_threads = o->threads;

    /* signals: blocked in every thread; the main thread waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!o->model_path) {
        static const char *const names[] = { "pico-ar-q8_0.gguf", "pico-ar-f16.gguf", "pico-ar-f32.gguf", NULL };
        if (!find_model || !find_model("ar", names, model_buf, sizeof model_buf)) {
            serve_log("no TTS model found (pico-ar-{q8_0,f16,f32}.gguf in $EDGEGEN_MODEL_DIR, <binary>/../models or "
                      "%s/models, each also under ar/); use --model PATH", EG_DATADIR);
            return 1;
        }
        o->model_path = model_buf;
    }
    enum eg_status st;
    int rc = 1;
    struct serve_http *http = NULL;
    struct serve_wyoming *wy = NULL;
    if (!(s.model = eg_model_load(o->model_path, o->codec_path, &st))) return 1;
    if (o->draft_path && (st = eg_model_set_draft(s.model, o->draft_path)) != EG_OK) goto out;
    s.rate = eg_model_sample_rate(s.model);

    /* the pool: as many contexts as asked (default: online cores), never more than the memory plan allows */
    struct eg_ctx_params p = o->cp;
    p.format = EG_SAMPLE_S16;
    p.on_audio = no_audio;   /* only the sizes matter here */
    {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int want = o->streams ? o->streams : (int)(cores < 1 ? 1 : cores > 256 ? 256 : cores);
        int fit = eg_ctx_fit_count(s.model, &p, want);
        if (fit < 1) { serve_log("not enough memory for even one stream (memory plan; see `edgegen info`)"); goto out; }
        if (fit < want && o->streams) serve_log("--streams %d: only %d fit in memory (memory plan): using %d", want, fit, fit);
        s.n_slots = fit;
    }
    if (serve_pool_init(&s)) goto out;
    if (o->http && !(http = serve_http_start(&s, o->http))) goto out;
    if (o->wyoming && !(wy = serve_wyoming_start(&s, o->wyoming))) goto out;
    serve_log("ready: %s%s%s%s%s; %d stream(s) x %d thread(s), %.1f MiB each; model %s (%d Hz)%s%s",
              o->http ? "http://" : "", o->http ? o->http : "", o->http && o->wyoming ? ", " : "",
              o->wyoming ? "wyoming " : "", o->wyoming ? o->wyoming : "", s.n_slots, o->threads,
              (double)eg_ctx_memory_bytes(s.model, &p) / 1048576.0, o->model_path, s.rate,
              o->draft_path ? "; draft " : "", o->draft_path ? o->draft_path : "");

    int sig = 0;
    sigwait(&sigs, &sig);
    /* drain: stop accepting, let streams in flight finish, cut them at the deadline or on a second signal */
    s.draining = 1;
    pthread_mutex_lock(&s.lock);
    pthread_cond_broadcast(&s.freed);   /* requests waiting in the queue are refused now */
    pthread_mutex_unlock(&s.lock);
    serve_http_quiesce(http);
    serve_wyoming_quiesce(wy);
    const int n0 = serve_busy(&s);
    serve_log("signal %d: draining %d stream(s) in flight (at most %d ms)", sig, n0, o->drain_timeout_ms);
    const uint64_t deadline = serve_now_ms() + (uint64_t)o->drain_timeout_ms;
    struct timespec tick = { 0, 50 * 1000000L };
    while ((serve_busy(&s) || serve_http_active(http) || serve_wyoming_active(wy)) && serve_now_ms() < deadline) {
        if (sigtimedwait(&sigs, NULL, &tick) > 0) { serve_log("second signal: cutting the streams in flight"); break; }
    }
    const int cut = serve_busy(&s);
    if (cut) serve_log("%d stream(s) cut at the drain deadline", cut);
    s.abort_all = 1;
    serve_http_stop(http);
    http = NULL;
    serve_wyoming_stop(wy);
    wy = NULL;
    serve_log("stopped: %llu request(s), %llu refused busy", (unsigned long long)s.n_requests,
              (unsigned long long)s.n_refused_busy);
    rc = 0;
out:
    s.abort_all = 1;
    serve_http_stop(http);
    serve_wyoming_stop(wy);
    if (s.slots) serve_pool_free(&s);
    eg_model_free(s.model);
    return rc;
}
