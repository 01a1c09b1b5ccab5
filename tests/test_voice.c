/* tests/test_voice.c — the voice v2 decoder (architecture "edgegen.voice": models/decoder.c + models/voice_source.c)
 * against PyTorch (models/train/voice_model.py VoiceDecoder; tests/gen_voice_golden.py → tests/golden/voice_*):
 *   - forward real FFT (the source STFT) against a naive double-precision DFT;
 *   - golden tiny models, harmonic and ablation, f32/f16/q8_0: C vs torch with the same (dequantised) weights
 *     >= 40 dB SNR (waveform and magnitude spectrogram), the harmonic source matters (without it: far off);
 *   - streamed output == whole-utterance output bit for bit, for window sizes 1..n+10 (windows cut inside voiced
 *     runs), first-window sizes and push sizes; 1/2/3 threads bit-identical;
 *   - bad voice metadata (patched golden file: value out of range, wrong type, missing key, tensor/key
 *     mismatch) refused with EG_ERR_FORMAT and one log line naming the key;
 *   - the OpenCL stage declines voice networks with a reason (strict mode: an error);
 *   - the TTS pipeline on an AR + voice pair (rate, streaming windows, an inventory mismatch refused);
 *   - the TTS pipeline on an AR + voice pair (rate from the voice file, windows of 1 and 64 frames identical, an
 *     inventory mismatch refused);
 *   - the trained export (build/voice/, `make voice-parity`): C vs torch with the same weights >= 40 dB per dtype,
 *     and vs torch f32 reported; skipped when not built.
 * Golden files are read from $EG_GOLDEN_DIR or tests/golden (tests run from the repository root).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "tests/decoder_run.h"
#include "models/istft.h"
#include "models/stage.h"
#include "models/voice_source.h"
#include "runtime/core/internal.h"
#include "tests/golden.h"
#include "tests/harness.h"

/* Magnitude-spectrogram SNR (frames of n_fft every hop, periodic Hann): blind to the phase of the harmonics, which
 * drifts with the accumulated F0 (a relative F0 change e moves harmonic k by k e cycles per period), so it tells
 * how far apart two decodes sound when their weights differ (q8_0 vs f32) and the waveforms no longer line up. */
static double mag_snr_db(const float *ref, const float *got, size_t n, int n_fft, int hop) {
    struct eg_istft st;
    void *mem = malloc(eg_istft_get_size(n_fft));
    float *x = malloc(sizeof(float) * 6 * (size_t)n_fft);
    float *sc = x + n_fft, *re = sc + n_fft, *im = re + n_fft, *r2 = im + n_fft, *i2 = r2 + n_fft;
    double s = 0, e = 0;
    eg_istft_init(&st, mem, n_fft, hop);
    for (size_t t0 = 0; t0 + (size_t)n_fft <= n; t0 += (size_t)hop) {
        eg_rfft_frame(&st, re, im, ref + t0, sc);
        eg_rfft_frame(&st, r2, i2, got + t0, sc);
        for (int k = 0; k <= n_fft / 2; k++) {
            const double a = hypot(re[k], im[k]), b = hypot(r2[k], i2[k]);
            s += a * a; e += (a - b) * (a - b);
        }
    }
    free(mem); free(x);
    return e == 0 ? INFINITY : 10.0 * log10(s / e);
}

static struct eg_codec_model *load_voice(const char *dir, const char *name) {
    char path[512];
    struct eg_codec_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return eg_codec_model_load(path, &m) == EG_OK ? m : NULL;
}

static float *read_f32(const char *dir, const char *name, size_t *n) {
    char path[512];
    size_t nb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    float *r = read_aligned(path, &nb);
    *n = nb / sizeof(float);
    return r;
}

/* ---- forward rFFT ------------------------------------------------------------------------------------------- */

