// SPDX-License-Identifier: Apache-2.0
// Cortex-M4F GEMM micro-kernels (see gemm_cortex_m4.hpp). Instruction counts per multiply-add
// in the inner loops, counted under qemu with bench/qemu's plugin:
//   nt (dot products, 4 rows x 8 k):   5 vldm + 32 vfma + 2 loop = 39 per 32 MACs (1.22)
//   nn (axpy, 4 k x 8 columns):        1 vldm + 4 vldm + 32 vfma + 1 vstm + 2 = 40 per 32 (1.25)
//   tn (outer products, 4 x 4 block):  2 vldm + 2 add + 16 vfma + 2 = 22 per 16 (1.38)
// and, for what the 4-row blocks leave: 2 rows of W (dot2x2, two samples: 38 per 32), 2 terms of
// k (axpy2: 21 per 16), 1-row forms of each (dot1, axpy1: 12 per 8; outer1x8: 13 per 8), and
// batch 1's dW, an outer product (rank1_rows: 17 per 12). Per call, over whole layers, bench/qemu's
// plugin counts 1.2-1.6 on the 196-64 and 64-32 layers, up to 2.5 on the 10-wide one
// (platforms/README.md).
// S16-S31 are callee-saved (AAPCS-VFP): the clobber lists make the compiler save them once per call.
#include "kernels/cortex_m4/gemm_cortex_m4.hpp"

#include <cstddef>

#if !(defined(__ARM_ARCH_7EM__) && defined(__ARM_FP) && defined(__thumb2__))
#error "gemm_cortex_m4.cpp is for Cortex-M4F (Armv7E-M with an FPU) builds only"
#endif

namespace fennec::kernels::cortex_m4 {
namespace {

using std::size_t;

#define FENNEC_M4_INLINE inline __attribute__((always_inline))

// acc += a[0..7] * b[0..7] with the a row in s8-s15 and the b row loaded into s16-s23.
#define FENNEC_M4_FMA8_DOT(acc)                                                                  \
  "vfma.f32 " acc ", s8, s16\n\t"                                                                \
  "vfma.f32 " acc ", s9, s17\n\t"                                                                \
  "vfma.f32 " acc ", s10, s18\n\t"                                                               \
  "vfma.f32 " acc ", s11, s19\n\t"                                                               \
  "vfma.f32 " acc ", s12, s20\n\t"                                                               \
  "vfma.f32 " acc ", s13, s21\n\t"                                                               \
  "vfma.f32 " acc ", s14, s22\n\t"                                                               \
  "vfma.f32 " acc ", s15, s23\n\t"

// acc += a[0..3] * b[0..3] (the half-block step of the tails).
#define FENNEC_M4_FMA4_DOT(acc)                                                                  \
  "vfma.f32 " acc ", s8, s16\n\t"                                                                \
  "vfma.f32 " acc ", s9, s17\n\t"                                                                \
  "vfma.f32 " acc ", s10, s18\n\t"                                                               \
  "vfma.f32 " acc ", s11, s19\n\t"

// out[r] = sum_{p < 8 * blocks + 4 * half} x[p] * b_r[p] for four rows b_0..b_3 (blocks >= 1,
// half 0 or 1).
FENNEC_M4_INLINE void dot4(const float* x, const float* b0, const float* b1, const float* b2, const float* b3,
                           size_t blocks, size_t half, float* out) {
  __asm__ volatile(
      "vmov.f32 s0, %[z]\n\t"
      "vmov.f32 s1, %[z]\n\t"
      "vmov.f32 s2, %[z]\n\t"
      "vmov.f32 s3, %[z]\n\t"
      "1:\n\t"
      "vldmia %[x]!, {s8-s15}\n\t"
      "vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s0")
      "vldmia %[b1]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s1")
      "vldmia %[b2]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s2")
      "vldmia %[b3]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s3")
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      "cbz %[h], 2f\n\t"
      "vldmia %[x]!, {s8-s11}\n\t"
      "vldmia %[b0]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s0")
      "vldmia %[b1]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s1")
      "vldmia %[b2]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s2")
      "vldmia %[b3]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s3")
      "2:\n\t"
      "vstmia %[out], {s0-s3}\n\t"
      : [x] "+r"(x), [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3), [n] "+r"(blocks)
      : [z] "t"(0.f), [out] "r"(out), [h] "l"(half)
      : "cc", "memory", "s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16",
        "s17", "s18", "s19", "s20", "s21", "s22", "s23");
}

