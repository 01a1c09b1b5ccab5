/* runtime/text/normalize.h — English text normalisation before phonemisation: written forms (money, times, dates,
 * years, ordinals, units, abbreviations, phone numbers) become the words the training corpus uses
 * (models/data/build_text.py), because espeak-ng reads many of them badly ("$3.99" → "dollar three point nine
 * nine"). Pure C, no espeak-ng dependency (MIT, part of libedgegen).
 */
#ifndef EG_NORMALIZE_H
#define EG_NORMALIZE_H

#include <stddef.h>
#include "runtime/edgegen.h"

/* Normalise NUL-terminated UTF-8 `in` into `out` (out_len bytes including the terminating NUL); *n_out (may be
 * NULL) gets the output length without the NUL. Text that no rule matches is copied byte for byte, including
 * non-ASCII letters, emoji and invalid UTF-8 (not checked here: eg_phonemize() rejects it afterwards).
 * Output grows by at most EG_NORMALIZE_GROWTH times the input plus 64 bytes; out_len >= that bound never
 * overflows. Returns EG_OK, or EG_ERR_INVALID_ARG (NULL pointers, or `out` too small: out is then "" and
 * *n_out 0, and the log says so). Reentrant: no global state. */
#define EG_NORMALIZE_GROWTH 16
enum eg_status eg_text_normalize(const char *in, char *out, size_t out_len, size_t *n_out);

/* The same, reporting what was left out: words in a script the voice cannot speak (Chinese, Japanese, Korean,
 * Arabic, Hebrew, Cyrillic, Greek words, Indic scripts, ...) are skipped, not spelled out. info may be NULL. */
struct eg_normalize_info {
    size_t n_skipped;            /* runs of such text */
    char first_skipped[48];      /* the first one (cut at a codepoint boundary), for the caller's single warning */
};
enum eg_status eg_text_normalize_ex(const char *in, char *out, size_t out_len, size_t *n_out,
                                    struct eg_normalize_info *info);

/* <say-as interpret-as=..>: `kind` is an enum eg_say_as (runtime/text/frontend.h), format its date order ("mdy",
 * "dmy", "ymd", "md", ...; NULL or "" = month first unless the numbers say otherwise). Text not in the expected form
 * is normalised as ordinary text. Same buffer contract as eg_text_normalize. */
enum eg_status eg_text_say_as(int kind, const char *format, const char *in, char *out, size_t out_len,
                              size_t *n_out);

#endif
