/* runtime/core/mem.c — how much memory this process may still use, for the preflight check before allocating
 * (research/reliability.md §4.10). The smallest headroom among:
 *   MemAvailable            /proc/meminfo (kernel's estimate of memory available without swapping)
 *   cgroup v2               memory.max - memory.current, at every level from our cgroup up to the mount root
 *   cgroup v1               memory.limit_in_bytes - memory.usage_in_bytes, likewise
 *   RLIMIT_AS               soft limit - VmSize   (/proc/self/status)
 *   RLIMIT_DATA             soft limit - VmData   (the kernel counts private writable mappings, Linux >= 4.7)
 *   32-bit address space    3 GiB on 32-bit builds (the usual 3G/1G split), so a Pi 4 with 8 GiB running a
 *                           32-bit OS does not plan for more than the process can map
 * Our cgroup comes from /proc/self/cgroup ("0::/path" for v2, "N:memory:/path" for v1). When that path is not
 * visible under the mount (a container without its own cgroup namespace), the mount root is used.
 * All paths hang off a root prefix so tests replay fake trees (tests/data/mem/); parsers are pure functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "runtime/core/cpu.h"

#define UNLIMITED UINT64_MAX
/* cgroup v1 reports "no limit" as PAGE_COUNTER_MAX * page size (0x7ffffffffffff000 on 4 KiB pages, other
 * values on 16/64 KiB pages): treat anything this large as unlimited. */
#define V1_UNLIMITED_FLOOR (1ull << 62)

const char *eg_mem_limit_name(enum eg_mem_limit l) {
    switch (l) {
    case EG_MEM_LIMIT_NONE: return "none";
    case EG_MEM_LIMIT_MEMAVAILABLE: return "MemAvailable";
    case EG_MEM_LIMIT_CGROUP_V2: return "cgroup v2 memory.max";
    case EG_MEM_LIMIT_CGROUP_V1: return "cgroup v1 memory.limit_in_bytes";
    case EG_MEM_LIMIT_RLIMIT_AS: return "RLIMIT_AS";
    case EG_MEM_LIMIT_RLIMIT_DATA: return "RLIMIT_DATA";
    case EG_MEM_LIMIT_ADDRESS_SPACE: return "32-bit address space";
    }
    return "unknown";
}


static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Parse a decimal u64 at s; 1 on success, *end after the digits. Rejects overflow. */
static int parse_u64(const char *s, uint64_t *v, const char **end) {
    uint64_t x = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
        p++;
    }
    if (p == s) return 0;
    *v = x;
    *end = p;
    return 1;
}

int eg_mem_parse_meminfo(const char *text, const char *key, uint64_t *bytes) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, klen) != 0 || line[klen] != ':') continue;
        const char *p = line + klen + 1, *end;
        while (*p == ' ' || *p == '\t') p++;
        uint64_t v;
        if (!parse_u64(p, &v, &end)) return 0;
        while (*end == ' ' || *end == '\t') end++;
        if (!strncmp(end, "kB", 2)) {
            if (v > UINT64_MAX / 1024) return 0;
            v *= 1024;
        }
        *bytes = v;
        return 1;
    }
    return 0;
}

int eg_mem_parse_limit(const char *text, uint64_t *bytes) {
    const char *end;
    uint64_t v;
    while (*text == ' ') text++;
    if (!strncmp(text, "max", 3)) { end = text + 3; v = UNLIMITED; }
    else if (parse_u64(text, &v, &end)) { if (v >= V1_UNLIMITED_FLOOR) v = UNLIMITED; }
    else if (text[0] == '-' && text[1] == '1') { end = text + 2; v = UNLIMITED; }   /* some v1 files: -1 */
    else return 0;
    while (*end == '\n' || *end == ' ') end++;
    if (*end != '\0') return 0;
    *bytes = v;
    return 1;
}

