/* runtime/pipeline/report.c — the reports behind `edgegen info` and `edgegen inspect` (edgegen.h:
 * eg_report_system, eg_report_cpu_dump, eg_report_model), made here with the internals they describe (CPU
 * detection, dispatch, memory limits, the OpenCL stage, the GGUF reader, the memory plan) so that the commands
 * stay on the public API. Text is rendered into memory (open_memstream) and handed to the caller's function;
 * nothing here writes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/stage.h"
#include "ports/port.h"
#include "runtime/core/cpu.h"
#include "runtime/core/gguf.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"
#include "runtime/pipeline/memplan_archs.h"
#include "runtime/edgegen.h"
#include "simd/dispatch.h"

struct text { FILE *f; char *buf; size_t len; };

static int text_open(struct text *t) {
    t->buf = NULL;
    t->len = 0;
    t->f = open_memstream(&t->buf, &t->len);
    return t->f != NULL;
}

/* Close the stream and give its text to out; EG_ERR_NOMEM when the stream could not hold it. */
static enum eg_status text_close(struct text *t, eg_text_fn out, void *user) {
    const int ok = !ferror(t->f) & (fclose(t->f) == 0);
    if (ok && out && t->buf && t->len) out(user, t->buf);
    free(t->buf);
    return ok ? EG_OK : EG_ERR_NOMEM;
}

/* ==== eg_report_system (`edgegen info`) ===================================================================== */

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

enum eg_status eg_report_system(enum eg_isa isa, int json, eg_text_fn out, void *user) {
    struct eg_cpu cpu;
    struct eg_mem mem;
    struct eg_kernels k;
    struct text tx;
    char why[512];
    const struct eg_kernels *tables[8];
    enum eg_status st;
    eg_cpu_detect(&cpu);
    eg_mem_detect(&mem);
    if ((st = eg_dispatch_select(&cpu, isa, &k, why, sizeof why)) != EG_OK) return st;   /* already logged */
    int n_tables = eg_dispatch_tables(tables, 8);
    if (!text_open(&tx)) return EG_ERR_NOMEM;
    if (json) {
        print_json(tx.f, &cpu, &mem, k.name, why, tables, n_tables);
    } else {
        char built[128] = "";
        size_t o = 0;
        for (int i = 0; i < n_tables && o < sizeof built; i++)
            o += (size_t)snprintf(built + o, sizeof built - o, "%s%s", i ? " " : "", tables[i]->name);
        print_text(tx.f, &cpu, &mem, k.name, why, built);
    }
    return text_close(&tx, out, user);
}

enum eg_status eg_report_cpu_dump(eg_text_fn out, void *user) {
    struct text tx;
    if (!text_open(&tx)) return EG_ERR_NOMEM;
    eg_cpu_dump(tx.f);
    return text_close(&tx, out, user);
}

/* ==== eg_report_model (`edgegen inspect`) =================================================================== */

struct eg_inspect_params eg_inspect_default_params(void) {
    struct eg_memplan_params mp;
    eg_memplan_default_params(&mp);
    struct eg_inspect_params p = { .tensors = 1, .all = 0, .n_threads = mp.n_threads, .max_seconds = mp.max_seconds };
    return p;
}

static void print_line(const char *text, void *user) { fprintf((FILE *)user, "%s\n", text); }

#define INSPECT_MAX_ROWS 200   /* tensor rows reported without p->all */

enum eg_status eg_report_model(const char *path, const struct eg_inspect_params *pp, eg_text_fn out, void *user) {
    const struct eg_inspect_params dflt = eg_inspect_default_params(), *p = pp ? pp : &dflt;
    const char *no_mmap_env = getenv("EDGEGEN_NO_MMAP");
    const int no_mmap = no_mmap_env && no_mmap_env[0] && strcmp(no_mmap_env, "0") != 0;   /* as ports/posix.c */
    struct eg_memplan_params params;
    struct eg_memplan plan;
    struct eg_mem mem;
    struct eg_gguf *g = NULL;
    struct text tx;
    uint64_t file_bytes;
    char b1[32], b2[32];
    enum eg_status st;

    if (!path || p->n_threads < 1 || p->n_threads > 1024 || !(p->max_seconds >= 0 && p->max_seconds <= 86400))
        return EG_ERR_INVALID_ARG;
    eg_memplan_default_params(&params);
    params.n_threads = p->n_threads;
    params.max_seconds = p->max_seconds;

    /* preflight: the file alone must fit before we map or read it */
    if ((st = eg_file_size(path, &file_bytes)) != EG_OK) return st;
    eg_memplan_init(&plan);
    eg_memplan_add(&plan, "weights", no_mmap ? EG_MEM_HEAP : EG_MEM_MAPPED, file_bytes);
    eg_mem_detect(&mem);
    if ((st = eg_memplan_check(&plan, &mem, NULL, 0)) != EG_OK) return st;

    uint64_t t0 = eg_time_ns();
    if ((st = eg_gguf_open(path, &g)) != EG_OK) return st;
    uint64_t t1 = eg_time_ns();
    if (!text_open(&tx)) { eg_gguf_close(g); return EG_ERR_NOMEM; }

