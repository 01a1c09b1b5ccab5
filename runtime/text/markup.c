/* runtime/text/markup.c — input markup → a flat list of items (runtime/text/frontend.h): plain text with inline
 * phonemes "[[ ... ]]", or the SSML subset documented in runtime/edgegen.h, parsed by expat (a real XML parser:
 * entities, CDATA, comments and well-formedness are its job; DTDs and external entities are not loaded).
 *
 * SSML is parsed completely before anything is spoken, so malformed input produces one error and no audio.
 * Character data is collected per element and turned into items at element edges, each item carrying the state
 * of its innermost element (prosody rate, say-as). Unknown elements are transparent (their text is read) with
 * one warning per input.
 */
#include "runtime/text/frontend.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/internal.h"
#include "runtime/core/utf8.h"

#ifndef EG_WITH_EXPAT
#define EG_WITH_EXPAT 1
#endif

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* decoding and validation are the core's (runtime/core/utf8.c); the front end adds only the encoder */
int eg_text_utf8_get(const char *str, uint32_t *cp) { return eg_utf8_decode(str, cp); }

int eg_text_utf8_put(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63)); o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

long eg_text_utf8_invalid_at(const char *str, size_t n) { return eg_utf8_invalid_at(str, n); }

int eg_text_phonemes_known(const char *ipa, const struct eg_model *m, uint32_t *bad) {
    for (const char *c = ipa; *c;) {
        uint32_t cp;
        c += eg_text_utf8_get(c, &cp);
        if (is_ws((int)cp)) continue;
        if (eg_model_phoneme_id(m, cp) < 0) { *bad = cp; return 0; }
    }
    return 1;
}

