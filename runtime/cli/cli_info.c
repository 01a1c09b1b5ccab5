/* runtime/cli/cli_info.c — `edgegen info [--json] [--isa NAME]`: what this machine and build can do.
 *
 * Prints the CPU (model, arch, features the CPU and OS allow, XCR0), the kernel table dispatch would choose and
 * why, cores and clusters, caches, the memory this process may use and which limit binds, and OpenCL status.
 * Exit 0 on success, 1 when the kernel choice fails (EDGEGEN_ISA / --isa names a table this machine cannot run;
 * the library has already logged one line saying why), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/stage.h"
#include "runtime/cli/cli.h"
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"
#include "runtime/edgegen.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen info [--json] [--isa NAME] [--dump]\n"
            "\n"
            "Show what this machine and build can do: CPU model and architecture, SIMD features the CPU and OS\n"
            "allow (x86: with XCR0), the kernel table that would be used and why, cores and clusters, caches,\n"
            "the memory this process may use and which limit binds, and OpenCL status.\n"
            "\n"
            "options:\n"
            "  --json        print one JSON object instead of text\n"
            "  --isa NAME    pick the kernel table as if forced: auto, ref, avx2, avx512, neon, neon-dotprod\n"
            "                (takes precedence over EDGEGEN_ISA)\n"
            "  --dump        print this machine's raw CPUID/XCR0 or HWCAP values in the tests/data/cpu/ format\n"
            "                (attach it to bug reports about feature detection)\n"
            "  -h, --help    this help\n"
            "\n"
            "environment:\n"
            "  EDGEGEN_ISA=auto|ref|avx2|avx512|neon|neon-dotprod   force a kernel table (fails if the CPU cannot run it)\n"
            "\n"
            "exit status: 0 ok, 1 the requested kernel table cannot run here, 2 usage error\n");
}

static void fmt_bytes(uint64_t b, char *buf, size_t len) {
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 4) { v /= 1024.0; u++; }
    if (u == 0) snprintf(buf, len, "%llu B", (unsigned long long)b);
    else if (v < 10.0 && v != (double)(uint64_t)v) snprintf(buf, len, "%.1f %s", v, unit[u]);
    else snprintf(buf, len, "%.0f %s", v, unit[u]);
}

static void fmt_limit(uint64_t b, char *buf, size_t len) {
    if (b == UINT64_MAX) snprintf(buf, len, "unlimited");
    else fmt_bytes(b, buf, len);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_u64(FILE *f, uint64_t v) {
    if (v == UINT64_MAX) fputs("null", f);
    else fprintf(f, "%llu", (unsigned long long)v);
}

static void json_features(FILE *f, uint64_t features) {
    int first = 1;
    fputc('[', f);
    for (int i = 0; i < 64; i++) {
        const char *name = eg_cpu_feature_name(1ull << i);
        if (!name || !(features & (1ull << i))) continue;
        if (!first) fputs(", ", f);
        json_str(f, name);
        first = 0;
    }
    fputc(']', f);
}

/* OpenCL status: loader, platforms, devices and caps, then the decoder-stage decision with its reason
 * (models/stage.c eg_spectral_describe: builds the kernels, self-tests and times a synthetic stage). */
static void print_opencl(FILE *f, int json) {
    char buf[4096];
    eg_spectral_describe(buf, sizeof buf, NULL);
    if (!json) { fputs(buf, f); return; }
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n') buf[--n] = 0;
    const char *last = strrchr(buf, '\n');
    fputs("\"opencl\": {\"status\": ", f);
    json_str(f, last ? last + 1 : buf);
    fputs(", \"text\": ", f);
    json_str(f, buf);
    fputc('}', f);
}

