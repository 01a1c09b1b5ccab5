/* tests/test_opencl.c — the OpenCL backend: loader absence, device listing, every kernel against the scalar
 * reference (simd/kernels_ref.c) by NMSE on random inputs with odd sizes and tails and guard regions around
 * device outputs; the real NAR decoder (models/decoder.c, golden tiny models f32/f16/q8_0) with its network
 * stage on the device vs the CPU by waveform SNR (>= 60 dB), several window sizes and streaming; the AUTO
 * placement (a slower device stays off with no warning, verdict cache); fault injection through the real
 * decoder (forced build failure, bad device index, wrong kernels, CL_OUT_OF_RESOURCES mid-run: AUTO gives one
 * warning and CPU-identical output, strict gives one error); `edgegen decode --device`; the binary cache.
 *
 * No loader / platform / device → SKIP, never pass. One device context (one program build) is shared by the
 * kernel tests; stage and fault tests create their own (the binary cache makes that cheap).
 * Run alone: build/test_opencl [substring]; tests/run.sh runs it as the "opencl" suite.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/golden.h"
#include "tests/harness.h"
#include "opencl/cl_ops.h"
#include "models/decoder.h"
#include "models/exec.h"
#include "models/stage.h"
#include "runtime/core/internal.h"
#include "simd/kernels.h"

/* ---- shared device context -------------------------------------------------------------------------------- */
static struct eg_cl *g_cl;
static struct eg_cl_ops g_ops;
static int g_tried;
static char g_why[256];

static int cl_up(void) {
    if (!g_tried) {
        g_tried = 1;
        if (eg_cl_create(&g_cl, NULL, g_why, sizeof g_why) == EG_OK && eg_cl_ops_init(&g_ops, g_cl) != EG_OK) {
            snprintf(g_why, sizeof g_why, "%s", g_cl->why);
            eg_cl_destroy(g_cl);
            g_cl = NULL;
        }
    }
    return g_cl != NULL;
}
#define NEED_CL() do { if (!cl_up()) SKIP("no usable OpenCL device: %.200s", g_why); } while (0)

/* Device buffer of n floats with TH_GUARD sentinel floats on each side; the view points at the payload. */
static cl_mem dev_guarded(size_t n, const float *init) {
    float *h = th_guarded_alloc(n);
    if (init) memcpy(h, init, n * sizeof(float));
    cl_mem m = NULL;
    eg_cl_buffer(g_cl, &m, (n + 2 * TH_GUARD) * sizeof(float), h - TH_GUARD);
    th_guarded_free(h);
    return m;
}
/* Read back payload into out[n]; returns 1 when both device guard regions are intact. */
static int dev_read_guarded(cl_mem m, size_t n, float *out) {
    float *h = th_guarded_alloc(n);
    eg_cl_read(g_cl, m, 0, (n + 2 * TH_GUARD) * sizeof(float), h - TH_GUARD);
    int ok = th_guard_ok(h, n);
    memcpy(out, h, n * sizeof(float));
    th_guarded_free(h);
    return ok;
}
static float *rnd(size_t n, uint64_t seed, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) p[i] = th_rand_uniform(&s, lo, hi);
    return p;
}
#define G(m) eg_cl_at((m), TH_GUARD)

/* ---- log capture ------------------------------------------------------------------------------------------ */
static int g_n_warn, g_n_err;
static char g_last[512];
static void capture(enum eg_log_level lv, const char *msg, void *u) {
    (void)u;
    if (lv == EG_LOG_WARN) g_n_warn++;
    if (lv == EG_LOG_ERROR) g_n_err++;
    if (lv <= EG_LOG_WARN) snprintf(g_last, sizeof g_last, "%s", msg);
}
static void capture_start(void) { g_n_warn = g_n_err = 0; g_last[0] = 0; eg_log_set(capture, NULL); }
static void capture_stop(void) { eg_log_set(NULL, NULL); }

/* ---- loader ----------------------------------------------------------------------------------------------- */
TEST(opencl_loader_absent_is_unsupported) {
    struct eg_cl_api api;
    char why[256] = "";
    setenv("EDGEGEN_OPENCL_LIB", "/nonexistent/libOpenCL.so.1", 1);
    enum eg_status st = eg_cl_api_open(&api, why, sizeof why);
    char list[512];
    eg_cl_list_devices(list, sizeof list);
    unsetenv("EDGEGEN_OPENCL_LIB");
    CHECK(st == EG_ERR_UNSUPPORTED, "status %d", st);
    CHECK(strstr(why, "no ICD loader") != NULL, "why = '%s'", why);
    CHECK(strstr(list, "no ICD loader") != NULL, "listing = '%s'", list);
}

TEST(opencl_list_devices) {
    char buf[4096];
    NEED_CL();
    eg_cl_list_devices(buf, sizeof buf);
    printf("%s", buf);
    CHECK(strstr(buf, "device 0:0") || strstr(buf, "device "), "listing: %s", buf);
    CHECK(g_cl->dev.max_work_group_size > 0 && g_cl->dev.n_compute_units > 0, "caps not read");
    CHECK(g_cl->tile * g_cl->tile <= (int)g_cl->dev.max_work_group_size, "tile %d", g_cl->tile);
}

