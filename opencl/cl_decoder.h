/* opencl/cl_decoder.h — the decoder's spectral stage (FSQ values → magnitude / phase spectra), placed on an
 * OpenCL device only when proven, else on the CPU kernel table.
 *
 * The stage is models/train/codec_model.py Decoder.spectral: Conv1d embed → LayerNorm → n_layers ConvNeXt blocks
 * → LayerNorm → Linear head → mag = min(exp(log-mag), mag_clamp), phase; it also returns re = mag*cos(phase),
 * im = mag*sin(phase), which is what the inverse FFT (models/istft.c, CPU) consumes. Activations are time-major:
 * values [t][latent_dim], spectra [t][n_fft/2 + 1].
 *
 * Placement ("use only when proven", research/reliability.md §3.1), once at eg_spectral_create:
 *   EG_BACKEND_CPU     the CPU table only.
 *   EG_BACKEND_AUTO    (default; EDGEGEN_BACKEND=cpu|opencl|auto overrides it) build the device stage, run a probe
 *                      input on the device and on the CPU, and use the device if the SNR is at least
 *                      EG_SPECTRAL_MIN_SNR_DB *and* it is faster (CPU time / device time above
 *                      EDGEGEN_CL_MIN_RATIO, default 1.0; tests set 0 to exercise the device). Any failure (no loader, no device, build
 *                      error, CL_OUT_OF_RESOURCES, wrong result) → one warning line and the CPU.
 *   EG_BACKEND_OPENCL  strict: the device must build and pass the probe (speed is not required); any failure,
 *                      then or later, is an error (one error line), never a silent fallback.
 * A device failure during eg_spectral_run in AUTO mode re-runs the call on the CPU (same output), prints one
 * warning and stays on the CPU for the life of the object.
 *
 * Ownership: weights are borrowed for the call to eg_spectral_create only (the object keeps its own copies:
 * a transposed depthwise kernel for the CPU, device buffers for OpenCL). One object per stream/thread.
 */
#ifndef EG_CL_DECODER_H
#define EG_CL_DECODER_H

#include "edgegen.h"
#include "kernels.h"

/* f32 weights, PyTorch layouts and the GGUF tensor names of models/train/codec_model.py (dec.<name>). */
struct eg_spectral_block_weights {
    const float *dw_w;    /* blocks.i.dwconv.weight  [dim][1][kernel_size] */
    const float *dw_b;    /* blocks.i.dwconv.bias    [dim] */
    const float *ln_g;    /* blocks.i.norm.weight    [dim] */
    const float *ln_b;    /* blocks.i.norm.bias      [dim] */
    const float *pw1_w;   /* blocks.i.pwconv1.weight [ffn_dim][dim] */
    const float *pw1_b;   /* blocks.i.pwconv1.bias   [ffn_dim] */
    const float *pw2_w;   /* blocks.i.pwconv2.weight [dim][ffn_dim] */
    const float *pw2_b;   /* blocks.i.pwconv2.bias   [dim] */
    const float *gamma;   /* blocks.i.gamma          [dim] */
};

struct eg_spectral_weights {
    int latent_dim, dim, ffn_dim, n_layers, kernel_size, n_fft;   /* kernel_size odd; n_fft even */
    float mag_clamp, eps;
    const float *embed_w;   /* embed.weight      [dim][latent_dim][kernel_size] */
    const float *embed_b;   /* embed.bias        [dim] */
    const float *norm_g;    /* norm.weight       [dim] */
    const float *norm_b;    /* norm.bias         [dim] */
    const struct eg_spectral_block_weights *blocks;   /* [n_layers] */
    const float *final_g;   /* final_norm.weight [dim] */
    const float *final_b;   /* final_norm.bias   [dim] */
    const float *head_w;    /* head.weight       [n_fft + 2][dim] */
    const float *head_b;    /* head.bias         [n_fft + 2] */
};

enum eg_backend { EG_BACKEND_AUTO = 0, EG_BACKEND_CPU, EG_BACKEND_OPENCL };
#define EG_SPECTRAL_MIN_SNR_DB 50.0   /* probe acceptance (f32 device vs f32 CPU; tests require 60 dB) */

struct eg_spectral;

/* Create the stage for up to max_frames frames per run. `k`: the CPU kernel table (borrowed; must outlive the
 * object). On failure returns NULL with *err: EG_ERR_INVALID_ARG (bad sizes), EG_ERR_NOMEM, or in OPENCL mode
 * the device's status (EG_ERR_UNSUPPORTED, EG_ERR_DEVICE, ...) with one error line naming the reason. */
struct eg_spectral *eg_spectral_create(const struct eg_spectral_weights *w, const struct eg_kernels *k,
                                       int max_frames, enum eg_backend mode, enum eg_status *err);
void eg_spectral_destroy(struct eg_spectral *s);   /* NULL allowed */

/* values [t][latent_dim] → mag, re, im [t][n_fft/2 + 1] (mag may be NULL). 1 <= t <= max_frames. */
enum eg_status eg_spectral_run(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im);

/* The placement: 1 when runs go to the device; the one-line reason ("PoCL 3.1 / dev: correct (SNR 120 dB),
 * CPU faster (ratio 0.07)"); ratio = CPU time / device time on the probe (0 when not measured); probe SNR. */
int eg_spectral_on_device(const struct eg_spectral *s);
const char *eg_spectral_reason(const struct eg_spectral *s);
double eg_spectral_ratio(const struct eg_spectral *s);
double eg_spectral_snr_db(const struct eg_spectral *s);

/* Force one path (tests and benchmarks): CPU always works; device returns EG_ERR_UNSUPPORTED when the object
 * has no device stage (CPU mode, or it was dropped). Neither changes the placement. */
enum eg_status eg_spectral_run_cpu(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im);
enum eg_status eg_spectral_run_device(struct eg_spectral *s, const float *values, int t, float *mag, float *re, float *im);

/* EDGEGEN_BACKEND, parsed; `dflt` when unset or unknown. */
enum eg_backend eg_backend_from_env(enum eg_backend dflt);

/* For `edgegen info`: one or more lines (each ending in '\n') listing platforms/devices/caps, then
 * "OpenCL:    <device>: usable|not usable, used|not used by default — <reason>", measured on a synthetic
 * default-sized decoder stage (random weights, 50 frames) against `k` (NULL: the best table for this CPU). */
void eg_cl_describe(char *buf, size_t len, const struct eg_kernels *k);

/* SNR in dB of `got` against `ref` (n floats): 10 log10(sum ref^2 / sum (ref - got)^2); 300 when identical,
 * -300 when a NaN/inf appears. */
double eg_snr_db(const float *ref, const float *got, size_t n);

#endif /* EG_CL_DECODER_H */
