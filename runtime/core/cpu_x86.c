/* runtime/core/cpu_x86.c — x86 feature detection: CPUID + XGETBV, decoded by a pure function.
 *
 * A feature counts only when the CPU advertises it (CPUID) AND the OS saves its register state (XCR0, read with
 * XGETBV once CPUID.1:ECX.OSXSAVE says the OS enabled XSAVE). Intel SDM vol. 1 §14.3 (AVX) and §15.2 (AVX-512):
 *   XCR0 bit 1 SSE, bit 2 AVX (upper YMM)                      → AVX, FMA, F16C, AVX2 need (XCR0 & 0x06) == 0x06
 *   bit 5 opmask, bit 6 ZMM_Hi256, bit 7 Hi16_ZMM               → AVX-512 needs    (XCR0 & 0xE6) == 0xE6
 * Reading (eg_cpu_read_x86) and decoding (eg_cpu_decode_x86) are apart, so tests replay recorded dumps on any
 * host; the decoder compiles everywhere, the probe only on x86. Built with baseline flags only.
 */
#include <string.h>
#include "runtime/core/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define EG_HAVE_X86 1
#endif

/* CPUID bit positions (Intel SDM vol. 2A, CPUID; AMD APM vol. 3 appendix E) */
#define L1_EDX_SSE2      (1u << 26)
#define L1_ECX_FMA       (1u << 12)
#define L1_ECX_OSXSAVE   (1u << 27)
#define L1_ECX_AVX       (1u << 28)
#define L1_ECX_F16C      (1u << 29)
#define L7_EBX_AVX2      (1u << 5)
#define L7_EBX_AVX512F   (1u << 16)
#define L7_EBX_AVX512DQ  (1u << 17)
#define L7_EBX_AVX512BW  (1u << 30)
#define L7_EBX_AVX512VL  (1u << 31)
#define L7_ECX_AVX512VNNI (1u << 11)

#define XCR0_YMM_STATE   0x06u   /* SSE | AVX */
#define XCR0_ZMM_STATE   0xE6u   /* SSE | AVX | opmask | ZMM_Hi256 | Hi16_ZMM */

enum { R_EAX, R_EBX, R_ECX, R_EDX };

/* Copy the 48-byte brand string, drop leading/trailing blanks, keep printable ASCII only. */
static void decode_brand(const struct eg_x86_regs *r, char *out, size_t len) {
    char raw[49];
    size_t n = 0;
    out[0] = '\0';
    if (r->ext0[R_EAX] < 0x80000004u) return;
    for (int i = 0; i < 12; i++)
        for (int b = 0; b < 4; b++) raw[n++] = (char)((r->brand[i] >> (8 * b)) & 0xff);
    raw[48] = '\0';
    size_t s = 0, e = strnlen(raw, 48);
    while (s < e && raw[s] == ' ') s++;
    while (e > s && raw[e - 1] == ' ') e--;
    size_t o = 0;
    for (size_t i = s; i < e && o + 1 < len; i++) {
        char c = raw[i];
        if (c == ' ' && o > 0 && out[o - 1] == ' ') continue;   /* "CPU           @" → "CPU @" */
        out[o++] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    out[o] = '\0';
}

void eg_cpu_decode_x86(const struct eg_x86_regs *r, struct eg_cpu *cpu) {
    uint32_t max_leaf = r->leaf0[R_EAX];
    uint32_t l1c = max_leaf >= 1 ? r->leaf1[R_ECX] : 0, l1d = max_leaf >= 1 ? r->leaf1[R_EDX] : 0;
    uint32_t l7b = max_leaf >= 7 ? r->leaf7[R_EBX] : 0, l7c = max_leaf >= 7 ? r->leaf7[R_ECX] : 0;
    uint64_t adv = 0;

    if (l1d & L1_EDX_SSE2) adv |= EG_CPU_SSE2;
    if (l1c & L1_ECX_AVX) adv |= EG_CPU_AVX;
    if (l1c & L1_ECX_FMA) adv |= EG_CPU_FMA;
    if (l1c & L1_ECX_F16C) adv |= EG_CPU_F16C;
    if (l7b & L7_EBX_AVX2) adv |= EG_CPU_AVX2;
    if (l7b & L7_EBX_AVX512F) adv |= EG_CPU_AVX512F;
    if (l7b & L7_EBX_AVX512BW) adv |= EG_CPU_AVX512BW;
    if (l7b & L7_EBX_AVX512VL) adv |= EG_CPU_AVX512VL;
    if (l7b & L7_EBX_AVX512DQ) adv |= EG_CPU_AVX512DQ;
    if (l7c & L7_ECX_AVX512VNNI) adv |= EG_CPU_AVX512VNNI;

    /* XCR0 exists only when the OS set CR4.OSXSAVE (reported back as CPUID.1:ECX.OSXSAVE). */
    uint64_t xcr0 = (l1c & L1_ECX_OSXSAVE) ? r->xcr0 : 0;
    const uint64_t ymm_feats = EG_CPU_AVX | EG_CPU_FMA | EG_CPU_F16C | EG_CPU_AVX2;
    const uint64_t zmm_feats = EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ |
                               EG_CPU_AVX512VNNI;
    uint64_t usable = adv & ~(ymm_feats | zmm_feats);
    if ((xcr0 & XCR0_YMM_STATE) == XCR0_YMM_STATE) usable |= adv & ymm_feats;
    if ((xcr0 & XCR0_ZMM_STATE) == XCR0_ZMM_STATE) usable |= adv & zmm_feats;
    /* AVX-512 without AVX-512F is meaningless (and so is any AVX-512 bit on a CPU whose AVX is unusable). */
    if (!(usable & EG_CPU_AVX512F) || !(usable & EG_CPU_AVX)) usable &= ~zmm_feats;

    cpu->features = usable;
    cpu->features_advertised = adv;
    cpu->xcr0 = xcr0;
    decode_brand(r, cpu->model, sizeof cpu->model);
}

int eg_cpu_read_x86(struct eg_x86_regs *r) {
    memset(r, 0, sizeof *r);
#if EG_HAVE_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    r->leaf0[0] = a; r->leaf0[1] = b; r->leaf0[2] = c; r->leaf0[3] = d;
    if (a >= 1) { __cpuid_count(1, 0, a, b, c, d); r->leaf1[0] = a; r->leaf1[1] = b; r->leaf1[2] = c; r->leaf1[3] = d; }
    if (r->leaf0[0] >= 7) { __cpuid_count(7, 0, a, b, c, d); r->leaf7[0] = a; r->leaf7[1] = b; r->leaf7[2] = c; r->leaf7[3] = d; }
    __cpuid(0x80000000u, a, b, c, d);
    r->ext0[0] = a; r->ext0[1] = b; r->ext0[2] = c; r->ext0[3] = d;
    if (r->ext0[0] >= 0x80000004u)
        for (unsigned i = 0; i < 3; i++) {
            __cpuid(0x80000002u + i, a, b, c, d);
            r->brand[4 * i] = a; r->brand[4 * i + 1] = b; r->brand[4 * i + 2] = c; r->brand[4 * i + 3] = d;
        }
    if (r->leaf1[2] & L1_ECX_OSXSAVE) {
        /* XGETBV with ECX=0, as raw bytes: the xgetbv mnemonic needs -mxsave, which runtime/ must not use. */
        uint32_t lo, hi;
        __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
        r->xcr0 = ((uint64_t)hi << 32) | lo;
    }
    return 1;
#else
    return 0;
#endif
}
