/* tests/gguf_exercise.h — drive the whole read API over a parsed file (shared by tests/test_gguf.c, which replays
 * the fuzz corpus and regressions, and tests/fuzz_gguf.c). Returns a checksum so nothing is optimised away;
 * traps (__builtin_trap) when an invariant the reader promises is broken. */
#ifndef EG_GGUF_EXERCISE_H
#define EG_GGUF_EXERCISE_H

#include <stdint.h>
#include <string.h>
#include "runtime/core/gguf.h"

static inline uint64_t gguf_exercise(const struct eg_gguf *g, const uint8_t *base, size_t size) {
    uint64_t sum = 0;
    char buf[512], type[32];
    uint32_t arr[16];
    const char *s;
    int n_keys = eg_gguf_n_keys(g);
    for (int i = 0; i < n_keys; i++) {
        const char *key = eg_gguf_key_name(g, i);
        uint32_t u; float f; int b, n;
        if (!key || !key[0]) __builtin_trap();
        eg_gguf_key_render(g, i, buf, sizeof buf);
        eg_gguf_key_render(g, i, buf, 7);            /* truncation path */
        eg_gguf_key_type_str(g, i, type, sizeof type);
        if (strlen(buf) >= 7) __builtin_trap();
        sum += (uint64_t)strlen(type);
        if (!eg_gguf_has_key(g, key)) __builtin_trap();
        if (eg_gguf_get_u32(g, key, &u) == EG_OK) sum += u;
        if (eg_gguf_get_f32(g, key, &f) == EG_OK) sum += (uint64_t)(f == f);
        if (eg_gguf_get_bool(g, key, &b) == EG_OK) sum += (uint64_t)b;
        if (eg_gguf_get_str(g, key, &s) == EG_OK) sum += strlen(s);
        if (eg_gguf_get_arr_u32(g, key, arr, 16, &n) == EG_OK) for (int k = 0; k < n; k++) sum += arr[k];
        int len = eg_gguf_arr_len(g, key);
        for (int k = -1; k <= len && k < 64; k++)
            if (eg_gguf_get_arr_str(g, key, k, &s) == EG_OK) sum += strlen(s);
    }
    uint64_t total = 0;
    int n_t = eg_gguf_n_tensors(g);
    for (int i = 0; i < n_t; i++) {
        const struct eg_gguf_tensor *t = eg_gguf_tensor_at(g, i), *b = NULL;
        const uint8_t *p = t->data;
        if (!t->name[0] || t->n_dims < 1 || t->n_dims > EG_GGUF_MAX_DIMS) __builtin_trap();
        if (p < base || t->n_bytes > size || (size_t)(p - base) > size - t->n_bytes) __builtin_trap();
        if ((uint64_t)(p - base) != t->offset_bytes || t->offset_bytes % eg_gguf_alignment(g)) __builtin_trap();
        if (eg_gguf_find(g, t->name) != t) __builtin_trap();
        if (eg_gguf_bind(g, t->name, EG_DTYPE_BIT(t->type), t->n_dims, t->ne, &b) != EG_OK || b != t) __builtin_trap();
        int64_t ne[EG_GGUF_MAX_DIMS];
        memcpy(ne, t->ne, sizeof ne);
        ne[0] = ne[0] == 1 ? 2 : ne[0] - 1;   /* wrong shape must fail */
        if (eg_gguf_bind(g, t->name, EG_DTYPE_BIT(t->type), t->n_dims, ne, &b) == EG_OK) __builtin_trap();
        if (eg_gguf_bind(g, t->name, ~EG_DTYPE_BIT(t->type), t->n_dims, t->ne, &b) == EG_OK) __builtin_trap();
        /* read every data byte (ASan catches anything outside the buffer) */
        for (uint64_t k = 0; k < t->n_bytes; k += 1 + (t->n_bytes >> 12)) sum += p[k];
        if (t->n_bytes) sum += p[t->n_bytes - 1];
        total += t->n_bytes;
    }
    if (total != eg_gguf_tensor_bytes(g)) __builtin_trap();
    if (eg_gguf_data_offset(g) > size && n_t) __builtin_trap();
    return sum;
}

#endif /* EG_GGUF_EXERCISE_H */
