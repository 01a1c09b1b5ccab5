/* tests/test_decoder.c — the NAR codec decoder against PyTorch (tests/gen_decoder_golden.py → tests/golden/):
 *   - inverse real FFT + window against a naive double-precision DFT, sizes 4 .. 1024; bad sizes rejected;
 *   - golden parity by SNR: C(f32) vs torch(f32) >= 60 dB; C(f16|q8_0) vs torch with the same dequantised
 *     matrices >= 60 dB, and vs torch(f32) reported (quantisation error, >= 25 dB);
 *   - 1/2/3 threads bit-identical; streaming (chunks 1, 3, 7, 16, > utterance, odd push sizes) vs whole;
 *   - bad tokens and bad metadata (patched golden files) rejected with a status, never a crash;
 *   - the phoneme-conditioned decoder (decoder_tiny_ph_*): parity with the frame phoneme ids, the ids matter,
 *     streaming == whole, missing / out-of-range ids and inconsistent phoneme metadata rejected.
 * Golden files are read from $EG_GOLDEN_DIR or tests/golden (tests run from the repository root).
 */
#include <stdlib.h>
#include <string.h>
#include "models/decoder.h"
#include "tests/decoder_run.h"
#include "tests/golden.h"
#include "tests/harness.h"
#include "runtime/core/internal.h"
#include "models/istft.h"



static float *read_ref(const char *dtype, size_t *n) {
    char name[64];
    snprintf(name, sizeof name, "decoder_ref_%s.f32", dtype);   /* dtype may be "ph_f32" etc. */
    size_t nb;
    float *r = golden_read(name, &nb);
    *n = nb / sizeof(float);
    return r;
}

static struct eg_codec_model *load_tiny(const char *dtype) {
    char path[512];
    struct eg_codec_model *m = NULL;
    snprintf(path, sizeof path, "%s/decoder_tiny_%s.gguf", golden_dir(), dtype);
    if (eg_codec_model_load(path, &m) != EG_OK) return NULL;
    return m;
}


static float *decode(const struct eg_codec_model *m, const int32_t *tok, int n, int threads, int chunk) {
    return decode_ph(m, tok, NULL, n, threads, chunk);
}

/* ---- iFFT ------------------------------------------------------------------------------------------------- */

TEST(decoder_istft_frame_vs_naive_dft) {
    static const int sizes[] = { 4, 8, 16, 128, 256, 1024 };
    uint64_t rng = 7;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int n = sizes[si], nb = n / 2 + 1;
        struct eg_istft st;
        void *mem = malloc(eg_istft_get_size(n));
        float *re = malloc(sizeof(float) * nb), *im = malloc(sizeof(float) * nb);
        float *scratch = malloc(sizeof(float) * (size_t)n);   /* >= eg_istft_scratch_floats */
        float *out = th_guarded_alloc((size_t)n), *ref = malloc(sizeof(float) * n);
        REQUIRE(eg_istft_init(&st, mem, n, n / 4) == EG_OK, "init n=%d", n);
        for (int k = 0; k < nb; k++) { re[k] = th_rand_uniform(&rng, -2, 2); im[k] = th_rand_uniform(&rng, -2, 2); }
        /* torch.fft.irfft: Hermitian extension, imaginary parts of DC and Nyquist ignored */
        for (int t = 0; t < n; t++) {
            double acc = re[0] + re[n / 2] * ((t & 1) ? -1.0 : 1.0);
            for (int k = 1; k < n / 2; k++) {
                double ph = 2.0 * M_PI * (double)k * t / n;
                acc += 2.0 * (re[k] * cos(ph) - im[k] * sin(ph));
            }
            double w = 0.5 - 0.5 * cos(2.0 * M_PI * t / n);
            ref[t] = (float)(acc / n * w);
        }
        REQUIRE(eg_istft_scratch_floats(&st) <= (size_t)n, "scratch size");
        eg_istft_frame(&st, out, re, im, scratch);
        double e = nmse(ref, out, (size_t)n);
        CHECK(e < 1e-11, "n_fft %d: nmse %.3g", n, e);
        CHECK(th_guard_ok(out, (size_t)n), "n_fft %d: guard overwritten", n);
        free(mem); free(re); free(im); free(scratch); free(ref); th_guarded_free(out);
    }
}

