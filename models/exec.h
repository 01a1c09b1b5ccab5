/* models/exec.h — the execution context shared by the models: the chosen kernel table, the thread pool, and
 * typed "linear" helpers (y = W x + b) that hide the weight dtype and split work into FIXED blocks.
 *
 * Determinism: work is cut into blocks whose size does not depend on the thread count, and every kernel
 * computes each output element the same way wherever it lies (simd/kernels.h), so results are bit-identical
 * for 1, 2 or N threads. f16 / q8_0 / q4_0 weights on the batched path are dequantised one panel of
 * EG_LINEAR_PANEL rows at a time into per-thread scratch, then multiplied with gemm_f32.
 *
 * Thread safety: an eg_exec is used by one thread at a time (its pool is not reentrant). An eg_linear is an
 * immutable view into model weights and may be shared.
 */
#ifndef EG_EXEC_H
#define EG_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"
#include "runtime/core/gguf.h"
#include "simd/kernels.h"

struct eg_pool;

struct eg_exec {
    struct eg_kernels k;     /* copy of the chosen table, NULL slots filled from lower tables */
    struct eg_pool *pool;    /* owned; NULL when n_threads == 1 */
    int n_threads;           /* >= 1 */
    char why[160];           /* dispatch's one-line reason for the table choice */
    size_t min_parallel_bytes; /* matrix-vector work below this many weight bytes runs on the calling thread */
};

/* Each pool run costs a few microseconds even with spinning workers (runtime/core/pool.c), so vector work is only
 * spread over the pool above this many weight bytes (override: EDGEGEN_PAR_MIN_BYTES). Measured on the dev VM,
 * full-size AR q8_0 step at 2 threads: 512 KiB -> 377 us, 128 KiB -> 235 us (1 thread: 350 us). Running the
 * same fixed tasks inline changes nothing in the results. */
#define EG_EXEC_MIN_PARALLEL_BYTES (128u * 1024u)

/* Choose the kernel table (isa: EG_ISA_AUTO honours EDGEGEN_ISA) and start n_threads-1 workers.
 * EG_ERR_INVALID_ARG for n_threads outside [1, 256], EG_ERR_UNSUPPORTED for a table the CPU cannot run. */
enum eg_status eg_exec_init(struct eg_exec *ex, enum eg_isa isa, int n_threads);
void eg_exec_free(struct eg_exec *ex);   /* safe on a zeroed or freed eg_exec */

/* Run fn(arg, task, thread) for task < n_tasks on the pool (inline without one). The _sized form runs inline
 * when work_bytes < ex->min_parallel_bytes. */
void eg_exec_parallel(struct eg_exec *ex, int n_tasks, void (*fn)(void *arg, int task, int thread), void *arg);
void eg_exec_parallel_sized(struct eg_exec *ex, int n_tasks, size_t work_bytes,
                            void (*fn)(void *arg, int task, int thread), void *arg);

/* A weight matrix W [n_out][n_in] in one of the supported dtypes, with an optional f32 bias [n_out].
 * Borrowed pointers into the model's mapping. */
struct eg_linear {
    enum eg_dtype type;      /* f32, f16, q8_0 or q4_0 */
    const void   *w;         /* [n_out] rows of row_bytes each */
    const float  *b;         /* f32 [n_out] or NULL */
    int           n_out, n_in;
    size_t        row_bytes; /* eg_dtype_row_bytes(type, n_in) */
};

#define EG_LINEAR_PANEL    64   /* W rows per task (and per dequantised panel) */
#define EG_LINEAR_ROWBLOCK 256  /* activation rows per task on the batched path (small blocks cost ~30% in gemm) */

/* Post-op applied to each output block inside its task (so it runs on the pool too). */
enum eg_act { EG_ACT_NONE = 0, EG_ACT_GELU };

/* Fill a linear view from a bound GGUF tensor (ne = [n_in, n_out]) and an optional bias tensor. */
void eg_linear_set(struct eg_linear *lin, const struct eg_gguf_tensor *w, const struct eg_gguf_tensor *b);

/* ---- binding model tensors (every model's loader) ---------------------------------------------------------- */
#define EG_MATRIX_TYPES (EG_DTYPE_BIT(EG_DTYPE_F32) | EG_DTYPE_BIT(EG_DTYPE_F16) | EG_DTYPE_BIT(EG_DTYPE_Q8_0) | \
                         EG_DTYPE_BIT(EG_DTYPE_Q4_0))
/* An f32 tensor of n_dims <= 3 dimensions d0, d1, d2 (innermost first; unused ones 1); *out = its data. Errors
 * (logged by eg_gguf_bind, naming the tensor, expected and found): EG_ERR_FORMAT. */
enum eg_status eg_bind_f32(const struct eg_gguf *g, const char *name, int n_dims, int64_t d0, int64_t d1, int64_t d2,
                           const float **out);
/* W [n_out][n_in] as `prefix`.weight in one of the `allowed` dtypes (EG_DTYPE_BIT mask; quantised rows must be
 * whole blocks) and, when has_bias, `prefix`.bias f32 [n_out]. */
enum eg_status eg_bind_linear(const struct eg_gguf *g, const char *prefix, int64_t n_in, int64_t n_out, uint32_t allowed,
                              int has_bias, struct eg_linear *lin);

/* ---- rows of a weight matrix through the kernel table (the one switch over the dtype) ----------------------- */
/* y[j] = W[j0 + j] . x (+ b[j0 + j]) for j < nj: the matvec kernel of lin's dtype. */
void eg_linear_matvec_rows(const struct eg_kernels *k, const struct eg_linear *lin, float *y, const float *x, int j0,
                           int nj);
/* W rows [j0, j0 + nj) as f32 into dst [nj][n_in] (the kernel table's exact dequantisers; f32 rows are copied). */
void eg_linear_dequant_rows(const struct eg_kernels *k, const struct eg_linear *lin, float *dst, int j0, int nj);

/* ---- im2col for "same"-padded convolutions over time-major rows --------------------------------------------- */
/* col row r (output frame o0 + r, r < n_rows) = kw taps of `width` floats: tap j is row fr = o0 + r + j - kw/2 of
 * x (stored from frame x0 on, x + (fr - x0) * width) when lo <= fr < hi, else zeros. */
void eg_im2col(float *col, const float *x, int64_t x0, int64_t lo, int64_t hi, int64_t o0, int n_rows, int kw, int width);

/* Scratch floats the batched path needs for a linear with this n_in and dtype: 0 for f32, else
 * n_threads * EG_LINEAR_PANEL * n_in. Callers size it once (arena) for the largest n_in they use. */
size_t eg_linear_scratch_floats(const struct eg_exec *ex, enum eg_dtype type, int n_in);

/* Batched rows: Y[r][j] = act(sum_p X[r][p] * W[j][p] + b[j]), r < n_rows, j < n_out.
 * X: f32 rows of n_in at x + r*ldx; Y: f32 rows at y + r*ldy (Y must not alias X).
 * scratch: eg_linear_scratch_floats(ex, lin->type, lin->n_in) floats (may be NULL for f32 W). */
void eg_linear_rows(struct eg_exec *ex, const struct eg_linear *lin, float *y, int ldy, const float *x, int ldx,
                    int n_rows, enum eg_act act, float *scratch);

/* One vector: y[j] = sum_p W[j][p] * x[p] + b[j] via the matvec kernels (for token-at-a-time models). */
void eg_linear_vec(struct eg_exec *ex, const struct eg_linear *lin, float *y, const float *x);

#endif /* EG_EXEC_H */
