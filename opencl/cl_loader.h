/* opencl/cl_loader.h — the OpenCL ICD loader, opened at run time with dlopen, never linked.
 *
 * A binary linked against -lOpenCL does not even start where libOpenCL.so.1 is missing (most CPU-only Raspberry
 * Pi installs), so edgegen resolves every entry point it uses into a table of function pointers instead
 * (research/reliability.md §3.1). Headers are Debian's opencl-c-headers at CL_TARGET_OPENCL_VERSION=120: the
 * kernels are OpenCL C 1.2 and the host uses only 1.2 entry points.
 *
 * Ownership: struct eg_cl_api lives in caller memory; eg_cl_api_open() fills it, eg_cl_api_close() drops the
 * library reference (dlopen counts references, so several tables may be open at once). Thread-safe.
 */
#ifndef EG_CL_LOADER_H
#define EG_CL_LOADER_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stddef.h>
#include "runtime/edgegen.h"

/* Every OpenCL entry point edgegen calls: X(name without the "cl" prefix). */
#define EG_CL_FUNCS(X)                                                                                    \
    X(GetPlatformIDs) X(GetPlatformInfo) X(GetDeviceIDs) X(GetDeviceInfo)                                 \
    X(CreateContext) X(ReleaseContext) X(CreateCommandQueue) X(ReleaseCommandQueue)                       \
    X(CreateProgramWithSource) X(CreateProgramWithBinary) X(BuildProgram) X(GetProgramBuildInfo)          \
    X(GetProgramInfo) X(ReleaseProgram) X(CreateKernel) X(ReleaseKernel) X(SetKernelArg)                  \
    X(GetKernelWorkGroupInfo) X(CreateBuffer) X(ReleaseMemObject) X(EnqueueWriteBuffer)                   \
    X(EnqueueReadBuffer) X(EnqueueCopyBuffer) X(EnqueueNDRangeKernel) X(Finish) X(Flush)

struct eg_cl_api {
    void *lib;           /* dlopen handle; NULL when closed */
    char lib_name[64];   /* the name that opened, for `edgegen info` */
#define EG_CL_MEMBER(f) __typeof__(cl##f) *f;
    EG_CL_FUNCS(EG_CL_MEMBER)
#undef EG_CL_MEMBER
};

/* Open the ICD loader: $EDGEGEN_OPENCL_LIB if set, else libOpenCL.so.1, else libOpenCL.so. Returns EG_OK, or
 * EG_ERR_UNSUPPORTED when no loader can be opened or it lacks an entry point; `why` (may be NULL) then gets a
 * short reason such as "no ICD loader (libOpenCL.so.1 not found)". Logs nothing: absence is a normal state. */
enum eg_status eg_cl_api_open(struct eg_cl_api *api, char *why, size_t why_len);
void eg_cl_api_close(struct eg_cl_api *api);

/* "CL_OUT_OF_RESOURCES" etc. (a static string, never NULL); "CL_UNKNOWN_ERROR" for codes outside the table, so
 * log lines print the number too. */
const char *eg_cl_err_name(cl_int err);

/* A cheap fingerprint of the installed OpenCL drivers without loading any of them: the ICD loader's identity
 * (EDGEGEN_OPENCL_LIB) and each vendor file in $OCL_ICD_VENDORS or /etc/OpenCL/vendors (name, size, mtime,
 * content: the driver library it names). Package upgrades replace these files. Returns 0 when no vendor file
 * is found (then nothing can be said without loading the loader). */
int eg_cl_icd_fingerprint(char *buf, size_t len);

#endif /* EG_CL_LOADER_H */
