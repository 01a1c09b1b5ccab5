/* opencl/cl_decoder.h — the NAR decoder's spectral stage (models/decoder.c: FSQ values → embed conv → LN →
 * ConvNeXt blocks → LN → head → exp/clamp, cos/sin) on an OpenCL device, placed only when proven. The inverse
 * FFT and overlap-add stay on the CPU (models/istft.c).
 *
 * The stage consumes the real decoder's bound weights (struct eg_codec_model, models/models.h) in the
 * decoder's layouts: embed columns ordered (kernel, latent), depthwise kernels [kernel][dim], Linear matrices
 * [n_out][n_in]. f16 / q8_0 / q4_0 matrices are dequantised once, at creation, into f32 device buffers (the
 * CPU path dequantises panel by panel per call, models/exec.h); vectors are f32 in the file already.
 *
 *   struct eg_spectral *s = eg_spectral_create(model, &ex, chunk_frames, EG_BACKEND_AUTO, &st);
 *   struct eg_decoder_params p = eg_decoder_default_params();
 *   p.chunk_frames = chunk_frames;
 *   p.stage = eg_spectral_on_device(s) ? s : NULL;      // the decoder calls eg_spectral_window per window
 *   eg_decoder_create(model, &ex, &p, &dec); ... eg_decoder_destroy(dec); eg_spectral_destroy(s);
 *
 * Placement ("use only when proven", research/reliability.md §3.1), once, at eg_spectral_create:
 *   EG_BACKEND_CPU     no device; the object only offers the CPU composition (tests, bench).
 *   EG_BACKEND_AUTO    build the device stage, run a 24-frame probe on the device and on the CPU (the decoder's
 *                      kernel table and thread pool, `ex`), and use the device if the SNR is at least
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
 * one WARNING line is printed, the window is computed on the CPU by the caller, and the object stays on the
 * CPU for the rest of its life. Nothing of the failed window has been emitted, so the output equals the CPU's.
 *
 * Ownership: `m` and `ex` are borrowed and must outlive the object (the CPU composition uses both). One object
 * per decoder: it holds the device activations of one window. Not thread-safe.
 */
#ifndef EG_CL_DECODER_H
#define EG_CL_DECODER_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

struct eg_codec_model;
struct eg_exec;

enum eg_backend { EG_BACKEND_AUTO = 0, EG_BACKEND_CPU, EG_BACKEND_OPENCL };
#define EG_SPECTRAL_MIN_SNR_DB 50.0   /* probe acceptance (f32 device vs the CPU; tests require 60 dB on PCM) */

struct eg_spectral;

/* Create the stage for decoder windows of up to max_frames output frames (the decoder's chunk_frames) and
 * whole-utterance runs of up to max_frames frames. On failure returns NULL with *err: EG_ERR_INVALID_ARG,
 * EG_ERR_NOMEM, or in OPENCL mode the device's status (EG_ERR_UNSUPPORTED, EG_ERR_DEVICE, EG_ERR_INVALID_ARG
 * for a device index that does not exist) after one error line naming the reason. */
struct eg_spectral *eg_spectral_create(const struct eg_codec_model *m, struct eg_exec *ex, int max_frames,
                                       enum eg_backend mode, enum eg_status *err);
void eg_spectral_destroy(struct eg_spectral *s);   /* NULL allowed */

/* The decoder hook: frames [a, a + c) of a stream whose frames [0, end) are known (a >= 0, a + c <= end,
 * 1 <= c <= max_frames). cols: the embed im2col rows of frames [e0, e1) = [max(0, a - R0), min(end, a + c + R0)),
 * R0 = (kernel/2) * n_layers, each kernel*latent floats in (kernel, latent) order with zeros outside [0, end)
 * (models/decoder.c decode_frames). add: NULL, or (phoneme-conditioned decoder) rows [e1 - e0][dim] added to the
 * embed conv's output before the first LayerNorm (the frames' phoneme-embedding rows). Every stage computes the
 * rows the next needs, clipped to [0, end) with zero
 * padding, exactly as the CPU decoder. Output: spec row i (stride ld >= n_fft + 2) = [re (n_fft/2 + 1) |
 * im (n_fft/2 + 1)] of frame a + i, mag = min(exp(log-mag), mag_clamp), re/im = mag * cos/sin(phase).
 * Returns EG_OK (computed on the device), EG_ERR_UNSUPPORTED (not on the device, or dropped just now after a
 * run-time failure in AUTO mode: compute this window on the CPU), EG_ERR_INVALID_ARG, or in OPENCL mode the
 * device failure (EG_ERR_DEVICE) after one error line. */
enum eg_status eg_spectral_window(struct eg_spectral *s, const float *cols, const float *add, int64_t a, int c,
                                  int64_t end, float *spec, int ld);

/* Whole utterance through the placement: values [t][latent_dim] (FSQ values) → re, im [t][n_fft/2 + 1],
 * 1 <= t <= max_frames, zero padding at both ends. These whole-utterance forms (the placement probe's) have no
 * phoneme rows: for a conditioned decoder they compute the network with every phoneme row zero. Falls back as above (the result then comes from the CPU). */
enum eg_status eg_spectral_run(struct eg_spectral *s, const float *values, int t, float *re, float *im);
/* Force one path (tests and benchmarks): the CPU composition (ex's table and pool) always works; the device
 * returns EG_ERR_UNSUPPORTED when the object has no device stage (CPU mode, not chosen, or dropped). Neither
 * changes the placement nor logs. */
enum eg_status eg_spectral_run_cpu(struct eg_spectral *s, const float *values, int t, float *re, float *im);
enum eg_status eg_spectral_run_device(struct eg_spectral *s, const float *values, int t, float *re, float *im);

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
void eg_cl_describe(char *buf, size_t len, struct eg_exec *ex);

/* SNR in dB of `got` against `ref` (n floats): 10 log10(sum ref^2 / sum (ref - got)^2); 300 when identical,
 * -300 when a NaN/inf appears. */
double eg_snr_db(const float *ref, const float *got, size_t n);

#endif /* EG_CL_DECODER_H */