// sum_{p < 8 * blocks} x[p] * b[p] (blocks >= 1), eight partial sums' worth of terms in one
// accumulator, in order.
FENNEC_M4_INLINE float dot1(const float* x, const float* b, size_t blocks) {
  float out;
  __asm__ volatile(
      "vmov.f32 s0, %[z]\n\t"
      "1:\n\t"
      "vldmia %[x]!, {s8-s15}\n\t"
      "vldmia %[b]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s0")
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      "vmov.f32 %[out], s0\n\t"
      : [x] "+r"(x), [b] "+r"(b), [n] "+r"(blocks), [out] "=t"(out)
      : [z] "t"(0.f)
      : "cc", "memory", "s0", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19",
        "s20", "s21", "s22", "s23");
  return out;
}

#undef FENNEC_M4_FMA4_DOT
#undef FENNEC_M4_FMA8_DOT

#if !defined(FENNEC_INFERENCE_ONLY)
// Two samples at once: acc0 += x0 . w and acc1 += x1 . w over 8 terms, x0 in s8-s15, x1 in
// s16-s23, the row of W in s24-s31 (loaded once for both samples).
#define FENNEC_M4_FMA8_DOT2(acc0, acc1)                                                          \
  "vfma.f32 " acc0 ", s8, s24\n\t" "vfma.f32 " acc1 ", s16, s24\n\t"                             \
  "vfma.f32 " acc0 ", s9, s25\n\t" "vfma.f32 " acc1 ", s17, s25\n\t"                             \
  "vfma.f32 " acc0 ", s10, s26\n\t" "vfma.f32 " acc1 ", s18, s26\n\t"                            \
  "vfma.f32 " acc0 ", s11, s27\n\t" "vfma.f32 " acc1 ", s19, s27\n\t"                            \
  "vfma.f32 " acc0 ", s12, s28\n\t" "vfma.f32 " acc1 ", s20, s28\n\t"                            \
  "vfma.f32 " acc0 ", s13, s29\n\t" "vfma.f32 " acc1 ", s21, s29\n\t"                            \
  "vfma.f32 " acc0 ", s14, s30\n\t" "vfma.f32 " acc1 ", s22, s30\n\t"                            \
  "vfma.f32 " acc0 ", s15, s31\n\t" "vfma.f32 " acc1 ", s23, s31\n\t"
#define FENNEC_M4_FMA4_DOT2(acc0, acc1)                                                          \
  "vfma.f32 " acc0 ", s8, s24\n\t" "vfma.f32 " acc1 ", s16, s24\n\t"                             \
  "vfma.f32 " acc0 ", s9, s25\n\t" "vfma.f32 " acc1 ", s17, s25\n\t"                             \
  "vfma.f32 " acc0 ", s10, s26\n\t" "vfma.f32 " acc1 ", s18, s26\n\t"                            \
  "vfma.f32 " acc0 ", s11, s27\n\t" "vfma.f32 " acc1 ", s19, s27\n\t"

// The loop of the two-sample dot products: 8 terms of x0 and x1 an iteration (blocks >= 1), then
// 4 more when half is set; ROW8 / ROW4 (the rows of W: each one vldm and its fused multiply-adds)
// between the loads of x and the loop's end, ZERO before it, STORE after it.
#define FENNEC_M4_DOTX2(ZERO, ROW8, ROW4, STORE)                                                 \
  ZERO "1:\n\t"                                                                                  \
  "vldmia %[x0]!, {s8-s15}\n\t"                                                                  \
  "vldmia %[x1]!, {s16-s23}\n\t" ROW8                                                            \
  "subs %[n], %[n], #1\n\t"                                                                      \
  "bne 1b\n\t"                                                                                   \
  "cmp %[h], #0\n\t"                                                                             \
  "beq 2f\n\t"                                                                                   \
  "vldmia %[x0]!, {s8-s11}\n\t"                                                                  \
  "vldmia %[x1]!, {s16-s19}\n\t" ROW4 "2:\n\t" STORE
#define FENNEC_M4_DOTX2_CLOBBERS                                                                 \
  "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", \
      "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28", \
      "s29", "s30", "s31"
#define FENNEC_M4_ROW8(b, acc0, acc1) "vldmia %[" b "]!, {s24-s31}\n\t" FENNEC_M4_FMA8_DOT2(acc0, acc1)
#define FENNEC_M4_ROW4(b, acc0, acc1) "vldmia %[" b "]!, {s24-s27}\n\t" FENNEC_M4_FMA4_DOT2(acc0, acc1)

