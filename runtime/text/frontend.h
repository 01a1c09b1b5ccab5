/* runtime/text/frontend.h — the library's text front end (MIT), private declarations: the parsed document
 * (runtime/text/markup.c: plain text with [[ ]] inline phonemes, or SSML through expat), the lexicon
 * (runtime/text/lexicon.c) and the sentence builder (runtime/text/frontend.c). The public side is in
 * runtime/edgegen.h (eg_text_process, eg_lexicon_*); the pipeline (runtime/api.c) uses the split below to check
 * user-written phonemes against the model before any audio.
 */
#ifndef EG_TEXT_FRONTEND_H
#define EG_TEXT_FRONTEND_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

enum eg_item_kind {
    EG_ITEM_TEXT,       /* text to normalise (or expand per say_as) and phonemise */
    EG_ITEM_PHONEMES,   /* a word given as phonemes: [[ ]] or <phoneme> */
    EG_ITEM_BREAK,      /* silence of break_ms; ends the sentence */
    EG_ITEM_BOUNDARY,   /* <p>/<s> edge: ends the sentence */
};

enum eg_say_as {
    EG_SAY_NONE = 0, EG_SAY_CHARACTERS, EG_SAY_CARDINAL, EG_SAY_ORDINAL, EG_SAY_DIGITS, EG_SAY_DATE, EG_SAY_TIME,
    EG_SAY_TELEPHONE,
};

struct eg_text_item {
    enum eg_item_kind kind;
    char *text;          /* TEXT: the text; PHONEMES: the word as written (for timings) */
    char *ipa;           /* PHONEMES: the phonemes, UTF-8 */
    enum eg_say_as say_as;
    char format[8];      /* say-as format ("mdy", "dmy", "ymd", ...; "" = default) */
    float rate;          /* <prosody rate> product, 1 = normal */
    int break_ms;
    int line, column;    /* where it starts in the input (1-based), for messages */
};

struct eg_text_doc {
    struct eg_text_item *items;
    int n, cap;
    int ssml;            /* parsed as SSML */
};

/* Parse utf8 (valid UTF-8, NUL-terminated) into doc (zeroed by the caller). Errors: EG_ERR_INVALID_ARG with one
 * log line naming line and column (malformed XML, wrong root, bad attribute, unterminated [[), EG_ERR_NOMEM.
 * On error doc holds nothing to free beyond what eg_text_doc_free releases. */
enum eg_status eg_text_parse(const char *utf8, enum eg_text_format format, struct eg_text_doc *doc);
void eg_text_doc_free(struct eg_text_doc *doc);
/* 1 when utf8 starts like an SSML document (EG_TEXT_AUTO's rule). */
int eg_text_looks_like_ssml(const char *utf8);

/* Phase two of eg_text_process: the parsed document → sentences. */
enum eg_status eg_text_process_doc(const struct eg_text_doc *doc, const struct eg_text_params *tp,
                                   eg_phonemiser_fn phonemiser, void *phonemiser_user,
                                   eg_text_sentence_fn fn, void *user);

/* Lexicon internals for the checks: entry i's word, phonemes and line. */
int eg_lexicon_entry(const struct eg_lexicon *lex, int i, const char **word, const char **phonemes, int *line);
const char *eg_lexicon_name(const struct eg_lexicon *lex);

/* UTF-8 helpers (valid input): decode one codepoint, returns its length (>= 1); encode, returns its length. */
int eg_text_utf8_get(const char *s, uint32_t *cp);
int eg_text_utf8_put(char *out, uint32_t cp);
/* Offset of the first invalid UTF-8 sequence in s[0, n) (overlong, surrogate, > U+10FFFF, truncated), or -1. */
long eg_text_utf8_invalid_at(const char *s, size_t n);
/* 1 when every non-space codepoint of the UTF-8 phoneme string is in m's inventory; else 0 and *bad = the first
 * unknown one. */
int eg_text_phonemes_known(const char *ipa, const struct eg_model *m, uint32_t *bad);

#endif /* EG_TEXT_FRONTEND_H */
