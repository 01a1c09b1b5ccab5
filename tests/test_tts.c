/* tests/test_tts.c — the public TTS API (runtime/pipeline/api.c) end to end on the tiny matching pair
 * tests/golden/tts_tiny_{ar,codec}-f32.gguf (tests/gen_tts_golden.py): streaming == whole decode, first audio
 * before the AR finishes the sentence, determinism across thread counts, sentence joins, error paths. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "models/ar_lm.h"
#include "models/decoder.h"
#include "runtime/edgegen.h"
#include "tests/golden.h"
#include "tests/harness.h"
#include "models/models.h"
#include "models/sampler.h"

#define AR_PATH    "tests/golden/tts_tiny_ar-f32.gguf"
#define CODEC_PATH "tests/golden/tts_tiny_codec-f32.gguf"

/* Collects everything the callback gets, plus the progress seen at the first call. */
struct rec {
    struct eg_ctx *ctx;
    float *f; int16_t *s;
    int64_t n, cap;
    int n_calls;
    int64_t first_done, first_planned;   /* frames generated / planned at the first callback */
    int stop_after;                      /* > 0: return EG_ERR_IO on that call */
    int reenter;                         /* 1: call eg_ctx_synthesize_ids from the callback (must be refused) */
    enum eg_status reenter_status;
    int is_s16;
};

static enum eg_status rec_fn(void *user, const void *samples, int n) {
    struct rec *r = user;
    if (r->n_calls == 0 && r->ctx) {
        struct eg_ctx_stats s;
        eg_ctx_get_stats(r->ctx, &s);
        r->first_done = s.n_frames_done_sentence;
        r->first_planned = s.n_frames_sentence;
    }
    r->n_calls++;
    if (r->reenter) { int32_t ids[3] = { 1, 0, 2 }; r->reenter_status = eg_ctx_synthesize_ids(r->ctx, ids, 3); r->reenter = 0; }
    if (r->stop_after && r->n_calls >= r->stop_after) return EG_ERR_IO;
    if (r->n + n > r->cap) {
        int64_t cap = (r->n + n) * 2;
        if (r->is_s16) { int16_t *p = realloc(r->s, sizeof *p * (size_t)cap); if (!p) return EG_ERR_NOMEM; r->s = p; }
        else { float *p = realloc(r->f, sizeof *p * (size_t)cap); if (!p) return EG_ERR_NOMEM; r->f = p; }
        r->cap = cap;
    }
    if (r->is_s16) memcpy(r->s + r->n, samples, sizeof(int16_t) * (size_t)n);
    else memcpy(r->f + r->n, samples, sizeof(float) * (size_t)n);
    r->n += n;
    return EG_OK;
}

/* Defaults with the decoder pinned to the CPU: bit-exact comparisons, and no OpenCL probe per context. */
static struct eg_ctx_params cpu_params(void) {
    struct eg_ctx_params p = eg_ctx_default_params();
    p.device = EG_DEVICE_CPU;
    return p;
}

static void rec_free(struct rec *r) { free(r->f); free(r->s); memset(r, 0, sizeof *r); }

static struct eg_model *load_pair(void) {
    enum eg_status st;
    return eg_model_load(AR_PATH, CODEC_PATH, &st);
}

/* A sentence of n phoneme ids in Piper layout: bos pad p pad ... eos, with phonemes drawn from known ids. */
static int make_ids(const struct eg_model *m, int n_ph, uint64_t seed, int32_t *ids) {
    static const char *const syms = "abdefhijklmnoprstuvwz";
    int pad, bos, eos, k = 0;
    eg_model_special_ids(m, &pad, &bos, &eos);
    ids[k++] = bos; ids[k++] = pad;
    for (int i = 0; i < n_ph; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int id = eg_model_phoneme_id(m, (uint32_t)syms[(seed >> 33) % strlen(syms)]);
        if (id < 0) return -1;
        ids[k++] = id; ids[k++] = pad;
    }
    ids[k++] = eos;
    return k;
}

