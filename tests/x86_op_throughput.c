/* tests/x86_op_throughput.c — reciprocal throughput, in core cycles, of the AVX2 instructions the q8_0/q4_0
 * matvec is made of (simd/PERF.md). Not part of the build or of `make test`; x86-64 with AVX2 only:
 *
 *   cc -O2 -mavx2 tests/x86_op_throughput.c -o /tmp/x86_ops && /tmp/x86_ops
 *
 * The clock is measured first by a chain of dependent integer adds (1 cycle each on every x86 core since
 * the P6). Each figure then runs 8 independent copies of an instruction (or of a short sequence) 20000 times
 * and keeps the fastest of 400 trials: on a shared machine the fastest trial is the one that ran alone. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define N_ITER 20000
#define R8(I) I(0) I(1) I(2) I(3) I(4) I(5) I(6) I(7)
/* seconds per copy of BODY-element (8 per iteration) */
#define LOOP(name, body)                                                                                          \
    static double name(void) {                                                                                    \
        double best = 1e9;                                                                                        \
        for (int t = 0; t < 400; t++) {                                                                           \
            long n = N_ITER;                                                                                      \
            double t0 = now();                                                                                    \
            __asm__ volatile("vpxor %%ymm15,%%ymm15,%%ymm15\n vpcmpeqd %%ymm14,%%ymm14,%%ymm14\n"                  \
                             "mov $1,%%eax\n 1:\n" body "sub $1,%0\n jnz 1b"                                      \
                             : "+r"(n)::"rax", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",     \
                               "xmm8", "xmm14", "xmm15", "memory");                                               \
            double dt = now() - t0;                                                                               \
            if (dt < best) best = dt;                                                                             \
        }                                                                                                         \
        return best / N_ITER / 8;                                                                                 \
    }

#define ADD_CHAIN(i) "add $1,%%rax\n"
#define MADDUBS(i) "vpmaddubsw %%ymm14,%%ymm15,%%ymm" #i "\n"
#define MADDWD(i) "vpmaddwd %%ymm14,%%ymm15,%%ymm" #i "\n"
#define SIGNB(i) "vpsignb %%ymm14,%%ymm15,%%ymm" #i "\n"
#define HADDD(i) "vphaddd %%ymm14,%%ymm15,%%ymm" #i "\n"
#define BLENDD(i) "vpblendd $0xaa,%%ymm14,%%ymm15,%%ymm" #i "\n"
#define SHUFPS(i) "vshufps $0x88,%%ymm14,%%ymm15,%%ymm" #i "\n"
#define CVTPH(i) "vcvtph2ps %%xmm14,%%ymm" #i "\n"
#define MOVQ(i) "vmovq %%rax,%%xmm" #i "\n"
#define PMOVSX(i) "vpmovsxbw %%xmm14,%%ymm" #i "\n"
/* the q8_0 block dot of one row: |w| and sign(x, w), vpmaddubsw, vpmaddwd */
#define DOT(i) "vpsignb %%ymm14,%%ymm15,%%ymm" #i "\n vpsignb %%ymm14,%%ymm14,%%ymm8\n"                          \
               "vpmaddubsw %%ymm8,%%ymm" #i ",%%ymm" #i "\n vpmaddwd %%ymm14,%%ymm" #i ",%%ymm" #i "\n"
/* one level of the 8-row reduction (hsum8x8_epi32): two vshufps and a vpaddd */
#define MERGE(i) "vshufps $0x88,%%ymm14,%%ymm15,%%ymm" #i "\n vshufps $0xdd,%%ymm14,%%ymm15,%%ymm8\n"           \
                 "vpaddd %%ymm8,%%ymm" #i ",%%ymm" #i "\n"
#define DOT_MERGE(i) DOT(i) MERGE(i)

/* the add chain depends on itself: 8 adds = 8 cycles per iteration */
static double chain(void) {
    double best = 1e9;
    for (int t = 0; t < 400; t++) {
        long n = N_ITER;
        double t0 = now();
        __asm__ volatile("xor %%eax,%%eax\n 1:\n" R8(ADD_CHAIN) "sub $1,%0\n jnz 1b" : "+r"(n)::"rax");
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return best / N_ITER / 8;
}
LOOP(t_maddubs, R8(MADDUBS)) LOOP(t_maddwd, R8(MADDWD)) LOOP(t_signb, R8(SIGNB)) LOOP(t_haddd, R8(HADDD))
LOOP(t_blendd, R8(BLENDD)) LOOP(t_shufps, R8(SHUFPS)) LOOP(t_cvtph, R8(CVTPH)) LOOP(t_movq, R8(MOVQ))
LOOP(t_pmovsx, R8(PMOVSX)) LOOP(t_dot, R8(DOT)) LOOP(t_merge, R8(MERGE)) LOOP(t_dot_merge, R8(DOT_MERGE))

/* the q8 block dot of 8 rows from memory (L1-resident): 32-byte code loads at a block stride of 34 (q8_0, codes
 * at offset 2: about half of them straddle a 64-byte line) or 32 (aligned), one int32 accumulator per row;
 * seconds per row and block */
static __attribute__((noinline)) __m256i dot_rows(const uint8_t *w, int nb, int stride, __m256i xv) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm256_setzero_si256();
    for (int b = 0; b < nb; b++) {
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(w + (size_t)(r * nb + b) * stride));
            acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(v, v),
                                                                                     _mm256_sign_epi8(xv, v)), ones));
        }
    }
    for (int r = 1; r < 8; r++) acc[0] = _mm256_xor_si256(acc[0], acc[r]);
    return acc[0];
}
static double t_dot_mem(int stride, int offset) {
    enum { NB = 48 };                                   /* 8 rows x 48 blocks x 34 bytes = 13 KB: L1 */
    static uint8_t buf[8 * NB * 34 + 64] __attribute__((aligned(64)));
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
    const __m256i xv = _mm256_set1_epi8(5);
    volatile int sink = 0;
    double best = 1e9;
    for (int t = 0; t < 2000; t++) {
        double t0 = now();
        for (int k = 0; k < 20; k++) sink += _mm256_extract_epi32(dot_rows(buf + offset, NB, stride, xv), 0);
        double dt = (now() - t0) / 20;
        if (dt < best) best = dt;
    }
    return best / (8 * NB);
}

