/* runtime/pipeline/api.c — the public TTS API (edgegen.h): model = AR + codec decoder, context = one stream.
 *
 * Pipeline per sentence: phoneme ids → eg_ar_encode + eg_ar_predict_durations (length_scale = 1/speed) → for each
 * frame: eg_ar_step → eg_sampler_sample → eg_decoder_push (one token at a time; the decoder computes a window of
 * chunk_frames as soon as its look-ahead R is satisfied) → output stage → user callback; eg_decoder_flush at the
 * end of the sentence. The sentence's length N = frames * hop is known before the first step, so the output
 * stage fades the first and last EG_FADE_MS of every sentence by position (raised cosine, no look-ahead buffer)
 * and inserts sentence_pause_ms of silence before every sentence but the first of a stream: joins neither click
 * nor run words together.
 *
 * Memory: the AR state, the decoder and this file's staging buffers each own one arena, all sized in
 * eg_ctx_create (after the memory plan check); nothing is allocated per sentence, token or frame.
 * Determinism: the sampler is reseeded per sentence from (seed, sentence index); the models are bit-identical
 * for any thread count, so the stream is too.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/ar_lm.h"
#include "models/stage.h"
#include "runtime/core/cpu.h"
#include "models/decoder.h"
#include "runtime/edgegen.h"
#include "runtime/core/internal.h"
#include "runtime/core/memplan.h"
#include "runtime/core/utf8.h"
#include "runtime/core/wav.h"
#include "models/models.h"
#include "models/sampler.h"
#include "models/spec.h"

#define EG_FADE_MS        5
#define EG_STAGE_SAMPLES  4096          /* output staging block (samples per callback at most) */
#define EG_MAX_PHONEMES   2000          /* codepoints per sentence: 2 * 2000 + 3 ids <= EG_AR_MAX_PHONEMES */

const char *eg_version(void) { return EDGEGEN_VERSION; }

/* ==== model ==================================================================================================== */

struct eg_phone_entry { uint32_t cp; int32_t id; };

struct eg_model {
    struct eg_ar_model    *ar;
    struct eg_codec_model *codec;
    struct eg_phone_entry *phones;      /* [n_phones] sorted by codepoint: single-codepoint inventory symbols */
    int n_phones;
    struct eg_ar_model    *draft;       /* speculative-decoding draft (eg_model_set_draft), else NULL */
};

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The decoder next to ar_path, first found: the voice v2 decoder (pico-voice-{q8_0,f16,f32}.gguf, 22.05 kHz, the
 * default since session 5), then the 16 kHz codec decoder (pico-codec-*), each in <dir>/, <dir>/../voice/,
 * <dir>/../codec/. */
static int find_codec(const char *ar_path, char *out, size_t len) {
    static const char *const names[] = { "pico-voice-q8_0.gguf", "pico-voice-f16.gguf", "pico-voice-f32.gguf",
                                         "pico-codec-q8_0.gguf", "pico-codec-f16.gguf", "pico-codec-f32.gguf" };
    static const char *const subs[] = { "", "../voice/", "../codec/" };
    const char *slash = strrchr(ar_path, '/');
    const int dir_len = slash ? (int)(slash - ar_path + 1) : 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            int n = snprintf(out, len, "%.*s%s%s", dir_len, ar_path, subs[s], names[i]);
            if (n > 0 && (size_t)n < len && file_exists(out)) return 1;
        }
    return 0;
}

static int cmp_phone(const void *a, const void *b) {
    const struct eg_phone_entry *x = a, *y = b;
    return x->cp < y->cp ? -1 : x->cp > y->cp ? 1 : (x->id > y->id) - (x->id < y->id);
}

static enum eg_status build_phone_table(struct eg_model *m) {
    const struct eg_ar_config *c = &m->ar->cfg;
    m->phones = calloc(c->n_phonemes ? c->n_phonemes : 1, sizeof *m->phones);
    if (!m->phones) return EG_ERR_NOMEM;
    for (uint32_t id = 0; id < c->n_phonemes; id++) {
        const char *sym = eg_ar_model_phoneme(m->ar, (int)id);
        uint32_t cp;
        if (id == c->pad_id || id == c->bos_id || id == c->eos_id) continue;
        if (sym && eg_utf8_one_codepoint(sym, &cp)) m->phones[m->n_phones++] = (struct eg_phone_entry){ cp, (int32_t)id };
    }
    qsort(m->phones, (size_t)m->n_phones, sizeof *m->phones, cmp_phone);   /* first id wins on duplicates */
    return EG_OK;
}

struct eg_model *eg_model_load(const char *ar_path, const char *codec_path, enum eg_status *err) {
    enum eg_status st = EG_OK;
    struct eg_model *m = NULL;
    char found[4096];

    if (!ar_path) { st = EG_ERR_INVALID_ARG; EG_LOGE("eg_model_load: ar_path is NULL"); goto out; }
    if (!codec_path) {
        if (!find_codec(ar_path, found, sizeof found)) {
            EG_LOGE("%s: no decoder model next to it (pico-voice-{q8_0,f16,f32}.gguf or pico-codec-{q8_0,f16,f32}.gguf "
                    "in the same directory, ../voice/ or ../codec/)", ar_path);
            st = EG_ERR_IO;
            goto out;
        }
        codec_path = found;
    }
    if (!(m = calloc(1, sizeof *m))) { st = EG_ERR_NOMEM; goto out; }
    if ((st = eg_ar_model_load(ar_path, &m->ar)) != EG_OK) goto err_free;
    if ((st = eg_codec_model_load(codec_path, &m->codec)) != EG_OK) goto err_free;
    {   /* the AR's vocabulary must be the codec's: same FSQ digits, same levels */
        const struct eg_ar_config *a = &m->ar->cfg;
        const struct eg_codec_config *c = &m->codec->cfg;
        int same = a->n_levels == c->latent_dim && a->n_codes == c->n_codes;
        for (uint32_t i = 0; same && i < a->n_levels; i++) same = a->fsq_levels[i] == c->fsq_levels[i];
        if (!same) {
            char la[128] = "", lc[128] = "";
            for (uint32_t i = 0; i < a->n_levels && i < EG_AR_MAX_FSQ; i++)
                snprintf(la + strlen(la), sizeof la - strlen(la), "%s%u", i ? "," : "", a->fsq_levels[i]);
            for (uint32_t i = 0; i < c->latent_dim && i < EG_CODEC_MAX_FSQ; i++)
                snprintf(lc + strlen(lc), sizeof lc - strlen(lc), "%s%u", i ? "," : "", c->fsq_levels[i]);
            EG_LOGE("%s and %s are not a pair: edgegen.ar.fsq_levels [%s] != edgegen.codec.fsq_levels [%s]",
                    ar_path, codec_path, la, lc);
            st = EG_ERR_FORMAT;
            goto err_free;
        }
    }
    if (m->codec->cfg.n_phonemes) {   /* a phoneme-conditioned codec must name the AR's phonemes, id for id */
        const uint32_t na = m->ar->cfg.n_phonemes, nc = m->codec->cfg.n_phonemes;
        if (na != nc) {
            EG_LOGE("%s and %s are not a pair: edgegen.ar.n_phonemes %u != edgegen.codec.n_phonemes %u",
                    ar_path, codec_path, na, nc);
            st = EG_ERR_FORMAT;
            goto err_free;
        }
        for (uint32_t id = 0; id < na; id++) {
            const char *sa = eg_ar_model_phoneme(m->ar, (int)id), *sc = eg_codec_model_phoneme(m->codec, (int)id);
            if (!sa || !sc || strcmp(sa, sc)) {
                EG_LOGE("%s and %s are not a pair: phoneme id %u is \"%s\" in edgegen.ar.phonemes but \"%s\" in "
                        "edgegen.codec.phonemes", ar_path, codec_path, id, sa ? sa : "", sc ? sc : "");
                st = EG_ERR_FORMAT;
                goto err_free;
            }
        }
    }
    if ((st = build_phone_table(m)) != EG_OK) goto err_free;
    goto out;

err_free:
    eg_model_free(m);
    m = NULL;
out:
    if (err) *err = st;
    return m;
}

