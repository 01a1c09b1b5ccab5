/* tests/test_main.c — runs the registered tests; ends with "N passed, N failed, N skipped".
 * Usage: test_runner [substring]   (only tests whose name contains the substring) */
#include "harness.h"

static struct th_test *g_tests;

void th_register(struct th_test *t) {
    /* append, so tests run in file/definition order */
    struct th_test **pp = &g_tests;
    while (*pp) pp = &(*pp)->next;
    *pp = t;
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int n_pass = 0, n_fail = 0, n_skip = 0;
    for (struct th_test *t = g_tests; t; t = t->next) {
        if (filter && !strstr(t->name, filter)) continue;
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
