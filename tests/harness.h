/* tests/harness.h — the in-tree test harness (no framework, so tests cross-compile with the same toolchains).
 *
 *   TEST(name) { ...; CHECK(cond, "fmt", ...); ...; }          registers a test (any tests/test_*.c file)
 *   SKIP("why")                                                ends the test as skipped (never counted as passed)
 *   CHECK(cond, fmt, ...)                                      records a failure with a message, keeps going
 *   REQUIRE(cond, fmt, ...)                                    records a failure and ends the test
 *
 * The runner (tests/test_main.c) runs every test whose name contains argv[1] (all when absent) and ends with
 * the line "N passed, N failed, N skipped". Helpers: nmse(), max_abs_diff(), guard-region buffers.
 */
#ifndef EG_TEST_HARNESS_H
#define EG_TEST_HARNESS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum th_result { TH_PASS = 0, TH_FAIL = 1, TH_SKIP = 2 };

struct th_state {
    int failed;          /* CHECKs failed in the current test */
    int skipped;
    char skip_reason[256];
};
typedef void (*th_fn)(struct th_state *th_);

struct th_test { const char *name; th_fn fn; struct th_test *next; };
void th_register(struct th_test *t);

#define TEST(name_)                                                                     \
    static void test_##name_(struct th_state *th_);                                     \
    static struct th_test th_reg_##name_ = { #name_, test_##name_, NULL };              \
    __attribute__((constructor)) static void th_ctor_##name_(void) { th_register(&th_reg_##name_); } \
    static void test_##name_(struct th_state *th_)

#define CHECK(cond, ...) do { if (!(cond)) { th_->failed++;                              \
        fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);               \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define REQUIRE(cond, ...) do { if (!(cond)) { CHECK(cond, __VA_ARGS__); return; } } while (0)
#define SKIP(...) do { th_->skipped = 1; snprintf(th_->skip_reason, sizeof th_->skip_reason, __VA_ARGS__); return; } while (0)

/* ---- numeric helpers ---------------------------------------------------------------------------------- */
/* Normalised MSE: sum (a-b)^2 / max(sum a^2, tiny). NaN anywhere → +inf. */
static inline double nmse(const float *ref, const float *got, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(ref[i]) || isnan(got[i])) return INFINITY;
        double d = (double)ref[i] - (double)got[i];
        num += d * d; den += (double)ref[i] * ref[i];
    }
    return den > 1e-30 ? num / den : num;
}
/* SNR of got against ref in dB (10 log10 of signal over error energy); +inf when identical, -inf on a NaN. */
static inline double snr_db(const float *ref, const float *got, size_t n) {
    double s = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i])) return -INFINITY;
        const double d = (double)ref[i] - got[i];
        s += (double)ref[i] * ref[i]; e += d * d;
    }
    return e == 0 ? INFINITY : 10.0 * log10(s / e);
}
static inline double max_abs_diff(const float *ref, const float *got, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ref[i] - (double)got[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}

/* ---- deterministic RNG (xorshift64*) ------------------------------------------------------------------- */
static inline uint64_t th_rand_u64(uint64_t *s) { *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27; return *s * 2685821657736338717ull; }
static inline float th_rand_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((th_rand_u64(s) >> 40) * (1.0 / 16777216.0));
}

/* ---- guarded buffers: TH_GUARD floats of a sentinel pattern on each side of the payload ----------------- */
#define TH_GUARD 1024
#define TH_SENTINEL 0x7fc0dead   /* a NaN payload no kernel produces */
static inline float *th_guarded_alloc(size_t n) {
    if (n > (SIZE_MAX / 2) / sizeof(float) - 2 * TH_GUARD) { fprintf(stderr, "test buffer too large\n"); exit(2); }
    uint32_t *p = malloc((n + 2 * TH_GUARD) * sizeof(float));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n + 2 * TH_GUARD; i++) p[i] = TH_SENTINEL;
    return (float *)(p + TH_GUARD);
}
/* 1 when both guard regions are intact. */
static inline int th_guard_ok(const float *buf, size_t n) {
    const uint32_t *p = (const uint32_t *)buf;
    for (size_t i = 1; i <= TH_GUARD; i++) if (p[-(ptrdiff_t)i] != TH_SENTINEL) return 0;
    for (size_t i = 0; i < TH_GUARD; i++) if (p[n + i] != TH_SENTINEL) return 0;
    return 1;
}
static inline void th_guarded_free(float *buf) { if (buf) free((uint32_t *)buf - TH_GUARD); }

#endif /* EG_TEST_HARNESS_H */
