/* tests/test_timings.c — word and phoneme timings (eg_ctx_params.on_timing) against the model and the audio.
 *
 *  - exact to the frame: every phoneme's start/end equals the duration rule of models/ar_lm.h recomputed here
 *    from the AR model itself (eg_ar_predict_durations with length_scale / (speed x rate)), at speed 1 and 2,
 *    inside <prosody rate>, across sentence pauses and <break>s (tiny model, tests/golden/tts_tiny_*);
 *  - the audio agrees: the samples between sentences (pauses, breaks) are exactly silent and exactly as long as
 *    the timings say, and the shipped model (models/ar + models/codec) has speech energy inside every word;
 *  - timings from eg_ctx_synthesize_ids (no words) and a timing callback that stops the synthesis.
 * A phonemiser in this file stands in for espeak-ng (letters are phonemes), so the tests run in cross builds too. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/ar_lm.h"
#include "runtime/edgegen.h"
#include "models/exec.h"
#include "tests/harness.h"

#define AR_PATH    "tests/golden/tts_tiny_ar-f32.gguf"
#define CODEC_PATH "tests/golden/tts_tiny_codec-f32.gguf"
#define REAL_AR    "models/ar/pico-ar-q8_0.gguf"
#define REAL_CODEC "models/codec/pico-codec-q8_0.gguf"

/* letters stand for themselves; sentences end at . ? ! */
static enum eg_status letters_phonemiser(void *user, const char *utf8, int max_phonemes, eg_phonemes_fn emit, void *sink) {
    uint32_t buf[2048];
    int n = 0;
    enum eg_status st = EG_OK;
    (void)user; (void)max_phonemes;
    for (const char *p = utf8; *p && st == EG_OK; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c >= 'a' && c <= 'z') buf[n++] = (uint32_t)c;
        else if (c == ' ' && n && buf[n - 1] != ' ') buf[n++] = ' ';
        else if (c == ',') { buf[n++] = ','; buf[n++] = ' '; }
        else if (c == '.' || c == '?' || c == '!') { buf[n++] = (uint32_t)c; st = emit(sink, buf, n); n = 0; }
        if (n > 2000) return EG_ERR_INVALID_ARG;
    }
    while (n && buf[n - 1] == ' ') n--;
    if (st == EG_OK && n) st = emit(sink, buf, n);
    return st;
}

/* ---- recording ---------------------------------------------------------------------------------------------- */

#define MAXS 16
#define MAXP 512
struct rec_sent {
    int64_t start, end;
    int n_ph, n_w;
    uint32_t ph[MAXP];
    int64_t ph_start[MAXP], ph_end[MAXP];
    int ph_word[MAXP];
    int64_t w_start[64], w_end[64];
    int w_first[64], w_n[64];
    char w_text[64][32];
};
struct rec {
    float *pcm; int64_t n, cap;
    struct rec_sent s[MAXS];
    int n_s;
    int stop_at;              /* > 0: the timing callback returns EG_ERR_IO for that sentence */
    int64_t samples_at_timing[MAXS];
};

static enum eg_status on_audio(void *user, const void *samples, int n) {
    struct rec *r = user;
    if (r->n + n > r->cap) {
        int64_t cap = (r->n + n) * 2;
        float *p = realloc(r->pcm, sizeof *p * (size_t)cap);
        if (!p) return EG_ERR_NOMEM;
        r->pcm = p;
        r->cap = cap;
    }
    memcpy(r->pcm + r->n, samples, sizeof(float) * (size_t)n);
    r->n += n;
    return EG_OK;
}

