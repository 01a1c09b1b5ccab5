/* runtime/core/cpu_common.c — eg_cpu_detect(): the ISA probe of this build's architecture plus the topology the
 * kernel publishes in sysfs (Documentation/ABI/testing/sysfs-devices-system-cpu):
 *   <cpu_dir>/online                                  cpu list, e.g. "0-3"
 *   <cpu_dir>/cpuN/cpufreq/cpuinfo_max_freq           kHz; cores with equal maximum form a cluster (big.LITTLE)
 *   <cpu_dir>/cpu0/cache/indexK/{level,type,size}     "1" "Data" "32K"
 *   <cpu_dir>/cpuN/regs/identification/midr_el1       AArch64 core identity, e.g. "0x00000000410fd083"
 * The directory is a parameter so tests read fake trees under tests/data/. Missing files mean "unknown" (0).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "runtime/core/cpu.h"

#if defined(__aarch64__) || defined(__arm__)
void eg_cpu_probe_arm(struct eg_cpu *cpu);   /* runtime/core/cpu_arm.c */
#endif

#define MAX_SYSFS_CPUS 256   /* topology beyond this many CPUs is not read (counts still are) */

static const struct { uint64_t bit; const char *name; } feature_names[] = {
    { EG_CPU_SSE2, "SSE2" }, { EG_CPU_AVX, "AVX" }, { EG_CPU_AVX2, "AVX2" }, { EG_CPU_FMA, "FMA" },
    { EG_CPU_F16C, "F16C" }, { EG_CPU_AVX512F, "AVX512F" }, { EG_CPU_AVX512BW, "AVX512BW" },
    { EG_CPU_AVX512VL, "AVX512VL" }, { EG_CPU_AVX512DQ, "AVX512DQ" }, { EG_CPU_AVX512VNNI, "AVX512VNNI" },
    { EG_CPU_NEON, "NEON" }, { EG_CPU_DOTPROD, "DOTPROD" }, { EG_CPU_FP16, "FP16" }, { EG_CPU_I8MM, "I8MM" },
    { EG_CPU_VFPV4, "VFPV4" },
};

const char *eg_cpu_feature_name(uint64_t bit) {
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
        if (feature_names[i].bit == bit) return feature_names[i].name;
    return NULL;
}

void eg_cpu_features_str(uint64_t features, const char *sep, char *buf, size_t len) {
    size_t o = 0;
    if (!len) return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++) {
        if (!(features & feature_names[i].bit)) continue;
        int n = snprintf(buf + o, len - o, "%s%s", o ? sep : "", feature_names[i].name);
        if (n < 0 || (size_t)n >= len - o) { buf[len - 1] = '\0'; return; }
        o += (size_t)n;
    }
}

int eg_read_text_file(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, len - 1, f);
    int ok = !ferror(f);
    fclose(f);
    buf[n] = '\0';
    return ok && n > 0;
}

/* Walk a cpu list "0-3,6\n"; store up to max ids; return the total count or -1 when malformed. */
static int cpulist_walk(const char *s, int *ids, int max) {
    int count = 0;
    while (*s == ' ') s++;
    if (*s == '\0' || *s == '\n') return 0;
    for (;;) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0 || a > 1 << 20) return -1;
        s = end;
        b = a;
        if (*s == '-') {
            s++;
            b = strtol(s, &end, 10);
            if (end == s || b < a || b > 1 << 20) return -1;
            s = end;
        }
        for (long i = a; i <= b; i++) { if (ids && count < max) ids[count] = (int)i; count++; }
        if (*s == ',') { s++; continue; }
        while (*s == '\n' || *s == ' ') s++;
        return *s == '\0' ? count : -1;
    }
}

int eg_cpu_parse_cpulist(const char *text) { return cpulist_walk(text, NULL, 0); }

long eg_cpu_parse_cache_size(const char *text) {
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || v < 0) return -1;
    long mul = 1;
    if (*end == 'K') { mul = 1024; end++; }
    else if (*end == 'M') { mul = 1024L * 1024; end++; }
    else if (*end == 'G') { mul = 1024L * 1024 * 1024; end++; }
    while (*end == '\n' || *end == ' ') end++;
    if (*end != '\0' || v > LONG_MAX / mul) return -1;
    return v * mul;
}

