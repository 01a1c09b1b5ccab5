/* runtime/text/text.c — text front end over libespeak-ng (GPL-3; see text.h for the licence note).
 *
 * espeak_TextToPhonemes() (espeak-ng 1.51, Debian 12) returns the IPA of one clause per call and advances the
 * text pointer; the clause's terminator is the last . ? ! , : ; in the consumed span (Piper's espeak-ng fork
 * returns it directly). Post-processing follows Piper's phonemize_espeak.py so ids match the training data.
 */
#include "runtime/text/text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/internal.h"

int eg_phoneme_ids(const struct eg_phoneme_map *map, const uint32_t *ph, int n, int32_t *ids, int max_ids,
                   int *n_unknown) {
    int k = 0, unknown = 0;
    if (max_ids < 3) return -1;
    ids[k++] = map->id_bos;
    ids[k++] = map->id_pad;
    for (int i = 0; i < n; i++) {
        int id = -1;
        for (int j = 0; j < map->n_ids; j++)
            if (map->sym[j] == ph[i] && j != map->id_pad && j != map->id_bos && j != map->id_eos) { id = j; break; }
        if (id < 0) { unknown++; continue; }
        if (k + 2 >= max_ids) return -1;
        ids[k++] = id;
        ids[k++] = map->id_pad;
    }
    ids[k++] = map->id_eos;
    if (n_unknown) *n_unknown = unknown;
    return k;
}

#if EG_WITH_ESPEAK
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

static pthread_mutex_t g_espeak_lock = PTHREAD_MUTEX_INITIALIZER;
/* espeak_Initialize done (guarded by g_espeak_lock). espeak-ng's global state lives until the process exits:
 * espeak_Terminate() followed by a new espeak_Initialize() hangs in 1.51, so it is never terminated
 * (LeakSanitizer runs with tests/lsan.supp for this). */
static int g_espeak_ready;
/* The voice espeak-ng has loaded (guarded by g_espeak_lock): espeak_SetVoiceByName() allocates ~1.3 KiB that it never
 * frees on every call (espeak-ng 1.51), so it is called only when the voice changes — a server phonemises millions
 * of sentences. */
static char g_espeak_voice[64];

static int set_voice(const char *voice) {   /* caller holds g_espeak_lock */
    if (!strcmp(g_espeak_voice, voice)) return EE_OK;
    int rc = espeak_SetVoiceByName(voice);
    snprintf(g_espeak_voice, sizeof g_espeak_voice, "%s", rc == EE_OK ? voice : "");
    return rc;
}

struct eg_phonemizer {
    char voice[64];
    uint32_t *buf;           /* current sentence's phonemes */
    int n, cap;
};

/* Unicode NFD for the precomposed Latin letters espeak may emit (foreign words); IPA letters have none. */
static int nfd(uint32_t cp, uint32_t out[2]) {
    static const struct { uint16_t cp, base, mark; } t[] = {
        {0xC0,'A',0x300},{0xC1,'A',0x301},{0xC2,'A',0x302},{0xC3,'A',0x303},{0xC4,'A',0x308},{0xC5,'A',0x30A},
        {0xC7,'C',0x327},{0xC8,'E',0x300},{0xC9,'E',0x301},{0xCA,'E',0x302},{0xCB,'E',0x308},{0xCC,'I',0x300},
        {0xCD,'I',0x301},{0xCE,'I',0x302},{0xCF,'I',0x308},{0xD1,'N',0x303},{0xD2,'O',0x300},{0xD3,'O',0x301},
        {0xD4,'O',0x302},{0xD5,'O',0x303},{0xD6,'O',0x308},{0xD9,'U',0x300},{0xDA,'U',0x301},{0xDB,'U',0x302},
        {0xDC,'U',0x308},{0xDD,'Y',0x301},{0xE0,'a',0x300},{0xE1,'a',0x301},{0xE2,'a',0x302},{0xE3,'a',0x303},
        {0xE4,'a',0x308},{0xE5,'a',0x30A},{0xE7,'c',0x327},{0xE8,'e',0x300},{0xE9,'e',0x301},{0xEA,'e',0x302},
        {0xEB,'e',0x308},{0xEC,'i',0x300},{0xED,'i',0x301},{0xEE,'i',0x302},{0xEF,'i',0x308},{0xF1,'n',0x303},
        {0xF2,'o',0x300},{0xF3,'o',0x301},{0xF4,'o',0x302},{0xF5,'o',0x303},{0xF6,'o',0x308},{0xF9,'u',0x300},
        {0xFA,'u',0x301},{0xFB,'u',0x302},{0xFC,'u',0x308},{0xFD,'y',0x301},{0xFF,'y',0x308},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].cp == cp) { out[0] = t[i].base; out[1] = t[i].mark; return 2; }
    out[0] = cp;
    return 1;
}

