/* runtime/cli/cli.c — `edgegen` entry point: finds the subcommand and runs it. Subcommands live in cli_<name>.c. */
#include <stdio.h>
#include <string.h>
#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"

extern const struct eg_cli_cmd eg_cli_info;
extern const struct eg_cli_cmd eg_cli_inspect;
extern const struct eg_cli_cmd eg_cli_decode;
extern const struct eg_cli_cmd eg_cli_tts;

/* Subcommand registry: add a line here and a cli_<name>.c file. */
static const struct eg_cli_cmd *const commands[] = {
    &eg_cli_info,
    &eg_cli_inspect,
    &eg_cli_decode,
    &eg_cli_tts,
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

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("edgegen %s\n", EDGEGEN_VERSION); return 0; }
    for (int i = 0; commands[i]; i++)
        if (!strcmp(argv[1], commands[i]->name)) return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "edgegen: unknown command '%s' (edgegen --help lists them)\n", argv[1]);
    return 2;
}
