/* tests/test_dispatch.c — kernel table choice: best runnable first, EDGEGEN_ISA / isa overrides, NULL slots
 * filled from the next runnable table down, and clear refusals for tables that are unbuilt or cannot run.
 * Fake tables (name + needs + a few ops) stand in for SIMD tables; the real reference fills the rest. The last
 * tests run the tables linked into this build on this machine. */
#include <stdlib.h>
#include <string.h>
#include "tests/harness.h"
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"
#include "runtime/core/internal.h"

/* ---- capture the library's log lines so tests can check them (and keep the output clean) --------------- */
static char g_log[1024];
static int g_log_lines;
static void capture(enum eg_log_level level, const char *msg, void *user) {
    if (level > EG_LOG_WARN) return;
    snprintf(g_log, sizeof g_log, "%s", msg);
    g_log_lines++;
}
static void log_begin(void) { g_log[0] = '\0'; g_log_lines = 0; eg_log_set(capture, NULL); }
static void log_end(void) { eg_log_set(NULL, NULL); }

/* distinct marker ops, so a test can tell which table a slot came from */
static void softmax_a(float *y, const float *x, int n) { (void)y; (void)x; (void)n; }
static void softmax_b(float *y, const float *x, int n) { (void)y; (void)x; (void)n; }
static void gelu_b(float *y, const float *x, int n) { (void)y; (void)x; (void)n; }
static void gelu_c(float *y, const float *x, int n) { (void)y; (void)x; (void)n; }
static void exp_c(float *y, const float *x, int n) { (void)y; (void)x; (void)n; }

#define ZMM (EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ)
#define YMM (EG_CPU_AVX | EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C)
static const struct eg_kernels f_avx512 = { .name = "avx512", .needs = YMM | ZMM, .softmax_f32 = softmax_a };
static const struct eg_kernels f_avx2 = { .name = "avx2", .needs = YMM, .softmax_f32 = softmax_b, .gelu_f32 = gelu_b };
static const struct eg_kernels f_neon = { .name = "neon", .needs = EG_CPU_NEON, .gelu_f32 = gelu_c, .exp_f32 = exp_c };
static const struct eg_kernels *const x86_list[] = { &f_avx512, &f_avx2, &eg_kernels_ref };
static const struct eg_kernels *const mixed_list[] = { &f_avx512, &f_avx2, &f_neon, &eg_kernels_ref };

static struct eg_cpu cpu_x86(uint64_t features, uint64_t advertised, uint64_t xcr0) {
    struct eg_cpu c;
    memset(&c, 0, sizeof c);
    snprintf(c.arch, sizeof c.arch, "x86_64");
    c.features = features | EG_CPU_SSE2;
    c.features_advertised = advertised | features | EG_CPU_SSE2;
    c.xcr0 = xcr0;
    return c;
}

/* 1 when every op slot of k is non-NULL (walked as the dispatcher does). */
static int all_slots_set(const struct eg_kernels *k) {
    typedef void (*fn)(void);
    size_t first = offsetof(struct eg_kernels, matvec_f32);
    size_t end = offsetof(struct eg_kernels, EG_KERNELS_LAST_SLOT) + sizeof(fn);   /* not sizeof: tail padding */
    for (size_t off = first; off < end; off += sizeof(fn)) {
        fn f;
        memcpy(&f, (const char *)k + off, sizeof f);
        if (!f) return 0;
    }
    return 1;
}

TEST(dispatch_isa_names) {
    static const char *const names[] = { "auto", "ref", "avx2", "avx512", "neon" };
    for (size_t i = 0; i < 5; i++) {
        int v = eg_isa_from_name(names[i]);
        CHECK(v >= 0 && !strcmp(eg_isa_name((enum eg_isa)v), names[i]), "round trip %s", names[i]);
    }
    CHECK(eg_isa_from_name("AVX2") == -1 && eg_isa_from_name("") == -1 && eg_isa_from_name(NULL) == -1, "unknown names");
}

