/* runtime/pipeline/memplan_archs.c — the registry of per-architecture memory estimators (add a line to `archs`
 * for a new model) and the whole plan of an open model (memplan_archs.h). */
#include <string.h>
#include "models/decoder.h"
#include "runtime/core/internal.h"
#include "runtime/pipeline/memplan_archs.h"

/* runtime/pipeline/api.c: a TTS context (AR state, the codec found next to it, buffers) */
enum eg_status eg_tts_memplan(const struct eg_gguf *g, const struct eg_memplan_params *p, struct eg_memplan *plan);

static const struct eg_memplan_arch archs[] = {
    { "edgegen.codec", eg_codec_memplan },   /* models/decoder.c: one decoder (eg_decoder_memplan) */
    { "edgegen.voice", eg_codec_memplan },   /* the same estimator: voice v2 files (models/decoder.c + voice_source.c) */
    { "edgegen.ar", eg_tts_memplan },        /* runtime/pipeline/api.c: a TTS context */
    { NULL, NULL },
};

const struct eg_memplan_arch *eg_memplan_find_arch(const char *arch) {
    if (!arch) return NULL;
    for (const struct eg_memplan_arch *a = archs; a->arch; a++)
        if (!strcmp(a->arch, arch)) return a;
    return NULL;
}

enum eg_status eg_memplan_for_model(const struct eg_gguf *g, const struct eg_memplan_params *p,
                                    struct eg_memplan *plan, int *has_arch) {
    enum eg_status st;
    struct eg_memplan_params def;
    const char *arch = NULL;
    if (has_arch) *has_arch = 0;
    if (!g || !plan) return EG_ERR_INVALID_ARG;
    if (!p) { eg_memplan_default_params(&def); p = &def; }
    eg_memplan_init(plan);
    /* the whole file is held: mapped (page cache, shareable) or copied to the heap by the read() fallback */
    st = eg_memplan_add(plan, "weights", (eg_gguf_is_mapped(g) ? EG_MEM_MAPPED : EG_MEM_HEAP) | EG_MEM_COMMITTED,
                        eg_gguf_file_bytes(g));
    if (st) return st;
    if (!eg_gguf_has_key(g, "general.architecture")) return EG_OK;
    if ((st = eg_gguf_get_str(g, "general.architecture", &arch))) return st;
    const struct eg_memplan_arch *a = eg_memplan_find_arch(arch);
    if (!a) return EG_OK;
    if (has_arch) *has_arch = 1;
    if ((st = eg_memplan_add_process(plan, p))) return st;
    return a->fill(g, p, plan);
}