static enum eg_status push(struct eg_phonemizer *p, uint32_t cp) {
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 256;
        uint32_t *b = realloc(p->buf, (size_t)cap * sizeof *b);
        if (!b) return EG_ERR_NOMEM;
        p->buf = b; p->cap = cap;
    }
    p->buf[p->n++] = cp;
    return EG_OK;
}

enum eg_status eg_phonemizer_create(const char *voice, const char *data_dir, struct eg_phonemizer **out) {
    *out = NULL;
    if (!voice || strlen(voice) >= 64) return EG_ERR_INVALID_ARG;
    struct eg_phonemizer *p = calloc(1, sizeof *p);
    if (!p) return EG_ERR_NOMEM;
    snprintf(p->voice, sizeof p->voice, "%s", voice);
    pthread_mutex_lock(&g_espeak_lock);
    if (!g_espeak_ready) {
        /* Not espeak_Initialize(): in espeak-ng 1.51 every output mode, AUDIO_OUTPUT_SYNCHRONOUS and _RETRIEVAL
         * included, runs espeak_ng_InitializeOutput(), which opens the sound system (pcaudiolib → a PulseAudio
         * client: a connection to the desktop's sound server, and "mmap() failed" under a memory limit). Text to
         * phonemes needs only the data and the translator: espeak_ng_Initialize() without InitializeOutput()
         * (src/libespeak-ng/speech.c). tests/test_cli_noaudio.sh fails if a sound server is contacted. */
        espeak_ng_ERROR_CONTEXT ectx = NULL;
        espeak_ng_InitializePath(data_dir);
        espeak_ng_STATUS es = espeak_ng_Initialize(&ectx);
        if (es != ENS_OK) {
            char msg[256];
            espeak_ng_GetStatusCodeMessage(es, msg, sizeof msg);
            espeak_ng_ClearErrorContext(&ectx);
            pthread_mutex_unlock(&g_espeak_lock);
            EG_LOGE("espeak-ng: initialisation failed (data directory %s): %s", data_dir ? data_dir : "default", msg);
            free(p);
            return EG_ERR_IO;
        }
        g_espeak_ready = 1;
    }
    int rc = set_voice(voice);
    pthread_mutex_unlock(&g_espeak_lock);
    if (rc != EE_OK) {
        EG_LOGE("espeak-ng: voice '%s' not found", voice);
        free(p);
        return EG_ERR_UNSUPPORTED;
    }
    *out = p;
    return EG_OK;
}

void eg_phonemizer_destroy(struct eg_phonemizer *p) {
    if (!p) return;
    free(p->buf);
    free(p);
}

/* Emit the current sentence, splitting it at spaces into pieces of at most max phonemes. */
static enum eg_status flush(struct eg_phonemizer *p, int max, eg_sentence_fn fn, void *user,
                            const char *text, size_t text_len) {
    int start = 0;
    enum eg_status st = EG_OK;
    while (p->n - start > 0 && st == EG_OK) {
        int end = p->n;
        if (max > 0 && end - start > max) {
            end = start + max;
            for (int i = end - 1; i > start + max / 2; i--) if (p->buf[i] == ' ') { end = i + 1; break; }
        }
        /* skip pieces that are only spaces/punctuation-free whitespace */
        int speakable = 0;
        for (int i = start; i < end; i++) if (p->buf[i] != ' ') { speakable = 1; break; }
        if (speakable) st = fn(user, p->buf + start, end - start, text, text_len);
        start = end;
    }
    p->n = 0;
    return st;
}

