/* models/exec.c — execution context (kernel table + pool) and the typed linear helpers.
 *
 * Partitioning (fixed, independent of the thread count):
 *   batched: tasks = ceil(n_out / EG_LINEAR_PANEL) x ceil(n_rows / EG_LINEAR_ROWBLOCK); task (p, r) computes
 *            Y[r-block][p-panel]. For quantised W the task first dequantises its panel (EG_LINEAR_PANEL rows of W)
 *            into the calling thread's scratch slice, so one panel is re-expanded once per row block.
 *   vector:  tasks = ceil(n_out / EG_LINEAR_PANEL) slices of matvec.
 * Each output element is computed by exactly one kernel call whose arithmetic does not depend on its position
 * (simd/kernels.h), hence bit-identical results for any number of threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"
#include "models/exec.h"
#include "runtime/core/internal.h"
#include "runtime/core/pool.h"

enum eg_status eg_exec_init(struct eg_exec *ex, enum eg_isa isa, int n_threads) {
    struct eg_cpu cpu;
    enum eg_status st;

    memset(ex, 0, sizeof *ex);
    if (n_threads < 1 || n_threads > 256) {
        EG_LOGE("threads: expected 1..256, found %d", n_threads);
        return EG_ERR_INVALID_ARG;
    }
    eg_cpu_detect(&cpu);
    st = eg_dispatch_select(&cpu, isa, &ex->k, ex->why, sizeof ex->why);
    if (st != EG_OK) return st;
    ex->n_threads = n_threads;
    ex->min_parallel_bytes = EG_EXEC_MIN_PARALLEL_BYTES;
    const char *env = getenv("EDGEGEN_PAR_MIN_BYTES");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end) EG_LOGW("EDGEGEN_PAR_MIN_BYTES=%s: expected a byte count, ignored", env);
        else ex->min_parallel_bytes = (size_t)v;
    }
    if (n_threads > 1) {
        st = eg_pool_create(n_threads, &ex->pool);
        if (st != EG_OK) { memset(ex, 0, sizeof *ex); return st; }
    }
    return EG_OK;
}

void eg_exec_free(struct eg_exec *ex) {
    if (!ex) return;
    eg_pool_destroy(ex->pool);
    memset(ex, 0, sizeof *ex);
}

void eg_exec_parallel(struct eg_exec *ex, int n_tasks, void (*fn)(void *arg, int task, int thread), void *arg) {
    if (n_tasks <= 0) return;
    if (!ex->pool || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    eg_pool_run(ex->pool, n_tasks, fn, arg);
}

void eg_exec_parallel_sized(struct eg_exec *ex, int n_tasks, size_t work_bytes,
                            void (*fn)(void *arg, int task, int thread), void *arg) {
    if (work_bytes < ex->min_parallel_bytes) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    eg_exec_parallel(ex, n_tasks, fn, arg);
}

void eg_linear_set(struct eg_linear *lin, const struct eg_gguf_tensor *w, const struct eg_gguf_tensor *b) {
    lin->type = w->type;
    lin->w = w->data;
    lin->b = b ? (const float *)b->data : NULL;
    lin->n_in = (int)w->ne[0];
    lin->n_out = (int)w->ne[1];
    lin->row_bytes = (size_t)eg_dtype_row_bytes(w->type, (uint64_t)w->ne[0]);
}

size_t eg_linear_scratch_floats(const struct eg_exec *ex, enum eg_dtype type, int n_in) {
    if (type == EG_DTYPE_F32) return 0;
    return (size_t)ex->n_threads * EG_LINEAR_PANEL * (size_t)n_in;
}

/* ---- batched path ----------------------------------------------------------------------------------------- */

struct rows_job {
    struct eg_exec *ex;
    const struct eg_linear *lin;
    float *y; int ldy;
    const float *x; int ldx;
    int n_rows, n_row_blocks;
    enum eg_act act;
    float *scratch;
};

