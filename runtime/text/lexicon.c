/* runtime/text/lexicon.c — a user lexicon: word → phonemes (format and matching rules in runtime/edgegen.h).
 *
 * Entries are kept sorted by word (byte order) for binary search; one allocation holds all strings. Lookup tries
 * the word as written, then its ASCII lower-case form (which only matches all-lower-case entries, since entries
 * are stored as written).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/edgegen.h"
#include "runtime/core/internal.h"
#include "runtime/text/frontend.h"

struct lex_entry { const char *word, *phonemes; int line; };

struct eg_lexicon {
    char name[256];
    struct lex_entry *e;   /* [n] sorted by word */
    int n;
    char *strings;
};

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct lex_entry *)a)->word, ((const struct lex_entry *)b)->word);
}

static int word_char_ok(const char *w, size_t n) {   /* letters/digits (any script), inner ' - . */
    if (!n) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) continue;
        if ((c == '\'' || c == '-' || c == '.') && i > 0 && i + 1 < n) continue;
        return 0;
    }
    return 1;
}

enum eg_status eg_lexicon_parse(const char *text, size_t n_bytes, const char *name, struct eg_lexicon **out) {
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (!text) return EG_ERR_INVALID_ARG;
    if (!name) name = "lexicon";
    struct eg_lexicon *lex = calloc(1, sizeof *lex);
    if (!lex) return EG_ERR_NOMEM;
    snprintf(lex->name, sizeof lex->name, "%s", name);
    if (!(lex->strings = malloc(n_bytes + 1))) { free(lex); return EG_ERR_NOMEM; }
    memcpy(lex->strings, text, n_bytes);
    lex->strings[n_bytes] = 0;
    int cap = 0, line = 0;
    enum eg_status st = EG_OK;
    char *p = lex->strings, *end = lex->strings + n_bytes;
    if (n_bytes >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;   /* BOM */
    while (p < end && st == EG_OK) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        if (le > p && le[-1] == '\r') le[-1] = 0, le--;
        *le = 0;
        long bad = eg_text_utf8_invalid_at(p, (size_t)(le - p));
        if (memchr(p, 0, (size_t)(le - p))) {
            EG_LOGE("%s:%d: a NUL byte", name, line); st = EG_ERR_FORMAT; break;
        }
        if (bad >= 0) { EG_LOGE("%s:%d: invalid UTF-8 at byte %ld of the line", name, line, bad + 1); st = EG_ERR_FORMAT; break; }
        /* comment: '#' at the start or after whitespace */
        for (char *c = p; *c; c++)
            if (*c == '#' && (c == p || *(c - 1) == ' ' || *(c - 1) == '\t')) { *c = 0; break; }
        char *w = p;
        while (*w == ' ' || *w == '\t') w++;
        char *we = w;
        while (*we && *we != ' ' && *we != '\t') we++;
        char *ph = we;
        while (*ph == ' ' || *ph == '\t') ph++;
        char *pe = ph + strlen(ph);
        while (pe > ph && (pe[-1] == ' ' || pe[-1] == '\t')) pe--;
        *pe = 0;
        p = nl ? nl + 1 : end;
        if (we == w) continue;   /* blank or comment */
        if (!*ph) {
            EG_LOGE("%s:%d: '%.*s' has no phonemes (expected: WORD PHONEMES)", name, line, (int)(we - w), w);
            st = EG_ERR_FORMAT; break;
        }
        if (!word_char_ok(w, (size_t)(we - w))) {
            EG_LOGE("%s:%d: '%.*s' is not a word (letters and digits, with inner ' - . allowed)", name, line,
                    (int)(we - w), w);
            st = EG_ERR_FORMAT; break;
        }
        *we = 0;
        if (lex->n == cap) {
            cap = cap ? 2 * cap : 64;
            struct lex_entry *ne = realloc(lex->e, (size_t)cap * sizeof *ne);
            if (!ne) { st = EG_ERR_NOMEM; break; }
            lex->e = ne;
        }
        lex->e[lex->n++] = (struct lex_entry){ w, ph, line };
    }
    if (st == EG_OK && lex->n) {
        qsort(lex->e, (size_t)lex->n, sizeof *lex->e, cmp_entry);
        for (int i = 1; i < lex->n; i++)
            if (!strcmp(lex->e[i].word, lex->e[i - 1].word)) {
                int a = lex->e[i].line < lex->e[i - 1].line ? lex->e[i].line : lex->e[i - 1].line;
                int b = lex->e[i].line < lex->e[i - 1].line ? lex->e[i - 1].line : lex->e[i].line;
                EG_LOGE("%s:%d: '%s' is already listed on line %d", name, b, lex->e[i].word, a);
                st = EG_ERR_FORMAT;
                break;
            }
    }
    if (st != EG_OK) { eg_lexicon_free(lex); return st; }
    *out = lex;
    return EG_OK;
}

