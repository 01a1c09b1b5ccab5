/* tests/test_gguf.c — the GGUF reader (runtime/core/gguf.c), file mapping (ports/posix.c) and memory plan
 * (runtime/core/memplan.c).
 *
 *   gguf_roundtrip_*   golden files written by the Python exporter (tests/golden/gen_gguf_golden.py) read back:
 *                      every metadata type, every tensor type, mmap and read() paths
 *   gguf_bad_*         a table of handcrafted broken files: a builder writes a valid GGUF into memory, one
 *                      field is mutated; each must give EG_ERR_FORMAT and one log line naming the field
 *   gguf_truncated_*   every prefix of a valid file
 *   gguf_api_*         missing keys, wrong types, bind shape/type mismatches
 *   gguf_replay_*      the fuzz corpus and regressions (tests/fuzz/) through the whole API
 *   memplan_*          plan totals, limit checks and rendering
 * Run under ASan+UBSan with LSan by tests/run.sh ("gguf asan+ubsan"): an error path that leaks fails there.
 * Paths are relative to the repository root (EDGEGEN_SRCDIR overrides). */
#define _FILE_OFFSET_BITS 64   /* 32-bit ARM: 64-bit off_t/ino_t/d_off (files > 2 GiB; readdir on ext4 under qemu) */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "models/ar_lm.h"
#include "models/decoder.h"
#include "runtime/core/gguf.h"
#include "tests/gguf_exercise.h"
#include "tests/harness.h"
#include "runtime/core/memplan.h"
#include "runtime/pipeline/memplan_archs.h"
#include "ports/port.h"

/* ---- log capture ------------------------------------------------------------------------------------------ */
struct logcap { int n; char last[1024]; };
static struct logcap g_cap;
static void cap_fn(enum eg_log_level lv, const char *msg, void *u) {
    struct logcap *c = u;
    if (lv != EG_LOG_ERROR) return;
    c->n++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}
static void cap_begin(void) { memset(&g_cap, 0, sizeof g_cap); eg_log_set(cap_fn, &g_cap); }
static void cap_end(void) { eg_log_set(NULL, NULL); }

static const char *srcdir(void) { const char *d = getenv("EDGEGEN_SRCDIR"); return d && *d ? d : "."; }
static int path_of(char *buf, size_t len, const char *rel) {   /* buf: keep it < 200 bytes for SKIP messages */
    struct stat sb;
    snprintf(buf, len, "%s/%s", srcdir(), rel);
    return stat(buf, &sb) == 0;
}

/* ---- in-memory GGUF builder ----------------------------------------------------------------------------- */
struct gb { uint8_t *p; size_t n, cap; };
static void gb_put(struct gb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { fprintf(stderr, "out of memory\n"); exit(2); }
        b->p = q; b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void gb_u32(struct gb *b, uint32_t v) { uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) }; gb_put(b, x, 4); }
static void gb_u64(struct gb *b, uint64_t v) { gb_u32(b, (uint32_t)v); gb_u32(b, (uint32_t)(v >> 32)); }
static void gb_zero(struct gb *b, size_t n) { static const uint8_t z[64]; while (n) { size_t k = n < 64 ? n : 64; gb_put(b, z, k); n -= k; } }

#define TB_MAX 12
struct tb_kv {
    char     key[80];
    uint64_t key_len;          /* the length field as written; UINT64_MAX -1 = strlen(key) */
    size_t   key_bytes;        /* bytes of key actually written */
    uint8_t  val[160];         /* value type (u32) + value, as written */
    size_t   val_len;
};
struct tb_t {
    char     name[300];
    uint64_t name_len;         /* length field as written */
    size_t   name_bytes;
    uint32_t n_dims;
    uint64_t ne[8];
    uint32_t type;
    uint64_t offset;
    int      auto_offset;
};
struct tb_spec {
    char     magic[4];
    uint32_t version;
    int      n_kv, n_t;
    int      counts_set;       /* write n_kv_field / n_t_field instead of n_kv / n_t */
    uint64_t n_kv_field, n_t_field;
    uint32_t layout_align;     /* padding used when writing (the file's key is separate) */
    struct tb_kv kv[TB_MAX];
    struct tb_t  t[TB_MAX];
    size_t   pos_header, pos_kv, pos_ti, pos_data;   /* filled by tb_build */
};

static void kv_begin(struct tb_kv *kv, const char *key) {
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->key_len = kv->key_bytes = strlen(kv->key);
}
static void kv_bytes(struct tb_kv *kv, const void *p, size_t n) { memcpy(kv->val + kv->val_len, p, n); kv->val_len += n; }
static void kv_w32(struct tb_kv *kv, uint32_t v) { uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) }; kv_bytes(kv, x, 4); }
static void kv_w64(struct tb_kv *kv, uint64_t v) { kv_w32(kv, (uint32_t)v); kv_w32(kv, (uint32_t)(v >> 32)); }
static void kv_u32(struct tb_kv *kv, const char *key, uint32_t v) { kv_begin(kv, key); kv_w32(kv, 4); kv_w32(kv, v); }
static void kv_f32(struct tb_kv *kv, const char *key, float f) { uint32_t u; memcpy(&u, &f, 4); kv_begin(kv, key); kv_w32(kv, 6); kv_w32(kv, u); }
static void kv_str(struct tb_kv *kv, const char *key, const char *s) {
    kv_begin(kv, key); kv_w32(kv, 8); kv_w64(kv, strlen(s)); kv_bytes(kv, s, strlen(s));
}
static void kv_arr_u32(struct tb_kv *kv, const char *key, const uint32_t *v, int n) {
    kv_begin(kv, key); kv_w32(kv, 9); kv_w32(kv, 4); kv_w64(kv, (uint64_t)n);
    for (int i = 0; i < n; i++) kv_w32(kv, v[i]);
}

static void t_set(struct tb_t *t, const char *name, uint32_t type, int n_dims, uint64_t ne0, uint64_t ne1) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->name_len = t->name_bytes = strlen(t->name);
    t->type = type; t->n_dims = (uint32_t)n_dims; t->ne[0] = ne0; t->ne[1] = ne1;
    for (int d = 2; d < 8; d++) t->ne[d] = 1;
    t->auto_offset = 1;
}

/* The valid base file: 6 keys, 4 tensors (one per type), general.alignment 32. */
static void tb_default(struct tb_spec *s) {
    static const uint32_t arr[3] = { 1, 2, 3 };
    memset(s, 0, sizeof *s);
    memcpy(s->magic, "GGUF", 4);
    s->version = 3;
    s->layout_align = 32;
    kv_str(&s->kv[0], "general.architecture", "edgegen.test");
    kv_u32(&s->kv[1], "general.alignment", 32);
    kv_u32(&s->kv[2], "test.u32", 7);
    kv_arr_u32(&s->kv[3], "test.arr", arr, 3);
    kv_str(&s->kv[4], "test.str", "abc");
    kv_f32(&s->kv[5], "test.f32", 1.5f);
    s->n_kv = 6;
    t_set(&s->t[0], "a.weight", EG_DTYPE_F32, 2, 8, 2);
    t_set(&s->t[1], "b.weight", EG_DTYPE_F16, 1, 32, 1);
    t_set(&s->t[2], "c.weight", EG_DTYPE_Q8_0, 2, 32, 2);
    t_set(&s->t[3], "d.weight", EG_DTYPE_Q4_0, 1, 64, 1);
    s->n_t = 4;
}