// out0[r] = x0 . b_r and out1[r] = x1 . b_r over 8 * blocks + 4 * half terms, r < 4 (blocks
// >= 1): each row of W is loaded once for two samples, 2 + 4 vldm per 64 multiply-adds.
FENNEC_M4_INLINE void dot4x2(const float* x0, const float* x1, const float* b0, const float* b1, const float* b2,
                             const float* b3, size_t blocks, size_t half, float* out0, float* out1) {
  const unsigned zero = 0;
  __asm__ volatile(FENNEC_M4_DOTX2("vmov s0, %[zr]\n\t"
                                   "vmov s1, %[zr]\n\t"
                                   "vmov s2, %[zr]\n\t"
                                   "vmov s3, %[zr]\n\t"
                                   "vmov s4, %[zr]\n\t"
                                   "vmov s5, %[zr]\n\t"
                                   "vmov s6, %[zr]\n\t"
                                   "vmov s7, %[zr]\n\t",
                                   FENNEC_M4_ROW8("b0", "s0", "s4") FENNEC_M4_ROW8("b1", "s1", "s5")
                                       FENNEC_M4_ROW8("b2", "s2", "s6") FENNEC_M4_ROW8("b3", "s3", "s7"),
                                   FENNEC_M4_ROW4("b0", "s0", "s4") FENNEC_M4_ROW4("b1", "s1", "s5")
                                       FENNEC_M4_ROW4("b2", "s2", "s6") FENNEC_M4_ROW4("b3", "s3", "s7"),
                                   "vstmia %[o0], {s0-s3}\n\t"
                                   "vstmia %[o1], {s4-s7}\n\t")
                   : [x0] "+r"(x0), [x1] "+r"(x1), [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3),
                     [n] "+r"(blocks)
                   : [zr] "r"(zero), [o0] "r"(out0), [o1] "r"(out1), [h] "r"(half)
                   : FENNEC_M4_DOTX2_CLOBBERS);
}

// The same for two rows of W (the rows left over from the 4-row tiles, e.g. 2 of a 10-wide
// layer): 2 + 2 vldm per 32 multiply-adds, against 2 per 8 for two dot1 per sample.
FENNEC_M4_INLINE void dot2x2(const float* x0, const float* x1, const float* b0, const float* b1, size_t blocks,
                             size_t half, float* out0, float* out1) {
  const unsigned zero = 0;
  __asm__ volatile(FENNEC_M4_DOTX2("vmov s0, %[zr]\n\t"
                                   "vmov s1, %[zr]\n\t"
                                   "vmov s4, %[zr]\n\t"
                                   "vmov s5, %[zr]\n\t",
                                   FENNEC_M4_ROW8("b0", "s0", "s4") FENNEC_M4_ROW8("b1", "s1", "s5"),
                                   FENNEC_M4_ROW4("b0", "s0", "s4") FENNEC_M4_ROW4("b1", "s1", "s5"),
                                   "vstmia %[o0], {s0-s1}\n\t"
                                   "vstmia %[o1], {s4-s5}\n\t")
                   : [x0] "+r"(x0), [x1] "+r"(x1), [b0] "+r"(b0), [b1] "+r"(b1), [n] "+r"(blocks)
                   : [zr] "r"(zero), [o0] "r"(out0), [o1] "r"(out1), [h] "r"(half)
                   : FENNEC_M4_DOTX2_CLOBBERS);
}

#undef FENNEC_M4_ROW4
#undef FENNEC_M4_ROW8
#undef FENNEC_M4_DOTX2_CLOBBERS
#undef FENNEC_M4_DOTX2
#undef FENNEC_M4_FMA8_DOT2
#undef FENNEC_M4_FMA4_DOT2
#endif  // !FENNEC_INFERENCE_ONLY


// Bias and activation over one row of C, after the product, in the reference's order; ReLU is
// written out as activate() computes it, so the common layer needs no call per element.
void row_epilogue(float* c, size_t n, const float* bias, ActivationSpec act) {
  if (bias) {
    if (act.kind == Activation::kRelu) {
      for (size_t j = 0; j < n; ++j) {
        const float v = c[j] + bias[j];
        c[j] = v > 0.f ? v : 0.f;
      }
      return;
    }
    for (size_t j = 0; j < n; ++j) c[j] += bias[j];
  }
  if (act.kind == Activation::kIdentity) return;
  if (act.kind == Activation::kRelu) {
    for (size_t j = 0; j < n; ++j) c[j] = c[j] > 0.f ? c[j] : 0.f;
    return;
  }
  for (size_t j = 0; j < n; ++j) c[j] = activate(act, c[j]);
}

// C = alpha * acc + beta * C (beta == 0: C is not read).
FENNEC_M4_INLINE float combine(float alpha, float beta, float acc, const float* c) {
  return alpha * acc + (beta == 0.f ? 0.f : beta * *c);
}

}  // namespace

