/* ports/log.h — the process-wide log sink (ports/log.c): one line per call, to the user's callback
 * (eg_log_set in edgegen.h) or to stderr. At the bottom so every layer, the OS port included, can report. */
#ifndef EG_LOG_H
#define EG_LOG_H

#include "runtime/edgegen.h"

#if defined(__GNUC__)
#define EG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EG_PRINTF(a, b)
#endif

/* Log one line through the user's callback (ports/log.c). */
void eg_log(enum eg_log_level level, const char *fmt, ...) EG_PRINTF(2, 3);
/* Would a line at this level reach the sink? (skip formatting bulky debug output when it would not) */
int eg_log_enabled(enum eg_log_level level);
#define EG_LOGE(...) eg_log(EG_LOG_ERROR, __VA_ARGS__)
#define EG_LOGW(...) eg_log(EG_LOG_WARN, __VA_ARGS__)
#define EG_LOGI(...) eg_log(EG_LOG_INFO, __VA_ARGS__)
#define EG_LOGD(...) eg_log(EG_LOG_DEBUG, __VA_ARGS__)

#endif /* EG_LOG_H */