/* ---- kernels vs eg_kernels_ref ---------------------------------------------------------------------------- */
TEST(opencl_gemm_vs_ref) {
    static const int shapes[][3] = { {1, 1, 1}, {1, 7, 3}, {3, 5, 7}, {17, 33, 31}, {16, 16, 16}, {15, 17, 33},
                                     {50, 256, 35}, {33, 768, 256}, {24, 1026, 256}, {5, 3, 4097} };
    NEED_CL();
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const int m = shapes[si][0], n = shapes[si][1], k = shapes[si][2], lda = k + 3, ldb = k + 1, ldc = n + 2;
            float *a = rnd((size_t)m * lda, si + 1, -1, 1), *b = rnd((size_t)n * ldb, si + 100, -1, 1);
            float *bias = rnd(n, si + 200, -1, 1);
            float *ref = calloc((size_t)m * ldc, sizeof(float)), *got = calloc((size_t)m * ldc, sizeof(float));
            cl_mem da = dev_guarded((size_t)m * lda, a), db = dev_guarded((size_t)n * ldb, b);
            cl_mem dbias = dev_guarded(n, bias), dc = dev_guarded((size_t)m * ldc, ref);
            eg_kernels_ref.gemm_f32(ref, ldc, a, lda, b, ldb, with_bias ? bias : NULL, m, n, k);
            enum eg_status st = eg_cl_gemm_f32(&g_ops, G(dc), ldc, G(da), lda, G(db), ldb,
                                               with_bias ? G(dbias) : EG_CL_NONE, m, n, k);
            CHECK(st == EG_OK, "gemm %dx%dx%d: %s", m, n, k, g_cl->why);
            CHECK(dev_read_guarded(dc, (size_t)m * ldc, got), "gemm %dx%dx%d: guard overwritten", m, n, k);
            double e = nmse(ref, got, (size_t)m * ldc);
            CHECK(e <= 1e-10, "gemm %dx%dx%d bias=%d: nmse %.3g", m, n, k, with_bias, e);
            cl_mem ms[] = { da, db, dbias, dc };
            for (int i = 0; i < 4; i++) eg_cl_release(g_cl, &ms[i]);
            free(a); free(b); free(bias); free(ref); free(got);
        }
}

TEST(opencl_conv1d_dw_vs_ref) {
    static const int shapes[][3] = { {1, 1, 1}, {1, 3, 7}, {7, 17, 7}, {50, 256, 7}, {33, 65, 3}, {5, 100, 5} };
    NEED_CL();
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const int t = shapes[si][0], c = shapes[si][1], kw = shapes[si][2];
            const size_t nx = (size_t)(t + kw - 1) * c, ny = (size_t)t * c;
            float *x = rnd(nx, si + 1, -2, 2), *w = rnd((size_t)kw * c, si + 2, -1, 1), *bias = rnd(c, si + 3, -1, 1);
            float *ref = calloc(ny, sizeof(float)), *got = calloc(ny, sizeof(float));
            cl_mem dx = dev_guarded(nx, x), dw = dev_guarded((size_t)kw * c, w), db = dev_guarded(c, bias);
            cl_mem dy = dev_guarded(ny, NULL);
            eg_kernels_ref.conv1d_dw_f32(ref, x, w, with_bias ? bias : NULL, t, c, kw);
            CHECK(eg_cl_conv1d_dw_f32(&g_ops, G(dy), G(dx), G(dw), with_bias ? G(db) : EG_CL_NONE, t, c, kw) == EG_OK,
                  "%s", g_cl->why);
            CHECK(dev_read_guarded(dy, ny, got), "conv t=%d c=%d: guard", t, c);
            double e = nmse(ref, got, ny);
            CHECK(e <= 1e-12, "conv t=%d c=%d kw=%d: nmse %.3g", t, c, kw, e);
            cl_mem ms[] = { dx, dw, db, dy };
            for (int i = 0; i < 4; i++) eg_cl_release(g_cl, &ms[i]);
            free(x); free(w); free(bias); free(ref); free(got);
        }
}

TEST(opencl_layer_norm_vs_ref) {
    static const int shapes[][2] = { {1, 1}, {1, 3}, {3, 7}, {50, 256}, {7, 1000}, {2, 4097}, {4, 255} };
    NEED_CL();
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int affine = 0; affine < 2; affine++) {
            const int rows = shapes[si][0], n = shapes[si][1];
            const size_t nn = (size_t)rows * n;
            float *x = rnd(nn, si + 7, -3, 5), *g = rnd(n, si + 8, 0.5f, 1.5f), *b = rnd(n, si + 9, -1, 1);
            float *ref = calloc(nn, sizeof(float)), *got = calloc(nn, sizeof(float));
            cl_mem dx = dev_guarded(nn, x), dg = dev_guarded(n, g), db = dev_guarded(n, b), dy = dev_guarded(nn, NULL);
            eg_kernels_ref.layer_norm_f32(ref, x, affine ? g : NULL, affine ? b : NULL, rows, n, 1e-6f);
            /* g/b views must start at offset 0: pass fresh buffers */
            cl_mem g0 = NULL, b0 = NULL;
            eg_cl_buffer(g_cl, &g0, n * sizeof(float), g);
            eg_cl_buffer(g_cl, &b0, n * sizeof(float), b);
            CHECK(eg_cl_layer_norm_f32(&g_ops, G(dy), n, G(dx), n, affine ? eg_cl_at(g0, 0) : EG_CL_NONE,
                                       affine ? eg_cl_at(b0, 0) : EG_CL_NONE, rows, n, 1e-6f) == EG_OK, "%s", g_cl->why);
            CHECK(dev_read_guarded(dy, nn, got), "ln %dx%d: guard", rows, n);
            double e = nmse(ref, got, nn);
            CHECK(e <= 1e-11, "layer_norm %dx%d affine=%d: nmse %.3g", rows, n, affine, e);
            /* in place */
            CHECK(eg_cl_layer_norm_f32(&g_ops, G(dx), n, G(dx), n, EG_CL_NONE, EG_CL_NONE, rows, n, 1e-6f) == EG_OK, "in place");
            eg_kernels_ref.layer_norm_f32(ref, x, NULL, NULL, rows, n, 1e-6f);
            dev_read_guarded(dx, nn, got);
            CHECK(nmse(ref, got, nn) <= 1e-11, "layer_norm in place %dx%d: nmse %.3g", rows, n, nmse(ref, got, nn));
            cl_mem ms[] = { dx, dg, db, dy, g0, b0 };
            for (int i = 0; i < 6; i++) eg_cl_release(g_cl, &ms[i]);
            free(x); free(g); free(b); free(ref); free(got);
        }
}