// The arguments are copied into locals first: C is float, so without that every store to it
// could alias GemmArgs' float members and the compiler would reload them. In training builds
// samples go in pairs (dot4x2: one load of W for both; 1.26 instead of 1.33 instructions per MAC
// for the 196-64 layer at batch 16), an odd last sample alone (dot4). Inference-only builds,
// the smallest images, leave the pair kernel out: it is 1.25 KB of flash (the inference example's
// Fennec code would be 7,980 bytes instead of 6,728 against its 8 KiB budget) and batch-1
// inference never uses it.
void gemm_nt(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const float alpha = g.alpha, beta = g.beta;
  const bool plain = alpha == 1.f && beta == 0.f;
  const size_t blocks = k / 8, half = (k % 8) / 4, k4 = blocks * 8 + half * 4, k8 = blocks * 8;
  const bool direct = plain && k4 == k;
  size_t i = 0;
#if !defined(FENNEC_INFERENCE_ONLY)
  for (; blocks && i + 2 <= m; i += 2) {
    const float* a0 = g.a + i * lda;
    const float* a1 = a0 + lda;
    float* c0 = g.c + i * ldc;
    float* c1 = c0 + ldc;
    size_t j = 0;
    // Tiles of 4 rows of W, then one of 2; the sums go straight into C when nothing is left to
    // add to them (alpha 1, beta 0, k a multiple of 4).
    for (size_t w = 4; j + 2 <= n; j += w) {
      w = j + 4 <= n ? 4 : 2;
      const float* b = g.b + j * ldb;
      float acc[8];
      float* o0 = direct ? c0 + j : acc;
      float* o1 = direct ? c1 + j : acc + 4;
      if (w == 4) {
        dot4x2(a0, a1, b, b + ldb, b + 2 * ldb, b + 3 * ldb, blocks, half, o0, o1);
      } else {
        dot2x2(a0, a1, b, b + ldb, blocks, half, o0, o1);
      }
      if (direct) continue;
      for (size_t r = 0; r < w; ++r) {
        const float* br = b + r * ldb;
        float s0 = acc[r], s1 = acc[4 + r];
        for (size_t p = k4; p < k; ++p) {
          s0 += a0[p] * br[p];
          s1 += a1[p] * br[p];
        }
        c0[j + r] = plain ? s0 : combine(alpha, beta, s0, c0 + j + r);
        c1[j + r] = plain ? s1 : combine(alpha, beta, s1, c1 + j + r);
      }
    }
    for (; j < n; ++j) {
      const float* b = g.b + j * ldb;
      float s0 = dot1(a0, b, blocks), s1 = dot1(a1, b, blocks);
      for (size_t p = k8; p < k; ++p) {
        s0 += a0[p] * b[p];
        s1 += a1[p] * b[p];
      }
      c0[j] = combine(alpha, beta, s0, c0 + j);
      c1[j] = combine(alpha, beta, s1, c1 + j);
    }
    row_epilogue(c0, n, g.bias, g.act);
    row_epilogue(c1, n, g.bias, g.act);
  }
#endif
  for (; i < m; ++i) {
    const float* a = g.a + i * lda;
    float* c = g.c + i * ldc;
    size_t j = 0;
    if (blocks) {
      for (; j + 4 <= n; j += 4) {
        const float* b = g.b + j * ldb;
        float acc[4];
        float* out = direct ? c + j : acc;
        dot4(a, b, b + ldb, b + 2 * ldb, b + 3 * ldb, blocks, half, out);
        if (out == acc) {
          for (size_t r = 0; r < 4; ++r) {
            const float* br = b + r * ldb;
            float s = acc[r];
            for (size_t p = k4; p < k; ++p) s += a[p] * br[p];
            c[j + r] = combine(alpha, beta, s, c + j + r);
          }
        }
      }
    }
    for (; j < n; ++j) {
      const float* b = g.b + j * ldb;
      float s = blocks ? dot1(a, b, blocks) : 0.f;
      for (size_t p = k8; p < k; ++p) s += a[p] * b[p];
      c[j] = combine(alpha, beta, s, c + j);
    }
    row_epilogue(c, n, g.bias, g.act);
  }
}

