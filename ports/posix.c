/* ports/posix.c — POSIX implementations of ports/port.h: read-only file mapping with a read() fallback,
 * a monotonic clock and peak RSS. Linux, the BSDs, macOS and Android. */
#define _FILE_OFFSET_BITS 64   /* 32-bit ARM: 64-bit off_t/ino_t/d_off (files > 2 GiB; readdir on ext4 under qemu) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ports/log.h"
#include "ports/port.h"

#define EG_READ_ALIGN 4096   /* heap copies get page-like alignment, so any data offset keeps its alignment */

static int env_no_mmap(void) {
    const char *v = getenv("EDGEGEN_NO_MMAP");
    return v && v[0] && strcmp(v, "0") != 0;
}

static enum eg_status read_all(int fd, const char *path, struct eg_file_map *m, size_t size) {
    void *buf = NULL;
    if (posix_memalign(&buf, EG_READ_ALIGN, size) != 0 || !buf) {
        EG_LOGE("%s: cannot allocate %zu bytes to read the file", path, size);
        return EG_ERR_NOMEM;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, (char *)buf + done, size - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r < 0) EG_LOGE("%s: read failed at byte %zu: %s", path, done, strerror(errno));
            else EG_LOGE("%s: file shrank while reading (expected %zu bytes, got %zu)", path, size, done);
            free(buf);
            return EG_ERR_IO;
        }
        done += (size_t)r;
    }
    m->data = buf;
    m->size_bytes = size;
    m->is_mapped = 0;
    return EG_OK;
}

enum eg_status eg_map_file(const char *path, struct eg_file_map *m) {
    enum eg_status st = EG_OK;
    struct stat sb;
    int fd;

    if (!m) return EG_ERR_INVALID_ARG;
    memset(m, 0, sizeof *m);
    if (!path) return EG_ERR_INVALID_ARG;
    do fd = open(path, O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        EG_LOGE("%s: cannot open: %s", path, strerror(errno));
        return EG_ERR_IO;
    }
    if (fstat(fd, &sb) != 0) {
        EG_LOGE("%s: cannot stat: %s", path, strerror(errno));
        st = EG_ERR_IO;
        goto out_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        EG_LOGE("%s: not a regular file", path);
        st = EG_ERR_IO;
        goto out_close;
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > (uint64_t)SIZE_MAX / 2) {
        EG_LOGE("%s: file size %lld does not fit this address space", path, (long long)sb.st_size);
        st = EG_ERR_IO;
        goto out_close;
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) goto out_close;           /* empty: data NULL; the parser reports it as truncated */
    if (!env_no_mmap()) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            m->data = p;
            m->size_bytes = size;
            m->is_mapped = 1;
            goto out_close;
        }
        EG_LOGI("%s: mmap failed (%s); reading into memory instead", path, strerror(errno));
    }
    st = read_all(fd, path, m, size);
out_close:
    close(fd);
    return st;
}

void eg_unmap_file(struct eg_file_map *m) {
    if (!m) return;
    if (m->data) {
        if (m->is_mapped) munmap((void *)m->data, m->size_bytes);
        else free((void *)m->data);
    }
    memset(m, 0, sizeof *m);
}

enum eg_status eg_file_size(const char *path, uint64_t *size_bytes) {
    struct stat sb;
    if (!path || !size_bytes) return EG_ERR_INVALID_ARG;
    *size_bytes = 0;
    if (stat(path, &sb) != 0) {
        EG_LOGE("%s: cannot stat: %s", path, strerror(errno));
        return EG_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 0) {
        EG_LOGE("%s: not a regular file", path);
        return EG_ERR_IO;
    }
    *size_bytes = (uint64_t)sb.st_size;
    return EG_OK;
}

uint64_t eg_time_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t eg_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0) {
#if defined(__APPLE__)
        return (uint64_t)ru.ru_maxrss;           /* bytes on macOS */
#else
        return (uint64_t)ru.ru_maxrss * 1024u;   /* KiB on Linux and the BSDs */
#endif
    }
    /* Fallback: VmHWM from /proc (kB). */
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "VmHWM: %llu kB", &v) == 1) { kb = v; break; }
    }
    fclose(f);
    return kb * 1024u;
}

uint64_t eg_rss_bytes(void) {
    /* read(2) into a stack buffer: no stdio buffer, so measuring does not change the heap it measures */
    char text[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = 0;
    const char *p = strstr(text, "\nVmRSS:");
    unsigned long long kb;
    if (!p || sscanf(p + 7, "%llu", &kb) != 1) return 0;
    return (uint64_t)kb * 1024u;
}
