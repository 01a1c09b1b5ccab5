/* runtime/core/gguf.c — GGUF v3 (and v2) reader. Spec: ggml docs/gguf.md. Layout, all little-endian:
 *   header     "GGUF" u32 version, u64 n_tensors, u64 n_kv
 *   n_kv x     key (u64 len + bytes), u32 value type, value (scalar | string | u32 elem type + u64 n + elems)
 *   n_tensors  name (string), u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset (relative to data)
 *   padding    to general.alignment (default 32), then the data section.
 * Every byte is hostile (research/reliability.md §1): counts are bounded by the bytes left before anything is
 * allocated, products and sums are overflow-checked in the order the formula computes, names are unique,
 * non-empty and NUL-free, tensors are aligned, inside the file and disjoint. Two passes: the first validates
 * and records offsets, the second copies every string once into a NUL-terminated pool. Lookups then cannot
 * fail on bounds. Allocations are O(file size): about 4x the header bytes at worst. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/core/gguf.h"
#include "runtime/core/internal.h"
#include "ports/port.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "gguf.c: tensor data is used in place and GGUF files are little-endian; big-endian hosts are not supported"
#endif

#define GGUF_HEADER_BYTES   24u
#define GGUF_MIN_KV_BYTES   14u      /* key len 8 + key >= 1 + type 4 + value >= 1 */
#define GGUF_MIN_TI_BYTES   33u      /* name len 8 + name >= 1 + n_dims 4 + ne 8 + type 4 + offset 8 */
#define GGUF_MAX_KEY_BYTES  65535u   /* the spec's limit for keys */
#define GGUF_MAX_NAME_BYTES 255u     /* ours (ggml uses 63): PyTorch module names can be long */
#define GGUF_MAX_COUNT      ((uint64_t)INT32_MAX)
#define GGUF_MIN_ALIGNMENT  8u       /* so f32/f16 data is naturally aligned */
#define GGUF_MAX_ALIGNMENT  (1u << 20)
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_RENDER_MAX_ELEMS 8

