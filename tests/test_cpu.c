/* tests/test_cpu.c — feature detection, topology and memory limits from recorded values and fake trees.
 *
 * Recorded CPUID/XCR0 and HWCAP dumps live in tests/data/cpu/ (format in its README.md); every file listed in
 * cpu_dumps[] is decoded with the pure decoders (on any host) and compared with its expect-* lines, and the
 * table a dispatch over test tables (avx512 / avx2 / neon / ref, needs below) would pick. Fake sysfs and
 * /proc + /sys/fs/cgroup trees live in tests/data/sysfs/ and tests/data/mem/. Set EG_TEST_DATA to run from
 * another directory (default: tests/data, relative to the repository root).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/harness.h"
#include "runtime/core/cpu.h"
#include "simd/dispatch.h"

static const char *data_dir(void) {
    const char *d = getenv("EG_TEST_DATA");
    return d && d[0] ? d : "tests/data";
}

/* Test tables with the needs the real ones are expected to have (the real avx512 table may need more). */
static const struct eg_kernels t_avx512 = { .name = "avx512",
    .needs = EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C | EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ };
static const struct eg_kernels t_avx2 = { .name = "avx2", .needs = EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C };
static const struct eg_kernels t_neon = { .name = "neon", .needs = EG_CPU_NEON };

static uint64_t parse_names(const char *s, int *bad) {
    uint64_t bits = 0;
    char word[32];
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        size_t n = 0;
        while (*s && *s != ' ' && n + 1 < sizeof word) word[n++] = *s++;
        word[n] = '\0';
        int found = 0;
        for (int i = 0; i < 64; i++) {
            const char *name = eg_cpu_feature_name(1ull << i);
            if (name && !strcmp(name, word)) { bits |= 1ull << i; found = 1; }
        }
        if (!found) (*bad)++;
    }
    return bits;
}

struct dump {
    char arch[16];
    struct eg_x86_regs regs;
    uint64_t hwcap, hwcap2;
    uint64_t expect_features, expect_advertised;
    int has_advertised;
    char expect_model[64], expect_table[16];
    int bad;        /* unparseable lines */
};

static int read_u32s(const char *s, uint32_t *out, int n) {
    for (int i = 0; i < n; i++) {
        char *end;
        unsigned long v = strtoul(s, &end, 16);
        if (end == s) return 0;
        out[i] = (uint32_t)v;
        s = end;
    }
    return 1;
}

static int load_dump(const char *name, struct dump *d) {
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/cpu/%s", data_dir(), name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    memset(d, 0, sizeof *d);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line, ' ');
        const char *val = sp ? sp + 1 : "";
        if (sp) *sp = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        if (!strcmp(line, "arch")) snprintf(d->arch, sizeof d->arch, "%s", val);
        else if (!strcmp(line, "leaf0")) d->bad += !read_u32s(val, d->regs.leaf0, 4);
        else if (!strcmp(line, "leaf1")) d->bad += !read_u32s(val, d->regs.leaf1, 4);
        else if (!strcmp(line, "leaf7")) d->bad += !read_u32s(val, d->regs.leaf7, 4);
        else if (!strcmp(line, "ext0")) d->bad += !read_u32s(val, d->regs.ext0, 4);
        else if (!strcmp(line, "brand")) d->bad += !read_u32s(val, d->regs.brand, 12);
        else if (!strcmp(line, "xcr0")) d->regs.xcr0 = strtoull(val, NULL, 16);
        else if (!strcmp(line, "hwcap")) d->hwcap = strtoull(val, NULL, 16);
        else if (!strcmp(line, "hwcap2")) d->hwcap2 = strtoull(val, NULL, 16);
        else if (!strcmp(line, "expect-features")) d->expect_features = parse_names(val, &d->bad);
        else if (!strcmp(line, "expect-advertised")) { d->expect_advertised = parse_names(val, &d->bad); d->has_advertised = 1; }
        else if (!strcmp(line, "expect-model")) snprintf(d->expect_model, sizeof d->expect_model, "%s", val);
        else if (!strcmp(line, "expect-table")) snprintf(d->expect_table, sizeof d->expect_table, "%s", val);
        else d->bad++;
    }
    fclose(f);
    return 1;
}