#if !defined(FENNEC_INFERENCE_ONLY)
namespace {

// c[0..7] += a_r * b_r[0..7], r = 0..3, with a_0..a_3 in s0-s3, c in s8-s15, b_r into s16-s23.
#define FENNEC_M4_FMA8_AXPY(a)                                                                   \
  "vfma.f32 s8, " a ", s16\n\t"                                                                  \
  "vfma.f32 s9, " a ", s17\n\t"                                                                  \
  "vfma.f32 s10, " a ", s18\n\t"                                                                 \
  "vfma.f32 s11, " a ", s19\n\t"                                                                 \
  "vfma.f32 s12, " a ", s20\n\t"                                                                 \
  "vfma.f32 s13, " a ", s21\n\t"                                                                 \
  "vfma.f32 s14, " a ", s22\n\t"                                                                 \
  "vfma.f32 s15, " a ", s23\n\t"

// c[0..7] = a_0 * b_0[0..7] (the first term of a C row that beta == 0 does not read).
#define FENNEC_M4_MUL8_AXPY(a)                                                                   \
  "vmul.f32 s8, " a ", s16\n\t"                                                                  \
  "vmul.f32 s9, " a ", s17\n\t"                                                                  \
  "vmul.f32 s10, " a ", s18\n\t"                                                                 \
  "vmul.f32 s11, " a ", s19\n\t"                                                                 \
  "vmul.f32 s12, " a ", s20\n\t"                                                                 \
  "vmul.f32 s13, " a ", s21\n\t"                                                                 \
  "vmul.f32 s14, " a ", s22\n\t"                                                                 \
  "vmul.f32 s15, " a ", s23\n\t"

// c[j] (+)= a0 b0[j] + a1 b1[j] + a2 b2[j] + a3 b3[j] for j < 8 * blocks (blocks >= 1), each
// term fused in that order; FIRST is the head of the loop: load c and fuse the a0 term, or
// (for the first four terms of a row when beta == 0) start from the a0 product.
#define FENNEC_M4_AXPY4(FIRST)                                                                   \
  __asm__ volatile(                                                                              \
      "vmov.f32 s0, %[a0]\n\t"                                                                   \
      "vmov.f32 s1, %[a1]\n\t"                                                                   \
      "vmov.f32 s2, %[a2]\n\t"                                                                   \
      "vmov.f32 s3, %[a3]\n\t"                                                                   \
      "1:\n\t" FIRST                                                                             \
      "vldmia %[b1]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s1")                                   \
      "vldmia %[b2]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s2")                                   \
      "vldmia %[b3]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s3")                                   \
      "vstmia %[c]!, {s8-s15}\n\t"                                                               \
      "subs %[n], %[n], #1\n\t"                                                                  \
      "bne 1b\n\t"                                                                               \
      : [c] "+r"(c), [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3), [n] "+r"(blocks) \
      : [a0] "t"(a0), [a1] "t"(a1), [a2] "t"(a2), [a3] "t"(a3)                                   \
      : "cc", "memory", "s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", \
        "s17", "s18", "s19", "s20", "s21", "s22", "s23")

FENNEC_M4_INLINE void axpy4(float* c, const float* b0, const float* b1, const float* b2, const float* b3, float a0,
                            float a1, float a2, float a3, size_t blocks) {
  FENNEC_M4_AXPY4("vldmia %[c], {s8-s15}\n\t"
                  "vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s0"));
}

FENNEC_M4_INLINE void axpy4_first(float* c, const float* b0, const float* b1, const float* b2, const float* b3,
                                  float a0, float a1, float a2, float a3, size_t blocks) {
  FENNEC_M4_AXPY4("vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_MUL8_AXPY("s0"));
}

#undef FENNEC_M4_AXPY4
#undef FENNEC_M4_MUL8_AXPY

// c[j] += a b[j] for j < 8 * blocks (blocks >= 1).
FENNEC_M4_INLINE void axpy1(float* c, const float* b, float a, size_t blocks) {
  __asm__ volatile(
      "vmov.f32 s0, %[a]\n\t"
      "1:\n\t"
      "vldmia %[c], {s8-s15}\n\t"
      "vldmia %[b]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s0")
      "vstmia %[c]!, {s8-s15}\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [c] "+r"(c), [b] "+r"(b), [n] "+r"(blocks)
      : [a] "t"(a)
      : "cc", "memory", "s0", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19",
        "s20", "s21", "s22", "s23");
}

// c[j] += a0 b0[j] + a1 b1[j] for j < 8 * blocks (blocks >= 1), in that order: the two terms
// left over from the groups of four (k = 10 for a 10-wide layer's dX), one pass over c instead of
// two axpy1.
FENNEC_M4_INLINE void axpy2(float* c, const float* b0, const float* b1, float a0, float a1, size_t blocks) {
  __asm__ volatile(
      "vmov.f32 s0, %[a0]\n\t"
      "vmov.f32 s1, %[a1]\n\t"
      "1:\n\t"
      "vldmia %[c], {s8-s15}\n\t"
      "vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s0")
      "vldmia %[b1]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY("s1")
      "vstmia %[c]!, {s8-s15}\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [c] "+r"(c), [b0] "+r"(b0), [b1] "+r"(b1), [n] "+r"(blocks)
      : [a0] "t"(a0), [a1] "t"(a1)
      : "cc", "memory", "s0", "s1", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18",
        "s19", "s20", "s21", "s22", "s23");
}

#undef FENNEC_M4_FMA8_AXPY