TEST(decoder_istft_rejects_bad_sizes) {
    struct eg_istft st;
    static float mem[4096];
    QUIET();
    CHECK(eg_istft_get_size(100) == 0, "n_fft 100 accepted");
    CHECK(eg_istft_init(&st, mem, 100, 25) == EG_ERR_INVALID_ARG, "n_fft 100");
    CHECK(eg_istft_init(&st, mem, 2, 1) == EG_ERR_INVALID_ARG, "n_fft 2");
    CHECK(eg_istft_init(&st, mem, 64, 33) == EG_ERR_INVALID_ARG, "hop > n_fft/2");
    CHECK(eg_istft_init(&st, mem, 64, 0) == EG_ERR_INVALID_ARG, "hop 0");
    LOUD();
}

/* ---- golden parity --------------------------------------------------------------------------------------- */

static void golden_case(struct th_state *th_, const char *dtype, double min_snr_same, double min_snr_f32) {
    int n = 0;
    size_t n_ref = 0, n_ref32 = 0;
    int32_t *tok = golden_decoder_tokens(&n);
    float *ref = read_ref(dtype, &n_ref), *ref32 = read_ref("f32", &n_ref32);
    struct eg_codec_model *m = load_tiny(dtype);
    if (!tok || !ref || !ref32 || !m) {
        free(tok); free(ref); free(ref32); eg_codec_model_destroy(m);
        SKIP("golden files missing in %s (python3 tests/gen_decoder_golden.py)", golden_dir());
    }
    REQUIRE(n_ref == (size_t)n * m->cfg.hop && n_ref32 == n_ref, "reference length %zu, tokens %d", n_ref, n);
    float *pcm = decode(m, tok, n, 1, 64);
    REQUIRE(pcm, "decode failed");
    double s = snr_db(ref, pcm, n_ref), s32 = snr_db(ref32, pcm, n_ref);
    printf("     %s: SNR vs torch(same weights) %.1f dB, vs torch(f32) %.1f dB, max|d| %.2g\n", dtype, s, s32,
           max_abs_diff(ref, pcm, n_ref));
    CHECK(s >= min_snr_same, "%s: SNR %.1f dB < %.0f", dtype, s, min_snr_same);
    CHECK(s32 >= min_snr_f32, "%s: SNR vs f32 %.1f dB < %.0f", dtype, s32, min_snr_f32);
    free(pcm); free(tok); free(ref); free(ref32); eg_codec_model_destroy(m);
}

TEST(decoder_golden_f32) { golden_case(th_, "f32", 60.0, 60.0); }
TEST(decoder_golden_f16) { golden_case(th_, "f16", 60.0, 25.0); }
TEST(decoder_golden_q8_0) { golden_case(th_, "q8_0", 60.0, 25.0); }

TEST(decoder_threads_bit_identical) {
    static const char *const dtypes[] = { "f32", "q8_0" };
    int n = 0;
    int32_t *tok = golden_decoder_tokens(&n);
    if (!tok) SKIP("golden tokens missing");
    for (int di = 0; di < 2; di++) {
        struct eg_codec_model *m = load_tiny(dtypes[di]);
        REQUIRE(m, "load %s", dtypes[di]);
        float *p1 = decode(m, tok, n, 1, 64);
        for (int th = 2; th <= 3; th++) {
            float *pt = decode(m, tok, n, th, 64);
            REQUIRE(p1 && pt, "decode");
            CHECK(!memcmp(p1, pt, sizeof(float) * (size_t)n * m->cfg.hop), "%s: %d threads differ from 1", dtypes[di], th);
            free(pt);
        }
        free(p1);
        eg_codec_model_destroy(m);
    }
    free(tok);
}