static const char *const cpu_dumps[] = {
    "x86_xeon_avx512_kvm.txt", "x86_avx512_xcr0_no_zmm.txt", "x86_skylake_i7_6500u.txt",
    "x86_avx2_xcr0_no_ymm.txt", "x86_osxsave_off.txt", "x86_zen_plus_2700x.txt", "x86_zen3_5900x.txt",
    "x86_nehalem.txt", "x86_avx512f_without_bw.txt", "x86_leaf7_beyond_max.txt",
    "arm64_cortex_a53_pi3.txt", "arm64_cortex_a72_pi4.txt", "arm64_cortex_a76_pi5.txt", "arm64_cortex_a710.txt",
    "arm64_fphp_without_asimdhp.txt", "armv7_pi2_neon.txt", "armv7_tegra2_no_neon.txt",
};

static void decode_dump(const struct dump *d, struct eg_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
    if (!strcmp(d->arch, "x86")) eg_cpu_decode_x86(&d->regs, cpu);
    else if (!strcmp(d->arch, "aarch64")) eg_cpu_decode_arm64(d->hwcap, d->hwcap2, cpu);
    else if (!strcmp(d->arch, "armv7")) eg_cpu_decode_arm32(d->hwcap, cpu);
}

TEST(cpu_recorded_dumps) {
    for (size_t i = 0; i < sizeof cpu_dumps / sizeof cpu_dumps[0]; i++) {
        struct dump d;
        struct eg_cpu cpu;
        char got[256], want[256];
        REQUIRE(load_dump(cpu_dumps[i], &d), "%s/cpu/%s: cannot open (run from the repository root or set "
                "EG_TEST_DATA)", data_dir(), cpu_dumps[i]);
        CHECK(d.bad == 0, "%s: %d unparseable lines or feature names", cpu_dumps[i], d.bad);
        CHECK(d.arch[0], "%s: no arch line", cpu_dumps[i]);
        decode_dump(&d, &cpu);
        eg_cpu_features_str(cpu.features, " ", got, sizeof got);
        eg_cpu_features_str(d.expect_features, " ", want, sizeof want);
        CHECK(cpu.features == d.expect_features, "%s: features [%s], expected [%s]", cpu_dumps[i], got, want);
        CHECK((cpu.features & ~cpu.features_advertised) == 0, "%s: usable features not advertised", cpu_dumps[i]);
        if (d.has_advertised) {
            eg_cpu_features_str(cpu.features_advertised, " ", got, sizeof got);
            eg_cpu_features_str(d.expect_advertised, " ", want, sizeof want);
            CHECK(cpu.features_advertised == d.expect_advertised, "%s: advertised [%s], expected [%s]",
                  cpu_dumps[i], got, want);
        }
        if (d.expect_model[0])
            CHECK(!strcmp(cpu.model, d.expect_model), "%s: model '%s', expected '%s'", cpu_dumps[i], cpu.model,
                  d.expect_model);
        if (d.expect_table[0]) {
            const struct eg_kernels *tables[] = { &t_avx512, &t_avx2, &t_neon, &eg_kernels_ref };
            struct eg_kernels k;
            char why[512];
            enum eg_status st = eg_dispatch_select_from(tables, 4, &cpu, EG_ISA_AUTO, NULL, &k, why, sizeof why);
            CHECK(st == EG_OK, "%s: dispatch failed: %s", cpu_dumps[i], why);
            if (st == EG_OK)
                CHECK(!strcmp(k.name, d.expect_table), "%s: table %s, expected %s (%s)", cpu_dumps[i], k.name,
                      d.expect_table, why);
        }
    }
}

