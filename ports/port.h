/* ports/port.h — the few OS services the runtime needs, behind our own small API (ports/posix.c; a Windows
 * port would add ports/win32.c). Nothing here re-#defines OS names; callers never include OS headers for these.
 * All functions are thread-safe. Errors are logged (one line naming the path and the OS reason) and returned. */
#ifndef EG_PORT_H
#define EG_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/edgegen.h"

/* A whole file, read-only. `data` is page-aligned (mmap) or 4096-byte aligned (read() fallback); it is
 * immutable for the map's lifetime and may be shared across threads. */
struct eg_file_map {
    const void *data;       /* NULL when size_bytes == 0 */
    size_t      size_bytes;
    int         is_mapped;  /* 1: mmap (zero-copy, shared page cache), 0: heap copy via read() */
};

/* Map `path` read-only (MAP_PRIVATE, PROT_READ). Falls back to read() into one heap buffer when mmap fails,
 * or always when the environment variable EDGEGEN_NO_MMAP=1 is set (tests, filesystems without mmap).
 * Only regular files are accepted. Returns EG_OK, EG_ERR_IO (open/stat/read failed, not a regular file, or
 * too large for this address space) or EG_ERR_NOMEM (fallback buffer). On error *m is zeroed.
 * Hazard: if the file is truncated by someone else while mapped, touching the lost pages raises SIGBUS; the
 * read() fallback (EDGEGEN_NO_MMAP=1) avoids that at the cost of a copy. */
enum eg_status eg_map_file(const char *path, struct eg_file_map *m);
/* Release what eg_map_file made; m zeroed. Safe on a zeroed map. */
void eg_unmap_file(struct eg_file_map *m);

/* Size in bytes of a regular file, without opening it for reading; EG_ERR_IO if absent or not regular. */
enum eg_status eg_file_size(const char *path, uint64_t *size_bytes);

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC); for durations only. */
uint64_t eg_time_ns(void);

/* eg_peak_rss_bytes() (getrusage ru_maxrss, else /proc/self/status VmHWM) is public: runtime/edgegen.h. */
/* Resident set size of this process now, in bytes (/proc/self/status VmRSS); 0 when unknown. */
uint64_t eg_rss_bytes(void);

#endif /* EG_PORT_H */
