/* runtime/core/core.c — status strings (the log sink is ports/log.c). */
#include "runtime/core/internal.h"

const char *eg_status_str(enum eg_status s) {
    switch (s) {
    case EG_OK: return "ok";
    case EG_ERR_INVALID_ARG: return "invalid argument";
    case EG_ERR_IO: return "I/O error";
    case EG_ERR_FORMAT: return "format error";
    case EG_ERR_UNSUPPORTED: return "unsupported";
    case EG_ERR_NOMEM: return "out of memory";
    case EG_ERR_DEVICE: return "device error";
    case EG_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