static void print_text(FILE *f, const struct eg_cpu *cpu, const struct eg_mem *mem, const char *table,
                       const char *why, const char *built) {
    char buf[512], a[32], b[32];
    fprintf(f, "edgegen %s (built for %s; kernel tables built: %s)\n", EDGEGEN_VERSION, cpu->arch, built);
    fprintf(f, "CPU:       %s\n", cpu->model[0] ? cpu->model : "(model unknown)");
    fprintf(f, "arch:      %s\n", cpu->arch);
    eg_cpu_features_str(cpu->features, " ", buf, sizeof buf);
    fprintf(f, "features:  %s\n", buf[0] ? buf : "(none)");
    if (cpu->features_advertised & ~cpu->features) {
        eg_cpu_features_str(cpu->features_advertised & ~cpu->features, " ", buf, sizeof buf);
        fprintf(f, "disabled:  %s (advertised by the CPU, register state not enabled by the OS)\n", buf);
    }
    if (!strncmp(cpu->arch, "x86", 3)) fprintf(f, "XCR0:      0x%llx\n", (unsigned long long)cpu->xcr0);
    fprintf(f, "kernels:   %s (%s)\n", table, why);
    fprintf(f, "cores:     %d online", cpu->n_cores_online);
    if (cpu->n_clusters > 0) {
        fprintf(f, ", %d cluster%s:", cpu->n_clusters, cpu->n_clusters > 1 ? "s" : "");
        for (int i = 0; i < cpu->n_clusters; i++)
            fprintf(f, "%s %d x %ld MHz", i ? " +" : "", cpu->cluster_n_cores[i], cpu->cluster_max_khz[i] / 1000);
        fputc('\n', f);
    } else {
        fputs(", clusters unknown (no cpufreq in sysfs)\n", f);
    }
    fputs("caches:   ", f);
    if (!cpu->l1d_bytes && !cpu->l2_bytes && !cpu->l3_bytes) fputs(" unknown", f);
    if (cpu->l1d_bytes) { fmt_bytes((uint64_t)cpu->l1d_bytes, a, sizeof a); fprintf(f, " L1d %s", a); }
    if (cpu->l2_bytes) { fmt_bytes((uint64_t)cpu->l2_bytes, a, sizeof a); fprintf(f, "%s L2 %s", cpu->l1d_bytes ? "," : "", a); }
    if (cpu->l3_bytes) { fmt_bytes((uint64_t)cpu->l3_bytes, a, sizeof a); fprintf(f, "%s L3 %s", cpu->l1d_bytes || cpu->l2_bytes ? "," : "", a); }
    fputc('\n', f);

    fmt_limit(mem->available_bytes, a, sizeof a);
    fprintf(f, "memory:    %s available to this process (bound by %s)\n", a, eg_mem_limit_name(mem->binding));
    fmt_limit(mem->mem_available_bytes, a, sizeof a);
    fprintf(f, "  MemAvailable  %s\n", mem->mem_available_bytes == UINT64_MAX ? "unknown" : a);
    if (mem->cgroup_version) {
        fmt_limit(mem->cgroup_limit_bytes, a, sizeof a);
        fmt_bytes(mem->cgroup_usage_bytes, b, sizeof b);
        fprintf(f, "  cgroup v%d     limit %s, usage %s\n", mem->cgroup_version, a, b);
    } else {
        fputs("  cgroup        no memory controller found\n", f);
    }
    fmt_limit(mem->rlimit_as_bytes, a, sizeof a);
    fmt_bytes(mem->vm_size_bytes, b, sizeof b);
    fprintf(f, "  RLIMIT_AS     %s (VmSize %s)\n", a, b);
    fmt_limit(mem->rlimit_data_bytes, a, sizeof a);
    fmt_bytes(mem->vm_data_bytes, b, sizeof b);
    fprintf(f, "  RLIMIT_DATA   %s (VmData %s)\n", a, b);
    if (mem->address_space_bytes != UINT64_MAX) {
        fmt_bytes(mem->address_space_bytes, a, sizeof a);
        fprintf(f, "  32-bit process: address space capped at %s\n", a);
    }
    print_opencl(f, 0);
}