/* ---- streaming ---------------------------------------------------------------------------------------------- */

TEST(decoder_stream_matches_whole) {
    int n = 0;
    int32_t *tok = golden_decoder_tokens(&n);
    struct eg_codec_model *m = load_tiny("f32");
    if (!tok || !m) { free(tok); eg_codec_model_destroy(m); SKIP("golden files missing"); }
    const size_t n_pcm = (size_t)n * m->cfg.hop;
    float *whole = decode(m, tok, n, 1, n + 100);   /* one window holds the whole utterance */
    REQUIRE(whole, "whole decode");
    const int chunks[] = { 1, 2, 3, 7, 16, n + 10, 16 };
    const int firsts[] = { 0, 0, 0, 0, 0, 0, 3 };   /* the last case: a 3-frame first window, then 16 */
    const int pushes[] = { 1, 5, 13, n };            /* tokens per push call */
    struct eg_exec ex;
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK, "exec");
    int n_exact = 0, n_cases = 0;
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        struct eg_decoder_params p = { .chunk_frames = chunks[ci], .first_chunk_frames = firsts[ci] };
        struct eg_decoder *d;
        REQUIRE(eg_decoder_create(m, &ex, &p, &d) == EG_OK, "create chunk %d", chunks[ci]);
        for (size_t pi = 0; pi < sizeof pushes / sizeof pushes[0]; pi++) {
            struct stream_out c;
            const enum eg_status st = decode_streamed(d, tok, NULL, n, pushes[pi], n_pcm, &c);
            CHECK(st == EG_OK, "chunk %d push %d: %s", chunks[ci], pushes[pi], eg_status_str(st));
            CHECK(c.n == n_pcm, "chunk %d push %d: %zu samples, expected %zu", chunks[ci], pushes[pi], c.n, n_pcm);
            if (c.n == n_pcm) {
                double s = snr_db(whole, c.pcm, n_pcm);
                CHECK(s >= 80.0, "chunk %d push %d: SNR %.1f dB vs whole", chunks[ci], pushes[pi], s);
                n_exact += !memcmp(whole, c.pcm, sizeof(float) * n_pcm);
                n_cases++;
            }
            /* a small chunk must actually stream: output arrives before the flush */
            if (chunks[ci] <= 7 && pushes[pi] == 1) CHECK(c.calls > 2, "chunk %d: only %d sink calls", chunks[ci], c.calls);
            /* the first window is the short one: the first output arrives after first + R frames */
            const int R = (int)(m->cfg.kernel_size / 2) * (1 + (int)m->cfg.n_layers);   /* look-ahead frames */
            if (firsts[ci] && pushes[pi] == 1) CHECK(c.first_at == firsts[ci] + R, "first window %d: first audio after %d tokens, expected %d",
                                                     firsts[ci], c.first_at, firsts[ci] + R);
            free(c.pcm);
        }
        eg_decoder_destroy(d);
    }
    printf("     streaming: %d of %d chunk/push combinations bit-identical to the whole-utterance decode\n", n_exact, n_cases);
    eg_exec_free(&ex);
    free(whole); free(tok); eg_codec_model_destroy(m);
}

TEST(decoder_short_and_empty) {
    struct eg_codec_model *m = load_tiny("f32");
    if (!m) SKIP("golden files missing");
    const int32_t tok[3] = { 5, 1000, 4374 };
    for (int n = 0; n <= 3; n++) {
        float *whole = decode(m, tok, n, 1, 64), *one = decode(m, tok, n, 1, 1);
        REQUIRE(whole && one, "decode %d tokens", n);
        for (size_t i = 0; i < (size_t)n * m->cfg.hop; i++) CHECK(isfinite(whole[i]), "n %d: sample %zu not finite", n, i);
        CHECK(n == 0 || snr_db(whole, one, (size_t)n * m->cfg.hop) >= 80.0, "n %d: chunk 1 differs", n);
        free(whole); free(one);
    }
    eg_codec_model_destroy(m);
}

