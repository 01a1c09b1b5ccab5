/* runtime/core/memplan.c — memory plan: named parts, totals, a check against every known limit, text rendering.
 * The registry of per-architecture estimators is above the models: runtime/pipeline/memplan_archs.c. */
#include <stdio.h>
#include <string.h>
#include "runtime/core/gguf.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"
#include "ports/port.h"

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void eg_memplan_init(struct eg_memplan *plan) {
    if (plan) memset(plan, 0, sizeof *plan);
}

enum eg_status eg_memplan_add(struct eg_memplan *plan, const char *name, unsigned flags, uint64_t bytes) {
    if (!plan || !name || strlen(name) >= EG_MEMPLAN_NAME_LEN || !(flags & (EG_MEM_MAPPED | EG_MEM_HEAP)) ||
        (flags & ~(unsigned)(EG_MEM_MAPPED | EG_MEM_HEAP | EG_MEM_COMMITTED))) return EG_ERR_INVALID_ARG;
    if (plan->n_parts >= EG_MEMPLAN_MAX_PARTS) {
        EG_LOGE("memory plan: more than %d parts (adding '%s')", EG_MEMPLAN_MAX_PARTS, name);
        return EG_ERR_INVALID_ARG;
    }
    struct eg_memplan_part *p = &plan->parts[plan->n_parts++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->flags = flags;
    p->bytes = bytes;
    return EG_OK;
}

uint64_t eg_memplan_total(const struct eg_memplan *plan, unsigned flags) {
    uint64_t t = 0;
    if (!plan) return 0;
    for (int i = 0; i < plan->n_parts; i++)
        if ((plan->parts[i].flags & flags) == flags) t = add_sat(t, plan->parts[i].bytes);
    return t;
}

void eg_memplan_fmt_bytes(uint64_t b, char *buf, size_t len) {
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
    if (!buf || !len) return;
    if (b == UINT64_MAX) { snprintf(buf, len, "unlimited"); return; }
    if (b < 1024) { snprintf(buf, len, "%llu B", (unsigned long long)b); return; }
    double v = (double)b / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) { v /= 1024.0; u++; }
    snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* One limit's verdict: what it charges for this plan, and what it allows (headroom + what the plan already holds). */
struct verdict {
    enum eg_mem_limit which;
    uint64_t need, avail;
};

static void judge(const struct eg_memplan *plan, enum eg_mem_limit which, uint64_t headroom, unsigned charged,
                  struct verdict *v) {
    uint64_t need = 0, committed = 0;
    for (int i = 0; i < plan->n_parts; i++) {
        const struct eg_memplan_part *p = &plan->parts[i];
        if (!(p->flags & charged)) continue;
        need = add_sat(need, p->bytes);
        if (p->flags & EG_MEM_COMMITTED) committed = add_sat(committed, p->bytes);
    }
    v->which = which;
    v->need = need;
    v->avail = add_sat(headroom, committed);
}

/* The limit with the smallest margin (avail - need); 0 when no limit is known. */
static int tightest(const struct eg_memplan *plan, const struct eg_mem *m, struct verdict *out) {
    const unsigned all = EG_MEM_MAPPED | EG_MEM_HEAP;
    struct verdict v[4];
    int n = 0;
    if (m->mem_available_bytes != UINT64_MAX) judge(plan, EG_MEM_LIMIT_MEMAVAILABLE, m->mem_available_bytes, all, &v[n++]);
    if (m->cgroup_limit_bytes != UINT64_MAX)
        judge(plan, m->cgroup_version == 1 ? EG_MEM_LIMIT_CGROUP_V1 : EG_MEM_LIMIT_CGROUP_V2,
              sub_sat(m->cgroup_limit_bytes, m->cgroup_usage_bytes), all, &v[n++]);
    if (m->rlimit_as_bytes != UINT64_MAX)
        judge(plan, EG_MEM_LIMIT_RLIMIT_AS, sub_sat(m->rlimit_as_bytes, m->vm_size_bytes), all, &v[n++]);
    if (m->rlimit_data_bytes != UINT64_MAX)   /* read-only file mappings are not data */
        judge(plan, EG_MEM_LIMIT_RLIMIT_DATA, sub_sat(m->rlimit_data_bytes, m->vm_data_bytes), EG_MEM_HEAP, &v[n++]);
    if (!n) return 0;
    int best = 0;
    for (int i = 1; i < n; i++) {
        /* compare avail - need without signed overflow: a - b < c - d  <=>  a + d < c + b (saturated) */
        if (add_sat(v[i].avail, v[best].need) < add_sat(v[best].avail, v[i].need)) best = i;
    }
    *out = v[best];
    return 1;
}

int eg_memplan_fits(const struct eg_memplan *plan, const struct eg_mem *mem) {
    struct verdict v;
    return plan && mem && (!tightest(plan, mem, &v) || v.need <= v.avail);
}

enum eg_status eg_memplan_check(const struct eg_memplan *plan, const struct eg_mem *mem, char *why, size_t why_len) {
    struct verdict v;
    char msg[512], need[32], avail[32], part[32];
    if (why && why_len) why[0] = 0;
    if (!plan || !mem) return EG_ERR_INVALID_ARG;
    if (!tightest(plan, mem, &v) || v.need <= v.avail) return EG_OK;
    eg_memplan_fmt_bytes(v.need, need, sizeof need);
    eg_memplan_fmt_bytes(v.avail, avail, sizeof avail);
    int n = snprintf(msg, sizeof msg, "not enough memory: needs %s (", need);
    for (int i = 0; i < plan->n_parts && n > 0 && (size_t)n < sizeof msg; i++) {
        const struct eg_memplan_part *p = &plan->parts[i];
        eg_memplan_fmt_bytes(p->bytes, part, sizeof part);
        n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s %s%s", i ? ", " : "", p->name, part,
                      (p->flags & EG_MEM_MAPPED) ? " mapped" : "");
    }
    if (n > 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, "), %s available (%s)", avail, eg_mem_limit_name(v.which));
    EG_LOGE("%s", msg);
    if (why && why_len) snprintf(why, why_len, "%s", msg);
    return EG_ERR_NOMEM;
}