void eg_text_doc_free(struct eg_text_doc *doc) {
    if (!doc) return;
    for (int i = 0; i < doc->n; i++) { free(doc->items[i].text); free(doc->items[i].ipa); }
    free(doc->items);
    memset(doc, 0, sizeof *doc);
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

/* Append an item; text/ipa are copied (n bytes each; NULL allowed). */
static enum eg_status add_item(struct eg_text_doc *doc, const struct eg_text_item *it, const char *text, size_t n_text,
                               const char *ipa, size_t n_ipa) {
    if (doc->n == doc->cap) {
        int cap = doc->cap ? 2 * doc->cap : 16;
        struct eg_text_item *ni = realloc(doc->items, (size_t)cap * sizeof *ni);
        if (!ni) return EG_ERR_NOMEM;
        doc->items = ni;
        doc->cap = cap;
    }
    struct eg_text_item *d = &doc->items[doc->n];
    *d = *it;
    d->text = d->ipa = NULL;
    if (text && !(d->text = dup_n(text, n_text))) return EG_ERR_NOMEM;
    if (ipa && !(d->ipa = dup_n(ipa, n_ipa))) { free(d->text); return EG_ERR_NOMEM; }
    doc->n++;
    return EG_OK;
}


int eg_text_looks_like_ssml(const char *s) {
    if (!s) return 0;
    if (!strncmp(s, "\xEF\xBB\xBF", 3)) s += 3;
    for (;;) {
        while (is_ws((unsigned char)*s)) s++;
        if (!strncmp(s, "<?xml", 5)) {          /* declaration */
            const char *e = strstr(s, "?>");
            if (!e) return 0;
            s = e + 2;
        } else if (!strncmp(s, "<!--", 4)) {    /* comment */
            const char *e = strstr(s, "-->");
            if (!e) return 0;
            s = e + 3;
        } else break;
    }
    return !strncmp(s, "<speak", 6) && (is_ws((unsigned char)s[6]) || s[6] == '>' || s[6] == '/');
}

/* ---- plain text with [[ inline phonemes ]] ------------------------------------------------------------------ */

static void line_col(const char *text, const char *at, int *line, int *col) {
    *line = 1; *col = 1;
    for (const char *c = text; c < at; c++) {
        if (*c == '\n') { (*line)++; *col = 1; }
        else if (((unsigned char)*c & 0xC0) != 0x80) (*col)++;
    }
}

/* Each whitespace-separated group inside [[ ]] becomes one PHONEMES item (one word, written as its phonemes). */
static enum eg_status add_phoneme_words(struct eg_text_doc *doc, const char *ph, size_t n, float rate, int line,
                                        int col, const char *display, size_t n_display) {
    struct eg_text_item it = { .kind = EG_ITEM_PHONEMES, .rate = rate, .line = line, .column = col };
    size_t i = 0;
    int words = 0;
    enum eg_status st;
    while (i < n) {
        while (i < n && is_ws((unsigned char)ph[i])) i++;
        size_t b = i;
        while (i < n && !is_ws((unsigned char)ph[i])) i++;
        if (i == b) break;
        words++;
        /* a <phoneme> element's word is shown as its text (first group only carries it) */
        const char *t = display ? (words == 1 ? display : "") : ph + b;
        size_t tn = display ? (words == 1 ? n_display : 0) : i - b;
        if ((st = add_item(doc, &it, t, tn, ph + b, i - b)) != EG_OK) return st;
    }
    return words ? EG_OK : EG_ERR_INVALID_ARG;
}

static enum eg_status parse_plain(const char *s, struct eg_text_doc *doc) {
    struct eg_text_item text = { .kind = EG_ITEM_TEXT, .rate = 1.0f };
    const char *p = s;
    enum eg_status st;
    for (;;) {
        const char *open = strstr(p, "[[");
        if (!open) break;
        const char *close = strstr(open + 2, "]]");
        int line, col;
        line_col(s, open, &line, &col);
        if (!close) {
            EG_LOGE("inline phonemes: line %d, column %d: '[[' has no closing ']]'", line, col);
            return EG_ERR_INVALID_ARG;
        }
        if (open > p) {
            text.line = line;
            if ((st = add_item(doc, &text, p, (size_t)(open - p), NULL, 0)) != EG_OK) return st;
        }
        st = add_phoneme_words(doc, open + 2, (size_t)(close - open - 2), 1.0f, line, col, NULL, 0);
        if (st == EG_ERR_INVALID_ARG) EG_LOGE("inline phonemes: line %d, column %d: '[[ ]]' is empty", line, col);
        if (st != EG_OK) return st;
        p = close + 2;
    }
    if (*p && (st = add_item(doc, &text, p, strlen(p), NULL, 0)) != EG_OK) return st;
    return EG_OK;
}

/* ---- SSML ------------------------------------------------------------------------------------------------------ */

#if EG_WITH_EXPAT
#include <expat.h>

enum el_kind { EL_SPEAK, EL_P, EL_S, EL_BREAK, EL_PHONEME, EL_SUB, EL_SAY_AS, EL_PROSODY, EL_UNKNOWN };

struct el {
    enum el_kind kind;
    float rate;                  /* effective rate inside */
    enum eg_say_as say_as;
    char format[8];
    char *attr;                  /* phoneme: ph; sub: alias (owned) */
    int line, column;
};

#define MAX_DEPTH 256

struct sx {
    XML_Parser xp;
    struct eg_text_doc *doc;
    struct el stack[MAX_DEPTH];
    int depth;
    char *buf;                   /* character data since the last item */
    size_t n_buf, cap_buf;
    int buf_line, buf_col;
    enum eg_status st;
    int n_unknown;               /* unknown elements and ignored attributes: one warning at the end */
    char first_unknown[112];
    int first_unknown_line;
};

static void where(struct sx *x, int *line, int *col) {
    *line = (int)XML_GetCurrentLineNumber(x->xp);
    *col = (int)XML_GetCurrentColumnNumber(x->xp) + 1;
}

EG_PRINTF(2, 3) static void fail(struct sx *x, const char *fmt, ...) {
    if (x->st != EG_OK) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    where(x, &line, &col);
    EG_LOGE("SSML: line %d, column %d: %s", line, col, msg);
    x->st = EG_ERR_INVALID_ARG;
    XML_StopParser(x->xp, XML_FALSE);
}

static void nomem(struct sx *x) {
    if (x->st == EG_OK) { x->st = EG_ERR_NOMEM; XML_StopParser(x->xp, XML_FALSE); }
}

static void note_unknown(struct sx *x, const char *what) {
    if (!x->n_unknown++) {
        snprintf(x->first_unknown, sizeof x->first_unknown, "%s", what);
        x->first_unknown_line = (int)XML_GetCurrentLineNumber(x->xp);
    }
}

static int capturing(const struct sx *x) {
    for (int i = 0; i < x->depth; i++)
        if (x->stack[i].kind == EL_PHONEME || x->stack[i].kind == EL_SUB || x->stack[i].kind == EL_SAY_AS) return 1;
    return 0;
}

/* Character data collected so far → one TEXT item with the innermost element's state. */
static void flush_text(struct sx *x) {
    if (!x->n_buf || x->st != EG_OK) { x->n_buf = 0; return; }
    const struct el *top = &x->stack[x->depth - 1];
    struct eg_text_item it = { .kind = EG_ITEM_TEXT, .rate = top->rate, .line = x->buf_line, .column = x->buf_col };
    if (add_item(x->doc, &it, x->buf, x->n_buf, NULL, 0) != EG_OK) nomem(x);
    x->n_buf = 0;
}

static void on_chars(void *user, const XML_Char *s, int len) {
    struct sx *x = user;
    if (x->st != EG_OK || x->depth == 0) return;
    if (x->n_buf + (size_t)len + 1 > x->cap_buf) {
        size_t cap = x->cap_buf ? x->cap_buf : 256;
        while (cap < x->n_buf + (size_t)len + 1) cap *= 2;
        char *nb = realloc(x->buf, cap);
        if (!nb) { nomem(x); return; }
        x->buf = nb;
        x->cap_buf = cap;
    }
    if (!x->n_buf) where(x, &x->buf_line, &x->buf_col);
    memcpy(x->buf + x->n_buf, s, (size_t)len);
    x->n_buf += (size_t)len;
}

static const char *attr(const XML_Char **atts, const char *name) {
    for (int i = 0; atts[i]; i += 2) if (!strcmp(atts[i], name)) return atts[i + 1];
    return NULL;
}

/* "250ms", "1.5s", "2 s": milliseconds in 0 .. 10000, or -1. */
static int parse_time_ms(const char *v) {
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (end == v || errno || !isfinite(t) || t < 0) return -1;
    while (*end == ' ') end++;
    if (!strcmp(end, "ms")) {}
    else if (!strcmp(end, "s")) t *= 1000.0;
    else return -1;
    return t <= 10000.0 ? (int)lround(t) : -1;
}

/* prosody rate: a keyword, "N%", "+N%", "-N%" or a plain multiplier; 0 if invalid. */
static float parse_rate(const char *v) {
    static const struct { const char *name; float rate; } kw[] = { { "x-slow", 0.6f }, { "slow", 0.8f },
        { "medium", 1.0f }, { "default", 1.0f }, { "fast", 1.25f }, { "x-fast", 1.6f } };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) if (!strcmp(v, kw[i].name)) return kw[i].rate;
    char *end;
    errno = 0;
    double r = strtod(v, &end);
    if (end == v || errno || !isfinite(r)) return 0;
    if (!strcmp(end, "%")) r = (v[0] == '+' || v[0] == '-') ? 1.0 + r / 100.0 : r / 100.0;
    else if (*end) return 0;
    return r >= 0.25 && r <= 4.0 ? (float)r : 0;
}