/* The cases the brief names, spelled out so a failure reads clearly. */
TEST(cpu_x86_xcr0_gates_avx) {
    struct dump d;
    struct eg_cpu cpu;
    REQUIRE(load_dump("x86_skylake_i7_6500u.txt", &d), "missing dump");
    decode_dump(&d, &cpu);
    CHECK(cpu.features & EG_CPU_AVX2, "Skylake with XCR0=0x1f: AVX2 usable");
    CHECK(cpu.xcr0 == 0x1f, "xcr0 = 0x%llx", (unsigned long long)cpu.xcr0);
    d.regs.xcr0 = 0x3;                       /* SSE state only: CPUID advertises AVX2 but XCR0 lacks YMM */
    decode_dump(&d, &cpu);
    CHECK(!(cpu.features & (EG_CPU_AVX | EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C)), "no AVX family without YMM state");
    CHECK(cpu.features_advertised & EG_CPU_AVX2, "AVX2 still advertised");
    d.regs.xcr0 = 0x5;                       /* YMM without SSE state: (XCR0 & 6) != 6 */
    decode_dump(&d, &cpu);
    CHECK(!(cpu.features & EG_CPU_AVX2), "XCR0=0x5 (AVX without SSE state) must not enable AVX2");
    d.regs.leaf1[2] &= ~(1u << 27);         /* OSXSAVE clear: XCR0 value must be ignored */
    d.regs.xcr0 = 0xe7;
    decode_dump(&d, &cpu);
    CHECK(!(cpu.features & EG_CPU_AVX) && cpu.xcr0 == 0, "OSXSAVE clear: no AVX, xcr0 reported 0");
}

TEST(cpu_x86_xcr0_gates_avx512) {
    struct dump d;
    struct eg_cpu cpu;
    REQUIRE(load_dump("x86_xeon_avx512_kvm.txt", &d), "missing dump");
    static const uint64_t partial[] = { 0x7, 0x27, 0x67, 0xa7, 0xc7, 0xe3 };   /* each lacks one needed bit */
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        d.regs.xcr0 = partial[i];
        decode_dump(&d, &cpu);
        CHECK(!(cpu.features & (EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ | EG_CPU_AVX512VNNI)),
              "XCR0=0x%llx must not enable AVX-512", (unsigned long long)partial[i]);
        if ((partial[i] & 6) == 6) CHECK(cpu.features & EG_CPU_AVX2, "XCR0=0x%llx keeps AVX2", (unsigned long long)partial[i]);
    }
    d.regs.xcr0 = 0xe7;
    decode_dump(&d, &cpu);
    CHECK((cpu.features & (EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ)) ==
          (EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ), "XCR0=0xe7: AVX-512 usable");
}

TEST(cpu_arm_hwcaps) {
    struct eg_cpu cpu;
    eg_cpu_decode_arm64(0x887, 0, &cpu);                 /* Cortex-A53 / A72 on Raspberry Pi */
    CHECK(cpu.features == EG_CPU_NEON, "a53/a72: NEON only");
    eg_cpu_decode_arm64(0x119fff, 0, &cpu);              /* Cortex-A76 (Pi 5) */
    CHECK(cpu.features == (EG_CPU_NEON | EG_CPU_DOTPROD | EG_CPU_FP16), "a76: NEON+DOTPROD+FP16");
    eg_cpu_decode_arm64(1ull << 20, 1ull << 13, &cpu);   /* dotprod/i8mm bits without ASIMD: nothing */
    CHECK(cpu.features == 0, "extensions without ASIMD are not usable");
    eg_cpu_decode_arm32(1ull << 12, &cpu);
    CHECK(cpu.features == EG_CPU_NEON, "armv7 NEON without VFPv4");
    CHECK(eg_cpu_midr_name(0x410fd034) && !strcmp(eg_cpu_midr_name(0x410fd034), "Cortex-A53"), "MIDR A53");
    CHECK(eg_cpu_midr_name(0x414fd0b1) && !strcmp(eg_cpu_midr_name(0x414fd0b1), "Cortex-A76"), "MIDR A76");
    CHECK(eg_cpu_midr_name(0x611f0221) == NULL, "unknown MIDR → NULL");
}