static enum eg_status on_timing(void *user, const struct eg_sentence_timing *t) {
    struct rec *r = user;
    if (r->n_s >= MAXS || t->n_phonemes > MAXP || t->n_words > 64) return EG_ERR_INTERNAL;
    if (r->stop_at && r->n_s + 1 == r->stop_at) return EG_ERR_IO;
    struct rec_sent *s = &r->s[r->n_s];
    r->samples_at_timing[r->n_s] = r->n;
    r->n_s++;
    s->start = t->start_sample;
    s->end = t->end_sample;
    s->n_ph = t->n_phonemes;
    s->n_w = t->n_words;
    for (int i = 0; i < t->n_phonemes; i++) {
        s->ph[i] = t->phonemes[i].phoneme;
        s->ph_start[i] = t->phonemes[i].start_sample;
        s->ph_end[i] = t->phonemes[i].end_sample;
        s->ph_word[i] = t->phonemes[i].word;
    }
    for (int i = 0; i < t->n_words; i++) {
        s->w_start[i] = t->words[i].start_sample;
        s->w_end[i] = t->words[i].end_sample;
        s->w_first[i] = t->words[i].first_phoneme;
        s->w_n[i] = t->words[i].n_phonemes;
        snprintf(s->w_text[i], sizeof s->w_text[i], "%s", t->words[i].text);
    }
    return EG_OK;
}

static struct eg_ctx *make_ctx(const struct eg_model *m, struct rec *r, float speed) {
    struct eg_ctx_params p = eg_ctx_default_params();
    p.n_threads = 2;   /* the shipped model under qemu: two host threads */
    p.device = EG_DEVICE_CPU;
    p.speed = speed;
    p.on_audio = on_audio;
    p.on_audio_user = r;
    p.on_timing = on_timing;
    p.on_timing_user = r;
    return eg_ctx_create(m, &p, NULL);
}

/* The durations the model predicts for these phonemes (Piper layout ids) at length scale ls: frames per id. */
static int expected_frames(const struct eg_ar_model *ar, const struct eg_model *m, const uint32_t *ph, int n_ph,
                           const float *rate, float speed, int32_t *frames, int32_t *ids) {
    int pad, bos, eos, k = 0;
    eg_model_special_ids(m, &pad, &bos, &eos);
    float r[2 * MAXP + 3];
    ids[k] = bos; r[k++] = rate[0];
    ids[k] = pad; r[k++] = rate[0];
    for (int i = 0; i < n_ph; i++) {
        ids[k] = eg_model_phoneme_id(m, ph[i]); r[k++] = rate[i];
        ids[k] = pad; r[k++] = rate[i];
    }
    ids[k] = eos; r[k++] = rate[n_ph - 1];
    struct eg_exec ex;
    struct eg_ar_state *st = NULL;
    int ok = eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK && eg_ar_state_create(ar, &ex, 2 * MAXP + 3, &st) == EG_OK &&
             eg_ar_encode(st, ids, k) == EG_OK;
    if (ok) {   /* per id: the duration rule with length_scale / (speed x rate) */
        for (int i = 0; i < k; i++) {
            int32_t f1[2 * MAXP + 3];
            ok &= eg_ar_predict_durations(st, ar->cfg.length_scale / (speed * r[i]), f1) == EG_OK;
            frames[i] = f1[i];
        }
    }
    eg_ar_state_destroy(st);
    eg_exec_free(&ex);
    return ok ? k : -1;
}