enum gguf_vtype {
    GT_U8 = 0, GT_I8, GT_U16, GT_I16, GT_U32, GT_I32, GT_F32, GT_BOOL, GT_STRING, GT_ARRAY,
    GT_U64, GT_I64, GT_F64, GT_COUNT
};
static const uint8_t vtype_bytes[GT_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
static const char *const vtype_names[GT_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"
};

struct kv {
    size_t   key_off;       /* pass 1: where the key bytes are in the buffer */
    uint32_t key_len;
    uint32_t type;          /* enum gguf_vtype */
    uint32_t arr_type;      /* element type when type == GT_ARRAY */
    uint64_t n;             /* array length (1 for scalars) */
    size_t   val_off;       /* scalar bytes, string bytes, or first array element */
    uint64_t str_len;       /* GT_STRING */
    size_t   strs_first;    /* GT_ARRAY of strings: first index in str_tab */
    const char *key;        /* pass 2: NUL-terminated, in the pool */
    const char *str;        /* pass 2: GT_STRING value */
};

struct tinfo {
    struct eg_gguf_tensor pub;
    size_t   name_off;
    uint32_t name_len;
    uint64_t rel_off;       /* offset from the start of the data section */
};

struct eg_gguf {
    char            *label;
    struct eg_file_map map;     /* zeroed when the buffer is borrowed */
    const uint8_t   *base;
    size_t           size;
    uint32_t         version, alignment;
    uint64_t         data_off;  /* start of the data section, from the start of the file */
    uint64_t         tensor_bytes;
    int              n_kv, n_tensors;
    struct kv       *kv;
    struct kv      **kv_sorted;      /* by key, for lookup */
    struct tinfo    *ti;
    struct tinfo   **ti_sorted;      /* by name */
    char            *pool;           /* every string, NUL-terminated */
    const char     **str_tab;        /* elements of string arrays */
    size_t          *str_len_tab;
    size_t           n_str_tab;
};

/* ---- dtypes ------------------------------------------------------------------------------------------------ */
const char *eg_dtype_name(enum eg_dtype t) {
    switch (t) {
    case EG_DTYPE_F32: return "f32";
    case EG_DTYPE_F16: return "f16";
    case EG_DTYPE_Q4_0: return "q4_0";
    case EG_DTYPE_Q8_0: return "q8_0";
    }
    return "?";
}

/* Names of every ggml type id, so an unsupported one is named in the error. */
static const char *ggml_type_name(uint32_t t) {
    static const char *const names[] = {
        "f32", "f16", "q4_0", "q4_1", "q4_2 (removed)", "q4_3 (removed)", "q5_0", "q5_1", "q8_0", "q8_1",
        "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K", "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl",
        "iq3_s", "iq2_s", "iq4_xs", "i8", "i16", "i32", "i64", "f64", "iq1_m", "bf16", "q4_0_4_4 (removed)",
        "q4_0_4_8 (removed)", "q4_0_8_8 (removed)", "tq1_0", "tq2_0", "iq4_nl_4_4 (removed)",
        "iq4_nl_4_8 (removed)", "iq4_nl_8_8 (removed)", "mxfp4",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static int dtype_supported(uint32_t t) {
    return t == EG_DTYPE_F32 || t == EG_DTYPE_F16 || t == EG_DTYPE_Q4_0 || t == EG_DTYPE_Q8_0;
}

uint64_t eg_dtype_row_bytes(enum eg_dtype t, uint64_t n) {
    uint64_t r;
    switch (t) {
    case EG_DTYPE_F32: return __builtin_mul_overflow(n, 4u, &r) ? 0 : r;
    case EG_DTYPE_F16: return __builtin_mul_overflow(n, 2u, &r) ? 0 : r;
    case EG_DTYPE_Q8_0: return n % 32 ? 0 : (n / 32) * 34u;   /* divide first: cannot wrap */
    case EG_DTYPE_Q4_0: return n % 32 ? 0 : (n / 32) * 18u;
    }
    return 0;
}

/* ---- little-endian loads (the buffer may be unaligned) ------------------------------------------------------ */
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

/* ---- errors ------------------------------------------------------------------------------------------------- */
/* Printable copy of untrusted bytes: non-printable ASCII, quotes and bytes >= 0x80 as \xNN; cut with "..." when
 * out_len is too small (callers size it: ~128 for names in messages, more for rendered values). */
static const char *esc(const void *s_, size_t n, char *out, size_t out_len) {
    const uint8_t *s = s_;
    size_t o = 0;
    if (!out_len) return out;
    for (size_t i = 0; i < n; i++) {
        if (o + 8 >= out_len) { if (o + 4 < out_len) { memcpy(out + o, "...", 3); o += 3; } break; }
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, out_len - o, "\\x%02x", c);
    }
    out[o] = 0;
    return out;
}

struct rd {
    struct eg_gguf *g;
    size_t pos;
    char   where[200];    /* the item being read: "key #3 'general.name'", "tensor #0 'x'" */
};

static enum eg_status fail(const struct eg_gguf *g, const char *fmt, ...) EG_PRINTF(2, 3);
static enum eg_status fail(const struct eg_gguf *g, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    EG_LOGE("%s: %s", g->label, msg);
    return EG_ERR_FORMAT;
}

static size_t left(const struct rd *r) { return r->g->size - r->pos; }

static enum eg_status need(struct rd *r, size_t n, const char *field) {
    if (n <= left(r)) return EG_OK;
    return fail(r->g, "truncated: %s%s%s needs %zu bytes at offset %zu, only %zu left (file is %zu bytes)",
                r->where, r->where[0] ? " " : "", field, n, r->pos, left(r), r->g->size);
}

static enum eg_status rd_u32(struct rd *r, const char *field, uint32_t *v) {
    enum eg_status st = need(r, 4, field);
    if (st) return st;
    *v = ld32(r->g->base + r->pos);
    r->pos += 4;
    return EG_OK;
}

static enum eg_status rd_u64(struct rd *r, const char *field, uint64_t *v) {
    enum eg_status st = need(r, 8, field);
    if (st) return st;
    *v = ld64(r->g->base + r->pos);
    r->pos += 8;
    return EG_OK;
}

/* A GGUF string: u64 length, bytes. Checks the length against the bytes left before anything else. */
static enum eg_status rd_str(struct rd *r, const char *field, size_t *off, uint64_t *len) {
    enum eg_status st = rd_u64(r, field, len);
    if (st) return st;
    if (*len > left(r))
        return fail(r->g, "%s %s: string length %llu exceeds the %zu bytes left at offset %zu",
                    r->where, field, (unsigned long long)*len, left(r), r->pos);
    *off = r->pos;
    r->pos += (size_t)*len;
    return EG_OK;
}

/* Bounded count: n items of at least min_bytes each must fit in what is left. */
static enum eg_status check_count(struct rd *r, const char *what, uint64_t n, uint64_t min_bytes) {
    if (n > GGUF_MAX_COUNT || n > left(r) / min_bytes)
        return fail(r->g, "%s %llu: at most %llu fit in the %zu bytes left at offset %zu (truncated or corrupt file)",
                    what, (unsigned long long)n, (unsigned long long)(left(r) / min_bytes), left(r), r->pos);
    return EG_OK;
}

static enum eg_status add_pool(struct eg_gguf *g, size_t *pool_bytes, uint64_t len) {
    size_t t;
    if (len >= SIZE_MAX || __builtin_add_overflow(*pool_bytes, (size_t)len + 1, &t))
        return fail(g, "string table size overflows");
    *pool_bytes = t;
    return EG_OK;
}

/* ---- pass 1: header, metadata, tensor infos ------------------------------------------------------------------ */
static enum eg_status parse_value(struct rd *r, struct kv *kv, size_t *pool_bytes, size_t *n_arr_strs) {
    enum eg_status st;
    struct eg_gguf *g = r->g;
    if (kv->type >= GT_COUNT)
        return fail(g, "%s: unknown value type %u (expected 0..12)", r->where, kv->type);
    kv->n = 1;
    kv->val_off = r->pos;
    if (kv->type == GT_STRING) {
        if ((st = rd_str(r, "value", &kv->val_off, &kv->str_len))) return st;
        return add_pool(g, pool_bytes, kv->str_len);
    }
    if (kv->type != GT_ARRAY) {
        if ((st = need(r, vtype_bytes[kv->type], "value"))) return st;
        if (kv->type == GT_BOOL && g->base[r->pos] > 1)
            return fail(g, "%s: bool value: expected 0 or 1, found %u", r->where, g->base[r->pos]);
        r->pos += vtype_bytes[kv->type];
        return EG_OK;
    }
    if ((st = rd_u32(r, "array element type", &kv->arr_type))) return st;
    if (kv->arr_type >= GT_COUNT)
        return fail(g, "%s: unknown array element type %u (expected 0..12)", r->where, kv->arr_type);
    if (kv->arr_type == GT_ARRAY)
        return fail(g, "%s: array element type: nested arrays are not supported", r->where);
    if ((st = rd_u64(r, "array length", &kv->n))) return st;
    kv->val_off = r->pos;
    if (kv->arr_type == GT_STRING) {
        /* each element is at least its 8-byte length */
        if (kv->n > GGUF_MAX_COUNT || kv->n > left(r) / 8)
            return fail(g, "%s: array length %llu: %llu strings cannot fit in the %zu bytes left",
                        r->where, (unsigned long long)kv->n, (unsigned long long)kv->n, left(r));
        kv->strs_first = *n_arr_strs;
        *n_arr_strs += (size_t)kv->n;
        for (uint64_t i = 0; i < kv->n; i++) {
            size_t off; uint64_t len;
            if ((st = rd_str(r, "array string element", &off, &len))) return st;
            if ((st = add_pool(g, pool_bytes, len))) return st;
        }
        return EG_OK;
    }
    uint64_t n_bytes;
    if (kv->n > GGUF_MAX_COUNT || __builtin_mul_overflow(kv->n, (uint64_t)vtype_bytes[kv->arr_type], &n_bytes) ||
        n_bytes > left(r))
        return fail(g, "%s: array length %llu of %s exceeds the %zu bytes left at offset %zu", r->where,
                    (unsigned long long)kv->n, vtype_names[kv->arr_type], left(r), r->pos);
    if (kv->arr_type == GT_BOOL)
        for (uint64_t i = 0; i < kv->n; i++)
            if (g->base[r->pos + i] > 1)
                return fail(g, "%s: bool array element %llu: expected 0 or 1, found %u", r->where,
                            (unsigned long long)i, g->base[r->pos + i]);
    r->pos += (size_t)n_bytes;
    return EG_OK;
}

static enum eg_status parse_kvs(struct rd *r, uint64_t n_kv, size_t *pool_bytes, size_t *n_arr_strs) {
    enum eg_status st;
    struct eg_gguf *g = r->g;
    for (uint64_t i = 0; i < n_kv; i++) {
        struct kv *kv = &g->kv[i];
        uint64_t len;
        char name[128];
        snprintf(r->where, sizeof r->where, "key #%llu", (unsigned long long)i);
        if ((st = rd_str(r, "name", &kv->key_off, &len))) return st;
        if (len == 0) return fail(g, "%s: empty key", r->where);
        if (len > GGUF_MAX_KEY_BYTES)
            return fail(g, "%s: key length %llu exceeds %u", r->where, (unsigned long long)len, GGUF_MAX_KEY_BYTES);
        if (memchr(g->base + kv->key_off, 0, (size_t)len))
            return fail(g, "%s '%s': key contains a NUL byte", r->where, esc(g->base + kv->key_off, (size_t)len, name, sizeof name));
        kv->key_len = (uint32_t)len;
        snprintf(r->where, sizeof r->where, "key #%llu '%s'", (unsigned long long)i,
                 esc(g->base + kv->key_off, (size_t)len, name, sizeof name));
        if ((st = add_pool(g, pool_bytes, len))) return st;
        if ((st = rd_u32(r, "value type", &kv->type))) return st;
        if ((st = parse_value(r, kv, pool_bytes, n_arr_strs))) return st;
        g->n_kv = (int)i + 1;
    }
    return EG_OK;
}

static enum eg_status parse_tinfos(struct rd *r, uint64_t n_tensors, size_t *pool_bytes) {
    enum eg_status st;
    struct eg_gguf *g = r->g;
    for (uint64_t i = 0; i < n_tensors; i++) {
        struct tinfo *t = &g->ti[i];
        uint64_t len, ne;
        uint32_t n_dims, type;
        char name[128];
        snprintf(r->where, sizeof r->where, "tensor #%llu", (unsigned long long)i);
        if ((st = rd_str(r, "name", &t->name_off, &len))) return st;
        if (len == 0) return fail(g, "%s: empty name", r->where);
        if (len > GGUF_MAX_NAME_BYTES)
            return fail(g, "%s: name length %llu exceeds %u", r->where, (unsigned long long)len, GGUF_MAX_NAME_BYTES);
        esc(g->base + t->name_off, (size_t)len, name, sizeof name);
        if (memchr(g->base + t->name_off, 0, (size_t)len)) return fail(g, "%s '%s': name contains a NUL byte", r->where, name);
        t->name_len = (uint32_t)len;
        snprintf(r->where, sizeof r->where, "tensor '%s'", name);
        if ((st = add_pool(g, pool_bytes, len))) return st;
        if ((st = rd_u32(r, "n_dims", &n_dims))) return st;
        if (n_dims < 1 || n_dims > EG_GGUF_MAX_DIMS)
            return fail(g, "%s: n_dims: expected 1..%d, found %u", r->where, EG_GGUF_MAX_DIMS, n_dims);
        t->pub.n_dims = (int)n_dims;
        uint64_t n_elem = 1;
        for (int d = 0; d < EG_GGUF_MAX_DIMS; d++) t->pub.ne[d] = 1;
        for (uint32_t d = 0; d < n_dims; d++) {
            if ((st = rd_u64(r, "dimension", &ne))) return st;
            if (ne == 0 || ne > (uint64_t)INT64_MAX)
                return fail(g, "%s: ne[%u]: expected 1..%lld, found %llu", r->where, d, (long long)INT64_MAX,
                            (unsigned long long)ne);
            if (__builtin_mul_overflow(n_elem, ne, &n_elem) || n_elem > (uint64_t)INT64_MAX)
                return fail(g, "%s: element count overflows at ne[%u] = %llu", r->where, d, (unsigned long long)ne);
            t->pub.ne[d] = (int64_t)ne;
        }
        if ((st = rd_u32(r, "type", &type))) return st;
        if (!dtype_supported(type))
            return fail(g, "%s: unsupported tensor type %u (%s); supported: f32, f16, q8_0, q4_0", r->where, type,
                        ggml_type_name(type));
        t->pub.type = (enum eg_dtype)type;
        if ((type == EG_DTYPE_Q8_0 || type == EG_DTYPE_Q4_0) && t->pub.ne[0] % 32)
            return fail(g, "%s: %s needs ne[0] divisible by 32, found %lld", r->where, eg_dtype_name(t->pub.type),
                        (long long)t->pub.ne[0]);
        /* bytes = row_bytes(ne[0]) * ne[1] * ne[2] * ne[3], each step checked */
        uint64_t bytes = eg_dtype_row_bytes(t->pub.type, (uint64_t)t->pub.ne[0]);
        if (!bytes) return fail(g, "%s: row size overflows (ne[0] = %lld)", r->where, (long long)t->pub.ne[0]);
        for (int d = 1; d < EG_GGUF_MAX_DIMS; d++)
            if (__builtin_mul_overflow(bytes, (uint64_t)t->pub.ne[d], &bytes))
                return fail(g, "%s: byte size overflows at ne[%d] = %lld", r->where, d, (long long)t->pub.ne[d]);
        t->pub.n_bytes = bytes;
        if ((st = rd_u64(r, "offset", &t->rel_off))) return st;
        g->n_tensors = (int)i + 1;
    }
    return EG_OK;
}

/* ---- pass 2 helpers: pool, sort, lookups --------------------------------------------------------------------- */
static char *pool_put(char **cursor, const uint8_t *src, size_t n) {
    char *s = *cursor;
    if (n) memcpy(s, src, n);
    s[n] = 0;
    *cursor = s + n + 1;
    return s;
}

static int cmp_kv(const void *a, const void *b) {
    return strcmp((*(struct kv *const *)a)->key, (*(struct kv *const *)b)->key);
}
static int cmp_ti_name(const void *a, const void *b) {
    return strcmp((*(struct tinfo *const *)a)->pub.name, (*(struct tinfo *const *)b)->pub.name);
}
static int cmp_ti_off(const void *a, const void *b) {
    uint64_t x = (*(struct tinfo *const *)a)->rel_off, y = (*(struct tinfo *const *)b)->rel_off;
    return x < y ? -1 : x > y;
}

static struct kv *find_kv(const struct eg_gguf *g, const char *key) {
    if (!g || !key || !g->kv_sorted) return NULL;
    int lo = 0, hi = g->n_kv - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(key, g->kv_sorted[mid]->key);
        if (!c) return g->kv_sorted[mid];
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return NULL;
}

static enum eg_status build_tables(struct eg_gguf *g, size_t pool_bytes, size_t n_arr_strs) {
    if (!(g->pool = malloc(pool_bytes ? pool_bytes : 1))) goto nomem;
    if (n_arr_strs) {
        if (!(g->str_tab = calloc(n_arr_strs, sizeof *g->str_tab))) goto nomem;
        if (!(g->str_len_tab = calloc(n_arr_strs, sizeof *g->str_len_tab))) goto nomem;
    }
    g->n_str_tab = n_arr_strs;
    if (g->n_kv && !(g->kv_sorted = malloc((size_t)g->n_kv * sizeof *g->kv_sorted))) goto nomem;
    if (g->n_tensors && !(g->ti_sorted = malloc((size_t)g->n_tensors * sizeof *g->ti_sorted))) goto nomem;

    char *cur = g->pool;
    for (int i = 0; i < g->n_kv; i++) {
        struct kv *kv = &g->kv[i];
        kv->key = pool_put(&cur, g->base + kv->key_off, kv->key_len);
        if (kv->type == GT_STRING) kv->str = pool_put(&cur, g->base + kv->val_off, (size_t)kv->str_len);
        if (kv->type == GT_ARRAY && kv->arr_type == GT_STRING) {
            size_t p = kv->val_off;   /* already validated in pass 1 */
            for (uint64_t j = 0; j < kv->n; j++) {
                size_t len = (size_t)ld64(g->base + p);
                g->str_tab[kv->strs_first + j] = pool_put(&cur, g->base + p + 8, len);
                g->str_len_tab[kv->strs_first + j] = len;
                p += 8 + len;
            }
        }
        g->kv_sorted[i] = kv;
    }
    for (int i = 0; i < g->n_tensors; i++) {
        g->ti[i].pub.name = pool_put(&cur, g->base + g->ti[i].name_off, g->ti[i].name_len);
        g->ti_sorted[i] = &g->ti[i];
    }
    return EG_OK;
nomem:
    EG_LOGE("%s: out of memory for the metadata tables (%zu bytes of strings)", g->label, pool_bytes);
    return EG_ERR_NOMEM;
}

static enum eg_status check_alignment(struct eg_gguf *g) {
    char buf[96];
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    struct kv *kv = find_kv(g, "general.alignment");
    if (!kv) return EG_OK;
    if (kv->type != GT_U32) {
        eg_gguf_key_type_str(g, (int)(kv - g->kv), buf, sizeof buf);
        return fail(g, "key general.alignment: expected u32, found %s", buf);
    }
    uint32_t a = ld32(g->base + kv->val_off);
    if (a < GGUF_MIN_ALIGNMENT || a > GGUF_MAX_ALIGNMENT || (a & (a - 1)))
        return fail(g, "key general.alignment: expected a power of two in [%u, %u], found %u", GGUF_MIN_ALIGNMENT,
                    GGUF_MAX_ALIGNMENT, a);
    g->alignment = a;
    return EG_OK;
}

/* Offsets: aligned, inside the file, no two tensors sharing a byte. */
static enum eg_status check_tensor_data(struct eg_gguf *g, size_t header_end) {
    uint64_t a = g->alignment, pad = (a - header_end % a) % a;
    g->data_off = (uint64_t)header_end + pad;      /* header_end <= size <= SIZE_MAX/2: cannot wrap */
    if (g->n_tensors == 0) return EG_OK;
    if (g->data_off > g->size)
        return fail(g, "truncated: data section starts at offset %llu (alignment %u), file is %zu bytes",
                    (unsigned long long)g->data_off, g->alignment, g->size);
    for (int i = 0; i < g->n_tensors; i++) {
        struct tinfo *t = &g->ti[i];
        char name[128];
        uint64_t start, end;
        if (t->rel_off % a)
            return fail(g, "tensor '%s': offset %llu is not a multiple of general.alignment %u",
                        esc(t->pub.name, t->name_len, name, sizeof name),
                        (unsigned long long)t->rel_off, g->alignment);
        if (__builtin_add_overflow(g->data_off, t->rel_off, &start) ||
            __builtin_add_overflow(start, t->pub.n_bytes, &end) || end > g->size)
            return fail(g, "tensor '%s': data at offset %llu + %llu bytes: expected inside the %zu-byte file "
                        "(data section at %llu)", esc(t->pub.name, t->name_len, name, sizeof name),
                        (unsigned long long)t->rel_off,
                        (unsigned long long)t->pub.n_bytes, g->size, (unsigned long long)g->data_off);
        t->pub.offset_bytes = start;
        t->pub.data = g->base + start;
        g->tensor_bytes += t->pub.n_bytes;         /* disjoint and inside the file: cannot wrap */
    }
    /* disjointness: sort by offset, compare neighbours */
    if (g->n_tensors > 1) qsort(g->ti_sorted, (size_t)g->n_tensors, sizeof *g->ti_sorted, cmp_ti_off);
    for (int i = 1; i < g->n_tensors; i++) {
        const struct tinfo *p = g->ti_sorted[i - 1], *q = g->ti_sorted[i];
        if (p->rel_off + p->pub.n_bytes > q->rel_off) {
            char n1[128], n2[128];
            return fail(g, "tensor '%s': data [%llu, %llu) overlaps tensor '%s' at offset %llu",
                        esc(q->pub.name, q->name_len, n1, sizeof n1), (unsigned long long)q->rel_off,
                        (unsigned long long)(q->rel_off + q->pub.n_bytes), esc(p->pub.name, p->name_len, n2, sizeof n2),
                        (unsigned long long)p->rel_off);
        }
    }
    return EG_OK;
}

static enum eg_status parse(struct eg_gguf *g) {
    enum eg_status st;
    struct rd r = { .g = g };
    uint32_t version;
    uint64_t n_tensors, n_kv;
    size_t pool_bytes = 0, n_arr_strs = 0;
    char hex[128];

    if (g->size < 4)
        return fail(g, "truncated: file is %zu bytes, a GGUF header needs %u", g->size, GGUF_HEADER_BYTES);
    if (memcmp(g->base, "GGUF", 4) != 0)
        return fail(g, "bad magic: expected \"GGUF\", found \"%s\"", esc(g->base, 4, hex, sizeof hex));
    r.pos = 4;
    snprintf(r.where, sizeof r.where, "header");
    if ((st = rd_u32(&r, "version", &version))) return st;
    if (version != 2 && version != 3) {
        uint32_t sw = __builtin_bswap32(version);
        return fail(g, "unsupported GGUF version: expected 2 or 3, found %u%s", version,
                    (sw == 2 || sw == 3) ? " (the file looks big-endian; only little-endian files are supported)" : "");
    }
    g->version = version;
    if ((st = rd_u64(&r, "n_tensors", &n_tensors))) return st;
    if ((st = rd_u64(&r, "n_kv", &n_kv))) return st;
    /* bound both counts by the bytes left before allocating anything sized by them */
    if ((st = check_count(&r, "header n_kv", n_kv, GGUF_MIN_KV_BYTES))) return st;
    if ((st = check_count(&r, "header n_tensors", n_tensors, GGUF_MIN_TI_BYTES))) return st;
    if (n_kv + n_tensors > left(&r) / GGUF_MIN_KV_BYTES)
        return fail(g, "header n_kv %llu + n_tensors %llu: cannot fit in the %zu bytes left (truncated or corrupt file)",
                    (unsigned long long)n_kv, (unsigned long long)n_tensors, left(&r));
    if (n_kv && !(g->kv = calloc((size_t)n_kv, sizeof *g->kv))) goto nomem;
    if (n_tensors && !(g->ti = calloc((size_t)n_tensors, sizeof *g->ti))) goto nomem;

    if ((st = parse_kvs(&r, n_kv, &pool_bytes, &n_arr_strs))) return st;
    if ((st = parse_tinfos(&r, n_tensors, &pool_bytes))) return st;
    if ((st = build_tables(g, pool_bytes, n_arr_strs))) return st;

    /* unique keys and names (sorted copies double as lookup indexes) */
    if (g->n_kv > 1) qsort(g->kv_sorted, (size_t)g->n_kv, sizeof *g->kv_sorted, cmp_kv);
    for (int i = 1; i < g->n_kv; i++)
        if (!strcmp(g->kv_sorted[i - 1]->key, g->kv_sorted[i]->key))
            return fail(g, "key '%s': duplicate key", esc(g->kv_sorted[i]->key, g->kv_sorted[i]->key_len, hex, sizeof hex));
    if ((st = check_alignment(g))) return st;
    if ((st = check_tensor_data(g, r.pos))) return st;
    if (g->n_tensors > 1) qsort(g->ti_sorted, (size_t)g->n_tensors, sizeof *g->ti_sorted, cmp_ti_name);
    for (int i = 1; i < g->n_tensors; i++)
        if (!strcmp(g->ti_sorted[i - 1]->pub.name, g->ti_sorted[i]->pub.name))
            return fail(g, "tensor '%s': duplicate tensor name",
                        esc(g->ti_sorted[i]->pub.name, g->ti_sorted[i]->name_len, hex, sizeof hex));
    return EG_OK;
nomem:
    EG_LOGE("%s: out of memory for %llu keys and %llu tensor infos", g->label, (unsigned long long)n_kv,
            (unsigned long long)n_tensors);
    return EG_ERR_NOMEM;
}

/* ---- open / parse / close ----------------------------------------------------------------------------------- */
static struct eg_gguf *gguf_alloc(const char *label) {
    struct eg_gguf *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    size_t n = strlen(label);
    if (!(g->label = malloc(n + 1))) { free(g); return NULL; }
    memcpy(g->label, label, n + 1);
    return g;
}

void eg_gguf_close(struct eg_gguf *g) {
    if (!g) return;
    free(g->kv);
    free(g->kv_sorted);
    free(g->ti);
    free(g->ti_sorted);
    free(g->pool);
    free(g->str_tab);
    free(g->str_len_tab);
    eg_unmap_file(&g->map);
    free(g->label);
    free(g);
}

enum eg_status eg_gguf_parse(const void *buf, size_t n_bytes, const char *label, struct eg_gguf **out) {
    enum eg_status st;
    struct eg_gguf *g;
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if ((!buf && n_bytes) || n_bytes > SIZE_MAX / 2) return EG_ERR_INVALID_ARG;
    if (!(g = gguf_alloc(label ? label : "(buffer)"))) return EG_ERR_NOMEM;
    g->base = buf;
    g->size = n_bytes;
    if ((st = parse(g))) goto err_close;
    uintptr_t need_align = g->alignment < EG_GGUF_BUF_ALIGN ? g->alignment : EG_GGUF_BUF_ALIGN;
    if ((uintptr_t)buf % need_align) {
        EG_LOGE("%s: buffer address is not aligned to %u bytes", g->label, (unsigned)need_align);
        st = EG_ERR_INVALID_ARG;
        goto err_close;
    }
    *out = g;
    return EG_OK;
err_close:
    eg_gguf_close(g);
    return st;
}

enum eg_status eg_gguf_open(const char *path, struct eg_gguf **out) {
    enum eg_status st;
    struct eg_gguf *g;
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (!path) return EG_ERR_INVALID_ARG;
    if (!(g = gguf_alloc(path))) return EG_ERR_NOMEM;
    if ((st = eg_map_file(path, &g->map))) goto err_close;
    g->base = g->map.data;
    g->size = g->map.size_bytes;
    if ((st = parse(g))) goto err_close;
    *out = g;
    return EG_OK;
err_close:
    eg_gguf_close(g);   /* unmaps too */
    return st;
}

/* ---- accessors ------------------------------------------------------------------------------------------------ */
const char *eg_gguf_label(const struct eg_gguf *g) { return g ? g->label : "(null)"; }
uint64_t eg_gguf_file_bytes(const struct eg_gguf *g) { return g ? g->size : 0; }
uint64_t eg_gguf_tensor_bytes(const struct eg_gguf *g) { return g ? g->tensor_bytes : 0; }
int eg_gguf_is_mapped(const struct eg_gguf *g) { return g ? g->map.is_mapped : 0; }
uint32_t eg_gguf_version(const struct eg_gguf *g) { return g ? g->version : 0; }
uint32_t eg_gguf_alignment(const struct eg_gguf *g) { return g ? g->alignment : 0; }
uint64_t eg_gguf_data_offset(const struct eg_gguf *g) { return g ? g->data_off : 0; }

int eg_gguf_has_key(const struct eg_gguf *g, const char *key) { return find_kv(g, key) != NULL; }

static void type_str(const struct kv *kv, char *buf, size_t len) {
    if (!len) return;
    if (kv->type == GT_ARRAY) snprintf(buf, len, "array[%s]", vtype_names[kv->arr_type]);
    else snprintf(buf, len, "%s", vtype_names[kv->type]);
}

static enum eg_status key_fail(const struct eg_gguf *g, const char *key, const struct kv *kv, const char *expected) {
    char found[32], k[128];
    esc(key, strlen(key), k, sizeof k);
    if (!kv) {
        EG_LOGE("%s: key %s: missing (expected %s)", eg_gguf_label(g), k, expected);
        return EG_ERR_FORMAT;
    }
    type_str(kv, found, sizeof found);
    EG_LOGE("%s: key %s: expected %s, found %s", g->label, k, expected, found);
    return EG_ERR_FORMAT;
}

static int is_int_type(uint32_t t) {
    return t == GT_U8 || t == GT_I8 || t == GT_U16 || t == GT_I16 || t == GT_U32 || t == GT_I32 || t == GT_U64 ||
           t == GT_I64;
}

/* Integer value of a scalar at p: 0 if it is not an integer type. */
static int load_int(uint32_t type, const uint8_t *p, int *is_neg, uint64_t *mag) {
    int64_t s;
    *is_neg = 0;
    switch (type) {
    case GT_U8: *mag = p[0]; return 1;
    case GT_U16: *mag = ld16(p); return 1;
    case GT_U32: *mag = ld32(p); return 1;
    case GT_U64: *mag = ld64(p); return 1;
    case GT_I8: s = (int8_t)p[0]; break;
    case GT_I16: s = (int16_t)ld16(p); break;
    case GT_I32: s = (int32_t)ld32(p); break;
    case GT_I64: s = (int64_t)ld64(p); break;
    default: return 0;
    }
    *is_neg = s < 0;
    *mag = s < 0 ? 0u - (uint64_t)s : (uint64_t)s;
    return 1;
}

enum eg_status eg_gguf_get_u32_range(const struct eg_gguf *g, const char *key, uint32_t lo, uint32_t hi,
                                     uint32_t *out) {
    enum eg_status st = eg_gguf_get_u32(g, key, out);
    if (st != EG_OK) return st;
    if (*out < lo || *out > hi) {
        EG_LOGE("%s: key %s: expected a value in [%u, %u], found %u", eg_gguf_label(g), key, lo, hi, *out);
        return EG_ERR_FORMAT;
    }
    return EG_OK;
}

enum eg_status eg_gguf_expect_arch(const struct eg_gguf *g, const char *arch) {
    const char *found = NULL;
    enum eg_status st = eg_gguf_get_str(g, "general.architecture", &found);
    if (st != EG_OK) return st;
    if (strcmp(found, arch) != 0) {
        EG_LOGE("%s: key general.architecture: expected \"%s\", found \"%s\"", eg_gguf_label(g), arch, found);
        return EG_ERR_FORMAT;
    }
    return EG_OK;
}

enum eg_status eg_gguf_get_u32(const struct eg_gguf *g, const char *key, uint32_t *out) {
    const struct kv *kv = find_kv(g, key);
    int neg; uint64_t v;
    if (!out) return EG_ERR_INVALID_ARG;
    if (!kv || kv->type == GT_ARRAY || !load_int(kv->type, g->base + kv->val_off, &neg, &v))
        return key_fail(g, key ? key : "(null)", kv, "u32");
    if (neg || v > UINT32_MAX) {
        EG_LOGE("%s: key %s: expected a u32 value, found %s%llu", g->label, kv->key, neg ? "-" : "", (unsigned long long)v);
        return EG_ERR_FORMAT;
    }
    *out = (uint32_t)v;
    return EG_OK;
}

enum eg_status eg_gguf_get_f32(const struct eg_gguf *g, const char *key, float *out) {
    const struct kv *kv = find_kv(g, key);
    if (!out) return EG_ERR_INVALID_ARG;
    if (kv && kv->type == GT_F32) {
        uint32_t u = ld32(g->base + kv->val_off);
        memcpy(out, &u, 4);
        return EG_OK;
    }
    if (kv && kv->type == GT_F64) {
        uint64_t u = ld64(g->base + kv->val_off);
        double d;
        memcpy(&d, &u, 8);
        if (!(d >= -3.4028234663852886e38 && d <= 3.4028234663852886e38)) {
            EG_LOGE("%s: key %s: expected a finite f32 value, found %g", g->label, kv->key, d);
            return EG_ERR_FORMAT;
        }
        *out = (float)d;
        return EG_OK;
    }
    return key_fail(g, key ? key : "(null)", kv, "f32");
}

enum eg_status eg_gguf_get_bool(const struct eg_gguf *g, const char *key, int *out) {
    const struct kv *kv = find_kv(g, key);
    if (!out) return EG_ERR_INVALID_ARG;
    if (!kv || kv->type != GT_BOOL) return key_fail(g, key ? key : "(null)", kv, "bool");
    *out = g->base[kv->val_off] != 0;
    return EG_OK;
}

enum eg_status eg_gguf_get_str(const struct eg_gguf *g, const char *key, const char **out) {
    const struct kv *kv = find_kv(g, key);
    if (!out) return EG_ERR_INVALID_ARG;
    if (!kv || kv->type != GT_STRING) return key_fail(g, key ? key : "(null)", kv, "string");
    *out = kv->str;
    return EG_OK;
}

int eg_gguf_arr_len(const struct eg_gguf *g, const char *key) {
    const struct kv *kv = find_kv(g, key);
    return kv && kv->type == GT_ARRAY ? (int)kv->n : -1;
}

enum eg_status eg_gguf_get_arr_u32(const struct eg_gguf *g, const char *key, uint32_t *out, int max, int *n_out) {
    const struct kv *kv = find_kv(g, key);
    int neg; uint64_t v;
    if (n_out) *n_out = 0;
    if ((!out && max > 0) || max < 0) return EG_ERR_INVALID_ARG;
    /* type check only: an empty array has no first element to load (found by fuzzing) */
    if (!kv || kv->type != GT_ARRAY || !is_int_type(kv->arr_type))
        return key_fail(g, key ? key : "(null)", kv, "array[u32]");
    if (kv->n > (uint64_t)max) {
        EG_LOGE("%s: key %s: expected at most %d values, found %llu", g->label, kv->key, max, (unsigned long long)kv->n);
        return EG_ERR_FORMAT;
    }
    for (uint64_t i = 0; i < kv->n; i++) {
        load_int(kv->arr_type, g->base + kv->val_off + i * vtype_bytes[kv->arr_type], &neg, &v);
        if (neg || v > UINT32_MAX) {
            EG_LOGE("%s: key %s: element %llu: expected a u32 value, found %s%llu", g->label, kv->key,
                    (unsigned long long)i, neg ? "-" : "", (unsigned long long)v);
            return EG_ERR_FORMAT;
        }
        out[i] = (uint32_t)v;
    }
    if (n_out) *n_out = (int)kv->n;
    return EG_OK;
}

enum eg_status eg_gguf_get_arr_str(const struct eg_gguf *g, const char *key, int i, const char **out) {
    const struct kv *kv = find_kv(g, key);
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (!kv || kv->type != GT_ARRAY || kv->arr_type != GT_STRING) return key_fail(g, key ? key : "(null)", kv, "array[string]");
    if (i < 0 || (uint64_t)i >= kv->n) {
        EG_LOGE("%s: key %s: index %d out of range (array length %llu)", g->label, kv->key, i, (unsigned long long)kv->n);
        return EG_ERR_FORMAT;
    }
    *out = g->str_tab[kv->strs_first + (size_t)i];
    return EG_OK;
}

/* ---- iteration and rendering ------------------------------------------------------------------------------ */
int eg_gguf_n_keys(const struct eg_gguf *g) { return g ? g->n_kv : 0; }
int eg_gguf_n_tensors(const struct eg_gguf *g) { return g ? g->n_tensors : 0; }

const char *eg_gguf_key_name(const struct eg_gguf *g, int i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].key : NULL;
}

void eg_gguf_key_type_str(const struct eg_gguf *g, int i, char *buf, size_t len) {
    if (!buf || !len) return;
    if (!g || i < 0 || i >= g->n_kv) { buf[0] = 0; return; }
    type_str(&g->kv[i], buf, len);
}

const struct eg_gguf_tensor *eg_gguf_tensor_at(const struct eg_gguf *g, int i) {
    return g && i >= 0 && i < g->n_tensors ? &g->ti[i].pub : NULL;
}

/* Bounded appender: writes stop at len-1; `full` records truncation. */
struct sb { char *buf; size_t len, pos; int full; };
static void sb_put(struct sb *s, const char *fmt, ...) EG_PRINTF(2, 3);
static void sb_put(struct sb *s, const char *fmt, ...) {
    va_list ap;
    if (s->full || s->pos + 1 >= s->len) { s->full = 1; return; }
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->pos, s->len - s->pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= s->len - s->pos) { s->pos = s->len - 1; s->full = 1; }
    else s->pos += (size_t)n;
}

