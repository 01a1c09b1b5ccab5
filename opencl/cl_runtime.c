/* opencl/cl_runtime.c — device enumeration and choice, context/queue, program build with a binary cache.
 *
 * The program is every opencl/kernels/NAME.cl file as separate source strings (embedded by the Makefile with
 * xxd -i into $(BUILD)/gen/cl_kernels_gen.h), built with -cl-std from the device's OpenCL C version and the
 * tile sizes chosen from CL_DEVICE_MAX_WORK_GROUP_SIZE. Never -cl-fast-relaxed-math or -cl-mad-enable
 * (research/reliability.md §3.1: precision must match the CPU reference).
 *
 * Cache entry layout: "EGCLBIN1", u64 key, u64 payload bytes, u64 FNV-1a of the payload, payload (the device
 * binary). Any mismatch, or a binary the driver refuses, means "ignore and rebuild from source".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "opencl/cl_runtime.h"
#include "runtime/core/internal.h"
#include "cl_kernels_gen.h"   /* eg_cl_sources[], EG_CL_N_SOURCES (generated) */

double eg_cl_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

enum eg_status eg_cl_fail(struct eg_cl *cl, const char *call, cl_int err) {
    snprintf(cl->why, sizeof cl->why, "%s: %s (%d)", call, eg_cl_err_name(err), (int)err);
    EG_LOGI("opencl: %s", cl->why);
    return EG_ERR_DEVICE;
}

#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS   /* fault injection for tests/test_opencl.c (opencl/cl_runtime.h) */
enum eg_cl_fault eg_cl_fault_from_env(void) {
    const char *s = getenv("EDGEGEN_CL_FAULT");
    if (!s) return EG_CL_FAULT_NONE;
    if (!strcmp(s, "build")) return EG_CL_FAULT_BUILD;
    if (!strcmp(s, "device")) return EG_CL_FAULT_DEVICE;
    if (!strcmp(s, "wrong")) return EG_CL_FAULT_WRONG;
    if (!strcmp(s, "enqueue")) return EG_CL_FAULT_ENQUEUE;
    return EG_CL_FAULT_NONE;
}
#endif

/* ---- enumeration ---------------------------------------------------------------------------------------- */

static void info_str(const struct eg_cl_api *api, cl_device_id d, cl_device_info what, char *buf, size_t len) {
    size_t n = 0;
    snprintf(buf, len, "?");
    if (api->GetDeviceInfo(d, what, 0, NULL, &n) != CL_SUCCESS || !n) return;
    char *tmp = malloc(n + 1);
    if (tmp && api->GetDeviceInfo(d, what, n, tmp, NULL) == CL_SUCCESS) { tmp[n] = 0; snprintf(buf, len, "%s", tmp); }
    free(tmp);
}

/* Strings of any length, truncated to len (a fixed-size query fails with CL_INVALID_VALUE when too long). */
static void plat_str(const struct eg_cl_api *api, cl_platform_id p, cl_platform_info what, char *buf, size_t len) {
    size_t n = 0;
    snprintf(buf, len, "?");
    if (api->GetPlatformInfo(p, what, 0, NULL, &n) != CL_SUCCESS || !n) return;
    char *tmp = malloc(n + 1);
    if (tmp && api->GetPlatformInfo(p, what, n, tmp, NULL) == CL_SUCCESS) { tmp[n] = 0; snprintf(buf, len, "%s", tmp); }
    free(tmp);
}

/* "OpenCL 3.0 PoCL 3.1+debian  Linux, ..." → "PoCL 3.1+debian" (the two words after "OpenCL x.y"), else name. */
static void short_version(const char *ver, const char *name, char *out, size_t len) {
    char w1[32] = "", w2[32] = "";
    if (sscanf(ver, "OpenCL %*s %31s %31[^ ,]", w1, w2) >= 1) snprintf(out, len, "%s%s%s", w1, w2[0] ? " " : "", w2);
    else snprintf(out, len, "%.47s", name);
}