void eg_model_free(struct eg_model *m) {
    if (!m) return;
    eg_codec_model_destroy(m->codec);
    eg_ar_model_destroy(m->ar);
    eg_ar_model_destroy(m->draft);
    free(m->phones);
    free(m);
}

enum eg_status eg_model_set_draft(struct eg_model *m, const char *draft_path) {
    enum eg_status st;
    struct eg_ar_model *d = NULL;
    if (!m) { EG_LOGE("eg_model_set_draft: model is NULL"); return EG_ERR_INVALID_ARG; }
    if (draft_path) {
        if ((st = eg_ar_model_load(draft_path, &d)) != EG_OK) return st;
        if ((st = eg_spec_check(m->ar, d)) != EG_OK) { eg_ar_model_destroy(d); return st; }
    }
    eg_ar_model_destroy(m->draft);
    m->draft = d;
    return EG_OK;
}

int eg_model_sample_rate(const struct eg_model *m) { return m ? (int)m->codec->cfg.sample_rate_hz : 0; }
int eg_model_frame_samples(const struct eg_model *m) { return m ? (int)m->codec->cfg.hop : 0; }
int eg_model_n_phoneme_ids(const struct eg_model *m) { return m ? (int)m->ar->cfg.n_phonemes : 0; }

int eg_model_phoneme_id(const struct eg_model *m, uint32_t cp) {
    int lo = 0, hi;
    if (!m) return -1;
    hi = m->n_phones;
    while (lo < hi) {   /* first entry with codepoint >= cp */
        int mid = lo + (hi - lo) / 2;
        if (m->phones[mid].cp < cp) lo = mid + 1; else hi = mid;
    }
    return lo < m->n_phones && m->phones[lo].cp == cp ? m->phones[lo].id : -1;
}

void eg_model_special_ids(const struct eg_model *m, int *pad_id, int *bos_id, int *eos_id) {
    if (pad_id) *pad_id = m ? (int)m->ar->cfg.pad_id : -1;
    if (bos_id) *bos_id = m ? (int)m->ar->cfg.bos_id : -1;
    if (eos_id) *eos_id = m ? (int)m->ar->cfg.eos_id : -1;
}

/* ==== context ================================================================================================== */

struct eg_ctx {
    const struct eg_model *m;
    struct eg_ctx_params p;
    struct eg_exec ex;
    struct eg_ar_state *ar;
    struct eg_ar_state *draft;  /* speculative decoding (params spec_k > 0): the draft's state, else NULL */
    struct eg_spec spec;
    void *spec_mem;             /* eg_spec_bytes, in the arena */
    struct eg_decoder *dec;
    struct eg_spectral *stage;  /* the decoder's OpenCL stage when the placement chose the device, else NULL */
    char device_why[256];       /* one line: where the decoder runs and why */
    struct eg_sampler sampler;
    struct eg_arena arena;      /* sampler scratch, ids, fade ramp, staging */
    void *sampler_scratch;      /* eg_sampler_scratch_bytes(n_codes) */
    int max_ids;
    int32_t *ids;               /* [max_ids] */
    float *ramp;                /* [n_fade] raised-cosine fade-in gains */
    int n_fade;
    float *stage_f;             /* [EG_STAGE_SAMPLES] */
    int16_t *stage_s;           /* [EG_STAGE_SAMPLES] */
    int n_stage;
    /* stream state */
    int64_t sent_index;         /* sentences with audio in this stream (for the pause and the seed) */
    int64_t sent_pos, sent_len; /* samples of the current sentence delivered / planned */
    struct eg_ctx_stats stats;
    /* per sentence, sized by max_ids: durations, rates and timings (edgegen.h eg_timing_fn) */
    int32_t *frames;            /* [max_ids] frames of each id of the current sentence */
    int32_t *id_src;            /* [max_ids] index of the id's phoneme in the caller's sentence; -1 for pad/bos/eos */
    float *id_rate;             /* [max_ids] <prosody> rate of each id (markup) */
    struct eg_phoneme_timing *t_ph;   /* [max_ids] */
    int32_t *t_src;                   /* [max_ids] caller's phoneme index of each t_ph entry */
    struct eg_word_timing *t_words;   /* [max_ids] */
    const struct eg_text_sentence *cur;   /* the markup sentence being synthesised, else NULL */
    int have_src, use_rates;
    int pause_override_ms;      /* silence before the next sentence from <break>; -1: the default rule */
    int in_text;                /* inside eg_ctx_synthesize_text: counts spoken sentences */
    int busy;                   /* inside eg_ctx_synthesize_ids: a callback calling back in is refused */
    int64_t text_spoken;
};

