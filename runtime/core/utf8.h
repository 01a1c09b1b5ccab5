/* runtime/core/utf8.h — UTF-8 validation and decoding, the one copy for the library and the text front end. */
#ifndef EG_UTF8_H
#define EG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Returns the byte offset of the first invalid UTF-8 sequence (overlongs, surrogates, > U+10FFFF, truncated
 * sequences are invalid), or -1 if `s` (n bytes) is valid. */
long eg_utf8_invalid_at(const char *s, size_t n);

/* Decode one UTF-8 codepoint at s (valid input assumed); returns bytes consumed (>= 1). */
int eg_utf8_decode(const char *s, uint32_t *cp);

/* 1 when the NUL-terminated s is exactly one valid codepoint (written to *cp), else 0. */
int eg_utf8_one_codepoint(const char *s, uint32_t *cp);

#endif /* EG_UTF8_H */