TEST(dispatch_best_runnable_and_why) {
    struct eg_kernels k;
    char why[512];
    struct eg_cpu c = cpu_x86(YMM | ZMM, 0, 0xe7);
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "avx512"), "chose %s", k.name);
    CHECK(strstr(why, "avx512: ") == why && strstr(why, "AVX512F+AVX512BW+AVX512VL+AVX512DQ") && strstr(why, "present, XCR0=0xe7"),
          "why: %s", why);

    /* AVX-512 advertised but XCR0 lacks opmask/ZMM state → the avx2 table, and the reason says so */
    c = cpu_x86(YMM, ZMM, 0x7);
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "avx2"), "chose %s", k.name);
    CHECK(strstr(why, "avx2: ") == why && strstr(why, "avx512 not usable: XCR0=0x7 lacks opmask/ZMM state"), "why: %s", why);

    /* AVX2 advertised but XCR0 lacks YMM state → ref */
    c = cpu_x86(0, YMM, 0x3);
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "ref"), "chose %s", k.name);
    CHECK(strstr(why, "avx2 not usable: XCR0=0x3 lacks YMM state"), "why: %s", why);

    /* OSXSAVE off (xcr0 reported 0) */
    c = cpu_x86(0, YMM, 0);
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(strstr(why, "OSXSAVE"), "why: %s", why);

    /* CPU simply lacks AVX-512 */
    c = cpu_x86(YMM, 0, 0x7);
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(strstr(why, "avx512 not usable: CPU lacks AVX512F+AVX512BW+AVX512VL+AVX512DQ"), "why: %s", why);
}

TEST(dispatch_fills_null_slots_from_runnable_tables_below) {
    struct eg_kernels k;
    char why[512];
    /* a made-up CPU on which every fake table can run */
    struct eg_cpu c = cpu_x86(YMM | ZMM, 0, 0xe7);
    c.features |= EG_CPU_NEON;
    REQUIRE(eg_dispatch_select_from(mixed_list, 4, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(k.softmax_f32 == softmax_a, "own op kept");
    CHECK(k.gelu_f32 == gelu_b, "gelu from the next table down (avx2)");
    CHECK(k.exp_f32 == exp_c, "exp from neon");
    CHECK(k.matvec_f32 == eg_kernels_ref.matvec_f32 && k.rope_f32 == eg_kernels_ref.rope_f32, "rest from ref");
    CHECK(all_slots_set(&k), "no NULL slot");
    CHECK(!strcmp(k.name, "avx512") && k.needs == f_avx512.needs, "name/needs of the chosen table");

    c.features &= ~(uint64_t)EG_CPU_F16C;     /* both x86 fakes unrunnable now → neon */
    REQUIRE(eg_dispatch_select_from(mixed_list, 4, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "neon"), "chose %s", k.name);
    CHECK(k.softmax_f32 == eg_kernels_ref.softmax_f32, "softmax from ref, not from the unrunnable avx tables");

    /* forced avx2: its NULL slots come from the runnable tables below it (neon here), then ref */
    c = cpu_x86(YMM, 0, 0x7);
    c.features |= EG_CPU_NEON;
    REQUIRE(eg_dispatch_select_from(mixed_list, 4, &c, EG_ISA_AVX2, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(k.softmax_f32 == softmax_b && k.gelu_f32 == gelu_b && k.exp_f32 == exp_c, "avx2 + neon fill + ref");

    /* an unrunnable table between the chosen one and a runnable one is skipped when filling */
    static const struct eg_kernels f_top = { .name = "avx512", .needs = EG_CPU_NEON, .softmax_f32 = softmax_a };
    static const struct eg_kernels *const gap_list[] = { &f_top, &f_avx2, &f_neon, &eg_kernels_ref };
    memset(&c, 0, sizeof c);
    c.features = c.features_advertised = EG_CPU_NEON;
    REQUIRE(eg_dispatch_select_from(gap_list, 4, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(k.softmax_f32 == softmax_a && k.gelu_f32 == gelu_c && k.exp_f32 == exp_c, "gelu from neon, not unrunnable avx2");
}

TEST(dispatch_env_and_param_overrides) {
    struct eg_kernels k;
    char why[512];
    struct eg_cpu c = cpu_x86(YMM | ZMM, 0, 0xe7);

    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "avx2", &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "avx2") && strstr(why, "forced by EDGEGEN_ISA"), "env avx2: %s / %s", k.name, why);
    CHECK(k.softmax_f32 == softmax_b, "avx2's own op, not avx512's");
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "ref", &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "ref") && k.softmax_f32 == eg_kernels_ref.softmax_f32, "env ref");
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "auto", &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "avx512"), "env auto → best");
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "", &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "avx512"), "empty env → best");
    REQUIRE(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_REF, "avx2", &k, why, sizeof why) == EG_OK, "%s", why);
    CHECK(!strcmp(k.name, "ref") && strstr(why, "isa parameter"), "the isa parameter beats EDGEGEN_ISA: %s", why);
}