static uint64_t tb_bytes(const struct tb_t *t) {
    if (t->n_dims < 1 || t->n_dims > 4) return 0;
    for (uint32_t d = 0; d < t->n_dims; d++) if (t->ne[d] == 0 || t->ne[d] > 4096) return 0;   /* keep it small */
    uint64_t n = eg_dtype_row_bytes((enum eg_dtype)t->type, t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims; d++) n *= t->ne[d];
    return n;
}

static void tb_build(struct tb_spec *s, struct gb *b) {
    uint64_t off = 0, a = s->layout_align, data_end = 0;
    memset(b, 0, sizeof *b);
    gb_put(b, s->magic, 4);
    gb_u32(b, s->version);
    gb_u64(b, s->counts_set ? s->n_t_field : (uint64_t)s->n_t);
    gb_u64(b, s->counts_set ? s->n_kv_field : (uint64_t)s->n_kv);
    s->pos_header = b->n;
    for (int i = 0; i < s->n_kv; i++) {
        gb_u64(b, s->kv[i].key_len);
        gb_put(b, s->kv[i].key, s->kv[i].key_bytes);
        gb_put(b, s->kv[i].val, s->kv[i].val_len);
    }
    s->pos_kv = b->n;
    for (int i = 0; i < s->n_t; i++) {
        struct tb_t *t = &s->t[i];
        gb_u64(b, t->name_len);
        gb_put(b, t->name, t->name_bytes);
        gb_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims && d < 8; d++) gb_u64(b, t->ne[d]);
        gb_u32(b, t->type);
        if (t->auto_offset) {
            t->offset = off;
            off += (tb_bytes(t) + a - 1) / a * a;
            if (t->offset + tb_bytes(t) > data_end) data_end = t->offset + tb_bytes(t);
        }
        gb_u64(b, t->offset);
    }
    s->pos_ti = b->n;
    gb_zero(b, (size_t)((a - b->n % a) % a));
    s->pos_data = b->n;
    /* data: a byte pattern, each tensor at its offset; the file ends with the last tensor */
    size_t end = s->pos_data + (size_t)data_end;
    while (b->n < end) { uint8_t v = (uint8_t)(b->n * 7 + 1); gb_put(b, &v, 1); }
}

/* Parse a copy in a 64-byte-aligned buffer of exactly n bytes (ASan sees any over-read). The caller frees *copy
 * after eg_gguf_close (the parse borrows it). */
static enum eg_status parse_copy(const uint8_t *p, size_t n, const char *label, struct eg_gguf **out, uint8_t **copy) {
    void *buf = NULL;
    if (posix_memalign(&buf, 64, n ? n : 1)) { fprintf(stderr, "out of memory\n"); exit(2); }
    if (n) memcpy(buf, p, n);
    *copy = buf;
    return eg_gguf_parse(buf, n, label, out);
}

/* ---- the valid base file parses, and the API works on it -------------------------------------------------- */
TEST(gguf_builder_valid) {
    struct tb_spec s; struct gb b; struct eg_gguf *g = NULL; uint8_t *base = NULL;
    tb_default(&s); tb_build(&s, &b);
    cap_begin();
    enum eg_status st = parse_copy(b.p, b.n, "base.gguf", &g, &base);
    cap_end();
    if (st) free(base);
    REQUIRE(st == EG_OK, "base file: %s (%s)", eg_status_str(st), g_cap.last);
    CHECK(eg_gguf_n_keys(g) == 6 && eg_gguf_n_tensors(g) == 4, "counts %d %d", eg_gguf_n_keys(g), eg_gguf_n_tensors(g));
    CHECK(eg_gguf_alignment(g) == 32 && eg_gguf_version(g) == 3, "alignment %u", eg_gguf_alignment(g));
    CHECK(eg_gguf_data_offset(g) == s.pos_data, "data offset %llu vs %zu", (unsigned long long)eg_gguf_data_offset(g), s.pos_data);
    CHECK(eg_gguf_tensor_bytes(g) == 64 + 64 + 68 + 36, "tensor bytes %llu", (unsigned long long)eg_gguf_tensor_bytes(g));
    CHECK(!eg_gguf_is_mapped(g), "borrowed buffer is not mapped");
    for (int i = 0; i < 4; i++) {
        const struct eg_gguf_tensor *t = eg_gguf_tensor_at(g, i);
        CHECK(t->offset_bytes == s.pos_data + s.t[i].offset, "tensor %d offset", i);
        CHECK(((const uint8_t *)t->data)[0] == (uint8_t)(t->offset_bytes * 7 + 1), "tensor %d data", i);
    }
    cap_begin();
    gguf_exercise(g, base, b.n);
    cap_end();
    const char *env = getenv("EG_WRITE_SEED");   /* tests/fuzz/corpus seed: EG_WRITE_SEED=path test_runner gguf_builder */
    if (env && *env) { FILE *f = fopen(env, "wb"); if (f) { fwrite(b.p, 1, b.n, f); fclose(f); } }
    eg_gguf_close(g);
    free(base);
    free(b.p);
}

