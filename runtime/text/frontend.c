/* runtime/text/frontend.c — parsed document → sentences of phonemes with words (eg_text_process, edgegen.h).
 *
 * Per TEXT item: normalise (runtime/normalize.c) or expand per <say-as>, split at lexicon words, phonemise the
 * runs in between with the caller's phonemiser, and find which phonemes belong to which written word: the
 * phonemiser separates words with ' ', but runs some together ("of the" → ʌvðə). When the counts differ the
 * words are aligned by dynamic programming on their lengths (each word phonemised alone), and a phoneme word
 * that holds several written words is split in proportion to their lengths alone. PHONEMES items are words with
 * user-written phonemes. A sentence ends where the phonemiser ends one (. ? !), at <p>/<s> edges and breaks, and
 * is split at max_phonemes at a word boundary.
 */
#include "runtime/text/frontend.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/core/internal.h"
#include "runtime/text/normalize.h"

#define PIECE_BYTES 65536            /* text is normalised in pieces of at most this (the normaliser's buffer is 16x) */
#define PHONEMISER_MAX 2000          /* what we ask the phonemiser for: the builder splits at tp->max_phonemes */

struct eg_text_params eg_text_default_params(void) {
    struct eg_text_params p;
    memset(&p, 0, sizeof p);
    p.format = EG_TEXT_AUTO;
    p.normalize = 1;
    p.lexicon = NULL;
    p.max_phonemes = 256;
    return p;
}

static int is_space_cp(uint32_t cp) { return cp == ' '; }
static int is_punct_cp(uint32_t cp) { return cp < 0x80 && cp && strchr("!'(),-.:;?\"", (int)cp) != NULL; }
static int is_stress_cp(uint32_t cp) { return cp == 0x2C8 || cp == 0x2CC; }
static int is_term_cp(uint32_t cp) { return cp == '.' || cp == '?' || cp == '!'; }

/* ---- growable arrays --------------------------------------------------------------------------------------- */

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 1;
    int c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *n = realloc(*p, (size_t)c * elem);
    if (!n) return 0;
    *p = n;
    *cap = c;
    return 1;
}

/* ---- the sentence builder ------------------------------------------------------------------------------------ */

struct bword { size_t text_off; int first, n; enum eg_word_source source; };

struct sb {
    uint32_t *ph; float *rate; uint8_t *given; int n, cap;
    struct bword *w; int nw, capw;
    char *wt; int nwt, capwt;          /* word texts, NUL-terminated one after another */
    char *text; int nt, capt;          /* the sentence's text */
    int pause_ms;                      /* before the next sentence: -1 = default */
    int64_t index;
    int max_phonemes;
    eg_text_sentence_fn fn;
    void *user;
};

static enum eg_status sb_phoneme(struct sb *b, uint32_t cp, float rate, int given) {
    if (b->n == b->cap) {   /* the three arrays share one capacity */
        const int cap = b->cap ? 2 * b->cap : 256;
        uint32_t *p = realloc(b->ph, (size_t)cap * sizeof *p);
        if (!p) return EG_ERR_NOMEM;
        b->ph = p;
        float *r = realloc(b->rate, (size_t)cap * sizeof *r);
        if (!r) return EG_ERR_NOMEM;
        b->rate = r;
        uint8_t *g = realloc(b->given, (size_t)cap);
        if (!g) return EG_ERR_NOMEM;
        b->given = g;
        b->cap = cap;
    }
    b->ph[b->n] = cp;
    b->rate[b->n] = rate;
    b->given[b->n] = (uint8_t)given;
    b->n++;
    return EG_OK;
}

/* A word separator before phonemes starting with `first` (none before punctuation or at the start). */
static enum eg_status sb_sep(struct sb *b, uint32_t first, float rate) {
    if (!b->n || is_space_cp(b->ph[b->n - 1]) || is_punct_cp(first) || is_space_cp(first)) return EG_OK;
    return sb_phoneme(b, ' ', rate, 0);
}

static enum eg_status sb_text(struct sb *b, const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    if (!n) return EG_OK;
    if (!grow((void **)&b->text, &b->capt, b->nt + (int)n + 2, 1)) return EG_ERR_NOMEM;
    if (b->nt) b->text[b->nt++] = ' ';
    memcpy(b->text + b->nt, s, n);
    b->nt += (int)n;
    b->text[b->nt] = 0;
    return EG_OK;
}