/* Check one synthesis: phoneme times = the model's durations, words = their phonemes, gaps = silence. */
static void check_run(struct th_state *th_, const struct eg_ar_model *ar, const struct eg_model *m, const struct rec *r,
                      float speed, const float *const *rates, const int *gap_ms, int tail_ms, const char *what) {
    const int64_t hop = eg_model_frame_samples(m), rate_hz = eg_model_sample_rate(m);
    int64_t prev_end = 0;
    for (int k = 0; k < r->n_s; k++) {
        const struct rec_sent *s = &r->s[k];
        int32_t frames[2 * MAXP + 3], ids[2 * MAXP + 3];
        float ones[MAXP];
        for (int i = 0; i < MAXP; i++) ones[i] = 1.0f;
        const int n_ids = expected_frames(ar, m, s->ph, s->n_ph, rates && rates[k] ? rates[k] : ones, speed, frames, ids);
        REQUIRE(n_ids == 2 * s->n_ph + 3, "%s: sentence %d: expected durations", what, k);
        /* phoneme i is id 2 + 2i: from the frames before it, for its own frames and its pad's */
        int64_t cum = frames[0] + frames[1];
        int bad = 0;
        for (int i = 0; i < s->n_ph; i++) {
            const int64_t a = s->start + cum * hop, b = a + (int64_t)(frames[2 + 2 * i] + frames[3 + 2 * i]) * hop;
            if (s->ph_start[i] != a || s->ph_end[i] != b) {
                if (!bad++) CHECK(0, "%s: sentence %d phoneme %d: [%lld, %lld) != model's [%lld, %lld)", what, k, i,
                                  (long long)s->ph_start[i], (long long)s->ph_end[i], (long long)a, (long long)b);
            }
            cum += frames[2 + 2 * i] + frames[3 + 2 * i];
        }
        cum += frames[n_ids - 1];
        CHECK(s->end - s->start == cum * hop, "%s: sentence %d: %lld samples != %lld frames x %lld", what, k,
              (long long)(s->end - s->start), (long long)cum, (long long)hop);
        /* the gap before it: exactly the pause, all zeros */
        const int64_t gap = s->start - prev_end, want_gap = (int64_t)gap_ms[k] * rate_hz / 1000;
        CHECK(gap == want_gap, "%s: sentence %d: gap %lld samples, expected %d ms = %lld", what, k, (long long)gap,
              gap_ms[k], (long long)want_gap);
        int64_t nonzero = 0;
        for (int64_t t = prev_end; t < s->start && t < r->n; t++) nonzero += r->pcm[t] != 0.0f;
        CHECK(nonzero == 0, "%s: sentence %d: %lld non-zero samples in the pause", what, k, (long long)nonzero);
        /* audio inside the sentence is not silent (the fade only touches 5 ms at each end) */
        double e = 0;
        for (int64_t t = s->start; t < s->end && t < r->n; t++) e += (double)r->pcm[t] * r->pcm[t];
        CHECK(e > 0, "%s: sentence %d is silent", what, k);
        /* words: from their first phoneme's start to their last one's end; phonemes name their word */
        for (int w = 0; w < s->n_w; w++) {
            CHECK(s->w_n[w] > 0 && s->w_start[w] == s->ph_start[s->w_first[w]] &&
                  s->w_end[w] == s->ph_end[s->w_first[w] + s->w_n[w] - 1], "%s: sentence %d word %d '%s'", what, k, w,
                  s->w_text[w]);
            for (int i = s->w_first[w]; i < s->w_first[w] + s->w_n[w]; i++)
                CHECK(s->ph_word[i] == w, "%s: phoneme %d word %d != %d", what, i, s->ph_word[i], w);
        }
        prev_end = s->end;
        CHECK(r->samples_at_timing[k] == s->start, "%s: sentence %d: timing reported at sample %lld, its audio starts at %lld",
              what, k, (long long)r->samples_at_timing[k], (long long)s->start);
    }
    /* after the last sentence: nothing, or the silence of a final <break> */
    const int64_t tail = (int64_t)tail_ms * rate_hz / 1000;
    CHECK(r->n == prev_end + tail, "%s: %lld samples delivered, timings end at %lld + %lld", what, (long long)r->n,
          (long long)prev_end, (long long)tail);
    int64_t nonzero = 0;
    for (int64_t t = prev_end; t < r->n; t++) nonzero += r->pcm[t] != 0.0f;
    CHECK(nonzero == 0, "%s: %lld non-zero samples after the last sentence", what, (long long)nonzero);
}