/* ---- handcrafted broken files ------------------------------------------------------------------------------ */
static void m_magic(struct tb_spec *s) { memcpy(s->magic, "GGUX", 4); }
static void m_version1(struct tb_spec *s) { s->version = 1; }
static void m_version4(struct tb_spec *s) { s->version = 4; }
static void m_version_be(struct tb_spec *s) { s->version = 0x03000000u; }
static void m_huge_t(struct tb_spec *s) { s->counts_set = 1; s->n_kv_field = (uint64_t)s->n_kv; s->n_t_field = 1ull << 40; }
static void m_huge_kv(struct tb_spec *s) { s->counts_set = 1; s->n_t_field = (uint64_t)s->n_t; s->n_kv_field = 1ull << 62; }
static void m_max_kv(struct tb_spec *s) { s->counts_set = 1; s->n_t_field = (uint64_t)s->n_t; s->n_kv_field = UINT64_MAX; }
static void m_more_kv(struct tb_spec *s) { s->n_t = 0; s->layout_align = 1; s->counts_set = 1; s->n_t_field = 0; s->n_kv_field = (uint64_t)s->n_kv + 1; }
static void m_key_len(struct tb_spec *s) { s->kv[2].key_len = UINT64_MAX; }
static void m_val_len(struct tb_spec *s) {
    kv_begin(&s->kv[4], "test.str"); kv_w32(&s->kv[4], 8); kv_w64(&s->kv[4], UINT64_MAX); kv_bytes(&s->kv[4], "abc", 3);
}
static void m_name_len(struct tb_spec *s) { s->t[1].name_len = UINT64_MAX; }
static void m_arr_len(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 4); kv_w64(&s->kv[3], 1ull << 62); kv_w32(&s->kv[3], 1);
}
static void m_arr_len_max(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 10); kv_w64(&s->kv[3], UINT64_MAX);
}
static void m_arr_str_len(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 8); kv_w64(&s->kv[3], UINT64_MAX); kv_w64(&s->kv[3], 1);
}
static void m_arr_elem_str_len(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 8); kv_w64(&s->kv[3], 2);
    kv_w64(&s->kv[3], 1); kv_bytes(&s->kv[3], "x", 1); kv_w64(&s->kv[3], UINT64_MAX - 7);
}
static void m_nested(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 9); kv_w64(&s->kv[3], 1);
    kv_w32(&s->kv[3], 4); kv_w64(&s->kv[3], 1); kv_w32(&s->kv[3], 5);
}
static void m_kv_type(struct tb_spec *s) { kv_begin(&s->kv[2], "test.u32"); kv_w32(&s->kv[2], 13); kv_w32(&s->kv[2], 7); }
static void m_kv_type_big(struct tb_spec *s) { kv_begin(&s->kv[2], "test.u32"); kv_w32(&s->kv[2], 0xffffffffu); kv_w32(&s->kv[2], 7); }
static void m_arr_type(struct tb_spec *s) {
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 99); kv_w64(&s->kv[3], 1); kv_w32(&s->kv[3], 1);
}
static void m_bool(struct tb_spec *s) { uint8_t v = 2; kv_begin(&s->kv[2], "test.bool"); kv_w32(&s->kv[2], 7); kv_bytes(&s->kv[2], &v, 1); }
static void m_bool_arr(struct tb_spec *s) {
    uint8_t v[3] = { 1, 0, 5 };
    kv_begin(&s->kv[3], "test.arr"); kv_w32(&s->kv[3], 9); kv_w32(&s->kv[3], 7); kv_w64(&s->kv[3], 3); kv_bytes(&s->kv[3], v, 3);
}
static void m_align_str(struct tb_spec *s) { kv_str(&s->kv[1], "general.alignment", "32"); }
static void m_align_u64(struct tb_spec *s) { kv_begin(&s->kv[1], "general.alignment"); kv_w32(&s->kv[1], 10); kv_w64(&s->kv[1], 32); }
static void m_align_npot(struct tb_spec *s) { kv_u32(&s->kv[1], "general.alignment", 48); s->layout_align = 48; }
static void m_align_zero(struct tb_spec *s) { kv_u32(&s->kv[1], "general.alignment", 0); }
static void m_align_huge(struct tb_spec *s) { kv_u32(&s->kv[1], "general.alignment", 1u << 21); }
static void m_align_big_endian(struct tb_spec *s) { kv_u32(&s->kv[1], "general.alignment", 0x20000000u); }
static void m_dup_key(struct tb_spec *s) { kv_u32(&s->kv[5], "test.u32", 9); }
static void m_empty_key(struct tb_spec *s) { s->kv[2].key_len = s->kv[2].key_bytes = 0; }
static void m_nul_key(struct tb_spec *s) { s->kv[2].key[4] = 0; }
static void m_long_key(struct tb_spec *s) { s->kv[2].key_len = 70000; }
static void m_dims5(struct tb_spec *s) { s->t[0].n_dims = 5; }
static void m_dims0(struct tb_spec *s) { s->t[0].n_dims = 0; }
static void m_dims_max(struct tb_spec *s) { s->t[0].n_dims = 0xffffffffu; }
static void m_zero_dim(struct tb_spec *s) { s->t[0].ne[1] = 0; s->t[0].auto_offset = 0; }
static void m_dims_overflow(struct tb_spec *s) { s->t[0].ne[0] = 1ull << 32; s->t[0].ne[1] = 1ull << 32; s->t[0].auto_offset = 0; }
static void m_dim_signed(struct tb_spec *s) { s->t[0].ne[0] = 1ull << 63; s->t[0].auto_offset = 0; }
static void m_bytes_overflow(struct tb_spec *s) { s->t[0].ne[0] = 1ull << 62; s->t[0].ne[1] = 1; s->t[0].auto_offset = 0; }
static void m_bytes_overflow_2d(struct tb_spec *s) {   /* f32: 2^62 elements fit int64, 2^64 bytes do not */
    s->t[0].ne[0] = 1ull << 31; s->t[0].ne[1] = 1ull << 31; s->t[0].auto_offset = 0;
}
static void m_q4_huge(struct tb_spec *s) {   /* llama.cpp PR #27200 class: the byte size must not wrap to a small value */
    s->t[3].ne[0] = 1ull << 62; s->t[3].auto_offset = 0;
}
static void m_dtype_q4k(struct tb_spec *s) { s->t[1].type = 12; }
static void m_dtype_big(struct tb_spec *s) { s->t[1].type = 1000; }
static void m_dtype_bf16(struct tb_spec *s) { s->t[1].type = 30; }
static void m_quant_ne0(struct tb_spec *s) { s->t[2].ne[0] = 48; }
static void m_off_past(struct tb_spec *s) { s->t[3].auto_offset = 0; s->t[3].offset = 1u << 20; }
static void m_off_wrap(struct tb_spec *s) { s->t[3].auto_offset = 0; s->t[3].offset = UINT64_MAX - 31; }
static void m_off_misaligned(struct tb_spec *s) { s->t[3].auto_offset = 0; s->t[3].offset = 8; }
static void m_overlap(struct tb_spec *s) { s->t[1].auto_offset = 0; s->t[1].offset = 32; }   /* inside a.weight [0, 64) */
static void m_dup_name(struct tb_spec *s) { snprintf(s->t[2].name, sizeof s->t[2].name, "a.weight"); s->t[2].name_len = s->t[2].name_bytes = 8; }
static void m_empty_name(struct tb_spec *s) { s->t[1].name_len = s->t[1].name_bytes = 0; }
static void m_nul_name(struct tb_spec *s) { s->t[1].name[1] = 0; }
static void m_long_name(struct tb_spec *s) { memset(s->t[1].name, 'x', 256); s->t[1].name_len = s->t[1].name_bytes = 256; }
static void m_no_data(struct tb_spec *s) { s->t[3].auto_offset = 0; s->t[3].offset = 4096; }