enum eg_status eg_cl_enumerate(const struct eg_cl_api *api, struct eg_cl_device_info *out, int max, int *n_out,
                               char *why, size_t why_len) {
    cl_platform_id plats[8];
    cl_uint n_plat = 0;
    *n_out = 0;
    cl_int err = api->GetPlatformIDs(8, plats, &n_plat);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: loader present, no driver */ || (err == CL_SUCCESS && !n_plat))
        return EG_OK;
    if (err != CL_SUCCESS) {
        snprintf(why, why_len, "clGetPlatformIDs: %s (%d)", eg_cl_err_name(err), (int)err);
        return EG_ERR_DEVICE;
    }
    if (n_plat > 8) n_plat = 8;
    for (cl_uint p = 0; p < n_plat; p++) {
        cl_device_id devs[EG_CL_MAX_DEVICES];
        cl_uint n_dev = 0;
        char pname[96], pver[192], pshort[48];
        plat_str(api, plats[p], CL_PLATFORM_NAME, pname, sizeof pname);
        plat_str(api, plats[p], CL_PLATFORM_VERSION, pver, sizeof pver);
        short_version(pver, pname, pshort, sizeof pshort);
        if (api->GetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, EG_CL_MAX_DEVICES, devs, &n_dev) != CL_SUCCESS) continue;
        if (n_dev > EG_CL_MAX_DEVICES) n_dev = EG_CL_MAX_DEVICES;
        for (cl_uint d = 0; d < n_dev && *n_out < max; d++) {
            struct eg_cl_device_info *di = &out[(*n_out)++];
            memset(di, 0, sizeof *di);
            di->platform_index = (int)p; di->device_index = (int)d;
            di->platform = plats[p]; di->id = devs[d];
            memcpy(di->platform_name, pname, sizeof pname);
            memcpy(di->platform_version, pver, sizeof pver);
            memcpy(di->platform_short, pshort, sizeof pshort);
            info_str(api, devs[d], CL_DEVICE_NAME, di->name, sizeof di->name);
            info_str(api, devs[d], CL_DEVICE_VERSION, di->version, sizeof di->version);
            info_str(api, devs[d], CL_DRIVER_VERSION, di->driver_version, sizeof di->driver_version);
            info_str(api, devs[d], CL_DEVICE_OPENCL_C_VERSION, di->c_version, sizeof di->c_version);
            if (sscanf(di->c_version, "OpenCL C %d.%d", &di->c_major, &di->c_minor) != 2) di->c_major = 1, di->c_minor = 0;
            cl_device_type type = 0;
            api->GetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            di->is_cpu = !!(type & CL_DEVICE_TYPE_CPU);
            di->is_gpu = !!(type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR));
            size_t ext_len = 0;
            if (api->GetDeviceInfo(devs[d], CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS && ext_len) {
                char *ext = malloc(ext_len + 1);
                if (ext && api->GetDeviceInfo(devs[d], CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
                    ext[ext_len] = 0;
                    di->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
                }
                free(ext);
            }
            api->GetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->n_compute_units, &di->n_compute_units, NULL);
            api->GetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_work_group_size, &di->max_work_group_size, NULL);
            api->GetDeviceInfo(devs[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof di->local_mem_bytes, &di->local_mem_bytes, NULL);
            api->GetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem_bytes, &di->global_mem_bytes, NULL);
            api->GetDeviceInfo(devs[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc_bytes, &di->max_alloc_bytes, NULL);
        }
    }
    return EG_OK;
}

void eg_cl_list_devices(char *buf, size_t len) {
    struct eg_cl_api api;
    struct eg_cl_device_info devs[EG_CL_MAX_DEVICES];
    char why[256] = "";
    int n = 0;
    size_t used = 0;
#define PUT(...) do { if (used < len) { int w_ = snprintf(buf + used, len - used, __VA_ARGS__); if (w_ > 0) used += (size_t)w_; } } while (0)
    if (!len) return;
    buf[0] = 0;
    if (eg_cl_api_open(&api, why, sizeof why) != EG_OK) { PUT("OpenCL:    %s\n", why); return; }
    if (eg_cl_enumerate(&api, devs, EG_CL_MAX_DEVICES, &n, why, sizeof why) != EG_OK) {
        PUT("OpenCL:    loader %s, %s\n", api.lib_name, why);
    } else if (!n) {
        PUT("OpenCL:    loader %s, no platform (no driver installed)\n", api.lib_name);
    } else {
        PUT("OpenCL:    loader %s, %d device(s)\n", api.lib_name, n);
        int last_p = -1;
        for (int i = 0; i < n; i++) {
            const struct eg_cl_device_info *d = &devs[i];
            if (d->platform_index != last_p) {
                PUT("  platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
                last_p = d->platform_index;
            }
            PUT("    device %d:%d: %s [%s], %s, driver %s, %u CUs, max WG %zu, local %llu KiB, global %.1f GiB, fp16 %s\n",
                d->platform_index, d->device_index, d->name, d->is_gpu ? "GPU" : d->is_cpu ? "CPU" : "other",
                d->c_version, d->driver_version, d->n_compute_units, d->max_work_group_size,
                (unsigned long long)(d->local_mem_bytes >> 10), (double)d->global_mem_bytes / (1 << 30),
                d->has_fp16 ? "yes" : "no");
        }
    }
#undef PUT
    eg_cl_api_close(&api);
}

/* ---- binary cache --------------------------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static int cache_dir(char *dir, size_t len) {
    const char *off = getenv("EDGEGEN_CL_CACHE");
    if (off && (!strcmp(off, "off") || !strcmp(off, "0"))) return 0;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[400];
    if (xdg && *xdg) snprintf(base, sizeof base, "%s", xdg);
    else if (home && *home) snprintf(base, sizeof base, "%s/.cache", home);
    else return 0;
    mkdir(base, 0700);                                    /* may exist; errors surface at the next mkdir */
    if (snprintf(dir, len, "%s/edgegen", base) >= (int)len) return 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return 0;
    return 1;
}

