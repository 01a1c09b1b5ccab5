/* runtime/cli/cli.c — `edgegen` entry point: finds the subcommand and runs it (subcommands live in cli_<name>.c),
 * and the helpers they share (cli.h): option parsing, error lines, the default model search. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"

extern const struct eg_cli_cmd eg_cli_info;
extern const struct eg_cli_cmd eg_cli_inspect;
extern const struct eg_cli_cmd eg_cli_decode;
extern const struct eg_cli_cmd eg_cli_tts;
extern const struct eg_cli_cmd eg_cli_phonemize;

/* `edgegen serve` (runtime/serve/, beside the CLI in layer 5, not below it): its entry point is declared here rather
 * than included, and gets the CLI's default-model search as an argument. */
int eg_serve_main(int argc, char **argv, int (*find_model)(const char *, const char *const *, char *, size_t));
static int run_serve(int argc, char **argv) { return eg_serve_main(argc, argv, eg_cli_default_model); }
static const struct eg_cli_cmd eg_cli_serve = {
    .name = "serve",
    .summary = "speech server: OpenAI-compatible HTTP and Wyoming (Home Assistant), streamed",
    .run = run_serve,
};

/* Subcommand registry: add a line here and a cli_<name>.c file. */
static const struct eg_cli_cmd *const commands[] = {
    &eg_cli_info,
    &eg_cli_inspect,
    &eg_cli_decode,
    &eg_cli_tts,
    &eg_cli_serve,
    &eg_cli_phonemize,
    NULL
};

static void usage(FILE *f) {
    fprintf(f, "edgegen %s — offline generative speech for small devices\n\n"
               "usage: edgegen <command> [options]   (edgegen <command> --help for details)\n\ncommands:\n",
            EDGEGEN_VERSION);
    for (int i = 0; commands[i]; i++) fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nenvironment:\n"
               "  EDGEGEN_ISA=ref|avx2|avx512|neon|neon-dotprod   force a kernel table (fails if the CPU cannot run it)\n"
               "  EDGEGEN_MODEL_DIR=DIR       searched first for the default models\n"
               "  EDGEGEN_NO_MMAP=1           read model files into memory instead of mapping them\n"
               "  EDGEGEN_BACKEND=auto|cpu|opencl   decoder placement when --device is not given\n"
               "  EDGEGEN_CL_DEVICE=P:D       OpenCL platform:device index (default: first GPU, else device 0)\n"
               "  EDGEGEN_CL_MIN_RATIO=R      auto uses the device only when it is R times as fast as the CPU (1)\n"
               "  EDGEGEN_CL_CACHE=off        no OpenCL program / placement cache (~/.cache/edgegen)\n"
               "  EDGEGEN_OPENCL_LIB=PATH     the OpenCL ICD loader to open (default libOpenCL.so.1)\n"
               "  EDGEGEN_POOL_SPIN_US=N      worker spin before sleeping, microseconds (100; 0 = always sleep)\n"
               "  EDGEGEN_PAR_MIN_BYTES=N     matrix-vector work below N weight bytes stays on one thread (131072)\n");
}

/* ---- helpers shared by the subcommands (cli.h) --------------------------------------------------------------- */

void eg_cli_error(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "edgegen: error: %s\n", buf);
}

int eg_cli_parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

int eg_cli_parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (!*s || *s == '-' || *s == '+' || *s == ' ') return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return 0;
    *out = (uint64_t)v;
    return 1;
}

int eg_cli_parse_double(const char *s, double lo, double hi, int lo_open, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi) || (lo_open && v == lo)) return 0;   /* NaN fails the range */
    *out = v;
    return 1;
}

uint64_t eg_cli_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int file_exists(const char *path) {   /* quietly: a miss is normal during the search */
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Try dir/name and dir/<sub>/name. */
static int try_dir(const char *dir, const char *sub, const char *name, char *out, size_t len) {
    if (!dir || !*dir) return 0;
    snprintf(out, len, "%s/%s", dir, name);
    if (file_exists(out)) return 1;
    if (sub) {
        snprintf(out, len, "%s/%s/%s", dir, sub, name);
        if (file_exists(out)) return 1;
    }
    return 0;
}

int eg_cli_default_model(const char *sub, const char *const *names, char *out, size_t len) {
    char exe_dir[PATH_MAX], dir[PATH_MAX + 16];
    const char *env = getenv("EDGEGEN_MODEL_DIR");
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n > 0) {
        exe_dir[n] = 0;
        char *slash = strrchr(exe_dir, '/');
        if (slash) *slash = 0;
    } else {
        exe_dir[0] = 0;
    }
    /* every name in the first directory that has one, before the next directory */
    for (int d = 0; d < 3; d++) {
        if (d == 0 && !(env && *env)) continue;
        if (d == 1 && !exe_dir[0]) continue;
        if (d == 0) snprintf(dir, sizeof dir, "%s", env);
        else if (d == 1) snprintf(dir, sizeof dir, "%s/../models", exe_dir);
        else snprintf(dir, sizeof dir, "%s/models", EG_DATADIR);
        for (int i = 0; names[i]; i++)
            if (try_dir(dir, sub, names[i], out, len)) return 1;
    }
    return 0;
}

const char *eg_cli_model_dirs(void) { return "$EDGEGEN_MODEL_DIR, <binary>/../models, " EG_DATADIR "/models"; }

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("edgegen %s\n", EDGEGEN_VERSION); return 0; }
    for (int i = 0; commands[i]; i++)
        if (!strcmp(argv[1], commands[i]->name)) return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "edgegen: unknown command '%s' (edgegen --help lists them)\n", argv[1]);
    return 2;
}