struct bad_case { const char *name; void (*mut)(struct tb_spec *); const char *expect1, *expect2; };
static const struct bad_case bad_cases[] = {
    { "bad magic", m_magic, "bad magic", "GGUX" },
    { "version 1", m_version1, "version", "found 1" },
    { "version 4", m_version4, "version", "found 4" },
    { "big-endian version", m_version_be, "version", "big-endian" },
    { "huge tensor count", m_huge_t, "n_tensors", "1099511627776" },
    { "huge kv count", m_huge_kv, "n_kv", "at most" },
    { "kv count 2^64-1", m_max_kv, "n_kv", "18446744073709551615" },
    { "kv count one too many", m_more_kv, "key #6", "truncated" },
    { "key length 2^64-1", m_key_len, "key #2", "string length 18446744073709551615" },
    { "string value length 2^64-1", m_val_len, "test.str", "string length 18446744073709551615" },
    { "tensor name length 2^64-1", m_name_len, "tensor #1", "string length 18446744073709551615" },
    { "array length 2^62 x u32", m_arr_len, "test.arr", "array length 4611686018427387904" },
    { "array length 2^64-1 x u64", m_arr_len_max, "test.arr", "array length" },
    { "string array length 2^64-1", m_arr_str_len, "test.arr", "array length" },
    { "string array element length", m_arr_elem_str_len, "test.arr", "array string element" },
    { "nested array", m_nested, "test.arr", "nested" },
    { "unknown kv type 13", m_kv_type, "test.u32", "unknown value type 13" },
    { "unknown kv type 2^32-1", m_kv_type_big, "test.u32", "unknown value type 4294967295" },
    { "unknown array element type", m_arr_type, "test.arr", "unknown array element type 99" },
    { "bool value 2", m_bool, "test.bool", "expected 0 or 1" },
    { "bool array element 5", m_bool_arr, "test.arr", "element 2" },
    { "alignment as string", m_align_str, "general.alignment", "expected u32, found string" },
    { "alignment as u64", m_align_u64, "general.alignment", "expected u32, found u64" },
    { "alignment 48", m_align_npot, "general.alignment", "found 48" },
    { "alignment 0", m_align_zero, "general.alignment", "found 0" },
    { "alignment 2 MiB", m_align_huge, "general.alignment", "found 2097152" },
    { "alignment byte-swapped", m_align_big_endian, "general.alignment", "power of two" },
    { "duplicate key", m_dup_key, "test.u32", "duplicate key" },
    { "empty key", m_empty_key, "key #2", "empty key" },
    { "NUL in key", m_nul_key, "key #2", "NUL" },
    { "key length 70000", m_long_key, "key #2", "70000" },
    { "5 dims", m_dims5, "a.weight", "n_dims: expected 1..4, found 5" },
    { "0 dims", m_dims0, "a.weight", "found 0" },
    { "2^32-1 dims", m_dims_max, "a.weight", "found 4294967295" },
    { "zero dim", m_zero_dim, "a.weight", "ne[1]" },
    { "dims product overflow", m_dims_overflow, "a.weight", "element count overflows" },
    { "dim 2^63", m_dim_signed, "a.weight", "ne[0]" },
    { "f32 byte size overflow", m_bytes_overflow, "a.weight", "row size overflows" },
    { "f32 2-D byte size overflow", m_bytes_overflow_2d, "a.weight", "byte size overflows at ne[1]" },
    { "q4_0 ne[0] 2^62 (divide first)", m_q4_huge, "d.weight", "2594073385365405696 bytes" },
    { "dtype q4_K", m_dtype_q4k, "b.weight", "unsupported tensor type 12 (q4_K)" },
    { "dtype 1000", m_dtype_big, "b.weight", "unsupported tensor type 1000" },
    { "dtype bf16", m_dtype_bf16, "b.weight", "bf16" },
    { "q8_0 ne[0] = 48", m_quant_ne0, "c.weight", "divisible by 32" },
    { "offset past end", m_off_past, "d.weight", "inside the" },
    { "offset + size wraps", m_off_wrap, "d.weight", "18446744073709551584" },
    { "misaligned offset", m_off_misaligned, "d.weight", "not a multiple of general.alignment 32" },
    { "overlapping tensors", m_overlap, "b.weight", "overlaps tensor 'a.weight'" },
    { "duplicate tensor name", m_dup_name, "a.weight", "duplicate tensor name" },
    { "empty tensor name", m_empty_name, "tensor #1", "empty name" },
    { "NUL in tensor name", m_nul_name, "tensor #1", "NUL" },
    { "tensor name 256 bytes", m_long_name, "tensor #1", "name length 256" },
    { "data beyond the file", m_no_data, "d.weight", "inside the" },
};

TEST(gguf_bad_files) {
    int n = (int)(sizeof bad_cases / sizeof bad_cases[0]);
    CHECK(n >= 25, "only %d cases", n);
    for (int i = 0; i < n; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct tb_spec s; struct gb b; struct eg_gguf *g = (struct eg_gguf *)1; uint8_t *copy;
        tb_default(&s);
        c->mut(&s);
        tb_build(&s, &b);
        cap_begin();
        enum eg_status st = parse_copy(b.p, b.n, "bad.gguf", &g, &copy);
        cap_end();
        CHECK(st == EG_ERR_FORMAT, "%s: expected format error, got %s", c->name, eg_status_str(st));
        CHECK(g == NULL, "%s: *out not cleared", c->name);
        CHECK(g_cap.n == 1, "%s: expected one error line, got %d", c->name, g_cap.n);
        CHECK(strstr(g_cap.last, "bad.gguf: ") == g_cap.last, "%s: message does not start with the file: %s", c->name, g_cap.last);
        CHECK(strstr(g_cap.last, c->expect1) && strstr(g_cap.last, c->expect2), "%s: message lacks '%s'/'%s': %s",
              c->name, c->expect1, c->expect2, g_cap.last);
        if (st == EG_OK) eg_gguf_close(g);
        free(copy);
        free(b.p);
    }
}

/* Every prefix of the valid file (header bytes one by one, every section boundary, and every byte after). */
TEST(gguf_truncated_every_byte) {
    struct tb_spec s; struct gb b;
    tb_default(&s); tb_build(&s, &b);
    size_t boundaries[] = { 0, 4, 8, 16, 24, s.pos_header, s.pos_kv, s.pos_ti, s.pos_data };
    int bad = 0;
    for (size_t n = 0; n < b.n; n++) {
        struct eg_gguf *g = NULL; uint8_t *copy;
        cap_begin();
        enum eg_status st = parse_copy(b.p, n, "cut.gguf", &g, &copy);
        cap_end();
        if (st != EG_ERR_FORMAT || g_cap.n != 1 || !strstr(g_cap.last, "cut.gguf")) {
            if (bad++ < 5) CHECK(0, "prefix %zu: %s, %d lines: %s", n, eg_status_str(st), g_cap.n, g_cap.last);
            if (st == EG_OK) eg_gguf_close(g);
        }
        free(copy);
        for (size_t k = 0; k < sizeof boundaries / sizeof boundaries[0]; k++)
            if (n == boundaries[k] && n < s.pos_data)
                CHECK(strstr(g_cap.last, "truncated"), "boundary %zu: %s", n, g_cap.last);
    }
    CHECK(bad == 0, "%d prefixes not rejected cleanly", bad);
    free(b.p);
}

TEST(gguf_misaligned_buffer) {
    struct tb_spec s; struct gb b; struct eg_gguf *g = NULL;
    tb_default(&s); tb_build(&s, &b);
    uint8_t *buf = NULL;
    REQUIRE(posix_memalign((void **)&buf, 64, b.n + 8) == 0, "alloc");
    memcpy(buf + 8, b.p, b.n);
    cap_begin();
    enum eg_status st = eg_gguf_parse(buf + 8, b.n, "shifted", &g);
    cap_end();
    CHECK(st == EG_ERR_INVALID_ARG && !g, "misaligned buffer: %s", eg_status_str(st));
    CHECK(strstr(g_cap.last, "aligned"), "%s", g_cap.last);
    free(buf);
    free(b.p);
}

