/* models/voice_source.c — voice v2 (architecture "edgegen.voice"): pitch → harmonic source → per-frame spectrum,
 * the maths of models/train/voice_model.py (harmonic_excitation, stft_same, env_interp_matrix, VoiceDecoder.forward):
 *
 *   F0 = clamp(exp(p0 + log f0_center), f0_min, f0_max), v = sigmoid(p1) > vuv_threshold     (per frame)
 *   f0(n), v(n): linear interpolation between frame centres, sample n at frame coordinate (n + 0.5)/hop - 0.5
 *                clamped at 0 and at the last frame (torch interpolate, align_corners=False, float32 index maths)
 *   phase(n) = frac(sum_{i<=n} f0(i)/sr) in double; theta = 2 pi phase; kappa = harm_f_max / f0(n) (double),
 *   K = floor(kappa), a = kappa - K;  e(n) = v(n) (sin(K theta/2) sin((K+1) theta/2) / sin(theta/2) + a sin((K+1) theta))
 *   S_t = min(exp(logmag), mag_clamp) e^{i phase_t} + H_t * rfft(hann * e[t*hop - p_l, +n_fft))
 *   noise_white files: the first term is min(exp(logmag), mag_clamp) * rfft(hann * w[t*hop - p_l, +n_fft)) / sqrt(sum
 *   hann^2), w(n) = eg_voice_noise(n) (voice_model.white_noise: a pure function of the sample index n)
 *
 * Precision: the sines are float (SLEEF sincos_f32 through the kernel table) of arguments reduced to [-pi, pi] in
 * double, with theta/2 taken in [-pi/2, pi/2) (phase - 1 above one half: the same value, better conditioned near
 * phase 1). Everything per sample runs in stream order on one thread, so the output depends neither on the
 * window sizes nor on the thread count.
 */
#include <math.h>
#include <string.h>
#include "models/voice_source.h"
#include "runtime/core/internal.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

size_t eg_voice_src_floats(const struct eg_codec_config *c, int max_frames) {
    const size_t cap_f = (size_t)max_frames + 4, cap_e = ((size_t)max_frames + 3) * c->hop + c->n_fft;
    return 2 * round16(cap_f) + round16(cap_e) + 14 * (size_t)EG_VOICE_BLOCK;
}

void eg_voice_src_init(struct eg_voice_src *s, const struct eg_codec_config *c, float *buf, int max_frames) {
    memset(s, 0, sizeof *s);
    s->c = c;
    s->cap_f = max_frames + 4;
    s->cap_e = (max_frames + 3) * (int)c->hop + (int)c->n_fft;
    s->f0 = buf;
    s->vuv = s->f0 + round16((size_t)s->cap_f);
    s->e = s->vuv + round16((size_t)s->cap_f);
    s->blk = s->e + round16((size_t)s->cap_e);
    eg_voice_src_reset(s);
}

void eg_voice_src_reset(struct eg_voice_src *s) {
    s->cycles = 0.0;
    s->n_gen = 0; s->e_base = 0;
    s->f_base = 0; s->n_frames = 0;
}

void eg_voice_src_push_pitch(struct eg_voice_src *s, const struct eg_kernels *k, const float *rows, int ld, int n,
                             float *tmp) {
    const struct eg_codec_config *c = s->c;
    const float lc = (float)log((double)c->f0_center);
    float *lf = tmp, *nv = tmp + n;
    EG_ASSERT(s->n_frames - s->f_base + n <= s->cap_f);
    for (int i = 0; i < n; i++) { lf[i] = rows[(size_t)i * ld] + lc; nv[i] = -rows[(size_t)i * ld + 1]; }
    k->exp_f32(lf, lf, n);      /* F0 = exp(log F0) */
    k->exp_f32(nv, nv, n);      /* exp(-logit): sigmoid = 1 / (1 + that) */
    for (int i = 0; i < n; i++) {
        const int64_t j = s->n_frames - s->f_base + i;
        float f = lf[i];
        /* torch.clamp(min, max): NaN stays NaN; it is caught below (no NaN reaches the phase) */
        f = f < c->f0_min ? c->f0_min : f > c->f0_max ? c->f0_max : f;
        s->f0[j] = f == f ? f : c->f0_min;
        s->vuv[j] = 1.0f / (1.0f + nv[i]) > c->vuv_threshold ? 1.0f : 0.0f;
    }
    s->n_frames += n;
}

