/* runtime/core/gguf.h — our own GGUF v3 reader. Every byte of the file is hostile: the whole header, metadata and
 * tensor table are validated at open time (runtime/core/gguf.c); after that, lookups cannot fail on bounds.
 * Dims follow GGUF: ne[0] is the innermost (contiguous) dimension, so a PyTorch/numpy array of shape
 * (rows, cols) has ne[0] = cols, ne[1] = rows. Errors are logged as one line naming the file, the key or
 * tensor, the expected and the found value; functions return EG_ERR_FORMAT (or EG_ERR_IO / EG_ERR_NOMEM). */
#ifndef EG_GGUF_H
#define EG_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

/* Tensor types we accept (values are GGML's type ids, as stored in the file). */
enum eg_dtype { EG_DTYPE_F32 = 0, EG_DTYPE_F16 = 1, EG_DTYPE_Q4_0 = 2, EG_DTYPE_Q8_0 = 8 };
#define EG_DTYPE_BIT(t) (1u << (t))   /* for "allowed types" masks */
const char *eg_dtype_name(enum eg_dtype t);          /* "f32", "f16", "q4_0", "q8_0" */
/* Bytes of one row of n elements (n % 32 == 0 for quantised types); 0 when invalid. */
uint64_t eg_dtype_row_bytes(enum eg_dtype t, uint64_t n);

#define EG_GGUF_MAX_DIMS 4

struct eg_gguf_tensor {
    const char   *name;                  /* NUL-terminated, owned by the eg_gguf */
    enum eg_dtype type;
    int           n_dims;                /* 1..4 */
    int64_t       ne[EG_GGUF_MAX_DIMS];  /* ne[0] innermost; unused dims are 1 */
    uint64_t      n_bytes;
    const void   *data;                  /* inside the mapping, aligned to general.alignment */
    uint64_t      offset_bytes;          /* of data, from the start of the file */
};

struct eg_gguf;   /* opaque: mapping + parsed tables; immutable after open, shareable across threads */

/* Map (read-only, zero-copy; read() fallback) and validate a file. */
enum eg_status eg_gguf_open(const char *path, struct eg_gguf **out);
/* Validate a caller-owned buffer (kept borrowed until close). `label` names it in errors. buf must be aligned to
 * EG_GGUF_BUF_ALIGN bytes (or to the file's general.alignment if smaller), else EG_ERR_INVALID_ARG. */
#define EG_GGUF_BUF_ALIGN 64
enum eg_status eg_gguf_parse(const void *buf, size_t n_bytes, const char *label, struct eg_gguf **out);
void eg_gguf_close(struct eg_gguf *g);   /* NULL allowed */

const char *eg_gguf_label(const struct eg_gguf *g);       /* the path or label, for messages */
uint64_t    eg_gguf_file_bytes(const struct eg_gguf *g);
uint64_t    eg_gguf_tensor_bytes(const struct eg_gguf *g); /* sum of tensor data bytes */
int         eg_gguf_is_mapped(const struct eg_gguf *g);   /* 1 mmap, 0 read() fallback or borrowed buffer */
uint32_t    eg_gguf_version(const struct eg_gguf *g);     /* 2 or 3 */
uint32_t    eg_gguf_alignment(const struct eg_gguf *g);   /* general.alignment (u32, power of two, 8..1 MiB) or 32 */
uint64_t    eg_gguf_data_offset(const struct eg_gguf *g); /* start of the tensor data section in the file */

/* ---- metadata: missing key or wrong type → EG_ERR_FORMAT with "key X: expected u32, found string" ----- */
int            eg_gguf_has_key(const struct eg_gguf *g, const char *key);
enum eg_status eg_gguf_get_u32(const struct eg_gguf *g, const char *key, uint32_t *out);
/* get_u32 accepts any integer type whose value fits u32; get_f32 accepts f32, and f64 within float range. */
enum eg_status eg_gguf_get_f32(const struct eg_gguf *g, const char *key, float *out);
/* u32 key whose value must lie in [lo, hi]: "key K: expected a value in [lo, hi], found V" otherwise. */
enum eg_status eg_gguf_get_u32_range(const struct eg_gguf *g, const char *key, uint32_t lo, uint32_t hi,
                                     uint32_t *out);
/* general.architecture must equal `arch`: "key general.architecture: expected "A", found "B"" otherwise. */
enum eg_status eg_gguf_expect_arch(const struct eg_gguf *g, const char *arch);
enum eg_status eg_gguf_get_bool(const struct eg_gguf *g, const char *key, int *out);   /* *out = 0 or 1 */
enum eg_status eg_gguf_get_str(const struct eg_gguf *g, const char *key, const char **out); /* NUL-terminated copy */
/* Integer array (u8..i64 element types accepted if every value fits u32): copies all values into out[0..max);
 * an array longer than max is EG_ERR_FORMAT ("expected at most max values"). *n_out = values copied. */
enum eg_status eg_gguf_get_arr_u32(const struct eg_gguf *g, const char *key, uint32_t *out, int max, int *n_out);
/* String array element i (NUL-terminated copy), and its length; EG_ERR_FORMAT if not a string array / i out of range. */
enum eg_status eg_gguf_get_arr_str(const struct eg_gguf *g, const char *key, int i, const char **out);
int            eg_gguf_arr_len(const struct eg_gguf *g, const char *key);  /* -1 if absent or not an array */

/* Iteration for `edgegen inspect`. */
int  eg_gguf_n_keys(const struct eg_gguf *g);
/* Key i's name and a printable rendering of its value (arrays abbreviated) into buf. */
const char *eg_gguf_key_name(const struct eg_gguf *g, int i);
void eg_gguf_key_render(const struct eg_gguf *g, int i, char *buf, size_t len);
/* Key i's value type: "u32", "string", "array[f32]", ... ("" when i is out of range). */
void eg_gguf_key_type_str(const struct eg_gguf *g, int i, char *buf, size_t len);
int  eg_gguf_n_tensors(const struct eg_gguf *g);
const struct eg_gguf_tensor *eg_gguf_tensor_at(const struct eg_gguf *g, int i);

/* ---- tensor binding by name, with type and shape checks (the model code states what it expects) --------
 * allowed: mask of EG_DTYPE_BIT(); n_dims and ne[] (innermost first) must match exactly.
 * Error example: "model.gguf: tensor dec.head.weight: expected f32|f16|q8_0 [256 x 1026], found q4_0 [256 x 1024]" */
enum eg_status eg_gguf_bind(const struct eg_gguf *g, const char *name, uint32_t allowed, int n_dims,
                            const int64_t *ne, const struct eg_gguf_tensor **out);
const struct eg_gguf_tensor *eg_gguf_find(const struct eg_gguf *g, const char *name); /* NULL if absent */

#endif /* EG_GGUF_H */