TEST(gguf_v2_accepted) {
    struct tb_spec s; struct gb b; struct eg_gguf *g = NULL; uint8_t *copy;
    tb_default(&s); s.version = 2; tb_build(&s, &b);
    enum eg_status st = parse_copy(b.p, b.n, "v2", &g, &copy);
    CHECK(st == EG_OK && eg_gguf_version(g) == 2, "v2: %s", eg_status_str(st));
    eg_gguf_close(g);
    free(copy);
    free(b.p);
}

/* ---- metadata and bind API errors ------------------------------------------------------------------------ */
TEST(gguf_api_errors) {
    struct tb_spec s; struct gb b; struct eg_gguf *g = NULL;
    static const uint32_t neg[2] = { 1, 0xffffffffu };
    tb_default(&s);
    kv_begin(&s.kv[6], "test.neg"); kv_w32(&s.kv[6], 9); kv_w32(&s.kv[6], 5); kv_w64(&s.kv[6], 2);   /* i32 [1, -1] */
    kv_w32(&s.kv[6], neg[0]); kv_w32(&s.kv[6], neg[1]);
    kv_arr_u32(&s.kv[7], "test.empty", NULL, 0);   /* empty array: nothing to load (a fuzz regression) */
    s.n_kv = 8;
    tb_build(&s, &b);
    uint8_t *base = NULL;
    if (parse_copy(b.p, b.n, "api.gguf", &g, &base)) { free(base); free(b.p); REQUIRE(0, "parse"); }
    uint32_t u = 0, arr[4]; float f = 0; const char *str = NULL; int n = -1;
    const struct eg_gguf_tensor *t = NULL;
    struct { const char *what; enum eg_status st; const char *e1, *e2; } r[16];
    int k = 0;
#define TRY(call, a, b_) do { cap_begin(); r[k].st = (call); cap_end(); r[k].what = #call; r[k].e1 = a; r[k].e2 = b_; \
        CHECK(r[k].st == EG_ERR_FORMAT, "%s: %s", r[k].what, eg_status_str(r[k].st));                              \
        CHECK(strstr(g_cap.last, "api.gguf") && strstr(g_cap.last, a) && strstr(g_cap.last, b_),                   \
              "%s: message lacks '%s'/'%s': %s", r[k].what, a, b_, g_cap.last); k++; } while (0)
    TRY(eg_gguf_get_u32(g, "edgegen.codec.n_fft", &u), "edgegen.codec.n_fft", "missing");
    TRY(eg_gguf_get_u32(g, "test.str", &u), "test.str", "expected u32, found string");
    TRY(eg_gguf_get_u32(g, "test.f32", &u), "test.f32", "found f32");
    TRY(eg_gguf_get_f32(g, "test.u32", &f), "test.u32", "expected f32, found u32");
    TRY(eg_gguf_get_str(g, "test.arr", &str), "test.arr", "found array[u32]");
    TRY(eg_gguf_get_arr_u32(g, "test.arr", arr, 2, &n), "test.arr", "at most 2");
    TRY(eg_gguf_get_arr_u32(g, "test.neg", arr, 4, &n), "test.neg", "element 1");
    TRY(eg_gguf_get_arr_u32(g, "test.u32", arr, 4, &n), "test.u32", "expected array[u32], found u32");
    TRY(eg_gguf_get_arr_str(g, "test.arr", 0, &str), "test.arr", "array[string]");
    TRY(eg_gguf_get_bool(g, "test.u32", &n), "test.u32", "expected bool");
    {   int64_t ne[2] = { 8, 3 };
        TRY(eg_gguf_bind(g, "a.weight", EG_DTYPE_BIT(EG_DTYPE_F32), 2, ne, &t), "a.weight", "expected f32 [8 x 3], found f32 [8 x 2]"); }
    {   int64_t ne[2] = { 8, 2 };
        TRY(eg_gguf_bind(g, "a.weight", EG_DTYPE_BIT(EG_DTYPE_F16) | EG_DTYPE_BIT(EG_DTYPE_Q8_0), 2, ne, &t), "a.weight",
            "expected f16|q8_0 [8 x 2], found f32 [8 x 2]"); }
    {   int64_t ne[1] = { 16 };
        TRY(eg_gguf_bind(g, "a.weight", EG_DTYPE_BIT(EG_DTYPE_F32), 1, ne, &t), "a.weight", "found f32 [8 x 2]"); }
    {   int64_t ne[1] = { 32 };
        TRY(eg_gguf_bind(g, "missing.weight", EG_DTYPE_BIT(EG_DTYPE_F32), 1, ne, &t), "missing.weight", "missing"); }
#undef TRY
    CHECK(t == NULL, "failed bind leaves *out NULL");
    /* the good paths */
    CHECK(eg_gguf_get_u32(g, "test.u32", &u) == EG_OK && u == 7, "u32");
    CHECK(eg_gguf_get_u32(g, "general.alignment", &u) == EG_OK && u == 32, "alignment");
    CHECK(eg_gguf_get_f32(g, "test.f32", &f) == EG_OK && f == 1.5f, "f32");
    CHECK(eg_gguf_get_str(g, "test.str", &str) == EG_OK && !strcmp(str, "abc"), "str");
    CHECK(eg_gguf_get_arr_u32(g, "test.arr", arr, 3, &n) == EG_OK && n == 3 && arr[2] == 3, "arr");
    CHECK(eg_gguf_arr_len(g, "test.arr") == 3 && eg_gguf_arr_len(g, "test.u32") == -1, "arr_len");
    CHECK(eg_gguf_get_arr_u32(g, "test.empty", arr, 4, &n) == EG_OK && n == 0 && eg_gguf_arr_len(g, "test.empty") == 0, "empty");
    {   char rb[32];
        eg_gguf_key_render(g, 7, rb, sizeof rb);
        CHECK(!strcmp(rb, "[]"), "empty array renders as %s", rb); }
    {   int64_t ne[2] = { 32, 2 };
        CHECK(eg_gguf_bind(g, "c.weight", EG_DTYPE_BIT(EG_DTYPE_Q8_0), 2, ne, &t) == EG_OK && t && t->n_bytes == 68, "bind q8_0"); }
    {   int64_t ne[1] = { 32 };
        CHECK(eg_gguf_bind(g, "x", 0, 5, ne, &t) == EG_ERR_INVALID_ARG, "n_dims 5 from the caller is a caller bug"); }
    eg_gguf_close(g);
    free(base);
    free(b.p);
}

/* ---- round trips through the Python exporter (tests/golden/gen_gguf_golden.py) ----------------------------- */
static float f16_to_f32(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m + 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}
static void dequant(const struct eg_gguf_tensor *t, float *y, size_t n) {
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        uint16_t h; uint32_t u;
        switch (t->type) {
        case EG_DTYPE_F32: memcpy(&u, p + 4 * i, 4); memcpy(&y[i], &u, 4); break;
        case EG_DTYPE_F16: memcpy(&h, p + 2 * i, 2); y[i] = f16_to_f32(h); break;
        case EG_DTYPE_Q8_0: {
            const uint8_t *blk = p + (i / 32) * 34;
            memcpy(&h, blk, 2);
            y[i] = (float)(int8_t)blk[2 + i % 32] * f16_to_f32(h);
            break; }
        case EG_DTYPE_Q4_0: {
            const uint8_t *blk = p + (i / 32) * 18;
            size_t j = i % 32;
            memcpy(&h, blk, 2);
            int q = j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4);
            y[i] = (float)(q - 8) * f16_to_f32(h);
            break; }
        }
    }
}

