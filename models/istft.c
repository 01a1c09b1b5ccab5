/* models/istft.c — inverse real FFT (radix-2, O(N log N)), periodic Hann window, overlap-add with the
 * summed-squared-window normalisation and the (n_fft - hop)/2 trim of codec_model.istft_same.
 *
 * Real inverse via a half-size complex FFT (the standard "two real signals in one complex" split): with
 * M = N/2, E[k] = (X[k] + conj X[M-k]) / 2 and O[k] = (X[k] - conj X[M-k]) / 2 * e^{+2 pi i k/N} are the
 * spectra of the even and odd samples, so z = IFFT_M(E + iO) gives x[2m] = Re z[m], x[2m+1] = Im z[m].
 * The factors 1/2 and 1/M are folded into the window table (hann / N). Tables are computed in double.
 * Data layout: complex values interleaved (re, im); frames are n_fft floats.
 */
#include <math.h>
#include <string.h>
#include "runtime/core/internal.h"
#include "models/istft.h"

static int is_pow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

/* Table layout inside mem: win [n], win_sq [n], tw [half/2][2], post [half][2], rev [half] (int32). */
size_t eg_istft_get_size(int n_fft) {
    if (!is_pow2(n_fft) || n_fft < 4 || n_fft > (1 << 24)) return 0;
    const size_t half = (size_t)n_fft / 2;
    return sizeof(float) * (2 * (size_t)n_fft + half + 2 * half) + sizeof(int32_t) * half;
}

enum eg_status eg_istft_init(struct eg_istft *st, void *mem, int n_fft, int hop) {
    memset(st, 0, sizeof *st);
    if (!is_pow2(n_fft) || n_fft < 4 || n_fft > (1 << 24)) {
        EG_LOGE("istft: n_fft must be a power of two in [4, 2^24] (radix-2 FFT), found %d", n_fft);
        return EG_ERR_INVALID_ARG;
    }
    if (hop < 1 || hop > n_fft / 2) {
        EG_LOGE("istft: hop must be in [1, n_fft/2 = %d] so the window envelope stays positive, found %d", n_fft / 2, hop);
        return EG_ERR_INVALID_ARG;
    }
    const int n = n_fft, half = n_fft / 2;
    float *win = mem, *win_sq = win + n, *tw = win_sq + n, *post = tw + half; /* tw: (half/2)*2 floats */
    int32_t *rev = (int32_t *)(post + 2 * half);
    int bits = 0;