static uint64_t fnv(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

TEST(tts_model_load) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load " AR_PATH " + " CODEC_PATH);
    CHECK(eg_model_sample_rate(m) == 16000, "rate %d", eg_model_sample_rate(m));
    CHECK(eg_model_frame_samples(m) == 160, "hop %d", eg_model_frame_samples(m));
    CHECK(eg_model_n_phoneme_ids(m) == 256, "n ids %d", eg_model_n_phoneme_ids(m));
    int pad, bos, eos;
    eg_model_special_ids(m, &pad, &bos, &eos);
    CHECK(pad == 0 && bos == 1 && eos == 2, "specials %d %d %d", pad, bos, eos);
    CHECK(eg_model_phoneme_id(m, 'a') > 2, "'a' -> %d", eg_model_phoneme_id(m, 'a'));
    CHECK(eg_model_phoneme_id(m, 0x0259) > 2, "schwa -> %d", eg_model_phoneme_id(m, 0x0259));
    CHECK(eg_model_phoneme_id(m, '_') == -1 && eg_model_phoneme_id(m, 0x1F600) == -1, "specials/unknown not mapped");
    CHECK(strcmp(eg_version(), EDGEGEN_VERSION) == 0, "version");
    eg_model_free(m);

    /* the golden decoder has other FSQ levels: not a pair */
    CHECK(!eg_model_load(AR_PATH, "tests/golden/decoder_tiny_f32.gguf", &st) && st == EG_ERR_FORMAT, "mismatch: %d", st);
    /* no codec next to the AR file */
    CHECK(!eg_model_load(AR_PATH, NULL, &st) && st == EG_ERR_IO, "side by side: %d", st);
    CHECK(!eg_model_load(NULL, CODEC_PATH, &st) && st == EG_ERR_INVALID_ARG, "NULL: %d", st);
    CHECK(!eg_model_load("tests/golden/no-such.gguf", CODEC_PATH, &st) && st == EG_ERR_IO, "missing: %d", st);
    CHECK(!eg_model_load(CODEC_PATH, AR_PATH, &st) && st == EG_ERR_FORMAT, "swapped: %d", st);
    CHECK(!eg_model_load("tests/golden/gguf_empty.gguf", CODEC_PATH, &st) && st == EG_ERR_FORMAT, "not an AR: %d", st);
    eg_model_free(NULL);
}

TEST(tts_params) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    struct rec r = { 0 };
    struct eg_ctx_params p = cpu_params();
    CHECK(!eg_ctx_create(m, &p, &st) && st == EG_ERR_INVALID_ARG, "on_audio NULL: %d", st);
    p.on_audio = rec_fn; p.on_audio_user = &r;
    const struct { const char *what; void (*set)(struct eg_ctx_params *); } bad[] = { { NULL, NULL } };
    (void)bad;
    struct eg_ctx_params q;
    q = p; q.speed = 0;            CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "speed 0");
    q = p; q.speed = NAN;          CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "speed nan");
    q = p; q.top_p = 0;            CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "top_p 0");
    q = p; q.temperature = NAN;    CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "temperature nan");
    q = p; q.n_threads = 0;        CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "threads 0");
    q = p; q.max_phonemes = 0;     CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "max_phonemes 0");
    q = p; q.chunk_frames = 0;     CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "chunk 0");
    q = p; q.sentence_pause_ms = -1; CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "pause -1");
    q = p; q.format = (enum eg_sample_format)7; CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "format");
    q = p; q.device = (enum eg_device)9; CHECK(!eg_ctx_create(m, &q, &st) && st == EG_ERR_INVALID_ARG, "device 9");
    CHECK(!eg_ctx_create(NULL, &p, &st) && st == EG_ERR_INVALID_ARG, "model NULL");
    CHECK(eg_ctx_memory_bytes(m, &p) > 0, "memory bytes");
    q = p; q.max_phonemes = 1000;
    CHECK(eg_ctx_memory_bytes(m, &q) > eg_ctx_memory_bytes(m, &p), "arena grows with max_phonemes");
    struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
    REQUIRE(ctx, "create: %d", st);
    int32_t ids[16] = { 1, 0, 300, 0, 2 };
    CHECK(eg_ctx_synthesize_ids(ctx, ids, 5) == EG_ERR_INVALID_ARG, "id out of range");
    ids[2] = -1;
    CHECK(eg_ctx_synthesize_ids(ctx, ids, 5) == EG_ERR_INVALID_ARG, "negative id");
    CHECK(eg_ctx_synthesize_ids(ctx, ids, 2) == EG_ERR_INVALID_ARG, "too short");
    CHECK(eg_ctx_synthesize_ids(ctx, NULL, 5) == EG_ERR_INVALID_ARG, "NULL ids");
    CHECK(eg_ctx_synthesize_ids(ctx, ids, 2 * 256 + 4) == EG_ERR_INVALID_ARG, "too long");
    CHECK(eg_ctx_synthesize_phonemes(ctx, NULL, 3) == EG_ERR_INVALID_ARG, "NULL phonemes");
    CHECK(eg_ctx_synthesize_text(ctx, "x", NULL, NULL) == EG_ERR_INVALID_ARG, "NULL phonemiser");
    CHECK(r.n == 0, "nothing emitted on errors (%lld)", (long long)r.n);
    eg_ctx_destroy(ctx);
    eg_ctx_destroy(NULL);
    rec_free(&r);
    eg_model_free(m);
}

