/* models/stage.h — the codec decoder's network stage (FSQ values → embed conv → LN → ConvNeXt blocks → LN →
 * head → spectra) behind one set of ops, and the placement of that stage on an OpenCL device.
 *
 * One forward pass: models/decoder.c (decode_frames → network) is the only code that knows the order of the
 * layers. It calls the ops below; the CPU implements them with the kernel table and thread pool (decoder.c),
 * the OpenCL stage with the device ops of opencl/cl_ops.h (stage.c), on device copies of the same weights
 * (f16 / q8_0 / q4_0 matrices dequantised once, at creation, with the kernel table's exact dequantisers). The
 * inverse FFT and overlap-add stay on the CPU (models/istft.c).
 *
 *   struct eg_spectral *s = eg_spectral_create(model, &ex, chunk_frames, EG_BACKEND_AUTO, &st);
 *   struct eg_decoder_params p = eg_decoder_default_params();
 *   p.chunk_frames = chunk_frames;
 *   p.stage = eg_spectral_on_device(s) ? s : NULL;      // the decoder runs each window's network through it
 *   eg_decoder_create(model, &ex, &p, &dec); ... eg_decoder_destroy(dec); eg_spectral_destroy(s);
 *
 * Placement ("use only when proven", research/reliability.md §3.1), once, at eg_spectral_create:
 *   EG_BACKEND_CPU     no device; the object only carries the reason (tests, bench).
 *   EG_BACKEND_AUTO    build the device stage, then the probe: the decoder itself (eg_decoder_run, phoneme rows
 *                      included for a phoneme-conditioned codec) decodes the same 24 random frames with its
 *                      network on the device and on the CPU (the decoder's kernel table and thread pool, `ex`),
 *                      with chunk_frames = max_frames; the device is used if the waveform SNR is at least
 *                      EG_SPECTRAL_MIN_SNR_DB *and* it is faster: CPU time / device time above
 *                      EDGEGEN_CL_MIN_RATIO (default 1.0; 0 accepts a slower device, for tests). A slower device
 *                      is one INFO line with the ratio. No OpenCL at all (no loader, no platform or device) is
 *                      one INFO line. A failure (build error, bad EDGEGEN_CL_DEVICE, wrong results,
 *                      CL_OUT_OF_RESOURCES, ...) is one WARNING line. In every case the CPU is used.
 *                      A "CPU faster" verdict is cached per device/driver, model shape, CPU table and threads
 *                      ($XDG_CACHE_HOME/edgegen/placement-*.txt; EDGEGEN_CL_CACHE=off disables), so later AUTO
 *                      creations skip the device entirely; the reason then ends in "[cached verdict]".
 *   EG_BACKEND_OPENCL  strict: the device must build and pass the probe (speed is not required); any failure,
 *                      then or later, is one ERROR line and a status, never a fallback.
 * At run time (AUTO), a failed window is retried once after clFinish; if it fails again the device is released,
 * one WARNING line is printed, the window is computed on the CPU by the decoder, and the object stays on the
 * CPU for the rest of its life. Nothing of the failed window has been emitted, so the output equals the CPU's.
 *
 * Ownership: `m` and `ex` are borrowed and must outlive the object (the probe's CPU side uses both). One object
 * per decoder: it holds the device activations of one window. Not thread-safe.
 */
#ifndef EG_STAGE_H
#define EG_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"
#include "models/exec.h"

struct eg_codec_model;

/* ==== the ops of one decoder window ======================================================================== */

/* Buffers of one window, rows of frames: COLS [n][kernel*latent] embed im2col rows; X [k2 + n_win + k2][dim]
 * the residual stream with k2 padding rows on each side (row k2 + i is frame a - R0 + i; rows the depthwise
 * convolutions read outside the known stream hold zeros); H [n][dim], F [n][ffn] scratch; SPEC [n][n_fft + 2]
 * the head's output. */
enum eg_stage_buf { EG_SB_COLS = 0, EG_SB_X, EG_SB_H, EG_SB_F, EG_SB_SPEC, EG_SB_COUNT };
/* Weights by role (struct eg_codec_weights; per-block roles take the block index, the others ignore it). */
enum eg_stage_weight {
    EG_SW_EMBED = 0, EG_SW_NORM, EG_SW_DWCONV, EG_SW_BLOCK_NORM, EG_SW_PW1, EG_SW_PW2, EG_SW_GAMMA,
    EG_SW_FINAL_NORM, EG_SW_HEAD,
};

/* Every op works on rows [row, row + n_rows) of the named buffers, with the semantics of the simd/kernels.h
 * op of the same name (in place where y and x are the same rows). Each returns EG_OK or a device failure
 * (EG_ERR_DEVICE); the CPU never fails. */
