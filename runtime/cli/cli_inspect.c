/* runtime/cli/cli_inspect.c — `edgegen inspect MODEL.gguf`: validate a model file and show what is in it.
 *
 * Prints the header, every metadata key (type and value; long arrays abbreviated), the tensor table (name, type,
 * shape innermost first, bytes, file offset), totals per type, and the memory plan (weights + whatever the
 * architecture's estimator registers in runtime/pipeline/memplan_archs.c) against the memory this process may use. Before
 * mapping, a preflight checks the file size alone, so a model that cannot even be mapped is refused with the
 * limit named rather than with a bare mmap/malloc failure. The library logs the one error line itself.
 * The report is the library's (edgegen.h eg_report_model).
 * Exit status: 0 ok, 1 unreadable/malformed file or the plan does not fit, 2 usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"

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

static void print(void *user, const char *text) { fputs(text, (FILE *)user); }

static int run_inspect(int argc, char **argv) {
    const char *path = NULL;
    struct eg_inspect_params p = eg_inspect_default_params();

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--no-mmap")) setenv("EDGEGEN_NO_MMAP", "1", 1);
        else if (!strcmp(a, "--no-tensors")) p.tensors = 0;
        else if (!strcmp(a, "--all")) p.all = 1;
        else if (!strcmp(a, "--max-seconds") || !strcmp(a, "--threads")) {
            int is_threads = a[2] == 't';
            if (i + 1 >= argc) { fprintf(stderr, "edgegen inspect: %s needs a value\n", a); return 2; }
            if (!eg_cli_parse_double(argv[++i], is_threads ? 1 : 0, is_threads ? 1024 : 86400, 0, &v) ||
                (is_threads && v != (int)v)) {
                fprintf(stderr, "edgegen inspect: invalid value '%s' for %s (expected %s)\n", argv[i], a,
                        is_threads ? "1..1024" : "0..86400 seconds");
                return 2;
            }
            if (is_threads) p.n_threads = (int)v; else p.max_seconds = v;
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc && !path) path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "edgegen inspect: unknown option '%s' (edgegen inspect --help)\n", a);
            return 2;
        } else if (!path) path = a;
        else { fprintf(stderr, "edgegen inspect: one model file only ('%s' and '%s')\n", path, a); return 2; }
    }
    if (!path) { usage(stderr); return 2; }
    int rc = eg_report_model(path, &p, print, stdout) == EG_OK ? 0 : 1;
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