static void rows_task(void *arg, int task, int thread) {
    const struct rows_job *jb = arg;
    const struct eg_linear *lin = jb->lin;
    const struct eg_kernels *k = &jb->ex->k;
    const int p = task / jb->n_row_blocks, rb = task % jb->n_row_blocks;
    const int j0 = p * EG_LINEAR_PANEL, nj = lin->n_out - j0 < EG_LINEAR_PANEL ? lin->n_out - j0 : EG_LINEAR_PANEL;
    const int r0 = rb * EG_LINEAR_ROWBLOCK;
    const int nr = jb->n_rows - r0 < EG_LINEAR_ROWBLOCK ? jb->n_rows - r0 : EG_LINEAR_ROWBLOCK;
    const float *wp;

    if (lin->type == EG_DTYPE_F32) {
        wp = (const float *)lin->w + (size_t)j0 * lin->n_in;
    } else {
        float *panel = jb->scratch + (size_t)thread * EG_LINEAR_PANEL * lin->n_in;
        eg_linear_dequant_rows(k, lin, panel, j0, nj);
        wp = panel;
    }
    float *y = jb->y + (size_t)r0 * jb->ldy + j0;
    k->gemm_f32(y, jb->ldy, jb->x + (size_t)r0 * jb->ldx, jb->ldx, wp, lin->n_in,
                lin->b ? lin->b + j0 : NULL, nr, nj, lin->n_in);
    if (jb->act == EG_ACT_GELU && jb->ldy != lin->n_out)
        for (int r = 0; r < nr; r++) k->gelu_f32(y + (size_t)r * jb->ldy, y + (size_t)r * jb->ldy, nj);
}

/* Activation over a contiguous output, in fixed chunks: long calls amortise the vector transcendental's setup
 * (a 64-wide GELU per task row costs ~1.6x more than long runs). */
#define ACT_CHUNK 16384
struct act_job { const struct eg_kernels *k; float *y; size_t n; };

static void act_task(void *arg, int task, int thread) {
    const struct act_job *jb = arg;
    const size_t i0 = (size_t)task * ACT_CHUNK, n = jb->n - i0 < ACT_CHUNK ? jb->n - i0 : ACT_CHUNK;
    (void)thread;
    jb->k->gelu_f32(jb->y + i0, jb->y + i0, (int)n);
}

void eg_linear_rows(struct eg_exec *ex, const struct eg_linear *lin, float *y, int ldy, const float *x, int ldx,
                    int n_rows, enum eg_act act, float *scratch) {
    if (n_rows <= 0 || lin->n_out <= 0) return;
    struct rows_job jb = {
        .ex = ex, .lin = lin, .y = y, .ldy = ldy, .x = x, .ldx = ldx, .n_rows = n_rows,
        .n_row_blocks = (n_rows + EG_LINEAR_ROWBLOCK - 1) / EG_LINEAR_ROWBLOCK, .act = act, .scratch = scratch,
    };
    const int n_panels = (lin->n_out + EG_LINEAR_PANEL - 1) / EG_LINEAR_PANEL;
    eg_exec_parallel(ex, n_panels * jb.n_row_blocks, rows_task, &jb);
    if (act == EG_ACT_GELU && ldy == lin->n_out) {   /* contiguous output: activation as a second pass */
        struct act_job aj = { &ex->k, y, (size_t)n_rows * lin->n_out };
        eg_exec_parallel(ex, (int)((aj.n + ACT_CHUNK - 1) / ACT_CHUNK), act_task, &aj);
    }
}

/* ---- vector path ------------------------------------------------------------------------------------------ */

struct vec_job {
    const struct eg_kernels *k;
    const struct eg_linear *lin;
    float *y;
    const float *x;
};

static void vec_task(void *arg, int task, int thread) {
    const struct vec_job *jb = arg;
    const struct eg_linear *lin = jb->lin;
    const int j0 = task * EG_LINEAR_PANEL, nj = lin->n_out - j0 < EG_LINEAR_PANEL ? lin->n_out - j0 : EG_LINEAR_PANEL;
    (void)thread;
    eg_linear_matvec_rows(jb->k, lin, jb->y + j0, jb->x, j0, nj);
}

void eg_linear_vec(struct eg_exec *ex, const struct eg_linear *lin, float *y, const float *x) {
    struct vec_job jb = { .k = &ex->k, .lin = lin, .y = y, .x = x };
    eg_exec_parallel_sized(ex, (lin->n_out + EG_LINEAR_PANEL - 1) / EG_LINEAR_PANEL, (size_t)lin->n_out * lin->row_bytes,
                           vec_task, &jb);
}

/* ---- tensor binding, the dtype switch, im2col (exec.h) ------------------------------------------------------ */