static const char CACHE_MAGIC[8] = { 'E', 'G', 'C', 'L', 'B', 'I', 'N', '1' };

/* Payload of a valid entry for `key` (malloc'd) or NULL. */
static unsigned char *cache_load(const char *path, uint64_t key, size_t *n_bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char magic[8];
    uint64_t hdr[3];
    unsigned char *p = NULL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, CACHE_MAGIC, 8) || fread(hdr, 8, 3, f) != 3 ||
        hdr[0] != key || hdr[1] == 0 || hdr[1] > (256u << 20)) goto bad;
    p = malloc(hdr[1]);
    if (!p || fread(p, 1, hdr[1], f) != hdr[1] || fnv1a(FNV_INIT, p, hdr[1]) != hdr[2]) goto bad;
    fclose(f);
    *n_bytes = hdr[1];
    return p;
bad:
    EG_LOGI("opencl: ignoring corrupt or stale cache entry %s (rebuilding)", path);
    free(p);
    fclose(f);
    return NULL;
}

static void cache_store(const char *path, uint64_t key, const unsigned char *bin, size_t n) {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    uint64_t hdr[3] = { key, n, fnv1a(FNV_INIT, bin, n) };
    int ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(hdr, 8, 3, f) == 3 && fwrite(bin, 1, n, f) == n;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) { unlink(tmp); EG_LOGI("opencl: could not write cache entry %s", path); }
}

/* ---- program build -------------------------------------------------------------------------------------- */

