/* tests/bench_ar.c — pico-AR decode speed (make bench / make bench-ar).
 *
 * Model: ar_model.DEFAULT_CONFIG with random weights (export_ar.py --random-init; the Makefile writes
 * build/ar-bench/pico-ar-rand-{f32,q8_0}.gguf on first use). Per model and thread count:
 *   - encode: phoneme encoder + duration predictor for P phonemes (median of REPS);
 *   - step: one decoder frame with a FULL attention window (the first `window` frames run untimed), fed teacher
 *     tokens so the sampler is timed apart; µs/token = median over REPS blocks of N steps / N;
 *   - sampler: temperature 0.8, top-k 50 over n_codes logits;
 *   - weight bytes read per frame (decoder blocks + head) and the implied GB/s, FLOPs per frame, and the AR
 *     real-time factor: the codec runs at 50 frames/s, so RTF = 50 * (step + sample time) (< 1 = faster than
 *     real time).
 * Usage: bench_ar [model.gguf ...] [-t 1,2] [-n steps] [-p phonemes] [-b 4,8,16] [--cold] [--draft] [--best] [--mem]
 * -b: also time eg_ar_step_batch with these batch sizes (µs per frame, vs the single step).
 * --cold: stream 96 MiB through the caches before every timed step or batch (weights come from DRAM, the
 * small-board case); only the step itself is timed.
 * --best: 40 repetitions and the fastest instead of the median (a loaded box: short blocks that ran alone).
 * --draft: acceptance and projected speed-up of a layer-skipping draft for speculative decoding (draft_report).
 * --mem: after each run print "memory: estimated X MiB, peak RSS Y MiB": the memory plan of this run (weights,
 * process at start, runtime, eg_ar_state_memplan for P phonemes, the bench's buffers) against the process's peak
 * RSS. Peak RSS only grows, so give one model and one thread count (tests/memcheck.sh does).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/ar_lm.h"
#include "runtime/core/memplan.h"
#include "ports/port.h"
#include "models/sampler.h"

#define MAX_REPS 64
static int REPS = 5, g_best;   /* --best: 40 reps, fastest instead of median (for a loaded box) */

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmp_d); return g_best ? v[0] : v[n / 2]; }

static int mem_report;          /* --mem */
static int g_batch[8], g_n_batch; /* -b 4,8,16: also time eg_ar_step_batch at these sizes */
static int g_cold;               /* --cold: evict the caches before every timed step (only the step is timed) */
static uint64_t g_cold_ns;
static volatile unsigned char *g_evict;
#define EVICT_BYTES (96u << 20)   /* 3x a 32 MiB L3 */
static void evict(void) {
    unsigned s = 0;
    for (size_t i = 0; i < EVICT_BYTES; i += 64) { g_evict[i] = (unsigned char)(g_evict[i] + 1); s += g_evict[i]; }
    (void)s;
}
static uint64_t rss_at_start;   /* VmRSS when main() began: the process part of the plan */

