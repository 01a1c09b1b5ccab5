/* runtime/core/memplan.h — the memory plan: what a model + context will hold, named part by part, checked against
 * the memory this process may use (struct eg_mem, runtime/core/mem.c) *before* allocating, so the user gets a
 * one-line refusal instead of a silent OOM kill (research/reliability.md §4.10).
 *
 *   struct eg_memplan plan;
 *   eg_memplan_init(&plan);
 *   eg_memplan_add(&plan, "weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, eg_gguf_file_bytes(g));
 *   eg_memplan_add(&plan, "kv cache", EG_MEM_HEAP, kv_bytes);
 *   eg_mem_detect(&mem);
 *   if (eg_memplan_check(&plan, &mem, NULL, 0)) ... // logged: "not enough memory: needs 46.2 MiB (...),
 *                                                     //  31.0 MiB available (cgroup memory.max)", EG_ERR_NOMEM
 * Units: bytes; text uses binary units (KiB, MiB, GiB), as `edgegen info` does. A plan is a small value (no heap);
 * not thread-safe per plan. */
#ifndef EG_MEMPLAN_H
#define EG_MEMPLAN_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/core/cpu.h"
#include "runtime/edgegen.h"

struct eg_gguf;

/* Part flags. MAPPED: a read-only file mapping (counts toward RLIMIT_AS, cgroup and RAM, not RLIMIT_DATA).
 * HEAP: malloc/arena memory (counts toward every limit). COMMITTED: the process already holds it at check time,
 * so eg_mem's headroom no longer includes it (e.g. the model file is mapped before its header can be read). */
enum { EG_MEM_MAPPED = 1, EG_MEM_HEAP = 2, EG_MEM_COMMITTED = 4 };

#define EG_MEMPLAN_MAX_PARTS 16
#define EG_MEMPLAN_NAME_LEN  32

struct eg_memplan_part {
    char     name[EG_MEMPLAN_NAME_LEN];   /* "weights", "kv cache", "activations", "decoder state", ... */
    unsigned flags;                       /* EG_MEM_* */
    uint64_t bytes;
};

struct eg_memplan {
    int n_parts;
    struct eg_memplan_part parts[EG_MEMPLAN_MAX_PARTS];
};

void eg_memplan_init(struct eg_memplan *plan);
/* Append a part. EG_ERR_INVALID_ARG when the plan is full, flags lack MAPPED/HEAP, or name is NULL/too long. */
enum eg_status eg_memplan_add(struct eg_memplan *plan, const char *name, unsigned flags, uint64_t bytes);
/* Sum of all parts (saturates at UINT64_MAX); only those with all of `flags` set when flags != 0. */
uint64_t eg_memplan_total(const struct eg_memplan *plan, unsigned flags);

/* Check the plan against every known limit in `mem` (MemAvailable, cgroup, RLIMIT_AS, RLIMIT_DATA; each counts
 * the parts it charges). EG_OK when everything fits or nothing is known. Otherwise logs one line naming the
 * tightest limit and returns EG_ERR_NOMEM; when why != NULL the same text (without "edgegen: error: ") is
 * copied there. */
enum eg_status eg_memplan_check(const struct eg_memplan *plan, const struct eg_mem *mem, char *why, size_t why_len);

/* 1 when the plan fits every known limit in `mem` (or none is known), else 0; logs nothing (for "how many fit"). */
int eg_memplan_fits(const struct eg_memplan *plan, const struct eg_mem *mem);

/* Render the plan, one line per call of `line` (no newline): the parts, the total, the available memory and
 * its limit when mem != NULL. */
typedef void (*eg_memplan_line_fn)(const char *text, void *user);
void eg_memplan_render(const struct eg_memplan *plan, const struct eg_mem *mem, eg_memplan_line_fn line, void *user);

/* "46.2 MiB", "512.0 KiB", "17 B", "unlimited" (UINT64_MAX). */
void eg_memplan_fmt_bytes(uint64_t bytes, char *buf, size_t len);

/* ---- per-architecture estimators: model code registers one line in memplan.c's table ------------------------ */
struct eg_memplan_params {
    double max_seconds;   /* longest audio one context must handle (sizes the KV cache / decoder buffers) */
    int    n_threads;     /* per-thread scratch */
    int    chunk_frames;  /* edgegen.codec: frames per decoder window (`edgegen decode` uses 256 without --chunk) */
    int    max_phonemes;  /* edgegen.ar state alone (eg_ar_state_create): phoneme ids per encode */
    uint64_t process_bytes;   /* the process before the model: 0 = this process's VmRSS now (eg_rss_bytes) */
};
void eg_memplan_default_params(struct eg_memplan_params *p);   /* 30 s, 1 thread, 256 frames, 512 ids, 0 */

/* Fixed process overhead a context adds on top of its model parts, beyond what the process already holds when
 * the plan is made (the "process (VmRSS now)" part): code pages of the kernels, libm and libsleef first touched
 * while computing, thread stacks, malloc and stdio bookkeeping. Measured on x86-64 Debian 12 (glibc 2.36) as
 * peak RSS minus every other part of the plan (tests/memcheck.sh prints the residual per model); it is a few
 * hundred KiB on any target, and only matters for tiny models. */
#define EG_MEMPLAN_RUNTIME_BYTES     ((uint64_t)640 << 10)
#define EG_MEMPLAN_PER_THREAD_BYTES  ((uint64_t)128 << 10)

/* The parts every context plan carries besides the model's: "process (VmRSS now)" (held; p->process_bytes or
 * VmRSS) and "runtime (code, stacks)" (EG_MEMPLAN_RUNTIME_BYTES + n_threads * EG_MEMPLAN_PER_THREAD_BYTES).
 * eg_memplan_for_model adds them when an estimator is registered; programs that build a plan by hand call it. */
enum eg_status eg_memplan_add_process(struct eg_memplan *plan, const struct eg_memplan_params *p);

/* The per-architecture estimators and eg_memplan_for_model (the whole plan for an open model) are above the
 * models: runtime/pipeline/memplan_archs.h. */

#endif /* EG_MEMPLAN_H */
