/* runtime/core/cpu.h — what the CPU and OS can run, and how much memory this process may use.
 *
 * Probing (reading CPUID/XGETBV, getauxval, /proc and /sys files) is kept apart from decoding (pure functions
 * over the recorded values), so tests replay recorded dumps: see tests/test_cpu.c.
 * Built with baseline flags only: this code runs before we know what the CPU supports.
 */
#ifndef EG_CPU_H
#define EG_CPU_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

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
    uint64_t features_advertised;  /* EG_CPU_* bits the CPU advertises (CPUID/HWCAP) before the OS-state check:
                                    * a bit here but not in `features` means "CPU has it, OS has not enabled it" */
};

/* Which limit bounds the memory this process may use. */
enum eg_mem_limit {
    EG_MEM_LIMIT_NONE = 0,         /* nothing known */
    EG_MEM_LIMIT_MEMAVAILABLE,     /* /proc/meminfo MemAvailable */
    EG_MEM_LIMIT_CGROUP_V2,        /* memory.max - memory.current */
    EG_MEM_LIMIT_CGROUP_V1,        /* memory.limit_in_bytes - memory.usage_in_bytes */
    EG_MEM_LIMIT_RLIMIT_AS,        /* RLIMIT_AS minus current virtual size */
    EG_MEM_LIMIT_RLIMIT_DATA,      /* RLIMIT_DATA */
    EG_MEM_LIMIT_ADDRESS_SPACE,    /* 32-bit process: at most ~3 GiB of user address space */
};

struct eg_mem {
    uint64_t available_bytes;      /* min over all known limits; UINT64_MAX if none known */
    enum eg_mem_limit binding;     /* which limit gave available_bytes */
    uint64_t mem_available_bytes;  /* each limit as read, UINT64_MAX when absent/unlimited */
    uint64_t cgroup_limit_bytes, cgroup_usage_bytes;
    uint64_t rlimit_as_bytes, rlimit_data_bytes, vm_size_bytes;
    uint64_t vm_data_bytes;        /* /proc/self/status VmData: what RLIMIT_DATA counts (Linux >= 4.7) */
    int      cgroup_version;       /* 2, 1, or 0 when no memory cgroup was found */
    uint64_t address_space_bytes;  /* 32-bit builds: 3 GiB (VMSPLIT_3G), a flat cap; UINT64_MAX on 64-bit */
};

/* Probe this machine (CPUID/XGETBV or getauxval, sysconf, /sys). Never fails: unknown fields stay 0/"". */
void eg_cpu_detect(struct eg_cpu *cpu);
/* Probe the memory this process may use (/proc/meminfo, cgroup v1/v2, getrlimit). Never fails. */
void eg_mem_detect(struct eg_mem *mem);
/* Human-readable name of a limit ("MemAvailable", "cgroup memory.max", "RLIMIT_AS", ...). */
const char *eg_mem_limit_name(enum eg_mem_limit l);

/* ---- decoders and probes with a root: tests replay recorded values and fake /proc, /sys trees ------------- */

/* Raw x86 registers as read by CPUID/XGETBV. Each leaf is { eax, ebx, ecx, edx }; leaves the CPU does not
 * report (above leaf0[0] / ext0[0]) are ignored by the decoder whatever they hold. */
struct eg_x86_regs {
    uint32_t leaf0[4];        /* CPUID(0): eax = max basic leaf; ebx, edx, ecx = vendor */
    uint32_t leaf1[4];        /* CPUID(1) */
    uint32_t leaf7[4];        /* CPUID(7, 0) */
    uint32_t ext0[4];         /* CPUID(0x80000000): eax = max extended leaf */
    uint32_t brand[12];       /* CPUID(0x80000002..0x80000004), eax..edx each */
    uint64_t xcr0;            /* XGETBV(0); only meaningful when CPUID(1).ecx.OSXSAVE is set */
};
/* Fills cpu->model, features, features_advertised, xcr0 (0 when OSXSAVE is clear). Pure. */
void eg_cpu_decode_x86(const struct eg_x86_regs *r, struct eg_cpu *cpu);
/* AArch64 getauxval(AT_HWCAP), (AT_HWCAP2) → features. Pure. */
void eg_cpu_decode_arm64(uint64_t hwcap, uint64_t hwcap2, struct eg_cpu *cpu);
/* 32-bit ARM getauxval(AT_HWCAP) → features (NEON, VFPv4). Pure. */
void eg_cpu_decode_arm32(uint64_t hwcap, struct eg_cpu *cpu);
/* "Cortex-A72" etc. from an AArch64 MIDR_EL1 value; NULL when unknown. Pure. */
const char *eg_cpu_midr_name(uint64_t midr);

/* Read cores, clusters, caches (and on AArch64 the MIDR model names) from a sysfs cpu directory, normally
 * "/sys/devices/system/cpu". Missing files leave fields at 0. */
void eg_cpu_read_sysfs(struct eg_cpu *cpu, const char *cpu_dir);
/* Count CPUs in a kernel cpu list ("0-3,6,8-9\n"); -1 when malformed. Pure. */
int eg_cpu_parse_cpulist(const char *text);
/* "32K", "2048K", "8M", "512" → bytes; -1 when malformed. Pure. */
long eg_cpu_parse_cache_size(const char *text);

/* Probe the registers of this machine (x86 only; returns 0 elsewhere, 1 when filled). */
int eg_cpu_read_x86(struct eg_x86_regs *r);
/* getauxval(AT_HWCAP), (AT_HWCAP2) on ARM builds (returns 0 elsewhere, 1 when filled). */
int eg_cpu_read_hwcap(uint64_t *hwcap, uint64_t *hwcap2);
/* Write this machine's raw values in the tests/data/cpu/ dump format (for recording new test cases). */
void eg_cpu_dump(FILE *f);

/* Name of one EG_CPU_* bit ("AVX512BW"), or NULL. Writes the names of all set bits into buf, joined by sep. */
const char *eg_cpu_feature_name(uint64_t bit);
void eg_cpu_features_str(uint64_t features, const char *sep, char *buf, size_t len);

/* Memory probe under a root directory ("" = the real /proc and /sys/fs/cgroup) with the given RLIMIT_AS and
 * RLIMIT_DATA soft limits (UINT64_MAX = unlimited). eg_mem_detect() is eg_mem_detect_at("", getrlimit...). */
void eg_mem_detect_at(struct eg_mem *mem, const char *root, uint64_t rlimit_as, uint64_t rlimit_data);
/* Pure parsers. Each returns 1 when the value was found, 0 otherwise. */
int eg_mem_parse_meminfo(const char *text, const char *key, uint64_t *bytes);   /* "MemAvailable:  123 kB" */
int eg_mem_parse_limit(const char *text, uint64_t *bytes);    /* "123\n" or "max\n" (→ UINT64_MAX) */
/* The cgroup path of this process from /proc/self/cgroup text: the v2 line "0::/path", or the v1 line whose
 * controller list contains "memory". Writes into path (len bytes). */
int eg_mem_parse_cgroup(const char *text, int version, char *path, size_t len);
/* Given the *_bytes fields, set available_bytes and binding (the smallest headroom wins). Pure. */
void eg_mem_combine(struct eg_mem *mem);

/* Read a small text file (sysfs, procfs, cgroupfs) into buf, NUL-terminated; 1 when something was read. */
int eg_read_text_file(const char *path, char *buf, size_t len);

#endif /* EG_CPU_H */
