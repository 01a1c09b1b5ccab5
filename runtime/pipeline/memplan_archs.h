/* runtime/pipeline/memplan_archs.h — the memory plan of a whole model + context, by architecture: the registry of
 * per-architecture estimators (the models' and the pipeline's), on top of runtime/core/memplan.h. */
#ifndef EG_MEMPLAN_ARCHS_H
#define EG_MEMPLAN_ARCHS_H

#include "runtime/core/gguf.h"
#include "runtime/core/memplan.h"

/* Adds the parts a context for this model needs (never the weights: eg_memplan_for_model adds those). */
typedef enum eg_status (*eg_memplan_arch_fn)(const struct eg_gguf *g, const struct eg_memplan_params *p,
                                             struct eg_memplan *plan);
struct eg_memplan_arch {
    const char        *arch;   /* general.architecture, e.g. "edgegen.codec" */
    eg_memplan_arch_fn fill;
};
/* The registered estimator for `arch`, or NULL. */
const struct eg_memplan_arch *eg_memplan_find_arch(const char *arch);

/* The whole plan for an open model: "weights" (the file: mapped, or heap when read() was used; committed) plus,
 * when an estimator is registered (*has_arch = 1), the process parts (eg_memplan_add_process) and the
 * architecture's parts. Its total is the expected peak RSS of a process running that context at its limits. Errors from the estimator pass
 * through (EG_ERR_FORMAT for bad metadata). */
enum eg_status eg_memplan_for_model(const struct eg_gguf *g, const struct eg_memplan_params *p,
                                    struct eg_memplan *plan, int *has_arch);

#endif /* EG_MEMPLAN_ARCHS_H */