static void check_types_file(struct th_state *th_, const char *path, int want_mapped) {
    struct eg_gguf *g = NULL;
    enum eg_status st = eg_gguf_open(path, &g);
    REQUIRE(st == EG_OK, "%s: %s", path, eg_status_str(st));
    CHECK(eg_gguf_is_mapped(g) == want_mapped, "mapped %d, want %d", eg_gguf_is_mapped(g), want_mapped);
    CHECK(eg_gguf_alignment(g) == 64, "exporter alignment %u", eg_gguf_alignment(g));
    uint32_t u = 0; float f = 0; int b = 0, n = 0; const char *s = NULL; uint32_t arr[8];
    CHECK(eg_gguf_get_str(g, "general.architecture", &s) == EG_OK && !strcmp(s, "edgegen.test"), "architecture");
    CHECK(eg_gguf_get_str(g, "general.name", &s) == EG_OK && !strcmp(s, "gguf types golden"), "name");
    CHECK(eg_gguf_get_u32(g, "test.u8", &u) == EG_OK && u == 200, "u8 %u", u);
    CHECK(eg_gguf_get_u32(g, "test.u16", &u) == EG_OK && u == 60000, "u16");
    CHECK(eg_gguf_get_u32(g, "test.u32", &u) == EG_OK && u == 4000000000u, "u32");
    cap_begin();
    CHECK(eg_gguf_get_u32(g, "test.i8", &u) == EG_ERR_FORMAT, "negative i8 is not a u32");
    CHECK(eg_gguf_get_u32(g, "test.u64", &u) == EG_ERR_FORMAT, "2^63+5 is not a u32");
    cap_end();
    CHECK(strstr(g_cap.last, "test.u64: expected a u32 value, found 9223372036854775813"), "%s", g_cap.last);
    CHECK(eg_gguf_get_f32(g, "test.f32", &f) == EG_OK && f == 0.15625f, "f32");
    CHECK(eg_gguf_get_f32(g, "test.f64", &f) == EG_OK && f == 0.1f, "f64 as f32");
    CHECK(eg_gguf_get_bool(g, "test.bool", &b) == EG_OK && b == 1, "bool");
    CHECK(eg_gguf_get_str(g, "test.str", &s) == EG_OK && !strcmp(s, "hello, gguf"), "str");
    CHECK(eg_gguf_get_arr_u32(g, "test.arr_u32", arr, 8, &n) == EG_OK && n == 3 && arr[0] == 5 && arr[2] == 9, "arr u32");
    CHECK(eg_gguf_get_arr_u32(g, "test.arr_i8", arr, 8, &n) == EG_OK && n == 4 && arr[3] == 4, "arr i8");
    CHECK(eg_gguf_get_arr_u32(g, "edgegen.codec.fsq_levels", arr, 8, &n) == EG_OK && n == 5 && arr[0] == 7, "fsq_levels");
    CHECK(eg_gguf_get_arr_str(g, "test.arr_str", 2, &s) == EG_OK && !strcmp(s, "tokens\twith\nescapes"), "arr str");
    CHECK(eg_gguf_get_arr_str(g, "test.arr_str", 1, &s) == EG_OK && !strcmp(s, ""), "empty string element");
    CHECK(eg_gguf_arr_len(g, "test.arr_long") == 100, "arr_long");
    char buf[256], type[32];
    int seen = 0;
    for (int i = 0; i < eg_gguf_n_keys(g); i++) {
        const char *k = eg_gguf_key_name(g, i);
        eg_gguf_key_render(g, i, buf, sizeof buf);
        eg_gguf_key_type_str(g, i, type, sizeof type);
        if (!strcmp(k, "test.i64")) { seen++; CHECK(!strcmp(buf, "-4611686018427387904") && !strcmp(type, "i64"), "%s %s", buf, type); }
        if (!strcmp(k, "test.u64")) { seen++; CHECK(!strcmp(buf, "9223372036854775813"), "%s", buf); }
        if (!strcmp(k, "test.arr_long")) { seen++; CHECK(strstr(buf, "(100 total)") && !strcmp(type, "array[u16]"), "%s", buf); }
        if (!strcmp(k, "test.arr_str")) { seen++; CHECK(!strcmp(buf, "[\"a\", \"\", \"tokens\\x09with\\x0aescapes\"]"), "%s", buf); }
        if (!strcmp(k, "test.arr_bool")) { seen++; CHECK(!strcmp(buf, "[true, false, true]"), "%s", buf); }
        if (!strcmp(k, "test.arr_f32")) { seen++; CHECK(!strcmp(buf, "[0.5, -2, 3.25]"), "%s", buf); }
    }
    CHECK(seen == 6, "rendered keys seen %d", seen);

    static const char *const names[] = { "t.f32", "t.f16", "t.q8_0", "t.q4_0" };
    static const enum eg_dtype types[] = { EG_DTYPE_F32, EG_DTYPE_F16, EG_DTYPE_Q8_0, EG_DTYPE_Q4_0 };
    static const int64_t shapes[4][4] = { { 5, 1, 1, 1 }, { 7, 3, 1, 1 }, { 64, 3, 2, 1 }, { 96, 2, 1, 2 } };
    static const int ndims[4] = { 1, 2, 3, 4 };
    for (int i = 0; i < 4; i++) {
        const struct eg_gguf_tensor *t = NULL, *ref = NULL;
        char refname[32];
        snprintf(refname, sizeof refname, "ref.%s", names[i]);
        st = eg_gguf_bind(g, names[i], EG_DTYPE_BIT(types[i]), ndims[i], shapes[i], &t);
        CHECK(st == EG_OK, "bind %s", names[i]);
        st = eg_gguf_bind(g, refname, EG_DTYPE_BIT(EG_DTYPE_F32), ndims[i], shapes[i], &ref);
        CHECK(st == EG_OK, "bind %s", refname);
        if (!t || !ref) continue;
        CHECK(t->offset_bytes % 64 == 0 && ((uintptr_t)t->data % 64) == 0, "%s alignment", names[i]);
        size_t n_el = (size_t)(shapes[i][0] * shapes[i][1] * shapes[i][2] * shapes[i][3]);
        float *y = malloc(n_el * sizeof *y), *r = malloc(n_el * sizeof *r);
        REQUIRE(y && r, "alloc");
        dequant(t, y, n_el);
        dequant(ref, r, n_el);
        size_t bad = 0;
        for (size_t k = 0; k < n_el; k++) {
            float src = (float)((int)((k * 37) % 101) - 50) / 16.0f;
            if (memcmp(&y[k], &r[k], 4)) bad++;              /* bit-exact against gguf.quants' dequantisation */
            if (types[i] == EG_DTYPE_F32 && y[k] != src) bad++;
        }
        CHECK(bad == 0, "%s: %zu values differ", names[i], bad);
        free(y); free(r);
    }
    eg_gguf_close(g);
}