int eg_mem_parse_cgroup(const char *text, int version, char *path, size_t len) {
    /* lines: "hierarchy-ID:controller-list:path" */
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *c1 = strchr(line, ':');
        const char *nl = strchr(line, '\n');
        if (!nl) nl = line + strlen(line);
        if (!c1 || c1 > nl) continue;
        const char *c2 = memchr(c1 + 1, ':', (size_t)(nl - (c1 + 1)));
        if (!c2) continue;
        int match = 0;
        if (version == 2) {
            match = (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1);
        } else {
            /* controller list is comma-separated: "memory" or "cpu,memory" */
            for (const char *t = c1 + 1; t < c2;) {
                const char *comma = memchr(t, ',', (size_t)(c2 - t));
                const char *te = comma ? comma : c2;
                if (te - t == 6 && !strncmp(t, "memory", 6)) { match = 1; break; }
                t = te + 1;
            }
        }
        if (!match) continue;
        size_t n = (size_t)(nl - (c2 + 1));
        if (n == 0 || c2[1] != '/' || n >= len) return 0;
        memcpy(path, c2 + 1, n);
        path[n] = '\0';
        return 1;
    }
    return 0;
}

static uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void eg_mem_combine(struct eg_mem *m) {
    uint64_t best = UNLIMITED;
    enum eg_mem_limit bind = EG_MEM_LIMIT_NONE;
    if (m->mem_available_bytes != UNLIMITED) { best = m->mem_available_bytes; bind = EG_MEM_LIMIT_MEMAVAILABLE; }
    if (m->cgroup_limit_bytes != UNLIMITED) {
        uint64_t h = sub_sat(m->cgroup_limit_bytes, m->cgroup_usage_bytes);
        if (h < best || bind == EG_MEM_LIMIT_NONE) {
            best = h;
            bind = m->cgroup_version == 1 ? EG_MEM_LIMIT_CGROUP_V1 : EG_MEM_LIMIT_CGROUP_V2;
        }
    }
    if (m->rlimit_as_bytes != UNLIMITED) {
        uint64_t h = sub_sat(m->rlimit_as_bytes, m->vm_size_bytes);
        if (h < best || bind == EG_MEM_LIMIT_NONE) { best = h; bind = EG_MEM_LIMIT_RLIMIT_AS; }
    }
    if (m->rlimit_data_bytes != UNLIMITED) {
        uint64_t h = sub_sat(m->rlimit_data_bytes, m->vm_data_bytes);
        if (h < best || bind == EG_MEM_LIMIT_NONE) { best = h; bind = EG_MEM_LIMIT_RLIMIT_DATA; }
    }
    /* a flat cap, not minus VmSize: under qemu-user VmSize is the emulator's own (host) size */
    if (m->address_space_bytes != UNLIMITED && m->address_space_bytes != 0 &&
        (m->address_space_bytes < best || bind == EG_MEM_LIMIT_NONE)) {
        best = m->address_space_bytes;
        bind = EG_MEM_LIMIT_ADDRESS_SPACE;
    }
    m->available_bytes = best;
    m->binding = bind;
}

/* "key value" lines of memory.stat → value. */
static int stat_value(const char *text, const char *key, uint64_t *v) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *end;
        if (!strncmp(line, key, klen) && line[klen] == ' ') return parse_u64(line + klen + 1, v, &end);
    }
    return 0;
}

/* Walk from <mount><path> up to <mount>, reading the limit and usage at each level; keep the level with the
 * smallest headroom. Usage excludes inactive file pages (memory.stat), which the kernel reclaims before it
 * OOM-kills, as container runtimes compute their "working set". Returns 1 if the limit file exists at some
 * level (the memory controller is there). */
