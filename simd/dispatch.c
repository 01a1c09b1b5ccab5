/* simd/dispatch.c — choose the kernel table once per context (see simd/kernels.h, STYLE.md §2).
 *
 * Tables linked into this build are listed best first (EG_BUILD_* says what was *built*; struct eg_cpu says
 * what the CPU and OS can *run*). The choice: the `isa` parameter, else EDGEGEN_ISA, else the first runnable
 * table. The chosen table is copied and its NULL slots are filled from the runnable tables below it, ending at
 * the scalar reference, so a SIMD table only implements the ops where it wins. The reason goes into `why`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "simd/dispatch.h"
#include "runtime/core/internal.h"

static const struct eg_kernels *const builtin_tables[] = {
#if defined(EG_BUILD_AVX512)
    &eg_kernels_avx512,
#endif
#if defined(EG_BUILD_AVX2)
    &eg_kernels_avx2,
#endif
#if defined(EG_BUILD_NEON_DOTPROD)
    &eg_kernels_neon_dotprod,
#endif
#if defined(EG_BUILD_NEON)
    &eg_kernels_neon,
#endif
    &eg_kernels_ref,
};
#define N_BUILTIN ((int)(sizeof builtin_tables / sizeof builtin_tables[0]))

#if defined(__x86_64__)
#define TARGET_ARCH "x86_64"
#elif defined(__i386__)
#define TARGET_ARCH "x86"
#elif defined(__aarch64__)
#define TARGET_ARCH "aarch64"
#elif defined(__arm__)
#define TARGET_ARCH "armv7"
#else
#define TARGET_ARCH "unknown"
#endif

/* Every member after `needs` is a function pointer (simd/kernels.h); slots are walked by offset so a new op
 * in kernels.h is filled without touching this file. NULL function pointers are all-zero bits on every
 * target we build for. */
typedef void (*eg_any_fn)(void);
#define FIRST_SLOT offsetof(struct eg_kernels, matvec_f32)
_Static_assert(offsetof(struct eg_kernels, matvec_f32) ==
               offsetof(struct eg_kernels, needs) + sizeof(uint64_t), "kernels.h: ops must follow `needs`");
#define END_SLOTS (offsetof(struct eg_kernels, EG_KERNELS_LAST_SLOT) + sizeof(eg_any_fn))
_Static_assert((END_SLOTS - FIRST_SLOT) % sizeof(eg_any_fn) == 0,
               "kernels.h: every member after `needs` must be a function pointer");
_Static_assert(sizeof(struct eg_kernels) - END_SLOTS < _Alignof(struct eg_kernels),
               "kernels.h: EG_KERNELS_LAST_SLOT must name the last member (the rest is tail padding)");
/* Bounded by the last op, not by sizeof: on 32-bit targets an odd number of 4-byte pointers after the 8-byte
 * `needs` leaves 4 bytes of tail padding, which is no slot. */
#define N_SLOTS ((END_SLOTS - FIRST_SLOT) / sizeof(eg_any_fn))

static eg_any_fn slot_get(const struct eg_kernels *k, size_t i) {
    eg_any_fn f;
    memcpy(&f, (const char *)k + FIRST_SLOT + i * sizeof f, sizeof f);
    return f;
}
static void slot_set(struct eg_kernels *k, size_t i, eg_any_fn f) {
    memcpy((char *)k + FIRST_SLOT + i * sizeof f, &f, sizeof f);
}

int eg_dispatch_tables(const struct eg_kernels **out, int max) {
    int n = 0;
    for (int i = 0; i < N_BUILTIN && n < max; i++) out[n++] = builtin_tables[i];
    return n;
}

int eg_cpu_can_run(const struct eg_cpu *cpu, const struct eg_kernels *k) {
    return (k->needs & ~cpu->features) == 0;
}

int eg_isa_from_name(const char *name) {
    if (!name) return -1;
    if (!strcmp(name, "auto")) return EG_ISA_AUTO;
    if (!strcmp(name, "ref")) return EG_ISA_REF;
    if (!strcmp(name, "avx2")) return EG_ISA_AVX2;
    if (!strcmp(name, "avx512")) return EG_ISA_AVX512;
    if (!strcmp(name, "neon")) return EG_ISA_NEON;
    if (!strcmp(name, "neon-dotprod")) return EG_ISA_NEON_DOTPROD;
    return -1;
}

