/* opencl/cl_runtime.h — OpenCL platform/device choice, capabilities, and the one program per device.
 *
 * struct eg_cl is one device in use: loader table, context, in-order queue and the program built from every
 * opencl/kernels/NAME.cl file (embedded at build time). The program is built once per eg_cl and cached as a device
 * binary in $XDG_CACHE_HOME/edgegen (or ~/.cache/edgegen), keyed by device name + driver version + a hash of the
 * sources and build options; a corrupt entry is ignored and rebuilt, writes are atomic (temp file + rename).
 *
 * Errors: OpenCL return codes are status returns (EG_ERR_DEVICE), never asserts. The failing call and the CL
 * error name go to cl->why (and one INFO log line); callers that fall back print cl->why in their one warning.
 *
 * Environment:
 *   EDGEGEN_CL_DEVICE=P:D     platform P, device D (indices as `edgegen info` lists them); default: the first
 *                             GPU/accelerator, else the first device
 *   EDGEGEN_CL_CACHE=off      do not read or write the binary cache
 *   EDGEGEN_CL_FAULT=build|device|wrong|enqueue   fault injection for tests: a forced build error, an invalid
 *                             device index, kernels that return wrong values, a launch failing with
 *                             CL_OUT_OF_RESOURCES after the self-test (each must end in the CPU fallback)
 *   EDGEGEN_OPENCL_LIB=path   the ICD loader to dlopen (cl_loader.h)
 * Thread safety: one struct eg_cl per thread at a time; distinct ones are independent.
 */
#ifndef EG_CL_RUNTIME_H
#define EG_CL_RUNTIME_H

#include "opencl/cl_loader.h"

struct eg_cl_device_info {
    int platform_index, device_index;
    cl_platform_id platform;
    cl_device_id id;
    char platform_name[96], platform_version[192];
    char platform_short[48];         /* "PoCL 3.1+debian": CL_PLATFORM_VERSION without "OpenCL x.y" and build notes */
    char name[128], version[96], driver_version[96], c_version[64];
    int c_major, c_minor;            /* OpenCL C version from CL_DEVICE_OPENCL_C_VERSION ("OpenCL C 1.2 ...") */
    int is_cpu, is_gpu;
    int has_fp16;                    /* cl_khr_fp16 in the extension string */
    cl_uint n_compute_units;
    size_t max_work_group_size;
    cl_ulong local_mem_bytes, global_mem_bytes, max_alloc_bytes;
};

#define EG_CL_MAX_DEVICES 16

/* Every device of every platform, in platform/device index order. n_out = 0 with EG_OK when the loader works
 * but no platform is installed (CL_PLATFORM_NOT_FOUND_KHR is "no OpenCL", not an error). */
enum eg_status eg_cl_enumerate(const struct eg_cl_api *api, struct eg_cl_device_info *out, int max, int *n_out,
                               char *why, size_t why_len);

enum eg_cl_fault { EG_CL_FAULT_NONE = 0, EG_CL_FAULT_BUILD, EG_CL_FAULT_DEVICE, EG_CL_FAULT_WRONG, EG_CL_FAULT_ENQUEUE };
/* EDGEGEN_CL_FAULT, parsed (unknown values are NONE). Test builds only (EG_TEST_HOOKS=1: the test runners'
 * libedgegen-test.a): elsewhere it is always NONE and EG_CL_FAULT_IS() is a constant 0, so the fault paths and
 * their strings are not in the library. */
#if defined(EG_TEST_HOOKS) && EG_TEST_HOOKS
enum eg_cl_fault eg_cl_fault_from_env(void);
#define EG_CL_FAULT_IS(field, kind) ((field) == (kind))
#else
static inline enum eg_cl_fault eg_cl_fault_from_env(void) { return EG_CL_FAULT_NONE; }
#define EG_CL_FAULT_IS(field, kind) ((void)(field), 0)
#endif

struct eg_cl {
    struct eg_cl_api api;
    struct eg_cl_device_info dev;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    enum eg_cl_fault fault;
    int tile;                  /* gemm tile edge (EG_TS in the kernels): 16, 8 or 4 by max work-group size */
    int norm_wg;               /* work-group size of the row reductions (power of two) */
    int program_from_cache;    /* 1 when the program came from the binary cache */
    double build_ms;           /* wall time of building (or loading) the program */
    char cache_path[512];      /* the cache entry for this program ("" when caching is off) */
    char why[256];             /* the last failure, one line: "clBuildProgram: CL_BUILD_PROGRAM_FAILURE" */
};

/* Open the loader, choose a device (`spec` "P:D", NULL → EDGEGEN_CL_DEVICE → default), create a context and a
 * queue, and build the program (binary cache first). On failure *out is NULL and `why` says what failed:
 * EG_ERR_UNSUPPORTED (no loader, no platform/device), EG_ERR_INVALID_ARG (bad spec / index),
 * EG_ERR_DEVICE (an OpenCL call failed; the build log goes to the log at INFO), EG_ERR_NOMEM. */
enum eg_status eg_cl_create(struct eg_cl **out, const char *spec, char *why, size_t why_len);
void eg_cl_destroy(struct eg_cl *cl);   /* NULL allowed; releases in reverse order */

/* Record a failed OpenCL call: writes "call: CL_ERROR_NAME (code)" into cl->why, logs it at INFO, returns
 * EG_ERR_DEVICE. For use in `return eg_cl_fail(cl, "clEnqueueNDRangeKernel", err);`. */
enum eg_status eg_cl_fail(struct eg_cl *cl, const char *call, cl_int err);

/* clFinish with the status convention above. */
enum eg_status eg_cl_finish(struct eg_cl *cl);

/* Buffers: create (size in bytes; host data copied when `src` != NULL), blocking write/read at an element
 * offset. A failed allocation is EG_ERR_DEVICE. */
enum eg_status eg_cl_buffer(struct eg_cl *cl, cl_mem *out, size_t n_bytes, const void *src);
enum eg_status eg_cl_write(struct eg_cl *cl, cl_mem m, size_t off_bytes, size_t n_bytes, const void *src);
enum eg_status eg_cl_read(struct eg_cl *cl, cl_mem m, size_t off_bytes, size_t n_bytes, void *dst);
void eg_cl_release(struct eg_cl *cl, cl_mem *m);   /* releases and sets *m = NULL; NULL-safe */

/* One line per platform/device with caps, for `edgegen info`: fills `buf` (lines end with '\n'). Never fails;
 * with no loader or no platform the text says so. */
void eg_cl_list_devices(char *buf, size_t len);

/* Monotonic milliseconds (for build and benchmark timing). */
double eg_cl_now_ms(void);

#endif /* EG_CL_RUNTIME_H */