TEST(dispatch_refusals) {
    struct eg_kernels k;
    char why[512];
    enum eg_status st;
    struct eg_cpu c = cpu_x86(YMM | EG_CPU_AVX512F, 0, 0xe7);   /* AVX512F but no BW/VL/DQ */

    log_begin();
    st = eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "bogus", &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_INVALID_ARG, "bogus: %s", eg_status_str(st));
    CHECK(strstr(why, "EDGEGEN_ISA=bogus: unknown kernel table") != NULL, "why: %s", why);
    CHECK(g_log_lines == 1 && !strcmp(g_log, why), "one log line, same text: '%s'", g_log);

    log_begin();
    st = eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "neon", &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_UNSUPPORTED, "neon on x86 list: %s", eg_status_str(st));
    CHECK(strstr(why, "EDGEGEN_ISA=neon: not built for this target (") == why, "why: %s", why);

    log_begin();
    st = eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, "avx512", &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_UNSUPPORTED, "avx512 without BW: %s", eg_status_str(st));
    CHECK(!strcmp(why, "EDGEGEN_ISA=avx512: CPU lacks AVX512BW+AVX512VL+AVX512DQ"), "why: %s", why);
    CHECK(g_log_lines == 1, "logged once");

    c = cpu_x86(YMM, ZMM, 0x7);
    log_begin();
    st = eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AVX512, NULL, &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_UNSUPPORTED && !strcmp(why, "isa=avx512: XCR0=0x7 lacks opmask/ZMM state"), "why: %s", why);

    /* a list whose tables leave a slot empty with nothing below: internal error, not a NULL call later */
    static const struct eg_kernels *const no_ref[] = { &f_avx2 };
    log_begin();
    st = eg_dispatch_select_from(no_ref, 1, &c, EG_ISA_AUTO, NULL, &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_INTERNAL && strstr(why, "empty"), "unfilled slot: %s / %s", eg_status_str(st), why);

    log_begin();
    st = eg_dispatch_select_from(x86_list, 3, &c, (enum eg_isa)42, NULL, &k, why, sizeof why);
    log_end();
    CHECK(st == EG_ERR_INVALID_ARG, "out-of-range enum: %s", eg_status_str(st));
    CHECK(eg_dispatch_select_from(x86_list, 3, &c, EG_ISA_AUTO, NULL, &k, NULL, 0) == EG_OK, "why may be NULL");
}

/* ---- the tables linked into this build, on this machine ------------------------------------------------ */

TEST(dispatch_builtin_tables) {
    const struct eg_kernels *tables[8];
    int n = eg_dispatch_tables(tables, 8);
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    REQUIRE(n >= 1, "no tables");
    CHECK(tables[n - 1] == &eg_kernels_ref, "reference last");
    CHECK(all_slots_set(&eg_kernels_ref), "the reference implements every op");
    for (int i = 0; i < n; i++) {
        struct eg_kernels k;
        char why[512];
        int v = eg_isa_from_name(tables[i]->name);
        CHECK(v > 0, "table name '%s' maps to an enum eg_isa", tables[i]->name);
        if (v <= 0) continue;
        log_begin();
        enum eg_status st = eg_dispatch_select(&cpu, (enum eg_isa)v, &k, why, sizeof why);
        log_end();
        if (eg_cpu_can_run(&cpu, tables[i])) {
            CHECK(st == EG_OK && !strcmp(k.name, tables[i]->name) && all_slots_set(&k), "%s: %s", tables[i]->name, why);
        } else {
            CHECK(st == EG_ERR_UNSUPPORTED && strstr(why, "lacks"), "%s should be refused: %s", tables[i]->name, why);
        }
    }
}

TEST(dispatch_builtin_auto_honours_env) {
    struct eg_cpu cpu;
    struct eg_kernels k;
    char why[512];
    const char *env = getenv("EDGEGEN_ISA");
    eg_cpu_detect(&cpu);
    log_begin();
    enum eg_status st = eg_dispatch_select(&cpu, EG_ISA_AUTO, &k, why, sizeof why);
    log_end();
    if (env && env[0] && strcmp(env, "auto")) {
        if (st == EG_OK) CHECK(!strcmp(k.name, env), "EDGEGEN_ISA=%s chose %s", env, k.name);
        else CHECK(strstr(why, "EDGEGEN_ISA="), "refusal names the variable: %s", why);
    } else {
        const struct eg_kernels *tables[8];
        int n = eg_dispatch_tables(tables, 8), best = -1;
        for (int i = 0; i < n && best < 0; i++) if (eg_cpu_can_run(&cpu, tables[i])) best = i;
        REQUIRE(st == EG_OK, "auto failed: %s", why);
        CHECK(best >= 0 && !strcmp(k.name, tables[best]->name), "auto chose %s", k.name);
    }
}