enum eg_status eg_phonemize(struct eg_phonemizer *p, const char *utf8, int max_phonemes,
                            eg_sentence_fn fn, void *user) {
    size_t len = strlen(utf8);
    long bad = eg_utf8_invalid_at(utf8, len);
    if (bad >= 0) {
        EG_LOGE("text: invalid UTF-8 at byte %ld", bad);
        return EG_ERR_INVALID_ARG;
    }
    enum eg_status st = EG_OK;
    const char *sent_start = utf8;
    const void *cur = utf8;
    p->n = 0;
    pthread_mutex_lock(&g_espeak_lock);
    set_voice(p->voice);
    while (cur && st == EG_OK) {
        const char *before = cur;
        const char *ph = espeak_TextToPhonemes(&cur, espeakCHARS_UTF8, espeakPHONEMES_IPA);
        const char *after = cur ? (const char *)cur : utf8 + len;
        /* the clause terminator, as espeak-ng 1.52 reports it: the last . ? ! , : ; of the consumed span;
         * an em/en dash counts as ';' and an ellipsis "..." as no terminator */
        char term = 0;
        for (const char *c = before; c < after; c++) {
            if (*c && strchr(".?!,:;", *c)) term = *c;
            if ((unsigned char)c[0] == 0xE2 && (unsigned char)c[1] == 0x80 &&   /* valid UTF-8: 2 bytes follow */
                ((unsigned char)c[2] == 0x94 || (unsigned char)c[2] == 0x93)) term = ';';
            if (c[0] == '.' && c - before >= 2 && c[-1] == '.' && c[-2] == '.') term = 0;
        }
        /* phonemes minus "(lang)" switch flags */
        int depth = 0;
        for (const char *c = ph ? ph : ""; *c && st == EG_OK;) {
            uint32_t cp;
            c += eg_utf8_decode(c, &cp);
            if (cp == '(') { depth++; continue; }
            if (cp == ')') { if (depth) depth--; continue; }
            if (depth) continue;
            uint32_t d[2];
            int k = nfd(cp, d);
            for (int j = 0; j < k && st == EG_OK; j++) st = push(p, d[j]);
        }
        if (term && st == EG_OK) st = push(p, (uint32_t)term);
        if ((term == ',' || term == ':' || term == ';') && st == EG_OK) st = push(p, ' ');
        if (st == EG_OK && (term == '.' || term == '?' || term == '!' || !cur)) {
            pthread_mutex_unlock(&g_espeak_lock);   /* the callback may run the models: don't hold espeak */
            st = flush(p, max_phonemes, fn, user, sent_start, (size_t)(after - sent_start));
            pthread_mutex_lock(&g_espeak_lock);
            set_voice(p->voice);
            sent_start = after;
        }
    }
    pthread_mutex_unlock(&g_espeak_lock);
    return st;
}

#else  /* !EG_WITH_ESPEAK */

struct eg_phonemizer { int unused; };
enum eg_status eg_phonemizer_create(const char *voice, const char *data_dir, struct eg_phonemizer **out) {
    *out = NULL;
    EG_LOGE("text front end not built (espeak-ng missing at build time: install libespeak-ng-dev and rebuild)");
    return EG_ERR_UNSUPPORTED;
}
void eg_phonemizer_destroy(struct eg_phonemizer *p) { (void)p; }
enum eg_status eg_phonemize(struct eg_phonemizer *p, const char *utf8, int max_phonemes,
                            eg_sentence_fn fn, void *user) {
    return EG_ERR_UNSUPPORTED;
}
#endif
