/* simd/dispatch.h — choosing the kernel table once per context. */
#ifndef EG_DISPATCH_H
#define EG_DISPATCH_H

#include <stddef.h>
#include "runtime/core/cpu.h"
#include "runtime/edgegen.h"
#include "simd/kernels.h"

/* Every table linked into this build, best first, ending with the reference. Returns the count (<= max). */
int eg_dispatch_tables(const struct eg_kernels **out, int max);

/* 1 when this CPU/OS can run table k (all of k->needs present in cpu->features). */
int eg_cpu_can_run(const struct eg_cpu *cpu, const struct eg_kernels *k);

/* Pick a table: `isa` (EG_ISA_AUTO → the EDGEGEN_ISA environment variable, then the best runnable table).
 * Copies it into *out and fills NULL slots from the next runnable table down (ending at the reference).
 * `why` receives one line such as "avx512: F+BW+VL+DQ present, XCR0=0xe7". Forcing a table the CPU cannot
 * run, or one not built, is EG_ERR_UNSUPPORTED with the reason in `why` and in the log. */
enum eg_status eg_dispatch_select(const struct eg_cpu *cpu, enum eg_isa isa, struct eg_kernels *out,
                                  char *why, size_t why_len);

/* eg_dispatch_select over an explicit list of tables (best first) and an explicit EDGEGEN_ISA value (NULL or ""
 * = unset), so tests can use fake tables and overrides without touching the environment. */
enum eg_status eg_dispatch_select_from(const struct eg_kernels *const *tables, int n_tables,
                                       const struct eg_cpu *cpu, enum eg_isa isa, const char *env_isa,
                                       struct eg_kernels *out, char *why, size_t why_len);

/* eg_isa_from_name / eg_isa_name (names ↔ enum eg_isa) are public: runtime/edgegen.h. */

#endif
