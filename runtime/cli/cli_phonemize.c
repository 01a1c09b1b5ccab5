/* runtime/cli/cli_phonemize.c — `edgegen phonemize TEXT`: what the text front end makes of a text, sentence by
 * sentence (normalised text, phonemes, each word with its phonemes and where they came from), without a model, so a
 * user can see why a word sounds wrong and fix it with the lexicon or [[ inline phonemes ]]. `edgegen tts --dry-run`
 * prints the same. Also home of the espeak-ng phonemiser adapter both commands hand to the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"
#include "runtime/text/text.h"

/* ---- the library's phonemiser callback over runtime/text.c (espeak-ng) -------------------------------------- */

static enum eg_status on_espeak_sentence(void *user, const uint32_t *phonemes, int n, const char *text, size_t len) {
    struct eg_cli_phon *p = user;
    (void)text; (void)len;
    return p->emit(p->sink, phonemes, n);
}

enum eg_status eg_cli_phonemiser(void *user, const char *utf8, int max_phonemes, eg_phonemes_fn emit, void *sink) {
    struct eg_cli_phon *p = user;
    p->emit = emit;
    p->sink = sink;
    return eg_phonemize(p->ph, utf8, max_phonemes, on_espeak_sentence, p);
}

/* ---- printing --------------------------------------------------------------------------------------------------- */

struct dry { FILE *out; const struct eg_model *m; int n; };

static void put_cps(FILE *f, const uint32_t *ph, int n) {
    for (int i = 0; i < n; i++) {
        char b[4];
        uint32_t cp = ph[i];
        int k;
        if (cp < 0x80) { b[0] = (char)cp; k = 1; }
        else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); k = 2; }
        else if (cp < 0x10000) { b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 63)); b[2] = (char)(0x80 | (cp & 63)); k = 3; }
        else { b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 63)); b[2] = (char)(0x80 | ((cp >> 6) & 63)); b[3] = (char)(0x80 | (cp & 63)); k = 4; }
        fwrite(b, 1, (size_t)k, f);
    }
}

static enum eg_status print_sentence(void *user, const struct eg_text_sentence *s) {
    struct dry *d = user;
    FILE *f = d->out;
    if (s->pause_ms >= 0) fprintf(f, "[pause %d ms]\n", s->pause_ms);
    if (!s->n_phonemes) return ferror(f) ? EG_ERR_IO : EG_OK;
    d->n++;
    fprintf(f, "sentence %lld: %s\n  phonemes: ", (long long)s->index + 1, s->text);
    put_cps(f, s->phonemes, s->n_phonemes);
    fprintf(f, "\n  words:   ");
    for (int i = 0; i < s->n_words; i++) {
        const struct eg_text_word *w = &s->words[i];
        fprintf(f, " %s=", w->text);
        put_cps(f, s->phonemes + w->first_phoneme, w->n_phonemes);
        if (w->source == EG_WORD_LEXICON) fprintf(f, "(lexicon)");
        else if (w->source == EG_WORD_INLINE) fprintf(f, "(given)");
    }
    fputc('\n', f);
    int rated = 0;
    for (int i = 0; i < s->n_phonemes; i++) rated |= s->rate[i] != 1.0f;
    if (rated) {
        fprintf(f, "  rate:     ");
        for (int i = 0; i < s->n_phonemes; i++)
            if (!i || s->rate[i] != s->rate[i - 1]) fprintf(f, "%sx%.2f from phoneme %d", i ? ", " : "", s->rate[i], i + 1);
        fputc('\n', f);
    }
    if (d->m) {   /* symbols the model would drop */
        int first = 1;
        for (int i = 0; i < s->n_phonemes; i++) {
            if (s->phonemes[i] == ' ' || eg_model_phoneme_id(d->m, s->phonemes[i]) >= 0) continue;
            int seen = 0;
            for (int j = 0; j < i; j++) seen |= s->phonemes[j] == s->phonemes[i];
            if (seen) continue;
            fprintf(f, "%s", first ? "  not in the model (skipped when spoken): " : " ");
            put_cps(f, &s->phonemes[i], 1);
            fprintf(f, " (U+%04X)", (unsigned)s->phonemes[i]);
            first = 0;
        }
        if (!first) fputc('\n', f);
    }
    return ferror(f) ? EG_ERR_IO : EG_OK;
}

int eg_cli_dry_run(const char *text, const struct eg_text_params *tp, struct eg_phonemizer *ph,
                   const struct eg_model *m, FILE *out) {
    struct eg_cli_phon pu = { .ph = ph };
    struct dry d = { out, m, 0 };
    enum eg_status st = m ? eg_text_check(text, tp, m) : EG_OK;
    if (st == EG_OK) st = eg_text_process(text, tp, eg_cli_phonemiser, &pu, print_sentence, &d);
    if (st == EG_OK && fflush(out) != 0) {
        fprintf(stderr, "edgegen: error: writing the output: %s\n", strerror(errno));
        return 1;
    }
    if (st == EG_OK && d.n == 0) {
        fprintf(stderr, "edgegen: error: no speakable text\n");
        return 1;
    }
    return st == EG_OK ? 0 : 1;
}