struct eg_stage_ops {
    /* rows of host data into a buffer (the CPU: a no-op when src already is those rows) */
    enum eg_status (*put)(void *be, enum eg_stage_buf b, int row, int n_rows, const float *src);
    enum eg_status (*zero)(void *be, enum eg_stage_buf b, int row, int n_rows);
    /* y = act(W x + bias) for W = EMBED, PW1, PW2 or HEAD */
    enum eg_status (*linear)(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                             enum eg_stage_buf x, int x_row, int n_rows, enum eg_act act);
    /* y += x, dim-wide rows */
    enum eg_status (*add)(void *be, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row, int n_rows);
    /* y = LayerNorm(x) * g + b for NORM, BLOCK_NORM or FINAL_NORM */
    enum eg_status (*layer_norm)(void *be, enum eg_stage_weight w, int layer, enum eg_stage_buf y, int y_row,
                                 enum eg_stage_buf x, int x_row, int n_rows);
    /* y = depthwise conv of block `layer` over x rows [x_row, x_row + n_rows + kernel - 1) */
    enum eg_status (*conv_dw)(void *be, int layer, enum eg_stage_buf y, int y_row, enum eg_stage_buf x, int x_row,
                              int n_rows);
    /* x += gamma * h (the product rounded, then added), block `layer` */
    enum eg_status (*residual)(void *be, int layer, enum eg_stage_buf x, int x_row, enum eg_stage_buf h, int h_row,
                               int n_rows);
    /* SPEC rows [0, n_rows) to host rows of stride ld >= n_fft + 2: *reim = 0 leaves [log-mag | phase] (the CPU,
     * whose iSTFT tasks convert), 1 gives [re | im] with mag = min(exp(log-mag), mag_clamp) (a device) */
    enum eg_status (*spectrum)(void *be, int n_rows, float *spec, int ld, int *reim);
};

/* ==== the OpenCL stage and its placement =================================================================== */

enum eg_backend { EG_BACKEND_AUTO = 0, EG_BACKEND_CPU, EG_BACKEND_OPENCL };
#define EG_SPECTRAL_MIN_SNR_DB 50.0   /* probe acceptance (waveform, device vs CPU; tests require 60 dB) */

struct eg_spectral;

/* Create the stage for decoder windows of up to max_frames output frames (the decoder's chunk_frames). On
 * failure returns NULL with *err: EG_ERR_INVALID_ARG, EG_ERR_NOMEM, or in OPENCL mode the device's status
 * (EG_ERR_UNSUPPORTED, EG_ERR_DEVICE, EG_ERR_INVALID_ARG for a device index that does not exist) after one error
 * line naming the reason. */
struct eg_spectral *eg_spectral_create(const struct eg_codec_model *m, struct eg_exec *ex, int max_frames,
                                       enum eg_backend mode, enum eg_status *err);
void eg_spectral_destroy(struct eg_spectral *s);   /* NULL allowed */

/* The decoder's hook: run(arg, ops, be) computes one window through the device ops. Returns EG_OK (computed on
 * the device), EG_ERR_UNSUPPORTED (not on the device, or dropped just now after a run-time failure in AUTO
 * mode, retried once first: compute this window on the CPU), or in OPENCL mode the device failure
 * (EG_ERR_DEVICE) after one error line. */
typedef enum eg_status (*eg_stage_run_fn)(void *arg, const struct eg_stage_ops *ops, void *be);
enum eg_status eg_spectral_window(struct eg_spectral *s, eg_stage_run_fn run, void *arg);

/* The placement: 1 when windows go to the device; the one-line reason ("PoCL 3.1 / cpu-haswell: usable (SNR
 * 120 dB), not used by default — CPU faster (ratio 0.07)"); ratio = CPU ms / device ms on the probe (0 when not
 * measured); probe SNR (dB); probe times (ms); max_frames as created. */
int eg_spectral_on_device(const struct eg_spectral *s);
const char *eg_spectral_reason(const struct eg_spectral *s);
double eg_spectral_ratio(const struct eg_spectral *s);
double eg_spectral_snr_db(const struct eg_spectral *s);
void eg_spectral_probe_ms(const struct eg_spectral *s, double *cpu_ms, double *device_ms);
int eg_spectral_max_frames(const struct eg_spectral *s);

/* "cpu" | "opencl" | "auto" → the mode; -1 for anything else. */
int eg_backend_from_name(const char *name);
/* EDGEGEN_BACKEND (cpu|opencl|auto), parsed; `dflt` when unset or unknown. */
enum eg_backend eg_backend_from_env(enum eg_backend dflt);

/* For `edgegen info`: one or more lines (each ending in '\n') listing platforms/devices/caps, then
 * "OpenCL:    decoder stage vs CPU table <name> (<n> threads): <reason>", measured on a synthetic decoder of
 * the default size (codec_model.py DEFAULT_CONFIG, random f32 weights, 50-frame windows) against `ex` (NULL: the
 * best table for this CPU with the decode CLI's default thread count). */
void eg_spectral_describe(char *buf, size_t len, struct eg_exec *ex);

/* SNR in dB of `got` against `ref` (n floats): 10 log10(sum ref^2 / sum (ref - got)^2); 300 when identical,
 * -300 when a NaN/inf appears. */
double eg_snr_db(const float *ref, const float *got, size_t n);

#endif /* EG_STAGE_H */
