/* runtime/core/pool.h — a small persistent thread pool. Work is split into tasks by the caller with a fixed block
 * size (independent of the thread count), so results are bit-identical for any number of threads. */
#ifndef EG_POOL_H
#define EG_POOL_H

#include "runtime/edgegen.h"

struct eg_pool;

/* n_threads >= 1 (the caller's thread counts as one: n_threads - 1 workers are started). */
enum eg_status eg_pool_create(int n_threads, struct eg_pool **out);
void eg_pool_destroy(struct eg_pool *pool);     /* NULL allowed */
int  eg_pool_n_threads(const struct eg_pool *pool);

/* Run fn(arg, task, thread) for every task in [0, n_tasks), spread over the pool's threads (thread in
 * [0, n_threads)); returns when all are done. pool == NULL runs everything on the calling thread.
 * Not reentrant: one eg_pool_run at a time per pool. */
typedef void (*eg_pool_fn)(void *arg, int task, int thread);
void eg_pool_run(struct eg_pool *pool, int n_tasks, eg_pool_fn fn, void *arg);

#endif