// One rank-1 term of the 4x4 block: acc(r, s) += a[r] * b[s], a in s16-s19, b in s20-s23.
#define FENNEC_M4_OUTER(op)                                                                      \
  op " s0, s16, s20\n\t" op " s1, s16, s21\n\t" op " s2, s16, s22\n\t" op " s3, s16, s23\n\t"   \
  op " s4, s17, s20\n\t" op " s5, s17, s21\n\t" op " s6, s17, s22\n\t" op " s7, s17, s23\n\t"   \
  op " s8, s18, s20\n\t" op " s9, s18, s21\n\t" op " s10, s18, s22\n\t" op " s11, s18, s23\n\t" \
  op " s12, s19, s20\n\t" op " s13, s19, s21\n\t" op " s14, s19, s22\n\t" op " s15, s19, s23\n\t"

// The 4x4 block acc(r, s) = sum_{p < k} a_p[r] b_p[s] in s0-s15, with a_p = a + p * lda and
// b_p = b + p * ldb (k >= 1; strides in bytes). The first term is a plain product, so no
// zeroing is needed.
#define FENNEC_M4_OUTER_LOOP                                                                     \
  "vldmia %[a], {s16-s19}\n\t"                                                                   \
  "vldmia %[b], {s20-s23}\n\t"                                                                   \
  "add %[a], %[a], %[lda]\n\t"                                                                   \
  "add %[b], %[b], %[ldb]\n\t" FENNEC_M4_OUTER("vmul.f32")                                       \
  "subs %[k], %[k], #1\n\t"                                                                      \
  "beq 2f\n\t"                                                                                   \
  "1:\n\t"                                                                                       \
  "vldmia %[a], {s16-s19}\n\t"                                                                   \
  "vldmia %[b], {s20-s23}\n\t"                                                                   \
  "add %[a], %[a], %[lda]\n\t"                                                                   \
  "add %[b], %[b], %[ldb]\n\t" FENNEC_M4_OUTER("vfma.f32")                                       \
  "subs %[k], %[k], #1\n\t"                                                                      \
  "bne 1b\n\t"                                                                                   \
  "2:\n\t"
#define FENNEC_M4_OUTER_CLOBBERS                                                                 \
  "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", \
      "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23"

// The block into acc[16] (row-major), for the general alpha/beta epilogue.
FENNEC_M4_INLINE void outer4x4(const float* a, size_t lda_bytes, const float* b, size_t ldb_bytes, size_t k,
                               float* acc) {
  __asm__ volatile(FENNEC_M4_OUTER_LOOP "vstmia %[acc], {s0-s15}\n\t"
                   : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k)
                   : [lda] "r"(lda_bytes), [ldb] "r"(ldb_bytes), [acc] "r"(acc)
                   : FENNEC_M4_OUTER_CLOBBERS);
}

// The block stored straight into C's four rows c, c + ldc, ... (alpha 1, beta 0).
FENNEC_M4_INLINE void outer4x4_store(const float* a, size_t lda_bytes, const float* b, size_t ldb_bytes, size_t k,
                                     float* c, size_t ldc_bytes) {
  __asm__ volatile(FENNEC_M4_OUTER_LOOP
                   "vstmia %[c], {s0-s3}\n\t"
                   "add %[c], %[c], %[ldc]\n\t"
                   "vstmia %[c], {s4-s7}\n\t"
                   "add %[c], %[c], %[ldc]\n\t"
                   "vstmia %[c], {s8-s11}\n\t"
                   "add %[c], %[c], %[ldc]\n\t"
                   "vstmia %[c], {s12-s15}\n\t"
                   : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k), [c] "+r"(c)
                   : [lda] "r"(lda_bytes), [ldb] "r"(ldb_bytes), [ldc] "r"(ldc_bytes)
                   : FENNEC_M4_OUTER_CLOBBERS);
}

