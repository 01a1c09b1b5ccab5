/* runtime/cli/cli_info.c — `edgegen info [--json] [--isa NAME]`: what this machine and build can do.
 *
 * Prints the CPU (model, arch, features the CPU and OS allow, XCR0), the kernel table dispatch would choose and
 * why, cores and clusters, caches, the memory this process may use and which limit binds, and OpenCL status.
 * Exit 0 on success, 1 when the kernel choice fails (EDGEGEN_ISA / --isa names a table this machine cannot run;
 * the library has already logged one line saying why), 2 on a usage error. The report is the library's
 * (edgegen.h eg_report_system).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/cli/cli.h"
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

static void print(void *user, const char *text) { fputs(text, (FILE *)user); }

static int info_run(int argc, char **argv) {
    int json = 0;
    enum eg_isa isa = EG_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--dump")) {
            if (eg_report_cpu_dump(print, stdout) != EG_OK) return 1;
            return fflush(stdout) == 0 ? 0 : 1;
        }
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

    if (eg_report_system(isa, json, print, stdout) != EG_OK) return 1;   /* already logged */
    return fflush(stdout) == 0 ? 0 : 1;
}

const struct eg_cli_cmd eg_cli_info = {
    .name = "info",
    .summary = "show CPU features, chosen kernel table, cores, caches, memory limits (--json)",
    .run = info_run,
};
