/* models/models.h — model-side declarations shared by the models/ sources: per model a *_config (hyperparameters read
 * from GGUF metadata), *_weights (borrowed const pointers into the file mapping, shapes in comments, innermost
 * dimension last as in C) and the model object that owns the mapping. Run state lives in each model's context
 * (decoder.h etc.), never here: models are immutable after load and shareable across threads.
 */
#ifndef EG_MODELS_H
#define EG_MODELS_H

#include <stdint.h>
#include "runtime/edgegen.h"
#include "models/exec.h"
#include "runtime/core/gguf.h"

/* ==== pico-codec decoder (architecture "edgegen.codec", models/train/codec_model.py: Decoder) ============== */

#define EG_CODEC_ARCH     "edgegen.codec"
#define EG_VOICE_ARCH     "edgegen.voice"   /* voice v2 (models/train/voice_model.py VoiceDecoder): the same backbone
                                             * and config (keys edgegen.voice.*), + pitch head, harmonic source */
#define EG_CODEC_MAX_FSQ  16          /* latent dimensions (FSQ digits) we accept */

struct eg_codec_config {
    uint32_t sample_rate_hz;          /* edgegen.codec.sample_rate */
    uint32_t hop;                     /* samples per frame (edgegen.codec.hop_length) */
    uint32_t n_fft;                   /* power of two, >= 2*hop */
    uint32_t latent_dim;              /* number of FSQ digits = len(fsq_levels) */
    uint32_t fsq_levels[EG_CODEC_MAX_FSQ]; /* odd, >= 3; digit 0 least significant */
    uint32_t n_codes;                 /* prod(fsq_levels) <= 65536: tokens are in [0, n_codes) */
    uint32_t dim, ffn_dim, n_layers, kernel_size;  /* kernel_size odd */
    float    layer_norm_eps;
    float    mag_clamp;               /* exp(logmag) is clamped to at most this */
    uint32_t n_phonemes;              /* edgegen.codec.n_phonemes (optional, default 0): > 0 = the decoder is
                                       * phoneme-conditioned, every frame also takes a phoneme id in
                                       * [0, n_phonemes) (edgegen.codec.phonemes names them, as edgegen.ar.phonemes) */
    /* voice v2 (architecture edgegen.voice; all zero for edgegen.codec): */
    int      voice;                   /* 1: a voice v2 file (pitch head present) */
    int      harmonic;                /* edgegen.voice.harmonic: envelope head + harmonic source (voice_source.h) */
    uint32_t n_env;                   /* envelope points 0 .. Nyquist (>= 2) */
    float    env_clamp;               /* exp(envelope) clamped to at most this */
    float    harm_f_max;              /* harmonics below this (Hz, <= Nyquist) */
    float    f0_min, f0_max, f0_center, vuv_threshold;
    int      noise_white;             /* edgegen.voice.noise_white (optional, default false; harmonic files only):
                                       * the noise branch is filtered white noise (magnitude head dec.noise_head
                                       * [n_fft/2+1] times the STFT of eg_voice_noise), not magnitude + phase */
};

struct eg_codec_block {               /* ConvNeXtBlock */
    const float *dw_w;                /* f32 [kernel][dim]   dwconv.weight (torch [dim][1][kernel], transposed) */
    const float *dw_b;                /* f32 [dim] */
    const float *norm_w, *norm_b;     /* f32 [dim] */
    struct eg_linear pw1;             /* f32|f16|q8_0 [ffn][dim], bias [ffn] */
    struct eg_linear pw2;             /* f32|f16|q8_0 [dim][ffn], bias [dim] */
    const float *gamma;               /* f32 [dim] layer scale */
};

struct eg_codec_weights {
    struct eg_linear embed;           /* f32 [dim][kernel*latent] (torch [dim][latent][kernel] → (dim,kernel,latent)) */
    const float *phone_embed;         /* f32 [n_phonemes][dim], added to the embed output; NULL if n_phonemes = 0 */
    const float *norm_w, *norm_b;     /* f32 [dim] */
    struct eg_codec_block *blocks;    /* [n_layers], owned by the model */
    const float *final_norm_w, *final_norm_b; /* f32 [dim] */
    struct eg_linear head;            /* f32|f16|q8_0 [n_fft+2][dim]: rows 0..n_fft/2 log-magnitude, then phase;
                                       * noise_white: dec.noise_head [n_fft/2+1][dim], log-magnitude only */
    struct eg_linear pitch_head;      /* voice: f32 [2][dim] (log F0/f0_center, voicing logit); else n_out = 0 */
    struct eg_linear env_head;        /* voice, harmonic: f32|f16|q8_0 [n_env][dim]; else n_out = 0 */
};

struct eg_codec_model {
    struct eg_codec_config cfg;
    struct eg_codec_weights w;
    struct eg_gguf *gguf;             /* owned when the model was loaded from a path, else borrowed */
    int owns_gguf;
};

/* Load and validate a decoder (architecture edgegen.codec or edgegen.voice) from a GGUF file (owns the mapping). Errors: EG_ERR_IO, EG_ERR_FORMAT (the log
 * names the key or tensor, the expected and the found value), EG_ERR_NOMEM. */
enum eg_status eg_codec_model_load(const char *path, struct eg_codec_model **out);
/* Same from an already opened GGUF, borrowed: it must outlive the model. */
enum eg_status eg_codec_model_from_gguf(const struct eg_gguf *g, struct eg_codec_model **out);
void eg_codec_model_destroy(struct eg_codec_model *m);   /* NULL allowed */

/* Symbol of phoneme id (edgegen.codec.phonemes; "" for an unused id); NULL when the decoder is not
 * phoneme-conditioned or id is out of range. Valid while the model lives. */
const char *eg_codec_model_phoneme(const struct eg_codec_model *m, int id);

/* Receptive field of the decoder in frames on each side: (kernel/2) * (1 + n_layers). */
int eg_codec_receptive_frames(const struct eg_codec_config *cfg);
/* Multiply-adds x2 (FLOPs) per decoded frame, counting the matrix products, convolutions and the FFT. */
double eg_codec_flops_per_frame(const struct eg_codec_config *cfg);

#endif /* EG_MODELS_H */