static void on_start(void *user, const XML_Char *name, const XML_Char **atts) {
    struct sx *x = user;
    if (x->st != EG_OK) return;
    if (x->depth == MAX_DEPTH) { fail(x, "elements nested deeper than %d", MAX_DEPTH); return; }
    if (x->depth == 0 && strcmp(name, "speak")) { fail(x, "the root element is <%s>; expected <speak>", name); return; }
    struct el e = { .kind = EL_UNKNOWN, .rate = 1.0f };
    int line, col;
    where(x, &line, &col);
    e.line = line; e.column = col;
    if (x->depth) { const struct el *t = &x->stack[x->depth - 1]; e.rate = t->rate; e.say_as = t->say_as;
                    memcpy(e.format, t->format, sizeof e.format); }
    const int in_capture = capturing(x);
    if (!strcmp(name, "speak")) e.kind = x->depth == 0 ? EL_SPEAK : EL_UNKNOWN;
    else if (in_capture) e.kind = EL_UNKNOWN;     /* <phoneme>, <sub>, <say-as> hold text only */
    else if (!strcmp(name, "p")) e.kind = EL_P;
    else if (!strcmp(name, "s")) e.kind = EL_S;
    else if (!strcmp(name, "break")) e.kind = EL_BREAK;
    else if (!strcmp(name, "phoneme")) e.kind = EL_PHONEME;
    else if (!strcmp(name, "sub")) e.kind = EL_SUB;
    else if (!strcmp(name, "say-as")) e.kind = EL_SAY_AS;
    else if (!strcmp(name, "prosody")) e.kind = EL_PROSODY;
    if (e.kind == EL_UNKNOWN) {
        char what[80];
        snprintf(what, sizeof what, "<%s>", name);
        note_unknown(x, what);
        x->stack[x->depth++] = e;   /* transparent: its text joins the current run */
        return;
    }
    flush_text(x);
    struct eg_text_item it = { .line = line, .column = col, .rate = e.rate };
    const char *v;
    switch (e.kind) {
    case EL_P: case EL_S:
        it.kind = EG_ITEM_BOUNDARY;
        if (add_item(x->doc, &it, NULL, 0, NULL, 0) != EG_OK) nomem(x);
        break;
    case EL_BREAK: {
        static const struct { const char *name; int ms; } strength[] = { { "none", 0 }, { "x-weak", 100 },
            { "weak", 200 }, { "medium", 400 }, { "strong", 700 }, { "x-strong", 1200 } };
        int ms = 400;   /* <break/> alone: medium */
        if ((v = attr(atts, "strength"))) {
            size_t k = 0;
            while (k < sizeof strength / sizeof strength[0] && strcmp(v, strength[k].name)) k++;
            if (k == sizeof strength / sizeof strength[0]) {
                fail(x, "<break strength=\"%s\">: expected none, x-weak, weak, medium, strong or x-strong", v);
                return;
            }
            ms = strength[k].ms;
        }
        if ((v = attr(atts, "time")) && (ms = parse_time_ms(v)) < 0) {
            fail(x, "<break time=\"%s\">: expected a duration such as 250ms or 1.5s, at most 10 s", v);
            return;
        }
        it.kind = EG_ITEM_BREAK;
        it.break_ms = ms;
        if (add_item(x->doc, &it, NULL, 0, NULL, 0) != EG_OK) nomem(x);
        break;
    }
    case EL_PHONEME:
        if ((v = attr(atts, "alphabet")) && strcmp(v, "ipa")) {
            fail(x, "<phoneme alphabet=\"%s\">: only alphabet=\"ipa\" is supported (the model's IPA symbols)", v);
            return;
        }
        if (!(v = attr(atts, "ph"))) { fail(x, "<phoneme> without a ph attribute"); return; }
        {
            size_t k = 0;
            while (v[k] && is_ws((unsigned char)v[k])) k++;
            if (!v[k]) { fail(x, "<phoneme ph=\"\">: no phonemes"); return; }
        }
        if (!(e.attr = strdup(v))) { nomem(x); return; }
        break;
    case EL_SUB:
        if (!(v = attr(atts, "alias"))) { fail(x, "<sub> without an alias attribute"); return; }
        if (!(e.attr = strdup(v))) { nomem(x); return; }
        break;
    case EL_SAY_AS: {
        static const struct { const char *name; enum eg_say_as k; } kinds[] = {
            { "characters", EG_SAY_CHARACTERS }, { "spell-out", EG_SAY_CHARACTERS }, { "cardinal", EG_SAY_CARDINAL },
            { "number", EG_SAY_CARDINAL }, { "ordinal", EG_SAY_ORDINAL }, { "digits", EG_SAY_DIGITS },
            { "date", EG_SAY_DATE }, { "time", EG_SAY_TIME }, { "telephone", EG_SAY_TELEPHONE } };
        if (!(v = attr(atts, "interpret-as"))) { fail(x, "<say-as> without an interpret-as attribute"); return; }
        size_t k = 0;
        while (k < sizeof kinds / sizeof kinds[0] && strcmp(v, kinds[k].name)) k++;
        if (k == sizeof kinds / sizeof kinds[0]) {
            char what[96];
            snprintf(what, sizeof what, "<say-as interpret-as=\"%.60s\">", v);
            note_unknown(x, what);   /* read as ordinary text */
            e.say_as = EG_SAY_NONE;
        } else {
            e.say_as = kinds[k].k;
        }
        if ((v = attr(atts, "format"))) {
            if (strlen(v) >= sizeof e.format || strspn(v, "dmyhs") != strlen(v)) {
                fail(x, "<say-as format=\"%s\">: expected letters d, m, y (dates: mdy, dmy, ymd, md, dm, ym, my)", v);
                return;
            }
            snprintf(e.format, sizeof e.format, "%s", v);
        }
        break;
    }
    case EL_PROSODY:
        if ((v = attr(atts, "rate"))) {
            float r = parse_rate(v);
            if (r <= 0) {
                fail(x, "<prosody rate=\"%s\">: expected x-slow, slow, medium, fast, x-fast, a percentage (50%% .. "
                        "400%%) or a factor 0.25 .. 4", v);
                return;
            }
            e.rate *= r;
            if (e.rate < 0.1f) e.rate = 0.1f;
            if (e.rate > 10.0f) e.rate = 10.0f;
        }
        for (int i = 0; atts[i]; i += 2)
            if (strcmp(atts[i], "rate")) { char what[80]; snprintf(what, sizeof what, "<prosody %s>", atts[i]); note_unknown(x, what); }
        break;
    default:
        break;
    }
    if (x->st == EG_OK) x->stack[x->depth++] = e;
    else free(e.attr);
}

