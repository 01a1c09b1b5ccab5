/* runtime/cpu.h — what the CPU and OS can run, and how much memory this process may use.
 *
 * Probing (reading CPUID/XGETBV, getauxval, /proc and /sys files) is kept apart from decoding (pure functions
 * over the recorded values), so tests replay recorded dumps: see tests/test_cpu.c.
 * Built with baseline flags only: this code runs before we know what the CPU supports.
 */
#ifndef EG_CPU_H
#define EG_CPU_H

#include <stdint.h>
#include <stddef.h>

/* Feature bits: set only when the CPU advertises the feature AND the OS enables its register state. */
enum {
    EG_CPU_SSE2      = 1u << 0,
    EG_CPU_AVX       = 1u << 1,
    EG_CPU_AVX2      = 1u << 2,
    EG_CPU_FMA       = 1u << 3,
    EG_CPU_F16C      = 1u << 4,
    EG_CPU_AVX512F   = 1u << 5,
    EG_CPU_AVX512BW  = 1u << 6,
    EG_CPU_AVX512VL  = 1u << 7,
    EG_CPU_AVX512DQ  = 1u << 8,
    EG_CPU_AVX512VNNI = 1u << 9,
    EG_CPU_NEON      = 1u << 16,  /* AArch64 asimd, or ARMv7 HWCAP_NEON */
    EG_CPU_DOTPROD   = 1u << 17,  /* AArch64 asimddp */
    EG_CPU_FP16      = 1u << 18,  /* AArch64 fphp && asimdhp */
    EG_CPU_I8MM      = 1u << 19,  /* AArch64 HWCAP2_I8MM */
    EG_CPU_VFPV4     = 1u << 20,  /* ARMv7 VFPv4 (fused multiply-add) */
};

#define EG_CPU_MAX_CLUSTERS 8

struct eg_cpu {
    char     model[64];        /* brand string or MIDR description, "" if unknown */
    char     arch[16];         /* "x86_64", "aarch64", "armv7", "unknown" */
    uint64_t features;         /* EG_CPU_* bits usable by this process */
    uint64_t xcr0;             /* x86: XGETBV(0) value, 0 if OSXSAVE is off or not x86 */
    int      n_cores_online;   /* sysconf(_SC_NPROCESSORS_ONLN), >= 1 */
    int      n_clusters;       /* groups of cores with equal max frequency (big.LITTLE), 0 if unknown */
    int      cluster_n_cores[EG_CPU_MAX_CLUSTERS];
    long     cluster_max_khz[EG_CPU_MAX_CLUSTERS];
    long     l1d_bytes, l2_bytes, l3_bytes;   /* 0 if unknown */
};

/* Which limit bounds the memory this process may use. */
enum eg_mem_limit {
    EG_MEM_LIMIT_NONE = 0,         /* nothing known */
    EG_MEM_LIMIT_MEMAVAILABLE,     /* /proc/meminfo MemAvailable */
    EG_MEM_LIMIT_CGROUP_V2,        /* memory.max - memory.current */
    EG_MEM_LIMIT_CGROUP_V1,        /* memory.limit_in_bytes - memory.usage_in_bytes */
    EG_MEM_LIMIT_RLIMIT_AS,        /* RLIMIT_AS minus current virtual size */
    EG_MEM_LIMIT_RLIMIT_DATA,      /* RLIMIT_DATA */
};

struct eg_mem {
    uint64_t available_bytes;      /* min over all known limits; UINT64_MAX if none known */
    enum eg_mem_limit binding;     /* which limit gave available_bytes */
    uint64_t mem_available_bytes;  /* each limit as read, UINT64_MAX when absent/unlimited */
    uint64_t cgroup_limit_bytes, cgroup_usage_bytes;
    uint64_t rlimit_as_bytes, rlimit_data_bytes, vm_size_bytes;
};

/* Probe this machine (CPUID/XGETBV or getauxval, sysconf, /sys). Never fails: unknown fields stay 0/"". */
void eg_cpu_detect(struct eg_cpu *cpu);
/* Probe the memory this process may use (/proc/meminfo, cgroup v1/v2, getrlimit). Never fails. */
void eg_mem_detect(struct eg_mem *mem);
/* Human-readable name of a limit ("MemAvailable", "cgroup memory.max", "RLIMIT_AS", ...). */
const char *eg_mem_limit_name(enum eg_mem_limit l);

#endif /* EG_CPU_H */