TEST(cpu_parsers) {
    CHECK(eg_cpu_parse_cpulist("0-3\n") == 4, "0-3");
    CHECK(eg_cpu_parse_cpulist("0,2-3,8\n") == 4, "0,2-3,8");
    CHECK(eg_cpu_parse_cpulist("0") == 1, "0");
    CHECK(eg_cpu_parse_cpulist("3-1") == -1, "reversed range");
    CHECK(eg_cpu_parse_cpulist("zero") == -1, "garbage");
    CHECK(eg_cpu_parse_cpulist("0-3x") == -1, "trailing garbage");
    CHECK(eg_cpu_parse_cache_size("32K\n") == 32768, "32K");
    CHECK(eg_cpu_parse_cache_size("2048K") == 2097152, "2048K");
    CHECK(eg_cpu_parse_cache_size("8M\n") == 8388608, "8M");
    CHECK(eg_cpu_parse_cache_size("512") == 512, "512");
    CHECK(eg_cpu_parse_cache_size("lots") == -1, "garbage");
    CHECK(eg_cpu_parse_cache_size("99999999999999999999K") == -1, "overflow");
}

static void read_tree(const char *name, struct eg_cpu *cpu) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/sysfs/%s", data_dir(), name);
    memset(cpu, 0, sizeof *cpu);
    eg_cpu_read_sysfs(cpu, dir);
}

TEST(cpu_sysfs_trees) {
    struct eg_cpu cpu;
    read_tree("rk3399", &cpu);
    CHECK(cpu.n_cores_online == 6, "rk3399 cores %d", cpu.n_cores_online);
    REQUIRE(cpu.n_clusters == 2, "rk3399 clusters %d", cpu.n_clusters);
    CHECK(cpu.cluster_n_cores[0] == 2 && cpu.cluster_max_khz[0] == 1800000, "big cluster first: %d x %ld",
          cpu.cluster_n_cores[0], cpu.cluster_max_khz[0]);
    CHECK(cpu.cluster_n_cores[1] == 4 && cpu.cluster_max_khz[1] == 1416000, "LITTLE cluster: %d x %ld",
          cpu.cluster_n_cores[1], cpu.cluster_max_khz[1]);
    CHECK(cpu.l1d_bytes == 32768 && cpu.l2_bytes == 524288 && cpu.l3_bytes == 0, "rk3399 caches %ld %ld %ld",
          cpu.l1d_bytes, cpu.l2_bytes, cpu.l3_bytes);
    CHECK(!strcmp(cpu.model, "Cortex-A53 x4 + Cortex-A72 x2"), "rk3399 model '%s'", cpu.model);

    read_tree("pi5", &cpu);
    CHECK(cpu.n_cores_online == 4 && cpu.n_clusters == 1 && cpu.cluster_n_cores[0] == 4 &&
          cpu.cluster_max_khz[0] == 2400000, "pi5 topology");
    CHECK(cpu.l1d_bytes == 65536 && cpu.l2_bytes == 524288 && cpu.l3_bytes == 2097152, "pi5 caches");
    CHECK(!strcmp(cpu.model, "Cortex-A76 x4"), "pi5 model '%s'", cpu.model);

    read_tree("x86_vm", &cpu);
    CHECK(cpu.n_cores_online == 3, "x86_vm cores %d (0,2-3)", cpu.n_cores_online);
    CHECK(cpu.n_clusters == 0, "no cpufreq → clusters unknown");
    CHECK(cpu.l1d_bytes == 49152 && cpu.l2_bytes == 2097152 && cpu.l3_bytes == 503316480L, "x86_vm caches");
    CHECK(cpu.model[0] == '\0', "no MIDR → model left empty");

    read_tree("broken", &cpu);
    CHECK(cpu.n_cores_online == 0, "garbage online list → unknown (detect falls back to sysconf)");
    CHECK(cpu.l1d_bytes == 0 && cpu.l2_bytes == 0, "bad cache sizes ignored");

    read_tree("unknown_midr", &cpu);
    CHECK(!strcmp(cpu.model, "ARM implementer 0x61 part 0x022 x1"), "unknown MIDR model '%s'", cpu.model);

    read_tree("does_not_exist", &cpu);
    CHECK(cpu.n_cores_online == 0 && cpu.n_clusters == 0 && cpu.l1d_bytes == 0, "missing tree → all unknown");
}