static enum eg_status sb_word(struct sb *b, const char *text, size_t n, int first, enum eg_word_source src) {
    if (!grow((void **)&b->w, &b->capw, b->nw + 1, sizeof *b->w)) return EG_ERR_NOMEM;
    if (!grow((void **)&b->wt, &b->capwt, b->nwt + (int)n + 1, 1)) return EG_ERR_NOMEM;
    b->w[b->nw++] = (struct bword){ (size_t)b->nwt, first, 0, src };
    memcpy(b->wt + b->nwt, text, n);
    b->nwt += (int)n;
    b->wt[b->nwt++] = 0;
    return EG_OK;
}

/* Hand sentence pieces [a, e) of the buffer to fn; split at max_phonemes at a space. */
static enum eg_status sb_flush(struct sb *b) {
    enum eg_status st = EG_OK;
    int a = 0;
    while (a < b->n && is_space_cp(b->ph[a])) a++;
    const int first = a;
    while (a < b->n && st == EG_OK) {
        int e = b->n;
        if (e - a > b->max_phonemes) {
            e = a + b->max_phonemes;
            for (int j = e; j > a + b->max_phonemes / 2; j--) if (is_space_cp(b->ph[j])) { e = j; break; }
        }
        int end = e;
        while (end > a && is_space_cp(b->ph[end - 1])) end--;
        int speakable = 0;
        for (int j = a; j < end && !speakable; j++) speakable = !is_punct_cp(b->ph[j]) && !is_space_cp(b->ph[j]);
        if (speakable) {
            struct eg_text_word *words = malloc(sizeof *words * (size_t)(b->nw ? b->nw : 1));
            if (!words) return EG_ERR_NOMEM;
            int nw = 0;
            for (int k = 0; k < b->nw; k++) {
                const struct bword *w = &b->w[k];
                if (w->first < a || w->first >= end) continue;
                int n = w->first + w->n > end ? end - w->first : w->n;
                words[nw++] = (struct eg_text_word){ b->wt + w->text_off, w->first - a, n, w->source };
            }
            char *joined = NULL;
            const char *text = b->nt ? b->text : "";
            if (a > first || e < b->n) {   /* a piece of a split sentence: its words, and its end mark if any */
                size_t len = 3;
                for (int k = 0; k < nw; k++) len += strlen(words[k].text) + 1;
                if (!(joined = malloc(len))) { free(words); return EG_ERR_NOMEM; }
                joined[0] = 0;
                for (int k = 0; k < nw; k++) { if (k) strcat(joined, " "); strcat(joined, words[k].text); }
                if (is_term_cp(b->ph[end - 1])) { size_t l = strlen(joined); joined[l] = (char)b->ph[end - 1]; joined[l + 1] = 0; }
                text = joined;
            }
            const struct eg_text_sentence s = { b->index++, text, b->ph + a, end - a, b->rate + a, b->given + a,
                                                words, nw, b->pause_ms };
            st = b->fn(b->user, &s);
            b->pause_ms = -1;
            free(joined);
            free(words);
        }
        a = e;
        while (a < b->n && is_space_cp(b->ph[a])) a++;
    }
    b->n = 0;
    b->nw = 0;
    b->nwt = 0;
    b->nt = 0;
    if (b->text) b->text[0] = 0;
    return st;
}

/* ---- phonemiser output ----------------------------------------------------------------------------------------- */

struct coll {
    uint32_t *ph; int n, cap;
    int *end; int n_sent, cap_sent;    /* sentence k is [end[k-1], end[k]) */
};

static enum eg_status coll_emit(void *sink, const uint32_t *ph, int n) {
    struct coll *c = sink;
    if (n < 0 || (n > 0 && !ph)) { EG_LOGE("phonemiser: sentence with %d phonemes", n); return EG_ERR_INVALID_ARG; }
    if (!grow((void **)&c->ph, &c->cap, c->n + n, sizeof *c->ph)) return EG_ERR_NOMEM;
    if (!grow((void **)&c->end, &c->cap_sent, c->n_sent + 1, sizeof *c->end)) return EG_ERR_NOMEM;
    memcpy(c->ph + c->n, ph, (size_t)n * sizeof *ph);
    c->n += n;
    c->end[c->n_sent++] = c->n;
    return EG_OK;
}

struct fe {
    const struct eg_text_params *tp;
    eg_phonemiser_fn phonemiser;
    void *puser;
    struct sb b;
    struct coll c, iso;
    size_t n_skipped;                   /* unspeakable-script words, warned once */
    char first_skipped[48];
};