    eg_memplan_fmt_bytes(eg_gguf_file_bytes(g), b1, sizeof b1);
    fprintf(tx.f, "file:        %s\n", path);
    fprintf(tx.f, "size:        %llu bytes (%s), %s, opened in %.2f ms\n", (unsigned long long)eg_gguf_file_bytes(g), b1,
           eg_gguf_is_mapped(g) ? "mapped" : "read into memory", (double)(t1 - t0) / 1e6);
    fprintf(tx.f, "format:      GGUF v%u, alignment %u, data section at offset %llu\n", eg_gguf_version(g),
           eg_gguf_alignment(g), (unsigned long long)eg_gguf_data_offset(g));

    /* metadata */
    int n_keys = eg_gguf_n_keys(g);
    fprintf(tx.f, "\nmetadata (%d keys):\n", n_keys);
    for (int i = 0; i < n_keys; i++) {
        char type[32], val[4096];
        eg_gguf_key_type_str(g, i, type, sizeof type);
        eg_gguf_key_render(g, i, val, p->all ? sizeof val : 256);
        fprintf(tx.f, "  %-40s %-14s %s\n", eg_gguf_key_name(g, i), type, val);
    }

    /* tensors */
    int n_t = eg_gguf_n_tensors(g);
    uint64_t per_type_bytes[4] = { 0 }, n_params = 0;
    int per_type_n[4] = { 0 };
    static const enum eg_dtype types[4] = { EG_DTYPE_F32, EG_DTYPE_F16, EG_DTYPE_Q8_0, EG_DTYPE_Q4_0 };
    if (p->tensors) {
        fprintf(tx.f, "\ntensors (%d):\n  %-40s %-5s %-24s %14s %12s\n", n_t, "name", "type", "shape", "bytes", "offset");
    }
    for (int i = 0; i < n_t; i++) {
        const struct eg_gguf_tensor *t = eg_gguf_tensor_at(g, i);
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->ne[d];   /* validated: no overflow */
        n_params += n;
        for (int k = 0; k < 4; k++)
            if (t->type == types[k]) { per_type_bytes[k] += t->n_bytes; per_type_n[k]++; }
        if (!p->tensors || (!p->all && i >= INSPECT_MAX_ROWS)) continue;
        char shape[96];
        int o = snprintf(shape, sizeof shape, "[");
        for (int d = 0; d < t->n_dims && o > 0 && (size_t)o < sizeof shape; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        if (o > 0 && (size_t)o < sizeof shape) snprintf(shape + o, sizeof shape - (size_t)o, "]");
        fprintf(tx.f, "  %-40s %-5s %-24s %14llu %12llu\n", t->name, eg_dtype_name(t->type), shape,
               (unsigned long long)t->n_bytes, (unsigned long long)t->offset_bytes);
    }
    if (p->tensors && !p->all && n_t > INSPECT_MAX_ROWS)
        fprintf(tx.f, "  ... %d more (--all shows every tensor)\n", n_t - INSPECT_MAX_ROWS);

    eg_memplan_fmt_bytes(eg_gguf_tensor_bytes(g), b1, sizeof b1);
    fprintf(tx.f, "\ntotals:      %d tensors, %llu parameters, %llu bytes of tensor data (%s)\n", n_t,
           (unsigned long long)n_params, (unsigned long long)eg_gguf_tensor_bytes(g), b1);
    for (int k = 0; k < 4; k++) {
        if (!per_type_n[k]) continue;
        eg_memplan_fmt_bytes(per_type_bytes[k], b2, sizeof b2);
        fprintf(tx.f, "  %-5s %5d tensors %12s\n", eg_dtype_name(types[k]), per_type_n[k], b2);
    }

    /* memory plan: the whole model + context, measured after mapping */
    int has_arch = 0;
    const char *arch = "(none)";
    if (eg_gguf_has_key(g, "general.architecture") &&
        (st = eg_gguf_get_str(g, "general.architecture", &arch)) != EG_OK) goto out;
    if ((st = eg_memplan_for_model(g, &params, &plan, &has_arch)) != EG_OK) goto out;
    fprintf(tx.f, "\n");
    eg_mem_detect(&mem);
    eg_memplan_render(&plan, &mem, print_line, tx.f);
    if (!has_arch)
        fprintf(tx.f, "  (no estimator registered for architecture '%s': weights only)\n", arch);
    else
        fprintf(tx.f, "  (sized for %.1f s of audio, %d thread%s)\n", params.max_seconds, params.n_threads,
               params.n_threads == 1 ? "" : "s");
    eg_memplan_fmt_bytes(eg_peak_rss_bytes(), b2, sizeof b2);
    fprintf(tx.f, "  %-24s %12s  (this process so far)\n", "measured peak RSS", b2);
    st = eg_memplan_check(&plan, &mem, NULL, 0);
out:
    eg_gguf_close(g);
    {   /* what was reported before a failure is delivered too (the plan that does not fit, above all) */
        const enum eg_status st_text = text_close(&tx, out, user);
        return st != EG_OK ? st : st_text;
    }
}


/* ==== small public helpers for tools ========================================================================= */

int eg_default_threads(void) {
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    return cpu.n_cores_online < 1 ? 1 : cpu.n_cores_online > 4 ? 4 : cpu.n_cores_online;
}