/* ---- the command ------------------------------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen phonemize [TEXT...] [options]\n"
            "\n"
            "Show what the text front end makes of TEXT (arguments joined with spaces; none or \"-\" reads stdin):\n"
            "for each sentence its normalised text, its phonemes, and each word with its phonemes (marked\n"
            "(lexicon) or (given) when they came from --lexicon or [[ ]] / <phoneme>); [pause N ms] for breaks.\n"
            "No model is needed; phonemes are IPA in the alphabet the models use, the one to write in a lexicon.\n"
            "\n"
            "options:\n"
            "      --ssml            the input is SSML (default: SSML when it starts with <speak>)\n"
            "      --plain           the input is plain text even if it starts with <speak>\n"
            "      --lexicon FILE    word → phonemes (edgegen tts --help describes the format)\n"
            "      --no-normalize    do not rewrite numbers, money, dates ... into words\n"
            "  -m, --model PATH      also check against this AR model: user-written phonemes it lacks are an error,\n"
            "                        phonemiser symbols it lacks are listed (they are skipped when spoken)\n"
            "      --voice NAME      espeak-ng voice (default en-us)\n"
            "  -h, --help            this help\n"
            "\n"
            "exit status: 0 ok, 1 bad text/markup/lexicon (one line on stderr), 2 usage error\n"
            "\n"
            "examples:\n"
            "  edgegen phonemize \"Dr. Okafor paid \\$5.50 on 05/06/2024.\"\n"
            "  edgegen phonemize --lexicon names.lex \"Siobhan called.\"\n"
            "  edgegen phonemize '<speak>Call <say-as interpret-as=\"telephone\">555-0147</say-as>.</speak>'\n");
}

/* Shared with tts: read the text from the words or stdin; NULL after one error line. */
char *eg_cli_read_text(const char *const *words, int n_words) {
    char *text;
    if (n_words == 0 || (n_words == 1 && !strcmp(words[0], "-"))) {
        size_t n = 0, cap = 4096;
        text = malloc(cap);
        while (text) {
            if (n + 1 >= cap) {
                if (cap > (16u << 20)) { fprintf(stderr, "edgegen: error: input text is larger than 16 MiB\n"); free(text); return NULL; }
                char *nb = realloc(text, cap * 2);
                if (!nb) break;
                text = nb;
                cap *= 2;
            }
            size_t r = fread(text + n, 1, cap - 1 - n, stdin);
            n += r;
            if (!r) break;
        }
        if (!text) { fprintf(stderr, "edgegen: error: out of memory\n"); return NULL; }
        if (ferror(stdin)) { fprintf(stderr, "edgegen: error: reading standard input: %s\n", strerror(errno)); free(text); return NULL; }
        text[n] = 0;
        if (strlen(text) != n) { fprintf(stderr, "edgegen: error: input text contains a NUL byte at byte %zu\n", strlen(text)); free(text); return NULL; }
        return text;
    }
    size_t len = 1;
    for (int i = 0; i < n_words; i++) len += strlen(words[i]) + 1;
    if (!(text = malloc(len))) { fprintf(stderr, "edgegen: error: out of memory\n"); return NULL; }
    text[0] = 0;
    for (int i = 0; i < n_words; i++) { if (i) strcat(text, " "); strcat(text, words[i]); }
    return text;
}

static int run(int argc, char **argv) {
    const char *voice = "en-us", *lex_path = NULL, *model_path = NULL;
    const char **words = calloc((size_t)argc + 1, sizeof *words);
    int n_words = 0, dashdash = 0, rc = 1;
    struct eg_text_params tp = eg_text_default_params();
    tp.max_phonemes = 2000;
    if (!words) { fprintf(stderr, "edgegen phonemize: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (dashdash || !(a[0] == '-' && a[1])) { words[n_words++] = a; continue; }
        if (!strcmp(a, "--")) dashdash = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); free(words); return 0; }
        else if (!strcmp(a, "--ssml")) tp.format = EG_TEXT_SSML;
        else if (!strcmp(a, "--plain")) tp.format = EG_TEXT_PLAIN;
        else if (!strcmp(a, "--no-normalize")) tp.normalize = 0;
        else if (!strcmp(a, "--lexicon") || !strcmp(a, "--voice") || !strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!val) { fprintf(stderr, "edgegen phonemize: %s needs a value\n", a); free(words); return 2; }
            if (!strcmp(a, "--lexicon")) lex_path = val;
            else if (!strcmp(a, "--voice")) voice = val;
            else model_path = val;
            i++;
        } else { fprintf(stderr, "edgegen phonemize: unknown option '%s' (edgegen phonemize --help lists them)\n", a); free(words); return 2; }
    }
    char *text = eg_cli_read_text(words, n_words);
    struct eg_lexicon *lex = NULL;
    struct eg_model *m = NULL;
    struct eg_phonemizer *ph = NULL;
    enum eg_status st;
    if (!text) goto out;
    if (lex_path && eg_lexicon_load(lex_path, &lex) != EG_OK) goto out;
    tp.lexicon = lex;
    if (model_path && !(m = eg_model_load(model_path, NULL, &st))) goto out;
    if (eg_phonemizer_create(voice, NULL, &ph) != EG_OK) goto out;
    rc = eg_cli_dry_run(text, &tp, ph, m, stdout);
out:
    eg_phonemizer_destroy(ph);
    eg_model_free(m);
    eg_lexicon_free(lex);
    free(text);
    free(words);
    return rc;
}

const struct eg_cli_cmd eg_cli_phonemize = {
    .name = "phonemize",
    .summary = "text → normalised words and phonemes per sentence (no model needed)",
    .run = run,
};