TEST(timings_exact_to_the_frame) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(AR_PATH, CODEC_PATH, &st);
    struct eg_ar_model *ar = NULL;
    REQUIRE(m && eg_ar_model_load(AR_PATH, &ar) == EG_OK, "tiny models (tests/gen_tts_golden.py)");
    for (int sp = 0; sp < 2; sp++) {
        const float speed = sp ? 2.0f : 1.0f;
        struct rec r;
        memset(&r, 0, sizeof r);
        struct eg_ctx *ctx = make_ctx(m, &r, speed);
        REQUIRE(ctx, "context");
        /* plain text: two sentences, the default 100 ms pause between them */
        REQUIRE(eg_ctx_synthesize_markup(ctx, "hello there, friend. we meet again!", NULL, letters_phonemiser, NULL) == EG_OK,
                "plain");
        REQUIRE(r.n_s == 2 && r.s[0].n_w == 3 && r.s[1].n_w == 3, "%d sentences, %d + %d words", r.n_s, r.s[0].n_w, r.s[1].n_w);
        CHECK(!strcmp(r.s[0].w_text[2], "friend") && !strcmp(r.s[1].w_text[0], "we"), "words '%s' '%s'", r.s[0].w_text[2], r.s[1].w_text[0]);
        const int gaps1[] = { 0, 100 };
        check_run(th_, ar, m, &r, speed, NULL, gaps1, 0, speed == 1 ? "plain, speed 1" : "plain, speed 2");
        free(r.pcm);
        /* SSML: a break replaces the pause, a slower second sentence, a break at the end */
        memset(&r, 0, sizeof r);
        REQUIRE(eg_ctx_synthesize_markup(ctx, "<speak><break time=\"250ms\"/>one two.<break time=\"700ms\"/>"
                                              "<prosody rate=\"50%\">three four.</prosody>five six.<break time=\"300ms\"/></speak>",
                                         NULL, letters_phonemiser, NULL) == EG_OK, "ssml");
        REQUIRE(r.n_s == 3, "%d sentences", r.n_s);
        float half[MAXP];
        for (int i = 0; i < MAXP; i++) half[i] = 0.5f;
        const float *rates[] = { NULL, half, NULL };
        const int gaps2[] = { 250, 700, 100 };
        check_run(th_, ar, m, &r, speed, rates, gaps2, 300, speed == 1 ? "ssml, speed 1" : "ssml, speed 2");
        free(r.pcm);
        eg_ctx_destroy(ctx);
    }
    eg_ar_model_destroy(ar);
    eg_model_free(m);
}

/* From ids: phonemes with times, no words, text ""; a timing callback's error stops before that sentence's audio. */
TEST(timings_from_ids_and_cancel) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(AR_PATH, CODEC_PATH, &st);
    REQUIRE(m, "tiny models");
    struct rec r;
    memset(&r, 0, sizeof r);
    struct eg_ctx *ctx = make_ctx(m, &r, 1.0f);
    REQUIRE(ctx, "context");
    int pad, bos, eos;
    eg_model_special_ids(m, &pad, &bos, &eos);
    int32_t ids[] = { bos, pad, eg_model_phoneme_id(m, 'a'), pad, eg_model_phoneme_id(m, 'b'), pad, eos };
    REQUIRE(ids[2] >= 0 && ids[4] >= 0, "inventory");
    REQUIRE(eg_ctx_synthesize_ids(ctx, ids, 7) == EG_OK, "ids");
    CHECK(r.n_s == 1 && r.s[0].n_ph == 2 && r.s[0].n_w == 0 && r.s[0].ph[0] == 'a' && r.s[0].ph[1] == 'b' &&
          r.s[0].ph_word[0] == -1, "ids timing: %d sentences, %d phonemes", r.n_s, r.s[0].n_ph);
    free(r.pcm);
    memset(&r, 0, sizeof r);
    r.stop_at = 2;
    CHECK(eg_ctx_synthesize_markup(ctx, "ab. cd. ef.", NULL, letters_phonemiser, NULL) == EG_ERR_IO, "stop");
    /* sentence 1's audio and the pause before sentence 2 (its timing comes right before its first sample) */
    CHECK(r.n_s == 1 && r.n == r.s[0].end + 100 * eg_model_sample_rate(m) / 1000,
          "after a stop at sentence 2: %d sentences, %lld samples (first ends %lld)", r.n_s, (long long)r.n,
          (long long)r.s[0].end);
    free(r.pcm);
    eg_ctx_destroy(ctx);
    eg_model_free(m);
}

/* The shipped model: every word's interval holds speech, the break between sentences is silent, and its length is
 * what <break> asked for. Words are given as phonemes, so no espeak-ng is needed. */