// One row of C outside the 4-row blocks: acc[s] = sum_{p < k} a_p[0] b_p[s], s < 8, with
// a_p = a + p * lda and b_p = b + p * ldb (k >= 1; strides in bytes), into c[0..7].
FENNEC_M4_INLINE void outer1x8(const float* a, size_t lda_bytes, const float* b, size_t ldb_bytes, size_t k,
                               float* c) {
  __asm__ volatile(
      "vldr s16, [%[a]]\n\t"
      "vldmia %[b], {s8-s15}\n\t"
      "add %[a], %[a], %[lda]\n\t"
      "add %[b], %[b], %[ldb]\n\t"
      "vmul.f32 s0, s16, s8\n\t"
      "vmul.f32 s1, s16, s9\n\t"
      "vmul.f32 s2, s16, s10\n\t"
      "vmul.f32 s3, s16, s11\n\t"
      "vmul.f32 s4, s16, s12\n\t"
      "vmul.f32 s5, s16, s13\n\t"
      "vmul.f32 s6, s16, s14\n\t"
      "vmul.f32 s7, s16, s15\n\t"
      "subs %[k], %[k], #1\n\t"
      "beq 2f\n\t"
      "1:\n\t"
      "vldr s16, [%[a]]\n\t"
      "vldmia %[b], {s8-s15}\n\t"
      "add %[a], %[a], %[lda]\n\t"
      "add %[b], %[b], %[ldb]\n\t"
      "vfma.f32 s0, s16, s8\n\t"
      "vfma.f32 s1, s16, s9\n\t"
      "vfma.f32 s2, s16, s10\n\t"
      "vfma.f32 s3, s16, s11\n\t"
      "vfma.f32 s4, s16, s12\n\t"
      "vfma.f32 s5, s16, s13\n\t"
      "vfma.f32 s6, s16, s14\n\t"
      "vfma.f32 s7, s16, s15\n\t"
      "subs %[k], %[k], #1\n\t"
      "bne 1b\n\t"
      "2:\n\t"
      "vstmia %[c], {s0-s7}\n\t"
      : [a] "+r"(a), [b] "+r"(b), [k] "+r"(k)
      : [lda] "r"(lda_bytes), [ldb] "r"(ldb_bytes), [c] "r"(c)
      : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
        "s14", "s15", "s16");
}

// Batch 1 (k == 1, alpha 1, beta 0): C is the outer product a b^T. W columns of b stay in
// s20-s31 while the loop writes them, scaled by a[i], into row i of C: 1 vldm + W vmul + 1 vstm
// + 3 per row (12 columns: 17 per 12 products), against 29 per 16 for a 4x4 block of one term
// with its set-up around every block. m >= 1; the stride is in bytes.
#define FENNEC_M4_RANK1(W, BREGS, CREGS, MULS)                                                   \
  FENNEC_M4_INLINE void rank1_rows##W(const float* a, const float* b, float* c, size_t ldc_bytes, size_t m) { \
    __asm__ volatile("vldmia %[b], {" BREGS "}\n\t"                                              \
                     "1:\n\t"                                                                    \
                     "vldmia %[a]!, {s12}\n\t" MULS "vstmia %[c], {" CREGS "}\n\t"                \
                     "add %[c], %[c], %[ldc]\n\t"                                                 \
                     "subs %[m], %[m], #1\n\t"                                                    \
                     "bne 1b\n\t"                                                                 \
                     : [a] "+r"(a), [c] "+r"(c), [m] "+r"(m)                                     \
                     : [b] "r"(b), [ldc] "r"(ldc_bytes)                                          \
                     : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", \
                       "s10", "s11", "s12", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", \
                       "s28", "s29", "s30", "s31");                                              \
  }
#define FENNEC_M4_MUL4(d0, d1, d2, d3, b0, b1, b2, b3)                                           \
  "vmul.f32 s" #d0 ", s12, s" #b0 "\n\t" "vmul.f32 s" #d1 ", s12, s" #b1 "\n\t"                  \
  "vmul.f32 s" #d2 ", s12, s" #b2 "\n\t" "vmul.f32 s" #d3 ", s12, s" #b3 "\n\t"
FENNEC_M4_RANK1(12, "s20-s31", "s0-s11",
                FENNEC_M4_MUL4(0, 1, 2, 3, 20, 21, 22, 23) FENNEC_M4_MUL4(4, 5, 6, 7, 24, 25, 26, 27)
                    FENNEC_M4_MUL4(8, 9, 10, 11, 28, 29, 30, 31))
FENNEC_M4_RANK1(8, "s20-s27", "s0-s7",
                FENNEC_M4_MUL4(0, 1, 2, 3, 20, 21, 22, 23) FENNEC_M4_MUL4(4, 5, 6, 7, 24, 25, 26, 27))
FENNEC_M4_RANK1(4, "s20-s23", "s0-s3", FENNEC_M4_MUL4(0, 1, 2, 3, 20, 21, 22, 23))
#undef FENNEC_M4_MUL4
#undef FENNEC_M4_RANK1

#undef FENNEC_M4_OUTER_LOOP
#undef FENNEC_M4_OUTER_CLOBBERS
#undef FENNEC_M4_OUTER

}  // namespace