const char *eg_isa_name(enum eg_isa isa) {
    switch (isa) {
    case EG_ISA_AUTO: return "auto";
    case EG_ISA_REF: return "ref";
    case EG_ISA_AVX2: return "avx2";
    case EG_ISA_AVX512: return "avx512";
    case EG_ISA_NEON: return "neon";
    case EG_ISA_NEON_DOTPROD: return "neon-dotprod";
    }
    return "unknown";
}

#define X86_BITS (EG_CPU_SSE2 | EG_CPU_AVX | EG_CPU_AVX2 | EG_CPU_FMA | EG_CPU_F16C | EG_CPU_AVX512F | \
                  EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ | EG_CPU_AVX512VNNI)
#define ZMM_BITS (EG_CPU_AVX512F | EG_CPU_AVX512BW | EG_CPU_AVX512VL | EG_CPU_AVX512DQ | EG_CPU_AVX512VNNI)

/* Why table k cannot run: "CPU lacks AVX512BW" and/or "XCR0=0x7 lacks opmask/ZMM state". */
static void explain_missing(const struct eg_cpu *cpu, const struct eg_kernels *k, char *buf, size_t len) {
    uint64_t missing = k->needs & ~cpu->features;
    uint64_t lacks = missing & ~cpu->features_advertised;   /* the CPU does not have it */
    uint64_t os_off = missing & cpu->features_advertised;   /* the CPU has it, the OS has not enabled its state */
    char names[160];
    size_t o = 0;
    buf[0] = '\0';
    if (lacks) {
        eg_cpu_features_str(lacks, "+", names, sizeof names);
        o += (size_t)snprintf(buf + o, len - o, "CPU lacks %s", names);
    }
    if (os_off && o < len) {
        const char *sep = o ? "; " : "";
        if (os_off & X86_BITS) {
            if (cpu->xcr0 == 0)
                snprintf(buf + o, len - o, "%sOS has not enabled XSAVE (CPUID OSXSAVE clear)", sep);
            else if (os_off & ~ZMM_BITS)
                snprintf(buf + o, len - o, "%sXCR0=0x%llx lacks YMM state", sep, (unsigned long long)cpu->xcr0);
            else
                snprintf(buf + o, len - o, "%sXCR0=0x%llx lacks opmask/ZMM state", sep, (unsigned long long)cpu->xcr0);
        } else {
            eg_cpu_features_str(os_off, "+", names, sizeof names);
            snprintf(buf + o, len - o, "%sOS has not enabled %s", sep, names);
        }
    }
}

/* "AVX2+FMA+F16C present, XCR0=0x7" for a runnable table. */
static void explain_present(const struct eg_cpu *cpu, const struct eg_kernels *k, char *buf, size_t len) {
    char names[160];
    eg_cpu_features_str(k->needs, "+", names, sizeof names);
    if (!k->needs) snprintf(buf, len, "scalar reference");
    else if (k->needs & X86_BITS) snprintf(buf, len, "%s present, XCR0=0x%llx", names, (unsigned long long)cpu->xcr0);
    else snprintf(buf, len, "%s present", names);
}

static enum eg_status fail(enum eg_status st, char *why, size_t why_len, const char *msg) {
    snprintf(why, why_len, "%s", msg);
    EG_LOGE("%s", msg);
    return st;
}