TEST(cpu_detect_host) {
    struct eg_cpu cpu;
    eg_cpu_detect(&cpu);
    CHECK(cpu.arch[0] && strcmp(cpu.arch, "unknown"), "arch '%s'", cpu.arch);
    CHECK(cpu.n_cores_online >= 1, "cores %d", cpu.n_cores_online);
    CHECK((cpu.features & ~cpu.features_advertised) == 0, "usable ⊆ advertised");
#if defined(__x86_64__)
    CHECK(cpu.features & EG_CPU_SSE2, "x86-64 always has SSE2");
    struct eg_x86_regs r;
    struct eg_cpu again = cpu;
    CHECK(eg_cpu_read_x86(&r) == 1, "CPUID readable");
    eg_cpu_decode_x86(&r, &again);
    CHECK(again.features == cpu.features, "probe + decode is what detect reports");
#elif defined(__aarch64__)
    CHECK(cpu.features & EG_CPU_NEON, "AArch64 always has ASIMD");
#endif
}

/* ---- memory ------------------------------------------------------------------------------------------ */

static void mem_tree(const char *name, uint64_t as, uint64_t data, struct eg_mem *m) {
    char root[512];
    snprintf(root, sizeof root, "%s/mem/%s", data_dir(), name);
    eg_mem_detect_at(m, root, as, data);
}

#define MiB (1024ull * 1024)
#define NOLIM UINT64_MAX

TEST(mem_parsers) {
    uint64_t v = 0;
    char path[64];
    CHECK(eg_mem_parse_meminfo("MemTotal: 10 kB\nMemAvailable:   4000 kB\n", "MemAvailable", &v) && v == 4000 * 1024,
          "MemAvailable");
    CHECK(!eg_mem_parse_meminfo("MemTotal: 10 kB\n", "MemAvailable", &v), "missing key");
    CHECK(!eg_mem_parse_meminfo("MemAvailableX: 5 kB\n", "MemAvailable", &v), "prefix of another key");
    CHECK(!eg_mem_parse_meminfo("MemAvailable: 99999999999999999999 kB\n", "MemAvailable", &v), "overflow");
    CHECK(eg_mem_parse_limit("max\n", &v) && v == NOLIM, "max → unlimited");
    CHECK(eg_mem_parse_limit("1073741824\n", &v) && v == 1073741824ull, "number");
    CHECK(eg_mem_parse_limit("9223372036854771712\n", &v) && v == NOLIM, "v1 'unlimited' value");
    CHECK(eg_mem_parse_limit("-1\n", &v) && v == NOLIM, "-1 → unlimited");
    CHECK(!eg_mem_parse_limit("12abc\n", &v), "garbage");
    CHECK(!eg_mem_parse_limit("", &v), "empty");
    CHECK(eg_mem_parse_cgroup("0::/user.slice/x.scope\n", 2, path, sizeof path) && !strcmp(path, "/user.slice/x.scope"), "v2 line");
    CHECK(eg_mem_parse_cgroup("5:cpu,cpuacct:/a\n4:blkio,memory:/b\n0::/c\n", 1, path, sizeof path) && !strcmp(path, "/b"),
          "v1 memory in a list");
    CHECK(!eg_mem_parse_cgroup("4:memoryx:/b\n", 1, path, sizeof path), "memoryx is not memory");
    CHECK(!eg_mem_parse_cgroup("4:memory:/b\n", 2, path, sizeof path), "no v2 line");
    CHECK(!eg_mem_parse_cgroup("0::/a-very-long-path-that-does-not-fit-in-the-buffer-at-all-really\n", 2, path, 16), "too long");
}

