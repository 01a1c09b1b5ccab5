/* runtime/cli/cli.h — the edgegen CLI's subcommands, one file each (runtime/cli_<name>.c).
 * Each returns the process exit status: 0 ok, 1 runtime failure, 2 usage error. */
#ifndef EG_CLI_H
#define EG_CLI_H

struct eg_cli_cmd {
    const char *name;
    const char *summary;                 /* one line for `edgegen --help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
};

/* Find a default model file: for each directory in order — $EDGEGEN_MODEL_DIR, <binary's dir>/../models, the
 * install data dir (EG_DATADIR/models) — try every name in `names` (NULL-terminated, preferred first) as
 * dir/name and dir/sub/name (sub may be NULL). Writes the path to out and returns 1, or 0 when none exists.
 * (runtime/cli/cli_decode.c) */
#include <stddef.h>
int eg_cli_default_model(const char *sub, const char *const *names, char *out, size_t len);

#endif
