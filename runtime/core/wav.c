/* runtime/core/wav.c — RIFF/WAVE PCM s16le writer: temp file + rename, pipe-safe (see wav.h).
 * Format: "RIFF" <36 + data bytes> "WAVE" "fmt " 16 PCM(1) mono rate rate*2 2 16 "data" <data bytes>, all
 * little-endian (Microsoft RIFF spec / WAVEFORMATEX). Samples are buffered in 16 KiB and written with write(2)
 * so a short write or EPIPE is seen and reported at once. POSIX only for now (open O_EXCL, fsync, rename);
 * TODO(port): a win32 variant behind ports/port.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "runtime/core/internal.h"
#include "runtime/core/wav.h"

#define WAV_BUF_BYTES 16384

struct eg_wav {
    int fd;
    int is_stdout;
    int raw;
    int seekable;                   /* regular file at offset 0: header patchable at close */
    int sample_rate_hz;
    uint64_t n_hint, n_samples;
    char *path, *tmp_path;          /* target and temporary (NULL for stdout) */
    size_t n_buf;
    uint8_t buf[WAV_BUF_BYTES];
};

static void put_u32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

void eg_wav_header(uint8_t hdr[44], int sample_rate_hz, uint64_t n_samples) {
    const uint64_t data = n_samples * 2;
    const int known = n_samples != UINT64_MAX && n_samples <= (UINT32_MAX - 36) / 2;
    memcpy(hdr, "RIFF", 4);
    put_u32(hdr + 4, known ? (uint32_t)(36 + data) : 0xFFFFFFFFu);
    memcpy(hdr + 8, "WAVEfmt ", 8);
    put_u32(hdr + 16, 16);
    put_u16(hdr + 20, 1);                                /* PCM */
    put_u16(hdr + 22, 1);                                /* mono */
    put_u32(hdr + 24, (uint32_t)sample_rate_hz);
    put_u32(hdr + 28, (uint32_t)sample_rate_hz * 2);     /* byte rate */
    put_u16(hdr + 32, 2);                                /* block align */
    put_u16(hdr + 34, 16);                               /* bits per sample */
    memcpy(hdr + 36, "data", 4);
    put_u32(hdr + 40, known ? (uint32_t)data : 0xFFFFFFFFu);
}

static const char *label(const struct eg_wav *w) { return w->is_stdout ? "stdout" : w->path; }

static enum eg_status write_all(struct eg_wav *w, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            EG_LOGE("writing %s: %s", label(w), k < 0 ? strerror(errno) : "no progress");
            return EG_ERR_IO;
        }
        p += k; n -= (size_t)k;
    }
    return EG_OK;
}

static enum eg_status flush_buf(struct eg_wav *w) {
    enum eg_status st = write_all(w, w->buf, w->n_buf);
    w->n_buf = 0;
    return st;
}

enum eg_status eg_wav_open(const char *path, const struct eg_wav_params *p, struct eg_wav **out) {
    struct eg_wav *w;
    enum eg_status st;

    *out = NULL;
    if (!path || !*path || !p || p->sample_rate_hz < 1 || p->sample_rate_hz > 1000000) return EG_ERR_INVALID_ARG;
    w = calloc(1, sizeof *w);
    if (!w) return EG_ERR_NOMEM;
    w->fd = -1;
    w->raw = p->raw;
    w->sample_rate_hz = p->sample_rate_hz;
    w->n_hint = p->n_samples_hint;
    if (!strcmp(path, "-")) {
        w->is_stdout = 1;
        w->fd = STDOUT_FILENO;
    } else {
        const size_t len = strlen(path);
        w->path = malloc(len + 1);
        w->tmp_path = malloc(len + 16);
        if (!w->path || !w->tmp_path) { st = EG_ERR_NOMEM; goto err_free; }
        memcpy(w->path, path, len + 1);
        /* same directory as the target, so rename() is atomic (no cross-filesystem move); O_EXCL with a
         * fresh suffix instead of mkstemp so the file gets the usual 0666 & ~umask */
        for (unsigned i = 0; i < 100; i++) {
            snprintf(w->tmp_path, len + 16, "%s.tmp%05u", path, ((unsigned)getpid() * 131u + i) % 100000u);
            w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (w->fd >= 0 || errno != EEXIST) break;
        }
        if (w->fd < 0) {
            EG_LOGE("cannot create %s (temporary %s): %s", path, w->tmp_path, strerror(errno));
            st = EG_ERR_IO;
            goto err_free;
        }
    }
    {   /* the header can be patched at close only on a regular file we started at offset 0 (not O_APPEND) */
        struct stat sb;
        int fl = fcntl(w->fd, F_GETFL);
        w->seekable = fstat(w->fd, &sb) == 0 && S_ISREG(sb.st_mode) && fl >= 0 && !(fl & O_APPEND) &&
                      lseek(w->fd, 0, SEEK_CUR) == 0;
    }
    if (!w->raw) {
        eg_wav_header(w->buf, w->sample_rate_hz, w->n_hint ? w->n_hint : UINT64_MAX);
        w->n_buf = 44;
    }
    *out = w;
    return EG_OK;

err_free:
    free(w->path);
    free(w->tmp_path);
    free(w);
    return st;
}

enum eg_status eg_wav_write_f32(struct eg_wav *w, const float *pcm, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (w->n_buf + 2 > WAV_BUF_BYTES) {
            enum eg_status st = flush_buf(w);
            if (st != EG_OK) return st;
        }
        put_u16(w->buf + w->n_buf, (uint16_t)eg_s16_from_f32(pcm[i]));
        w->n_buf += 2;
    }
    w->n_samples += n;
    return EG_OK;
}

uint64_t eg_wav_n_samples(const struct eg_wav *w) { return w->n_samples; }

static void discard(struct eg_wav *w) {
    if (!w->is_stdout) {
        if (w->fd >= 0) close(w->fd);
        if (w->tmp_path) unlink(w->tmp_path);
    }
    free(w->path);
    free(w->tmp_path);
    free(w);
}

void eg_wav_abort(struct eg_wav *w) {
    if (w) discard(w);
}

enum eg_status eg_wav_close(struct eg_wav *w) {
    enum eg_status st = flush_buf(w);

    if (st != EG_OK) goto err_discard;
    /* patch the sizes when the header could not know them (or the hint was wrong) and the output seeks */
    if (!w->raw && w->n_samples != w->n_hint && w->seekable && lseek(w->fd, 0, SEEK_SET) == 0) {
        uint8_t hdr[44];
        eg_wav_header(hdr, w->sample_rate_hz, w->n_samples);
        if ((st = write_all(w, hdr, sizeof hdr)) != EG_OK) goto err_discard;
        lseek(w->fd, 0, SEEK_END);
    }
    if (!w->is_stdout) {
        if (fsync(w->fd) != 0 && errno != EINVAL) {
            EG_LOGE("writing %s: fsync: %s", w->path, strerror(errno));
            st = EG_ERR_IO;
            goto err_discard;
        }
        if (close(w->fd) != 0) {
            w->fd = -1;
            EG_LOGE("writing %s: close: %s", w->path, strerror(errno));
            st = EG_ERR_IO;
            goto err_discard;
        }
        w->fd = -1;
        if (rename(w->tmp_path, w->path) != 0) {
            EG_LOGE("cannot rename %s to %s: %s", w->tmp_path, w->path, strerror(errno));
            st = EG_ERR_IO;
            goto err_discard;
        }
        free(w->tmp_path);
        w->tmp_path = NULL;
    }
    discard(w);
    return EG_OK;

err_discard:
    discard(w);
    return st;
}
