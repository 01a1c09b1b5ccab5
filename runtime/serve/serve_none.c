/* runtime/serve/serve_none.c — `edgegen serve` in a build without libmicrohttpd / cJSON (cross builds, or the
 * -dev packages missing when it was built): one line saying so. */
#include <stdio.h>
#include "runtime/cli.h"

static int run(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "edgegen serve: not in this build (libmicrohttpd-dev and libcjson-dev were missing when it was "
                    "built: install them and rebuild)\n");
    return 1;
}

const struct eg_cli_cmd eg_cli_serve = {
    .name = "serve",
    .summary = "speech server: OpenAI-compatible HTTP and Wyoming (not in this build)",
    .run = run,
};
