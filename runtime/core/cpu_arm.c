/* runtime/core/cpu_arm.c — ARM feature detection from the kernel's hardware capabilities (getauxval).
 *
 * The kernel sets a HWCAP bit only when both the core and the kernel support the feature, so no OS-state check
 * is needed (unlike x86 XCR0). Bit values are the Linux UAPI ones (arch/arm64/include/uapi/asm/hwcap.h,
 * arch/arm/include/uapi/asm/hwcap.h), spelled out here so the pure decoders build and run on any host:
 *   AArch64: ASIMD bit 1, FPHP bit 9, ASIMDHP bit 10, ASIMDDP bit 20; HWCAP2_I8MM bit 13.
 *   ARMv7:   NEON bit 12, VFPv4 bit 16.
 * fp16 arithmetic needs both FPHP and ASIMDHP (as ggml). The core's name comes from MIDR_EL1 in sysfs
 * (runtime/core/cpu_common.c); /proc/cpuinfo is never parsed.
 */
#include <stddef.h>
#include "runtime/core/cpu.h"

#define A64_HWCAP_ASIMD    (1ull << 1)
#define A64_HWCAP_FPHP     (1ull << 9)
#define A64_HWCAP_ASIMDHP  (1ull << 10)
#define A64_HWCAP_ASIMDDP  (1ull << 20)
#define A64_HWCAP2_I8MM    (1ull << 13)

#define A32_HWCAP_NEON     (1ull << 12)
#define A32_HWCAP_VFPv4    (1ull << 16)

void eg_cpu_decode_arm64(uint64_t hwcap, uint64_t hwcap2, struct eg_cpu *cpu) {
    uint64_t f = 0;
    if (hwcap & A64_HWCAP_ASIMD) f |= EG_CPU_NEON;
    /* dotprod / fp16 / i8mm are ASIMD extensions: without ASIMD they cannot be used */
    if ((f & EG_CPU_NEON) && (hwcap & A64_HWCAP_ASIMDDP)) f |= EG_CPU_DOTPROD;
    if ((f & EG_CPU_NEON) && (hwcap & A64_HWCAP_FPHP) && (hwcap & A64_HWCAP_ASIMDHP)) f |= EG_CPU_FP16;
    if ((f & EG_CPU_NEON) && (hwcap2 & A64_HWCAP2_I8MM)) f |= EG_CPU_I8MM;
    cpu->features = f;
    cpu->features_advertised = f;
    cpu->xcr0 = 0;
}

void eg_cpu_decode_arm32(uint64_t hwcap, struct eg_cpu *cpu) {
    uint64_t f = 0;
    if (hwcap & A32_HWCAP_NEON) f |= EG_CPU_NEON;
    if (hwcap & A32_HWCAP_VFPv4) f |= EG_CPU_VFPV4;
    cpu->features = f;
    cpu->features_advertised = f;
    cpu->xcr0 = 0;
}

/* MIDR_EL1: implementer [31:24], variant [23:20], architecture [19:16], part number [15:4], revision [3:0].
 * Parts from the Arm and Broadcom/Qualcomm technical reference manuals; extend as boards are reported. */
const char *eg_cpu_midr_name(uint64_t midr) {
    static const struct { uint8_t impl; uint16_t part; const char *name; } parts[] = {
        { 0x41, 0xd03, "Cortex-A53" }, { 0x41, 0xd04, "Cortex-A35" }, { 0x41, 0xd05, "Cortex-A55" },
        { 0x41, 0xd07, "Cortex-A57" }, { 0x41, 0xd08, "Cortex-A72" }, { 0x41, 0xd09, "Cortex-A73" },
        { 0x41, 0xd0a, "Cortex-A75" }, { 0x41, 0xd0b, "Cortex-A76" }, { 0x41, 0xd0c, "Neoverse-N1" },
        { 0x41, 0xd0d, "Cortex-A77" }, { 0x41, 0xd40, "Neoverse-V1" }, { 0x41, 0xd41, "Cortex-A78" },
        { 0x41, 0xd44, "Cortex-X1" },  { 0x41, 0xd46, "Cortex-A510" }, { 0x41, 0xd47, "Cortex-A710" },
        { 0x41, 0xd48, "Cortex-X2" },  { 0x41, 0xd49, "Neoverse-N2" }, { 0x41, 0xd4b, "Cortex-A78C" },
        { 0x41, 0xd80, "Cortex-A520" }, { 0x41, 0xd81, "Cortex-A720" },
        { 0x41, 0xc07, "Cortex-A7" },  { 0x41, 0xc08, "Cortex-A8" },  { 0x41, 0xc09, "Cortex-A9" },
        { 0x41, 0xc0f, "Cortex-A15" }, { 0x41, 0xc0d, "Cortex-A12" }, { 0x41, 0xc0e, "Cortex-A17" },
        { 0x51, 0x801, "Kryo 2xx Silver" }, { 0x51, 0x800, "Kryo 2xx Gold" },
        { 0x51, 0x805, "Kryo 4xx Silver" }, { 0x51, 0x804, "Kryo 4xx Gold" },
    };
    uint8_t impl = (uint8_t)((midr >> 24) & 0xff);
    uint16_t part = (uint16_t)((midr >> 4) & 0xfff);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i].impl == impl && parts[i].part == part) return parts[i].name;
    return NULL;
}

#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
/* Probe: called by eg_cpu_detect (runtime/core/cpu_common.c) on ARM builds only. */
void eg_cpu_probe_arm(struct eg_cpu *cpu);
void eg_cpu_probe_arm(struct eg_cpu *cpu) {
#if defined(__aarch64__)
    eg_cpu_decode_arm64(getauxval(AT_HWCAP), getauxval(AT_HWCAP2), cpu);
#else
    eg_cpu_decode_arm32(getauxval(AT_HWCAP), cpu);
#endif
}
#endif

int eg_cpu_read_hwcap(uint64_t *hwcap, uint64_t *hwcap2) {
#if defined(__aarch64__) || defined(__arm__)
    *hwcap = getauxval(AT_HWCAP);
    *hwcap2 = getauxval(AT_HWCAP2);
    return 1;
#else
    *hwcap = *hwcap2 = 0;
    return 0;
#endif
}