TEST(decoder_bad_tokens) {
    struct eg_codec_model *m = load_tiny("f32");
    if (!m) SKIP("golden files missing");
    struct eg_exec ex;
    struct eg_decoder *d;
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK && eg_decoder_create(m, &ex, NULL, &d) == EG_OK, "create");
    const int32_t bad1[3] = { 1, -1, 2 }, bad2[2] = { 0, (int32_t)m->cfg.n_codes };
    QUIET();
    CHECK(eg_decoder_push(d, bad1, NULL, 3, NULL, NULL) == EG_ERR_INVALID_ARG, "-1 accepted");
    CHECK(eg_decoder_push(d, bad2, NULL, 2, NULL, NULL) == EG_ERR_INVALID_ARG, "n_codes accepted");
    float pcm[2 * 64];
    CHECK(eg_decoder_run(d, bad2, NULL, 2, pcm) == EG_ERR_INVALID_ARG, "run accepted n_codes");
    LOUD();
    eg_decoder_destroy(d);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
}

/* ---- bad metadata: patch a u32 key's value in the f32 golden file (key string, u32 type tag, value) --------- */

static enum eg_status load_patched(const uint8_t *file, size_t n, const char *key, uint32_t value, int arr_index) {
    uint8_t *buf = aligned_alloc(64, (n + 63) & ~(size_t)63);
    const size_t kl = strlen(key);
    struct eg_gguf *g = NULL;
    struct eg_codec_model *m = NULL;
    enum eg_status st = EG_ERR_INTERNAL;
    memcpy(buf, file, n);
    for (size_t i = 0; i + kl + 8 < n; i++) {
        if (memcmp(buf + i, key, kl) != 0 || buf[i + kl] == '_') continue;   /* fsq_levels vs ... exact key */
        /* after the key: u32 type; scalar → value; array → elem type u32 + count u64 + values */
        size_t off = i + kl + 4;
        if (arr_index >= 0) off += 4 + 8 + 4 * (size_t)arr_index;
        memcpy(buf + off, &value, 4);
        if ((st = eg_gguf_parse(buf, n, "patched", &g)) == EG_OK) {
            st = eg_codec_model_from_gguf(g, &m);
            eg_codec_model_destroy(m);
            eg_gguf_close(g);
        }
        break;
    }
    free(buf);
    return st;
}

TEST(decoder_bad_metadata) {
    size_t n;
    uint8_t *file = golden_read("decoder_tiny_f32.gguf", &n);
    if (!file) SKIP("golden files missing");
    QUIET();
    CHECK(load_patched(file, n, "edgegen.codec.n_layers", 2, -1) == EG_OK, "unpatched value rejected");
    CHECK(load_patched(file, n, "edgegen.codec.n_fft", 96, -1) == EG_ERR_FORMAT, "n_fft 96 accepted");
    CHECK(load_patched(file, n, "edgegen.codec.n_fft", 256, -1) == EG_ERR_FORMAT, "n_fft/head mismatch accepted");
    CHECK(load_patched(file, n, "edgegen.codec.hop_length", 65, -1) == EG_ERR_FORMAT, "hop > n_fft/2 accepted");
    CHECK(load_patched(file, n, "edgegen.codec.kernel_size", 6, -1) == EG_ERR_FORMAT, "even kernel accepted");
    CHECK(load_patched(file, n, "edgegen.codec.n_layers", 3, -1) == EG_ERR_FORMAT, "missing block 2 accepted");
    CHECK(load_patched(file, n, "edgegen.codec.dim", 64, -1) == EG_ERR_FORMAT, "dim mismatch accepted");
    CHECK(load_patched(file, n, "edgegen.codec.latent_dim", 4, -1) == EG_ERR_FORMAT, "latent/levels mismatch accepted");
    CHECK(load_patched(file, n, "edgegen.codec.fsq_levels", 6, 1) == EG_ERR_FORMAT, "even FSQ level accepted");
    CHECK(load_patched(file, n, "edgegen.codec.fsq_levels", 1, 1) == EG_ERR_FORMAT, "FSQ level 1 accepted");
    CHECK(load_patched(file, n, "edgegen.codec.fsq_levels", 99999, 1) == EG_ERR_FORMAT, "2^16 codes accepted");
    LOUD();
    free(file);
}