TEST(opencl_elementwise_vs_ref) {
    static const int sizes[] = { 1, 3, 7, 15, 17, 31, 33, 63, 65, 4097, 12800 };
    NEED_CL();
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int n = sizes[si];
        float *x = rnd(n, si + 11, -6, 6), *y = rnd(n, si + 12, -3, 3), *ang = rnd(n, si + 13, -40, 40);
        float *ref = calloc(n, sizeof(float)), *ref2 = calloc(n, sizeof(float));
        float *got = calloc(n, sizeof(float)), *got2 = calloc(n, sizeof(float));
        cl_mem dx = dev_guarded(n, x), dy = dev_guarded(n, y), da = dev_guarded(n, ang);
        cl_mem o1 = dev_guarded(n, NULL), o2 = dev_guarded(n, NULL);
        struct { const char *name; double lim; } r;
#define RUN_CHECK(nm, lim_, call_cl, call_ref) do {                                                     \
            r.name = nm; r.lim = lim_;                                                                  \
            call_ref;                                                                                   \
            CHECK((call_cl) == EG_OK, "%s n=%d: %s", r.name, n, g_cl->why);                             \
            CHECK(dev_read_guarded(o1, n, got), "%s n=%d: guard", r.name, n);                           \
            double e_ = nmse(ref, got, n);                                                              \
            CHECK(e_ <= r.lim, "%s n=%d: nmse %.3g > %.1g", r.name, n, e_, r.lim);                      \
        } while (0)
        RUN_CHECK("gelu", 1e-12, eg_cl_gelu_f32(&g_ops, G(o1), G(dx), n), eg_kernels_ref.gelu_f32(ref, x, n));
        RUN_CHECK("exp", 1e-12, eg_cl_exp_f32(&g_ops, G(o1), G(dx), n), eg_kernels_ref.exp_f32(ref, x, n));
        RUN_CHECK("add", 0, eg_cl_add_f32(&g_ops, G(o1), G(dx), G(dy), n), eg_kernels_ref.add_f32(ref, x, y, n));
        RUN_CHECK("mul", 0, eg_cl_mul_f32(&g_ops, G(o1), G(dx), G(dy), n), eg_kernels_ref.mul_f32(ref, x, y, n));
        /* sincos: both outputs */
        eg_kernels_ref.sincos_f32(ref, ref2, ang, n);
        CHECK(eg_cl_sincos_f32(&g_ops, G(o1), G(o2), G(da), n) == EG_OK, "sincos: %s", g_cl->why);
        CHECK(dev_read_guarded(o1, n, got) && dev_read_guarded(o2, n, got2), "sincos n=%d: guard", n);
        CHECK(nmse(ref, got, n) <= 1e-12 && nmse(ref2, got2, n) <= 1e-12, "sincos n=%d: nmse %.3g %.3g", n,
              nmse(ref, got, n), nmse(ref2, got2, n));
        /* in place: gelu on x itself */
        eg_kernels_ref.gelu_f32(ref, x, n);
        CHECK(eg_cl_gelu_f32(&g_ops, G(dx), G(dx), n) == EG_OK, "gelu in place");
        dev_read_guarded(dx, n, got);
        CHECK(nmse(ref, got, n) <= 1e-12, "gelu in place n=%d", n);
        cl_mem ms[] = { dx, dy, da, o1, o2 };
        for (int i = 0; i < 5; i++) eg_cl_release(g_cl, &ms[i]);
        free(x); free(y); free(ang); free(ref); free(ref2); free(got); free(got2);
    }
}

/* Decoder-specific ops against compositions of reference ops. */
TEST(opencl_decoder_ops_vs_ref) {
    NEED_CL();
    const int t = 19, c = 37, nb = 33;
    /* residual with gamma == mul then add per row */
    float *x = rnd((size_t)t * c, 1, -1, 1), *h = rnd((size_t)t * c, 2, -1, 1), *gm = rnd(c, 3, -1, 1);
    float *ref = malloc((size_t)t * c * sizeof(float)), *got = malloc((size_t)t * c * sizeof(float)), tmp[64];
    memcpy(ref, x, (size_t)t * c * sizeof(float));
    for (int i = 0; i < t; i++) {
        eg_kernels_ref.mul_f32(tmp, h + (size_t)i * c, gm, c);
        eg_kernels_ref.add_f32(ref + (size_t)i * c, ref + (size_t)i * c, tmp, c);
    }
    cl_mem dx = dev_guarded((size_t)t * c, x), dh = dev_guarded((size_t)t * c, h), dg = NULL;
    eg_cl_buffer(g_cl, &dg, c * sizeof(float), gm);
    CHECK(eg_cl_residual_gamma_f32(&g_ops, G(dx), G(dh), eg_cl_at(dg, 0), t, c) == EG_OK, "%s", g_cl->why);
    CHECK(dev_read_guarded(dx, (size_t)t * c, got), "residual guard");
    CHECK(nmse(ref, got, (size_t)t * c) == 0, "residual_gamma: nmse %.3g (expected exact)", nmse(ref, got, (size_t)t * c));
    eg_cl_release(g_cl, &dx); eg_cl_release(g_cl, &dh); eg_cl_release(g_cl, &dg);

    /* spectral head: mag = min(exp, clamp), re/im = mag*cos/sin */
    float *hh = rnd((size_t)t * 2 * nb, 5, -4, 6), *rm = malloc((size_t)t * nb * 4), *rr = malloc((size_t)t * nb * 4);
    float *ri = malloc((size_t)t * nb * 4), *gm2 = malloc((size_t)t * nb * 4), *gr = malloc((size_t)t * nb * 4);
    float *gi = malloc((size_t)t * nb * 4), sn[64], cs[64];
    for (int i = 0; i < t; i++) {
        float *lm = hh + (size_t)i * 2 * nb;
        eg_kernels_ref.exp_f32(rm + (size_t)i * nb, lm, nb);
        for (int j = 0; j < nb; j++) rm[(size_t)i * nb + j] = fminf(rm[(size_t)i * nb + j], 100.0f);
        eg_kernels_ref.sincos_f32(sn, cs, lm + nb, nb);
        eg_kernels_ref.mul_f32(rr + (size_t)i * nb, rm + (size_t)i * nb, cs, nb);
        eg_kernels_ref.mul_f32(ri + (size_t)i * nb, rm + (size_t)i * nb, sn, nb);
    }
    cl_mem d_h = NULL, d_m = NULL, d_r = NULL, d_i = NULL;
    eg_cl_buffer(g_cl, &d_h, (size_t)t * 2 * nb * 4, hh);
    eg_cl_buffer(g_cl, &d_m, (size_t)t * nb * 4, NULL);
    eg_cl_buffer(g_cl, &d_r, (size_t)t * nb * 4, NULL);
    eg_cl_buffer(g_cl, &d_i, (size_t)t * nb * 4, NULL);
    CHECK(eg_cl_spec_head_f32(&g_ops, d_m, d_r, d_i, d_h, t, nb, 100.0f) == EG_OK, "%s", g_cl->why);
    eg_cl_read(g_cl, d_m, 0, (size_t)t * nb * 4, gm2);
    eg_cl_read(g_cl, d_r, 0, (size_t)t * nb * 4, gr);
    eg_cl_read(g_cl, d_i, 0, (size_t)t * nb * 4, gi);
    CHECK(nmse(rm, gm2, (size_t)t * nb) <= 1e-12, "mag nmse %.3g", nmse(rm, gm2, (size_t)t * nb));
    CHECK(nmse(rr, gr, (size_t)t * nb) <= 1e-12 && nmse(ri, gi, (size_t)t * nb) <= 1e-12, "re/im nmse %.3g %.3g",
          nmse(rr, gr, (size_t)t * nb), nmse(ri, gi, (size_t)t * nb));
    eg_cl_release(g_cl, &d_h); eg_cl_release(g_cl, &d_m); eg_cl_release(g_cl, &d_r); eg_cl_release(g_cl, &d_i);
    free(x); free(h); free(gm); free(ref); free(got);
    free(hh); free(rm); free(rr); free(ri); free(gm2); free(gr); free(gi);
}

