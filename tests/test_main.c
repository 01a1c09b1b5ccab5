/* tests/test_main.c — runs the registered tests; ends with "N passed, N failed, N skipped".
 * Usage: test_runner [--list] [substring]... [-x substring]...
 *   substring     only tests whose name contains one of them
 *   -x substring  leave out tests whose name contains it (e.g. -x device under LeakSanitizer: PoCL leaks)
 *   --list        print the names that would run, one per line, and run nothing (tests/run.sh counts a suite
 *                 that cannot run on this machine as that many skipped tests) */
#include "tests/harness.h"

static struct th_test *g_tests;

void th_register(struct th_test *t) {
    /* append, so tests run in file/definition order */
    struct th_test **pp = &g_tests;
    while (*pp) pp = &(*pp)->next;
    *pp = t;
}

int main(int argc, char **argv) {
    const char *filter[32], *exclude[16];
    int n_filter = 0, n_exclude = 0, list = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-x") && i + 1 < argc && n_exclude < 16) exclude[n_exclude++] = argv[++i];
        else if (!strcmp(argv[i], "--list")) list = 1;
        else if (n_filter < 32) filter[n_filter++] = argv[i];
        else { fprintf(stderr, "test_runner: more than 32 filters\n"); return 2; }
    }
    int n_pass = 0, n_fail = 0, n_skip = 0;
    for (struct th_test *t = g_tests; t; t = t->next) {
        int selected = n_filter == 0, excluded = 0;
        for (int i = 0; i < n_filter; i++) selected |= strstr(t->name, filter[i]) != NULL;
        for (int i = 0; i < n_exclude; i++) excluded |= strstr(t->name, exclude[i]) != NULL;
        if (!selected || excluded) continue;
        if (list) { printf("%s\n", t->name); continue; }
        struct th_state st = {0};
        t->fn(&st);
        if (st.failed) { n_fail++; printf("FAIL %s (%d checks)\n", t->name, st.failed); }
        else if (st.skipped) { n_skip++; printf("SKIP %s: %s\n", t->name, st.skip_reason); }
        else { n_pass++; printf("ok   %s\n", t->name); }
        fflush(stdout);
    }
    if (list) return 0;
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}