TEST(gguf_roundtrip_mmap) {
    char path[200];
    if (!path_of(path, sizeof path, "tests/golden/gguf_types.gguf")) SKIP("%s not found (run from the repository root)", path);
    unsetenv("EDGEGEN_NO_MMAP");
    check_types_file(th_, path, 1);
}

TEST(gguf_roundtrip_read_fallback) {
    char path[200];
    if (!path_of(path, sizeof path, "tests/golden/gguf_types.gguf")) SKIP("%s not found (run from the repository root)", path);
    setenv("EDGEGEN_NO_MMAP", "1", 1);
    check_types_file(th_, path, 0);
    unsetenv("EDGEGEN_NO_MMAP");
}

TEST(gguf_roundtrip_empty_and_io_errors) {
    char path[200];
    struct eg_gguf *g = NULL;
    if (!path_of(path, sizeof path, "tests/golden/gguf_empty.gguf")) SKIP("%s not found", path);
    CHECK(eg_gguf_open(path, &g) == EG_OK && eg_gguf_n_tensors(g) == 0 && eg_gguf_n_keys(g) == 4, "empty model");
    eg_gguf_close(g); g = NULL;
    cap_begin();
    enum eg_status st = eg_gguf_open("/nonexistent/x.gguf", &g);
    cap_end();
    CHECK(st == EG_ERR_IO && !g && strstr(g_cap.last, "/nonexistent/x.gguf"), "missing file: %s %s", eg_status_str(st), g_cap.last);
    snprintf(path, sizeof path, "%s/tests", srcdir());
    cap_begin();
    st = eg_gguf_open(path, &g);
    cap_end();
    CHECK(st == EG_ERR_IO && strstr(g_cap.last, "not a regular file"), "directory: %s", g_cap.last);
    /* an empty file: the parser reports truncation */
    char tmp[] = "/tmp/eg_gguf_emptyXXXXXX";
    int fd = mkstemp(tmp);
    REQUIRE(fd >= 0, "mkstemp");
    fclose(fdopen(fd, "w"));
    cap_begin();
    st = eg_gguf_open(tmp, &g);
    cap_end();
    CHECK(st == EG_ERR_FORMAT && strstr(g_cap.last, "truncated"), "empty file: %s", g_cap.last);
    uint64_t sz = 1;
    CHECK(eg_file_size(tmp, &sz) == EG_OK && sz == 0, "eg_file_size");
    remove(tmp);
    CHECK(eg_gguf_open(NULL, &g) == EG_ERR_INVALID_ARG && eg_gguf_parse(NULL, 0, NULL, NULL) == EG_ERR_INVALID_ARG, "NULL args");
    eg_gguf_close(NULL);
}

/* ---- fuzz corpus and regressions: parse + the whole API, must not crash ----------------------------------- */
static int replay_dir(struct th_state *th_, const char *rel, int *n_ok) {
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/%s", srcdir(), rel);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, r;
        uint8_t chunk[4096];
        while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + r > cap) { cap = (cap + r) * 2; uint8_t *q = realloc(buf, cap); if (!q) break; buf = q; }
            memcpy(buf + len, chunk, r);
            len += r;
        }
        fclose(f);
        struct eg_gguf *g = NULL;
        uint8_t *copy = NULL;
        cap_begin();
        enum eg_status st = parse_copy(buf ? buf : (const uint8_t *)"", len, e->d_name, &g, &copy);
        cap_end();
        CHECK(st == EG_OK || st == EG_ERR_FORMAT || st == EG_ERR_INVALID_ARG, "%s: %s", e->d_name, eg_status_str(st));
        if (st == EG_OK) {
            cap_begin();
            gguf_exercise(g, copy, len);
            cap_end();
            eg_gguf_close(g);
            (*n_ok)++;
        }
        free(copy);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

TEST(gguf_replay_fuzz_files) {
    int ok = 0;
    int n1 = replay_dir(th_, "tests/fuzz/corpus", &ok);
    int n2 = replay_dir(th_, "tests/fuzz/regressions", &ok);
    if (n1 < 0 && n2 < 0) SKIP("tests/fuzz/ not found (run from the repository root)");
    CHECK(n1 > 0, "no corpus files");
    CHECK(ok > 0, "no corpus file parsed");
}

/* ---- memory plan ------------------------------------------------------------------------------------------- */
static void no_limits(struct eg_mem *m) {
    memset(m, 0, sizeof *m);
    m->available_bytes = m->mem_available_bytes = m->cgroup_limit_bytes = UINT64_MAX;
    m->rlimit_as_bytes = m->rlimit_data_bytes = UINT64_MAX;
}

struct lines { int n; char text[16][160]; };
static void collect(const char *t, void *u) { struct lines *l = u; if (l->n < 16) snprintf(l->text[l->n++], 160, "%s", t); }