struct eg_ctx_params eg_ctx_default_params(void) {
    struct eg_ctx_params p;
    memset(&p, 0, sizeof p);
    p.seed = 0;
    p.temperature = 0.3f;     /* models/train/AR_RUNS.md: with the phoneme-conditioned decoder 0.6 costs ~2 WER points */
    p.top_k = 50;
    p.top_p = 1.0f;
    p.speed = 1.0f;
    p.sentence_pause_ms = 100;
    p.max_phonemes = 256;
    p.chunk_frames = 16;
    p.n_threads = 1;
    p.isa = EG_ISA_AUTO;
    p.device = EG_DEVICE_AUTO;
    p.format = EG_SAMPLE_F32;
    return p;
}

static enum eg_status check_params(const struct eg_ctx_params *p) {
#define BAD(...) do { EG_LOGE(__VA_ARGS__); return EG_ERR_INVALID_ARG; } while (0)
    if (!p->on_audio) BAD("context params: on_audio is NULL (nowhere to deliver audio)");
    if (!(p->temperature == p->temperature) || p->temperature > 100.0f) BAD("context params: temperature: expected <= 100, found %g", p->temperature);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) BAD("context params: top_p: expected (0, 1], found %g", p->top_p);
    if (!(p->speed >= 0.1f && p->speed <= 10.0f)) BAD("context params: speed: expected 0.1 .. 10, found %g", p->speed);
    if (p->sentence_pause_ms < 0 || p->sentence_pause_ms > 10000) BAD("context params: sentence_pause_ms: expected 0 .. 10000, found %d", p->sentence_pause_ms);
    if (p->max_phonemes < 1 || p->max_phonemes > EG_MAX_PHONEMES) BAD("context params: max_phonemes: expected 1 .. %d, found %d", EG_MAX_PHONEMES, p->max_phonemes);
    if (p->chunk_frames < 1 || p->chunk_frames > 1024) BAD("context params: chunk_frames: expected 1 .. 1024, found %d", p->chunk_frames);
    if (p->n_threads < 1 || p->n_threads > 256) BAD("context params: n_threads: expected 1 .. 256, found %d", p->n_threads);
    if ((int)p->isa < EG_ISA_AUTO || (int)p->isa > EG_ISA_NEON_DOTPROD) BAD("context params: isa: unknown value %d", (int)p->isa);
    if ((int)p->device < EG_DEVICE_AUTO || (int)p->device > EG_DEVICE_OPENCL) BAD("context params: device: unknown value %d", (int)p->device);
    if (p->spec_k < 0 || p->spec_k > EG_SPEC_MAX_K) BAD("context params: spec_k: expected 0 .. %d, found %d", EG_SPEC_MAX_K, p->spec_k);
    if (p->format != EG_SAMPLE_F32 && p->format != EG_SAMPLE_S16) BAD("context params: format: unknown value %d", (int)p->format);
#undef BAD
    return EG_OK;
}

static int n_fade_samples(const struct eg_model *m) {
    int n = (int)((uint64_t)m->codec->cfg.sample_rate_hz * EG_FADE_MS / 1000);
    return n < 1 ? 1 : n;
}

/* The staging arena's layout; with ctx == NULL only sums the sizes. */
static size_t ctx_layout(struct eg_ctx *ctx, const struct eg_model *m, const struct eg_ctx_params *p) {
    const int max_ids = 2 * p->max_phonemes + 3;
    const size_t sizes[] = {
        eg_sampler_scratch_bytes((int)m->ar->cfg.n_codes),
        sizeof(int32_t) * (size_t)max_ids,
        sizeof(float) * (size_t)n_fade_samples(m),
        sizeof(float) * EG_STAGE_SAMPLES,
        sizeof(int16_t) * EG_STAGE_SAMPLES,
        sizeof(int32_t) * (size_t)max_ids,
        sizeof(int32_t) * (size_t)max_ids,
        sizeof(float) * (size_t)max_ids,
        sizeof(struct eg_phoneme_timing) * (size_t)max_ids,
        sizeof(int32_t) * (size_t)max_ids,
        sizeof(struct eg_word_timing) * (size_t)max_ids,
        p->spec_k > 0 && m->draft ? eg_spec_bytes(m->ar, m->draft, p->spec_k) : 1,
    };
    void *ptr[sizeof sizes / sizeof sizes[0]];
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        total += eg_arena_round(sizes[i]);
        if (ctx && !(ptr[i] = eg_arena_alloc(&ctx->arena, sizes[i]))) return 0;
    }
    if (ctx) {
        ctx->max_ids = max_ids;
        ctx->sampler_scratch = ptr[0];
        ctx->ids = ptr[1];
        ctx->ramp = ptr[2];
        ctx->n_fade = n_fade_samples(m);
        ctx->stage_f = ptr[3];
        ctx->stage_s = ptr[4];
        ctx->frames = ptr[5];
        ctx->id_src = ptr[6];
        ctx->id_rate = ptr[7];
        ctx->t_ph = ptr[8];
        ctx->t_src = ptr[9];
        ctx->t_words = ptr[10];
        ctx->spec_mem = ptr[11];
    }
    return total;
}

/* The decoder runs a short first window per sentence (params chunk_frames: time to first audio) and then
 * windows of at least EG_TTS_STEADY_CHUNK frames: each window recomputes 2R frames of context (R = 21 for the
 * default codec), so 16-frame windows cost ~3.6x the frames and 64-frame ones ~1.7x. The audio is identical. */
#define EG_TTS_STEADY_CHUNK 64
static struct eg_decoder_params tts_decoder_params(const struct eg_ctx_params *p) {
    struct eg_decoder_params dp = eg_decoder_default_params();
    dp.chunk_frames = p->chunk_frames > EG_TTS_STEADY_CHUNK ? p->chunk_frames : EG_TTS_STEADY_CHUNK;
    dp.first_chunk_frames = p->chunk_frames;
    return dp;
}

/* Arena bytes of the three parts, with a stand-in exec (the sizes depend only on the thread count). */
static int ctx_parts(const struct eg_model *m, const struct eg_ctx_params *p, size_t *ar, size_t *dec, size_t *own) {
    struct eg_exec fake;
    struct eg_decoder_params dp = tts_decoder_params(p);
    memset(&fake, 0, sizeof fake);
    fake.n_threads = p->n_threads;
    *ar = eg_ar_state_arena_bytes(m->ar, &fake, 2 * p->max_phonemes + 3);
    if (p->spec_k > 0) {   /* the draft's state (its arena sized as the main model's) */
        const size_t d = m->draft ? eg_ar_state_arena_bytes(m->draft, &fake, 2 * p->max_phonemes + 3) : 0;
        *ar = d && *ar ? *ar + d : 0;
    }
    *dec = eg_decoder_arena_bytes(m->codec, &fake, &dp);
    *own = ctx_layout(NULL, m, p);
    return *ar && *dec && *own;
}