static void read_caches(struct eg_cpu *cpu, const char *cpu_dir) {
    char path[512], level[16], type[32], size[32];
    for (int k = 0; k < 16; k++) {
        snprintf(path, sizeof path, "%s/cpu0/cache/index%d/level", cpu_dir, k);
        if (!eg_read_text_file(path, level, sizeof level)) break;
        snprintf(path, sizeof path, "%s/cpu0/cache/index%d/type", cpu_dir, k);
        if (!eg_read_text_file(path, type, sizeof type)) continue;
        snprintf(path, sizeof path, "%s/cpu0/cache/index%d/size", cpu_dir, k);
        if (!eg_read_text_file(path, size, sizeof size)) continue;
        long bytes = eg_cpu_parse_cache_size(size);
        if (bytes <= 0 || !strncmp(type, "Instruction", 11)) continue;
        switch (atoi(level)) {
        case 1: cpu->l1d_bytes = bytes; break;
        case 2: cpu->l2_bytes = bytes; break;
        case 3: cpu->l3_bytes = bytes; break;
        default: break;
        }
    }
}

/* Group online CPUs by cpuinfo_max_freq, fastest cluster first. All online CPUs must report, or it is unknown. */
static void read_clusters(struct eg_cpu *cpu, const char *cpu_dir, const int *ids, int n_ids) {
    char path[512], buf[32];
    int n = 0;
    for (int i = 0; i < n_ids; i++) {
        snprintf(path, sizeof path, "%s/cpu%d/cpufreq/cpuinfo_max_freq", cpu_dir, ids[i]);
        if (!eg_read_text_file(path, buf, sizeof buf)) { n = 0; break; }
        long khz = strtol(buf, NULL, 10);
        if (khz <= 0) { n = 0; break; }
        int c = 0;
        while (c < n && cpu->cluster_max_khz[c] != khz) c++;
        if (c == n) {
            if (n == EG_CPU_MAX_CLUSTERS) continue;   /* more distinct speeds than slots: ignore the rest */
            cpu->cluster_max_khz[n] = khz; cpu->cluster_n_cores[n] = 0; n++;
        }
        cpu->cluster_n_cores[c]++;
    }
    for (int a = 0; a < n; a++)          /* tiny insertion sort, descending frequency */
        for (int b = a; b > 0 && cpu->cluster_max_khz[b] > cpu->cluster_max_khz[b - 1]; b--) {
            long k = cpu->cluster_max_khz[b]; cpu->cluster_max_khz[b] = cpu->cluster_max_khz[b - 1]; cpu->cluster_max_khz[b - 1] = k;
            int c = cpu->cluster_n_cores[b]; cpu->cluster_n_cores[b] = cpu->cluster_n_cores[b - 1]; cpu->cluster_n_cores[b - 1] = c;
        }
    cpu->n_clusters = n;
}

/* "Cortex-A76 x4" or "Cortex-A72 x2 + Cortex-A53 x4" from MIDR_EL1 of each online CPU (AArch64 kernels). */
static void read_midr_model(struct eg_cpu *cpu, const char *cpu_dir, const int *ids, int n_ids) {
    struct { uint64_t midr; int n; } kinds[EG_CPU_MAX_CLUSTERS];
    int n_kinds = 0;
    char path[512], buf[64];
    for (int i = 0; i < n_ids; i++) {
        snprintf(path, sizeof path, "%s/cpu%d/regs/identification/midr_el1", cpu_dir, ids[i]);
        if (!eg_read_text_file(path, buf, sizeof buf)) continue;
        char *end;
        uint64_t midr = strtoull(buf, &end, 16) & 0xff0ffff0ull;   /* ignore variant and revision */
        if (end == buf) continue;
        int k = 0;
        while (k < n_kinds && kinds[k].midr != midr) k++;
        if (k == n_kinds) { if (n_kinds == EG_CPU_MAX_CLUSTERS) continue; kinds[k].midr = midr; kinds[k].n = 0; n_kinds++; }
        kinds[k].n++;
    }
    size_t o = 0;
    for (int k = 0; k < n_kinds && o < sizeof cpu->model; k++) {
        const char *name = eg_cpu_midr_name(kinds[k].midr);
        char unk[48];
        if (!name) {
            snprintf(unk, sizeof unk, "ARM implementer 0x%02x part 0x%03x", (unsigned)((kinds[k].midr >> 24) & 0xff),
                     (unsigned)((kinds[k].midr >> 4) & 0xfff));
            name = unk;
        }
        int n = snprintf(cpu->model + o, sizeof cpu->model - o, "%s%s x%d", k ? " + " : "", name, kinds[k].n);
        if (n < 0) break;
        o += (size_t)n;
    }
}

