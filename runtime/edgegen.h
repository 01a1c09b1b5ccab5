/* edgegen.h — the public API of libedgegen, the only header a user includes.
 *
 * Thread safety: a model (struct eg_model) is immutable after eg_model_load() and may be shared by any number
 * of contexts and threads. A context is one stream of work and must be used by one thread at a time. The
 * library never writes to stdout (it may carry audio) and never calls exit(); detail about a failure goes to
 * the log callback (default: one line on stderr), and every fallible call returns an enum eg_status.
 *
 * Licence: the library is MIT-licensed. The text front end (runtime/text*.c) links libespeak-ng (GPL-3); a
 * binary that includes it, such as the `edgegen` CLI, is GPL-3 as a whole.
 */
#ifndef EDGEGEN_H
#define EDGEGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGEGEN_VERSION "0.1.0"

enum eg_status {
    EG_OK = 0,
    EG_ERR_INVALID_ARG = -1,  /* a parameter out of range, a NULL where an object is required */
    EG_ERR_IO = -2,           /* open/read/write/rename failed */
    EG_ERR_FORMAT = -3,       /* a model file (or other input) is malformed; the log names the field */
    EG_ERR_UNSUPPORTED = -4,  /* the CPU/OS/build cannot do what was asked (e.g. EDGEGEN_ISA=avx512 here) */
    EG_ERR_NOMEM = -5,        /* allocation failed, or the memory plan exceeds what the process may use */
    EG_ERR_DEVICE = -6,       /* an OpenCL device failed */
    EG_ERR_INTERNAL = -7,     /* a broken internal invariant (a bug) */
};

/* A short English description of a status ("format error", ...). Never NULL. */
const char *eg_status_str(enum eg_status s);

enum eg_log_level { EG_LOG_ERROR = 0, EG_LOG_WARN = 1, EG_LOG_INFO = 2, EG_LOG_DEBUG = 3 };

/* Log sink: `msg` is one line without a trailing newline. fn == NULL restores the default (stderr, WARN and
 * above). Process-wide; set it before creating models or contexts. */
typedef void (*eg_log_fn)(enum eg_log_level level, const char *msg, void *user);
void eg_log_set(eg_log_fn fn, void *user);
void eg_log_set_level(enum eg_log_level max_level);

/* Kernel table selection. EG_ISA_AUTO picks the best table the CPU and OS support; the environment variable
 * EDGEGEN_ISA=ref|avx2|avx512|neon overrides AUTO. Forcing a table the CPU cannot run is EG_ERR_UNSUPPORTED. */
enum eg_isa { EG_ISA_AUTO = 0, EG_ISA_REF, EG_ISA_AVX2, EG_ISA_AVX512, EG_ISA_NEON };

#ifdef __cplusplus
}
#endif
#endif /* EDGEGEN_H */