static void on_end(void *user, const XML_Char *name) {
    struct sx *x = user;
    (void)name;
    if (x->st != EG_OK || x->depth == 0) return;
    struct el *e = &x->stack[x->depth - 1];
    struct eg_text_item it = { .rate = e->rate, .line = e->line, .column = e->column };
    switch (e->kind) {
    case EL_UNKNOWN:
        break;   /* transparent */
    case EL_PHONEME: {   /* the text is what the phonemes say: shown in timings, not spoken */
        size_t a = 0, b = x->n_buf;
        while (a < b && is_ws((unsigned char)x->buf[a])) a++;
        while (b > a && is_ws((unsigned char)x->buf[b - 1])) b--;
        enum eg_status st = add_phoneme_words(x->doc, e->attr, strlen(e->attr), e->rate, e->line, e->column,
                                              x->buf ? x->buf + a : "", b - a);
        if (st == EG_ERR_NOMEM) nomem(x);
        x->n_buf = 0;
        break;
    }
    case EL_SUB:
        it.kind = EG_ITEM_TEXT;
        if (add_item(x->doc, &it, e->attr, strlen(e->attr), NULL, 0) != EG_OK) nomem(x);
        x->n_buf = 0;
        break;
    case EL_SAY_AS:
        it.kind = EG_ITEM_TEXT;
        it.say_as = e->say_as;
        memcpy(it.format, e->format, sizeof it.format);
        if (add_item(x->doc, &it, x->buf ? x->buf : "", x->n_buf, NULL, 0) != EG_OK) nomem(x);
        x->n_buf = 0;
        break;
    case EL_P: case EL_S:
        flush_text(x);
        it.kind = EG_ITEM_BOUNDARY;
        if (add_item(x->doc, &it, NULL, 0, NULL, 0) != EG_OK) nomem(x);
        break;
    default:
        flush_text(x);
        break;
    }
    free(e->attr);
    e->attr = NULL;
    x->depth--;
}