/* Frame coordinate of sample n (torch compute_source_index_and_lambda, float): frames i0, i1 and weights. */
static void interp_at(const struct eg_voice_src *s, int64_t n, int64_t n_frames_total, int64_t *i0, int64_t *i1,
                      float *l0, float *l1) {
    const float ratio = (float)(1.0 / (double)s->c->hop);
    float real = ratio * ((float)n + 0.5f) - 0.5f;
    if (real < 0.0f) real = 0.0f;
    int64_t i = (int64_t)floorf(real);
    if (n_frames_total > 0 && i > n_frames_total - 1) i = n_frames_total - 1;
    float lam = real - (float)i;
    lam = lam < 0.0f ? 0.0f : lam > 1.0f ? 1.0f : lam;
    *i0 = i;
    *i1 = n_frames_total > 0 && i >= n_frames_total - 1 ? i : i + 1;
    *l1 = lam;
    *l0 = 1.0f - lam;
}

static double reduce_2pi(double x) { return x - 2.0 * M_PI * nearbyint(x * (0.5 / M_PI)); }

void eg_voice_src_generate(struct eg_voice_src *s, const struct eg_kernels *k, int final) {
    const struct eg_codec_config *c = s->c;
    const int64_t T = final ? s->n_frames : 0, n_end = final ? s->n_frames * (int64_t)c->hop : INT64_MAX;
    const double sr = (double)c->sample_rate_hz, fmax = (double)c->harm_f_max;
    const int B = EG_VOICE_BLOCK;
    float *args = s->blk, *sn = args + 4 * B, *cs = sn + 4 * B, *amp = cs + 4 * B, *vs = amp + B;
    if (s->n_frames == 0) return;
    for (;;) {
        int nb = 0;
        while (nb < B && s->n_gen + nb < n_end) {
            int64_t i0, i1;
            float l0, l1;
            interp_at(s, s->n_gen + nb, T, &i0, &i1, &l0, &l1);
            if (!final && i1 > s->n_frames - 1) break;        /* its next frame is not known yet */
            EG_ASSERT(i0 >= s->f_base && i1 < s->n_frames);
            const float f = s->f0[i0 - s->f_base] * l0 + s->f0[i1 - s->f_base] * l1;
            vs[nb] = s->vuv[i0 - s->f_base] * l0 + s->vuv[i1 - s->f_base] * l1;
            s->cycles += (double)f / sr;
            double ph = s->cycles - floor(s->cycles);
            if (ph >= 0.5) ph -= 1.0;
            const double h = M_PI * ph, kappa = fmax / (double)f, K = floor(kappa);
            amp[nb] = (float)(kappa - K);
            args[nb] = (float)h;
            args[B + nb] = (float)reduce_2pi(K * h);
            args[2 * B + nb] = (float)reduce_2pi((K + 1.0) * h);
            args[3 * B + nb] = (float)reduce_2pi(2.0 * (K + 1.0) * h);
            nb++;
        }
        if (nb == 0) return;
        /* pack the four argument rows densely for one kernel call */
        memmove(args + nb, args + B, sizeof(float) * (size_t)nb);
        memmove(args + 2 * nb, args + 2 * B, sizeof(float) * (size_t)nb);
        memmove(args + 3 * nb, args + 3 * B, sizeof(float) * (size_t)nb);
        k->sincos_f32(sn, cs, args, 4 * nb);
        EG_ASSERT(s->n_gen + nb - s->e_base <= s->cap_e);
        float *e = s->e + (s->n_gen - s->e_base);
        for (int j = 0; j < nb; j++) {
            const float den = sn[j], q = fabsf(den) > 1e-9f ? sn[nb + j] * sn[2 * nb + j] / den : 0.0f;
            e[j] = (q + amp[j] * sn[3 * nb + j]) * vs[j];
        }
        s->n_gen += nb;
        if (nb < B) return;
    }
}

int eg_voice_src_window(const struct eg_voice_src *s, int64_t t, int64_t n_total, float *out) {
    const struct eg_codec_config *c = s->c;
    const int64_t start = t * (int64_t)c->hop - (int64_t)(c->n_fft - c->hop) / 2, n = c->n_fft;
    const int64_t need = start + n < n_total ? start + n : n_total;
    if (need > s->n_gen) return 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t pos = start + i;
        if (pos < 0 || pos >= n_total) { out[i] = 0.0f; continue; }
        EG_ASSERT(pos >= s->e_base && pos < s->n_gen);
        out[i] = s->e[pos - s->e_base];
    }
    return 1;
}

