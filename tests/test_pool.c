/* tests/test_pool.c — the persistent thread pool: every task exactly once, bit-identical results for 1..4
 * threads (work split into fixed blocks), many rapid runs without deadlock, destroy while idle. A watchdog
 * alarm turns a deadlock into a failed suite instead of a hung `make test`. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include "tests/harness.h"
#include "runtime/core/pool.h"
#include "runtime/core/internal.h"

static void quiet(enum eg_log_level level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

struct count_job {
    atomic_int *hits;      /* [n_tasks] */
    int n_threads;
    atomic_int bad_thread;
};
static void count_task(void *arg, int task, int thread) {
    struct count_job *j = arg;
    atomic_fetch_add(&j->hits[task], 1);
    if (thread < 0 || thread >= j->n_threads) atomic_fetch_add(&j->bad_thread, 1);
}

/* a float reduction per fixed-size block: the result depends only on the block, never on the thread */
#define N_ELEMS 100003
#define BLOCK 1024
struct sum_job { const float *x; float *out; int n; };
static void sum_task(void *arg, int task, int thread) {
    struct sum_job *j = arg;
    (void)thread;
    int lo = task * BLOCK, hi = lo + BLOCK < j->n ? lo + BLOCK : j->n;
    float s = 0.0f;
    for (int i = lo; i < hi; i++) s += j->x[i] * j->x[i] + 0.5f * j->x[i];
    j->out[task] = s;
}

TEST(pool_create_args) {
    struct eg_pool *p = (struct eg_pool *)1;
    eg_log_set(quiet, NULL);
    CHECK(eg_pool_create(0, &p) == EG_ERR_INVALID_ARG && p == NULL, "0 threads refused");
    CHECK(eg_pool_create(-3, &p) == EG_ERR_INVALID_ARG, "negative refused");
    CHECK(eg_pool_create(100000, &p) == EG_ERR_INVALID_ARG, "absurd count refused");
    eg_log_set(NULL, NULL);
    CHECK(eg_pool_n_threads(NULL) == 1, "NULL pool counts as one thread");
    eg_pool_destroy(NULL);
}

TEST(pool_every_task_once) {
    static atomic_int hits[1000];
    for (int nt = 1; nt <= 4; nt++) {
        struct eg_pool *p;
        REQUIRE(eg_pool_create(nt, &p) == EG_OK, "create %d", nt);
        CHECK(eg_pool_n_threads(p) == nt, "n_threads");
        static const int sizes[] = { 0, 1, 2, 3, 4, 5, 7, 64, 1000 };
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int n = sizes[s];
            for (int i = 0; i < 1000; i++) atomic_store(&hits[i], 0);
            struct count_job j = { hits, nt, 0 };
            eg_pool_run(p, n, count_task, &j);
            int wrong = 0;
            for (int i = 0; i < 1000; i++) wrong += atomic_load(&hits[i]) != (i < n ? 1 : 0);
            CHECK(wrong == 0, "%d threads, %d tasks: %d tasks not run exactly once", nt, n, wrong);
            CHECK(atomic_load(&j.bad_thread) == 0, "thread index out of range");
        }
        eg_pool_destroy(p);
    }
    /* NULL pool runs on the caller */
    for (int i = 0; i < 10; i++) atomic_store(&hits[i], 0);
    struct count_job j = { hits, 1, 0 };
    eg_pool_run(NULL, 10, count_task, &j);
    int ok = 1;
    for (int i = 0; i < 10; i++) ok &= atomic_load(&hits[i]) == 1;
    CHECK(ok, "NULL pool ran every task");
}

TEST(pool_identical_results_1_to_4_threads) {
    static float x[N_ELEMS], ref[(N_ELEMS + BLOCK - 1) / BLOCK], got[(N_ELEMS + BLOCK - 1) / BLOCK];
    const int n_tasks = (N_ELEMS + BLOCK - 1) / BLOCK;
    uint64_t seed = 42;
    for (int i = 0; i < N_ELEMS; i++) x[i] = th_rand_uniform(&seed, -3.0f, 3.0f);
    struct sum_job jr = { x, ref, N_ELEMS };
    eg_pool_run(NULL, n_tasks, sum_task, &jr);
    for (int nt = 1; nt <= 4; nt++) {
        struct eg_pool *p;
        REQUIRE(eg_pool_create(nt, &p) == EG_OK, "create %d", nt);
        for (int rep = 0; rep < 5; rep++) {
            memset(got, 0xff, sizeof got);
            struct sum_job j = { x, got, N_ELEMS };
            eg_pool_run(p, n_tasks, sum_task, &j);
            CHECK(!memcmp(ref, got, sizeof ref), "%d threads, rep %d: results differ from 1 thread", nt, rep);
        }
        eg_pool_destroy(p);
    }
}

static void add_task(void *arg, int task, int thread) {
    (void)task; (void)thread;
    atomic_fetch_add((atomic_long *)arg, 1);
}

TEST(pool_rapid_runs_no_deadlock) {
    alarm(60);   /* watchdog: a deadlock kills the runner, which run.sh counts as a failure */
    for (int nt = 2; nt <= 4; nt++) {
        struct eg_pool *p;
        atomic_long total = 0;
        REQUIRE(eg_pool_create(nt, &p) == EG_OK, "create %d", nt);
        long expect = 0;
        for (int r = 0; r < 10000; r++) {
            int n = 1 + r % 7;
            eg_pool_run(p, n, add_task, &total);
            expect += n;
        }
        CHECK(atomic_load(&total) == expect, "%d threads: %ld tasks run, expected %ld", nt, (long)atomic_load(&total), expect);
        eg_pool_destroy(p);
    }
    alarm(0);
}

TEST(pool_destroy_while_idle) {
    alarm(30);
    for (int i = 0; i < 50; i++) {        /* create + destroy with no run: workers are asleep or spinning */
        struct eg_pool *p;
        REQUIRE(eg_pool_create(1 + i % 4, &p) == EG_OK, "create");
        eg_pool_destroy(p);
    }
    for (int i = 0; i < 50; i++) {        /* destroy right after a run */
        struct eg_pool *p;
        atomic_long total = 0;
        REQUIRE(eg_pool_create(4, &p) == EG_OK, "create");
        eg_pool_run(p, 8, add_task, &total);
        CHECK(atomic_load(&total) == 8, "ran");
        eg_pool_destroy(p);
    }
    alarm(0);
}
