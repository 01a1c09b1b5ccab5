/* runtime/cli.h — the edgegen CLI's subcommands, one file each (runtime/cli_<name>.c).
 * Each returns the process exit status: 0 ok, 1 runtime failure, 2 usage error. */
#ifndef EG_CLI_H
#define EG_CLI_H

struct eg_cli_cmd {
    const char *name;
    const char *summary;                 /* one line for `edgegen --help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
};

#endif