/* What the pipeline must produce for ids at temperature 0, computed from the models directly: eg_ar_generate's
 * greedy tokens, decoded whole by codec_path (phones: 0 = none, 1 = each frame's id expanded from the predicted
 * durations, 2 = every frame ids[0]), faded in and out as the pipeline documents. Malloc'd PCM [*n_samples]
 * (*n_frames frames) or NULL. */
static float *reference_pcm(const char *codec_path, const int32_t *ids, int n_ids, int phones, int64_t *n_frames,
                            int64_t *n_samples) {
    struct eg_ar_model *ar = NULL;
    struct eg_codec_model *codec = NULL;
    struct eg_exec ex = { 0 };
    struct eg_ar_state *as = NULL;
    struct eg_decoder *dec = NULL;
    struct eg_sampler smp;
    const struct eg_sampler_params sp = { .temperature = 0, .top_k = 0, .top_p = 1, .seed = 0 };
    void *scratch = NULL;
    int32_t *tok = NULL, *ph = NULL, durs[1024];
    float *ref = NULL;
    int ok = n_ids <= 1024 && eg_ar_model_load(AR_PATH, &ar) == EG_OK && eg_codec_model_load(codec_path, &codec) == EG_OK &&
             eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK && eg_ar_state_create(ar, &ex, 2 * 256 + 3, &as) == EG_OK &&
             eg_ar_encode(as, ids, n_ids) == EG_OK && eg_ar_predict_durations(as, 1.0f, durs) == EG_OK;
    const int64_t T = ok ? eg_ar_n_frames(as) : 0, N = T * (ok ? (int64_t)codec->cfg.hop : 0);
    if (ok) {
        scratch = malloc(eg_sampler_scratch_bytes((int)ar->cfg.n_codes));
        tok = malloc(sizeof *tok * (size_t)T);
        ph = malloc(sizeof *ph * (size_t)T);
        ref = malloc(sizeof *ref * (size_t)N);
        ok = T > 0 && scratch && tok && ph && ref;
    }
    int64_t t = 0;
    for (int i = 0; ok && i < n_ids; i++)
        for (int k = 0; k < durs[i] && t < T; k++) ph[t++] = phones == 2 ? ids[0] : ids[i];
    ok = ok && t == T && eg_sampler_init(&smp, &sp, (int)ar->cfg.n_codes, scratch) == EG_OK &&
         eg_ar_generate(as, &smp, tok) == EG_OK && eg_decoder_create(codec, &ex, NULL, &dec) == EG_OK &&
         eg_decoder_run(dec, tok, phones ? ph : NULL, (int)T, ref) == EG_OK;
    const int fade = 16000 * 5 / 1000;
    for (int64_t i = 0; ok && i < N; i++) {
        const int64_t e = N - 1 - i;
        if (i < fade) ref[i] *= (float)(0.5 - 0.5 * cos(M_PI * (i + 0.5) / fade));
        if (e < fade) ref[i] *= (float)(0.5 - 0.5 * cos(M_PI * (e + 0.5) / fade));
    }
    eg_decoder_destroy(dec); eg_ar_state_destroy(as); eg_exec_free(&ex);
    eg_ar_model_destroy(ar); eg_codec_model_destroy(codec);
    free(scratch); free(tok); free(ph);
    if (!ok) { free(ref); return NULL; }
    *n_frames = T;
    *n_samples = N;
    return ref;
}

/* Greedy: the token sequence is eg_ar_generate's; decode it whole and fade it as the pipeline documents; the
 * streamed callbacks must concatenate to exactly that, for a tiny and a large decoder window. */
TEST(tts_stream_equals_whole) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 40, 3, ids);
    REQUIRE(n_ids > 0, "ids");

    int64_t T = 0, N = 0;
    float *ref = reference_pcm(CODEC_PATH, ids, n_ids, 0, &T, &N);
    REQUIRE(ref, "reference");
    REQUIRE(T > 60, "frames %lld", (long long)T);

    const int chunks[] = { 1, 16, 1024 };
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        struct rec r = { 0 };
        struct eg_ctx_params p = cpu_params();
        p.temperature = 0; p.chunk_frames = chunks[c]; p.on_audio = rec_fn; p.on_audio_user = &r;
        struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
        REQUIRE(ctx, "ctx %d", st);
        r.ctx = ctx;
        CHECK(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "synthesize");
        CHECK(r.n == N, "chunk %d: %lld samples, expected %lld", chunks[c], (long long)r.n, (long long)N);
        if (r.n == N) CHECK(memcmp(r.f, ref, sizeof(float) * (size_t)N) == 0,
                            "chunk %d: streamed != whole (max diff %g)", chunks[c], max_abs_diff(ref, r.f, (size_t)N));
        if (chunks[c] == 16) CHECK(r.n_calls > 2, "several callbacks (%d)", r.n_calls);
        struct eg_ctx_stats s;
        eg_ctx_get_stats(ctx, &s);
        CHECK(s.n_frames == T && s.n_samples == N && s.n_sentences == 1, "stats %lld %lld", (long long)s.n_frames, (long long)s.n_samples);
        eg_ctx_destroy(ctx);
        rec_free(&r);
    }
    free(ref);
    eg_model_free(m);
}