/* ---- the real decoder (models/decoder.c) with its spectral stage on the device -------------------------- */


static struct eg_codec_model *load_tiny(const char *dtype) {
    char path[512];
    struct eg_codec_model *m = NULL;
    snprintf(path, sizeof path, "%s/decoder_tiny_%s.gguf", golden_dir(), dtype);
    return eg_codec_model_load(path, &m) == EG_OK ? m : NULL;
}


/* Decode tokens whole-utterance with `chunk` frames per window; stage NULL → CPU only. PCM [n*hop] or NULL. */
static float *decode_ph_with(const struct eg_codec_model *m, struct eg_exec *ex, struct eg_spectral *stage,
                             const int32_t *tok, const int32_t *ph, int n, int chunk, enum eg_status *st_out) {
    struct eg_decoder_params p = eg_decoder_default_params();
    struct eg_decoder *d = NULL;
    p.chunk_frames = chunk;
    p.stage = stage;
    float *pcm = malloc(sizeof(float) * (size_t)n * m->cfg.hop);
    enum eg_status st = eg_decoder_create(m, ex, &p, &d);
    if (st == EG_OK) st = eg_decoder_run(d, tok, ph, n, pcm);
    eg_decoder_destroy(d);
    if (st_out) *st_out = st;
    if (st != EG_OK) { free(pcm); return NULL; }
    return pcm;
}

static float *decode_with(const struct eg_codec_model *m, struct eg_exec *ex, struct eg_spectral *stage,
                          const int32_t *tok, int n, int chunk, enum eg_status *st_out) {
    return decode_ph_with(m, ex, stage, tok, NULL, n, chunk, st_out);
}

/* The stage through the decoder's one forward pass: device vs CPU at several lengths on the same stage (shorter
 * after longer: the padding rows of a longer earlier run must not leak), and the hook's argument checks. */
TEST(opencl_spectral_stage_vs_cpu) {
    enum eg_status st;
    struct eg_exec ex;
    NEED_CL();
    struct eg_codec_model *m = load_tiny("q8_0");
    REQUIRE(m, "golden model decoder_tiny_q8_0.gguf");
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK, "exec");
    struct eg_spectral *s = eg_spectral_create(m, &ex, 40, EG_BACKEND_OPENCL, &st);
    REQUIRE(s && st == EG_OK, "create: %s", eg_status_str(st));
    printf("  placement: %s\n", eg_spectral_reason(s));
    CHECK(eg_spectral_on_device(s), "strict stage not on the device");
    static const int ts[] = { 40, 1, 2, 17, 39, 3 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        const int t = ts[i];
        int32_t *tok = malloc((size_t)t * sizeof(int32_t));
        uint64_t r = i + 1;
        for (int j = 0; j < t; j++) tok[j] = (int32_t)(th_rand_u64(&r) % m->cfg.n_codes);
        float *cpu = decode_with(m, &ex, NULL, tok, t, 40, NULL), *dev = decode_with(m, &ex, s, tok, t, 40, &st);
        CHECK(cpu && dev, "t=%d: decode %s", t, eg_status_str(st));
        if (cpu && dev) {
            const double snr = eg_snr_db(cpu, dev, (size_t)t * m->cfg.hop);
            CHECK(snr >= 60, "t=%d: waveform SNR %.1f dB", t, snr);
            if (i == 0) printf("  t=%d waveform SNR %.1f dB\n", t, snr);
        }
        free(tok); free(cpu); free(dev);
    }
    CHECK(eg_spectral_window(s, NULL, NULL) == EG_ERR_INVALID_ARG, "NULL run function");
    CHECK(eg_spectral_window(NULL, NULL, NULL) == EG_ERR_UNSUPPORTED, "NULL stage");
    /* a decoder whose windows are larger than the stage is refused */
    struct eg_decoder_params p = eg_decoder_default_params();
    struct eg_decoder *d = NULL;
    p.chunk_frames = 41;
    p.stage = s;
    capture_start();
    CHECK(eg_decoder_create(m, &ex, &p, &d) == EG_ERR_INVALID_ARG && !d && g_n_err == 1, "chunk > stage max_frames accepted");
    capture_stop();
    eg_spectral_destroy(s);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
}

/* The whole real decoder, golden tiny models: OpenCL (strict) vs CPU on the final waveform, several window
 * sizes (clipping at both ends, context recomputed per window) and 1 / 2 threads for the CPU side. */