static int cgroup_walk(const char *mount, const char *path, int version, struct eg_mem *mem) {
    const char *limit_file = version == 2 ? "memory.max" : "memory.limit_in_bytes";
    const char *usage_file = version == 2 ? "memory.current" : "memory.usage_in_bytes";
    const char *inactive_key = version == 2 ? "inactive_file" : "total_inactive_file";
    char dir[1024], file[1100], buf[64], stat[8192];
    int found = 0;
    uint64_t best_head = UNLIMITED;
    if (!strcmp(path, "/") || snprintf(dir, sizeof dir, "%s%s", mount, path) >= (int)sizeof dir || !is_dir(dir))
        snprintf(dir, sizeof dir, "%s", mount);     /* root, or our path is not visible here: the mount root */
    size_t mount_len = strlen(mount);
    for (;;) {
        uint64_t limit, usage = 0, inactive = 0;
        snprintf(file, sizeof file, "%s/%s", dir, limit_file);
        if (eg_read_text_file(file, buf, sizeof buf) && eg_mem_parse_limit(buf, &limit)) {
            snprintf(file, sizeof file, "%s/%s", dir, usage_file);
            if (!(eg_read_text_file(file, buf, sizeof buf) && eg_mem_parse_limit(buf, &usage)) || usage == UNLIMITED) usage = 0;
            snprintf(file, sizeof file, "%s/memory.stat", dir);
            if (eg_read_text_file(file, stat, sizeof stat) && stat_value(stat, inactive_key, &inactive)) usage = sub_sat(usage, inactive);
            if (!found++) mem->cgroup_usage_bytes = usage;   /* our own level's usage, shown even if unlimited */
            if (limit != UNLIMITED && sub_sat(limit, usage) < best_head) {
                best_head = sub_sat(limit, usage);
                mem->cgroup_limit_bytes = limit;
                mem->cgroup_usage_bytes = usage;
            }
        }
        if (strlen(dir) <= mount_len) break;
        char *slash = strrchr(dir + mount_len, '/');
        if (!slash) break;
        *slash = '\0';
    }
    return found;
}

void eg_mem_detect_at(struct eg_mem *mem, const char *root, uint64_t rlimit_as, uint64_t rlimit_data) {
    char path[1024], text[8192], ctl[1024], cg[512];
    memset(mem, 0, sizeof *mem);
    mem->available_bytes = UNLIMITED;
    mem->mem_available_bytes = mem->cgroup_limit_bytes = mem->address_space_bytes = UNLIMITED;
    mem->rlimit_as_bytes = rlimit_as;
    mem->rlimit_data_bytes = rlimit_data;

    snprintf(path, sizeof path, "%s/proc/meminfo", root);
    if (eg_read_text_file(path, text, sizeof text)) {
        uint64_t v;
        if (eg_mem_parse_meminfo(text, "MemAvailable", &v)) mem->mem_available_bytes = v;
        else if (eg_mem_parse_meminfo(text, "MemFree", &v)) mem->mem_available_bytes = v;   /* Linux < 3.14 */
    }
    snprintf(path, sizeof path, "%s/proc/self/status", root);
    if (eg_read_text_file(path, text, sizeof text)) {
        eg_mem_parse_meminfo(text, "VmSize", &mem->vm_size_bytes);
        eg_mem_parse_meminfo(text, "VmData", &mem->vm_data_bytes);
    }

    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    if (eg_read_text_file(path, text, sizeof text)) {
        /* v2: the unified hierarchy at /sys/fs/cgroup, or at /sys/fs/cgroup/unified on hybrid systems, where
         * it usually carries no memory controller (v1 has it). */
        static const char *const v2_mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        if (eg_mem_parse_cgroup(text, 2, cg, sizeof cg)) {
            for (size_t i = 0; i < 2 && !mem->cgroup_version; i++) {
                char mount[512];
                snprintf(mount, sizeof mount, "%s%s", root, v2_mounts[i]);
                if (cgroup_walk(mount, cg, 2, mem)) { mem->cgroup_version = 2; break; }
                /* in the root cgroup there is no memory.max at all: the controller shows in cgroup.controllers */
                snprintf(path, sizeof path, "%s/cgroup.controllers", mount);
                if (eg_read_text_file(path, ctl, sizeof ctl) && strstr(ctl, "memory")) mem->cgroup_version = 2;
            }
        }
        if (!mem->cgroup_version && eg_mem_parse_cgroup(text, 1, cg, sizeof cg)) {
            char mount[512];
            snprintf(mount, sizeof mount, "%s/sys/fs/cgroup/memory", root);
            if (cgroup_walk(mount, cg, 1, mem)) mem->cgroup_version = 1;
        }
    }
    eg_mem_combine(mem);
}

void eg_mem_detect(struct eg_mem *mem) {
    struct rlimit as, data;
    uint64_t as_b = UNLIMITED, data_b = UNLIMITED;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) as_b = (uint64_t)as.rlim_cur;
    if (getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY) data_b = (uint64_t)data.rlim_cur;
    eg_mem_detect_at(mem, "", as_b, data_b);
    if (sizeof(void *) < 8) {            /* a 32-bit process cannot map more than ~3 GiB, whatever RAM says */
        mem->address_space_bytes = 3ull << 30;
        eg_mem_combine(mem);
    }
}