static void render_str(struct sb *s, const char *str, size_t n) {
    char tmp[1024];
    esc(str, n, tmp, sizeof tmp);
    sb_put(s, "\"%s\"", tmp);
}

static void render_scalar(struct sb *s, uint32_t type, const uint8_t *p) {
    int neg; uint64_t v;
    if (load_int(type, p, &neg, &v)) { sb_put(s, "%s%llu", neg ? "-" : "", (unsigned long long)v); return; }
    if (type == GT_BOOL) { sb_put(s, "%s", p[0] ? "true" : "false"); return; }
    if (type == GT_F32) { uint32_t u = ld32(p); float f; memcpy(&f, &u, 4); sb_put(s, "%.9g", (double)f); return; }
    if (type == GT_F64) { uint64_t u = ld64(p); double d; memcpy(&d, &u, 8); sb_put(s, "%.17g", d); return; }
}

void eg_gguf_key_render(const struct eg_gguf *g, int i, char *buf, size_t len) {
    struct sb s = { buf, len, 0, 0 };
    if (!buf || !len) return;
    buf[0] = 0;
    if (!g || i < 0 || i >= g->n_kv) return;
    const struct kv *kv = &g->kv[i];
    if (kv->type == GT_STRING) render_str(&s, kv->str, (size_t)kv->str_len);
    else if (kv->type != GT_ARRAY) render_scalar(&s, kv->type, g->base + kv->val_off);
    else {
        uint64_t n_show = kv->n < GGUF_RENDER_MAX_ELEMS ? kv->n : GGUF_RENDER_MAX_ELEMS;
        sb_put(&s, "[");
        for (uint64_t j = 0; j < n_show; j++) {
            if (j) sb_put(&s, ", ");
            if (kv->arr_type == GT_STRING)
                render_str(&s, g->str_tab[kv->strs_first + j], g->str_len_tab[kv->strs_first + j]);
            else
                render_scalar(&s, kv->arr_type, g->base + kv->val_off + j * vtype_bytes[kv->arr_type]);
        }
        if (kv->n > n_show) sb_put(&s, ", ... (%llu total)]", (unsigned long long)kv->n);
        else sb_put(&s, "]");
    }
    if (s.full && len > 4) memcpy(buf + len - 4, "...", 4);
}