static void golden_case(struct th_state *th_, const char *dtype) {
    enum eg_status st;
    struct eg_exec ex;
    int n = 0;
    struct eg_codec_model *m = load_tiny(dtype);
    int32_t *tok = golden_decoder_tokens(&n);
    REQUIRE(m && tok && n > 0, "golden model / tokens (%s)", golden_dir());
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK, "exec");
    static const int chunks[] = { 64, 16, 5, 1 };
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        const int chunk = chunks[ci];
        struct eg_spectral *s = eg_spectral_create(m, &ex, chunk, EG_BACKEND_OPENCL, &st);
        REQUIRE(s && eg_spectral_on_device(s), "%s chunk %d: stage: %s", dtype, chunk, eg_status_str(st));
        float *cpu = decode_with(m, &ex, NULL, tok, n, chunk, NULL);
        float *dev = decode_with(m, &ex, s, tok, n, chunk, &st);
        CHECK(cpu && dev, "%s chunk %d: decode %s", dtype, chunk, eg_status_str(st));
        if (cpu && dev) {
            const double snr = eg_snr_db(cpu, dev, (size_t)n * m->cfg.hop);
            CHECK(snr >= 60, "%s chunk %d: waveform SNR %.1f dB < 60", dtype, chunk, snr);
            printf("  %s chunk %2d: waveform SNR OpenCL vs CPU %.1f dB (%d samples)\n", dtype, chunk, snr, n * (int)m->cfg.hop);
        }
        CHECK(eg_spectral_on_device(s), "%s chunk %d: stage left the device: %s", dtype, chunk, eg_spectral_reason(s));
        free(cpu); free(dev);
        eg_spectral_destroy(s);
    }
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
    free(tok);
}
TEST(opencl_decoder_golden_f32) { NEED_CL(); golden_case(th_, "f32"); }
TEST(opencl_decoder_golden_q8_0) { NEED_CL(); golden_case(th_, "q8_0"); }
TEST(opencl_decoder_golden_f16) { NEED_CL(); golden_case(th_, "f16"); }

/* A phoneme-conditioned decoder (decoder_tiny_ph_f32): the phoneme rows go to the device with each window; the
 * waveform must match the CPU (and so PyTorch, test_decoder.c) for every window size. */
TEST(opencl_decoder_phoneme_conditioned) {
    enum eg_status st;
    struct eg_exec ex;
    char path[512];
    int n = 0, n_ph = 0;
    struct eg_codec_model *m = NULL;
    NEED_CL();
    snprintf(path, sizeof path, "%s/decoder_tiny_ph_f32.gguf", golden_dir());
    int32_t *tok = golden_decoder_tokens(&n), *ph = golden_int_file("decoder_phones.txt", &n_ph);
    REQUIRE(eg_codec_model_load(path, &m) == EG_OK && tok && ph && n_ph == n, "golden phoneme decoder (%s)", golden_dir());
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK, "exec");
    static const int chunks[] = { 64, 7, 1 };
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        struct eg_spectral *s = eg_spectral_create(m, &ex, chunks[ci], EG_BACKEND_OPENCL, &st);
        REQUIRE(s && eg_spectral_on_device(s), "chunk %d: stage: %s", chunks[ci], eg_status_str(st));
        float *cpu = decode_ph_with(m, &ex, NULL, tok, ph, n, chunks[ci], NULL);
        float *dev = decode_ph_with(m, &ex, s, tok, ph, n, chunks[ci], &st);
        CHECK(cpu && dev, "chunk %d: decode %s", chunks[ci], eg_status_str(st));
        if (cpu && dev) {
            const double snr = eg_snr_db(cpu, dev, (size_t)n * m->cfg.hop);
            CHECK(snr >= 60, "chunk %d: waveform SNR %.1f dB < 60", chunks[ci], snr);
            if (ci == 0) printf("  phoneme-conditioned, chunk %d: waveform SNR OpenCL vs CPU %.1f dB\n", chunks[ci], snr);
        }
        CHECK(eg_spectral_on_device(s), "chunk %d: stage left the device: %s", chunks[ci], eg_spectral_reason(s));
        free(cpu); free(dev);
        eg_spectral_destroy(s);
    }
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
    free(tok); free(ph);
}

struct pcm_buf { float *pcm; int64_t n, cap; };
static enum eg_status pcm_sink(void *user, const float *pcm, int n) {
    struct pcm_buf *b = user;
    if (b->n + n > b->cap) return EG_ERR_INTERNAL;
    memcpy(b->pcm + b->n, pcm, sizeof(float) * (size_t)n);
    b->n += n;
    return EG_OK;
}

/* Streaming on the device (odd push sizes, small windows) against the whole-utterance decode on the device. */
TEST(opencl_decoder_streaming) {
    enum eg_status st;
    struct eg_exec ex;
    int n = 0;
    NEED_CL();
    struct eg_codec_model *m = load_tiny("q8_0");
    int32_t *tok = golden_decoder_tokens(&n);
    REQUIRE(m && tok && n > 0, "golden model / tokens");
    REQUIRE(eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK, "exec");
    const size_t n_pcm = (size_t)n * m->cfg.hop;
    struct eg_spectral *whole_s = eg_spectral_create(m, &ex, n, EG_BACKEND_OPENCL, &st);
    REQUIRE(whole_s, "stage: %s", eg_status_str(st));
    float *whole = decode_with(m, &ex, whole_s, tok, n, n, &st);
    float *cpu = decode_with(m, &ex, NULL, tok, n, n, NULL);
    REQUIRE(whole && cpu, "whole decode: %s", eg_status_str(st));
    static const int chunks[] = { 7, 3, 16 };
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        struct eg_spectral *s = eg_spectral_create(m, &ex, chunks[ci], EG_BACKEND_OPENCL, &st);
        struct eg_decoder_params p = eg_decoder_default_params();
        struct eg_decoder *d = NULL;
        p.chunk_frames = chunks[ci];
        p.stage = s;
        REQUIRE(s && eg_decoder_create(m, &ex, &p, &d) == EG_OK, "chunk %d: create", chunks[ci]);
        struct pcm_buf b = { malloc(sizeof(float) * n_pcm), 0, (int64_t)n_pcm };
        st = EG_OK;
        for (int i = 0, step = 1; i < n && st == EG_OK; i += step, step = step % 5 + 2) {
            const int k = i + step > n ? n - i : step;
            st = eg_decoder_push(d, tok + i, NULL, k, pcm_sink, &b);
        }
        if (st == EG_OK) st = eg_decoder_flush(d, pcm_sink, &b);
        CHECK(st == EG_OK && b.n == (int64_t)n_pcm, "chunk %d: stream %s, %lld of %zu samples", chunks[ci],
              eg_status_str(st), (long long)b.n, n_pcm);
        if (b.n == (int64_t)n_pcm) {
            const double snr = eg_snr_db(whole, b.pcm, n_pcm), snr_cpu = eg_snr_db(cpu, b.pcm, n_pcm);
            CHECK(snr >= 60 && snr_cpu >= 60, "chunk %d: stream vs whole %.1f dB, vs CPU %.1f dB", chunks[ci], snr, snr_cpu);
            printf("  stream chunk %2d on OpenCL vs whole-utterance on OpenCL: %s (SNR %.1f dB); vs CPU %.1f dB\n",
                   chunks[ci], memcmp(whole, b.pcm, n_pcm * sizeof(float)) ? "close" : "bit-identical", snr, snr_cpu);
        }
        CHECK(eg_spectral_on_device(s), "chunk %d: stage left the device", chunks[ci]);
        free(b.pcm);
        eg_decoder_destroy(d);
        eg_spectral_destroy(s);
    }
    free(whole); free(cpu);
    eg_spectral_destroy(whole_s);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
    free(tok);
}