static enum eg_status parse_ssml(const char *s, struct eg_text_doc *doc) {
    struct sx x;
    memset(&x, 0, sizeof x);
    x.doc = doc;
    doc->ssml = 1;
    if (!(x.xp = XML_ParserCreate("UTF-8"))) return EG_ERR_NOMEM;
    XML_SetUserData(x.xp, &x);
    XML_SetElementHandler(x.xp, on_start, on_end);
    XML_SetCharacterDataHandler(x.xp, on_chars);
    XML_SetParamEntityParsing(x.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    const size_t len = strlen(s);
    size_t off = 0;
    int done = 0;
    while (!done && x.st == EG_OK) {   /* expat takes int lengths: feed in pieces */
        size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;
        done = off + n == len;
        if (XML_Parse(x.xp, s + off, (int)n, done) == XML_STATUS_ERROR && x.st == EG_OK) {
            EG_LOGE("SSML: line %lu, column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(x.xp),
                    (unsigned long)XML_GetCurrentColumnNumber(x.xp) + 1, XML_ErrorString(XML_GetErrorCode(x.xp)));
            x.st = EG_ERR_INVALID_ARG;
        }
        off += n;
    }
    if (x.st == EG_OK && x.n_unknown)
        EG_LOGW("SSML: %s (line %d) is not supported: read as plain text%s", x.first_unknown, x.first_unknown_line,
                x.n_unknown > 1 ? " (and further unsupported elements or attributes)" : "");
    for (int i = 0; i < x.depth; i++) free(x.stack[i].attr);
    free(x.buf);
    XML_ParserFree(x.xp);
    return x.st;
}
#else
static enum eg_status parse_ssml(const char *s, struct eg_text_doc *doc) {
    (void)s; (void)doc;
    EG_LOGE("SSML: this build has no XML parser (built without expat: install libexpat1-dev and rebuild)");
    return EG_ERR_UNSUPPORTED;
}
#endif

enum eg_status eg_text_parse(const char *utf8, enum eg_text_format format, struct eg_text_doc *doc) {
    enum eg_status st;
    if (!utf8 || !doc) return EG_ERR_INVALID_ARG;
    if (format == EG_TEXT_AUTO) format = eg_text_looks_like_ssml(utf8) ? EG_TEXT_SSML : EG_TEXT_PLAIN;
    st = format == EG_TEXT_SSML ? parse_ssml(utf8, doc) : parse_plain(utf8, doc);
    if (st != EG_OK) eg_text_doc_free(doc);
    return st;
}