void eg_cpu_read_sysfs(struct eg_cpu *cpu, const char *cpu_dir) {
    char path[512], buf[512];
    int ids[MAX_SYSFS_CPUS], n_ids = 0;
    snprintf(path, sizeof path, "%s/online", cpu_dir);
    if (eg_read_text_file(path, buf, sizeof buf)) {
        int n = cpulist_walk(buf, ids, MAX_SYSFS_CPUS);
        if (n > 0) { cpu->n_cores_online = n; n_ids = n < MAX_SYSFS_CPUS ? n : MAX_SYSFS_CPUS; }
    }
    if (n_ids == 0) { ids[0] = 0; n_ids = 1; }   /* no list: at least look at cpu0 */
    read_clusters(cpu, cpu_dir, ids, n_ids);
    read_caches(cpu, cpu_dir);
    if (!cpu->model[0]) read_midr_model(cpu, cpu_dir, ids, n_ids);
}

void eg_cpu_detect(struct eg_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
#if defined(__x86_64__)
    snprintf(cpu->arch, sizeof cpu->arch, "x86_64");
#elif defined(__i386__)
    snprintf(cpu->arch, sizeof cpu->arch, "x86");
#elif defined(__aarch64__)
    snprintf(cpu->arch, sizeof cpu->arch, "aarch64");
#elif defined(__arm__)
    snprintf(cpu->arch, sizeof cpu->arch, "armv7");
#else
    snprintf(cpu->arch, sizeof cpu->arch, "unknown");
#endif
#if defined(__x86_64__) || defined(__i386__)
    struct eg_x86_regs r;
    if (eg_cpu_read_x86(&r)) eg_cpu_decode_x86(&r, cpu);
#elif defined(__aarch64__) || defined(__arm__)
    eg_cpu_probe_arm(cpu);
#endif
    eg_cpu_read_sysfs(cpu, "/sys/devices/system/cpu");
    if (cpu->n_cores_online < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cpu->n_cores_online = n >= 1 ? (int)n : 1;
    }
}

void eg_cpu_dump(FILE *f) {
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    fprintf(f, "# recorded by `edgegen info --dump`: %s\n", cpu.model[0] ? cpu.model : "(model unknown)");
#if defined(__x86_64__) || defined(__i386__)
    struct eg_x86_regs r;
    if (eg_cpu_read_x86(&r)) {
        fprintf(f, "arch x86\n");
        fprintf(f, "leaf0 0x%08x 0x%08x 0x%08x 0x%08x\n", r.leaf0[0], r.leaf0[1], r.leaf0[2], r.leaf0[3]);
        fprintf(f, "leaf1 0x%08x 0x%08x 0x%08x 0x%08x\n", r.leaf1[0], r.leaf1[1], r.leaf1[2], r.leaf1[3]);
        fprintf(f, "leaf7 0x%08x 0x%08x 0x%08x 0x%08x\n", r.leaf7[0], r.leaf7[1], r.leaf7[2], r.leaf7[3]);
        fprintf(f, "ext0 0x%08x 0x%08x 0x%08x 0x%08x\n", r.ext0[0], r.ext0[1], r.ext0[2], r.ext0[3]);
        fprintf(f, "brand");
        for (int i = 0; i < 12; i++) fprintf(f, " 0x%08x", r.brand[i]);
        fprintf(f, "\nxcr0 0x%llx\n", (unsigned long long)r.xcr0);
    }
#elif defined(__aarch64__) || defined(__arm__)
    uint64_t hwcap, hwcap2;
    eg_cpu_read_hwcap(&hwcap, &hwcap2);
    fprintf(f, "arch %s\nhwcap 0x%llx\nhwcap2 0x%llx\n", cpu.arch, (unsigned long long)hwcap, (unsigned long long)hwcap2);
#endif
    char names[256];
    eg_cpu_features_str(cpu.features, " ", names, sizeof names);
    fprintf(f, "expect-features %s\n", names);
}