    double sum_sq = 0.0;
    for (int i = 0; i < n; i++) {
        double w = 0.5 - 0.5 * cos(2.0 * M_PI * i / n);   /* torch.hann_window(n, periodic=True) */
        win[i] = (float)(w / n);
        win_sq[i] = (float)(w * w);
        sum_sq += win_sq[i];
    }
    for (int j = 0; j < half / 2; j++) {
        tw[2 * j] = (float)cos(2.0 * M_PI * j / half);
        tw[2 * j + 1] = (float)sin(2.0 * M_PI * j / half);
    }
    for (int k = 0; k < half; k++) {
        post[2 * k] = (float)cos(2.0 * M_PI * k / n);
        post[2 * k + 1] = (float)sin(2.0 * M_PI * k / n);
    }
    while ((1 << bits) < half) bits++;
    for (int i = 0; i < half; i++) {
        int r = 0;
        for (int b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
        rev[i] = r;
    }
    st->n_fft = n; st->hop = hop; st->half = half;
    st->win = win; st->win_sq = win_sq; st->tw = tw; st->post = post; st->rev = rev;
    st->inv_win_rms = (float)(1.0 / sqrt(sum_sq));
    return EG_OK;
}

size_t eg_istft_scratch_floats(const struct eg_istft *st) { return 2 * (size_t)st->half; }

/* In-place inverse complex FFT (e^{+i}), unscaled, on z [half][2] already in bit-reversed order. */
static void ifft_radix2(const struct eg_istft *st, float *z) {
    const int m = st->half;
    for (int len = 2; len <= m; len <<= 1) {
        const int hl = len >> 1, step = m / len;
        for (int i = 0; i < m; i += len) {
            for (int j = 0; j < hl; j++) {
                const float wr = st->tw[2 * j * step], wi = st->tw[2 * j * step + 1];
                float *a = z + 2 * (i + j), *b = z + 2 * (i + j + hl);
                const float vr = b[0] * wr - b[1] * wi, vi = b[0] * wi + b[1] * wr;
                const float ur = a[0], ui = a[1];
                a[0] = ur + vr; a[1] = ui + vi;
                b[0] = ur - vr; b[1] = ui - vi;
            }
        }
    }
}

void eg_istft_frame(const struct eg_istft *st, float *out, const float *re, const float *im, float *scratch) {
    const int m = st->half;
    float *z = scratch;
    /* k = 0: only the real parts of DC and Nyquist count (torch.fft.irfft). 2E = X0 + XM, 2O = X0 - XM. */
    z[2 * st->rev[0]] = re[0] + re[m];
    z[2 * st->rev[0] + 1] = re[0] - re[m];
    for (int k = 1; k < m; k++) {
        const float ar = re[k], ai = im[k], br = re[m - k], bi = -im[m - k];   /* A = X[k], B = conj X[M-k] */
        const float er = ar + br, ei = ai + bi;                                 /* 2E */
        const float dr = ar - br, di = ai - bi;                                 /* 2O before the twist */
        const float c = st->post[2 * k], s = st->post[2 * k + 1];
        const float or_ = dr * c - di * s, oi = dr * s + di * c;                /* 2O = 2D e^{+2 pi i k/N} */
        const int r = st->rev[k];
        z[2 * r] = er - oi;                                                     /* 2(E + iO) */
        z[2 * r + 1] = ei + or_;
    }
    ifft_radix2(st, z);
    /* x[2m] = Re z[m], x[2m+1] = Im z[m]; scale 1/(2M) = 1/N is in win. */
    for (int i = 0; i < 2 * m; i++) out[i] = z[i] * st->win[i];
}

/* Forward real FFT through the same half-size complex FFT: z[m] = x[2m] + i x[2m+1] (windowed), Z = FFT_M(z) =
 * conj(IFFT_M(conj z)); with Zc = conj Z[(M-k) mod M]: E = (Z[k] + Zc)/2, O = (Z[k] - Zc)/(2i),
 * X[k] = E + e^{-2 pi i k/N} O, X[M] = E - O at k = 0. win[] is hann/N exactly (N a power of two), so hann = win*N. */
void eg_rfft_frame(const struct eg_istft *st, float *re, float *im, const float *x, float *scratch) {
    const int m = st->half;
    const float nf = (float)st->n_fft;
    float *z = scratch;
    for (int i = 0; i < m; i++) {
        const int r = st->rev[i];
        z[2 * r] = x[2 * i] * (st->win[2 * i] * nf);
        z[2 * r + 1] = -(x[2 * i + 1] * (st->win[2 * i + 1] * nf));   /* conj */
    }
    ifft_radix2(st, z);
    for (int i = 0; i < m; i++) z[2 * i + 1] = -z[2 * i + 1];            /* conj: Z = FFT_M(z) */
    re[0] = z[0] + z[1]; im[0] = 0.0f;
    re[m] = z[0] - z[1]; im[m] = 0.0f;
    for (int k = 1; k < m; k++) {
        const float ar = z[2 * k], ai = z[2 * k + 1], br = z[2 * (m - k)], bi = -z[2 * (m - k) + 1];
        const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
        const float dr = ar - br, di = ai - bi;
        const float or_ = 0.5f * di, oi = -0.5f * dr;                  /* O = -i D / 2 */
        const float c = st->post[2 * k], s = st->post[2 * k + 1];     /* e^{-i a} = (c, -s) */
        re[k] = er + (c * or_ + s * oi);
        im[k] = ei + (c * oi - s * or_);
    }
}

/* ---- overlap-add ------------------------------------------------------------------------------------------ */

/* Capacity: up to pad (< n_fft) not-yet-emitted samples below n_frames*hop, plus max_frames new frames. */
size_t eg_ola_floats(const struct eg_istft *st, int max_frames) {
    return 2 * (2 * (size_t)st->n_fft + (size_t)max_frames * st->hop);
}

void eg_ola_init(struct eg_ola *o, const struct eg_istft *st, float *buf, int max_frames) {
    o->cap = 2 * st->n_fft + max_frames * st->hop;
    o->acc = buf;
    o->env = buf + o->cap;
    eg_ola_reset(o);
}

void eg_ola_reset(struct eg_ola *o) {
    memset(o->acc, 0, (size_t)o->cap * sizeof *o->acc);
    memset(o->env, 0, (size_t)o->cap * sizeof *o->env);
    o->base = 0; o->n_frames = 0; o->n_out = 0;
}

void eg_ola_add(struct eg_ola *o, const struct eg_istft *st, const float *frame) {
    const int64_t off = o->n_frames * st->hop - o->base;
    float *acc = o->acc + off, *env = o->env + off;
    EG_ASSERT(off >= 0 && off + st->n_fft <= o->cap);
    for (int i = 0; i < st->n_fft; i++) { acc[i] += frame[i]; env[i] += st->win_sq[i]; }
    o->n_frames++;
}

int eg_ola_emit(struct eg_ola *o, const struct eg_istft *st, float *out, int final) {
    const int64_t pad = (st->n_fft - st->hop) / 2;
    /* trimmed sample s is untrimmed s + pad; it is complete once every frame that can touch it was added */
    int64_t s_end = final ? o->n_frames * st->hop : o->n_frames * st->hop - pad;
    if (s_end <= o->n_out) return 0;
    const int64_t i0 = o->n_out + pad - o->base, n = s_end - o->n_out;
    EG_ASSERT(i0 >= 0 && i0 + n <= o->cap);
    for (int64_t i = 0; i < n; i++) {
        const float e = o->env[i0 + i];
        out[i] = o->acc[i0 + i] / (e > 1e-11f ? e : 1e-11f);
    }
    o->n_out = s_end;
    /* drop everything below the next sample to emit */
    const int64_t shift = i0 + n, keep = o->cap - shift;
    memmove(o->acc, o->acc + shift, (size_t)keep * sizeof *o->acc);
    memmove(o->env, o->env + shift, (size_t)keep * sizeof *o->env);
    memset(o->acc + keep, 0, (size_t)shift * sizeof *o->acc);
    memset(o->env + keep, 0, (size_t)shift * sizeof *o->env);
    o->base += shift;
    return (int)n;
}