enum eg_status eg_dispatch_select_from(const struct eg_kernels *const *tables, int n_tables,
                                       const struct eg_cpu *cpu, enum eg_isa isa, const char *env_isa,
                                       struct eg_kernels *out, char *why, size_t why_len) {
    char local[512], msg[512], detail[256];
    const char *forced = NULL, *origin = NULL;
    int chosen = -1;
    if (!why || !why_len) { why = local; why_len = sizeof local; }
    why[0] = '\0';
    if (!tables || n_tables <= 0 || !cpu || !out) return fail(EG_ERR_INVALID_ARG, why, why_len, "dispatch: no tables, cpu or output");

    if (isa != EG_ISA_AUTO) {
        if (eg_isa_from_name(eg_isa_name(isa)) < 0) {
            snprintf(msg, sizeof msg, "isa=%d: unknown kernel table (known: ref, avx2, avx512, neon, neon-dotprod)", (int)isa);
            return fail(EG_ERR_INVALID_ARG, why, why_len, msg);
        }
        forced = eg_isa_name(isa);
        origin = "isa";
    } else if (env_isa && env_isa[0]) {
        int e = eg_isa_from_name(env_isa);
        if (e < 0) {
            snprintf(msg, sizeof msg,
                     "EDGEGEN_ISA=%.64s: unknown kernel table (known: auto, ref, avx2, avx512, neon, neon-dotprod)",
                     env_isa);
            return fail(EG_ERR_INVALID_ARG, why, why_len, msg);
        }
        if (e != EG_ISA_AUTO) { forced = eg_isa_name((enum eg_isa)e); origin = "EDGEGEN_ISA"; }
    }

    if (forced) {
        for (int i = 0; i < n_tables; i++)
            if (tables[i] && tables[i]->name && !strcmp(tables[i]->name, forced)) { chosen = i; break; }
        if (chosen < 0) {
            snprintf(msg, sizeof msg, "%s=%s: not built for this target (%s)", origin, forced, TARGET_ARCH);
            return fail(EG_ERR_UNSUPPORTED, why, why_len, msg);
        }
        if (!eg_cpu_can_run(cpu, tables[chosen])) {
            explain_missing(cpu, tables[chosen], detail, sizeof detail);
            snprintf(msg, sizeof msg, "%s=%s: %s", origin, forced, detail);
            return fail(EG_ERR_UNSUPPORTED, why, why_len, msg);
        }
        explain_present(cpu, tables[chosen], detail, sizeof detail);
        snprintf(why, why_len, "%s: forced by %s (%s)", forced,
                 !strcmp(origin, "isa") ? "the isa parameter" : "EDGEGEN_ISA", detail);
    } else {
        for (int i = 0; i < n_tables; i++)
            if (tables[i] && eg_cpu_can_run(cpu, tables[i])) { chosen = i; break; }
        if (chosen < 0) return fail(EG_ERR_UNSUPPORTED, why, why_len, "dispatch: no kernel table can run on this CPU");
        explain_present(cpu, tables[chosen], detail, sizeof detail);
        size_t o = (size_t)snprintf(why, why_len, "%s: %s", tables[chosen]->name, detail);
        for (int i = 0; i < chosen && o < why_len; i++) {   /* why each better table was passed over */
            explain_missing(cpu, tables[i], detail, sizeof detail);
            o += (size_t)snprintf(why + o, why_len - o, "; %s not usable: %s", tables[i]->name, detail);
        }
    }

    /* copy, then fill NULL slots from the runnable tables below the chosen one */
    *out = *tables[chosen];
    for (int i = chosen + 1; i < n_tables; i++) {
        if (!tables[i] || !eg_cpu_can_run(cpu, tables[i])) continue;
        for (size_t s = 0; s < N_SLOTS; s++)
            if (!slot_get(out, s)) slot_set(out, s, slot_get(tables[i], s));
    }
    for (size_t s = 0; s < N_SLOTS; s++)
        if (!slot_get(out, s)) {
            snprintf(msg, sizeof msg, "dispatch: table %s leaves op slot %zu empty and no table below fills it",
                     out->name, s);
            return fail(EG_ERR_INTERNAL, why, why_len, msg);
        }
    EG_LOGI("kernels: %s", why);
    return EG_OK;
}

enum eg_status eg_dispatch_select(const struct eg_cpu *cpu, enum eg_isa isa, struct eg_kernels *out,
                                  char *why, size_t why_len) {
    return eg_dispatch_select_from(builtin_tables, N_BUILTIN, cpu, isa, getenv("EDGEGEN_ISA"), out, why, why_len);
}