TEST(memplan_totals_and_check) {
    struct eg_memplan p;
    struct eg_mem m;
    char why[512];
    eg_memplan_init(&p);
    CHECK(eg_memplan_add(&p, "weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, 40000000) == EG_OK, "add");
    CHECK(eg_memplan_add(&p, "kv cache", EG_MEM_HEAP, 6000000) == EG_OK, "add");
    CHECK(eg_memplan_add(&p, "activations", EG_MEM_HEAP, 200000) == EG_OK, "add");
    CHECK(eg_memplan_add(&p, "bad", 0, 1) == EG_ERR_INVALID_ARG, "flags need MAPPED or HEAP");
    CHECK(eg_memplan_add(&p, "a name that is far too long for the plan", EG_MEM_HEAP, 1) == EG_ERR_INVALID_ARG, "long name");
    CHECK(eg_memplan_total(&p, 0) == 46200000, "total");
    CHECK(eg_memplan_total(&p, EG_MEM_HEAP) == 6200000, "heap total");

    no_limits(&m);
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_OK, "no limits: fits");

    /* cgroup v2: 31 MB left, the mapping already charged (committed) → 31 + 40 = 71 MB >= 46.2: fits */
    m.cgroup_version = 2; m.cgroup_limit_bytes = 100000000; m.cgroup_usage_bytes = 69000000;
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_OK, "committed mapping counts as held: %s", why);
    /* nothing committed yet: 46.2 MB > 31 MB */
    p.parts[0].flags = EG_MEM_MAPPED;
    cap_begin();
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_ERR_NOMEM, "refused");
    cap_end();
    CHECK(strstr(why, "needs 44.1 MiB") && strstr(why, "29.6 MiB available (cgroup v2 memory.max)"), "%s", why);
    CHECK(strstr(why, "weights 38.1 MiB mapped") && strstr(why, "kv cache 5.7 MiB"), "%s", why);
    CHECK(g_cap.n == 1 && !strcmp(g_cap.last, why), "logged once: %s", g_cap.last);

    /* RLIMIT_DATA charges heap parts only: 6.2 MB of heap vs 10 MB → fits although weights are 40 MB */
    no_limits(&m);
    m.rlimit_data_bytes = 12000000; m.vm_data_bytes = 2000000;
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_OK, "RLIMIT_DATA ignores mappings: %s", why);
    m.rlimit_data_bytes = 7000000;
    cap_begin();
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_ERR_NOMEM && strstr(why, "RLIMIT_DATA"), "%s", why);
    cap_end();
    /* the tightest of several limits is named */
    no_limits(&m);
    m.mem_available_bytes = 1000000000; m.rlimit_as_bytes = 50000000; m.vm_size_bytes = 20000000;
    cap_begin();
    CHECK(eg_memplan_check(&p, &m, why, sizeof why) == EG_ERR_NOMEM && strstr(why, "RLIMIT_AS"), "%s", why);
    cap_end();

    struct lines l = { 0 };
    eg_memplan_render(&p, &m, collect, &l);
    CHECK(l.n == 6, "render lines %d", l.n);
    CHECK(l.n == 6 && strstr(l.text[0], "memory plan") && strstr(l.text[1], "weights") && strstr(l.text[4], "total") &&
          strstr(l.text[5], "RLIMIT_AS") && strstr(l.text[5], "DOES NOT FIT"), "render: %s / %s", l.text[4], l.text[5]);
    char b[32];
    eg_memplan_fmt_bytes(17, b, sizeof b); CHECK(!strcmp(b, "17 B"), "%s", b);
    eg_memplan_fmt_bytes(1536, b, sizeof b); CHECK(!strcmp(b, "1.5 KiB"), "%s", b);
    eg_memplan_fmt_bytes(UINT64_MAX, b, sizeof b); CHECK(!strcmp(b, "unlimited"), "%s", b);
    /* saturation and capacity */
    eg_memplan_init(&p);
    for (int i = 0; i < EG_MEMPLAN_MAX_PARTS; i++) CHECK(eg_memplan_add(&p, "x", EG_MEM_HEAP, UINT64_MAX / 3) == EG_OK, "add %d", i);
    cap_begin();
    CHECK(eg_memplan_add(&p, "one too many", EG_MEM_HEAP, 1) == EG_ERR_INVALID_ARG, "full");
    cap_end();
    CHECK(eg_memplan_total(&p, 0) == UINT64_MAX, "saturates");
}

TEST(memplan_for_model_and_ports) {
    char path[200];
    struct eg_gguf *g = NULL;
    struct eg_memplan p;
    int has_arch = -1;
    if (!path_of(path, sizeof path, "tests/golden/gguf_types.gguf")) SKIP("%s not found", path);
    REQUIRE(eg_gguf_open(path, &g) == EG_OK, "open");
    CHECK(eg_memplan_for_model(g, NULL, &p, &has_arch) == EG_OK, "plan");
    CHECK(has_arch == 0 && p.n_parts == 1 && p.parts[0].bytes == eg_gguf_file_bytes(g) &&
          p.parts[0].flags == (EG_MEM_MAPPED | EG_MEM_COMMITTED), "weights part");
    CHECK(eg_memplan_find_arch("edgegen.test") == NULL && eg_memplan_find_arch(NULL) == NULL, "no estimator");
    eg_gguf_close(g);
    uint64_t t0 = eg_time_ns(), t1 = eg_time_ns();
    CHECK(t0 > 0 && t1 >= t0, "monotonic clock");
    CHECK(eg_peak_rss_bytes() > 1000000, "peak RSS %llu", (unsigned long long)eg_peak_rss_bytes());
}

/* The registered estimators break down the models' own arenas: their parts add up to the arena functions the
 * models size themselves with (eg_decoder_arena_bytes, eg_ar_state_arena_bytes), after the process parts. */
static uint64_t sum_parts(const struct eg_memplan *p, int from) {
    uint64_t t = 0;
    for (int i = from; i < p->n_parts; i++) t += p->parts[i].bytes;
    return t;
}

TEST(memplan_model_estimators) {
    char path[200];
    struct eg_gguf *g = NULL;
    struct eg_memplan p;
    struct eg_memplan_params mp;
    struct eg_exec fake;
    struct eg_codec_model *cm = NULL;
    struct eg_ar_model *am = NULL;
    int has_arch = 0;

    CHECK(eg_rss_bytes() > 1000000, "VmRSS %llu",
          (unsigned long long)eg_rss_bytes());
    memset(&fake, 0, sizeof fake);
    fake.n_threads = 3;
    eg_memplan_default_params(&mp);
    mp.n_threads = 3;
    mp.chunk_frames = 40;
    mp.process_bytes = 12345;

    if (!path_of(path, sizeof path, "tests/golden/decoder_tiny_q8_0.gguf")) SKIP("%s not found", path);
    REQUIRE(eg_gguf_open(path, &g) == EG_OK, "open codec");
    CHECK(eg_memplan_for_model(g, &mp, &p, &has_arch) == EG_OK && has_arch == 1, "codec plan");
    REQUIRE(eg_codec_model_from_gguf(g, &cm) == EG_OK, "codec model");
    struct eg_decoder_params dp = { .chunk_frames = 40 };
    CHECK(p.n_parts == 7 && !strcmp(p.parts[1].name, "process (VmRSS now)") && p.parts[1].bytes == 12345 &&
          (p.parts[1].flags & EG_MEM_COMMITTED), "process part");
    CHECK(p.n_parts == 7 && p.parts[2].bytes == EG_MEMPLAN_RUNTIME_BYTES + 3 * EG_MEMPLAN_PER_THREAD_BYTES, "runtime part");
    CHECK(p.n_parts == 7 && !strcmp(p.parts[3].name, "decoder activations") &&
          sum_parts(&p, 3) == eg_decoder_arena_bytes(cm, &fake, &dp), "codec parts %llu vs arena %zu",
          (unsigned long long)sum_parts(&p, 3), eg_decoder_arena_bytes(cm, &fake, &dp));
    eg_codec_model_destroy(cm);
    eg_gguf_close(g);
    g = NULL;

    if (!path_of(path, sizeof path, "tests/golden/ar_tiny_q8_0.gguf")) SKIP("%s not found", path);
    REQUIRE(eg_gguf_open(path, &g) == EG_OK, "open ar");
    REQUIRE(eg_ar_model_from_gguf(g, &am) == EG_OK, "ar model");
    eg_memplan_init(&p);
    CHECK(eg_ar_state_memplan(am, &fake, 77, &p) == EG_OK && p.n_parts == 4 && !strcmp(p.parts[1].name, "ar kv cache"),
          "ar parts");
    CHECK(sum_parts(&p, 0) == eg_ar_state_arena_bytes(am, &fake, 77), "ar parts %llu vs arena %zu",
          (unsigned long long)sum_parts(&p, 0), eg_ar_state_arena_bytes(am, &fake, 77));
    CHECK(eg_ar_state_memplan(am, &fake, 0, &p) == EG_ERR_INVALID_ARG, "max_phonemes 0");
    eg_ar_model_destroy(am);
    eg_gguf_close(g);
}