TEST(mem_cgroup_v2_limit_binds) {
    struct eg_mem m;
    mem_tree("v2_limit", NOLIM, NOLIM, &m);
    CHECK(m.mem_available_bytes == 4000000ull * 1024, "MemAvailable %llu", (unsigned long long)m.mem_available_bytes);
    CHECK(m.cgroup_version == 2, "cgroup v%d", m.cgroup_version);
    CHECK(m.cgroup_limit_bytes == 1024 * MiB, "limit %llu", (unsigned long long)m.cgroup_limit_bytes);
    CHECK(m.cgroup_usage_bytes == 192 * MiB, "usage %llu (current 256 MiB - inactive_file 64 MiB)",
          (unsigned long long)m.cgroup_usage_bytes);
    CHECK(m.binding == EG_MEM_LIMIT_CGROUP_V2, "binds %s", eg_mem_limit_name(m.binding));
    CHECK(m.available_bytes == 832 * MiB, "available %llu", (unsigned long long)m.available_bytes);
    CHECK(m.vm_size_bytes == 100000ull * 1024 && m.vm_data_bytes == 50000ull * 1024, "VmSize/VmData");
}

TEST(mem_cgroup_v2_parent_and_max) {
    struct eg_mem m;
    mem_tree("v2_parent", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 2 && m.binding == EG_MEM_LIMIT_CGROUP_V2, "parent limit binds (%s)", eg_mem_limit_name(m.binding));
    CHECK(m.available_bytes == 512 * MiB - 100 * MiB, "available %llu", (unsigned long long)m.available_bytes);

    mem_tree("v2_max", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 2, "v2 found");
    CHECK(m.cgroup_limit_bytes == NOLIM, "'max' is unlimited");
    CHECK(m.cgroup_usage_bytes == 123456789ull, "usage still reported");
    CHECK(m.binding == EG_MEM_LIMIT_MEMAVAILABLE && m.available_bytes == 4000000ull * 1024, "MemAvailable binds");

    mem_tree("v2_root", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 2 && m.cgroup_limit_bytes == NOLIM && m.binding == EG_MEM_LIMIT_MEMAVAILABLE,
          "root cgroup: v2, unlimited");

    mem_tree("v2_over", NOLIM, NOLIM, &m);
    CHECK(m.binding == EG_MEM_LIMIT_CGROUP_V2 && m.available_bytes == 0, "usage above limit → 0 available, not a wrap");
}

TEST(mem_cgroup_v1) {
    struct eg_mem m;
    mem_tree("v1", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 1, "cgroup v%d (unified mount has no memory controller)", m.cgroup_version);
    CHECK(m.cgroup_limit_bytes == 512 * MiB && m.cgroup_usage_bytes == 128 * MiB, "limit %llu usage %llu",
          (unsigned long long)m.cgroup_limit_bytes, (unsigned long long)m.cgroup_usage_bytes);
    CHECK(m.binding == EG_MEM_LIMIT_CGROUP_V1 && m.available_bytes == 384 * MiB, "binds %s, %llu",
          eg_mem_limit_name(m.binding), (unsigned long long)m.available_bytes);

    mem_tree("v1_container", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 1 && m.binding == EG_MEM_LIMIT_CGROUP_V1 && m.available_bytes == 192 * MiB,
          "invisible path → mount root limit (%s, %llu)", eg_mem_limit_name(m.binding), (unsigned long long)m.available_bytes);

    mem_tree("hybrid", NOLIM, NOLIM, &m);
    CHECK(m.cgroup_version == 1 && m.cgroup_limit_bytes == NOLIM && m.cgroup_usage_bytes == 38203392ull,
          "hybrid: v1 unlimited, own usage");
    CHECK(m.binding == EG_MEM_LIMIT_MEMAVAILABLE, "hybrid binds %s", eg_mem_limit_name(m.binding));
}

