/* tests/test_normalize.c — text normalisation (runtime/text/normalize.c): the written specification
 * (tests/data/normalize_spec.tsv: written form → words for every rule, with the reasoning for ambiguous ones),
 * byte-identical pass-through, bounded output (guard bytes on overflow), invalid UTF-8 (passed
 * through unchanged: eg_phonemize() rejects it later), and every line of the shared edge-case texts. */
#include "tests/harness.h"
#include "runtime/text/normalize.h"

/* The specification: tests/data/normalize_spec.tsv, INPUT<TAB>READING per line ('#' comments give the reasoning). */
TEST(normalize_spec) {
    FILE *f = fopen("tests/data/normalize_spec.tsv", "r");
    REQUIRE(f, "tests/data/normalize_spec.tsv missing (run from the repository root)");
    static char line[4096], out[16384];
    int n_cases = 0, line_no = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        REQUIRE(tab, "normalize_spec.tsv:%d: no tab", line_no);
        *tab = 0;
        const char *in = line, *want = tab + 1;
        size_t n = 12345;
        enum eg_status st = eg_text_normalize(in, out, sizeof out, &n);
        CHECK(st == EG_OK, "line %d '%s': status %d", line_no, in, (int)st);
        CHECK(!strcmp(out, want), "normalize_spec.tsv:%d: '%s':\n    got:  '%s'\n    want: '%s'", line_no, in, out, want);
        CHECK(n == strlen(out), "'%s': n_out %zu != %zu", in, n, strlen(out));
        n_cases++;
    }
    fclose(f);
    CHECK(n_cases >= 150, "only %d cases", n_cases);
}

/* Skipped scripts are counted once per run of such text, and the first one is named (for the one warning). */
TEST(normalize_reports_skipped_scripts) {
    char out[256];
    struct eg_normalize_info info;
    REQUIRE(eg_text_normalize_ex("a \xe6\xac\xa2\xe8\xbf\x8e b \xd0\x94\xd0\xbe c", out, sizeof out, NULL, &info) == EG_OK,
            "status");
    CHECK(!strcmp(out, "a b c"), "'%s'", out);
    CHECK(info.n_skipped == 2, "%zu runs skipped", info.n_skipped);
    CHECK(!strcmp(info.first_skipped, "\xe6\xac\xa2\xe8\xbf\x8e"), "first '%s'", info.first_skipped);
    REQUIRE(eg_text_normalize_ex("plain", out, sizeof out, NULL, &info) == EG_OK && info.n_skipped == 0, "plain");
}

static void count_log(enum eg_log_level level, const char *msg, void *user) {
    if (level == EG_LOG_ERROR && strstr(msg, "normalise")) (*(int *)user)++;
}

/* Overflow at every buffer size below the need: EG_ERR_INVALID_ARG with one log line, "" and nothing written
 * past out_len. */
TEST(normalize_overflow_guarded) {
    int n_logs = 0;
    eg_log_set(count_log, &n_logs);
    const char *in = "He paid $1,299.99 on 2024-03-15 at 10:45 & left.";
    char ref[512];
    size_t need;
    REQUIRE(eg_text_normalize(in, ref, sizeof ref, &need) == EG_OK, "reference");
    enum { G = 64 };
    static char buf[512 + 2 * G];
    for (size_t cap = 1; cap <= need + 1; cap++) {
        memset(buf, 0xA5, sizeof buf);
        size_t n = 99;
        int logs_before = n_logs;
        enum eg_status st = eg_text_normalize(in, buf + G, cap, &n);
        if (cap <= need) {
            CHECK(st == EG_ERR_INVALID_ARG && n == 0 && buf[G] == 0, "cap %zu: status %d n %zu", cap, (int)st, n);
            CHECK(n_logs == logs_before + 1, "cap %zu: expected one log line", cap);
        } else {
            CHECK(st == EG_OK && n == need && !strcmp(buf + G, ref), "cap %zu: status %d", cap, (int)st);
        }
        int clean = 1;
        for (size_t k = 0; k < G; k++) if ((unsigned char)buf[k] != 0xA5) clean = 0;
        for (size_t k = G + cap; k < sizeof buf; k++) if ((unsigned char)buf[k] != 0xA5) clean = 0;
        CHECK(clean, "cap %zu: write outside the buffer", cap);
    }
    CHECK(eg_text_normalize(NULL, ref, sizeof ref, NULL) == EG_ERR_INVALID_ARG, "NULL input");
    CHECK(eg_text_normalize("x", NULL, 4, NULL) == EG_ERR_INVALID_ARG, "NULL output");
    CHECK(eg_text_normalize("x", ref, 0, NULL) == EG_ERR_INVALID_ARG, "empty output");
    eg_log_set(NULL, NULL);
}

/* Invalid UTF-8 is not this module's business: bytes pass through unchanged, numbers around them still convert. */
TEST(normalize_invalid_utf8_passes_through) {
    char out[128];
    CHECK(eg_text_normalize("ab\xff" "cd \xc3", out, sizeof out, NULL) == EG_OK && !strcmp(out, "ab\xff" "cd \xc3"), "%s", out);
    CHECK(eg_text_normalize("\xe2\x82 5 \xc2", out, sizeof out, NULL) == EG_OK && !strcmp(out, "\xe2\x82 five \xc2"), "%s", out);
    CHECK(eg_text_normalize("5\xc2", out, sizeof out, NULL) == EG_OK && !strcmp(out, "five\xc2"), "%s", out);
}

/* The documented bound (EG_NORMALIZE_GROWTH x input + 64) holds for the densest inputs we know. */
TEST(normalize_growth_bound) {
    static const char *const dense[] = { "777777777777", "7%7%7%7%7%7%7%", "$777,777,777,777.77", "XX", "A XX",
        "-$777.77", "7m,7m,7m", "&&&&", "(777) 777-7777", "+7 77 7777 7777", "2077-07-27T17:17:17Z", "77/77/7777" };
    char out[1024];
    for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++) {
        size_t n, bound = EG_NORMALIZE_GROWTH * strlen(dense[i]) + 64;
        CHECK(eg_text_normalize(dense[i], out, sizeof out, &n) == EG_OK && n < bound, "'%s': %zu bytes", dense[i], n);
    }
}

/* Every edge-case line normalises within the documented bound, and digits/currency signs no longer reach espeak. */
TEST(normalize_edge_cases) {
    FILE *f = fopen("tests/data/edge-cases.txt", "r");   /* a copy of the shared ../shared/eval/edge-cases.txt */
    REQUIRE(f != NULL, "tests/data/edge-cases.txt: cannot open (run from the repository root)");
    char line[2048];
    int n_lines = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t cap = EG_NORMALIZE_GROWTH * strlen(line) + 64, n;
        char *out = malloc(cap);
        REQUIRE(out, "out of memory");
        CHECK(eg_text_normalize(line, out, cap, &n) == EG_OK, "line %d: '%s'", n_lines + 1, line);
        CHECK(!strpbrk(out, "$%") && !strstr(out, "\xe2\x82\xac") && !strstr(out, "\xc2\xa3"), "line %d: '%s'",
              n_lines + 1, out);
        free(out);
        n_lines++;
    }
    fclose(f);
    CHECK(n_lines >= 50, "only %d lines", n_lines);
}
