/* runtime/core/wav.h — 16-bit PCM WAV (or headerless s16le) writer that never leaves a half-written file.
 *
 * A file is written to a temporary name in the target's directory and renamed over the target only by
 * eg_wav_close(); eg_wav_abort() (or any failure) removes the temporary, so a failed decode leaves no output
 * file. Path "-" streams to stdout: the header carries the exact sizes when the sample count is known up front,
 * else the "unknown length" value 0xFFFFFFFF in both RIFF and data sizes (what sox/ffmpeg write to pipes);
 * when stdout is a seekable regular file the header is patched at close. Write errors, including EPIPE from a
 * closed pipe (the caller should ignore SIGPIPE), are returned as EG_ERR_IO with the OS reason logged.
 */
#ifndef EG_WAV_H
#define EG_WAV_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

/* The writer (struct eg_wav, eg_wav_open, eg_wav_write_f32, eg_wav_close, eg_wav_abort, eg_wav_n_samples) is public:
 * runtime/edgegen.h. */

/* One float sample as s16: clamped to [-1, 1] (NaN → 0), scaled by 32767, rounded to nearest (lrintf). The rule of
 * eg_wav_write_f32 and of EG_SAMPLE_S16 output. */
static inline int16_t eg_s16_from_f32(float x) {
    x = x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x == x ? x : 0.0f;
    return (int16_t)lrintf(x * 32767.0f);
}

/* The 44-byte canonical header for mono s16 (n_samples == UINT64_MAX or too big: 0xFFFFFFFF sizes). Pure. */
void eg_wav_header(uint8_t hdr[44], int sample_rate_hz, uint64_t n_samples);

#endif /* EG_WAV_H */