enum eg_status eg_bind_f32(const struct eg_gguf *g, const char *name, int n_dims, int64_t d0, int64_t d1, int64_t d2,
                           const float **out) {
    const struct eg_gguf_tensor *t;
    const int64_t ne[3] = { d0, d1, d2 };
    enum eg_status st = eg_gguf_bind(g, name, EG_DTYPE_BIT(EG_DTYPE_F32), n_dims, ne, &t);
    if (st == EG_OK) *out = t->data;
    return st;
}

enum eg_status eg_bind_linear(const struct eg_gguf *g, const char *prefix, int64_t n_in, int64_t n_out, uint32_t allowed,
                              int has_bias, struct eg_linear *lin) {
    char wname[128], bname[128];
    const struct eg_gguf_tensor *w, *b = NULL;
    const int64_t ne_w[2] = { n_in, n_out }, ne_b[1] = { n_out };
    enum eg_status st;

    snprintf(wname, sizeof wname, "%s.weight", prefix);
    snprintf(bname, sizeof bname, "%s.bias", prefix);
    if ((st = eg_gguf_bind(g, wname, allowed, 2, ne_w, &w)) != EG_OK) return st;
    if (has_bias && (st = eg_gguf_bind(g, bname, EG_DTYPE_BIT(EG_DTYPE_F32), 1, ne_b, &b)) != EG_OK) return st;
    if (eg_dtype_row_bytes(w->type, (uint64_t)n_in) == 0) {
        EG_LOGE("%s: tensor %s: %s rows need a multiple of 32 elements, found %lld", eg_gguf_label(g), wname,
                eg_dtype_name(w->type), (long long)n_in);
        return EG_ERR_FORMAT;
    }
    eg_linear_set(lin, w, b);
    return EG_OK;
}

void eg_linear_matvec_rows(const struct eg_kernels *k, const struct eg_linear *lin, float *y, const float *x, int j0,
                           int nj) {
    const void *w = (const uint8_t *)lin->w + (size_t)j0 * lin->row_bytes;
    const float *b = lin->b ? lin->b + j0 : NULL;
    switch (lin->type) {
    case EG_DTYPE_F32:  k->matvec_f32(y, w, x, b, nj, lin->n_in); break;
    case EG_DTYPE_F16:  k->matvec_f16(y, w, x, b, nj, lin->n_in); break;
    case EG_DTYPE_Q8_0: k->matvec_q8_0(y, w, x, b, nj, lin->n_in); break;
    case EG_DTYPE_Q4_0: k->matvec_q4_0(y, w, x, b, nj, lin->n_in); break;
    default: memset(y, 0, (size_t)nj * sizeof *y); break;   /* unreachable: binding checks dtypes */
    }
}

void eg_linear_dequant_rows(const struct eg_kernels *k, const struct eg_linear *lin, float *dst, int j0, int nj) {
    const uint8_t *w = (const uint8_t *)lin->w + (size_t)j0 * lin->row_bytes;
    for (int j = 0; j < nj; j++, w += lin->row_bytes, dst += lin->n_in) {
        switch (lin->type) {
        case EG_DTYPE_F32:  memcpy(dst, w, (size_t)lin->n_in * sizeof *dst); break;
        case EG_DTYPE_F16:  k->dequant_f16(dst, (const uint16_t *)w, lin->n_in); break;
        case EG_DTYPE_Q8_0: k->dequant_q8_0(dst, w, lin->n_in); break;
        case EG_DTYPE_Q4_0: k->dequant_q4_0(dst, w, lin->n_in); break;
        default: memset(dst, 0, (size_t)lin->n_in * sizeof *dst); break;   /* unreachable: binding checks dtypes */
        }
    }
}

void eg_im2col(float *col, const float *x, int64_t x0, int64_t lo, int64_t hi, int64_t o0, int n_rows, int kw, int width) {
    const int half = kw / 2;
    for (int r = 0; r < n_rows; r++)
        for (int j = 0; j < kw; j++) {
            float *dst = col + ((size_t)r * kw + j) * width;
            const int64_t fr = o0 + r + j - half;
            if (fr >= lo && fr < hi) memcpy(dst, x + (size_t)(fr - x0) * width, sizeof(float) * (size_t)width);
            else memset(dst, 0, sizeof(float) * (size_t)width);
        }
}