/* The plan for this run: what an application holding one AR state needs. */
static void print_memory(const struct eg_ar_model *m, const struct eg_exec *ex, int n_ph, size_t bench_bytes) {
    struct eg_memplan plan;
    struct eg_memplan_params mp;
    eg_memplan_default_params(&mp);
    mp.n_threads = ex->n_threads;
    mp.process_bytes = rss_at_start;
    eg_memplan_init(&plan);
    if (eg_memplan_add(&plan, "weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, eg_gguf_file_bytes(m->gguf)) ||
        eg_memplan_add_process(&plan, &mp) || eg_ar_state_memplan(m, ex, n_ph, &plan) ||
        eg_memplan_add(&plan, "bench buffers", EG_MEM_HEAP, bench_bytes)) {
        printf("memory: plan failed\n");
        return;
    }
    printf("memory: estimated %.2f MiB, peak RSS %.2f MiB\n", (double)eg_memplan_total(&plan, 0) / 1048576.0,
           (double)eg_peak_rss_bytes() / 1048576.0);
}

/* --draft: a layer-skipping draft (the first L decoder layers, then norm + head: eg_ar_set_exit_layer) against
 * the model's own greedy output over T frames. Greedy acceptance alpha = P(draft argmax == model argmax) on the
 * model's prefix; sampling acceptance beta = E[sum_x min(p(x), q(x))] at temperature 0.3 (the default; no top-k),
 * the per-token acceptance of the standard rejection scheme. Then the speculative speed-up for k drafted tokens
 * per verification, tokens/cycle E = (1 - a^(k+1)) / (1 - a), cycle cost k*c_draft + c_verify with c_verify =
 * (k+1)*c_full when compute-bound (L3-resident weights: the batched pass saves no arithmetic) or c_full when
 * weights stream from DRAM (one read for k+1 frames, the small-board case). */
static int g_draft;
static void softmax_t(const float *l, int n, float T, double *p) {
    double mx = l[0], s = 0;
    for (int i = 1; i < n; i++) if (l[i] > mx) mx = l[i];
    for (int i = 0; i < n; i++) s += (p[i] = exp((l[i] - mx) / T));
    for (int i = 0; i < n; i++) p[i] /= s;
}
static int argmax_l(const float *l, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (l[i] > l[b]) b = i;
    return b;
}
static void draft_report(struct eg_ar_state *st, const struct eg_ar_model *m, int T, double t_full) {
    const int nc = (int)m->cfg.n_codes, L = (int)m->cfg.dec_layers;
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)T);
    float *full = malloc(sizeof(float) * (size_t)T * nc);
    double *p = malloc(sizeof(double) * nc), *q = malloc(sizeof(double) * nc);
    const float *lg;
    eg_ar_reset(st);
    eg_ar_set_exit_layer(st, L);
    for (int t = 0; t < T; t++) {
        if (eg_ar_step(st, t == 0 ? nc : tok[t - 1], &lg) != EG_OK) goto out;
        memcpy(full + (size_t)t * nc, lg, sizeof(float) * nc);
        tok[t] = argmax_l(lg, nc);
    }
    for (int l = 1; l < L; l++) {
        int hits = 0;
        double beta = 0;
        eg_ar_reset(st);
        eg_ar_set_exit_layer(st, l);
        uint64_t t_steps = 0;
        for (int t = 0; t < T; t++) {
            const uint64_t t0 = eg_time_ns();
            if (eg_ar_step(st, t == 0 ? nc : tok[t - 1], &lg) != EG_OK) goto out;
            t_steps += eg_time_ns() - t0;
            hits += argmax_l(lg, nc) == tok[t];
            softmax_t(lg, nc, 0.3f, q);
            softmax_t(full + (size_t)t * nc, nc, 0.3f, p);
            for (int i = 0; i < nc; i++) beta += p[i] < q[i] ? p[i] : q[i];
        }
        const double t_d = (double)t_steps * 1e-9 / T;
        const double a = (double)hits / T, b = beta / T, c = t_d / t_full;
        printf("  draft = first %d of %d layers: greedy acceptance %.3f, sampling acceptance (T 0.3) %.3f, "
               "draft step %.2fx the model's\n", l, L, a, b, c);
        for (int k = 1; k <= 4; k++) {
            const double e = a < 1 ? (1 - pow(a, k + 1)) / (1 - a) : k + 1;
            printf("    k %d: %.2f tokens/verification, speed-up %.2fx compute-bound, %.2fx DRAM-bound\n", k, e,
                   e / (k * c + (k + 1)), e / (k * c + 1));
        }
    }
out:
    eg_ar_set_exit_layer(st, L);
    eg_ar_reset(st);
    free(tok); free(full); free(p); free(q);
}