TEST(tts_first_audio_before_sentence_end) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[256];
    const int n_ids = make_ids(m, 100, 5, ids);
    struct rec r = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.chunk_frames = 8; p.on_audio = rec_fn; p.on_audio_user = &r; p.seed = 1;
    struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
    REQUIRE(ctx, "ctx");
    r.ctx = ctx;
    CHECK(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "synthesize");
    /* look-ahead: chunk 8 + R = 3 * (1 + 2) = 9 frames */
    CHECK(r.first_done > 0 && r.first_done <= 8 + 9 && r.first_done < r.first_planned,
          "first audio after %lld of %lld frames", (long long)r.first_done, (long long)r.first_planned);
    eg_ctx_destroy(ctx);
    rec_free(&r);
    eg_model_free(m);
}

static uint64_t run_hash(struct eg_model *m, int threads, uint64_t seed, enum eg_isa isa, int64_t *n_out) {
    enum eg_status st;
    int32_t ids[128];
    const int n_ids = make_ids(m, 30, 9, ids);
    struct rec r = { .is_s16 = 1 };
    struct eg_ctx_params p = cpu_params();
    p.n_threads = threads; p.seed = seed; p.isa = isa; p.format = EG_SAMPLE_S16;
    p.on_audio = rec_fn; p.on_audio_user = &r;
    struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
    if (!ctx) return 0;
    uint64_t h = 0;
    /* two sentences on one stream: pause and reseed included */
    if (eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK && eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK)
        h = fnv(r.s, sizeof(int16_t) * (size_t)r.n);
    *n_out = r.n;
    eg_ctx_destroy(ctx);
    rec_free(&r);
    return h;
}

TEST(tts_deterministic_across_threads) {
    /* the tiny model's matrices are below the inline threshold: force the pool so it is really exercised */
    setenv("EDGEGEN_PAR_MIN_BYTES", "0", 1);
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int64_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    const uint64_t h1 = run_hash(m, 1, 42, EG_ISA_AUTO, &n1), h2 = run_hash(m, 2, 42, EG_ISA_AUTO, &n2);
    const uint64_t h3 = run_hash(m, 3, 42, EG_ISA_AUTO, &n3), h4 = run_hash(m, 1, 43, EG_ISA_AUTO, &n4);
    CHECK(h1 && h1 == h2 && h1 == h3 && n1 == n2 && n1 == n3, "threads 1/2/3: %016llx %016llx %016llx",
          (unsigned long long)h1, (unsigned long long)h2, (unsigned long long)h3);
    CHECK(h4 && h4 != h1, "another seed gives other audio");
    CHECK(run_hash(m, 1, 42, EG_ISA_AUTO, &n4) == h1, "repeatable");
    eg_model_free(m);
    unsetenv("EDGEGEN_PAR_MIN_BYTES");
}

TEST(tts_sentences_and_pause) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 20, 11, ids);
    struct rec r = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn; p.on_audio_user = &r; p.sentence_pause_ms = 250;
    struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
    REQUIRE(ctx, "ctx");
    REQUIRE(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "s1");
    const int64_t n1 = r.n;
    REQUIRE(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "s2");
    const int64_t pause = 16000 / 4;
    CHECK(r.n == 2 * n1 + pause, "two sentences: %lld samples, expected %lld", (long long)r.n, (long long)(2 * n1 + pause));
    int silent = 1;
    for (int64_t i = n1; i < n1 + pause && i < r.n; i++) silent &= r.f[i] == 0.0f;
    CHECK(silent, "the pause is silence");
    /* no click: the first and last samples of a sentence are faded to near zero */
    CHECK(fabsf(r.f[0]) < 0.01f && fabsf(r.f[n1 - 1]) < 0.01f && fabsf(r.f[n1 + pause]) < 0.01f,
          "edges %g %g %g", r.f[0], r.f[n1 - 1], r.f[n1 + pause]);
    /* the second sentence uses sentence index 1: different noise, same length */
    CHECK(memcmp(r.f, r.f + n1 + pause, sizeof(float) * (size_t)n1) != 0, "sentence 2 reseeded by index");
    /* reset: starts again at sentence 0, no pause, identical audio */
    eg_ctx_reset(ctx);
    const int64_t before = r.n;
    REQUIRE(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "after reset");
    CHECK(r.n - before == n1 && memcmp(r.f, r.f + before, sizeof(float) * (size_t)n1) == 0, "reset repeats sentence 0");
    /* speed 2: about half the frames */
    struct rec r2 = { 0 };
    p.speed = 2.0f; p.on_audio_user = &r2;
    struct eg_ctx *fast = eg_ctx_create(m, &p, &st);
    REQUIRE(fast, "fast");
    REQUIRE(eg_ctx_synthesize_ids(fast, ids, n_ids) == EG_OK, "fast synth");
    CHECK(r2.n < n1 * 7 / 10 && r2.n > n1 * 3 / 10, "speed 2: %lld vs %lld samples", (long long)r2.n, (long long)n1);
    eg_ctx_destroy(fast);
    eg_ctx_destroy(ctx);
    rec_free(&r); rec_free(&r2);
    eg_model_free(m);
}

