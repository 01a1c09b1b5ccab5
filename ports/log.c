/* ports/log.c — the process-wide log sink (see ports/log.h). */
#include <stdarg.h>
#include <stdio.h>
#include "ports/log.h"

static eg_log_fn g_log_fn;               /* NULL: default sink */
static void *g_log_user;
static enum eg_log_level g_log_level = EG_LOG_WARN;

void eg_log_set(eg_log_fn fn, void *user) { g_log_fn = fn; g_log_user = user; }
void eg_log_set_level(enum eg_log_level max_level) { g_log_level = max_level; }
int eg_log_enabled(enum eg_log_level level) { return g_log_fn != NULL || level <= g_log_level; }

void eg_log(enum eg_log_level level, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (!g_log_fn && level > g_log_level) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_log_fn) { g_log_fn(level, buf, g_log_user); return; }
    static const char *const tag[] = { "error", "warning", "info", "debug" };
    fprintf(stderr, "edgegen: %s: %s\n", tag[level < 0 || level > 3 ? 0 : level], buf);
}