/* ---- phoneme-conditioned decoder (edgegen.codec.n_phonemes) ---------------------------------------------- */

static void golden_ph_case(struct th_state *th_, const char *dtype, double min_snr) {
    char mname[64], rname[32];
    int n = 0, n_ph = 0;
    size_t n_ref = 0;
    int32_t *tok = golden_decoder_tokens(&n), *ph = golden_int_file("decoder_phones.txt", &n_ph);
    snprintf(rname, sizeof rname, "ph_%s", dtype);
    float *ref = read_ref(rname, &n_ref);
    struct eg_codec_model *m = NULL;
    snprintf(mname, sizeof mname, "%s/decoder_tiny_ph_%s.gguf", golden_dir(), dtype);
    if (!tok || !ph || !ref || eg_codec_model_load(mname, &m) != EG_OK) {
        free(tok); free(ph); free(ref);
        SKIP("golden files missing in %s (python3 tests/gen_decoder_golden.py)", golden_dir());
    }
    REQUIRE(n_ph == n && n_ref == (size_t)n * m->cfg.hop && m->cfg.n_phonemes == 12, "golden shapes");
    CHECK(!strcmp(eg_codec_model_phoneme(m, 3), "p3") && eg_codec_model_phoneme(m, 12) == NULL, "symbols");
    float *pcm = decode_ph(m, tok, ph, n, 1, 64);
    REQUIRE(pcm, "decode");
    const double s = snr_db(ref, pcm, n_ref);
    printf("     ph %s: SNR vs torch %.1f dB\n", dtype, s);
    CHECK(s >= min_snr, "ph %s: SNR %.1f dB < %.0f", dtype, s, min_snr);
    /* the ids must matter: every id shifted by one gives clearly different audio */
    int32_t *ph2 = malloc(sizeof *ph2 * (size_t)n);
    for (int i = 0; i < n; i++) ph2[i] = (ph[i] + 1) % 12;
    float *pcm2 = decode_ph(m, tok, ph2, n, 1, 64);
    REQUIRE(pcm2, "decode shifted");
    CHECK(snr_db(ref, pcm2, n_ref) < 20.0, "ph %s: other phoneme ids barely change the audio (%.1f dB)", dtype,
          snr_db(ref, pcm2, n_ref));
    /* threads and streaming windows do not change a bit */
    float *pcm3 = decode_ph(m, tok, ph, n, 3, 5);
    REQUIRE(pcm3, "decode 3 threads chunk 5");
    CHECK(!memcmp(pcm, pcm3, sizeof(float) * n_ref), "ph %s: 3 threads / chunk 5 differ from 1 thread / chunk 64", dtype);
    free(pcm); free(pcm2); free(pcm3); free(ph2); free(tok); free(ph); free(ref);
    eg_codec_model_destroy(m);
}

TEST(decoder_phoneme_golden_f32) { golden_ph_case(th_, "f32", 60.0); }
TEST(decoder_phoneme_golden_q8_0) { golden_ph_case(th_, "q8_0", 60.0); }