TEST(voice_rfft_frame_vs_naive_dft) {
    static const int sizes[] = { 4, 8, 128, 1024 };
    uint64_t rng = 3;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int n = sizes[si], nb = n / 2 + 1;
        struct eg_istft st;
        void *mem = malloc(eg_istft_get_size(n));
        float *x = malloc(sizeof(float) * n), *scratch = malloc(sizeof(float) * n);
        float *re = th_guarded_alloc((size_t)nb), *im = th_guarded_alloc((size_t)nb);
        float *rr = malloc(sizeof(float) * nb), *ri = malloc(sizeof(float) * nb);
        REQUIRE(eg_istft_init(&st, mem, n, n / 4) == EG_OK, "init n=%d", n);
        for (int i = 0; i < n; i++) x[i] = th_rand_uniform(&rng, -1, 1);
        for (int k = 0; k < nb; k++) {   /* torch.fft.rfft(x * hann_periodic) */
            double ar = 0, ai = 0;
            for (int t = 0; t < n; t++) {
                const double w = 0.5 - 0.5 * cos(2.0 * M_PI * t / n), ph = -2.0 * M_PI * (double)k * t / n;
                ar += x[t] * w * cos(ph); ai += x[t] * w * sin(ph);
            }
            rr[k] = (float)ar; ri[k] = (float)ai;
        }
        eg_rfft_frame(&st, re, im, x, scratch);
        const double er = nmse(rr, re, (size_t)nb), ei = nmse(ri, im, (size_t)nb);
        CHECK(er < 1e-11 && ei < 1e-11, "n_fft %d: nmse re %.3g im %.3g", n, er, ei);
        CHECK(th_guard_ok(re, (size_t)nb) && th_guard_ok(im, (size_t)nb), "n_fft %d: guard overwritten", n);
        free(mem); free(x); free(scratch); free(rr); free(ri); th_guarded_free(re); th_guarded_free(im);
    }
}

/* ---- golden parity ------------------------------------------------------------------------------------------ */

/* min_snr: waveform SNR vs torch with the same weights; min_mag: magnitude-spectrogram SNR. */
static void golden_case(struct th_state *th_, const char *tag, const char *dtype, double min_snr, double min_mag) {
    char name[96];
    int n = 0, n_ph = 0;
    size_t n_ref = 0, n_ref32 = 0;
    const char *dir = golden_dir();
    int32_t *tok = int_file(dir, "voice_tokens.txt", &n), *ph = int_file(dir, "voice_phones.txt", &n_ph);
    snprintf(name, sizeof name, "voice_ref_%s_%s.f32", tag, dtype);
    float *ref = read_f32(dir, name, &n_ref);
    snprintf(name, sizeof name, "voice_ref_%s_f32.f32", tag);
    float *ref32 = read_f32(dir, name, &n_ref32);
    snprintf(name, sizeof name, "voice_tiny_%s_%s.gguf", tag, dtype);
    struct eg_codec_model *m = load_voice(dir, name);
    if (!tok || !ph || !ref || !ref32 || !m) {
        free(tok); free(ph); free(ref); free(ref32); eg_codec_model_destroy(m);
        SKIP("golden files missing in %s (tests/gen_voice_golden.py)", dir);
    }
    REQUIRE(m->cfg.voice && m->cfg.harmonic == !!strcmp(tag, "nohn") && m->cfg.noise_white == !strcmp(tag, "nz"),
            "%s: voice %d harmonic %d noise_white %d", name, m->cfg.voice, m->cfg.harmonic, m->cfg.noise_white);
    REQUIRE(n_ph == n && n_ref == (size_t)n * m->cfg.hop && n_ref32 == n_ref, "reference length %zu, tokens %d", n_ref, n);
    float *pcm = decode_ph(m, tok, ph, n, 1, 16);
    REQUIRE(pcm, "decode failed");
    const double s = snr_db(ref, pcm, n_ref), s32 = snr_db(ref32, pcm, n_ref);
    const double ms = mag_snr_db(ref, pcm, n_ref, (int)m->cfg.n_fft, (int)m->cfg.hop);
    printf("     %s %s: SNR vs torch(same weights) %.1f dB (magnitude spectrogram %.1f dB), vs torch(f32) %.1f dB\n",
           tag, dtype, s, ms, s32);
    CHECK(s >= min_snr, "%s %s: SNR %.1f dB < %.0f", tag, dtype, s, min_snr);
    CHECK(ms >= min_mag, "%s %s: magnitude-spectrogram SNR %.1f dB < %.0f", tag, dtype, ms, min_mag);
    free(pcm); free(tok); free(ph); free(ref); free(ref32); eg_codec_model_destroy(m);
}

