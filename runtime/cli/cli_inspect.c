/* runtime/cli/cli_inspect.c — `edgegen inspect MODEL.gguf`: validate a model file and show what is in it.
 *
 * Prints the header, every metadata key (type and value; long arrays abbreviated), the tensor table (name, type,
 * shape innermost first, bytes, file offset), totals per type, and the memory plan (weights + whatever the
 * architecture's estimator registers in runtime/core/memplan.c) against the memory this process may use. Before
 * mapping, a preflight checks the file size alone, so a model that cannot even be mapped is refused with the
 * limit named rather than with a bare mmap/malloc failure. The library logs the one error line itself.
 * Exit status: 0 ok, 1 unreadable/malformed file or the plan does not fit, 2 usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/cli/cli.h"
#include "runtime/core/cpu.h"
#include "runtime/edgegen.h"
#include "runtime/core/gguf.h"
#include "runtime/core/memplan.h"
#include "ports/port.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen inspect [options] MODEL.gguf\n"
            "\n"
            "Validate a GGUF model file and print its header, metadata (key, type, value), tensor table\n"
            "(name, type, shape with the innermost dimension first, bytes, offset in the file), totals, and the\n"
            "memory plan: the mapped weights plus, for architectures with a registered estimator, the context\n"
            "buffers, against the memory this process may use (MemAvailable, cgroup limit, RLIMIT_AS/DATA).\n"
            "\n"
            "options:\n"
            "  --no-mmap          read the file into memory instead of mapping it (as EDGEGEN_NO_MMAP=1)\n"
            "  --max-seconds S    audio length the memory plan is sized for (default 30)\n"
            "  --threads N        threads the memory plan is sized for (default 1)\n"
            "  --no-tensors       omit the tensor table\n"
            "  --all              longer metadata values (up to 4 KiB) and every tensor row\n"
            "                     (default: values cut at 250 characters, the first 200 tensors)\n"
            "  -h, --help         this help\n"
            "\n"
            "environment:\n"
            "  EDGEGEN_NO_MMAP=1  always read model files into memory instead of mapping them\n"
            "\n"
            "exit status: 0 ok, 1 the file is unreadable or malformed, or the memory plan does not fit\n"
            "(one error line on stderr names the file and field, or the limit), 2 usage error\n");
}

static void print_line(const char *text, void *user) { fprintf((FILE *)user, "%s\n", text); }

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

#define INSPECT_MAX_ROWS 200   /* tensor rows printed without --all */