/* Default placement: auto keeps a slower device off with an INFO line only (no warning), and says why. */
TEST(opencl_decoder_auto_placement) {
    enum eg_status st;
    struct eg_exec ex;
    int n = 0;
    NEED_CL();
    struct eg_codec_model *m = load_tiny("f32");
    int32_t *tok = golden_decoder_tokens(&n);
    REQUIRE(m && tok && eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK, "setup");
    unsetenv("EDGEGEN_CL_MIN_RATIO");
    char dir[] = "/tmp/eg_clverdict_XXXXXX";
    REQUIRE(mkdtemp(dir), "mkdtemp");
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);   /* a fresh verdict cache: the first creation must measure */
    capture_start();
    struct eg_spectral *s = eg_spectral_create(m, &ex, 64, EG_BACKEND_AUTO, &st);
    capture_stop();
    REQUIRE(s, "create: %s", eg_status_str(st));
    CHECK(!strstr(eg_spectral_reason(s), "cached"), "fresh cache gave a cached verdict: %s", eg_spectral_reason(s));
    if (!eg_spectral_on_device(s)) {   /* "CPU faster" is remembered; the next creation skips the device */
        capture_start();
        struct eg_spectral *s2 = eg_spectral_create(m, &ex, 64, EG_BACKEND_AUTO, &st);
        capture_stop();
        CHECK(s2 && !eg_spectral_on_device(s2) && strstr(eg_spectral_reason(s2), "[cached verdict]") &&
              g_n_warn == 0 && eg_spectral_ratio(s2) == eg_spectral_ratio(s2) && eg_spectral_ratio(s2) > 0,
              "second creation: %s", s2 ? eg_spectral_reason(s2) : "NULL");
        printf("  second auto creation: %s\n", s2 ? eg_spectral_reason(s2) : "NULL");
        eg_spectral_destroy(s2);
        setenv("EDGEGEN_CL_CACHE", "off", 1);
        s2 = eg_spectral_create(m, &ex, 64, EG_BACKEND_AUTO, &st);
        unsetenv("EDGEGEN_CL_CACHE");
        CHECK(s2 && !strstr(eg_spectral_reason(s2), "cached"), "EDGEGEN_CL_CACHE=off used the verdict cache");
        eg_spectral_destroy(s2);
        s2 = eg_spectral_create(m, &ex, 64, EG_BACKEND_OPENCL, &st);   /* strict never reads it */
        CHECK(s2 && eg_spectral_on_device(s2), "strict after a cached CPU verdict: not on the device");
        eg_spectral_destroy(s2);
    }
    if (saved) { setenv("XDG_CACHE_HOME", saved, 1); free(saved); } else unsetenv("XDG_CACHE_HOME");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    printf("  auto: %s: %s\n", eg_spectral_on_device(s) ? "device" : "cpu", eg_spectral_reason(s));
    CHECK(g_n_warn == 0 && g_n_err == 0, "auto placement logged %d warnings, %d errors: %s", g_n_warn, g_n_err, g_last);
    CHECK(eg_spectral_snr_db(s) >= EG_SPECTRAL_MIN_SNR_DB && eg_spectral_ratio(s) > 0, "probe not measured");
    if (eg_spectral_on_device(s)) CHECK(strstr(eg_spectral_reason(s), "device faster") != NULL, "reason: %s", eg_spectral_reason(s));
    else CHECK(strstr(eg_spectral_reason(s), "CPU faster") != NULL, "reason: %s", eg_spectral_reason(s));
    /* a stage that is not on the device is harmless in a decoder: the CPU computes every window */
    float *cpu = decode_with(m, &ex, NULL, tok, n, 64, NULL), *got = decode_with(m, &ex, s, tok, n, 64, NULL);
    CHECK(cpu && got, "decode");
    if (!eg_spectral_on_device(s) && cpu && got)
        CHECK(!memcmp(cpu, got, sizeof(float) * (size_t)n * m->cfg.hop), "CPU-placed stage changed the output");
    free(cpu); free(got);
    eg_spectral_destroy(s);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
    free(tok);
}

/* A fault through the real decoder. auto (with EDGEGEN_CL_MIN_RATIO=0, so that a correct device would be used):
 * exactly one warning, output identical to the CPU decoder; strict: a status and exactly one error line. */