TEST(voice_golden_hn_f32) { golden_case(th_, "hn", "f32", 40.0, 40.0); }
TEST(voice_golden_nz_f32) { golden_case(th_, "nz", "f32", 40.0, 40.0); }
TEST(voice_golden_nz_f16) { golden_case(th_, "nz", "f16", 40.0, 40.0); }
TEST(voice_golden_nz_q8_0) { golden_case(th_, "nz", "q8_0", 40.0, 40.0); }

/* The white noise of noise_white files is a pure function of the sample index: C == torch bit for bit, at the
 * start of a stream and past 2^40 samples (voice_model.white_noise; no float maths but one exact product). */
TEST(voice_white_noise_bitwise) {
    size_t n = 0;
    float *ref = read_f32(golden_dir(), "voice_noise.f32", &n);
    if (!ref) SKIP("golden files missing in %s (tests/gen_voice_golden.py)", golden_dir());
    REQUIRE(n == 4096 + 64, "voice_noise.f32: %zu values, expected 4160", n);
    int bad = 0;
    double s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        const int64_t pos = i < 4096 ? (int64_t)i : ((int64_t)1 << 40) - 7 + (int64_t)(i - 4096);
        const float v = eg_voice_noise(pos);
        if (memcmp(&v, &ref[i], 4) != 0 && bad++ < 3) printf("     sample %lld: C %.9g torch %.9g\n", (long long)pos, v, ref[i]);
        s1 += v; s2 += (double)v * v;
    }
    CHECK(bad == 0, "%d of %zu noise samples differ from torch", bad, n);
    /* and it is noise: zero mean, unit variance (4160 samples: |mean| < 0.05, |var - 1| < 0.08 at > 4 sigma) */
    CHECK(fabs(s1 / n) < 0.05 && fabs(s2 / n - 1.0) < 0.08, "noise mean %.3f variance %.3f", s1 / n, s2 / n);
    free(ref);
}
TEST(voice_golden_hn_f16) { golden_case(th_, "hn", "f16", 40.0, 40.0); }
TEST(voice_golden_hn_q8_0) { golden_case(th_, "hn", "q8_0", 40.0, 40.0); }
TEST(voice_golden_nohn_f32) { golden_case(th_, "nohn", "f32", 60.0, 60.0); }
TEST(voice_golden_nohn_f16) { golden_case(th_, "nohn", "f16", 60.0, 60.0); }
TEST(voice_golden_nohn_q8_0) { golden_case(th_, "nohn", "q8_0", 60.0, 60.0); }

/* The harmonic path is really taken: the ablation-style decode of the harmonic file (source off) misses it. */
TEST(voice_harmonic_source_matters) {
    int n = 0, n_ph = 0;
    size_t n_ref = 0;
    const char *dir = golden_dir();
    int32_t *tok = int_file(dir, "voice_tokens.txt", &n), *ph = int_file(dir, "voice_phones.txt", &n_ph);
    float *ref = read_f32(dir, "voice_ref_hn_f32.f32", &n_ref);
    struct eg_codec_model *m = load_voice(dir, "voice_tiny_hn_f32.gguf");
    if (!tok || !ph || !ref || !m) {
        free(tok); free(ph); free(ref); eg_codec_model_destroy(m);
        SKIP("golden files missing in %s (tests/gen_voice_golden.py)", dir);
    }
    m->cfg.harmonic = 0;   /* the same network without the source (the decoder reads the flag at create) */
    float *pcm = decode_ph(m, tok, ph, n, 1, 16);
    REQUIRE(pcm, "decode failed");
    const double s = snr_db(ref, pcm, n_ref);
    printf("     without the harmonic source: %.1f dB SNR vs torch\n", s);
    CHECK(s < 10.0, "the harmonic source changes the output by less than expected (%.1f dB)", s);
    free(pcm); free(tok); free(ph); free(ref); eg_codec_model_destroy(m);
}