TEST(decoder_phoneme_stream_and_errors) {
    char path[512];
    int n = 0, n_ph = 0;
    int32_t *tok = golden_decoder_tokens(&n), *ph = golden_int_file("decoder_phones.txt", &n_ph);
    struct eg_codec_model *m = NULL;
    snprintf(path, sizeof path, "%s/decoder_tiny_ph_f32.gguf", golden_dir());
    if (!tok || !ph || eg_codec_model_load(path, &m) != EG_OK) { free(tok); free(ph); SKIP("golden files missing"); }
    const size_t n_pcm = (size_t)n * m->cfg.hop;
    float *whole = decode_ph(m, tok, ph, n, 1, n + 10);
    REQUIRE(whole, "whole");
    struct eg_exec ex;
    struct eg_decoder *d;
    struct eg_decoder_params p = { .chunk_frames = 4, .first_chunk_frames = 2 };
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK && eg_decoder_create(m, &ex, &p, &d) == EG_OK, "create");
    struct stream_out c;
    const enum eg_status st = decode_streamed(d, tok, ph, n, 3, n_pcm, &c);
    CHECK(st == EG_OK && c.n == n_pcm && !memcmp(c.pcm, whole, sizeof(float) * n_pcm), "streamed != whole");
    CHECK(c.calls > 2, "did not stream (%d calls)", c.calls);
    /* missing / out-of-range ids: refused before anything is consumed */
    const int32_t t2[2] = { 1, 2 }, bad_lo[2] = { 0, -1 }, bad_hi[2] = { 11, 12 };
    float pcm[2 * 64];
    QUIET();
    CHECK(eg_decoder_push(d, t2, NULL, 2, NULL, NULL) == EG_ERR_INVALID_ARG, "NULL phonemes accepted");
    CHECK(eg_decoder_push(d, t2, bad_lo, 2, NULL, NULL) == EG_ERR_INVALID_ARG, "phoneme -1 accepted");
    CHECK(eg_decoder_push(d, t2, bad_hi, 2, NULL, NULL) == EG_ERR_INVALID_ARG, "phoneme n_phonemes accepted");
    CHECK(eg_decoder_run(d, t2, NULL, 2, pcm) == EG_ERR_INVALID_ARG, "run without phonemes accepted");
    LOUD();
    eg_decoder_destroy(d);
    eg_exec_free(&ex);
    /* a plain decoder ignores phoneme ids, even out-of-range ones */
    struct eg_codec_model *plain = load_tiny("f32");
    REQUIRE(plain, "plain");
    float *a = decode_ph(plain, tok, NULL, n, 1, 64), *b = decode_ph(plain, tok, bad_hi, 2, 1, 64);
    CHECK(a && b, "plain decoder with phoneme ids");
    free(a); free(b);
    eg_codec_model_destroy(plain);
    free(c.pcm); free(whole); free(tok); free(ph);
    eg_codec_model_destroy(m);
}

TEST(decoder_phoneme_bad_metadata) {
    size_t n;
    uint8_t *file = golden_read("decoder_tiny_ph_f32.gguf", &n);
    if (!file) SKIP("golden files missing");
    QUIET();
    CHECK(load_patched(file, n, "edgegen.codec.n_phonemes", 12, -1) == EG_OK, "unpatched value rejected");
    CHECK(load_patched(file, n, "edgegen.codec.n_phonemes", 13, -1) == EG_ERR_FORMAT, "13 ids, 12 symbols accepted");
    CHECK(load_patched(file, n, "edgegen.codec.n_phonemes", 0, -1) == EG_ERR_FORMAT, "n_phonemes 0 accepted");
    LOUD();
    /* the key renamed away (same length) while the embedding tensor stays: refused, not silently unconditioned */
    uint8_t *buf = aligned_alloc(64, (n + 63) & ~(size_t)63);
    memcpy(buf, file, n);
    int renamed = 0;
    for (size_t i = 0; i + 24 < n; i++)
        if (!memcmp(buf + i, "edgegen.codec.n_phonemes", 24)) { buf[i + 14] = 'x'; renamed = 1; break; }
    REQUIRE(renamed, "key not found");
    struct eg_gguf *g = NULL;
    struct eg_codec_model *m = NULL;
    REQUIRE(eg_gguf_parse(buf, n, "renamed", &g) == EG_OK, "parse");
    QUIET();
    CHECK(eg_codec_model_from_gguf(g, &m) == EG_ERR_FORMAT, "phoneme embedding without n_phonemes accepted");
    LOUD();
    eg_codec_model_destroy(m);
    eg_gguf_close(g);
    free(buf);
    free(file);
}