/* edgegen.ar.length_scale (the model's duration calibration) multiplies 1/speed: the ls = 2 file at speed 1 speaks
 * exactly as the plain file at speed 0.5 (same durations, same seed: the same samples) */
TEST(tts_model_length_scale) {
    enum eg_status st;
    struct eg_model *m = load_pair(), *m2 = eg_model_load("tests/golden/tts_tiny_ar_ls2-f32.gguf", CODEC_PATH, &st);
    REQUIRE(m && m2, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 20, 5, ids);
    struct rec a = { 0 }, b = { 0 }, c = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn;
    p.on_audio_user = &a; p.speed = 1.0f;
    struct eg_ctx *plain1 = eg_ctx_create(m, &p, &st);
    p.on_audio_user = &b; p.speed = 0.5f;
    struct eg_ctx *plain05 = eg_ctx_create(m, &p, &st);
    p.on_audio_user = &c; p.speed = 1.0f;
    struct eg_ctx *ls2 = eg_ctx_create(m2, &p, &st);
    REQUIRE(plain1 && plain05 && ls2, "contexts");
    REQUIRE(eg_ctx_synthesize_ids(plain1, ids, n_ids) == EG_OK && eg_ctx_synthesize_ids(plain05, ids, n_ids) == EG_OK &&
            eg_ctx_synthesize_ids(ls2, ids, n_ids) == EG_OK, "synthesize");
    CHECK(c.n == b.n && memcmp(c.f, b.f, sizeof(float) * (size_t)b.n) == 0,
          "length_scale 2 at speed 1 = speed 0.5: %lld vs %lld samples", (long long)c.n, (long long)b.n);
    CHECK(c.n > a.n * 17 / 10 && c.n < a.n * 23 / 10, "about twice as long as speed 1 without it: %lld vs %lld",
          (long long)c.n, (long long)a.n);
    eg_ctx_destroy(plain1); eg_ctx_destroy(plain05); eg_ctx_destroy(ls2);
    rec_free(&a); rec_free(&b); rec_free(&c);
    eg_model_free(m); eg_model_free(m2);
}

/* A phoneme-conditioned codec (tts_tiny_codec_ph): the pipeline feeds each frame the id whose duration covers it.
 * Reference: the AR's greedy tokens and predicted durations, ids expanded frame by frame, eg_decoder_run, fade. */