static void log_build_log(struct eg_cl *cl, cl_program prog) {
    size_t n = 0;
    if (cl->api.GetProgramBuildInfo(prog, cl->dev.id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS || n < 2) return;
    char *log = malloc(n + 1);
    if (!log) return;
    if (cl->api.GetProgramBuildInfo(prog, cl->dev.id, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS) {
        log[n] = 0;
        int lines = 0, first = 1;
        for (char *s = strtok(log, "\n"); s && lines < 60; s = strtok(NULL, "\n"), lines++) {
            EG_LOGI("opencl build log: %s", s);
            if (first && strstr(s, "error")) {   /* put the first error into the one-line reason */
                size_t u = strlen(cl->why);
                snprintf(cl->why + u, sizeof cl->why - u, "; %s", s);
                first = 0;
            }
        }
    }
    free(log);
}

static enum eg_status build_program(struct eg_cl *cl) {
    char opts[256];
    cl_int err;
    snprintf(opts, sizeof opts, "-cl-std=CL%s -DEG_TS=%d -DEG_NORM_WG=%d%s",
             cl->dev.c_major > 1 || cl->dev.c_minor >= 2 ? "1.2" : "1.1", cl->tile, cl->norm_wg,
             EG_CL_FAULT_IS(cl->fault, EG_CL_FAULT_WRONG) ? " -DEG_FAULT_WRONG=1" : "");

    /* sources: every embedded .cl, plus a forced error for EDGEGEN_CL_FAULT=build */
    const char *srcs[EG_CL_N_SOURCES + 1];
    size_t lens[EG_CL_N_SOURCES + 1];
    cl_uint n_src = 0;
    for (int i = 0; i < EG_CL_N_SOURCES; i++) {
        srcs[n_src] = (const char *)eg_cl_sources[i].src;
        lens[n_src++] = eg_cl_sources[i].len;
    }
#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS
    static const char fault_src[] = "#error \"forced build failure (EDGEGEN_CL_FAULT=build)\"\n";
    if (cl->fault == EG_CL_FAULT_BUILD) { srcs[n_src] = fault_src; lens[n_src++] = sizeof fault_src - 1; }
#endif

    uint64_t key = FNV_INIT;
    key = fnv1a(key, cl->dev.name, strlen(cl->dev.name) + 1);
    key = fnv1a(key, cl->dev.driver_version, strlen(cl->dev.driver_version) + 1);
    key = fnv1a(key, cl->dev.platform_version, strlen(cl->dev.platform_version) + 1);
    key = fnv1a(key, opts, strlen(opts) + 1);
    for (cl_uint i = 0; i < n_src; i++) key = fnv1a(key, srcs[i], lens[i]);

    double t0 = eg_cl_now_ms();
    char dir[450];
    cl->cache_path[0] = 0;
    if (!EG_CL_FAULT_IS(cl->fault, EG_CL_FAULT_BUILD) && cache_dir(dir, sizeof dir))
        snprintf(cl->cache_path, sizeof cl->cache_path, "%s/cl-%016llx.bin", dir, (unsigned long long)key);

    if (cl->cache_path[0]) {
        size_t n = 0;
        unsigned char *bin = cache_load(cl->cache_path, key, &n);
        if (bin) {
            const unsigned char *bins[1] = { bin };
            cl_int bin_status = CL_SUCCESS;
            cl_program p = cl->api.CreateProgramWithBinary(cl->context, 1, &cl->dev.id, &n, bins, &bin_status, &err);
            free(bin);
            if (p && err == CL_SUCCESS && bin_status == CL_SUCCESS &&
                cl->api.BuildProgram(p, 1, &cl->dev.id, opts, NULL, NULL) == CL_SUCCESS) {
                cl->program = p;
                cl->program_from_cache = 1;
                cl->build_ms = eg_cl_now_ms() - t0;
                return EG_OK;
            }
            if (p) cl->api.ReleaseProgram(p);
            EG_LOGI("opencl: driver refused cached binary %s (rebuilding)", cl->cache_path);
        }
    }

    cl_program p = cl->api.CreateProgramWithSource(cl->context, n_src, srcs, lens, &err);
    if (!p || err != CL_SUCCESS) return eg_cl_fail(cl, "clCreateProgramWithSource", err);
    err = cl->api.BuildProgram(p, 1, &cl->dev.id, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        eg_cl_fail(cl, "clBuildProgram", err);
        log_build_log(cl, p);
        cl->api.ReleaseProgram(p);
        return EG_ERR_DEVICE;
    }
    cl->program = p;
    cl->build_ms = eg_cl_now_ms() - t0;
    if (cl->cache_path[0]) {
        size_t n = 0;
        if (cl->api.GetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) == CL_SUCCESS && n) {
            unsigned char *bin = malloc(n);
            unsigned char *bins[1] = { bin };
            if (bin && cl->api.GetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
                cache_store(cl->cache_path, key, bin, n);
            free(bin);
        }
    }
    return EG_OK;
}

/* ---- create / destroy ----------------------------------------------------------------------------------- */

enum eg_status eg_cl_create(struct eg_cl **out, const char *spec, char *why, size_t why_len) {
    struct eg_cl_device_info devs[EG_CL_MAX_DEVICES];
    int n = 0, pick = -1;
    enum eg_status st;
    cl_int err;
    char tmp[256] = "";
    *out = NULL;
    struct eg_cl *cl = calloc(1, sizeof *cl);
    if (!cl) { snprintf(why, why_len, "out of memory"); return EG_ERR_NOMEM; }
    cl->fault = eg_cl_fault_from_env();

    st = eg_cl_api_open(&cl->api, tmp, sizeof tmp);
    if (st != EG_OK) { snprintf(why, why_len, "%s", tmp); goto err_free; }
    st = eg_cl_enumerate(&cl->api, devs, EG_CL_MAX_DEVICES, &n, tmp, sizeof tmp);
    if (st != EG_OK) { snprintf(why, why_len, "%s", tmp); goto err_close; }
    if (!n) { snprintf(why, why_len, "no OpenCL platform (loader %s, no driver)", cl->api.lib_name); st = EG_ERR_UNSUPPORTED; goto err_close; }

    if (!spec) spec = getenv("EDGEGEN_CL_DEVICE");
    if (EG_CL_FAULT_IS(cl->fault, EG_CL_FAULT_DEVICE)) spec = "99:99";
    if (spec && *spec) {
        int p = -1, d = -1;
        if (sscanf(spec, "%d:%d", &p, &d) != 2) {
            snprintf(why, why_len, "EDGEGEN_CL_DEVICE='%s': expected platform:device, e.g. 0:0", spec);
            st = EG_ERR_INVALID_ARG; goto err_close;
        }
        for (int i = 0; i < n; i++) if (devs[i].platform_index == p && devs[i].device_index == d) pick = i;
        if (pick < 0) {
            snprintf(why, why_len, "OpenCL device %d:%d does not exist (%d device(s); see edgegen info)", p, d, n);
            st = EG_ERR_INVALID_ARG; goto err_close;
        }
    } else {
        for (int i = 0; i < n && pick < 0; i++) if (devs[i].is_gpu) pick = i;
        if (pick < 0) pick = 0;
    }
    cl->dev = devs[pick];
    cl->tile = cl->dev.max_work_group_size >= 256 ? 16 : cl->dev.max_work_group_size >= 64 ? 8 : 4;
    cl->norm_wg = 1;
    while (cl->norm_wg * 2 <= 256 && (size_t)cl->norm_wg * 2 <= cl->dev.max_work_group_size) cl->norm_wg *= 2;

    cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)cl->dev.platform, 0 };
    cl->context = cl->api.CreateContext(props, 1, &cl->dev.id, NULL, NULL, &err);
    if (!cl->context || err != CL_SUCCESS) { st = eg_cl_fail(cl, "clCreateContext", err); goto err_report; }
    cl->queue = cl->api.CreateCommandQueue(cl->context, cl->dev.id, 0, &err);
    if (!cl->queue || err != CL_SUCCESS) { st = eg_cl_fail(cl, "clCreateCommandQueue", err); goto err_context; }
    st = build_program(cl);
    if (st != EG_OK) goto err_queue;
    *out = cl;
    return EG_OK;

err_queue:
    cl->api.ReleaseCommandQueue(cl->queue);
err_context:
    cl->api.ReleaseContext(cl->context);
err_report:
    snprintf(why, why_len, "%s", cl->why);
err_close:
    eg_cl_api_close(&cl->api);
err_free:
    free(cl);
    return st;
}

