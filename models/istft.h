/* models/istft.h — inverse real FFT + periodic Hann window + overlap-add, "same" padding as Vocos
 * (models/train/codec_model.py: istft_same). The tables (twiddles, bit reversal, window) live in caller memory
 * sized by eg_istft_get_size(); after eg_istft_init() they are immutable and may be shared across threads.
 * The overlap-add state (struct eg_ola) is mutable, one per stream.
 */
#ifndef EG_ISTFT_H
#define EG_ISTFT_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

struct eg_istft {
    int n_fft;            /* power of two >= 4 */
    int hop;              /* 1 <= hop <= n_fft / 2 */
    int half;             /* n_fft / 2: size of the complex FFT */
    const float *win;     /* [n_fft] periodic Hann / n_fft (the irfft scale folded in) */
    const float *win_sq;  /* [n_fft] periodic Hann squared (the OLA envelope) */
    float inv_win_rms;    /* 1 / sqrt(sum win_sq) (sum in double): scales an analysis frame of unit white noise
                           * to unit expected power per bin (voice v2 noise_white) */
    const float *tw;      /* [half/2][2] cos, sin of +2*pi*j/half: butterflies of the inverse complex FFT */
    const float *post;    /* [half][2] cos, sin of +2*pi*k/n_fft: real-spectrum split */
    const int32_t *rev;   /* [half] bit reversal permutation of log2(half) bits */
};

/* Bytes of table memory for these sizes (0 on invalid sizes). */
size_t eg_istft_get_size(int n_fft);
/* Validate sizes and fill the tables into mem (eg_istft_get_size bytes, 16-byte aligned). EG_ERR_INVALID_ARG
 * with a logged reason for n_fft not a power of two, n_fft < 4, hop outside [1, n_fft/2]. */
enum eg_status eg_istft_init(struct eg_istft *st, void *mem, int n_fft, int hop);

/* Floats of scratch eg_istft_frame needs (per concurrent caller). */
size_t eg_istft_scratch_floats(const struct eg_istft *st);

/* One frame: spectrum (re[k], im[k], k <= n_fft/2; the imaginary parts of bins 0 and n_fft/2 are ignored, as
 * torch.fft.irfft) → windowed time frame out[n_fft] = irfft(X)[n] * hann[n]. out may alias re or im (both are
 * read into scratch first). scratch: eg_istft_scratch_floats floats. */
void eg_istft_frame(const struct eg_istft *st, float *out, const float *re, const float *im, float *scratch);

/* The analysis twin (voice v2 source STFT): re/im [n_fft/2+1] = torch.fft.rfft(x * hann) (periodic Hann, unscaled),
 * x [n_fft]. scratch: eg_istft_scratch_floats floats. */
void eg_rfft_frame(const struct eg_istft *st, float *re, float *im, const float *x, float *scratch);

/* Overlap-add state for one stream. Positions are in the untrimmed signal (frame t starts at t*hop); output
 * sample s is untrimmed position s + (n_fft - hop)/2. */
struct eg_ola {
    float  *acc;          /* [cap] sum of windowed frames, position base + i */
    float  *env;          /* [cap] sum of squared windows */
    int     cap;          /* n_fft + max_frames * hop */
    int64_t base;         /* untrimmed position of acc[0] */
    int64_t n_frames;     /* frames added so far */
    int64_t n_out;        /* samples emitted so far (trimmed positions) */
};
/* Buffer floats for a stream adding at most max_frames frames between two emits. */
size_t eg_ola_floats(const struct eg_istft *st, int max_frames);
void eg_ola_init(struct eg_ola *o, const struct eg_istft *st, float *buf, int max_frames);
void eg_ola_reset(struct eg_ola *o);
/* Add the next frame (windowed, n_fft samples). The caller keeps at most max_frames adds between emits. */
void eg_ola_add(struct eg_ola *o, const struct eg_istft *st, const float *frame);
/* Emit every sample no future frame can touch, or (final != 0, no more frames) up to n_frames*hop in total.
 * Writes normalised samples (acc / max(env, 1e-11)) to out, returns the count (<= max_frames*hop + n_fft). */
int eg_ola_emit(struct eg_ola *o, const struct eg_istft *st, float *out, int final);

#endif /* EG_ISTFT_H */
