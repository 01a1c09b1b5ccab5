/* tests/test_main.c — runs the registered tests; ends with "N passed, N failed, N skipped".
 * Usage: test_runner [substring] [-x substring]...
 *   substring     only tests whose name contains it
 *   -x substring  leave out tests whose name contains it (e.g. -x device under LeakSanitizer: PoCL leaks) */
#include "tests/harness.h"

static struct th_test *g_tests;

void th_register(struct th_test *t) {
    /* append, so tests run in file/definition order */
    struct th_test **pp = &g_tests;
    while (*pp) pp = &(*pp)->next;
    *pp = t;
}

int main(int argc, char **argv) {
    const char *filter = NULL;
    const char *exclude[16];
    int n_exclude = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-x") && i + 1 < argc && n_exclude < 16) exclude[n_exclude++] = argv[++i];
        else filter = argv[i];
    }
    int n_pass = 0, n_fail = 0, n_skip = 0;
    for (struct th_test *t = g_tests; t; t = t->next) {
        if (filter && !strstr(t->name, filter)) continue;
        int excluded = 0;
        for (int i = 0; i < n_exclude; i++) excluded |= strstr(t->name, exclude[i]) != NULL;
        if (excluded) continue;
        struct th_state st = {0};
        t->fn(&st);
        if (st.failed) { n_fail++; printf("FAIL %s (%d checks)\n", t->name, st.failed); }
        else if (st.skipped) { n_skip++; printf("SKIP %s: %s\n", t->name, st.skip_reason); }
        else { n_pass++; printf("ok   %s\n", t->name); }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}
