/* runtime/core/pool.c — persistent thread pool (runtime/core/pool.h).
 *
 * n_threads - 1 workers are created once; the calling thread is thread 0 and works too. A run publishes
 * (fn, arg, n_tasks), bumps a generation counter and wakes the workers; every thread claims task indices from
 * one atomic counter until none are left, then the last worker to finish wakes the caller. Runs come in quick
 * bursts (several per layer per token), so a worker spins on the generation for up to EG_POOL_SPIN_US
 * microseconds after its last run before sleeping on the condition variable: waking a sleeping thread costs
 * ~50 us on the KVM dev VM (an IPI to a halted vCPU), which made the 2-thread AR step slower than 1 thread
 * (f32: 1250 vs 900 us per token); with the spin it is 556 us. The spin is off when there are more threads than
 * online CPUs (spinning would steal the core the work needs) and can be set with EDGEGEN_POOL_SPIN_US
 * (0 = always sleep, e.g. for battery-powered use). Nothing is allocated per run. Which thread ran a task
 * varies from run to run; results do not, because callers split work into fixed-size blocks (see pool.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "runtime/core/pool.h"
#include "runtime/core/internal.h"

#define EG_POOL_MAX_THREADS 256
#ifndef EG_POOL_SPIN_US
#define EG_POOL_SPIN_US 100     /* spin before sleeping, in microseconds (see above) */
#endif

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __asm__ volatile("pause" ::: "memory")
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

struct eg_worker {
    struct eg_pool *pool;
    int index;                  /* 1 .. n_threads-1 */
};

struct eg_pool {
    int n_threads;
    int n_started;              /* workers actually running (for destroy after a failed create) */
    int64_t spin_ns;            /* spin before sleeping: EG_POOL_SPIN_US, or 0 when oversubscribed */
    pthread_t *threads;         /* [n_threads - 1] */
    struct eg_worker *workers;  /* [n_threads - 1] */

    pthread_mutex_t mu;
    pthread_cond_t cv_start;    /* workers wait here for a new generation (or stop) */
    pthread_cond_t cv_done;     /* the caller waits here for pending == 0 */
    atomic_uint generation;     /* bumped once per run, under mu */
    atomic_int stop;

    /* the current run: written by the caller before the generation bump, read-only while it runs */
    eg_pool_fn fn;
    void *arg;
    int n_tasks;
    atomic_int next_task;       /* next task index to claim */
    atomic_int pending;         /* workers that have not finished this run */
};

static void claim_and_run(struct eg_pool *p, int thread) {
    for (;;) {
        int t = atomic_fetch_add_explicit(&p->next_task, 1, memory_order_relaxed);
        if (t >= p->n_tasks) break;
        p->fn(p->arg, t, thread);
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *worker_main(void *v) {
    struct eg_worker *w = v;
    struct eg_pool *p = w->pool;
    unsigned seen = 0;          /* the generation at creation: a run may start before this thread does */
    for (;;) {
        /* wait for a new generation: spin a little, then sleep */
        if (p->spin_ns > 0) {
            const int64_t deadline = now_ns() + p->spin_ns;
            for (unsigned i = 1; atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
                                 !atomic_load_explicit(&p->stop, memory_order_acquire); i++) {
                cpu_relax();
                if ((i & 255) == 0 && now_ns() > deadline) break;
            }
        }
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_acquire))
            pthread_cond_wait(&p->cv_start, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);

        claim_and_run(p, w->index);

        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            /* last one out: signal under the mutex so the caller cannot miss it between check and wait */
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int eg_pool_n_threads(const struct eg_pool *pool) { return pool ? pool->n_threads : 1; }

void eg_pool_destroy(struct eg_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store_explicit(&pool->stop, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cv_start);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_started; i++) pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->cv_done);
    pthread_cond_destroy(&pool->cv_start);
    pthread_mutex_destroy(&pool->mu);
    free(pool->workers);
    free(pool->threads);
    free(pool);
}

enum eg_status eg_pool_create(int n_threads, struct eg_pool **out) {
    if (!out) return EG_ERR_INVALID_ARG;
    *out = NULL;
    if (n_threads < 1 || n_threads > EG_POOL_MAX_THREADS) {
        EG_LOGE("thread pool: n_threads must be in [1, %d], got %d", EG_POOL_MAX_THREADS, n_threads);
        return EG_ERR_INVALID_ARG;
    }
    struct eg_pool *p = calloc(1, sizeof *p);
    if (!p) goto err_nomem;
    p->n_threads = n_threads;
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t spin_us = EG_POOL_SPIN_US;
    const char *env = getenv("EDGEGEN_POOL_SPIN_US");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end || v < 0 || v > 1000000) EG_LOGW("EDGEGEN_POOL_SPIN_US=%s: expected 0..1000000, ignored", env);
        else spin_us = v;
    }
    p->spin_ns = n_cpus >= n_threads ? spin_us * 1000 : 0;
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->threads || !p->workers) goto err_free;
    }
    if (pthread_mutex_init(&p->mu, NULL)) goto err_free;
    if (pthread_cond_init(&p->cv_start, NULL)) goto err_mutex;
    if (pthread_cond_init(&p->cv_done, NULL)) goto err_cv_start;
    atomic_init(&p->generation, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->next_task, 0);
    atomic_init(&p->pending, 0);
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i + 1;
        int rc = pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]);
        if (rc) {
            EG_LOGE("thread pool: could not start worker %d of %d (pthread_create: %s)", i + 1, n_threads - 1,
                    strerror(rc));
            eg_pool_destroy(p);   /* joins the n_started workers */
            return EG_ERR_NOMEM;
        }
        p->n_started++;
    }
    *out = p;
    return EG_OK;

err_cv_start:
    pthread_cond_destroy(&p->cv_start);
err_mutex:
    pthread_mutex_destroy(&p->mu);
err_free:
    free(p->workers);
    free(p->threads);
    free(p);
err_nomem:
    EG_LOGE("thread pool: out of memory creating a pool of %d threads", n_threads);
    return EG_ERR_NOMEM;
}

void eg_pool_run(struct eg_pool *pool, int n_tasks, eg_pool_fn fn, void *arg) {
    if (n_tasks <= 0) return;
    if (!pool || pool->n_threads == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    pool->n_tasks = n_tasks;
    atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);   /* publishes the fields above */
    pthread_cond_broadcast(&pool->cv_start);
    pthread_mutex_unlock(&pool->mu);

    claim_and_run(pool, 0);

    /* wait for the workers: spin briefly, then sleep */
    if (pool->spin_ns > 0) {
        const int64_t deadline = now_ns() + pool->spin_ns;
        for (unsigned i = 1; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; i++) {
            cpu_relax();
            if ((i & 255) == 0 && now_ns() > deadline) break;
        }
    }
    if (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0)
            pthread_cond_wait(&pool->cv_done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}