static int bench_one(const char *path, int n_threads, int n_steps, int n_ph) {
    struct eg_ar_model *m = NULL;
    struct eg_exec ex;
    struct eg_ar_state *st = NULL;
    struct eg_sampler s;
    struct eg_sampler_params sp = eg_sampler_default_params();
    double t_enc[MAX_REPS], t_step[MAX_REPS], t_samp[MAX_REPS];
    int rc = 1;

    if (eg_ar_model_load(path, &m) != EG_OK) { fprintf(stderr, "bench_ar: cannot load %s\n", path); return 1; }
    if (eg_exec_init(&ex, EG_ISA_AUTO, n_threads) != EG_OK) goto out_model;
    if (eg_ar_state_create(m, &ex, n_ph, &st) != EG_OK) goto out_exec;
    const struct eg_ar_config *c = &m->cfg;
    const int nc = (int)c->n_codes, W = (int)c->window;
    int32_t *ids = malloc(sizeof(int32_t) * n_ph), *dur = malloc(sizeof(int32_t) * n_ph);
    void *scratch = malloc(eg_sampler_scratch_bytes(nc));
    uint32_t r = 12345;
    const int frames = W + n_steps * REPS;
    for (int i = 0; i < n_ph; i++) {
        r = r * 1664525u + 1013904223u;
        ids[i] = (int32_t)((r >> 8) % c->n_phonemes);
        dur[i] = frames / n_ph + (i < frames % n_ph);
    }
    if (eg_sampler_init(&s, &sp, nc, scratch) != EG_OK) goto out_buf;

    for (int k = 0; k < REPS; k++) {
        uint64_t t0 = eg_time_ns();
        if (eg_ar_encode(st, ids, n_ph) != EG_OK) goto out_buf;
        t_enc[k] = (double)(eg_time_ns() - t0) * 1e-9;
    }
    if (eg_ar_set_durations(st, dur, n_ph) != EG_OK) goto out_buf;
    const float *lg;
    int32_t tok = nc;
    for (int t = 0; t < W; t++) {                    /* fill the window, untimed */
        if (eg_ar_step(st, tok, &lg) != EG_OK) goto out_buf;
        tok = (int32_t)((uint32_t)(t * 7919) % (uint32_t)nc);
    }
    for (int k = 0; k < REPS; k++) {
        uint64_t t0 = eg_time_ns(), t_in = 0;
        for (int t = 0; t < n_steps; t++) {
            if (g_cold) { evict(); t_in = eg_time_ns(); }
            if (eg_ar_step(st, tok, &lg) != EG_OK) goto out_buf;
            if (g_cold) g_cold_ns += eg_time_ns() - t_in;
            tok = (int32_t)((uint32_t)(t * 7919 + k) % (uint32_t)nc);
        }
        t_step[k] = (g_cold ? (double)g_cold_ns : (double)(eg_time_ns() - t0)) * 1e-9 / n_steps;
        g_cold_ns = 0;
        volatile int32_t sink = 0;
        t0 = eg_time_ns();
        for (int t = 0; t < n_steps; t++) sink += eg_sampler_sample(&s, lg);
        t_samp[k] = (double)(eg_time_ns() - t0) * 1e-9 / n_steps;
        (void)sink;
    }
    const double te = median(t_enc, REPS), ts = median(t_step, REPS), tsm = median(t_samp, REPS);
    const double bytes = (double)eg_ar_weight_bytes_per_frame(m), flops = eg_ar_flops_per_frame(m);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    printf("%-26s %-6s thr %d | encode %4d ph %7.2f ms | step %8.1f us  %7.1f tok/s | sample %6.1f us | "
           "%6.2f MB/tok %6.2f GB/s | %5.1f MFLOP/tok %5.2f GFLOP/s | RTF %.3f | arena %.2f MiB\n",
           base, ex.k.name, n_threads, n_ph, te * 1e3, ts * 1e6, 1.0 / ts, tsm * 1e6, bytes / 1e6, bytes / ts / 1e9,
           flops / 1e6, flops / ts / 1e9, 50.0 * (ts + tsm), eg_ar_state_arena_bytes(m, &ex, n_ph) / 1048576.0);
    /* batched steps (eg_ar_step_batch, the verification pass of speculative decoding): µs per frame */
    for (int bi = 0; bi < g_n_batch; bi++) {
        const int B = g_batch[bi];
        double t_b[MAX_REPS];
        int32_t prev[EG_AR_MAX_BATCH];
        for (int k = 0; k < REPS; k++) {
            uint64_t t_sum = 0;
            int done = 0;
            while (done < n_steps) {
                const int nb = n_steps - done < B ? n_steps - done : B;
                for (int i = 0; i < nb; i++) prev[i] = (int32_t)((uint32_t)((done + i) * 7919 + k) % (uint32_t)nc);
                if (g_cold) evict();
                const uint64_t t0 = eg_time_ns();
                if (eg_ar_step_batch(st, prev, nb, &lg) != EG_OK) goto out_buf;
                t_sum += eg_time_ns() - t0;
                done += nb;
            }
            t_b[k] = (double)t_sum * 1e-9 / n_steps;
        }
        const double tb = median(t_b, REPS);
        printf("%-26s %-6s thr %d | batch %2d%s: %8.1f us/frame (%5.2fx single step) %6.2f GB/s of weights\n", base,
               ex.k.name, n_threads, B, g_cold ? " cold" : "", tb * 1e6, ts / tb, bytes / (tb * B) / 1e9);
    }
    if (g_draft) draft_report(st, m, n_steps * REPS, ts);
    if (mem_report) print_memory(m, &ex, n_ph, 2 * sizeof(int32_t) * (size_t)n_ph + eg_sampler_scratch_bytes(nc));
    rc = 0;
out_buf:
    free(ids); free(dur); free(scratch);
    eg_ar_state_destroy(st);
out_exec:
    eg_exec_free(&ex);
out_model:
    eg_ar_model_destroy(m);
    return rc;
}

