/* tests/test_text.c — the text front end: UTF-8 validation, sentence splitting and phonemes vs the Python twin
 * (models/train/phonemize_ref.py → tests/golden/phonemes.tsv), id mapping, and the edge-case texts. */
#include "tests/harness.h"
#include "runtime/text/text.h"

TEST(text_utf8_validation) {
    static const struct { const char *s; long bad; } cases[] = {
        { "plain ascii", -1 }, { "caf\xc3\xa9", -1 }, { "\xe2\x82\xac 5", -1 }, { "\xf0\x9f\x98\x80", -1 },
        { "ab\xff", 2 }, { "\xc3", 0 }, { "x\xc0\xaf", 1 },           /* truncated, overlong '/' */
        { "\xed\xa0\x80", 0 }, { "\xf4\x90\x80\x80", 0 },             /* surrogate, > U+10FFFF */
        { "ok \xe2\x82", 3 }, { "\x80", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long got = eg_utf8_invalid_at(cases[i].s, strlen(cases[i].s));
        CHECK(got == cases[i].bad, "case %zu: expected %ld, got %ld", i, cases[i].bad, got);
    }
}

TEST(text_phoneme_ids_layout) {
    uint32_t sym[8] = { '_', '^', '$', ' ', 'a', 'b', 0x2C8 /* ˈ */, '.' };
    struct eg_phoneme_map map = { 8, sym, 0, 1, 2 };
    uint32_t ph[] = { 0x2C8, 'a', 'x', 'b', '.' };
    int32_t ids[32];
    int unknown = 0;
    int n = eg_phoneme_ids(&map, ph, 5, ids, 32, &unknown);
    static const int32_t want[] = { 1, 0, 6, 0, 4, 0, 5, 0, 7, 0, 2 };   /* ^ _ ˈ _ a _ b _ . _ $ */
    REQUIRE(n == 11, "got %d ids", n);
    CHECK(unknown == 1, "unknown %d", unknown);
    for (int i = 0; i < n; i++) CHECK(ids[i] == want[i], "id %d: %d != %d", i, ids[i], want[i]);
    CHECK(eg_phoneme_ids(&map, ph, 5, ids, 6, NULL) == -1, "overflow must be reported");
}

#if EG_WITH_ESPEAK
struct collect { char out[4096]; size_t len; int n_sent; int max_len; };

static enum eg_status collect_fn(void *user, const uint32_t *ph, int n, const char *text, size_t text_len) {
    struct collect *c = user;
    if (c->n_sent++) c->len += (size_t)snprintf(c->out + c->len, sizeof c->out - c->len, " | ");
    if (n > c->max_len) c->max_len = n;
    for (int i = 0; i < n && c->len + 5 < sizeof c->out; i++) {   /* re-encode UTF-8 */
        uint32_t cp = ph[i];
        if (cp < 0x80) c->out[c->len++] = (char)cp;
        else if (cp < 0x800) { c->out[c->len++] = (char)(0xC0 | cp >> 6); c->out[c->len++] = (char)(0x80 | (cp & 63)); }
        else { c->out[c->len++] = (char)(0xE0 | cp >> 12); c->out[c->len++] = (char)(0x80 | ((cp >> 6) & 63)); c->out[c->len++] = (char)(0x80 | (cp & 63)); }
    }
    c->out[c->len] = 0;
    return EG_OK;
}

TEST(text_phonemes_match_python_twin) {
    FILE *f = fopen("tests/golden/phonemes.tsv", "r");
    REQUIRE(f, "tests/golden/phonemes.tsv missing (run from the repository root)");
    struct eg_phonemizer *p;
    REQUIRE(eg_phonemizer_create("en-us", NULL, &p) == EG_OK, "espeak-ng init");
    char line[4096];
    int n_lines = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        struct collect c = {0};
        CHECK(eg_phonemize(p, line, 0, collect_fn, &c) == EG_OK, "phonemize '%s'", line);
        CHECK(!strcmp(c.out, tab + 1), "'%s':\n    C:      %s\n    python: %s", line, c.out, tab + 1);
        n_lines++;
    }
    fclose(f);
    CHECK(n_lines >= 10, "only %d golden lines", n_lines);
    eg_phonemizer_destroy(p);
}

TEST(text_sentences_split_and_limits) {
    struct eg_phonemizer *p;
    REQUIRE(eg_phonemizer_create("en-us", NULL, &p) == EG_OK, "espeak-ng init");
    struct collect c = {0};
    CHECK(eg_phonemize(p, "Hello there. How are you? Fine!", 0, collect_fn, &c) == EG_OK, "phonemize");
    CHECK(c.n_sent == 3, "3 sentences expected, got %d (%s)", c.n_sent, c.out);
    struct collect e = {0};
    CHECK(eg_phonemize(p, "", 0, collect_fn, &e) == EG_OK && e.n_sent == 0, "empty text: %d sentences", e.n_sent);
    struct collect l = {0};
    CHECK(eg_phonemize(p, "a very long line of words that goes on and on without any stop at all for a while", 40,
                       collect_fn, &l) == EG_OK, "long");
    CHECK(l.n_sent >= 2 && l.max_len <= 40, "split: %d pieces, longest %d", l.n_sent, l.max_len);
    struct collect b = {0};
    CHECK(eg_phonemize(p, "bad \xff byte", 0, collect_fn, &b) == EG_ERR_INVALID_ARG && b.n_sent == 0, "invalid UTF-8");
    eg_phonemizer_destroy(p);
}

/* Every line of tests/data/edge-cases.txt phonemises without error and yields something speakable. */
TEST(text_edge_cases_do_not_fail) {
    FILE *f = fopen("tests/data/edge-cases.txt", "r");   /* a copy of the shared ../shared/eval/edge-cases.txt */
    REQUIRE(f != NULL, "tests/data/edge-cases.txt: cannot open (run from the repository root)");
    struct eg_phonemizer *p;
    REQUIRE(eg_phonemizer_create("en-us", NULL, &p) == EG_OK, "espeak-ng init");
    static char line[65536];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        struct collect c = {0};
        CHECK(eg_phonemize(p, line, 400, collect_fn, &c) == EG_OK, "line %d", n + 1);
        CHECK(c.n_sent >= 1 && c.max_len <= 400, "line %d: %d sentences, longest %d", n + 1, c.n_sent, c.max_len);
        n++;
    }
    fclose(f);
    CHECK(n >= 50, "read %d lines", n);
    eg_phonemizer_destroy(p);
}
#else
TEST(text_phonemes_match_python_twin) { SKIP("built without espeak-ng (EG_WITH_ESPEAK=0)"); }
#endif