void eg_cl_destroy(struct eg_cl *cl) {
    if (!cl) return;
    if (cl->program) cl->api.ReleaseProgram(cl->program);
    if (cl->queue) cl->api.ReleaseCommandQueue(cl->queue);
    if (cl->context) cl->api.ReleaseContext(cl->context);
    eg_cl_api_close(&cl->api);
    free(cl);
}

/* ---- buffers -------------------------------------------------------------------------------------------- */

enum eg_status eg_cl_finish(struct eg_cl *cl) {
    cl_int err = cl->api.Finish(cl->queue);
    return err == CL_SUCCESS ? EG_OK : eg_cl_fail(cl, "clFinish", err);
}

enum eg_status eg_cl_buffer(struct eg_cl *cl, cl_mem *out, size_t n_bytes, const void *src) {
    cl_int err;
    *out = cl->api.CreateBuffer(cl->context, CL_MEM_READ_WRITE | (src ? CL_MEM_COPY_HOST_PTR : 0),
                                n_bytes ? n_bytes : 4, (void *)src, &err);
    if (!*out || err != CL_SUCCESS) { *out = NULL; return eg_cl_fail(cl, "clCreateBuffer", err); }
    return EG_OK;
}

enum eg_status eg_cl_write(struct eg_cl *cl, cl_mem m, size_t off_bytes, size_t n_bytes, const void *src) {
    if (!n_bytes) return EG_OK;
    cl_int err = cl->api.EnqueueWriteBuffer(cl->queue, m, CL_TRUE, off_bytes, n_bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? EG_OK : eg_cl_fail(cl, "clEnqueueWriteBuffer", err);
}

enum eg_status eg_cl_read(struct eg_cl *cl, cl_mem m, size_t off_bytes, size_t n_bytes, void *dst) {
    if (!n_bytes) return EG_OK;
    cl_int err = cl->api.EnqueueReadBuffer(cl->queue, m, CL_TRUE, off_bytes, n_bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? EG_OK : eg_cl_fail(cl, "clEnqueueReadBuffer", err);
}

void eg_cl_release(struct eg_cl *cl, cl_mem *m) {
    if (*m) cl->api.ReleaseMemObject(*m);
    *m = NULL;
}
