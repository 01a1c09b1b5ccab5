/* runtime/text/text.h — the text front end: UTF-8 check, sentence splitting, phonemes through libespeak-ng, and
 * phoneme ids in the inventory the AR model was trained with.
 *
 * LICENCE NOTE: runtime/text/text.c links libespeak-ng (GPL-3). It is the only such module: a binary that includes
 * it (the `edgegen` CLI) is GPL-3 as a whole; the rest of the library is MIT. Builds without espeak-ng
 * (EG_WITH_ESPEAK=0, e.g. cross builds without libespeak-ng-dev for the target) get EG_ERR_UNSUPPORTED here.
 *
 * Phoneme conventions follow Piper's (so the teacher's alignments apply): espeak-ng IPA per clause with
 * language-switch flags "(en)" removed, the clause's punctuation appended (", : ;" followed by a space),
 * Unicode NFD decomposition, one codepoint per phoneme; a sentence ends at . ? ! (or the end of the text).
 * Ids: BOS "^", PAD "_" after BOS and after every phoneme, EOS "$" (Piper's phonemes_to_ids).
 */
#ifndef EG_TEXT_H
#define EG_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

#include "runtime/core/utf8.h"   /* eg_utf8_invalid_at, eg_utf8_decode: the text's UTF-8 check */

struct eg_phonemizer;

/* espeak-ng keeps process-global state: phonemizers serialise on one mutex. voice e.g. "en-us";
 * data_dir NULL = espeak-ng's default. */
enum eg_status eg_phonemizer_create(const char *voice, const char *data_dir, struct eg_phonemizer **out);
void eg_phonemizer_destroy(struct eg_phonemizer *p);

/* Called once per sentence with its phonemes (codepoints); `text`/`text_len` is the sentence's span of the
 * input. Return EG_OK to continue, anything else stops eg_phonemize() with that status. */
typedef enum eg_status (*eg_sentence_fn)(void *user, const uint32_t *phonemes, int n_phonemes,
                                         const char *text, size_t text_len);

/* Phonemise UTF-8 text sentence by sentence. Invalid UTF-8 → EG_ERR_INVALID_ARG naming the byte offset.
 * Text with no speakable content calls fn zero times. Sentences longer than max_phonemes (> 0) are split
 * at the last space before the limit. */
enum eg_status eg_phonemize(struct eg_phonemizer *p, const char *utf8, int max_phonemes,
                            eg_sentence_fn fn, void *user);

/* Symbol inventory: id i has symbol sym[i] (one codepoint each; ids without a symbol use 0). */
struct eg_phoneme_map {
    int       n_ids;
    uint32_t *sym;       /* [n_ids] codepoint of each id */
    int       id_pad, id_bos, id_eos;
};
/* Map phonemes to ids (Piper's layout: ^ _ p1 _ p2 _ ... $). Unknown phonemes are dropped (counted in
 * *n_unknown if non-NULL). Returns the number of ids written, or -1 if max_ids is too small. */
int eg_phoneme_ids(const struct eg_phoneme_map *map, const uint32_t *ph, int n, int32_t *ids, int max_ids,
                   int *n_unknown);

#endif