void eg_voice_src_drop(struct eg_voice_src *s, int64_t sample) {
    if (sample > s->n_gen) sample = s->n_gen;
    if (sample > s->e_base) {
        const int64_t drop = sample - s->e_base;
        memmove(s->e, s->e + drop, sizeof(float) * (size_t)(s->n_gen - sample));
        s->e_base = sample;
    }
    /* the next sample interpolates from frames >= floor((n_gen + 0.5)/hop - 0.5) >= n_gen/hop - 1 */
    int64_t f = s->n_gen / (int64_t)s->c->hop - 2;
    if (f > s->n_frames) f = s->n_frames;
    if (f > s->f_base) {
        const int64_t drop = f - s->f_base, keep = s->n_frames - f;
        memmove(s->f0, s->f0 + drop, sizeof(float) * (size_t)keep);
        memmove(s->vuv, s->vuv + drop, sizeof(float) * (size_t)keep);
        s->f_base = f;
    }
}

/* ---- the white-noise source ------------------------------------------------------------------------------- */

float eg_voice_noise(int64_t n) {
    uint64_t z = (uint64_t)n + 0x9E3779B97F4A7C15ull;          /* splitmix64 of the sample index */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    /* top 23 bits + 1/2, times 2^-22, minus 1: in (-1, 1), exact in float; times float(sqrt 3) = unit variance */
    const float u = (float)(((double)(z >> 41) + 0.5) * 0x1p-22 - 1.0);
    return u * (float)1.7320508075688772;
}

/* ---- one frame's spectrum ---------------------------------------------------------------------------------- */

size_t eg_voice_spectrum_floats(const struct eg_codec_config *c) {
    const size_t nb = round16(c->n_fft / 2 + 1);
    return 6 * nb + round16(c->n_env) + 2 * round16(c->n_fft);
}

void eg_voice_spectrum(const struct eg_codec_config *c, const struct eg_kernels *k, const struct eg_istft *st,
                       const float *noise_row, const float *env_row, const float *src, int64_t t, int64_t n_total,
                       float *re, float *im, float *scratch) {
    const int nb = (int)c->n_fft / 2 + 1, ne = (int)c->n_env;
    const size_t stride = round16((size_t)nb);
    float *sn = scratch, *cs = sn + stride, *er = cs + stride, *ei = er + stride, *hb = ei + stride;
    float *env = hb + stride, *fft = env + round16((size_t)ne), *wn = fft + round16(c->n_fft);
    const float clamp = c->mag_clamp, eclamp = c->env_clamp;

    /* noise magnitude = min(exp(logmag), mag_clamp) (NaN stays NaN, as torch.clamp) */
    k->exp_f32(re, noise_row, nb);
    for (int i = 0; i < nb; i++) if (re[i] > clamp) re[i] = clamp;
    if (c->noise_white) {
        /* times rfft(hann * w) / sqrt(sum hann^2) of frame t's window of the white noise (zeros outside the
         * stream, as stft_same) */
        const int64_t start = t * (int64_t)c->hop - (int64_t)(c->n_fft - c->hop) / 2;
        for (int64_t i = 0; i < (int64_t)c->n_fft; i++) {
            const int64_t pos = start + i;
            wn[i] = pos < 0 || pos >= n_total ? 0.0f : eg_voice_noise(pos);
        }
        eg_rfft_frame(st, sn, cs, wn, fft);
        const float inv = st->inv_win_rms;
        for (int b = 0; b < nb; b++) {
            im[b] = re[b] * (cs[b] * inv);
            re[b] = re[b] * (sn[b] * inv);
        }
    } else {   /* times (cos, sin)(phase) */
        k->sincos_f32(sn, cs, noise_row + nb, nb);
        k->mul_f32(im, re, sn, nb);
        k->mul_f32(re, re, cs, nb);
    }
    if (!c->harmonic) return;
    /* H = interp(min(exp(env), env_clamp)): bin b at envelope position b (n_env-1)/(n_bins-1) (env_interp_matrix) */
    k->exp_f32(env, env_row, ne);
    for (int i = 0; i < ne; i++) if (env[i] > eclamp) env[i] = eclamp;
    for (int b = 0; b < nb; b++) {
        const double pos = (double)b * (ne - 1) / (nb - 1);
        int i0 = (int)floor(pos);
        if (i0 > ne - 1) i0 = ne - 1;
        const int i1 = i0 + 1 > ne - 1 ? ne - 1 : i0 + 1;
        const double w = pos - i0;
        if (i1 == i0) hb[b] = env[i0] * (float)((1.0 - w) + w);
        else hb[b] = env[i0] * (float)(1.0 - w) + env[i1] * (float)w;
    }
    eg_rfft_frame(st, er, ei, src, fft);
    for (int b = 0; b < nb; b++) {
        re[b] += hb[b] * er[b];
        im[b] += hb[b] * ei[b];
    }
}