int main(void) {
    const double cyc = chain();
    printf("clock %.2f GHz (dependent add chain)\ncycles per instruction (8 independent copies):\n", 1e-9 / cyc);
    const struct { const char *name; double (*fn)(void); } rows[] = {
        { "vpmaddubsw ymm", t_maddubs }, { "vpmaddwd ymm", t_maddwd }, { "vpsignb ymm", t_signb },
        { "vphaddd ymm", t_haddd }, { "vpblendd ymm", t_blendd }, { "vshufps ymm", t_shufps },
        { "vcvtph2ps xmm->ymm", t_cvtph }, { "vmovq gpr->xmm", t_movq }, { "vpmovsxbw xmm->ymm", t_pmovsx },
        { "q8 block dot (2 vpsignb, vpmaddubsw, vpmaddwd)", t_dot },
        { "reduction level (2 vshufps, vpaddd)", t_merge }, { "dot + one reduction level", t_dot_merge },
    };
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) printf("  %-48s %5.2f\n", rows[i].name, rows[i].fn() / cyc);
    printf("q8 block dot + add, 8 rows from L1, cycles per block and row:\n");
    printf("  %-48s %5.2f\n", "32-byte stride, aligned", t_dot_mem(32, 0) / cyc);
    printf("  %-48s %5.2f\n", "34-byte stride, codes at offset 2 (q8_0)", t_dot_mem(34, 2) / cyc);
    return 0;
}