enum eg_status eg_lexicon_load(const char *path, struct eg_lexicon **out) {
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (!path) return EG_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) { EG_LOGE("%s: cannot open the lexicon: %s", path, strerror(errno)); return EG_ERR_IO; }
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    enum eg_status st = buf ? EG_OK : EG_ERR_NOMEM;
    while (st == EG_OK) {
        if (n == cap) {
            if (cap >= (64u << 20)) { EG_LOGE("%s: lexicon larger than 64 MiB", path); st = EG_ERR_FORMAT; break; }
            char *nb = realloc(buf, cap * 2);
            if (!nb) { st = EG_ERR_NOMEM; break; }
            buf = nb; cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) { EG_LOGE("%s: cannot read the lexicon: %s", path, strerror(errno)); st = EG_ERR_IO; }
            break;
        }
    }
    fclose(f);
    if (st == EG_OK) st = eg_lexicon_parse(buf, n, path, out);
    free(buf);
    return st;
}

void eg_lexicon_free(struct eg_lexicon *lex) {
    if (!lex) return;
    free(lex->e);
    free(lex->strings);
    free(lex);
}

int eg_lexicon_size(const struct eg_lexicon *lex) { return lex ? lex->n : 0; }
const char *eg_lexicon_name(const struct eg_lexicon *lex) { return lex ? lex->name : ""; }

int eg_lexicon_entry(const struct eg_lexicon *lex, int i, const char **word, const char **phonemes, int *line) {
    if (!lex || i < 0 || i >= lex->n) return 0;
    if (word) *word = lex->e[i].word;
    if (phonemes) *phonemes = lex->e[i].phonemes;
    if (line) *line = lex->e[i].line;
    return 1;
}

static const struct lex_entry *find(const struct eg_lexicon *lex, const char *w) {
    int lo = 0, hi = lex->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(lex->e[mid].word, w);
        if (!c) return &lex->e[mid];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

const char *eg_lexicon_lookup(const struct eg_lexicon *lex, const char *word, size_t n) {
    char buf[256];
    if (!lex || !word || !n || n >= sizeof buf || !lex->n) return NULL;
    memcpy(buf, word, n);
    buf[n] = 0;
    if (strlen(buf) != n) return NULL;
    const struct lex_entry *e = find(lex, buf);
    if (e) return e->phonemes;
    int changed = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] >= 'A' && buf[i] <= 'Z') { buf[i] = (char)(buf[i] + 32); changed = 1; }
    return changed && (e = find(lex, buf)) ? e->phonemes : NULL;
}

enum eg_status eg_lexicon_check(const struct eg_lexicon *lex, const struct eg_model *m) {
    if (!lex || !m) return EG_ERR_INVALID_ARG;
    for (int i = 0; i < lex->n; i++) {
        uint32_t bad;
        if (!eg_text_phonemes_known(lex->e[i].phonemes, m, &bad)) {
            char sym[8] = { 0 };
            eg_text_utf8_put(sym, bad);
            EG_LOGE("%s:%d: phoneme '%s' (U+%04X) of '%s' is not in the model's inventory", lex->name, lex->e[i].line,
                    sym, (unsigned)bad, lex->e[i].word);
            return EG_ERR_INVALID_ARG;
        }
    }
    return EG_OK;
}
