/* runtime/serve/serve_none.c — `edgegen serve` in a build without libmicrohttpd / cJSON (cross builds, or the
 * -dev packages missing when it was built): one line saying so. */
#include <stddef.h>
#include <stdio.h>

int eg_serve_main(int argc, char **argv, int (*find_model)(const char *, const char *const *, char *, size_t));

int eg_serve_main(int argc, char **argv, int (*find_model)(const char *, const char *const *, char *, size_t)) {
    (void)argc; (void)argv; (void)find_model;
    fprintf(stderr, "edgegen serve: not in this build (libmicrohttpd-dev and libcjson-dev were missing when it was "
                    "built: install them and rebuild)\n");
    return 1;
}
