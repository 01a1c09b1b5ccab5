/* runtime/core/arena.c — the context arena: one 64-byte-aligned block, sized once, bump-allocated, reset per call. */
#include <stdlib.h>
#include <string.h>
#include "runtime/core/internal.h"

size_t eg_arena_round(size_t n) {
    if (n > SIZE_MAX - (EG_ARENA_ALIGN - 1)) return 0;
    return (n + EG_ARENA_ALIGN - 1) & ~(size_t)(EG_ARENA_ALIGN - 1);
}

enum eg_status eg_arena_init(struct eg_arena *a, size_t size_bytes) {
    memset(a, 0, sizeof *a);
    size_t n = eg_arena_round(size_bytes ? size_bytes : EG_ARENA_ALIGN);
    if (!n) return EG_ERR_NOMEM;
    a->base = aligned_alloc(EG_ARENA_ALIGN, n);
    if (!a->base) return EG_ERR_NOMEM;
    a->size_bytes = n;
    return EG_OK;
}

void eg_arena_free(struct eg_arena *a) {
    free(a->base);
    memset(a, 0, sizeof *a);
}

void *eg_arena_alloc(struct eg_arena *a, size_t n_bytes) {
    size_t n = eg_arena_round(n_bytes);
    if (!n && n_bytes) return NULL;
    if (n > a->size_bytes - a->used_bytes) return NULL;
    void *p = a->base + a->used_bytes;
    a->used_bytes += n;
    if (a->used_bytes > a->peak_bytes) a->peak_bytes = a->used_bytes;
    return p;
}