/* ---- tensors ------------------------------------------------------------------------------------------------ */
const struct eg_gguf_tensor *eg_gguf_find(const struct eg_gguf *g, const char *name) {
    if (!g || !name || !g->ti_sorted) return NULL;
    int lo = 0, hi = g->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, g->ti_sorted[mid]->pub.name);
        if (!c) return &g->ti_sorted[mid]->pub;
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return NULL;
}

static void shape_str(struct sb *s, int n_dims, const int64_t *ne) {
    sb_put(s, "[");
    for (int d = 0; d < n_dims; d++) sb_put(s, "%s%lld", d ? " x " : "", (long long)ne[d]);
    sb_put(s, "]");
}

static void types_str(struct sb *s, uint32_t allowed) {
    static const enum eg_dtype all[] = { EG_DTYPE_F32, EG_DTYPE_F16, EG_DTYPE_Q8_0, EG_DTYPE_Q4_0 };
    int first = 1;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        if (allowed & EG_DTYPE_BIT(all[k])) { sb_put(s, "%s%s", first ? "" : "|", eg_dtype_name(all[k])); first = 0; }
}

enum eg_status eg_gguf_bind(const struct eg_gguf *g, const char *name, uint32_t allowed, int n_dims,
                            const int64_t *ne, const struct eg_gguf_tensor **out) {
    char exp[160], got[160], nm[128];
    struct sb se = { exp, sizeof exp, 0, 0 }, sg = { got, sizeof got, 0, 0 };
    if (out) *out = NULL;
    if (!g || !name || !out || !ne || n_dims < 1 || n_dims > EG_GGUF_MAX_DIMS) return EG_ERR_INVALID_ARG;
    exp[0] = got[0] = 0;
    types_str(&se, allowed);
    sb_put(&se, " ");
    shape_str(&se, n_dims, ne);
    esc(name, strlen(name), nm, sizeof nm);
    const struct eg_gguf_tensor *t = eg_gguf_find(g, name);
    if (!t) {
        EG_LOGE("%s: tensor %s: missing (expected %s)", g->label, nm, exp);
        return EG_ERR_FORMAT;
    }
    int ok = (allowed & EG_DTYPE_BIT(t->type)) && t->n_dims == n_dims;
    for (int d = 0; ok && d < n_dims; d++) ok = t->ne[d] == ne[d];
    if (!ok) {
        sb_put(&sg, "%s ", eg_dtype_name(t->type));
        shape_str(&sg, t->n_dims, t->ne);
        EG_LOGE("%s: tensor %s: expected %s, found %s", g->label, nm, exp, got);
        return EG_ERR_FORMAT;
    }
    *out = t;
    return EG_OK;
}
