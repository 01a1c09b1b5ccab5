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

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

struct eg_wav;

struct eg_wav_params {
    int      sample_rate_hz;     /* 1 .. 1,000,000 */
    int      raw;                /* 1: no header, bare s16le samples */
    uint64_t n_samples_hint;     /* total samples if known (exact header on pipes), 0 = unknown */
};

/* path: output file, or "-" for stdout. Errors: EG_ERR_INVALID_ARG, EG_ERR_IO (directory not writable, ...),
 * EG_ERR_NOMEM. */
enum eg_status eg_wav_open(const char *path, const struct eg_wav_params *p, struct eg_wav **out);
/* Append mono float samples: clamped to [-1, 1], scaled by 32767, rounded to nearest. */
enum eg_status eg_wav_write_f32(struct eg_wav *w, const float *pcm, size_t n);
/* Flush, fix the header, fsync and rename into place; frees w in every case. On error the temporary is
 * removed and the target is left untouched. */
enum eg_status eg_wav_close(struct eg_wav *w);
/* Discard: remove the temporary (stdout: just stop) and free w. NULL allowed. */
void eg_wav_abort(struct eg_wav *w);

/* Samples written so far. */
uint64_t eg_wav_n_samples(const struct eg_wav *w);

/* The 44-byte canonical header for mono s16 (n_samples == UINT64_MAX or too big: 0xFFFFFFFF sizes). Pure. */
void eg_wav_header(uint8_t hdr[44], int sample_rate_hz, uint64_t n_samples);

#endif /* EG_WAV_H */