TEST(timings_words_hold_speech) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(REAL_AR, REAL_CODEC, &st);
    REQUIRE(m, "%s + %s (shipped with the repository)", REAL_AR, REAL_CODEC);
    struct rec r;
    memset(&r, 0, sizeof r);
    struct eg_ctx *ctx = make_ctx(m, &r, 1.0f);
    REQUIRE(ctx, "context");
    /* short (qemu runs it for every ARM table) */
    const char *doc = "<speak><s><phoneme ph=\"həlˈoʊ\">hello</phoneme> <phoneme ph=\"ðˈɛɹ\">there</phoneme>.</s>"
                      "<break time=\"600ms\"/><s><phoneme ph=\"ɡˈʊd\">good</phoneme> "
                      "<phoneme ph=\"mˈɔːɹnɪŋ\">morning</phoneme>.</s></speak>";
    REQUIRE(eg_ctx_synthesize_markup(ctx, doc, NULL, letters_phonemiser, NULL) == EG_OK, "synthesis");
    REQUIRE(r.n_s == 2 && r.s[0].n_w == 2 && r.s[1].n_w == 2, "%d sentences", r.n_s);
    const int64_t rate = eg_model_sample_rate(m);
    /* the break: exactly 600 ms of digital silence between the sentences */
    CHECK(r.s[1].start - r.s[0].end == 600 * rate / 1000, "break %lld samples", (long long)(r.s[1].start - r.s[0].end));
    double e_gap = 0;
    for (int64_t t = r.s[0].end; t < r.s[1].start; t++) e_gap += (double)r.pcm[t] * r.pcm[t];
    CHECK(e_gap == 0.0, "the break is not silent (energy %g)", e_gap);
    /* speech energy inside every word: RMS well above the quietest 20 ms of the sentence */
    for (int k = 0; k < r.n_s; k++) {
        const struct rec_sent *s = &r.s[k];
        double quiet = 1e9;
        for (int64_t t = s->start; t + 320 <= s->end; t += 320) {
            double e = 0;
            for (int q = 0; q < 320; q++) e += (double)r.pcm[t + q] * r.pcm[t + q];
            if (e / 320 < quiet) quiet = e / 320;
        }
        for (int w = 0; w < s->n_w; w++) {
            double e = 0;
            for (int64_t t = s->w_start[w]; t < s->w_end[w]; t++) e += (double)r.pcm[t] * r.pcm[t];
            const double rms = sqrt(e / (double)(s->w_end[w] - s->w_start[w]));
            CHECK(rms > 0.02 && rms * rms > 20 * quiet, "sentence %d word '%s' [%.3f, %.3f) s: RMS %.4f (quietest frame %.4f)",
                  k, s->w_text[w], (double)s->w_start[w] / rate, (double)s->w_end[w] / rate, rms, sqrt(quiet));
        }
    }
    free(r.pcm);
    eg_ctx_destroy(ctx);
    eg_model_free(m);
}

/* A user-written phoneme the model has no id for: one error naming it, before any audio. */
TEST(timings_unknown_given_phoneme_is_an_error) {
    enum eg_status st;
    struct eg_model *m = eg_model_load(AR_PATH, CODEC_PATH, &st);
    REQUIRE(m, "tiny models");
    struct rec r;
    memset(&r, 0, sizeof r);
    struct eg_ctx *ctx = make_ctx(m, &r, 1.0f);
    REQUIRE(ctx, "context");
    CHECK(eg_ctx_synthesize_markup(ctx, "fine. then [[ ab\xe2\x98\x83 ]] here.", NULL, letters_phonemiser, NULL) ==
          EG_ERR_INVALID_ARG && r.n == 0 && r.n_s == 0, "unknown symbol: %lld samples", (long long)r.n);
    CHECK(eg_ctx_synthesize_markup(ctx, "<speak>a <b>c</speak>", NULL, letters_phonemiser, NULL) == EG_ERR_INVALID_ARG &&
          r.n == 0, "malformed SSML: %lld samples", (long long)r.n);
    free(r.pcm);
    eg_ctx_destroy(ctx);
    eg_model_free(m);
}
