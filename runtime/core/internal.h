/* runtime/core/internal.h — private declarations shared by every layer above ports/: checks, arena (and the log, ports/log.h). */
#ifndef EG_INTERNAL_H
#define EG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "ports/log.h"   /* eg_log, EG_LOGE/W/I/D, EG_PRINTF */
#include "runtime/edgegen.h"

/* EG_ASSERT: internal invariants only (never file bytes, user input or OpenCL codes); compiled out with NDEBUG.
 * EG_CHECK: turns a broken invariant into EG_ERR_INTERNAL in every build. */
#ifdef NDEBUG
#define EG_ASSERT(c) ((void)0)
#else
#include <stdlib.h>
#define EG_ASSERT(c) do { if (!(c)) { eg_log(EG_LOG_ERROR, "%s:%d: assertion failed: %s", __FILE__, __LINE__, #c); abort(); } } while (0)
#endif
#define EG_CHECK(c) do { if (!(c)) { eg_log(EG_LOG_ERROR, "%s:%d: internal check failed: %s", __FILE__, __LINE__, #c); return EG_ERR_INTERNAL; } } while (0)

/* ---- arena: one 64-byte-aligned block per context, sized once at creation; bump allocation ---------------- */
struct eg_arena {
    uint8_t *base;
    size_t   size_bytes;
    size_t   used_bytes;
    size_t   peak_bytes;
};
#define EG_ARENA_ALIGN 64
/* Round n up to the arena alignment; returns 0 on overflow. Use it to size arenas up front. */
size_t eg_arena_round(size_t n_bytes);
enum eg_status eg_arena_init(struct eg_arena *a, size_t size_bytes);
void  eg_arena_free(struct eg_arena *a);
/* NULL when the arena is exhausted (a sizing bug: callers turn it into EG_ERR_INTERNAL). */
void *eg_arena_alloc(struct eg_arena *a, size_t n_bytes);
static inline size_t eg_arena_mark(const struct eg_arena *a) { return a->used_bytes; }
static inline void eg_arena_reset(struct eg_arena *a, size_t mark) { a->used_bytes = mark; }

#endif /* EG_INTERNAL_H */