static enum eg_status phonemise(struct fe *f, struct coll *c, const char *text) {
    c->n = c->n_sent = 0;
    return f->phonemiser(f->puser, text, PHONEMISER_MAX, coll_emit, c);
}

/* Phoneme count that measures a word's length: no spaces, punctuation or stress marks. */
static int plen(const uint32_t *ph, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += !is_space_cp(ph[i]) && !is_punct_cp(ph[i]) && !is_stress_cp(ph[i]);
    return k;
}

/* ---- words of a normalised run ------------------------------------------------------------------------------- */

struct span { int a, b; };   /* [a, b) */

static int is_text_punct(uint32_t cp) {
    return (cp < 0x80 && cp > ' ' && !((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') && !(cp >= '0' && cp <= '9')) ||
           (cp >= 0x2000 && cp <= 0x206F) || cp == 0xAB || cp == 0xBB || cp == 0xA1 || cp == 0xBF;
}

/* Written words of s: whitespace-separated tokens with surrounding punctuation stripped, keeping those with a
 * letter or digit. */
static int text_words(const char *s, int len, struct span **out, int *cap) {
    int n = 0, i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        int a = i;
        while (i < len && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        int b = i;
        uint32_t cp;
        while (a < b) { int l = eg_text_utf8_get(s + a, &cp); if (!is_text_punct(cp)) break; a += l; }
        while (b > a) {   /* step back one codepoint */
            int k = b - 1;
            while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
            eg_text_utf8_get(s + k, &cp);
            if (!is_text_punct(cp)) break;
            b = k;
        }
        if (b <= a) continue;
        if (!grow((void **)out, cap, n + 1, sizeof **out)) return -1;
        (*out)[n++] = (struct span){ a, b };
    }
    return n;
}

/* Phoneme words of c: runs of non-space phonemes inside one sentence, punctuation stripped at both ends. */
static int phoneme_words(const struct coll *c, struct span **out, int *cap) {
    int n = 0, start = 0;
    for (int k = 0; k < c->n_sent; k++) {
        int i = start, end = c->end[k];
        while (i < end) {
            while (i < end && is_space_cp(c->ph[i])) i++;
            int a = i;
            while (i < end && !is_space_cp(c->ph[i])) i++;
            int b = i;
            while (a < b && is_punct_cp(c->ph[a])) a++;
            while (b > a && is_punct_cp(c->ph[b - 1])) b--;
            if (b <= a) continue;
            if (!grow((void **)out, cap, n + 1, sizeof **out)) return -1;
            (*out)[n++] = (struct span){ a, b };
        }
        start = end;
    }
    return n;
}

/* Align nt written words (lengths lt) to np phoneme words (spans pw): out[i] = phoneme span of written word i
 * (empty: {x, x}). Moves (written, phoneme): 1:1, 2:1, 3:1, 1:2, 1:3, 1:0, 0:1; cost |length difference| plus a
 * penalty for all but 1:1. */
static enum eg_status align(const int *lt, int nt, const struct span *pw, const int *lp, int np, const uint32_t *ph,
                            struct span *out) {
    static const int mv[][3] = { { 1, 1, 0 }, { 2, 1, 1 }, { 3, 1, 2 }, { 1, 2, 1 }, { 1, 3, 2 }, { 1, 0, 2 }, { 0, 1, 2 } };
    enum { NMV = sizeof mv / sizeof mv[0] };
    const size_t W = (size_t)np + 1;
    if ((size_t)(nt + 1) * W > (size_t)4 << 20) {   /* too large to align: spread proportionally */
        for (int i = 0; i < nt; i++) {
            int j = np ? (int)((int64_t)i * np / nt) : 0;
            out[i] = np ? pw[j] : (struct span){ 0, 0 };
        }
        return EG_OK;
    }
    int *cost = malloc((size_t)(nt + 1) * W * sizeof *cost);
    unsigned char *from = malloc((size_t)(nt + 1) * W);
    if (!cost || !from) { free(cost); free(from); return EG_ERR_NOMEM; }
    for (size_t k = 0; k < (size_t)(nt + 1) * W; k++) cost[k] = 1 << 29;
    cost[0] = 0;
    for (int i = 0; i <= nt; i++)
        for (int j = 0; j <= np; j++) {
            const int c0 = cost[(size_t)i * W + j];
            if (c0 >= 1 << 29) continue;
            for (int m = 0; m < NMV; m++) {
                const int a = mv[m][0], b = mv[m][1];
                if (i + a > nt || j + b > np) continue;
                int st = 0, sp = 0;
                for (int q = 0; q < a; q++) st += lt[i + q];
                for (int q = 0; q < b; q++) sp += lp[j + q];
                const int c = c0 + abs(st - sp) + mv[m][2];
                if (c < cost[(size_t)(i + a) * W + j + b]) {
                    cost[(size_t)(i + a) * W + j + b] = c;
                    from[(size_t)(i + a) * W + j + b] = (unsigned char)m;
                }
            }
        }
    int i = nt, j = np;
    while (i > 0 || j > 0) {
        const int m = from[(size_t)i * W + j], a = mv[m][0], b = mv[m][1];
        i -= a;
        j -= b;
        if (a == 1) {
            out[i] = b ? (struct span){ pw[j].a, pw[j + b - 1].b } : (struct span){ j < np ? pw[j].a : (np ? pw[np - 1].b : 0), 0 };
            if (!b) out[i].b = out[i].a;
        } else if (a > 1) {   /* one phoneme word for a written words: split by their lengths alone */
            int total = 0, cum = 0, prev = pw[j].a;
            for (int q = 0; q < a; q++) total += lt[i + q] > 0 ? lt[i + q] : 1;
            for (int q = 0; q < a; q++) {
                cum += lt[i + q] > 0 ? lt[i + q] : 1;
                int cut = q == a - 1 ? pw[j].b : pw[j].a + (int)((int64_t)(pw[j].b - pw[j].a) * cum / total + 0) ;
                if (q < a - 1) {   /* round to nearest, keep a stress mark with the phoneme after it */
                    int64_t num = (int64_t)(pw[j].b - pw[j].a) * cum;
                    cut = pw[j].a + (int)((2 * num + total) / (2 * total));
                    if (cut > prev && cut < pw[j].b && is_stress_cp(ph[cut - 1])) cut--;
                    if (cut < prev) cut = prev;
                }
                out[i + q] = (struct span){ prev, cut };
                prev = cut;
            }
        }
    }
    free(cost);
    free(from);
    return EG_OK;
}

/* ---- one run of normalised text through the phonemiser ----------------------------------------------------- */

static enum eg_status add_run(struct fe *f, const char *run, int len, float rate) {
    struct sb *b = &f->b;
    enum eg_status st;
    int k;
    for (k = 0; k < len; k++) if (!(run[k] == ' ' || run[k] == '\n' || run[k] == '\t' || run[k] == '\r')) break;
    if (k == len) return EG_OK;
    char *text = malloc((size_t)len + 1);
    struct span *tw = NULL, *pw = NULL, *map = NULL;
    int cap_tw = 0, cap_pw = 0, *lt = NULL, *lp = NULL;
    if (!text) return EG_ERR_NOMEM;
    memcpy(text, run, (size_t)len);
    text[len] = 0;
    if ((st = phonemise(f, &f->c, text)) != EG_OK) goto out;
    const struct coll *c = &f->c;
    int nt = text_words(text, len, &tw, &cap_tw), np = phoneme_words(c, &pw, &cap_pw);
    if (nt < 0 || np < 0) { st = EG_ERR_NOMEM; goto out; }
    map = calloc((size_t)(nt ? nt : 1), sizeof *map);
    if (!map) { st = EG_ERR_NOMEM; goto out; }
    if (nt == np) {
        for (int i = 0; i < nt; i++) map[i] = pw[i];
    } else {
        lt = malloc(sizeof *lt * (size_t)(nt ? nt : 1));
        lp = malloc(sizeof *lp * (size_t)(np ? np : 1));
        if (!lt || !lp) { st = EG_ERR_NOMEM; goto out; }
        for (int j = 0; j < np; j++) lp[j] = plen(c->ph + pw[j].a, pw[j].b - pw[j].a);
        for (int i = 0; i < nt && st == EG_OK; i++) {   /* each written word phonemised alone */
            char w[256];
            int n = tw[i].b - tw[i].a;
            if (n >= (int)sizeof w) { lt[i] = n; continue; }
            memcpy(w, text + tw[i].a, (size_t)n);
            w[n] = 0;
            if ((st = phonemise(f, &f->iso, w)) == EG_OK) lt[i] = plen(f->iso.ph, f->iso.n);
        }
        if (st == EG_OK) st = align(lt, nt, pw, lp, np, c->ph, map);
        if (st != EG_OK) goto out;
    }
    /* sentence by sentence into the builder; words enter at their first phoneme */
    int wi = 0, start = 0, cut = 0;
    for (int s = 0; s < c->n_sent && st == EG_OK; s++) {
        const int end = c->end[s];
        int a = start;
        if (b->n == 0 || is_space_cp(b->ph[b->n - 1])) while (a < end && is_space_cp(c->ph[a])) a++;
        if (a < end && (st = sb_sep(b, c->ph[a], rate)) != EG_OK) break;
        int next_cut = len;
        for (int g = a; g < end && st == EG_OK; g++) {
            while (wi < nt && (map[wi].b <= map[wi].a || map[wi].b <= g)) wi++;   /* no phonemes (left): not spoken */
            if (wi < nt && map[wi].a <= g) {   /* a span always starts on a phoneme; <= keeps a miss from
                                                  * holding back the words after it */
                st = sb_word(b, text + tw[wi].a, (size_t)(tw[wi].b - tw[wi].a), b->n, EG_WORD_PHONEMISER);
                b->w[b->nw - 1].n = map[wi].b - g;
                wi++;
            }
            if (st == EG_OK) st = sb_phoneme(b, c->ph[g], rate, 0);
        }
        /* this sentence's text: its words and the punctuation right after the last one (the next sentence starts
         * at its first word) */
        for (int q = wi; q < nt; q++) if (map[q].b > map[q].a) { next_cut = tw[q].a; break; }
        if (s == c->n_sent - 1) next_cut = len;
        int text_end = cut;
        for (int q = 0; q < wi; q++) if (map[q].b > map[q].a && tw[q].b > text_end && tw[q].b <= next_cut) text_end = tw[q].b;
        while (text_end < next_cut && !(text[text_end] == ' ' || text[text_end] == '\n' || text[text_end] == '\t' ||
                                        text[text_end] == '\r')) text_end++;
        if (text_end == cut) text_end = next_cut;   /* no word: keep what there is (punctuation) */
        if (st == EG_OK) st = sb_text(b, text + cut, (size_t)(text_end - cut));
        cut = next_cut;
        int last = end;
        while (last > start && is_space_cp(c->ph[last - 1])) last--;
        if (st == EG_OK && (s < c->n_sent - 1 || (last > start && is_term_cp(c->ph[last - 1])))) st = sb_flush(b);
        start = end;
    }
out:
    free(text); free(tw); free(pw); free(map); free(lt); free(lp);
    return st;
}

/* A word with given phonemes (lexicon, [[ ]], <phoneme>). */
static enum eg_status add_given(struct fe *f, const char *word, size_t n_word, const char *ipa, float rate,
                                enum eg_word_source src) {
    struct sb *b = &f->b;
    enum eg_status st = EG_OK;
    int first = -1;
    for (const char *p = ipa; *p && st == EG_OK;) {
        uint32_t cp;
        p += eg_text_utf8_get(p, &cp);
        if (cp == '\t' || cp == '\n' || cp == '\r') cp = ' ';
        if (is_space_cp(cp)) { if (b->n && !is_space_cp(b->ph[b->n - 1])) st = sb_phoneme(b, ' ', rate, 0); continue; }
        if (first < 0) {
            if ((st = sb_sep(b, cp, rate)) != EG_OK) break;
            first = b->n;
            if ((st = sb_word(b, word, n_word, first, src)) != EG_OK) break;
        }
        st = sb_phoneme(b, cp, rate, 1);
    }
    if (st == EG_OK && first >= 0) {
        int e = b->n;
        while (e > first && is_space_cp(b->ph[e - 1])) e--;
        b->w[b->nw - 1].n = e - first;
        st = sb_text(b, word, n_word);
    }
    return st;
}

/* Normalised text → runs between lexicon words. */
static enum eg_status add_text(struct fe *f, const char *s, size_t len, float rate, int use_lexicon) {
    const struct eg_lexicon *lex = use_lexicon ? f->tp->lexicon : NULL;
    if (!lex || !eg_lexicon_size(lex)) return add_run(f, s, (int)len, rate);
    struct span *tw = NULL;
    int cap = 0, nt = text_words(s, (int)len, &tw, &cap), from = 0;
    enum eg_status st = nt < 0 ? EG_ERR_NOMEM : EG_OK;
    for (int i = 0; i < nt && st == EG_OK; i++) {
        const char *ipa = eg_lexicon_lookup(lex, s + tw[i].a, (size_t)(tw[i].b - tw[i].a));
        if (!ipa) continue;
        if (tw[i].a > from) st = add_run(f, s + from, tw[i].a - from, rate);
        if (st == EG_OK) st = add_given(f, s + tw[i].a, (size_t)(tw[i].b - tw[i].a), ipa, rate, EG_WORD_LEXICON);
        from = tw[i].b;
    }
    if (st == EG_OK && (size_t)from < len) st = add_run(f, s + from, (int)len - from, rate);
    free(tw);
    return st;
}

/* Piece boundary for normalisation: after a sentence end, else a space, else a UTF-8 boundary. */
static size_t piece_len(const char *s, size_t n) {
    size_t cut = 0;
    if (n <= PIECE_BYTES) return n;
    for (size_t i = PIECE_BYTES / 2; i < PIECE_BYTES; i++)
        if ((s[i] == ' ' || s[i] == '\n') && strchr(".?!", s[i - 1])) cut = i + 1;
    for (size_t i = PIECE_BYTES; !cut && i > PIECE_BYTES / 2; i--)
        if (s[i - 1] == ' ' || s[i - 1] == '\n') cut = i;
    if (!cut) for (cut = PIECE_BYTES; cut > 1 && ((unsigned char)s[cut] & 0xC0) == 0x80; cut--) {}
    return cut;
}

static enum eg_status add_text_item(struct fe *f, const struct eg_text_item *it) {
    const char *s = it->text ? it->text : "";
    size_t len = strlen(s);
    enum eg_status st = EG_OK;
    const size_t cap = EG_NORMALIZE_GROWTH * PIECE_BYTES + 64;
    char *norm = malloc(cap), *piece = malloc(PIECE_BYTES + 1);
    if (!norm || !piece) { free(norm); free(piece); return EG_ERR_NOMEM; }
    while (st == EG_OK && len) {
        const size_t n = it->say_as ? len : piece_len(s, len);
        size_t n_out = 0;
        if (it->say_as) {
            if (n > PIECE_BYTES) { EG_LOGE("SSML: line %d: <say-as> text longer than %d bytes", it->line, PIECE_BYTES);
                                   st = EG_ERR_INVALID_ARG; break; }
            memcpy(piece, s, n);
            piece[n] = 0;
            st = eg_text_say_as((int)it->say_as, it->format, piece, norm, cap, &n_out);
            if (st == EG_OK) st = add_text(f, norm, n_out, it->rate, 0);
        } else if (f->tp->normalize) {
            struct eg_normalize_info info;
            memcpy(piece, s, n);
            piece[n] = 0;
            st = eg_text_normalize_ex(piece, norm, cap, &n_out, &info);
            if (info.n_skipped && !f->n_skipped) memcpy(f->first_skipped, info.first_skipped, sizeof f->first_skipped);
            f->n_skipped += info.n_skipped;
            if (st == EG_OK) st = add_text(f, norm, n_out, it->rate, 1);
        } else {
            st = add_text(f, s, n, it->rate, 1);
        }
        s += n;
        len -= n;
    }
    free(norm);
    free(piece);
    return st;
}

enum eg_status eg_text_process_doc(const struct eg_text_doc *doc, const struct eg_text_params *tp,
                                   eg_phonemiser_fn phonemiser, void *phonemiser_user,
                                   eg_text_sentence_fn fn, void *user) {
    struct eg_text_params def = eg_text_default_params();
    if (!doc || !phonemiser || !fn) return EG_ERR_INVALID_ARG;
    if (!tp) tp = &def;
    if (tp->max_phonemes < 1 || tp->max_phonemes > 2000) {
        EG_LOGE("text params: max_phonemes: expected 1 .. 2000, found %d", tp->max_phonemes);
        return EG_ERR_INVALID_ARG;
    }
    struct fe f;
    memset(&f, 0, sizeof f);
    f.tp = tp;
    f.phonemiser = phonemiser;
    f.puser = phonemiser_user;
    f.b.pause_ms = -1;
    f.b.max_phonemes = tp->max_phonemes;
    f.b.fn = fn;
    f.b.user = user;
    enum eg_status st = EG_OK;
    for (int i = 0; i < doc->n && st == EG_OK; i++) {
        const struct eg_text_item *it = &doc->items[i];
        switch (it->kind) {
        case EG_ITEM_TEXT:
            st = add_text_item(&f, it);
            break;
        case EG_ITEM_PHONEMES:
            st = add_given(&f, it->text ? it->text : "", it->text ? strlen(it->text) : 0, it->ipa, it->rate,
                           EG_WORD_INLINE);
            break;
        case EG_ITEM_BREAK:
            if ((st = sb_flush(&f.b)) == EG_OK)
                f.b.pause_ms = (f.b.pause_ms < 0 ? 0 : f.b.pause_ms) + it->break_ms;
            break;
        case EG_ITEM_BOUNDARY:
            st = sb_flush(&f.b);
            break;
        }
    }
    if (st == EG_OK) st = sb_flush(&f.b);
    if (st == EG_OK && f.b.pause_ms > 0) {   /* a break at the end: silence only */
        const struct eg_text_sentence s = { f.b.index++, "", NULL, 0, NULL, NULL, NULL, 0, f.b.pause_ms };
        st = fn(user, &s);
    }
    if (f.n_skipped)
        EG_LOGW("text: skipped %zu word%s in a script the voice cannot speak (first: \"%s\")", f.n_skipped,
                f.n_skipped == 1 ? "" : "s", f.first_skipped);
    free(f.b.ph); free(f.b.rate); free(f.b.given); free(f.b.w); free(f.b.wt); free(f.b.text);
    free(f.c.ph); free(f.c.end); free(f.iso.ph); free(f.iso.end);
    return st;
}

enum eg_status eg_text_process(const char *utf8, const struct eg_text_params *tp, eg_phonemiser_fn phonemiser,
                               void *phonemiser_user, eg_text_sentence_fn fn, void *user) {
    struct eg_text_params def = eg_text_default_params();
    struct eg_text_doc doc;
    long bad;
    if (!utf8 || !phonemiser || !fn) return EG_ERR_INVALID_ARG;
    if (!tp) tp = &def;
    if ((bad = eg_text_utf8_invalid_at(utf8, strlen(utf8))) >= 0) {
        EG_LOGE("input text is not valid UTF-8 at byte %ld (byte 0x%02X)", bad, (unsigned)(unsigned char)utf8[bad]);
        return EG_ERR_INVALID_ARG;
    }
    memset(&doc, 0, sizeof doc);
    enum eg_status st = eg_text_parse(utf8, tp->format, &doc);
    if (st != EG_OK) return st;
    st = eg_text_process_doc(&doc, tp, phonemiser, phonemiser_user, fn, user);
    eg_text_doc_free(&doc);
    return st;
}

enum eg_status eg_text_check(const char *utf8, const struct eg_text_params *tp, const struct eg_model *m) {
    struct eg_text_params def = eg_text_default_params();
    struct eg_text_doc doc;
    long bad;
    if (!utf8 || !m) return EG_ERR_INVALID_ARG;
    if (!tp) tp = &def;
    if ((bad = eg_text_utf8_invalid_at(utf8, strlen(utf8))) >= 0) {
        EG_LOGE("input text is not valid UTF-8 at byte %ld (byte 0x%02X)", bad, (unsigned)(unsigned char)utf8[bad]);
        return EG_ERR_INVALID_ARG;
    }
    if (tp->lexicon) {
        enum eg_status st = eg_lexicon_check(tp->lexicon, m);
        if (st != EG_OK) return st;
    }
    memset(&doc, 0, sizeof doc);
    enum eg_status st = eg_text_parse(utf8, tp->format, &doc);
    for (int i = 0; st == EG_OK && i < doc.n; i++) {
        const struct eg_text_item *it = &doc.items[i];
        uint32_t cp;
        if (it->kind != EG_ITEM_PHONEMES || eg_text_phonemes_known(it->ipa, m, &cp)) continue;
        char sym[8] = { 0 };
        eg_text_utf8_put(sym, cp);
        EG_LOGE("%s: line %d, column %d: phoneme '%s' (U+%04X) in \"%s\" is not in the model's inventory "
                "(`edgegen phonemize` shows the symbols it uses)", doc.ssml ? "SSML" : "inline phonemes", it->line,
                it->column, sym, (unsigned)cp, it->ipa);
        st = EG_ERR_INVALID_ARG;
    }
    eg_text_doc_free(&doc);
    return st;
}