void eg_memplan_render(const struct eg_memplan *plan, const struct eg_mem *mem, eg_memplan_line_fn line, void *user) {
    char text[160], b[32];
    struct verdict v;
    if (!plan || !line) return;
    line("memory plan:", user);
    for (int i = 0; i < plan->n_parts; i++) {
        const struct eg_memplan_part *p = &plan->parts[i];
        eg_memplan_fmt_bytes(p->bytes, b, sizeof b);
        snprintf(text, sizeof text, "  %-24s %12s  %s%s", p->name, b, (p->flags & EG_MEM_MAPPED) ? "mapped" : "heap",
                 (p->flags & EG_MEM_COMMITTED) ? " (held now)" : "");
        line(text, user);
    }
    eg_memplan_fmt_bytes(eg_memplan_total(plan, 0), b, sizeof b);
    snprintf(text, sizeof text, "  %-24s %12s", "total", b);
    line(text, user);
    if (!mem) return;
    if (!tightest(plan, mem, &v)) {
        snprintf(text, sizeof text, "  %-24s %12s  (no memory limit found)", "available", "unknown");
    } else {
        eg_memplan_fmt_bytes(v.avail, b, sizeof b);
        snprintf(text, sizeof text, "  %-24s %12s  (%s)%s", "available", b, eg_mem_limit_name(v.which),
                 v.need > v.avail ? ": DOES NOT FIT" : "");
    }
    line(text, user);
}

void eg_memplan_default_params(struct eg_memplan_params *p) {
    if (!p) return;
    p->max_seconds = 30.0;
    p->n_threads = 1;
    p->chunk_frames = 256;
    p->max_phonemes = 512;
    p->process_bytes = 0;
}

enum eg_status eg_memplan_add_process(struct eg_memplan *plan, const struct eg_memplan_params *p) {
    const int nt = p && p->n_threads >= 1 && p->n_threads <= 1024 ? p->n_threads : 1;
    const uint64_t now = p && p->process_bytes ? p->process_bytes : eg_rss_bytes();
    enum eg_status st = eg_memplan_add(plan, "process (VmRSS now)", EG_MEM_MAPPED | EG_MEM_COMMITTED, now);
    if (st == EG_OK)
        st = eg_memplan_add(plan, "runtime (code, stacks)", EG_MEM_HEAP,
                            EG_MEMPLAN_RUNTIME_BYTES + (uint64_t)nt * EG_MEMPLAN_PER_THREAD_BYTES);
    return st;
}