#define CODEC_PH_PATH "tests/golden/tts_tiny_codec_ph-f32.gguf"
TEST(tts_phoneme_conditioned_codec) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(AR_PATH, CODEC_PH_PATH, &st);
    REQUIRE(m, "load " AR_PATH " + " CODEC_PH_PATH ": %d", st);
    int32_t ids[128];
    const int n_ids = make_ids(m, 30, 9, ids);
    REQUIRE(n_ids > 0, "ids");
    int64_t T = 0, N = 0, T0 = 0, N0 = 0;
    float *ref = reference_pcm(CODEC_PH_PATH, ids, n_ids, 1, &T, &N), *ref0 = reference_pcm(CODEC_PH_PATH, ids, n_ids, 2, &T0, &N0);
    REQUIRE(ref && ref0 && N0 == N && T > 60, "references (%lld frames)", (long long)T);
    CHECK(max_abs_diff(ref, ref0, (size_t)N) > 1e-3, "the phoneme ids do not change the golden codec's output");
    for (int chunk = 1; chunk <= 64; chunk *= 8) {
        struct rec r = { 0 };
        struct eg_ctx_params p = cpu_params();
        p.temperature = 0; p.chunk_frames = chunk; p.on_audio = rec_fn; p.on_audio_user = &r;
        struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
        REQUIRE(ctx, "ctx");
        CHECK(eg_ctx_synthesize_ids(ctx, ids, n_ids) == EG_OK, "synthesize");
        CHECK(r.n == N && memcmp(r.f, ref, sizeof(float) * (size_t)N) == 0, "chunk %d: pipeline != tokens + expanded ids "
              "through the decoder (%lld of %lld samples)", chunk, (long long)r.n, (long long)N);
        eg_ctx_destroy(ctx);
        rec_free(&r);
    }
    free(ref); free(ref0);
    eg_model_free(m);

    /* a conditioned codec whose phoneme symbols differ from the AR's is not a pair: patch id 0's symbol "_" */
    FILE *f = fopen(CODEC_PH_PATH, "rb");
    REQUIRE(f, "open");
    static unsigned char buf[1 << 18];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    REQUIRE(n > 0 && n < sizeof buf, "read %zu", n);
    const char key[] = "edgegen.codec.phonemes";
    size_t at = 0;
    for (size_t i = 0; i + sizeof key < n && !at; i++)
        if (!memcmp(buf + i, key, sizeof key - 1)) at = i + sizeof key - 1 + 4 + 4 + 8 + 8;   /* type, elem type, count, len */
    REQUIRE(at && buf[at] == '_', "symbol 0 is '%c'", at ? buf[at] : '?');
    buf[at] = 'X';
    char tmp[] = "/tmp/eg-codec-ph-XXXXXX";
    const int fd = mkstemp(tmp);
    REQUIRE(fd >= 0, "mkstemp");
    f = fdopen(fd, "wb");
    REQUIRE(f && fwrite(buf, 1, n, f) == n && fclose(f) == 0, "write");
    QUIET();
    struct eg_model *bad = eg_model_load(AR_PATH, tmp, &st);
    LOUD();
    CHECK(!bad && st == EG_ERR_FORMAT, "mismatched phoneme symbols accepted (%d)", st);
    eg_model_free(bad);
    remove(tmp);
}

TEST(tts_s16_matches_f32_and_cancel) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 30, 13, ids);
    struct rec rf = { 0 }, rs = { .is_s16 = 1 };
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn; p.on_audio_user = &rf; p.seed = 5;
    struct eg_ctx *a = eg_ctx_create(m, &p, &st);
    p.format = EG_SAMPLE_S16; p.on_audio_user = &rs;
    struct eg_ctx *b = eg_ctx_create(m, &p, &st);
    REQUIRE(a && b, "ctx");
    REQUIRE(eg_ctx_synthesize_ids(a, ids, n_ids) == EG_OK && eg_ctx_synthesize_ids(b, ids, n_ids) == EG_OK, "synth");
    REQUIRE(rf.n == rs.n, "same length");
    int same = 1;
    for (int64_t i = 0; i < rf.n; i++) {
        float x = rf.f[i] > 1 ? 1 : rf.f[i] < -1 ? -1 : rf.f[i];
        same &= rs.s[i] == (int16_t)lrintf(x * 32767.0f);
    }
    CHECK(same, "s16 = round(clamp(f32) * 32767)");
    /* cancel: the callback's status comes back, the context stays usable */
    struct rec rc = { .stop_after = 2 };
    p.format = EG_SAMPLE_F32; p.on_audio_user = &rc; p.chunk_frames = 4;
    struct eg_ctx *c = eg_ctx_create(m, &p, &st);
    REQUIRE(c, "ctx c");
    CHECK(eg_ctx_synthesize_ids(c, ids, n_ids) == EG_ERR_IO, "cancel returns the callback's status");
    CHECK(rc.n_calls == 2, "no call after the stop (%d)", rc.n_calls);
    rc.stop_after = 0; rc.n = 0; rc.ctx = c; rc.reenter = 1; rc.n_calls = 0;
    eg_ctx_reset(c);
    CHECK(eg_ctx_synthesize_ids(c, ids, n_ids) == EG_OK && rc.n == rf.n && memcmp(rc.f, rf.f, sizeof(float) * (size_t)rf.n) == 0,
          "usable after a cancel, same audio");
    CHECK(rc.reenter_status == EG_ERR_INVALID_ARG, "a callback calling back in is refused (%d)", rc.reenter_status);
    eg_ctx_destroy(a); eg_ctx_destroy(b); eg_ctx_destroy(c);
    rec_free(&rf); rec_free(&rs); rec_free(&rc);
    eg_model_free(m);
}

/* VmData of this process (what RLIMIT_DATA counts), 0 when unknown. */
static uint64_t vm_data_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmData: %llu kB", &kb) == 1) break;
    if (f) fclose(f);
    return (uint64_t)kb << 10;
}

/* eg_ctx_fit_count: the memory plan for n contexts at once. Under an RLIMIT_DATA that leaves room for two and a
 * half contexts' arenas + thread stacks (plus the runtime's fixed part) it must say 2, never 3. */