static void decoder_fault(struct th_state *th_, const char *var, const char *value) {
    enum eg_status st, rs;
    struct eg_exec ex;
    int n = 0;
    struct eg_codec_model *m = load_tiny("q8_0");
    int32_t *tok = golden_decoder_tokens(&n);
    REQUIRE(m && tok && eg_exec_init(&ex, EG_ISA_AUTO, 2) == EG_OK, "setup");
    const size_t n_pcm = (size_t)n * m->cfg.hop;
    float *cpu = decode_with(m, &ex, NULL, tok, n, 16, NULL);
    REQUIRE(cpu, "cpu decode");

    setenv(var, value, 1);
    setenv("EDGEGEN_CL_MIN_RATIO", "0", 1);
    capture_start();
    struct eg_spectral *s = eg_spectral_create(m, &ex, 16, EG_BACKEND_AUTO, &st);
    float *got = s ? decode_with(m, &ex, s, tok, n, 16, &rs) : NULL;
    float *again = s ? decode_with(m, &ex, s, tok, n, 16, NULL) : NULL;   /* no second warning */
    capture_stop();
    CHECK(s && got && again, "auto with %s=%s: create %s, decode %s", var, value, eg_status_str(st), got ? "ok" : eg_status_str(rs));
    CHECK(s && !eg_spectral_on_device(s), "%s=%s: still on the device", var, value);
    CHECK(g_n_warn == 1 && g_n_err == 0, "%s=%s auto: %d warnings, %d errors (want 1, 0); last: %s", var, value,
          g_n_warn, g_n_err, g_last);
    CHECK(got && !memcmp(cpu, got, n_pcm * sizeof(float)) && again && !memcmp(cpu, again, n_pcm * sizeof(float)),
          "%s=%s: fallback output differs from the CPU decoder", var, value);
    printf("  %s=%s, auto: \"%s\"\n", var, value, g_last);
    free(got); free(again);
    eg_spectral_destroy(s);

    capture_start();
    s = eg_spectral_create(m, &ex, 16, EG_BACKEND_OPENCL, &st);
    got = s ? decode_with(m, &ex, s, tok, n, 16, &rs) : NULL;
    if (!s) rs = st;
    capture_stop();
    CHECK(!got && rs != EG_OK, "strict with %s=%s succeeded", var, value);
    CHECK(g_n_err == 1 && g_n_warn == 0, "%s=%s strict: %d errors, %d warnings (want 1, 0); last: %s", var, value,
          g_n_err, g_n_warn, g_last);
    printf("  %s=%s, strict: %s: \"%s\"\n", var, value, eg_status_str(rs), g_last);
    free(got);
    eg_spectral_destroy(s);
    unsetenv(var);
    unsetenv("EDGEGEN_CL_MIN_RATIO");
    free(cpu);
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
    free(tok);
}
TEST(opencl_fault_build) { NEED_CL(); decoder_fault(th_, "EDGEGEN_CL_FAULT", "build"); }
TEST(opencl_fault_device) { NEED_CL(); decoder_fault(th_, "EDGEGEN_CL_FAULT", "device"); }
TEST(opencl_fault_bad_device_index) { NEED_CL(); decoder_fault(th_, "EDGEGEN_CL_DEVICE", "9:0"); }
TEST(opencl_fault_wrong) { NEED_CL(); decoder_fault(th_, "EDGEGEN_CL_FAULT", "wrong"); }
TEST(opencl_fault_enqueue) { NEED_CL(); decoder_fault(th_, "EDGEGEN_CL_FAULT", "enqueue"); }

/* No OpenCL at all is normal on a small device: auto says so at INFO (no warning); strict is an error. */
TEST(opencl_no_loader_falls_back) {
    enum eg_status st;
    struct eg_exec ex;
    struct eg_codec_model *m = load_tiny("f32");
    REQUIRE(m && eg_exec_init(&ex, EG_ISA_AUTO, 1) == EG_OK, "setup");
    setenv("EDGEGEN_OPENCL_LIB", "/nonexistent/libOpenCL.so.1", 1);
    capture_start();
    struct eg_spectral *s = eg_spectral_create(m, &ex, 8, EG_BACKEND_AUTO, &st);
    capture_stop();
    CHECK(s && !eg_spectral_on_device(s) && g_n_warn == 0 && g_n_err == 0, "auto without loader: %d warnings: %s", g_n_warn, g_last);
    CHECK(s && strstr(eg_spectral_reason(s), "no ICD loader"), "reason: %s", s ? eg_spectral_reason(s) : "-");
    eg_spectral_destroy(s);
    capture_start();
    s = eg_spectral_create(m, &ex, 8, EG_BACKEND_OPENCL, &st);
    capture_stop();
    CHECK(!s && st == EG_ERR_UNSUPPORTED && g_n_err == 1, "strict without loader: st %d errors %d", st, g_n_err);
    unsetenv("EDGEGEN_OPENCL_LIB");
    eg_exec_free(&ex);
    eg_codec_model_destroy(m);
}

/* ---- the CLI: edgegen decode --device ------------------------------------------------------------------------- */

/* Run a shell command, stderr to a file; returns the exit status and the number of our stderr lines (those
 * starting "edgegen"; a driver may print its own compiler diagnostics, e.g. PoCL's "1 error generated." on a
 * failed build, which we cannot silence from a library), the first of them in `first`. */
static int sh(const char *cmd, const char *err_path, int *n_err_lines, char *first, size_t first_len) {
    int rc = system(cmd);
    *n_err_lines = 0;
    if (first_len) first[0] = 0;
    FILE *f = fopen(err_path, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "edgegen", 7) != 0) continue;
            if (!*n_err_lines && first_len) snprintf(first, first_len, "%s", line);
            (*n_err_lines)++;
        }
        fclose(f);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* 16-bit PCM of a canonical 44-byte-header WAV as floats; NULL when unreadable. */
static float *read_wav(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 44, SEEK_SET);
    *n = sz > 44 ? (size_t)(sz - 44) / 2 : 0;
    int16_t *s = malloc(*n * 2 + 2);
    float *out = malloc(*n * sizeof(float) + 4);
    if (fread(s, 2, *n, f) != *n) *n = 0;
    fclose(f);
    for (size_t i = 0; i < *n; i++) out[i] = s[i] / 32768.0f;
    free(s);
    return out;
}