void gemm_nn(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const float alpha = g.alpha, beta = g.beta;
  const size_t blocks = n / 8, n8 = blocks * 8;
  for (size_t i = 0; i < m; ++i) {
    const float* a = g.a + i * lda;
    float* c = g.c + i * ldc;
    // With beta == 0 and k >= 4, the first four terms write C's first n8 columns (not read).
    const bool first_writes = beta == 0.f && k >= 4 && blocks;
    if (beta == 0.f) {
      const size_t j0 = first_writes ? n8 : 0;
      if (j0 < n)  // (a library memset call per row otherwise, even for no bytes)
        for (size_t j = j0; j < n; ++j) c[j] = 0.f;
    } else if (beta != 1.f) {
      for (size_t j = 0; j < n; ++j) c[j] *= beta;
    }
    size_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float a0 = alpha * a[p], a1 = alpha * a[p + 1], a2 = alpha * a[p + 2], a3 = alpha * a[p + 3];
      const float* b0 = g.b + p * ldb;
      const float *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      if (p == 0 && first_writes) {
        axpy4_first(c, b0, b1, b2, b3, a0, a1, a2, a3, blocks);
      } else if (blocks) {
        axpy4(c, b0, b1, b2, b3, a0, a1, a2, a3, blocks);
      }
      for (size_t j = n8; j < n; ++j) c[j] = c[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
    }
    if (p + 2 <= k) {
      const float a0 = alpha * a[p], a1 = alpha * a[p + 1];
      const float* b0 = g.b + p * ldb;
      const float* b1 = b0 + ldb;
      if (blocks) axpy2(c, b0, b1, a0, a1, blocks);
      for (size_t j = n8; j < n; ++j) c[j] = c[j] + a0 * b0[j] + a1 * b1[j];
      p += 2;
    }
    for (; p < k; ++p) {
      const float ap = alpha * a[p];
      const float* b = g.b + p * ldb;
      if (blocks) axpy1(c, b, ap, blocks);
      for (size_t j = n8; j < n; ++j) c[j] += ap * b[j];
    }
    if (g.bias || g.act.kind != Activation::kIdentity) row_epilogue(c, n, g.bias, g.act);  // dX has neither
  }
}

void gemm_tn(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const float alpha = g.alpha, beta = g.beta;
  const bool plain = alpha == 1.f && beta == 0.f;
  size_t i = 0;
  if (k == 1 && plain && m > 0) {
    size_t j = 0;
    for (; j + 12 <= n; j += 12) rank1_rows12(g.a, g.b + j, g.c + j, ldc * sizeof(float), m);
    if (j + 8 <= n) rank1_rows8(g.a, g.b + j, g.c + j, ldc * sizeof(float), m), j += 8;
    if (j + 4 <= n) rank1_rows4(g.a, g.b + j, g.c + j, ldc * sizeof(float), m), j += 4;
    for (; j < n; ++j)
      for (size_t r = 0; r < m; ++r) g.c[r * ldc + j] = g.a[r] * g.b[j];
    i = m;  // every row written: only the epilogue below is left
  }
  for (; k > 0 && i + 4 <= m; i += 4) {
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      float* c = g.c + i * ldc + j;
      if (plain) {
        outer4x4_store(g.a + i, lda * sizeof(float), g.b + j, ldb * sizeof(float), k, c, ldc * sizeof(float));
        continue;
      }
      float acc[16];
      outer4x4(g.a + i, lda * sizeof(float), g.b + j, ldb * sizeof(float), k, acc);
      for (size_t r = 0; r < 4; ++r)
        for (size_t s = 0; s < 4; ++s) c[r * ldc + s] = combine(alpha, beta, acc[4 * r + s], c + r * ldc + s);
    }
    for (; j < n; ++j) {
      for (size_t r = 0; r < 4; ++r) {
        float s = 0.f;
        for (size_t p = 0; p < k; ++p) s += g.a[p * lda + i + r] * g.b[p * ldb + j];
        float* c = g.c + (i + r) * ldc + j;
        *c = combine(alpha, beta, s, c);
      }
    }
  }
  for (; i < m; ++i) {
    float* c = g.c + i * ldc;
    size_t j = 0;
    for (; k > 0 && j + 8 <= n; j += 8) {
      float acc[8];
      float* out = plain ? c + j : acc;
      outer1x8(g.a + i, lda * sizeof(float), g.b + j, ldb * sizeof(float), k, out);
      if (!plain)
        for (size_t s = 0; s < 8; ++s) c[j + s] = combine(alpha, beta, acc[s], c + j + s);
    }
    for (; j < n; ++j) {
      float s = 0.f;
      for (size_t p = 0; p < k; ++p) s += g.a[p * lda + i] * g.b[p * ldb + j];
      c[j] = combine(alpha, beta, s, c + j);
    }
  }
  if (g.bias || g.act.kind != Activation::kIdentity)  // dW has neither: no call per row
    for (i = 0; i < m; ++i) row_epilogue(g.c + i * ldc, n, g.bias, g.act);
}
#endif  // !FENNEC_INFERENCE_ONLY

}  // namespace fennec::kernels::cortex_m4
