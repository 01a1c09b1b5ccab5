/* opencl/cl_loader.c — dlopen the OpenCL ICD loader into struct eg_cl_api (see cl_loader.h for why).
 *
 * Only POSIX dlopen/dlsym: on Windows this file would use LoadLibrary("OpenCL.dll") the same way (not built yet).
 * Error names follow the Khronos headers (cl.h, cl_ext.h for the -1001 ICD code).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "opencl/cl_loader.h"

enum eg_status eg_cl_api_open(struct eg_cl_api *api, char *why, size_t why_len) {
    static const char *const names[] = { "libOpenCL.so.1", "libOpenCL.so", NULL };
    const char *env = getenv("EDGEGEN_OPENCL_LIB");
    memset(api, 0, sizeof *api);
    if (env && *env) {
        api->lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (api->lib) snprintf(api->lib_name, sizeof api->lib_name, "%s", env);
    } else {
        for (int i = 0; names[i] && !api->lib; i++) {
            api->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
            if (api->lib) snprintf(api->lib_name, sizeof api->lib_name, "%s", names[i]);
        }
    }
    if (!api->lib) {
        if (why) snprintf(why, why_len, "no ICD loader (%s not found)", env && *env ? env : names[0]);
        return EG_ERR_UNSUPPORTED;
    }
    /* dlsym returns void *; POSIX guarantees the conversion to a function pointer works (memcpy keeps
     * -Wpedantic quiet about object-to-function pointer casts). */
#define EG_CL_LOAD(f) do {                                                                               \
        void *p_ = dlsym(api->lib, "cl" #f);                                                             \
        if (!p_) {                                                                                       \
            if (why) snprintf(why, why_len, "ICD loader %s lacks cl" #f, api->lib_name);                  \
            eg_cl_api_close(api);                                                                        \
            return EG_ERR_UNSUPPORTED;                                                                   \
        }                                                                                                \
        memcpy(&api->f, &p_, sizeof p_);                                                                 \
    } while (0);
    EG_CL_FUNCS(EG_CL_LOAD)
#undef EG_CL_LOAD
    return EG_OK;
}

void eg_cl_api_close(struct eg_cl_api *api) {
    if (api->lib) dlclose(api->lib);
    memset(api, 0, sizeof *api);
}

const char *eg_cl_err_name(cl_int err) {
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
    E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
    E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
    E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "CL_UNKNOWN_ERROR";
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int eg_cl_icd_fingerprint(char *buf, size_t len) {
    const char *dir_env = getenv("OCL_ICD_VENDORS"), *lib = getenv("EDGEGEN_OPENCL_LIB");
    const char *dir = dir_env && *dir_env ? dir_env : "/etc/OpenCL/vendors";
    char *names[64];
    int n = 0;
    size_t used = (size_t)snprintf(buf, len, "loader=%s", lib && *lib ? lib : "libOpenCL.so.1");
    DIR *d = opendir(dir);
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d)) && n < 64;) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".icd") && (names[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);   /* readdir order is arbitrary */
    for (int i = 0; i < n; i++) {
        char path[512], content[256] = "";
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        if (f) { if (!fgets(content, sizeof content, f)) content[0] = 0; fclose(f); }
        content[strcspn(content, "\n")] = 0;
        if (stat(path, &st) == 0 && used < len)
            used += (size_t)snprintf(buf + used, len - used, "|%s %lld %lld %s", names[i], (long long)st.st_size,
                                     (long long)st.st_mtime, content);
        free(names[i]);
    }
    return n > 0 && used < len;
}