/* The memory plan of n contexts with these arena sizes: the weights once (mapped, held), what the process holds
 * now, and per context its arenas and the runtime's pages and stacks for its threads. */
static void ctx_plan(const struct eg_model *m, const struct eg_ctx_params *p, int n, size_t ar_bytes,
                     size_t dec_bytes, size_t own_bytes, struct eg_memplan *plan) {
    const uint64_t k = (uint64_t)n;
    eg_memplan_init(plan);
    eg_memplan_add(plan, "ar weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, eg_gguf_file_bytes(m->ar->gguf));
    eg_memplan_add(plan, "codec weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, eg_gguf_file_bytes(m->codec->gguf));
    if (p->spec_k > 0 && m->draft)
        eg_memplan_add(plan, "draft weights", EG_MEM_MAPPED | EG_MEM_COMMITTED, eg_gguf_file_bytes(m->draft->gguf));
    eg_memplan_add(plan, "ar state", EG_MEM_HEAP, k * ar_bytes);
    eg_memplan_add(plan, "decoder state", EG_MEM_HEAP, k * dec_bytes);
    eg_memplan_add(plan, "tts buffers", EG_MEM_HEAP, k * own_bytes);
    struct eg_memplan_params mp;   /* + what the process holds now and the runtime's own pages and stacks */
    eg_memplan_default_params(&mp);
    mp.n_threads = n * p->n_threads;
    eg_memplan_add_process(plan, &mp);
}

int eg_ctx_fit_count(const struct eg_model *m, const struct eg_ctx_params *p, int max_n) {
    size_t a, d, o;
    struct eg_memplan plan;
    struct eg_mem mem;
    if (!m || !p || max_n < 1 || check_params(p) != EG_OK || !ctx_parts(m, p, &a, &d, &o)) return 0;
    if (max_n > 4096) max_n = 4096;
    eg_mem_detect(&mem);
    int n = 0;
    while (n < max_n) {
        ctx_plan(m, p, n + 1, a, d, o, &plan);
        if (!eg_memplan_fits(&plan, &mem)) break;
        n++;
    }
    return n;
}

enum eg_status eg_ctx_set_speed(struct eg_ctx *ctx, float speed) {
    if (!ctx || !(speed >= 0.1f && speed <= 10.0f)) {
        EG_LOGE("eg_ctx_set_speed: speed: expected 0.1 .. 10, found %g", ctx ? speed : 0.0);
        return EG_ERR_INVALID_ARG;
    }
    ctx->p.speed = speed;
    return EG_OK;
}

size_t eg_ctx_memory_bytes(const struct eg_model *m, const struct eg_ctx_params *p) {
    size_t a, d, o;
    if (!m || !p || check_params(p) != EG_OK || !ctx_parts(m, p, &a, &d, &o)) return 0;
    return a + d + o;
}

struct eg_ctx *eg_ctx_create(const struct eg_model *m, const struct eg_ctx_params *p, enum eg_status *err) {
    enum eg_status st;
    struct eg_ctx *ctx = NULL;
    size_t ar_bytes, dec_bytes, own_bytes;

    if (!m || !p) { st = EG_ERR_INVALID_ARG; EG_LOGE("eg_ctx_create: model or params is NULL"); goto out; }
    if ((st = check_params(p)) != EG_OK) goto out;
    if (p->spec_k > 0 && !m->draft) {
        EG_LOGE("context params: spec_k %d needs a draft model (eg_model_set_draft; edgegen tts --draft)", p->spec_k);
        st = EG_ERR_INVALID_ARG;
        goto out;
    }
    if (!ctx_parts(m, p, &ar_bytes, &dec_bytes, &own_bytes)) {
        EG_LOGE("context: arena sizes overflow (max_phonemes %d, chunk_frames %d)", p->max_phonemes, p->chunk_frames);
        st = EG_ERR_INVALID_ARG;
        goto out;
    }
    {   /* memory plan: refuse before allocating */
        struct eg_memplan plan;
        struct eg_mem mem;
        ctx_plan(m, p, 1, ar_bytes, dec_bytes, own_bytes, &plan);
        eg_mem_detect(&mem);
        if ((st = eg_memplan_check(&plan, &mem, NULL, 0)) != EG_OK) goto out;
    }
    if (!(ctx = calloc(1, sizeof *ctx))) { st = EG_ERR_NOMEM; goto out; }
    ctx->m = m;
    ctx->p = *p;
    if ((st = eg_exec_init(&ctx->ex, p->isa, p->n_threads)) != EG_OK) goto err_free_ctx;
    if ((st = eg_arena_init(&ctx->arena, own_bytes)) != EG_OK) goto err_free_exec;
    if (!ctx_layout(ctx, m, p)) { st = EG_ERR_INTERNAL; goto err_free_arena; }
    {
        struct eg_sampler_params sp = { .temperature = p->temperature, .top_k = p->top_k, .top_p = p->top_p, .seed = p->seed };
        if ((st = eg_sampler_init(&ctx->sampler, &sp, (int)m->ar->cfg.n_codes, ctx->sampler_scratch)) != EG_OK)
            goto err_free_arena;
    }
    for (int i = 0; i < ctx->n_fade; i++)   /* raised cosine: 0 < gain < 1, reaching 1 after n_fade samples */
        ctx->ramp[i] = (float)(0.5 - 0.5 * cos(M_PI * (i + 0.5) / ctx->n_fade));
    if ((st = eg_ar_state_create(m->ar, &ctx->ex, ctx->max_ids, &ctx->ar)) != EG_OK) goto err_free_arena;
    if (p->spec_k > 0) {
        struct eg_sampler_params sp = { .temperature = p->temperature, .top_k = p->top_k, .top_p = p->top_p, .seed = p->seed };
        if ((st = eg_ar_state_create(m->draft, &ctx->ex, ctx->max_ids, &ctx->draft)) != EG_OK) goto err_free_ar;
        if ((st = eg_spec_init(&ctx->spec, ctx->ar, ctx->draft, p->spec_k, &sp, ctx->spec_mem)) != EG_OK) goto err_free_ar;
    }
    {   /* decoder placement (models/stage.h): AUTO uses a device only when its probe proves it correct and
         * faster; OPENCL is strict (a failure is an error); CPU skips the device entirely */
        struct eg_decoder_params dp = tts_decoder_params(p);
        enum eg_backend mode = p->device == EG_DEVICE_CPU ? EG_BACKEND_CPU :
                               p->device == EG_DEVICE_OPENCL ? EG_BACKEND_OPENCL : eg_backend_from_env(EG_BACKEND_AUTO);
        snprintf(ctx->device_why, sizeof ctx->device_why, "cpu: %s", mode == EG_BACKEND_CPU ? "requested" : "");
        if (mode != EG_BACKEND_CPU) {
            if (!(ctx->stage = eg_spectral_create(m->codec, &ctx->ex, dp.chunk_frames, mode, &st))) goto err_free_ar;
            snprintf(ctx->device_why, sizeof ctx->device_why, "%s: %s", eg_spectral_on_device(ctx->stage) ? "opencl" : "cpu",
                     eg_spectral_reason(ctx->stage));
            if (!eg_spectral_on_device(ctx->stage)) { eg_spectral_destroy(ctx->stage); ctx->stage = NULL; }
        }
        dp.stage = ctx->stage;
        if ((st = eg_decoder_create(m->codec, &ctx->ex, &dp, &ctx->dec)) != EG_OK) goto err_free_stage;
    }
    eg_ctx_reset(ctx);
    goto out;

err_free_stage:
    eg_spectral_destroy(ctx->stage);
err_free_ar:
    eg_ar_state_destroy(ctx->draft);
    eg_ar_state_destroy(ctx->ar);
err_free_arena:
    eg_arena_free(&ctx->arena);
err_free_exec:
    eg_exec_free(&ctx->ex);
err_free_ctx:
    free(ctx);
    ctx = NULL;
out:
    if (err) *err = st;
    return ctx;
}

void eg_ctx_destroy(struct eg_ctx *ctx) {
    if (!ctx) return;
    eg_decoder_destroy(ctx->dec);
    eg_spectral_destroy(ctx->stage);   /* after the decoder that borrows it */
    eg_ar_state_destroy(ctx->draft);
    eg_ar_state_destroy(ctx->ar);
    eg_arena_free(&ctx->arena);
    eg_exec_free(&ctx->ex);
    free(ctx);
}

void eg_ctx_reset(struct eg_ctx *ctx) {
    if (!ctx) return;
    eg_decoder_reset(ctx->dec);
    ctx->sent_index = 0;
    ctx->sent_pos = ctx->sent_len = 0;
    ctx->n_stage = 0;
    ctx->pause_override_ms = -1;
    ctx->cur = NULL;
    ctx->have_src = ctx->use_rates = 0;
    memset(&ctx->stats, 0, sizeof ctx->stats);
}

void eg_ctx_get_stats(const struct eg_ctx *ctx, struct eg_ctx_stats *out) {
    if (!out) return;
    if (ctx) *out = ctx->stats;
    else memset(out, 0, sizeof *out);
}

const char *eg_ctx_isa_name(const struct eg_ctx *ctx) { return ctx ? ctx->ex.k.name : ""; }
const char *eg_ctx_device_info(const struct eg_ctx *ctx) { return ctx ? ctx->device_why : ""; }

/* ---- output stage: fades, pause, format conversion, staging ----------------------------------------------- */

static enum eg_status stage_flush(struct eg_ctx *ctx) {
    enum eg_status st = EG_OK;
    const int n = ctx->n_stage;
    if (!n) return EG_OK;
    ctx->n_stage = 0;
    if (ctx->p.format == EG_SAMPLE_S16) {
        for (int i = 0; i < n; i++) ctx->stage_s[i] = eg_s16_from_f32(ctx->stage_f[i]);   /* the WAV writer's rule */
        st = ctx->p.on_audio(ctx->p.on_audio_user, ctx->stage_s, n);
    } else {
        st = ctx->p.on_audio(ctx->p.on_audio_user, ctx->stage_f, n);
    }
    if (st == EG_OK) ctx->stats.n_samples += n;
    return st;
}

/* Decoder sink: samples at sentence positions [sent_pos, sent_pos + n), faded by position. */
static enum eg_status sentence_sink(void *user, const float *pcm, int n) {
    struct eg_ctx *ctx = user;
    enum eg_status st;
    for (int i = 0; i < n; i++) {
        const int64_t pos = ctx->sent_pos + i, from_end = ctx->sent_len - 1 - pos;
        float x = pcm[i];
        if (pos < ctx->n_fade) x *= ctx->ramp[pos];
        if (from_end >= 0 && from_end < ctx->n_fade) x *= ctx->ramp[from_end];
        ctx->stage_f[ctx->n_stage++] = x;
        if (ctx->n_stage == EG_STAGE_SAMPLES && (st = stage_flush(ctx)) != EG_OK) return st;
    }
    ctx->sent_pos += n;
    /* deliver every decoder window right away: latency matters more than callback count */
    return stage_flush(ctx);
}

static enum eg_status emit_silence(struct eg_ctx *ctx, int64_t n) {
    enum eg_status st;
    while (n > 0) {
        ctx->stage_f[ctx->n_stage++] = 0.0f;
        n--;
        if (ctx->n_stage == EG_STAGE_SAMPLES && (st = stage_flush(ctx)) != EG_OK) return st;
    }
    return stage_flush(ctx);
}

/* ---- synthesis ----------------------------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static enum eg_status synthesize_sentence(struct eg_ctx *ctx, const int32_t *ids, int n_ids);

static enum eg_status refuse_reentry(void) {
    EG_LOGE("eg_ctx_synthesize_*: called from inside this context's own callback (not reentrant)");
    return EG_ERR_INVALID_ARG;
}

enum eg_status eg_ctx_synthesize_ids(struct eg_ctx *ctx, const int32_t *ids, int n_ids) {
    enum eg_status st;
    if (!ctx || !ids) return EG_ERR_INVALID_ARG;
    const struct eg_ar_config *c = &ctx->m->ar->cfg;
    if (n_ids < 3 || n_ids > ctx->max_ids) {
        EG_LOGE("sentence: %d phoneme ids; expected 3 .. %d (2 * max_phonemes + 3)", n_ids, ctx->max_ids);
        return EG_ERR_INVALID_ARG;
    }
    for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= c->n_phonemes) {
            EG_LOGE("sentence: phoneme id %d at index %d is out of range [0, %u)", ids[i], i, c->n_phonemes);
            return EG_ERR_INVALID_ARG;
        }
    if (ctx->busy) return refuse_reentry();
    ctx->busy = 1;
    st = synthesize_sentence(ctx, ids, n_ids);
    ctx->busy = 0;
    ctx->have_src = 0;   /* set by the _phonemes / _markup paths for one sentence */
    return st;
}

/* Durations with a rate per id (<prosody rate>): the duration rule of models/ar_lm.h with the length scale
 * length_scale / (speed x rate) per phoneme; rate 1 everywhere gives eg_ar_predict_durations' frames exactly. */
static enum eg_status rated_durations(struct eg_ctx *ctx, int n_ids) {
    const struct eg_ar_config *c = &ctx->m->ar->cfg;
    const float *logd = eg_ar_log_durations(ctx->ar);
    int64_t total = 0;
    if (!logd) return EG_ERR_INTERNAL;
    for (int i = 0; i < n_ids; i++) {
        const float ls = c->length_scale / (ctx->p.speed * ctx->id_rate[i]);
        const float x = floorf((expf(logd[i]) - 1.0f) * ls + 0.5f);
        int32_t f = x > 0.0f ? (x < (float)EG_AR_MAX_FRAMES ? (int32_t)x : EG_AR_MAX_FRAMES) : 0;
        if (total + f > EG_AR_MAX_FRAMES) f = (int32_t)(EG_AR_MAX_FRAMES - total);
        total += f;
        ctx->frames[i] = f;
    }
    return eg_ar_set_durations(ctx->ar, ctx->frames, n_ids);
}

/* The sentence's phoneme and word times (frames x hop from the stream's current sample, which is where the
 * sentence's first sample goes: the pause has been delivered) → on_timing. A phoneme spans its own frames and
 * those of the pads after it; bos/eos frames belong to no phoneme. */
static enum eg_status report_timings(struct eg_ctx *ctx, const int32_t *ids, int n_ids, int64_t n_frames) {
    const struct eg_ar_config *c = &ctx->m->ar->cfg;
    const int64_t hop = (int64_t)ctx->m->codec->cfg.hop, t0 = ctx->stats.n_samples;
    int np = 0;
    int64_t cum = 0;
    for (int i = 0; i < n_ids; i++) {
        const uint32_t id = (uint32_t)ids[i];
        const int64_t f = ctx->frames[i];
        if (id == c->pad_id) {
            if (np) ctx->t_ph[np - 1].end_sample += f * hop;
        } else if (id != c->bos_id && id != c->eos_id) {
            uint32_t cp = 0;
            const char *sym = eg_ar_model_phoneme(ctx->m->ar, (int)id);
            if (sym) eg_utf8_one_codepoint(sym, &cp);
            ctx->t_ph[np] = (struct eg_phoneme_timing){ cp, t0 + cum * hop, t0 + (cum + f) * hop, -1 };
            ctx->t_src[np] = ctx->have_src ? ctx->id_src[i] : -1;
            np++;
        }
        cum += f;
    }
    int nw = 0;
    const struct eg_text_sentence *s = ctx->cur;
    if (s && ctx->have_src) {
        int k = 0;
        int64_t last_end = t0;
        for (int w = 0; w < s->n_words && nw < ctx->max_ids; w++) {
            const int a = s->words[w].first_phoneme, b = a + s->words[w].n_phonemes;
            while (k < np && ctx->t_src[k] < a) k++;
            int e = k;
            while (e < np && ctx->t_src[e] < b) { ctx->t_ph[e].word = nw; e++; }
            struct eg_word_timing *wt = &ctx->t_words[nw++];
            wt->text = s->words[w].text;
            wt->first_phoneme = k;
            wt->n_phonemes = e - k;
            wt->start_sample = e > k ? ctx->t_ph[k].start_sample : last_end;
            wt->end_sample = e > k ? ctx->t_ph[e - 1].end_sample : last_end;
            last_end = wt->end_sample;
            k = e;
        }
    }
    const struct eg_sentence_timing t = { ctx->sent_index, s && s->text ? s->text : "", t0, t0 + n_frames * hop,
                                          ctx->t_words, nw, ctx->t_ph, np };
    return ctx->p.on_timing(ctx->p.on_timing_user, &t);
}

static enum eg_status synthesize_sentence(struct eg_ctx *ctx, const int32_t *ids, int n_ids) {
    enum eg_status st;
    const struct eg_ar_config *c = &ctx->m->ar->cfg;
    if ((st = eg_ar_encode(ctx->ar, ids, n_ids)) != EG_OK) return st;
    /* the model's duration calibration (edgegen.ar.length_scale, 1 when absent) times the caller's 1/speed */
    if (!ctx->use_rates) {
        if ((st = eg_ar_predict_durations(ctx->ar, c->length_scale / ctx->p.speed, ctx->frames)) != EG_OK) return st;
    } else if ((st = rated_durations(ctx, n_ids)) != EG_OK) {
        return st;
    }
    const int64_t n_frames = eg_ar_n_frames(ctx->ar);
    ctx->stats.n_sentences++;
    ctx->stats.n_frames_sentence = n_frames;
    ctx->stats.n_frames_done_sentence = 0;
    const int pause_ms = ctx->pause_override_ms >= 0 ? ctx->pause_override_ms :
                         ctx->sent_index > 0 ? ctx->p.sentence_pause_ms : 0;
    ctx->pause_override_ms = -1;
    if (n_frames <= 0) return EG_OK;   /* nothing to say: no audio, no pause */

    if (pause_ms > 0) {
        const int64_t pause = (int64_t)pause_ms * ctx->m->codec->cfg.sample_rate_hz / 1000;
        if ((st = emit_silence(ctx, pause)) != EG_OK) return st;
    }
    if (ctx->p.on_timing && (st = report_timings(ctx, ids, n_ids, n_frames)) != EG_OK) return st;
    eg_sampler_reseed(&ctx->sampler, splitmix64(ctx->p.seed ^ splitmix64((uint64_t)ctx->sent_index)));
    ctx->sent_index++;
    ctx->sent_pos = 0;
    ctx->sent_len = n_frames * (int64_t)ctx->m->codec->cfg.hop;
    eg_decoder_reset(ctx->dec);

    /* debug log: the sentence's phoneme ids and its codec tokens with each frame's phoneme id, 32 per line
     * ("sentence S ids I: n n ...", "sentence S tokens I: token:phoneme ..."): what tests compare across builds
     * (edgegen tts --debug; the token:phoneme pairs are `edgegen decode` input) */
    const int trace = eg_log_enabled(EG_LOG_DEBUG);
    char tl[32 * 12 + 16];
    int tn = 0;
    if (trace)
        for (int i = 0; i < n_ids; i += 32) {
            int k = 0;
            for (int j = i; j < n_ids && j < i + 32; j++) k += snprintf(tl + k, sizeof tl - (size_t)k, " %d", (int)ids[j]);
            EG_LOGD("sentence %lld ids %d:%s", (long long)ctx->sent_index - 1, i, tl);
        }
    int32_t prev = (int32_t)c->n_codes;   /* BOS */
    int32_t toks[EG_SPEC_MAX_K + 1];
    const int spec = ctx->draft != NULL;
    if (spec && (st = eg_spec_begin(&ctx->spec, ids, n_ids)) != EG_OK) goto fail;
    for (int64_t t = 0; t < n_frames;) {
        int n_new = 1;
        if (spec) {   /* models/spec.h: 1 .. spec_k + 1 tokens; greedy ones exactly the plain tokens */
            const struct eg_spec_stats s0 = ctx->spec.stats;
            if ((st = eg_spec_next(&ctx->spec, &ctx->sampler, toks, &n_new)) != EG_OK) goto fail;
            ctx->stats.n_spec_rounds += ctx->spec.stats.rounds - s0.rounds;
            ctx->stats.n_spec_drafted += ctx->spec.stats.drafted - s0.drafted;
            ctx->stats.n_spec_accepted += ctx->spec.stats.accepted - s0.accepted;
            if (n_new < 1) { st = EG_ERR_INTERNAL; goto fail; }
        } else {
            const float *logits;
            if ((st = eg_ar_step(ctx->ar, prev, &logits)) != EG_OK) goto fail;
            toks[0] = eg_sampler_sample(&ctx->sampler, logits);
        }
        for (int i = 0; i < n_new; i++, t++) {
            prev = toks[i];
            ctx->stats.n_frames++;
            ctx->stats.n_frames_done_sentence++;
            /* the frame's phoneme id (a phoneme-conditioned codec reads it; the AR's own length regulation says
             * which) */
            const int32_t *phone = &ids[spec ? eg_ar_frame_phoneme(ctx->ar, t) : eg_ar_step_phoneme(ctx->ar)];
            if (trace) {   /* TOKEN:PHONEME, as `edgegen decode` reads them */
                tn += snprintf(tl + tn, sizeof tl - (size_t)tn, " %d:%d", (int)prev, (int)*phone);
                if (t % 32 == 31 || t == n_frames - 1) {
                    EG_LOGD("sentence %lld tokens %lld:%s", (long long)ctx->sent_index - 1, (long long)(t - t % 32), tl);
                    tn = 0;
                }
            }
            if ((st = eg_decoder_push(ctx->dec, &prev, phone, 1, sentence_sink, ctx)) != EG_OK) goto fail;
        }
    }
    if ((st = eg_decoder_flush(ctx->dec, sentence_sink, ctx)) != EG_OK) goto fail;
    EG_CHECK(ctx->sent_pos == ctx->sent_len);
    return EG_OK;

fail:
    eg_decoder_reset(ctx->dec);
    ctx->n_stage = 0;
    return st;
}

/* Punctuation and space symbols of the Piper inventory: alone they are not speech. */
static int is_punct(uint32_t cp) {
    return cp < 0x80 && (cp == ' ' || strchr("!'(),-.:;?\"", (int)cp) != NULL) && cp != 0;
}

/* Map codepoints to Piper-layout ids (bos pad p pad ... eos); returns the count, unknown ones dropped. */
static int map_ids(struct eg_ctx *ctx, const uint32_t *ph, int n) {
    const struct eg_ar_config *c = &ctx->m->ar->cfg;
    int k = 0;
    ctx->id_src[k] = -1;
    ctx->ids[k++] = (int32_t)c->bos_id;
    ctx->id_src[k] = -1;
    ctx->ids[k++] = (int32_t)c->pad_id;
    for (int i = 0; i < n; i++) {
        const int id = eg_model_phoneme_id(ctx->m, ph[i]);
        if (id < 0) { ctx->stats.n_unknown_phonemes++; continue; }
        ctx->id_src[k] = i;
        ctx->ids[k++] = id;
        ctx->id_src[k] = -1;
        ctx->ids[k++] = (int32_t)c->pad_id;
    }
    ctx->id_src[k] = -1;
    ctx->ids[k++] = (int32_t)c->eos_id;
    return k;
}

enum eg_status eg_ctx_synthesize_phonemes(struct eg_ctx *ctx, const uint32_t *ph, int n) {
    enum eg_status st;
    if (!ctx || n < 0 || (n > 0 && !ph)) return EG_ERR_INVALID_ARG;
    if (ctx->busy) return refuse_reentry();
    const int max = ctx->p.max_phonemes;
    while (n > 0) {
        int take = n;
        if (take > max) {   /* split at the last space before the limit, else hard */
            take = max;
            for (int j = max; j > max / 2; j--)
                if (ph[j] == ' ') { take = j; break; }
        }
        int speakable = 0;
        for (int j = 0; j < take && !speakable; j++) speakable = !is_punct(ph[j]) && eg_model_phoneme_id(ctx->m, ph[j]) >= 0;
        const int n_ids = map_ids(ctx, ph, take);
        ph += take;
        n -= take;
        while (n > 0 && *ph == ' ') { ph++; n--; }
        if (!speakable) continue;   /* only punctuation, spaces or unknown symbols: nothing to say */
        if (ctx->in_text) ctx->text_spoken++;
        ctx->have_src = 1;
        if ((st = eg_ctx_synthesize_ids(ctx, ctx->ids, n_ids)) != EG_OK) return st;
    }
    return EG_OK;
}

static enum eg_status emit_sentence(void *sink, const uint32_t *ph, int n) {
    if (n < 0 || (n > 0 && !ph)) {
        EG_LOGE("phonemiser: sentence with %d phonemes%s", n, ph ? "" : " and no buffer");
        return EG_ERR_INVALID_ARG;
    }
    return eg_ctx_synthesize_phonemes(sink, ph, n);
}

enum eg_status eg_ctx_synthesize_text(struct eg_ctx *ctx, const char *utf8, eg_phonemiser_fn phonemiser, void *user) {
    enum eg_status st;
    long bad;
    if (!ctx || !utf8 || !phonemiser) return EG_ERR_INVALID_ARG;
    if (ctx->busy) return refuse_reentry();
    if ((bad = eg_utf8_invalid_at(utf8, strlen(utf8))) >= 0) {
        EG_LOGE("input text is not valid UTF-8 at byte %ld (byte 0x%02X)", bad, (unsigned)(unsigned char)utf8[bad]);
        return EG_ERR_INVALID_ARG;
    }
    eg_ctx_reset(ctx);
    ctx->in_text = 1;
    ctx->text_spoken = 0;
    st = phonemiser(user, utf8, ctx->p.max_phonemes, emit_sentence, ctx);
    ctx->in_text = 0;
    if (st == EG_OK && ctx->text_spoken == 0) {
        EG_LOGE("no speakable text (the input is empty, or only whitespace, punctuation or unknown symbols)");
        return EG_ERR_INVALID_ARG;
    }
    return st;
}

/* ---- text with markup (runtime/text/ front end through the public API) ------------------------------------- */

static enum eg_status markup_sentence(void *user, const struct eg_text_sentence *s) {
    struct eg_ctx *ctx = user;
    enum eg_status st;
    if (s->n_phonemes <= 0) {   /* a <break> with nothing after it */
        if (s->pause_ms > 0)
            return emit_silence(ctx, (int64_t)s->pause_ms * ctx->m->codec->cfg.sample_rate_hz / 1000);
        return EG_OK;
    }
    if (s->n_phonemes > ctx->p.max_phonemes) {
        EG_LOGE("text front end: sentence of %d phonemes over max_phonemes %d", s->n_phonemes, ctx->p.max_phonemes);
        return EG_ERR_INTERNAL;
    }
    int speakable = 0;
    for (int j = 0; j < s->n_phonemes && !speakable; j++)
        speakable = !is_punct(s->phonemes[j]) && eg_model_phoneme_id(ctx->m, s->phonemes[j]) >= 0;
    if (!speakable) {   /* nothing the model can say: keep a requested pause for the next sentence */
        if (s->pause_ms >= 0) ctx->pause_override_ms = s->pause_ms + (ctx->pause_override_ms > 0 ? ctx->pause_override_ms : 0);
        return EG_OK;
    }
    const int n_ids = map_ids(ctx, s->phonemes, s->n_phonemes);
    int use_rates = 0;
    float r = s->rate[0];
    for (int k = 0; k < n_ids; k++) {   /* pads take their phoneme's rate, bos the first one's */
        if (ctx->id_src[k] >= 0) r = s->rate[ctx->id_src[k]];
        ctx->id_rate[k] = r;
        use_rates |= r != 1.0f;
    }
    ctx->text_spoken++;
    if (s->pause_ms >= 0) ctx->pause_override_ms = s->pause_ms;
    ctx->cur = s;
    ctx->use_rates = use_rates;
    ctx->have_src = 1;
    st = eg_ctx_synthesize_ids(ctx, ctx->ids, n_ids);
    ctx->cur = NULL;
    ctx->use_rates = 0;
    return st;
}

enum eg_status eg_ctx_synthesize_markup(struct eg_ctx *ctx, const char *utf8, const struct eg_text_params *tp,
                                        eg_phonemiser_fn phonemiser, void *user) {
    enum eg_status st;
    if (!ctx || !utf8 || !phonemiser) return EG_ERR_INVALID_ARG;
    if (ctx->busy) return refuse_reentry();
    struct eg_text_params p = tp ? *tp : eg_text_default_params();
    p.max_phonemes = ctx->p.max_phonemes;
    if ((st = eg_text_check(utf8, &p, ctx->m)) != EG_OK) return st;   /* markup and user phonemes, before audio */
    eg_ctx_reset(ctx);
    ctx->in_text = 1;
    ctx->text_spoken = 0;
    st = eg_text_process(utf8, &p, phonemiser, user, markup_sentence, ctx);
    ctx->in_text = 0;
    ctx->cur = NULL;
    if (st == EG_OK && ctx->text_spoken == 0) {
        EG_LOGE("no speakable text (the input is empty, or only whitespace, punctuation, markup or unknown symbols)");
        return EG_ERR_INVALID_ARG;
    }
    return st;
}

/* ==== memory estimator for `edgegen.ar` files (registered in runtime/pipeline/memplan_archs.c) ================================= */

/* The parts a TTS context for this AR file needs with default context params (n_threads from p): the AR state,
 * this file's buffers and, when the codec is found next to the file (eg_model_load's rule), its mapped weights and
 * decoder state. */
enum eg_status eg_tts_memplan(const struct eg_gguf *g, const struct eg_memplan_params *mp, struct eg_memplan *plan) {
    struct eg_ar_model *ar = NULL;
    struct eg_codec_model *codec = NULL;
    struct eg_gguf *cg = NULL;
    struct eg_model m = { 0 };
    struct eg_ctx_params p = eg_ctx_default_params();
    struct eg_exec fake;
    char path[4096];
    enum eg_status st;

    if ((st = eg_ar_model_from_gguf(g, &ar)) != EG_OK) return st;
    p.n_threads = mp && mp->n_threads >= 1 && mp->n_threads <= 256 ? mp->n_threads : 1;
    memset(&fake, 0, sizeof fake);
    fake.n_threads = p.n_threads;
    m.ar = ar;
    st = eg_ar_state_memplan(ar, &fake, 2 * p.max_phonemes + 3, plan);   /* the arena part by part */
    if (st == EG_OK && find_codec(eg_gguf_label(g), path, sizeof path) && eg_gguf_open(path, &cg) == EG_OK &&
        eg_codec_model_from_gguf(cg, &codec) == EG_OK) {
        struct eg_decoder_params dp = tts_decoder_params(&p);
        m.codec = codec;
        st = eg_memplan_add(plan, "codec weights", eg_gguf_is_mapped(cg) ? EG_MEM_MAPPED : EG_MEM_HEAP,
                            eg_gguf_file_bytes(cg));
        if (st == EG_OK) st = eg_decoder_memplan(codec, &fake, &dp, plan);
        if (st == EG_OK) st = eg_memplan_add(plan, "tts buffers", EG_MEM_HEAP, ctx_layout(NULL, &m, &p));
    }
    eg_codec_model_destroy(codec);
    eg_gguf_close(cg);
    eg_ar_model_destroy(ar);
    return st;
}