TEST(tts_fit_count) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn;
    const int n = eg_ctx_fit_count(m, &p, 8);
    CHECK(n >= 1 && n <= 8, "fits on this machine: %d", n);
    CHECK(eg_ctx_fit_count(m, &p, 0) == 0 && eg_ctx_fit_count(NULL, &p, 4) == 0, "bad arguments: 0");
    struct eg_ctx_params bad = p;
    bad.speed = 0;
    CHECK(eg_ctx_fit_count(m, &bad, 4) == 0, "invalid params: 0");
    struct rlimit old;
    const uint64_t data = vm_data_bytes();
    if (data && getrlimit(RLIMIT_DATA, &old) == 0 && old.rlim_cur == RLIM_INFINITY) {
        const uint64_t per = eg_ctx_memory_bytes(m, &p) + (uint64_t)p.n_threads * (128u << 10);
        struct rlimit lim = { (rlim_t)(data + (640u << 10) + per * 5 / 2), old.rlim_max };
        REQUIRE(setrlimit(RLIMIT_DATA, &lim) == 0, "setrlimit");
        struct rlimit now;
        const int in_force = getrlimit(RLIMIT_DATA, &now) == 0 && now.rlim_cur == lim.rlim_cur;   /* qemu-user
                                                                   accepts and ignores RLIMIT_DATA */
        const int k = eg_ctx_fit_count(m, &p, 8);
        setrlimit(RLIMIT_DATA, &old);
        if (in_force)
            CHECK(k == 2, "RLIMIT_DATA with room for 2.5 contexts (%llu B each): %d", (unsigned long long)per, k);
        else
            fprintf(stderr, "  (RLIMIT_DATA not in force here, e.g. under qemu-user: the count under a limit is not checked)\n");
    }
    struct eg_ctx *c = eg_ctx_create(m, &p, &st);
    CHECK(c != NULL, "a context the count said fits is created");
    eg_ctx_destroy(c);
    eg_model_free(m);
}

/* eg_ctx_set_speed: a pooled context at speed 2 gives exactly what a context created with speed 2 gives. */
TEST(tts_set_speed) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 30, 13, ids);
    struct rec r1 = { 0 }, r2 = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn; p.on_audio_user = &r1; p.seed = 3;
    struct eg_ctx *a = eg_ctx_create(m, &p, &st);
    p.speed = 2.0f; p.on_audio_user = &r2;
    struct eg_ctx *b = eg_ctx_create(m, &p, &st);
    REQUIRE(a && b, "ctx");
    REQUIRE(eg_ctx_synthesize_ids(a, ids, n_ids) == EG_OK, "speed 1");
    const int64_t n1 = r1.n;
    CHECK(eg_ctx_set_speed(a, 0.05f) == EG_ERR_INVALID_ARG && eg_ctx_set_speed(NULL, 1) == EG_ERR_INVALID_ARG, "range");
    REQUIRE(eg_ctx_set_speed(a, 2.0f) == EG_OK, "set 2");
    r1.n = 0;
    eg_ctx_reset(a);
    REQUIRE(eg_ctx_synthesize_ids(a, ids, n_ids) == EG_OK && eg_ctx_synthesize_ids(b, ids, n_ids) == EG_OK, "speed 2");
    CHECK(r1.n < n1, "faster is shorter (%lld vs %lld)", (long long)r1.n, (long long)n1);
    CHECK(r1.n == r2.n && memcmp(r1.f, r2.f, sizeof(float) * (size_t)r1.n) == 0, "same audio as a context made at speed 2");
    eg_ctx_destroy(a); eg_ctx_destroy(b);
    rec_free(&r1); rec_free(&r2);
    eg_model_free(m);
}

/* A phonemiser that splits on '|' and emits each piece's codepoints (ASCII). */
static enum eg_status pipe_phonemiser(void *user, const char *utf8, int max_phonemes, eg_phonemes_fn emit, void *sink) {
    uint32_t buf[512];
    int n = 0;
    enum eg_status st;
    int *calls = user;
    (*calls)++;
    for (const char *c = utf8;; c++) {
        if (*c == '|' || !*c) {
            if (n && (st = emit(sink, buf, n)) != EG_OK) return st;
            n = 0;
            if (!*c) break;
        } else if (n < 512) {
            buf[n++] = (unsigned char)*c;
        }
    }
    return EG_OK;
}

