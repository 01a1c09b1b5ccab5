/* tests/golden.h — reading the committed golden files (tests/golden/, or $EG_GOLDEN_DIR) and keeping expected
 * error logs quiet; shared by the model tests (test_decoder.c, test_ar.c, test_opencl.c). */
#ifndef EG_TEST_GOLDEN_H
#define EG_TEST_GOLDEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "runtime/edgegen.h"

static inline const char *golden_dir(void) {
    const char *d = getenv("EG_GOLDEN_DIR");
    return d && *d ? d : "tests/golden";
}

/* The whole file at path in a 64-byte-aligned buffer (free()); NULL and *n = 0 when unreadable. */
static inline void *read_aligned(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = sz > 0 ? aligned_alloc(64, ((size_t)sz + 63) & ~(size_t)63) : NULL;
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) { free(p); p = NULL; }
    fclose(f);
    *n = p ? (size_t)sz : 0;
    return p;
}

/* The whole file golden_dir()/name, as read_aligned(). */
static inline void *golden_read(const char *name, size_t *n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", golden_dir(), name);
    return read_aligned(path, n);
}

/* Whitespace-separated integers of the text file dir/name: malloc'd, or NULL (and *n = 0) if absent. */
static inline int32_t *int_file(const char *dir, const char *name, int *n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    *n = 0;
    if (!f) return NULL;
    int cap = 1024, k = 0, v;
    int32_t *t = malloc(sizeof *t * (size_t)cap);
    while (t && fscanf(f, "%d", &v) == 1) {
        if (k == cap) { int32_t *u = realloc(t, sizeof *t * (size_t)(cap *= 2)); if (!u) { free(t); t = NULL; break; } t = u; }
        t[k++] = v;
    }
    fclose(f);
    *n = t ? k : 0;
    return t;
}

/* The same from golden_dir() (e.g. the golden codec tokens, decoder_tokens.txt). */
static inline int32_t *golden_int_file(const char *name, int *n) { return int_file(golden_dir(), name, n); }

static inline int32_t *golden_decoder_tokens(int *n) { return golden_int_file("decoder_tokens.txt", n); }

/* Tests that provoke errors on purpose silence the log around the call. */
static inline void golden_quiet_log(enum eg_log_level level, const char *msg, void *user) {
    (void)level; (void)msg; (void)user;
}
#define QUIET() eg_log_set(golden_quiet_log, NULL)
#define LOUD() eg_log_set(NULL, NULL)

#endif