static int run_inspect(int argc, char **argv) {
    const char *path = NULL;
    int no_mmap = 0, show_tensors = 1, show_all = 0;
    struct eg_memplan_params params;
    struct eg_memplan plan;
    struct eg_mem mem;
    struct eg_gguf *g = NULL;
    uint64_t file_bytes;
    char b1[32], b2[32];
    int rc = 1;

    eg_memplan_default_params(&params);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--no-mmap")) no_mmap = 1;
        else if (!strcmp(a, "--no-tensors")) show_tensors = 0;
        else if (!strcmp(a, "--all")) show_all = 1;
        else if (!strcmp(a, "--max-seconds") || !strcmp(a, "--threads")) {
            int is_threads = a[2] == 't';
            if (i + 1 >= argc) { fprintf(stderr, "edgegen inspect: %s needs a value\n", a); return 2; }
            if (!parse_double(argv[++i], is_threads ? 1 : 0, is_threads ? 1024 : 86400, &v) ||
                (is_threads && v != (int)v)) {
                fprintf(stderr, "edgegen inspect: invalid value '%s' for %s (expected %s)\n", argv[i], a,
                        is_threads ? "1..1024" : "0..86400 seconds");
                return 2;
            }
            if (is_threads) params.n_threads = (int)v; else params.max_seconds = v;
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc && !path) path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "edgegen inspect: unknown option '%s' (edgegen inspect --help)\n", a);
            return 2;
        } else if (!path) path = a;
        else { fprintf(stderr, "edgegen inspect: one model file only ('%s' and '%s')\n", path, a); return 2; }
    }
    if (!path) { usage(stderr); return 2; }
    if (no_mmap) setenv("EDGEGEN_NO_MMAP", "1", 1);

    /* preflight: the file alone must fit before we map or read it */
    if (eg_file_size(path, &file_bytes)) return 1;
    eg_memplan_init(&plan);
    eg_memplan_add(&plan, "weights", no_mmap ? EG_MEM_HEAP : EG_MEM_MAPPED, file_bytes);
    eg_mem_detect(&mem);
    if (eg_memplan_check(&plan, &mem, NULL, 0)) return 1;

    uint64_t t0 = eg_time_ns();
    if (eg_gguf_open(path, &g)) return 1;
    uint64_t t1 = eg_time_ns();

    eg_memplan_fmt_bytes(eg_gguf_file_bytes(g), b1, sizeof b1);
    printf("file:        %s\n", path);
    printf("size:        %llu bytes (%s), %s, opened in %.2f ms\n", (unsigned long long)eg_gguf_file_bytes(g), b1,
           eg_gguf_is_mapped(g) ? "mapped" : "read into memory", (double)(t1 - t0) / 1e6);
    printf("format:      GGUF v%u, alignment %u, data section at offset %llu\n", eg_gguf_version(g),
           eg_gguf_alignment(g), (unsigned long long)eg_gguf_data_offset(g));

    /* metadata */
    int n_keys = eg_gguf_n_keys(g);
    printf("\nmetadata (%d keys):\n", n_keys);
    for (int i = 0; i < n_keys; i++) {
        char type[32], val[4096];
        eg_gguf_key_type_str(g, i, type, sizeof type);
        eg_gguf_key_render(g, i, val, show_all ? sizeof val : 256);
        printf("  %-40s %-14s %s\n", eg_gguf_key_name(g, i), type, val);
    }

    /* tensors */
    int n_t = eg_gguf_n_tensors(g);
    uint64_t per_type_bytes[4] = { 0 }, n_params = 0;
    int per_type_n[4] = { 0 };
    static const enum eg_dtype types[4] = { EG_DTYPE_F32, EG_DTYPE_F16, EG_DTYPE_Q8_0, EG_DTYPE_Q4_0 };
    if (show_tensors) {
        printf("\ntensors (%d):\n  %-40s %-5s %-24s %14s %12s\n", n_t, "name", "type", "shape", "bytes", "offset");
    }
    for (int i = 0; i < n_t; i++) {
        const struct eg_gguf_tensor *t = eg_gguf_tensor_at(g, i);
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->ne[d];   /* validated: no overflow */
        n_params += n;
        for (int k = 0; k < 4; k++)
            if (t->type == types[k]) { per_type_bytes[k] += t->n_bytes; per_type_n[k]++; }
        if (!show_tensors || (!show_all && i >= INSPECT_MAX_ROWS)) continue;
        char shape[96];
        int o = snprintf(shape, sizeof shape, "[");
        for (int d = 0; d < t->n_dims && o > 0 && (size_t)o < sizeof shape; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        if (o > 0 && (size_t)o < sizeof shape) snprintf(shape + o, sizeof shape - (size_t)o, "]");
        printf("  %-40s %-5s %-24s %14llu %12llu\n", t->name, eg_dtype_name(t->type), shape,
               (unsigned long long)t->n_bytes, (unsigned long long)t->offset_bytes);
    }
    if (show_tensors && !show_all && n_t > INSPECT_MAX_ROWS)
        printf("  ... %d more (--all shows every tensor)\n", n_t - INSPECT_MAX_ROWS);

    eg_memplan_fmt_bytes(eg_gguf_tensor_bytes(g), b1, sizeof b1);
    printf("\ntotals:      %d tensors, %llu parameters, %llu bytes of tensor data (%s)\n", n_t,
           (unsigned long long)n_params, (unsigned long long)eg_gguf_tensor_bytes(g), b1);
    for (int k = 0; k < 4; k++) {
        if (!per_type_n[k]) continue;
        eg_memplan_fmt_bytes(per_type_bytes[k], b2, sizeof b2);
        printf("  %-5s %5d tensors %12s\n", eg_dtype_name(types[k]), per_type_n[k], b2);
    }

    /* memory plan: the whole model + context, measured after mapping */
    int has_arch = 0;
    const char *arch = "(none)";
    if (eg_gguf_has_key(g, "general.architecture") && eg_gguf_get_str(g, "general.architecture", &arch)) goto out;
    if (eg_memplan_for_model(g, &params, &plan, &has_arch)) goto out;
    printf("\n");
    eg_mem_detect(&mem);
    eg_memplan_render(&plan, &mem, print_line, stdout);
    if (!has_arch)
        printf("  (no estimator registered for architecture '%s': weights only)\n", arch);
    else
        printf("  (sized for %.1f s of audio, %d thread%s)\n", params.max_seconds, params.n_threads,
               params.n_threads == 1 ? "" : "s");
    eg_memplan_fmt_bytes(eg_peak_rss_bytes(), b2, sizeof b2);
    printf("  %-24s %12s  (this process so far)\n", "measured peak RSS", b2);
    fflush(stdout);
    if (eg_memplan_check(&plan, &mem, NULL, 0)) goto out;
    rc = 0;
out:
    eg_gguf_close(g);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "edgegen: error: writing to standard output failed\n");
        rc = 1;
    }
    return rc;
}

const struct eg_cli_cmd eg_cli_inspect = {
    .name = "inspect",
    .summary = "validate a GGUF model file; show metadata, tensors and the memory plan",
    .run = run_inspect,
};