TEST(mem_rlimits) {
    struct eg_mem m;
    mem_tree("v2_max", 1024 * MiB, NOLIM, &m);
    CHECK(m.binding == EG_MEM_LIMIT_RLIMIT_AS, "RLIMIT_AS binds (%s)", eg_mem_limit_name(m.binding));
    CHECK(m.available_bytes == 1024 * MiB - 100000ull * 1024, "AS headroom = limit - VmSize: %llu",
          (unsigned long long)m.available_bytes);
    mem_tree("v2_max", 1024 * MiB, 256 * MiB, &m);
    CHECK(m.binding == EG_MEM_LIMIT_RLIMIT_DATA && m.available_bytes == 256 * MiB - 50000ull * 1024,
          "RLIMIT_DATA binds, headroom = limit - VmData (%s, %llu)", eg_mem_limit_name(m.binding),
          (unsigned long long)m.available_bytes);
    mem_tree("v2_limit", 64 * MiB, NOLIM, &m);
    CHECK(m.binding == EG_MEM_LIMIT_RLIMIT_AS && m.available_bytes == 0, "AS below VmSize → 0");
}

TEST(mem_address_space_cap) {
    struct eg_mem m;
    mem_tree("v2_max", NOLIM, NOLIM, &m);
    m.address_space_bytes = 3ull << 30;     /* what eg_mem_detect sets on 32-bit builds */
    eg_mem_combine(&m);
    CHECK(m.binding == EG_MEM_LIMIT_ADDRESS_SPACE && m.available_bytes == 3ull << 30, "3 GiB cap binds below 3.8 GiB");
    m.rlimit_as_bytes = 1024 * MiB;
    eg_mem_combine(&m);
    CHECK(m.binding == EG_MEM_LIMIT_RLIMIT_AS, "a tighter RLIMIT_AS still binds");
#if UINTPTR_MAX == 0xffffffffu
    eg_mem_detect(&m);
    CHECK(m.address_space_bytes == 3ull << 30 && m.available_bytes <= 3ull << 30, "32-bit build: capped");
#endif
}

TEST(mem_missing_sources) {
    struct eg_mem m;
    mem_tree("old_kernel", NOLIM, NOLIM, &m);
    CHECK(m.mem_available_bytes == 300000ull * 1024, "no MemAvailable → MemFree");
    CHECK(m.cgroup_version == 0 && m.binding == EG_MEM_LIMIT_MEMAVAILABLE, "no cgroup file");
    mem_tree("does_not_exist", NOLIM, NOLIM, &m);
    CHECK(m.binding == EG_MEM_LIMIT_NONE && m.available_bytes == NOLIM, "nothing known → NONE, UINT64_MAX");
    mem_tree("does_not_exist", 300 * MiB, NOLIM, &m);
    CHECK(m.binding == EG_MEM_LIMIT_RLIMIT_AS && m.available_bytes == 300 * MiB, "rlimit alone binds");
}

TEST(mem_detect_host) {
    struct eg_mem m;
    eg_mem_detect(&m);
    CHECK(m.available_bytes > 0, "available %llu", (unsigned long long)m.available_bytes);
    CHECK(m.binding != EG_MEM_LIMIT_NONE, "something binds on Linux (MemAvailable at least)");
    CHECK(m.vm_size_bytes > 0, "VmSize read");
}