/* ---- streaming and threads --------------------------------------------------------------------------------- */

static void stream_case(struct th_state *th_, const char *file) {
    int n = 0, n_ph = 0;
    const char *dir = golden_dir();
    int32_t *tok = int_file(dir, "voice_tokens.txt", &n), *ph = int_file(dir, "voice_phones.txt", &n_ph);
    struct eg_codec_model *m = load_voice(dir, file);
    if (!tok || !ph || !m) { free(tok); free(ph); eg_codec_model_destroy(m); SKIP("golden files missing"); }
    const size_t n_pcm = (size_t)n * m->cfg.hop;
    float *whole = decode_ph(m, tok, ph, n, 1, n + 100);
    REQUIRE(whole, "whole decode");
    const int chunks[] = { 1, 2, 3, 5, 7, 16, n + 10, 16 };
    const int firsts[] = { 0, 0, 0, 0, 0, 0, 0, 3 };
    const int pushes[] = { 1, 4, 13, n };
    struct eg_exec ex;
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK, "exec");
    int n_cases = 0, n_exact = 0;
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        struct eg_decoder_params p = { .chunk_frames = chunks[ci], .first_chunk_frames = firsts[ci] };
        struct eg_decoder *d;
        REQUIRE(eg_decoder_create(m, &ex, &p, &d) == EG_OK, "create chunk %d", chunks[ci]);
        for (size_t pi = 0; pi < sizeof pushes / sizeof pushes[0]; pi++) {
            struct stream_out c;
            const enum eg_status st = decode_streamed(d, tok, ph, n, pushes[pi], n_pcm, &c);
            CHECK(st == EG_OK, "chunk %d push %d: %s", chunks[ci], pushes[pi], eg_status_str(st));
            CHECK(c.n == n_pcm, "chunk %d push %d: %zu samples, expected %zu", chunks[ci], pushes[pi], c.n, n_pcm);
            const int exact = c.n == n_pcm && !memcmp(whole, c.pcm, sizeof(float) * n_pcm);
            n_exact += exact;
            if (c.n == n_pcm)
                CHECK(exact, "%s chunk %d push %d: streamed != whole (%.1f dB)",
                      file, chunks[ci], pushes[pi], snr_db(whole, c.pcm, n_pcm));
            if (chunks[ci] <= 7 && pushes[pi] == 1) CHECK(c.calls > 2, "chunk %d: only %d sink calls", chunks[ci], c.calls);
            n_cases++;
            free(c.pcm);
        }
        eg_decoder_destroy(d);
    }
    printf("     %s: %d of %d chunk/push combinations bit-identical to the whole-utterance decode\n", file, n_exact,
           n_cases);
    for (int th = 2; th <= 3; th++) {
        float *pt = decode_ph(m, tok, ph, n, th, 5);
        REQUIRE(pt, "decode %d threads", th);
        CHECK(!memcmp(whole, pt, sizeof(float) * n_pcm), "%s: %d threads differ from 1", file, th);
        free(pt);
    }
    eg_exec_free(&ex);
    free(whole); free(tok); free(ph); eg_codec_model_destroy(m);
}

TEST(voice_stream_matches_whole_hn) { stream_case(th_, "voice_tiny_hn_f32.gguf"); }
TEST(voice_stream_matches_whole_hn_q8_0) { stream_case(th_, "voice_tiny_hn_q8_0.gguf"); }
TEST(voice_stream_matches_whole_nohn) { stream_case(th_, "voice_tiny_nohn_f32.gguf"); }
TEST(voice_stream_matches_whole_nz) { stream_case(th_, "voice_tiny_nz_f32.gguf"); }

/* ---- bad metadata ------------------------------------------------------------------------------------------- */

