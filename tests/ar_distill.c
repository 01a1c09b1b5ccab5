/* tests/ar_distill.c — the AR model's own outputs for draft-model distillation (models/train/ar_distill.py).
 *
 * Usage: ar_distill MODEL.gguf [--temperature T] [--top-k K] [--seed S] < items > tokens
 * Input, one utterance a line: "N id_0 .. id_{N-1} dur_0 .. dur_{N-1}" (phoneme ids and frames per phoneme).
 * Output, one line per input line: the eg_ar_generate tokens over sum(dur) frames (teacher durations), sampled
 * with the given settings (temperature 0 = greedy); the sampler is reseeded with seed + line number so each
 * line is reproducible alone. One thread. Errors: one line on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/ar_lm.h"
#include "models/sampler.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ar_distill MODEL.gguf [--temperature T] [--top-k K] [--seed S] < items\n");
        return 2;
    }
    struct eg_sampler_params sp = eg_sampler_default_params();
    sp.temperature = 0.0f;
    sp.top_k = 50;
    uint64_t seed0 = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--temperature")) sp.temperature = strtof(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--top-k")) sp.top_k = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) seed0 = strtoull(argv[i + 1], NULL, 10);
        else { fprintf(stderr, "ar_distill: unknown option %s\n", argv[i]); return 2; }
    }
    struct eg_ar_model *m;
    if (eg_ar_model_load(argv[1], &m) != EG_OK) { fprintf(stderr, "ar_distill: cannot load %s\n", argv[1]); return 1; }
    struct eg_exec ex;
    if (eg_exec_init(&ex, EG_ISA_AUTO, 1) != EG_OK) return 1;
    struct eg_ar_state *st;
    if (eg_ar_state_create(m, &ex, EG_AR_MAX_PHONEMES, &st) != EG_OK) return 1;
    struct eg_sampler s;
    void *scratch = malloc(eg_sampler_scratch_bytes((int)m->cfg.n_codes));
    if (!scratch || eg_sampler_init(&s, &sp, (int)m->cfg.n_codes, scratch) != EG_OK) return 1;
    int32_t *ids = malloc(EG_AR_MAX_PHONEMES * sizeof *ids), *dur = malloc(EG_AR_MAX_PHONEMES * sizeof *dur);
    size_t cap = 1 << 16;
    int32_t *tok = malloc(cap * sizeof *tok);
    int n;
    for (uint64_t line = 0; scanf("%d", &n) == 1; line++) {
        if (n < 1 || n > EG_AR_MAX_PHONEMES) { fprintf(stderr, "ar_distill: line %llu: bad count %d\n", (unsigned long long)line + 1, n); return 1; }
        int64_t total = 0;
        for (int i = 0; i < n; i++) if (scanf("%d", &ids[i]) != 1) { fprintf(stderr, "ar_distill: line %llu: short\n", (unsigned long long)line + 1); return 1; }
        for (int i = 0; i < n; i++) { if (scanf("%d", &dur[i]) != 1) { fprintf(stderr, "ar_distill: line %llu: short\n", (unsigned long long)line + 1); return 1; } total += dur[i]; }
        if ((size_t)total > cap) { fprintf(stderr, "ar_distill: line %llu: %lld frames > %zu\n", (unsigned long long)line + 1, (long long)total, cap); return 1; }
        if (eg_ar_encode(st, ids, n) != EG_OK || eg_ar_set_durations(st, dur, n) != EG_OK) {
            fprintf(stderr, "ar_distill: line %llu: encode failed\n", (unsigned long long)line + 1);
            return 1;
        }
        eg_sampler_reseed(&s, seed0 + line);
        if (eg_ar_generate(st, &s, tok) != EG_OK) { fprintf(stderr, "ar_distill: generate failed\n"); return 1; }
        for (int64_t t = 0; t < total; t++) printf(t ? " %d" : "%d", tok[t]);
        printf("\n");
        fflush(stdout);
    }
    eg_ar_state_destroy(st);
    eg_ar_model_destroy(m);
    eg_exec_free(&ex);
    free(scratch); free(ids); free(dur); free(tok);
    return 0;
}