static void print_json(FILE *f, const struct eg_cpu *cpu, const struct eg_mem *mem, const char *table,
                       const char *why, const struct eg_kernels *const *tables, int n_tables) {
    fprintf(f, "{\n  \"version\": ");
    json_str(f, EDGEGEN_VERSION);
    fprintf(f, ",\n  \"cpu\": {\n    \"model\": ");
    json_str(f, cpu->model);
    fprintf(f, ",\n    \"arch\": ");
    json_str(f, cpu->arch);
    fprintf(f, ",\n    \"features\": ");
    json_features(f, cpu->features);
    fprintf(f, ",\n    \"features_advertised\": ");
    json_features(f, cpu->features_advertised);
    fprintf(f, ",\n    \"xcr0\": \"0x%llx\",\n    \"cores_online\": %d,\n    \"clusters\": [",
            (unsigned long long)cpu->xcr0, cpu->n_cores_online);
    for (int i = 0; i < cpu->n_clusters; i++)
        fprintf(f, "%s{\"cores\": %d, \"max_khz\": %ld}", i ? ", " : "", cpu->cluster_n_cores[i], cpu->cluster_max_khz[i]);
    fprintf(f, "],\n    \"cache_bytes\": {\"l1d\": %ld, \"l2\": %ld, \"l3\": %ld}\n  },\n",
            cpu->l1d_bytes, cpu->l2_bytes, cpu->l3_bytes);
    fprintf(f, "  \"kernels\": {\n    \"table\": ");
    json_str(f, table);
    fprintf(f, ",\n    \"why\": ");
    json_str(f, why);
    fprintf(f, ",\n    \"built\": [");
    for (int i = 0; i < n_tables; i++) { if (i) fputs(", ", f); json_str(f, tables[i]->name); }
    fprintf(f, "]\n  },\n  \"memory\": {\n    \"available_bytes\": ");
    json_u64(f, mem->available_bytes);
    fprintf(f, ",\n    \"binding\": ");
    json_str(f, eg_mem_limit_name(mem->binding));
    fprintf(f, ",\n    \"cgroup_version\": %d", mem->cgroup_version);
    const struct { const char *key; uint64_t v; } fields[] = {
        { "mem_available_bytes", mem->mem_available_bytes }, { "cgroup_limit_bytes", mem->cgroup_limit_bytes },
        { "cgroup_usage_bytes", mem->cgroup_usage_bytes },   { "rlimit_as_bytes", mem->rlimit_as_bytes },
        { "vm_size_bytes", mem->vm_size_bytes },             { "rlimit_data_bytes", mem->rlimit_data_bytes },
        { "vm_data_bytes", mem->vm_data_bytes },             { "address_space_bytes", mem->address_space_bytes },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        fprintf(f, ",\n    \"%s\": ", fields[i].key);
        json_u64(f, fields[i].v);
    }
    fprintf(f, "\n  },\n  ");
    print_opencl(f, 1);
    fprintf(f, "\n}\n");
}

static int info_run(int argc, char **argv) {
    int json = 0;
    enum eg_isa isa = EG_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--dump")) { eg_cpu_dump(stdout); return fflush(stdout) == 0 ? 0 : 1; }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        else if (!strcmp(argv[i], "--isa") || !strncmp(argv[i], "--isa=", 6)) {
            const char *name = argv[i][5] == '=' ? argv[i] + 6 : (i + 1 < argc ? argv[++i] : NULL);
            int v = eg_isa_from_name(name);
            if (v < 0) {
                fprintf(stderr, "edgegen info: --isa %s: unknown kernel table (known: auto, ref, avx2, avx512, neon, neon-dotprod)\n",
                        name ? name : "(missing)");
                return 2;
            }
            isa = (enum eg_isa)v;
        } else {
            fprintf(stderr, "edgegen info: unknown option '%s' (edgegen info --help)\n", argv[i]);
            return 2;
        }
    }

    struct eg_cpu cpu;
    struct eg_mem mem;
    struct eg_kernels k;
    char why[512];
    const struct eg_kernels *tables[8];
    eg_cpu_detect(&cpu);
    eg_mem_detect(&mem);
    if (eg_dispatch_select(&cpu, isa, &k, why, sizeof why) != EG_OK) return 1;   /* already logged */
    int n_tables = eg_dispatch_tables(tables, 8);

    if (json) {
        print_json(stdout, &cpu, &mem, k.name, why, tables, n_tables);
    } else {
        char built[128] = "";
        size_t o = 0;
        for (int i = 0; i < n_tables && o < sizeof built; i++)
            o += (size_t)snprintf(built + o, sizeof built - o, "%s%s", i ? " " : "", tables[i]->name);
        print_text(stdout, &cpu, &mem, k.name, why, built);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

const struct eg_cli_cmd eg_cli_info = {
    .name = "info",
    .summary = "show CPU features, chosen kernel table, cores, caches, memory limits (--json)",
    .run = info_run,
};