static char last_log[512];
static int n_log;
static void capture_log(enum eg_log_level level, const char *msg, void *user) {
    (void)level; (void)user;
    snprintf(last_log, sizeof last_log, "%s", msg);
    n_log++;
}

/* Patch the golden file: `what` = 'v' value (u32 or f32 bits at the value), 't' the type tag, 'k' the key's last
 * byte (the key disappears), then load. */
static enum eg_status load_patched(const uint8_t *file, size_t n, const char *key, char what, uint32_t value) {
    uint8_t *buf = aligned_alloc(64, (n + 63) & ~(size_t)63);
    const size_t kl = strlen(key);
    struct eg_gguf *g = NULL;
    struct eg_codec_model *m = NULL;
    enum eg_status st = EG_ERR_INTERNAL;
    memcpy(buf, file, n);
    last_log[0] = 0; n_log = 0;
    for (size_t i = 8; i + kl + 8 < n; i++) {
        uint64_t len;
        memcpy(&len, buf + i - 8, 8);
        if (len != kl || memcmp(buf + i, key, kl) != 0) continue;
        if (what == 'v') memcpy(buf + i + kl + 4, &value, strstr(key, "harmonic") || strstr(key, "noise_white") ? 1 : 4);   /* bool: 1 byte */
        else if (what == 't') memcpy(buf + i + kl, &value, 4);
        else buf[i + kl - 1] = 'X';
        eg_log_set(capture_log, NULL);
        if ((st = eg_gguf_parse(buf, n, "patched", &g)) == EG_OK) {
            st = eg_codec_model_from_gguf(g, &m);
            eg_codec_model_destroy(m);
            eg_gguf_close(g);
        }
        eg_log_set(NULL, NULL);
        break;
    }
    free(buf);
    return st;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

TEST(voice_bad_metadata) {
    size_t n;
    uint8_t *file = golden_read("voice_tiny_hn_f32.gguf", &n);
    if (!file) SKIP("golden files missing");
    static const struct { const char *key; char what; uint32_t value; const char *why; enum eg_status want; } cases[] = {
        { "edgegen.voice.n_env", 'v', 9, "unpatched", EG_OK },
        { "edgegen.voice.n_env", 'v', 10, "n_env/env_head mismatch", EG_ERR_FORMAT },
        { "edgegen.voice.n_env", 'v', 1, "n_env 1", EG_ERR_FORMAT },
        { "edgegen.voice.harmonic", 'v', 0, "envelope head with harmonic false", EG_ERR_FORMAT },
        { "edgegen.voice.hop_length", 'v', 65, "hop > n_fft/2", EG_ERR_FORMAT },
        { "edgegen.voice.n_fft", 'v', 96, "n_fft 96", EG_ERR_FORMAT },
        { "edgegen.voice.n_layers", 'v', 3, "a missing block", EG_ERR_FORMAT },
        { "edgegen.voice.f0_min", 'v', 0, "f0_min 0", EG_ERR_FORMAT },
        { "edgegen.voice.f0_max", 'v', 0x3f800000u, "f0_max < f0_min", EG_ERR_FORMAT },
        { "edgegen.voice.harm_f_max", 'v', 0x46000000u, "harm_f_max above Nyquist", EG_ERR_FORMAT },
        { "edgegen.voice.vuv_threshold", 'v', 0x3f800000u, "vuv_threshold 1", EG_ERR_FORMAT },
        { "edgegen.voice.env_clamp", 'v', 0x7fc00000u, "env_clamp NaN", EG_ERR_FORMAT },
        { "edgegen.voice.f0_center", 't', 4, "f0_center typed u32", EG_ERR_FORMAT },
        { "edgegen.voice.harmonic", 't', 0, "harmonic typed u8", EG_ERR_FORMAT },
        { "edgegen.voice.f0_center", 'k', 0, "f0_center missing", EG_ERR_FORMAT },
        { "edgegen.voice.vuv_threshold", 'k', 0, "vuv_threshold missing", EG_ERR_FORMAT },
        { "edgegen.voice.n_env", 'k', 0, "n_env missing", EG_ERR_FORMAT },
    };
    (void)f32_bits;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const enum eg_status st = load_patched(file, n, cases[i].key, cases[i].what, cases[i].value);
        CHECK(st == cases[i].want, "%s: status %s, expected %s", cases[i].why, eg_status_str(st),
              eg_status_str(cases[i].want));
        if (cases[i].want != EG_OK) {
            /* one line, naming the key (or, for a shape mismatch, the tensor of the key's size) */
            const char *k = cases[i].key + strlen("edgegen.voice.");
            CHECK(n_log == 1, "%s: %d log lines", cases[i].why, n_log);
            CHECK(strstr(last_log, k) || strstr(last_log, "dec."), "%s: log line does not name %s: %s", cases[i].why,
                  k, last_log);
            if (i < 3) printf("     %s: %s\n", cases[i].why, last_log);
        }
    }
    free(file);
}

