/* models/voice_source.h — the harmonic half of the voice v2 decoder (architecture "edgegen.voice",
 * models/train/voice_model.py): pitch-head rows → F0 / voicing per frame → the harmonic source e(n) (closed form,
 * phase carried per sample in double from sample 0 of the stream) → per frame: its STFT with the synthesis frames,
 * times the interpolated envelope, plus the learned noise spectrum → the spectrum the iSTFT inverts.
 *
 * The decoder (models/decoder.c) owns the buffers (its arena) and the order of calls:
 *   eg_voice_src_push_pitch (frames in order) → eg_voice_src_generate (every sample whose F0 is known) →
 *   eg_voice_src_window + eg_voice_spectrum per frame whose source window is complete → eg_voice_src_drop.
 * A sample is generated once, from the same frame values whatever the window sizes, so streamed output equals
 * whole-utterance output bit for bit. One source per stream; eg_voice_spectrum is reentrant (scratch per caller).
 */
#ifndef EG_VOICE_SOURCE_H
#define EG_VOICE_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "models/istft.h"
#include "models/models.h"
#include "simd/kernels.h"

#define EG_VOICE_BLOCK 256      /* samples per vector block of the source */

struct eg_voice_src {
    const struct eg_codec_config *c;
    double   cycles;            /* sum of f0(n)/sr over the samples generated (unwrapped, as torch.cumsum) */
    int64_t  n_gen;             /* samples generated so far */
    float   *f0, *vuv;          /* [cap_f] per frame: F0 clamped to [f0_min, f0_max], voicing 0 or 1 */
    int64_t  f_base;            /* frame index of f0[0] */
    int64_t  n_frames;          /* frames pushed so far */
    int      cap_f;
    float   *e;                 /* [cap_e] samples [e_base, n_gen) */
    int64_t  e_base;
    int      cap_e;
    float   *blk;               /* [14 * EG_VOICE_BLOCK] 4 argument rows, their sines and cosines, the faded
                                 * harmonic's amplitude, voicing */
};

/* Floats of buffer for a stream that keeps at most max_frames frames of pitch and their source samples. */
size_t eg_voice_src_floats(const struct eg_codec_config *c, int max_frames);
void   eg_voice_src_init(struct eg_voice_src *s, const struct eg_codec_config *c, float *buf, int max_frames);
void   eg_voice_src_reset(struct eg_voice_src *s);

/* Append n frames of pitch-head output (row i: [log(F0/f0_center), voicing logit], rows ld floats apart);
 * tmp: 2*n floats of scratch. */
void eg_voice_src_push_pitch(struct eg_voice_src *s, const struct eg_kernels *k, const float *rows, int ld, int n,
                             float *tmp);
/* Generate every sample whose interpolation frames are known (final: the stream has ended at n_frames, the
 * last frame's value holds to the end, all n_frames * hop samples). */
void eg_voice_src_generate(struct eg_voice_src *s, const struct eg_kernels *k, int final);
/* The samples of frame t's analysis window, [t*hop - p_l, t*hop - p_l + n_fft), p_l = (n_fft - hop)/2, with
 * zeros before 0 and from n_total on (n_total = n_frames*hop at the end of the stream, else INT64_MAX);
 * 1 if they are all generated (out filled), 0 if not yet. */
int eg_voice_src_window(const struct eg_voice_src *s, int64_t t, int64_t n_total, float *out);
/* Forget samples below `sample` and frames no sample from `sample` on interpolates from. */
void eg_voice_src_drop(struct eg_voice_src *s, int64_t sample);

/* The white noise of noise_white files at stream sample n (voice_model.white_noise): splitmix64(n), its top 23
 * bits b mapped to (b + 1/2) 2^-22 - 1 in (-1, 1) exactly, times float(sqrt 3). A pure function of n, so any window split agrees. */
float  eg_voice_noise(int64_t n);

/* Floats of scratch eg_voice_spectrum needs per concurrent caller. */
size_t eg_voice_spectrum_floats(const struct eg_codec_config *c);
/* One frame's spectrum: noise = min(exp(logmag), mag_clamp) * e^{i phase} from the noise head row
 * [n_fft + 2] (noise_white files: min(exp(logmag), mag_clamp) * rfft(hann * w) / sqrt(sum hann^2), w frame t's
 * window of eg_voice_noise with zeros before 0 and from n_total on; the row's first n_fft/2 + 1 floats are read);
 * harmonic files add H * rfft(hann * src) with H = interp(min(exp(env_row), env_clamp)) (env_row [n_env], src
 * [n_fft] = eg_voice_src_window). re, im: [n_fft/2 + 1]. */
void eg_voice_spectrum(const struct eg_codec_config *c, const struct eg_kernels *k, const struct eg_istft *st,
                       const float *noise_row, const float *env_row, const float *src, int64_t t, int64_t n_total,
                       float *re, float *im, float *scratch);

#endif /* EG_VOICE_SOURCE_H */
