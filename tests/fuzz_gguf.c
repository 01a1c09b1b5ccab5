/* tests/fuzz_gguf.c — libFuzzer target for the GGUF reader (runtime/core/gguf.c): parse a buffer, and on success drive
 * the whole read API (keys, rendering, typed getters, tensor lookup and bind, every data byte) through
 * tests/gguf_exercise.h, which traps when a promised invariant breaks. No patches needed: the reader never
 * aborts, leaks nothing on error paths and allocates O(input size).
 *
 *   make fuzz FUZZ_SECONDS=60        (clang -fsanitize=fuzzer,address,undefined; corpus tests/fuzz/corpus)
 * Crashes land in build-fuzz/crashes/; minimise them and keep them in tests/fuzz/regressions/, which
 * tests/test_gguf.c replays on every test run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/edgegen.h"
#include "runtime/core/gguf.h"
#include "tests/gguf_exercise.h"

static void quiet(enum eg_log_level level, const char *msg, void *user) {
    (void)level;
    /* touch the message so a formatting bug shows up under ASan */
    *(volatile size_t *)user += strlen(msg);
}

static size_t g_log_bytes;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct eg_gguf *g = NULL;
    void *buf = NULL;
    eg_log_set(quiet, &g_log_bytes);
    /* an exact-size, 64-byte-aligned copy: the reader's alignment contract, and ASan sees any over-read */
    if (posix_memalign(&buf, 64, size ? size : 1) != 0) return 0;
    if (size) memcpy(buf, data, size);
    if (eg_gguf_parse(buf, size, "fuzz", &g) == EG_OK) {
        volatile uint64_t sum = gguf_exercise(g, buf, size);
        (void)sum;
        eg_gguf_close(g);
    } else if (g) {
        __builtin_trap();   /* *out must stay NULL on error */
    }
    free(buf);
    return 0;
}