/* noise_white files: the key off leaves a file without dec.head (refused, naming it); harmonic off with the white
 * noise on is refused naming the key; the key missing reads as false (dec.head missing again). */
TEST(voice_bad_metadata_noise_white) {
    size_t n;
    uint8_t *file = golden_read("voice_tiny_nz_f32.gguf", &n);
    if (!file) SKIP("golden files missing");
    static const struct { const char *key; char what; uint32_t value; const char *why; const char *names; } cases[] = {
        { "edgegen.voice.noise_white", 'v', 1, "unpatched", NULL },
        { "edgegen.voice.noise_white", 'v', 0, "noise_white false", "dec.head" },
        { "edgegen.voice.harmonic", 'v', 0, "harmonic false with noise_white", "noise_white" },
        { "edgegen.voice.noise_white", 'k', 0, "noise_white missing", "dec.head" },
        { "edgegen.voice.noise_white", 't', 0, "noise_white typed u8", "noise_white" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const enum eg_status st = load_patched(file, n, cases[i].key, cases[i].what, cases[i].value);
        if (!cases[i].names) { CHECK(st == EG_OK, "%s: %s", cases[i].why, eg_status_str(st)); continue; }
        CHECK(st == EG_ERR_FORMAT, "%s: status %s, expected a format error", cases[i].why, eg_status_str(st));
        CHECK(n_log == 1 && strstr(last_log, cases[i].names), "%s: %d log lines, last does not name %s: %s",
              cases[i].why, n_log, cases[i].names, last_log);
        printf("     %s: %s\n", cases[i].why, last_log);
    }
    free(file);
}

/* An edgegen.codec reader path is unchanged: the codec golden file still loads as a non-voice codec. */
TEST(voice_codec_file_unchanged) {
    char path[512];
    struct eg_codec_model *m = NULL;
    snprintf(path, sizeof path, "%s/decoder_tiny_f32.gguf", golden_dir());
    if (eg_codec_model_load(path, &m) != EG_OK) SKIP("golden files missing");
    CHECK(!m->cfg.voice && !m->cfg.harmonic && m->w.pitch_head.n_out == 0, "codec file read as voice");
    eg_codec_model_destroy(m);
}

/* ---- the trained export (build/voice: `make voice-parity`) -------------------------------------------------- */

TEST(voice_trained_export) {
    const char *dir = getenv("EG_VOICE_PARITY_DIR");
    if (!dir || !*dir) dir = "build/voice";
    static const char *const dtypes[] = { "f32", "f16", "q8_0" };
    int n_done = 0;
    for (int u = 0; u < 8; u++) {
        char name[128];
        int n = 0, n_ph = 0;
        snprintf(name, sizeof name, "trained_tokens_%d.txt", u);
        int32_t *tok = int_file(dir, name, &n);
        snprintf(name, sizeof name, "trained_phones_%d.txt", u);
        int32_t *ph = int_file(dir, name, &n_ph);
        if (!tok || !ph) { free(tok); free(ph); break; }
        float *ref32 = NULL;
        size_t n32 = 0;
        for (int di = 0; di < 3; di++) {
            size_t n_ref = 0;
            snprintf(name, sizeof name, "trained_ref_%d_%s.f32", u, dtypes[di]);
            float *ref = read_f32(dir, name, &n_ref);
            snprintf(name, sizeof name, "voice-trained-%s.gguf", dtypes[di]);
            struct eg_codec_model *m = load_voice(dir, name);
            if (!m || !ref) { free(ref); eg_codec_model_destroy(m); continue; }
            if (di == 0) { ref32 = ref; n32 = n_ref; }
            REQUIRE(n_ph == n && n_ref == (size_t)n * m->cfg.hop, "utterance %d: lengths", u);
            float *pcm = decode_ph(m, tok, ph, n, 1, 64);
            REQUIRE(pcm, "decode");
            /* vs torch with the same (dequantised) weights: the runtime; vs torch f32: what the dtype costs */
            const double s = snr_db(ref, pcm, n_ref);
            const double s32 = ref32 && n32 == n_ref ? snr_db(ref32, pcm, n_ref) : NAN;
            const double m32 = ref32 && n32 == n_ref ? mag_snr_db(ref32, pcm, n_ref, (int)m->cfg.n_fft, (int)m->cfg.hop) : NAN;
            printf("     trained %s, utterance %d (%d frames, %.1f s): SNR vs torch(same weights) %.1f dB; vs torch(f32) "
                   "%.1f dB, magnitude spectrogram %.1f dB\n", dtypes[di], u, n, (double)n_ref / m->cfg.sample_rate_hz,
                   s, s32, m32);
            CHECK(s >= 40.0, "trained %s utterance %d: %.1f dB < 40", dtypes[di], u, s);
            free(pcm);
            if (ref != ref32) free(ref);
            eg_codec_model_destroy(m);
            n_done++;
        }
        free(ref32); free(tok); free(ph);
    }
    if (!n_done) SKIP("no trained export in %s (make voice-parity VOICE_WEIGHTS=...)", dir);
}

/* ---- the TTS pipeline with a voice decoder (the AR of tests/gen_tts_golden.py + voice_tiny_tts) ------------- */

struct rec { float *f; int64_t n, cap; };
static enum eg_status rec_fn(void *user, const void *samples, int n) {
    struct rec *r = user;
    if (r->n + n > r->cap) {
        int64_t cap = (r->n + n) * 2;
        float *f = realloc(r->f, sizeof(float) * (size_t)cap);
        if (!f) return EG_ERR_NOMEM;
        r->f = f; r->cap = cap;
    }
    memcpy(r->f + r->n, samples, sizeof(float) * (size_t)n);
    r->n += n;
    return EG_OK;
}

TEST(voice_tts_pipeline) {
    static const char *const ar = "tests/golden/tts_tiny_ar-f32.gguf";
    char vpath[512], bad[512];
    enum eg_status st;
    snprintf(vpath, sizeof vpath, "%s/voice_tiny_tts-f32.gguf", golden_dir());
    snprintf(bad, sizeof bad, "%s/voice_tiny_hn_f32.gguf", golden_dir());
    struct eg_model *m = eg_model_load(ar, vpath, &st);
    if (!m) SKIP("tts_tiny_ar + voice_tiny_tts not loadable (%s): golden files missing?", eg_status_str(st));
    CHECK(eg_model_sample_rate(m) == 8000, "sample rate %d, expected the voice file's 8000", eg_model_sample_rate(m));
    CHECK(eg_model_frame_samples(m) == 45, "frame samples %d, expected 45", eg_model_frame_samples(m));
    int pad, bos, eos, k = 0;
    int32_t ids[64];
    eg_model_special_ids(m, &pad, &bos, &eos);
    ids[k++] = bos; ids[k++] = pad;
    for (const char *p = "helowrd"; *p; p++) {
        const int id = eg_model_phoneme_id(m, (uint32_t)*p);
        REQUIRE(id >= 0, "phoneme %c", *p);
        ids[k++] = id; ids[k++] = pad;
    }
    ids[k++] = eos;
    struct rec r1 = { 0 }, r64 = { 0 };
    for (int pass = 0; pass < 2; pass++) {
        struct eg_ctx_params p = eg_ctx_default_params();
        p.device = EG_DEVICE_CPU; p.temperature = 0; p.format = EG_SAMPLE_F32;
        p.chunk_frames = pass ? 64 : 1;
        p.on_audio = rec_fn; p.on_audio_user = pass ? &r64 : &r1;
        struct eg_ctx *ctx = eg_ctx_create(m, &p, &st);
        REQUIRE(ctx, "ctx: %s", eg_status_str(st));
        CHECK(eg_ctx_synthesize_ids(ctx, ids, k) == EG_OK, "synthesize (chunk %d)", p.chunk_frames);
        eg_ctx_destroy(ctx);
    }
    double e = 0;
    for (int64_t i = 0; i < r1.n; i++) e += (double)r1.f[i] * r1.f[i];
    CHECK(r1.n > 45 * 10 && r1.n % 45 == 0 && e > 0 && isfinite(e), "%lld samples, energy %g", (long long)r1.n, e);
    CHECK(r1.n == r64.n && !memcmp(r1.f, r64.f, sizeof(float) * (size_t)r1.n), "windows of 1 and 64 frames differ");
    free(r1.f); free(r64.f);
    eg_model_free(m);
    /* a voice decoder whose phoneme inventory is not the AR's is refused */
    QUIET();
    struct eg_model *m2 = eg_model_load(ar, bad, &st);
    LOUD();
    CHECK(!m2 && st == EG_ERR_FORMAT, "AR + a voice file with another inventory: %s", eg_status_str(st));
    eg_model_free(m2);
}

/* 0..4 frames: the stream ends before any look-ahead exists; every window size gives the same samples. */
TEST(voice_short_and_empty) {
    struct eg_codec_model *m = load_voice(golden_dir(), "voice_tiny_hn_f32.gguf");
    if (!m) SKIP("golden files missing");
    const int32_t tok[4] = { 5, 1000, 4374, 77 }, ph[4] = { 1, 1, 3, 11 };
    for (int n = 0; n <= 4; n++) {
        float *whole = decode_ph(m, tok, ph, n, 1, 64), *one = decode_ph(m, tok, ph, n, 2, 1);
        REQUIRE(whole && one, "decode %d frames", n);
        CHECK(!memcmp(whole, one, sizeof(float) * (size_t)n * m->cfg.hop), "%d frames: windows of 1 and 64 differ", n);
        int finite = 1;
        for (size_t i = 0; i < (size_t)n * m->cfg.hop; i++) finite &= isfinite(whole[i]) != 0;
        CHECK(finite, "%d frames: non-finite output", n);
        free(whole); free(one);
    }
    eg_codec_model_destroy(m);
}

/* The OpenCL stage declines a voice network before touching any device, with the reason; strict mode fails. */
TEST(voice_opencl_stage_declines) {
    struct eg_codec_model *m = load_voice(golden_dir(), "voice_tiny_hn_q8_0.gguf");
    if (!m) SKIP("golden files missing");
    struct eg_exec ex;
    enum eg_status st = EG_ERR_INTERNAL;
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK, "exec");
    QUIET();
    struct eg_spectral *s = eg_spectral_create(m, &ex, 16, EG_BACKEND_AUTO, &st);
    LOUD();
    REQUIRE(s && st == EG_OK, "auto placement: %s", eg_status_str(st));
    CHECK(!eg_spectral_on_device(s), "a voice network placed on a device");
    CHECK(strstr(eg_spectral_reason(s), "edgegen.voice") != NULL, "reason: %s", eg_spectral_reason(s));
    printf("     auto: %s\n", eg_spectral_reason(s));
    eg_spectral_destroy(s);
    QUIET();
    s = eg_spectral_create(m, &ex, 16, EG_BACKEND_OPENCL, &st);
    LOUD();
    CHECK(!s && st == EG_ERR_UNSUPPORTED, "strict OpenCL placement of a voice network: %s", eg_status_str(st));
    eg_spectral_destroy(s);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
}
