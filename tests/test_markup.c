/* tests/test_markup.c — the library's text front end (runtime/text/): SSML through expat, [[ ]] inline phonemes,
 * the user lexicon, <say-as>, sentence building and the word alignment, with a small deterministic phonemiser in
 * this file (letters stand for themselves, words separated by ' ', and "of the" / "in the" run together as
 * espeak-ng does), so no espeak-ng and no model is needed. Each error case checks the single log line (line and
 * column, file and line) and that no sentence was produced. */
#include "tests/harness.h"
#include "runtime/edgegen.h"
#include "runtime/text/frontend.h"

/* ---- log capture ------------------------------------------------------------------------------------------- */
struct logcap { int n_err, n_warn; char last[512]; };
static void cap_log(enum eg_log_level level, const char *msg, void *user) {
    struct logcap *c = user;
    if (level == EG_LOG_ERROR) c->n_err++;
    if (level == EG_LOG_WARN) c->n_warn++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

/* ---- the test phonemiser --------------------------------------------------------------------------------- */
struct fake { int n_calls; };

static int merges_with_next(const char *w, size_t n, const char *next, size_t nn) {
    return ((n == 2 && !strncmp(w, "of", 2)) || (n == 2 && !strncmp(w, "in", 2))) && nn == 3 && !strncmp(next, "the", 3);
}

static enum eg_status fake_phonemiser(void *user, const char *utf8, int max_phonemes, eg_phonemes_fn emit, void *sink) {
    struct fake *f = user;
    uint32_t buf[4096];
    int n = 0;
    enum eg_status st = EG_OK;
    (void)max_phonemes;
    if (f) f->n_calls++;
    const char *p = utf8;
    while (*p && st == EG_OK) {
        while (*p == ' ' || *p == '\n') p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\n') p++;
        size_t len = (size_t)(p - w);
        if (!len) break;
        const char *q = p;
        while (*q == ' ') q++;
        const char *nx = q;
        while (*q && *q != ' ' && *q != '\n') q++;
        int merge = merges_with_next(w, len, nx, (size_t)(q - nx));
        char term = 0;
        for (size_t i = 0; i < len && n < 4000; i++) {
            unsigned char c = (unsigned char)w[i];
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') buf[n++] = (uint32_t)(c | 0x20);
            else if (c >= '0' && c <= '9') buf[n++] = c;
            else if (c >= 0x80) { uint32_t cp; i += (size_t)eg_text_utf8_get(w + i, &cp) - 1; buf[n++] = cp; }
            else if (strchr(".?!,", (int)c)) term = (char)c;
        }
        if (term == ',') { buf[n++] = ','; buf[n++] = ' '; }
        else if (term) {
            buf[n++] = (uint32_t)term;
            st = emit(sink, buf, n);
            n = 0;
            continue;
        }
        if (!merge && n && buf[n - 1] != ' ') buf[n++] = ' ';
    }
    while (n && buf[n - 1] == ' ') n--;
    if (st == EG_OK && n) st = emit(sink, buf, n);
    return st;
}

/* ---- sentence capture ------------------------------------------------------------------------------------- */
#define MAXS 16
struct got {
    int n;
    char text[MAXS][256];
    char ph[MAXS][512];          /* phonemes as UTF-8 */
    char words[MAXS][512];       /* "text[phonemes]/source " per word */
    int pause[MAXS];
    float rate_first[MAXS], rate_last[MAXS];
    int n_given[MAXS];
};

static void utf8_of(char *out, size_t cap, const uint32_t *ph, int n) {
    size_t k = 0;
    for (int i = 0; i < n && k + 5 < cap; i++) k += (size_t)eg_text_utf8_put(out + k, ph[i]);
    out[k] = 0;
}

static enum eg_status on_sentence(void *user, const struct eg_text_sentence *s) {
    struct got *g = user;
    if (g->n >= MAXS) return EG_OK;
    int i = g->n++;
    snprintf(g->text[i], sizeof g->text[i], "%s", s->text);
    utf8_of(g->ph[i], sizeof g->ph[i], s->phonemes, s->n_phonemes);
    g->words[i][0] = 0;
    for (int k = 0; k < s->n_words; k++) {
        char ph[128];
        utf8_of(ph, sizeof ph, s->phonemes + s->words[k].first_phoneme, s->words[k].n_phonemes);
        size_t l = strlen(g->words[i]);
        snprintf(g->words[i] + l, sizeof g->words[i] - l, "%s%s[%s]%s", k ? " " : "", s->words[k].text, ph,
                 s->words[k].source == EG_WORD_LEXICON ? "/lex" : s->words[k].source == EG_WORD_INLINE ? "/given" : "");
    }
    g->pause[i] = s->pause_ms;
    g->rate_first[i] = s->n_phonemes ? s->rate[0] : 0;
    g->rate_last[i] = s->n_phonemes ? s->rate[s->n_phonemes - 1] : 0;
    g->n_given[i] = 0;
    for (int k = 0; k < s->n_phonemes; k++) g->n_given[i] += s->given[k];
    return EG_OK;
}

static enum eg_status run(const char *text, enum eg_text_format fmt, const struct eg_lexicon *lex, struct got *g,
                          struct logcap *lc) {
    struct eg_text_params tp = eg_text_default_params();
    tp.format = fmt;
    tp.lexicon = lex;
    memset(g, 0, sizeof *g);
    memset(lc, 0, sizeof *lc);
    eg_log_set(cap_log, lc);
    struct fake f = { 0 };
    enum eg_status st = eg_text_process(text, &tp, fake_phonemiser, &f, on_sentence, g);
    eg_log_set(NULL, NULL);
    return st;
}

/* ---- plain text and words ---------------------------------------------------------------------------------- */

TEST(markup_plain_sentences_and_words) {
    struct got g; struct logcap lc;
    REQUIRE(run("Hello there. It was $5.", EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status");
    REQUIRE(g.n == 2, "%d sentences", g.n);
    CHECK(!strcmp(g.text[0], "Hello there.") && !strcmp(g.text[1], "It was five dollars."), "'%s' / '%s'", g.text[0], g.text[1]);
    CHECK(!strcmp(g.ph[1], "it was five dollars."), "'%s'", g.ph[1]);
    CHECK(!strcmp(g.words[1], "It[it] was[was] five[five] dollars[dollars]"), "'%s'", g.words[1]);
    CHECK(g.pause[0] == -1 && g.pause[1] == -1, "pauses %d %d", g.pause[0], g.pause[1]);
    CHECK(g.n_given[0] == 0 && lc.n_err == 0 && lc.n_warn == 0, "given %d, %d errors", g.n_given[0], lc.n_err);
}

/* "of the" comes back as one phoneme word: the alignment gives each written word its own phonemes. */
TEST(markup_words_run_together_are_split) {
    struct got g; struct logcap lc;
    REQUIRE(run("The end of the road, in the rain.", EG_TEXT_PLAIN, NULL, &g, &lc) == EG_OK, "status");
    REQUIRE(g.n == 1, "%d sentences", g.n);
    CHECK(!strcmp(g.ph[0], "the end ofthe road, inthe rain."), "'%s'", g.ph[0]);
    CHECK(!strcmp(g.words[0], "The[the] end[end] of[of] the[the] road[road] in[in] the[the] rain[rain]"), "'%s'", g.words[0]);
}

/* ---- inline phonemes ------------------------------------------------------------------------------------------ */

TEST(markup_inline_phonemes) {
    struct got g; struct logcap lc;
    REQUIRE(run("Call [[ ʃɪvˈɔːn ]] today.", EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status");
    REQUIRE(g.n == 1, "%d sentences", g.n);
    CHECK(!strcmp(g.ph[0], "call ʃɪvˈɔːn today."), "'%s'", g.ph[0]);
    CHECK(!strcmp(g.words[0], "Call[call] ʃɪvˈɔːn[ʃɪvˈɔːn]/given today[today]"), "'%s'", g.words[0]);
    CHECK(g.n_given[0] == 7, "%d given phonemes", g.n_given[0]);
    /* two words inside one [[ ]]; the normaliser does not touch them */
    REQUIRE(run("[[ wˈʌn tˈuː ]] 3", EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status");
    CHECK(g.n == 1 && !strcmp(g.ph[0], "wˈʌn tˈuː three"), "'%s'", g.ph[0]);
    /* errors: one line with line and column, no sentence */
    CHECK(run("ok\nthen [[ abc", EG_TEXT_AUTO, NULL, &g, &lc) == EG_ERR_INVALID_ARG && g.n == 0, "unterminated");
    CHECK(lc.n_err == 1 && strstr(lc.last, "line 2, column 6") && strstr(lc.last, "]]"), "'%s'", lc.last);
    CHECK(run("x [[ ]] y", EG_TEXT_AUTO, NULL, &g, &lc) == EG_ERR_INVALID_ARG && g.n == 0 && lc.n_err == 1, "empty");
}

/* ---- SSML ----------------------------------------------------------------------------------------------------- */

TEST(markup_ssml_elements) {
    struct got g; struct logcap lc;
    const char *doc =
        "<?xml version=\"1.0\"?>\n"
        "<speak version=\"1.1\" xmlns=\"http://www.w3.org/2001/10/synthesis\" xml:lang=\"en-US\">\n"
        "  <p><s>Hello &amp; welcome</s><s>Wait<break time=\"500ms\"/>now</s></p>\n"
        "  <sub alias=\"World Wide Web Consortium\">W3C</sub> says <phoneme alphabet=\"ipa\" ph=\"təmˈɑːɹoʊ\">tomorrow</phoneme>.\n"
        "  <prosody rate=\"slow\">slowly <prosody rate=\"200%\">fast</prosody></prosody>\n"
        "  <break strength=\"strong\"/><break time=\"1.5s\"/>\n"
        "</speak>";
    REQUIRE(run(doc, EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status (%s)", lc.last);
    REQUIRE(g.n == 6, "%d sentences", g.n);
    CHECK(!strcmp(g.ph[0], "hello and welcome"), "'%s'", g.ph[0]);
    CHECK(!strcmp(g.ph[1], "wait") && !strcmp(g.ph[2], "now") && g.pause[2] == 500, "'%s' '%s' pause %d", g.ph[1], g.ph[2], g.pause[2]);
    CHECK(!strcmp(g.ph[3], "world wide web consortium says təmˈɑːɹoʊ."), "'%s'", g.ph[3]);
    CHECK(strstr(g.words[3], "tomorrow[təmˈɑːɹoʊ]/given") != NULL, "'%s'", g.words[3]);
    CHECK(!strcmp(g.ph[4], "slowly fast") && g.rate_first[4] == 0.8f && fabsf(g.rate_last[4] - 1.6f) < 1e-6f,
          "'%s' rates %g %g", g.ph[4], g.rate_first[4], g.rate_last[4]);
    CHECK(g.n == 6 && g.ph[5][0] == 0 && g.pause[5] == 700 + 1500, "trailing breaks: '%s' %d ms", g.ph[5], g.pause[5]);
    CHECK(lc.n_err == 0 && lc.n_warn == 0, "%d errors %d warnings: %s", lc.n_err, lc.n_warn, lc.last);
}

TEST(markup_ssml_say_as) {
    static const struct { const char *in, *want; } cases[] = {
        { "<say-as interpret-as=\"characters\">NASA</say-as>", "n eh s eh" },
        { "<say-as interpret-as=\"spell-out\">b-2</say-as>", "b dash two" },
        { "<say-as interpret-as=\"cardinal\">1,024</say-as>", "one thousand twenty four" },
        { "<say-as interpret-as=\"ordinal\">3</say-as>", "third" },
        { "<say-as interpret-as=\"ordinal\">21st</say-as>", "twenty first" },
        { "<say-as interpret-as=\"digits\">2024</say-as>", "two zero two four" },
        { "<say-as interpret-as=\"date\" format=\"dmy\">05/06/2024</say-as>", "june fifth, twenty twenty four" },
        { "<say-as interpret-as=\"date\" format=\"mdy\">05/06/2024</say-as>", "may sixth, twenty twenty four" },
        { "<say-as interpret-as=\"date\">2024-06-05</say-as>", "june fifth, twenty twenty four" },
        { "<say-as interpret-as=\"date\" format=\"y\">1999</say-as>", "nineteen ninety nine" },
        { "<say-as interpret-as=\"time\">14:05:09</say-as>", "fourteen oh five and nine seconds" },
        { "<say-as interpret-as=\"telephone\">+1 (415) 555-0182</say-as>",
          "plus one, four one five, five five five, zero one eight two" },
        /* not in the asked form: read as ordinary text */
        { "<say-as interpret-as=\"cardinal\">many</say-as>", "many" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[512];
        struct got g; struct logcap lc;
        snprintf(doc, sizeof doc, "<speak>%s</speak>", cases[i].in);
        CHECK(run(doc, EG_TEXT_SSML, NULL, &g, &lc) == EG_OK && g.n == 1 && !strcmp(g.ph[0], cases[i].want),
              "%s:\n    got:  '%s'\n    want: '%s'", cases[i].in, g.n ? g.ph[0] : "(nothing)", cases[i].want);
    }
}

TEST(markup_ssml_unknown_elements_warn_once) {
    struct got g; struct logcap lc;
    REQUIRE(run("<speak>I <emphasis>really</emphasis> <audio src=\"x.wav\">mean</audio> it "
                "<say-as interpret-as=\"unit\">5</say-as></speak>", EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status");
    CHECK(g.n == 1 && !strcmp(g.ph[0], "i really mean it five"), "'%s'", g.ph[0]);
    CHECK(lc.n_warn == 1 && strstr(lc.last, "<emphasis>") && strstr(lc.last, "line 1"), "%d warnings: %s", lc.n_warn, lc.last);
}

TEST(markup_ssml_errors) {
    static const struct { const char *doc, *where, *what; } cases[] = {
        { "<speak>\n  <p>open\n</speak>", "line 3, column 3", "mismatched tag" },
        { "<speak>a < b</speak>", "line 1, column 11", "not well-formed" },
        { "<speak>x</speak><speak/>", "line 1, column 17", "junk after document element" },
        { "<speak>&nbsp;</speak>", "line 1, column 8", "undefined entity" },
        { "<voice>hi</voice>", "line 1, column 1", "root element is <voice>" },
        { "<speak><break time=\"fast\"/></speak>", "line 1, column 8", "<break time=\"fast\">" },
        { "<speak><break strength=\"loud\"/></speak>", "line 1, column 8", "strength" },
        { "<speak>\n<phoneme alphabet=\"x-sampa\" ph=\"h@\">hi</phoneme></speak>", "line 2, column 1", "only alphabet=\"ipa\"" },
        { "<speak><phoneme>hi</phoneme></speak>", "line 1, column 8", "without a ph" },
        { "<speak><sub>W3C</sub></speak>", "line 1, column 8", "without an alias" },
        { "<speak><prosody rate=\"9000%\">x</prosody></speak>", "line 1, column 8", "rate" },
        { "<speak><say-as>x</say-as></speak>", "line 1, column 8", "interpret-as" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct got g; struct logcap lc;
        enum eg_status st = run(cases[i].doc, EG_TEXT_SSML, NULL, &g, &lc);
        CHECK(st == EG_ERR_INVALID_ARG && g.n == 0 && lc.n_err == 1, "%s: status %d, %d sentences, %d errors",
              cases[i].doc, (int)st, g.n, lc.n_err);
        CHECK(!strncmp(lc.last, "SSML: ", 6) && strstr(lc.last, cases[i].where) && strstr(lc.last, cases[i].what),
              "%s:\n    log: '%s'\n    want: '%s' and '%s'", cases[i].doc, lc.last, cases[i].where, cases[i].what);
    }
}

TEST(markup_ssml_detection) {
    CHECK(eg_text_looks_like_ssml("<speak>x</speak>"), "plain root");
    CHECK(eg_text_looks_like_ssml("\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<!-- c --><speak version=\"1.1\">x</speak>"), "decl");
    CHECK(!eg_text_looks_like_ssml("speak <speak>"), "text first");
    CHECK(!eg_text_looks_like_ssml("<speaker>x</speaker>"), "other element");
    struct got g; struct logcap lc;
    /* plain format: the tags are text (the normaliser and phonemiser see them) */
    REQUIRE(run("<speak>hi</speak>", EG_TEXT_PLAIN, NULL, &g, &lc) == EG_OK, "plain");
    CHECK(g.n == 1 && strstr(g.text[0], "<speak>"), "'%s'", g.text[0]);
}

/* ---- lexicon -------------------------------------------------------------------------------------------------- */

TEST(markup_lexicon_file_rules) {
    struct eg_lexicon *lex = NULL;
    struct logcap lc = { 0 };
    const char *text = "# names\n"
                       "Siobhan\tʃɪvˈɔːn   # Irish\n"
                       "\n"
                       "nasa  nˈæsə\n"
                       "US ju ɛs\n"
                       "O'Neill oʊnˈiːl\n";
    REQUIRE(eg_lexicon_parse(text, strlen(text), "names.lex", &lex) == EG_OK, "parse");
    CHECK(eg_lexicon_size(lex) == 4, "%d entries", eg_lexicon_size(lex));
    const char *p;
    CHECK((p = eg_lexicon_lookup(lex, "Siobhan", 7)) && !strcmp(p, "ʃɪvˈɔːn"), "exact: %s", p ? p : "NULL");
    CHECK(!eg_lexicon_lookup(lex, "siobhan", 7), "a capitalised entry matches only as written");
    CHECK((p = eg_lexicon_lookup(lex, "NASA", 4)) && !strcmp(p, "nˈæsə"), "lower-case entry matches NASA");
    CHECK(eg_lexicon_lookup(lex, "Nasa", 4) != NULL, "and Nasa");
    CHECK(eg_lexicon_lookup(lex, "US", 2) && !eg_lexicon_lookup(lex, "us", 2), "US only as written");
    CHECK(eg_lexicon_lookup(lex, "O'Neill", 7) != NULL, "inner apostrophe");

    struct got g;
    struct eg_text_params tp = eg_text_default_params();
    tp.lexicon = lex;
    memset(&g, 0, sizeof g);
    REQUIRE(eg_text_process("Siobhan met O'Neill at NASA, in the US.", &tp, fake_phonemiser, NULL, on_sentence, &g) == EG_OK, "process");
    REQUIRE(g.n == 1, "%d sentences", g.n);
    CHECK(!strcmp(g.ph[0], "ʃɪvˈɔːn met oʊnˈiːl at nˈæsə, inthe ju ɛs."), "'%s'", g.ph[0]);
    CHECK(!strcmp(g.words[0], "Siobhan[ʃɪvˈɔːn]/lex met[met] O'Neill[oʊnˈiːl]/lex at[at] NASA[nˈæsə]/lex in[in] the[the] "
                              "US[ju ɛs]/lex"), "'%s'", g.words[0]);
    eg_lexicon_free(lex);

    static const struct { const char *text, *want; } bad[] = {
        { "a ə\nword\n", "x.lex:2: 'word' has no phonemes" },
        { "ok ə\n\n  lone   # comment\n", "x.lex:3: 'lone' has no phonemes" },
        { "a ə\nb ɪ\na ɛ\n", "x.lex:3: 'a' is already listed on line 1" },
        { "(x) ə\n", "x.lex:1: '(x)' is not a word" },
        { "ok ə\nbad \xff\n", "x.lex:2: invalid UTF-8" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&lc, 0, sizeof lc);
        eg_log_set(cap_log, &lc);
        lex = (struct eg_lexicon *)&lc;   /* must be reset to NULL */
        enum eg_status st = eg_lexicon_parse(bad[i].text, strlen(bad[i].text), "x.lex", &lex);
        eg_log_set(NULL, NULL);
        CHECK(st == EG_ERR_FORMAT && lex == NULL && lc.n_err == 1 && strstr(lc.last, bad[i].want),
              "case %zu: status %d, log '%s', want '%s'", i, (int)st, lc.last, bad[i].want);
    }
    memset(&lc, 0, sizeof lc);
    eg_log_set(cap_log, &lc);
    CHECK(eg_lexicon_load("/nonexistent/dir/x.lex", &lex) == EG_ERR_IO && !lex && lc.n_err == 1 &&
          strstr(lc.last, "/nonexistent/dir/x.lex: cannot open"), "missing file: '%s'", lc.last);
    eg_log_set(NULL, NULL);
}

/* ---- sentence splitting at max_phonemes and invalid input --------------------------------------------------- */

TEST(markup_long_sentence_split_at_words) {
    struct eg_text_params tp = eg_text_default_params();
    tp.max_phonemes = 20;
    struct got g;
    memset(&g, 0, sizeof g);
    REQUIRE(eg_text_process("alpha beta gamma delta epsilon zeta eta theta.", &tp, fake_phonemiser, NULL, on_sentence,
                            &g) == EG_OK, "process");
    CHECK(g.n >= 3, "%d pieces", g.n);
    int total_words = 0;
    for (int i = 0; i < g.n; i++) {
        CHECK(strlen(g.ph[i]) <= 20, "piece %d: '%s'", i, g.ph[i]);
        CHECK(g.ph[i][0] != ' ' && g.ph[i][strlen(g.ph[i]) - 1] != ' ', "piece %d: '%s'", i, g.ph[i]);
        for (const char *c = g.words[i]; (c = strchr(c, '[')); c++) total_words++;
    }
    CHECK(total_words == 8, "%d words over the pieces", total_words);
    CHECK(!strcmp(g.text[g.n - 1] + strlen(g.text[g.n - 1]) - 1, "."), "last piece keeps the end mark: '%s'", g.text[g.n - 1]);
    struct logcap lc;
    CHECK(run("bad \xff", EG_TEXT_AUTO, NULL, &g, &lc) == EG_ERR_INVALID_ARG && g.n == 0 && strstr(lc.last, "byte 4"),
          "invalid UTF-8: '%s'", lc.last);
}

/* Unspeakable scripts: left out, one warning for the whole input. */
TEST(markup_unspeakable_script_one_warning) {
    struct got g; struct logcap lc;
    REQUIRE(run("Hello 你好. And שלום. Bye \xd0\x94\xd0\xbe.", EG_TEXT_AUTO, NULL, &g, &lc) == EG_OK, "status");
    CHECK(g.n == 3 && !strcmp(g.ph[0], "hello.") && !strcmp(g.ph[1], "and."), "%d: '%s' '%s'", g.n, g.ph[0], g.ph[1]);
    CHECK(lc.n_warn == 1 && strstr(lc.last, "3 words") && strstr(lc.last, "你好"), "%d warnings: '%s'", lc.n_warn, lc.last);
}

/* Mutated markup never crashes or leaks (run under ASan in the sanitizer suite): every result is EG_OK or a clean
 * EG_ERR_INVALID_ARG, and an error produces no sentence. */
static enum eg_status count_sentence(void *user, const struct eg_text_sentence *s) { (*(int *)user)++; (void)s; return EG_OK; }
static void quiet(enum eg_log_level level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

TEST(markup_mutations_are_handled) {
    static const char *const seeds[] = {
        "<speak><p><s>Hi <break time=\"200ms\"/>there</s></p><say-as interpret-as=\"date\" format=\"dmy\">05/06/2024</say-as>"
        "<prosody rate=\"fast\">go <phoneme alphabet=\"ipa\" ph=\"ab\">x</phoneme></prosody><sub alias=\"y\">z</sub></speak>",
        "Plain [[ ab cd ]] text, $5.50 on 12:30:15 at https://x.org/a?b=1 [[ e ]].",
    };
    static const char alphabet[] = "<>/\"=&;[] abs:.5$#-'!?";
    uint64_t rng = 12345;
    char buf[1024];
    eg_log_set(quiet, NULL);
    int n_ok = 0, n_err = 0;
    for (int round = 0; round < 3000; round++) {
        const char *seed = seeds[round % 2];
        size_t n = strlen(seed);
        memcpy(buf, seed, n + 1);
        const int edits = 1 + (int)(th_rand_u64(&rng) % 4);
        for (int e = 0; e < edits && n > 2 && n < sizeof buf - 2; e++) {
            const size_t at = (size_t)(th_rand_u64(&rng) % n);
            const char c = alphabet[th_rand_u64(&rng) % (sizeof alphabet - 1)];
            switch (th_rand_u64(&rng) % 3) {
            case 0: buf[at] = c; break;
            case 1: memmove(buf + at + 1, buf + at, n - at + 1); buf[at] = c; n++; break;
            default: memmove(buf + at, buf + at + 1, n - at); n--; break;
            }
        }
        int n_sent = 0;
        enum eg_status st = eg_text_process(buf, NULL, fake_phonemiser, NULL, count_sentence, &n_sent);
        if (st == EG_OK) n_ok++;
        else { n_err++; CHECK(st == EG_ERR_INVALID_ARG && n_sent == 0, "'%s': status %d, %d sentences", buf, (int)st, n_sent); }
        if (th_->failed > 5) break;
    }
    eg_log_set(NULL, NULL);
    CHECK(n_ok > 100 && n_err > 100, "%d accepted, %d refused: the mutations should do both", n_ok, n_err);
}