TEST(tts_text_callback) {
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    struct rec r = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.on_audio = rec_fn; p.on_audio_user = &r; p.max_phonemes = 10;
    struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
    REQUIRE(ctx, "ctx");
    int calls = 0;
    CHECK(eg_ctx_synthesize_text(ctx, "helo wrld|abc", pipe_phonemiser, &calls) == EG_OK && calls == 1, "text");
    struct eg_ctx_stats s;
    eg_ctx_get_stats(ctx, &s);
    CHECK(s.n_sentences == 2, "'helo wrld' (9) fits in 10, then 'abc': %lld sentences", (long long)s.n_sentences);
    CHECK(eg_ctx_synthesize_text(ctx, "aaaaa aaaaa aaaaa|", pipe_phonemiser, &calls) == EG_OK, "split");
    eg_ctx_get_stats(ctx, &s);
    CHECK(s.n_sentences == 2, "17 codepoints split at the space before 10: %lld", (long long)s.n_sentences);
    CHECK(eg_ctx_synthesize_text(ctx, "", pipe_phonemiser, &calls) == EG_ERR_INVALID_ARG, "empty");
    CHECK(eg_ctx_synthesize_text(ctx, "|||", pipe_phonemiser, &calls) == EG_ERR_INVALID_ARG, "nothing to say");
    CHECK(eg_ctx_synthesize_text(ctx, "\x01\x02", pipe_phonemiser, &calls) == EG_ERR_INVALID_ARG, "unknown symbols only");
    const int before = calls;
    CHECK(eg_ctx_synthesize_text(ctx, "ab\xC3\x28", pipe_phonemiser, &calls) == EG_ERR_INVALID_ARG && calls == before,
          "invalid UTF-8 refused before phonemising");
    CHECK(eg_ctx_synthesize_text(ctx, "ab\xED\xA0\x80", pipe_phonemiser, &calls) == EG_ERR_INVALID_ARG, "surrogate");
    eg_ctx_get_stats(ctx, &s);
    const uint32_t odd[] = { 'a', 0x1F600, 'b' };
    CHECK(eg_ctx_synthesize_phonemes(ctx, odd, 3) == EG_OK, "unknown codepoint dropped");
    struct eg_ctx_stats s2;
    eg_ctx_get_stats(ctx, &s2);
    CHECK(s2.n_unknown_phonemes == s.n_unknown_phonemes + 1, "counted");
    eg_ctx_destroy(ctx);
    rec_free(&r);
    eg_model_free(m);
}

/* OpenCL placement: strict mode either works (the decoder's spectra on the device, audio within float rounding
 * of the CPU's) or fails cleanly; AUTO always works. */
TEST(speech_device_placement) {   /* not "tts*": the ASan suite (run.sh) skips PoCL, which leaks under LSan */
    enum eg_status st;
    struct eg_model *m = load_pair();
    REQUIRE(m, "load");
    int32_t ids[128];
    const int n_ids = make_ids(m, 30, 17, ids);
    struct rec rc = { 0 }, ra = { 0 }, ro = { 0 };
    struct eg_ctx_params p = cpu_params();
    p.seed = 3; p.on_audio = rec_fn; p.on_audio_user = &rc;
    struct eg_ctx *c = eg_ctx_create(m, &p, &st);
    REQUIRE(c, "cpu ctx");
    CHECK(strcmp(eg_ctx_device_info(c), "cpu: requested") == 0, "info: %s", eg_ctx_device_info(c));
    REQUIRE(eg_ctx_synthesize_ids(c, ids, n_ids) == EG_OK, "cpu synth");
    p.device = EG_DEVICE_AUTO; p.on_audio_user = &ra;
    struct eg_ctx *a = eg_ctx_create(m, &p, &st);
    CHECK(a != NULL, "auto always creates (%d)", st);
    if (a) {
        CHECK(eg_ctx_synthesize_ids(a, ids, n_ids) == EG_OK && ra.n == rc.n, "auto synth");
        CHECK(*eg_ctx_device_info(a), "auto says where");
    }
    p.device = EG_DEVICE_OPENCL; p.on_audio_user = &ro;
    struct eg_ctx *o = eg_ctx_create(m, &p, &st);
    const int have_device = o != NULL;
    if (!o) {
        CHECK(st == EG_ERR_UNSUPPORTED || st == EG_ERR_DEVICE || st == EG_ERR_INVALID_ARG, "strict failure status %d", st);
    } else {
        CHECK(strncmp(eg_ctx_device_info(o), "opencl", 6) == 0, "strict: %s", eg_ctx_device_info(o));
        CHECK(eg_ctx_synthesize_ids(o, ids, n_ids) == EG_OK && ro.n == rc.n, "opencl synth: %lld vs %lld", (long long)ro.n, (long long)rc.n);
        if (ro.n == rc.n) {
            double e = nmse(rc.f, ro.f, (size_t)rc.n);
            CHECK(e < 1e-5, "opencl vs cpu nmse %g", e);
        }
    }
    eg_ctx_destroy(o); eg_ctx_destroy(a); eg_ctx_destroy(c);
    rec_free(&rc); rec_free(&ra); rec_free(&ro);
    eg_model_free(m);
    if (!have_device) SKIP("no usable OpenCL device: strict mode refused cleanly");
}