int main(int argc, char **argv) {
    const char *paths[16];
    int n_paths = 0, n_steps = 64, n_ph = 100, threads[8] = { 1, 2 }, n_thr = 2;
    rss_at_start = eg_rss_bytes();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mem")) mem_report = 1;
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) n_steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-p") && i + 1 < argc) n_ph = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cold")) g_cold = 1;
        else if (!strcmp(argv[i], "--draft")) g_draft = 1;
        else if (!strcmp(argv[i], "--best")) { g_best = 1; REPS = 40; }
        else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
            for (char *p = argv[++i]; *p && g_n_batch < 8; p++) {
                const int b = (int)strtol(p, &p, 10);
                if (b < 1 || b > EG_AR_MAX_BATCH) { fprintf(stderr, "bench_ar: -b: sizes 1..%d\n", EG_AR_MAX_BATCH); return 2; }
                g_batch[g_n_batch++] = b;
                if (!*p) break;
            }
        }
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            n_thr = 0;
            for (char *p = argv[++i]; *p && n_thr < 8; p++) {
                threads[n_thr++] = (int)strtol(p, &p, 10);
                if (!*p) break;
            }
        } else if (n_paths < 16) paths[n_paths++] = argv[i];
    }
    if (n_steps < 1 || n_ph < 1) {
        fprintf(stderr, "usage: bench_ar [model.gguf ...] [-t 1,2] [-n steps] [-p phonemes] [-b 4,8,16] [--cold] [--draft] [--best] [--mem]\n");
        return 2;
    }
    if (!n_paths) {
        paths[n_paths++] = "build/ar-bench/pico-ar-rand-f32.gguf";
        paths[n_paths++] = "build/ar-bench/pico-ar-rand-q8_0.gguf";
    }
    if (g_cold && !(g_evict = calloc(EVICT_BYTES, 1))) { fprintf(stderr, "bench_ar: out of memory\n"); return 1; }
    printf("pico-AR decode: %d steps x %d reps after a full window, 50 frames = 1 s of audio "
           "(RTF = 50 * (step + sample))\n", n_steps, REPS);
    int rc = 0;
    for (int i = 0; i < n_paths; i++)
        for (int t = 0; t < n_thr; t++) rc |= bench_one(paths[i], threads[t], n_steps, n_ph);
    return rc;
}