TEST(opencl_cli_decode_device) {
    char exe[200], dir[] = "/tmp/eg_cl_cli_XXXXXX", cmd[2048], errp[600], first[1024];
    const char *build = getenv("BUILD");
    int n_lines;
    NEED_CL();
    snprintf(exe, sizeof exe, "%s/edgegen-test", build && *build ? build : "build");   /* the CLI + test hooks */
    if (access(exe, X_OK) != 0) SKIP("%.200s not built", exe);
    REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(errp, sizeof errp, "%s/err.txt", dir);
    const char *gd = golden_dir();
#define DECODE(env, dev, out) (snprintf(cmd, sizeof cmd, "env -u EDGEGEN_CL_FAULT -u EDGEGEN_BACKEND -u EDGEGEN_CL_MIN_RATIO " \
        "%s %s decode %s/decoder_tokens.txt -m %s/decoder_tiny_f32.gguf --chunk 16 --device %s -o %s/%s 2>%s", \
        env, exe, gd, gd, dev, dir, out, errp), sh(cmd, errp, &n_lines, first, sizeof first))
    int rc = DECODE("", "cpu", "cpu.wav");
    CHECK(rc == 0 && n_lines == 0, "--device cpu: exit %d, %d stderr lines: %s", rc, n_lines, first);
    rc = DECODE("", "opencl", "cl.wav");
    CHECK(rc == 0 && n_lines == 0, "--device opencl: exit %d, %d stderr lines: %s", rc, n_lines, first);
    rc = DECODE("", "auto", "auto.wav");
    CHECK(rc == 0 && n_lines == 0, "--device auto: exit %d, %d stderr lines (an info line must not show): %s", rc, n_lines, first);
    char p1[600], p2[600], p3[600];
    size_t n1 = 0, n2 = 0, n3 = 0;
    snprintf(p1, sizeof p1, "%s/cpu.wav", dir); snprintf(p2, sizeof p2, "%s/cl.wav", dir); snprintf(p3, sizeof p3, "%s/auto.wav", dir);
    float *w1 = read_wav(p1, &n1), *w2 = read_wav(p2, &n2), *w3 = NULL;
    CHECK(w1 && w2 && n1 > 0 && n1 == n2, "wav sizes %zu %zu", n1, n2);
    if (w1 && w2 && n1 == n2 && n1) {
        const double snr = eg_snr_db(w1, w2, n1);
        CHECK(snr >= 60, "CLI --device opencl vs cpu: SNR %.1f dB", snr);
        printf("  CLI: --device opencl vs --device cpu WAV: SNR %.1f dB (%zu samples)\n", snr, n1);
    }
    /* strict with a forced build failure: exit 1, one clear line, no file */
    rc = DECODE("EDGEGEN_CL_FAULT=build", "opencl", "fail.wav");
    snprintf(p3, sizeof p3, "%s/fail.wav", dir);
    CHECK(rc == 1 && n_lines == 1 && strstr(first, "OpenCL") && access(p3, F_OK) != 0,
          "strict + build fault: exit %d, %d lines: %s", rc, n_lines, first);
    printf("  CLI strict + EDGEGEN_CL_FAULT=build: exit %d: %s", rc, first);
    /* auto, forced to prefer the device, with the same fault: one warning, CPU output */
    rc = DECODE("EDGEGEN_CL_FAULT=build EDGEGEN_CL_MIN_RATIO=0", "auto", "fb.wav");
    snprintf(p3, sizeof p3, "%s/fb.wav", dir);
    w3 = read_wav(p3, &n3);
    CHECK(rc == 0 && n_lines == 1 && strstr(first, "warning"), "auto + build fault: exit %d, %d lines: %s", rc, n_lines, first);
    CHECK(w1 && w3 && n3 == n1 && !memcmp(w1, w3, n1 * sizeof(float)), "auto + build fault: WAV differs from --device cpu");
    printf("  CLI auto (MIN_RATIO=0) + EDGEGEN_CL_FAULT=build: exit %d: %s", rc, first);
    /* auto forced onto the device, no fault: the device output */
    rc = DECODE("EDGEGEN_CL_MIN_RATIO=0", "auto", "forced.wav");
    CHECK(rc == 0 && n_lines == 0, "auto forced: exit %d: %s", rc, first);
#undef DECODE
    free(w1); free(w2); free(w3);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* ---- binary cache ----------------------------------------------------------------------------------------- */
TEST(opencl_binary_cache) {
    char dir[] = "/tmp/eg_clcache_XXXXXX", why[256];
    struct eg_cl *cl = NULL;
    NEED_CL();
    REQUIRE(mkdtemp(dir), "mkdtemp");
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    REQUIRE(eg_cl_create(&cl, NULL, why, sizeof why) == EG_OK, "create 1: %s", why);
    char path[512];
    snprintf(path, sizeof path, "%s", cl->cache_path);
    CHECK(!cl->program_from_cache && path[0] && access(path, R_OK) == 0, "first build not cached (%s)", path);
    printf("  build from source %.0f ms -> %s\n", cl->build_ms, path);
    eg_cl_destroy(cl);
    REQUIRE(eg_cl_create(&cl, NULL, why, sizeof why) == EG_OK, "create 2: %s", why);
    CHECK(cl->program_from_cache, "second create did not use the cache");
    printf("  load from cache %.0f ms\n", cl->build_ms);
    eg_cl_destroy(cl);
    /* corrupt the payload: the entry must be ignored, rebuilt, and usable */
    FILE *f = fopen(path, "r+b");
    REQUIRE(f, "open cache entry");
    fseek(f, 64, SEEK_SET);
    fputs("garbage garbage garbage", f);
    fclose(f);
    REQUIRE(eg_cl_create(&cl, NULL, why, sizeof why) == EG_OK, "create 3 (corrupt entry): %s", why);
    CHECK(!cl->program_from_cache, "corrupt entry was used");
    struct eg_cl_ops ops;
    CHECK(eg_cl_ops_init(&ops, cl) == EG_OK, "kernels after rebuild: %s", cl->why);
    eg_cl_ops_release(&ops);
    eg_cl_destroy(cl);
    REQUIRE(eg_cl_create(&cl, NULL, why, sizeof why) == EG_OK, "create 4: %s", why);
    CHECK(cl->program_from_cache, "rebuilt entry was not rewritten");
    eg_cl_destroy(cl);
    /* truncated entry */
    REQUIRE(truncate(path, 20) == 0, "truncate");
    REQUIRE(eg_cl_create(&cl, NULL, why, sizeof why) == EG_OK, "create 5 (truncated entry): %s", why);
    CHECK(!cl->program_from_cache, "truncated entry was used");
    eg_cl_destroy(cl);
    if (saved) { setenv("XDG_CACHE_HOME", saved, 1); free(saved); } else unsetenv("XDG_CACHE_HOME");
    unlink(path);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/edgegen", dir);
    rmdir(sub);
    rmdir(dir);
}

TEST(opencl_bad_device_spec) {
    struct eg_cl *cl = NULL;
    char why[256];
    NEED_CL();
    CHECK(eg_cl_create(&cl, "7:3", why, sizeof why) == EG_ERR_INVALID_ARG && !cl, "7:3 accepted");
    CHECK(strstr(why, "does not exist") != NULL, "why: %s", why);
    CHECK(eg_cl_create(&cl, "x", why, sizeof why) == EG_ERR_INVALID_ARG && !cl, "'x' accepted");
}

TEST(opencl_zz_teardown) {
    eg_cl_ops_release(&g_ops);
    eg_cl_destroy(g_cl);
    g_cl = NULL;
}
