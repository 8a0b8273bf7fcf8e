// SPDX-License-Identifier: Apache-2.0
// Cortex-M4F GEMM micro-kernels (see gemm_cortex_m4.hpp). Instruction counts per multiply-add
// in the inner loops, counted under qemu with bench/qemu's plugin:
//   nt, one sample (5 rows x 8 k):        6 vldm + 40 vfma + 2 loop = 48 per 40 MACs (1.20)
//   nt, two samples (4 rows x 8 k):       2 + 4 vldm + 64 vfma + 2 = 72 per 64 (1.13)
//   nn (axpy, 5 k x 8 columns):           1 + 5 vldm + 40 vfma + 1 vstm + 2 = 49 per 40 (1.23)
//   tn (outer products, 4 x 4 or 2 x 8):  2 vldm + 2 add + 16 vfma + 2 = 22 per 16 (1.38)
// with the loop over tiles, rows of C or blocks inside the assembly too (14, 12 and 7
// instructions each), and for what those leave: 2 rows of W (dot2x2, two samples: 38 per 32),
// 2 terms of k (axpy2: 22 per 16), 1-row forms (dot1: 12 per 8, axpy1: 13 per 8, outer1x8: 14
// per 8), and batch 1's dW, an outer product (rank1_rows: 21 per 16). Five rows and five terms
// make a 10-wide layer two tiles with nothing left over. Per call, over whole layers of
// 196-64-32-10, bench/qemu's plugin counts 1.2-1.6 at batch 1 and 16 (platforms/README.md).
// S16-S31 are callee-saved (AAPCS-VFP): the clobber lists make the compiler save them once per
// call. Kernels called from more than one place, or through a pointer, are functions of their
// own (noinline): one copy of each in flash, and each call leaves the compiler free registers.
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

// One sample against tiles of five rows of W: out[5 t + r] = init_t[r] + sum_{p < k4} x[p] *
// b[(5 t + r) ldb + p] for t < tiles (>= 1), r < 5, with k4 = k4_bytes / 4 = 8 * blocks + 4 * half
// (blocks >= 1) and init_t = init + t * init_step_bytes / 4; the half block first. The tiles loop
// here, not in C++: each costs 14 instructions around its 6 vldm + 40 vfma per 8 terms (48 per 40
// MACs), and five rows make ten outputs two tiles with no leftover rows.
__attribute__((noinline)) void dot5_tiles(const float* x, const float* b, size_t ldb_bytes, size_t k4_bytes,
                                          size_t tiles, const float* init, size_t init_step_bytes, float* out) {
  const float *b1, *b2, *b3, *b4;
  size_t n;
  __asm__ volatile(
      "1:\n\t"
      "add %[b1], %[b0], %[ldb]\n\t"
      "add %[b2], %[b1], %[ldb]\n\t"
      "add %[b3], %[b2], %[ldb]\n\t"
      "add %[b4], %[b3], %[ldb]\n\t"
      "vldmia %[init], {s0-s4}\n\t"
      "add %[init], %[init], %[istep]\n\t"
      "lsrs %[n], %[kb], #5\n\t"  // the carry: bit 4, the half block
      "bcc 2f\n\t"
      "vldmia %[x]!, {s8-s11}\n\t"
      "vldmia %[b0]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s0")
      "vldmia %[b1]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s1")
      "vldmia %[b2]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s2")
      "vldmia %[b3]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s3")
      "vldmia %[b4]!, {s16-s19}\n\t" FENNEC_M4_FMA4_DOT("s4")
      "2:\n\t"
      "vldmia %[x]!, {s8-s15}\n\t"
      "vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s0")
      "vldmia %[b1]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s1")
      "vldmia %[b2]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s2")
      "vldmia %[b3]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s3")
      "vldmia %[b4]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s4")
      "subs %[n], %[n], #1\n\t"
      "bne 2b\n\t"
      "vstmia %[out]!, {s0-s4}\n\t"
      "sub %[x], %[x], %[kb]\n\t"
      "sub %[b0], %[b4], %[kb]\n\t"
      "add %[b0], %[b0], %[ldb]\n\t"
      "subs %[t], %[t], #1\n\t"
      "bne 1b\n\t"
      : [x] "+r"(x), [b0] "+r"(b), [t] "+r"(tiles), [init] "+r"(init), [out] "+r"(out), [b1] "=&r"(b1),
        [b2] "=&r"(b2), [b3] "=&r"(b3), [b4] "=&r"(b4), [n] "=&r"(n)
      : [ldb] "r"(ldb_bytes), [kb] "r"(k4_bytes), [istep] "r"(init_step_bytes)
      : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16",
        "s17", "s18", "s19", "s20", "s21", "s22", "s23");
}

// *init + sum_{p < 8 * blocks} x[p] * b[p] (blocks >= 1), all in one accumulator, in order.
FENNEC_M4_INLINE float dot1(const float* x, const float* b, size_t blocks, const float* init) {
  float out;
  __asm__ volatile(
      "vldr s0, [%[init]]\n\t"
      "1:\n\t"
      "vldmia %[x]!, {s8-s15}\n\t"
      "vldmia %[b]!, {s16-s23}\n\t" FENNEC_M4_FMA8_DOT("s0")
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      "vmov.f32 %[out], s0\n\t"
      : [x] "+r"(x), [b] "+r"(b), [n] "+r"(blocks), [out] "=t"(out)
      : [init] "r"(init)
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

// out0[r] = init[r] + x0 . b_r and out1[r] = init[r] + x1 . b_r over 8 * blocks + 4 * half
// terms, r < 4 (blocks >= 1): each row of W is loaded once for two samples, 2 + 4 vldm per 64
// multiply-adds.
__attribute__((noinline)) void dot4x2(const float* x0, const float* x1, const float* b0, const float* b1,
                                      const float* b2, const float* b3, size_t blocks, size_t half, const float* init,
                                      float* out0, float* out1) {
  __asm__ volatile(FENNEC_M4_DOTX2("vldmia %[init], {s0-s3}\n\t"
                                   "vldmia %[init], {s4-s7}\n\t",
                                   FENNEC_M4_ROW8("b0", "s0", "s4") FENNEC_M4_ROW8("b1", "s1", "s5")
                                       FENNEC_M4_ROW8("b2", "s2", "s6") FENNEC_M4_ROW8("b3", "s3", "s7"),
                                   FENNEC_M4_ROW4("b0", "s0", "s4") FENNEC_M4_ROW4("b1", "s1", "s5")
                                       FENNEC_M4_ROW4("b2", "s2", "s6") FENNEC_M4_ROW4("b3", "s3", "s7"),
                                   "vstmia %[o0], {s0-s3}\n\t"
                                   "vstmia %[o1], {s4-s7}\n\t")
                   : [x0] "+r"(x0), [x1] "+r"(x1), [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3),
                     [n] "+r"(blocks)
                   : [init] "r"(init), [o0] "r"(out0), [o1] "r"(out1), [h] "r"(half)
                   : FENNEC_M4_DOTX2_CLOBBERS);
}

// The same for two rows of W (the rows left over from the 4-row tiles, e.g. 2 of a 10-wide
// layer): 2 + 2 vldm per 32 multiply-adds, against 2 per 8 for two dot1 per sample.
__attribute__((noinline)) void dot2x2(const float* x0, const float* x1, const float* b0, const float* b1,
                                      size_t blocks, size_t half, const float* init, float* out0, float* out1) {
  __asm__ volatile(FENNEC_M4_DOTX2("vldmia %[init], {s0-s1}\n\t"
                                   "vldmia %[init], {s4-s5}\n\t",
                                   FENNEC_M4_ROW8("b0", "s0", "s4") FENNEC_M4_ROW8("b1", "s1", "s5"),
                                   FENNEC_M4_ROW4("b0", "s0", "s4") FENNEC_M4_ROW4("b1", "s1", "s5"),
                                   "vstmia %[o0], {s0-s1}\n\t"
                                   "vstmia %[o1], {s4-s5}\n\t")
                   : [x0] "+r"(x0), [x1] "+r"(x1), [b0] "+r"(b0), [b1] "+r"(b1), [n] "+r"(blocks)
                   : [init] "r"(init), [o0] "r"(out0), [o1] "r"(out1), [h] "r"(half)
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
// written out as activate() computes it, so the common layer needs no call per element. (The
// forward GEMM's common case starts its sums from the bias: a bias here is the rare case.)
void row_epilogue(float* c, size_t n, const float* bias, ActivationSpec act) {
  if (bias)
    for (size_t j = 0; j < n; ++j) c[j] += bias[j];
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

namespace {

const float kZeros[5] = {};

// With alpha 1 and beta 0 the sums start from the bias (its term first instead of last), so the
// epilogue is left with the activation alone, and with nothing at all for the output layer.
FENNEC_M4_INLINE bool folds_bias(const GemmArgs& g, float alpha, float beta) {
  return alpha == 1.f && beta == 0.f && g.bias;
}

#if !defined(FENNEC_INFERENCE_ONLY)
// Samples in pairs (dot4x2: one load of W for both; 1.21 instead of 1.32 instructions per MAC
// for the 196-64 layer at batch 16), for the common case only: alpha 1, beta 0 and k a multiple
// of 4, the sums straight into C from the bias (every other case is rare and goes one sample at
// a time); returns how many rows of C it wrote. A function of its own, so that batch 1 skips its
// set-up.
__attribute__((noinline)) size_t nt_pairs(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const bool fold = g.bias != nullptr;
  const size_t blocks = k / 8, half = (k / 4) & 1, k8 = k & ~size_t{7};
  const float* const init0 = fold ? g.bias : kZeros;  // row j's sums start from init0[j * fold]
  size_t i = 0;
  for (; i + 2 <= m; i += 2) {
    const float* a0 = g.a + i * lda;
    const float* a1 = a0 + lda;
    float* c0 = g.c + i * ldc;
    float* c1 = c0 + ldc;
    size_t j = 0;
    // Tiles of 4 rows of W, then one of 2, then one row for each sample.
    for (size_t w = 4; j + 2 <= n; j += w) {
      w = j + 4 <= n ? 4 : 2;
      const float* b = g.b + j * ldb;
      const float* init = init0 + j * fold;
      float *o0 = c0 + j, *o1 = c1 + j;
      if (w == 4) {
        dot4x2(a0, a1, b, b + ldb, b + 2 * ldb, b + 3 * ldb, blocks, half, init, o0, o1);
      } else {
        dot2x2(a0, a1, b, b + ldb, blocks, half, init, o0, o1);
      }
    }
    for (size_t r = 0; j < n && r < 2; ++r) {
      const float* a = r ? a1 : a0;
      const float* b = g.b + j * ldb;
      float s = dot1(a, b, blocks, init0 + j * fold);
      for (size_t p = k8; p < k; ++p) s += a[p] * b[p];
      (r ? c1 : c0)[j] = s;
    }
    if (g.act.kind != Activation::kIdentity) {
      row_epilogue(c0, n, nullptr, g.act);
      row_epilogue(c1, n, nullptr, g.act);
    }
  }
  return i;
}
#endif

}  // namespace

namespace {

// Rows i.. of C one sample at a time: the 5-row tiles of W in one call (dot5_tiles) when the sums
// go straight into C, then one row of W at a time (dot1) and the terms past its multiple of 8,
// alpha and beta. The rare cases (alpha not 1, beta not 0, k not a multiple of 4) take that
// slower path for all rows of W: 1.5 instead of 1.2 instructions per MAC, and less flash.
__attribute__((noinline)) void nt_rows(const GemmArgs& g, size_t i) {
  const size_t k = g.k, k4 = k & ~size_t{3};
  const bool fold = folds_bias(g, g.alpha, g.beta), direct = g.alpha == 1.f && g.beta == 0.f && k4 == k;
  const float* const init0 = fold ? g.bias : kZeros;
  const float* const epilogue_bias = fold ? nullptr : g.bias;
  for (; i < g.m; ++i) {
    const float* a = g.a + i * g.lda;
    float* c = g.c + i * g.ldc;
    const size_t n = g.n, ldb = g.ldb, tiles = k >= 8 ? n / 5 : 0;
    size_t j = 0;
    if (direct && tiles) {
      dot5_tiles(a, g.b, ldb * sizeof(float), k4 * sizeof(float), tiles, init0, fold * 5 * sizeof(float), c);
      j = 5 * tiles;
    }
    for (; j < n; ++j) {
      const float* b = g.b + j * ldb;
      const float* init = init0 + j * fold;
      float s = k >= 8 ? dot1(a, b, k / 8, init) : *init;
      for (size_t p = k & ~size_t{7}; p < k; ++p) s += a[p] * b[p];
      c[j] = combine(g.alpha, g.beta, s, c + j);
    }
    if (epilogue_bias || g.act.kind != Activation::kIdentity) row_epilogue(c, n, epilogue_bias, g.act);
  }
}

}  // namespace

// Inference-only builds, the smallest images, leave the pair kernels out: they are over 1 KB of
// flash against the inference example's 8 KiB budget, and batch-1 inference never uses them.
void gemm_nt(const GemmArgs& g) {
#if !defined(FENNEC_INFERENCE_ONLY)
  const bool direct = g.alpha == 1.f && g.beta == 0.f && g.k % 4 == 0 && g.k >= 8;
  size_t i = direct && g.m >= 2 ? nt_pairs(g) : 0;
  // Whole 5-row tiles (the 10-wide layer): a call a sample, with none of nt_rows' set-up (not in
  // inference-only builds: the flash).
  if (direct && g.n % 5 == 0 && g.n) {
    const bool fold = g.bias != nullptr;
    for (; i < g.m; ++i) {
      float* c = g.c + i * g.ldc;
      dot5_tiles(g.a + i * g.lda, g.b, g.ldb * sizeof(float), g.k * sizeof(float), g.n / 5, fold ? g.bias : kZeros,
                 fold * 5 * sizeof(float), c);
      if (g.act.kind != Activation::kIdentity) row_epilogue(c, g.n, nullptr, g.act);
    }
    return;
  }
  nt_rows(g, i);
#else
  nt_rows(g, 0);
#endif
}

#if !defined(FENNEC_INFERENCE_ONLY)
namespace {

// c[0..7] += a * b_r[0..7] with the coefficient a in s0-s4, c in s8-s15, b_r into s16-s23.
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

// For each of rows rows of C (c_i = c + i * ldc_bytes / 4): c_i[j] (+)= coef_i[0] b_0[j] + ... +
// coef_i[w - 1] b_{w-1}[j] for j < 8 * blocks (blocks >= 1), with coef_i = coef + i * lda_bytes / 4
// and b_r = b0 + r * ldb_bytes / 4, each term fused in that order, for w = 5, 2, 1: LOADS takes
// the coefficients into s0-s4 and derives b_1..b_4, BODY is the loop's head up to the store of
// c's eight columns. The rows loop here, not in C++: 12 instructions a row around the
// 49-instruction blocks of w = 5. One signature for every width, so gemm_nn picks one through a
// pointer.
struct AxpyShape {
  size_t ldb_bytes, lda_bytes, ldc_bytes, blocks, rows;
};
using AxpyFn = void (*)(float* c, const float* b0, const float* coef, const AxpyShape& shape);
#define FENNEC_M4_AXPY_FN(name, LOADS, BODY)                                                     \
  __attribute__((noinline)) void name(float* c, const float* b0, const float* coef, const AxpyShape& shape) { \
    const float *b1, *b2, *b3, *b4;                                                              \
    size_t n, rows = shape.rows;                                                                 \
    __asm__ volatile("1:\n\t" LOADS                                                              \
                     "add %[coef], %[coef], %[lda]\n\t"                                          \
                     "mov %[n], %[blocks]\n\t"                                                   \
                     "2:\n\t" BODY                                                               \
                     "vstmia %[c]!, {s8-s15}\n\t"                                                \
                     "subs %[n], %[n], #1\n\t"                                                   \
                     "bne 2b\n\t"                                                                \
                     "sub %[b0], %[b0], %[blocks], lsl #5\n\t"                                   \
                     "add %[c], %[c], %[ldc]\n\t"                                                \
                     "sub %[c], %[c], %[blocks], lsl #5\n\t"                                     \
                     "subs %[rows], %[rows], #1\n\t"                                             \
                     "bne 1b\n\t"                                                                \
                     : [c] "+r"(c), [b0] "+r"(b0), [coef] "+r"(coef), [rows] "+r"(rows), [n] "=&r"(n), \
                       [b1] "=&r"(b1), [b2] "=&r"(b2), [b3] "=&r"(b3), [b4] "=&r"(b4)            \
                     : [ldb] "r"(shape.ldb_bytes), [lda] "r"(shape.lda_bytes), [ldc] "r"(shape.ldc_bytes), \
                       [blocks] "r"(shape.blocks)                                                \
                     : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s8", "s9", "s10", "s11", "s12", \
                       "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23"); \
  }
#define FENNEC_M4_AXPY_ROW(b, a) "vldmia %[" b "]!, {s16-s23}\n\t" FENNEC_M4_FMA8_AXPY(a)
#define FENNEC_M4_AXPY_LOAD_C "vldmia %[c], {s8-s15}\n\t"
#define FENNEC_M4_AXPY_LOAD5                                                                     \
  "vldmia %[coef], {s0-s4}\n\t"                                                                  \
  "add %[b1], %[b0], %[ldb]\n\t"                                                                 \
  "add %[b2], %[b1], %[ldb]\n\t"                                                                 \
  "add %[b3], %[b2], %[ldb]\n\t"                                                                 \
  "add %[b4], %[b3], %[ldb]\n\t"
#define FENNEC_M4_AXPY_LAST4                                                                     \
  FENNEC_M4_AXPY_ROW("b1", "s1") FENNEC_M4_AXPY_ROW("b2", "s2") FENNEC_M4_AXPY_ROW("b3", "s3")  \
  FENNEC_M4_AXPY_ROW("b4", "s4")

// Five terms, so that a 10-wide layer's dX (k = 10) is two groups with none left over.
FENNEC_M4_AXPY_FN(axpy5, FENNEC_M4_AXPY_LOAD5,
                  FENNEC_M4_AXPY_LOAD_C FENNEC_M4_AXPY_ROW("b0", "s0") FENNEC_M4_AXPY_LAST4)
// The first five terms of C rows that beta == 0 does not read: c starts from the first product.
FENNEC_M4_AXPY_FN(axpy5_first, FENNEC_M4_AXPY_LOAD5,
                  "vldmia %[b0]!, {s16-s23}\n\t" FENNEC_M4_MUL8_AXPY("s0") FENNEC_M4_AXPY_LAST4)
// What the groups of five leave: pairs (one pass over c instead of two), then one.
FENNEC_M4_AXPY_FN(axpy2,
                  "vldmia %[coef], {s0-s1}\n\t"
                  "add %[b1], %[b0], %[ldb]\n\t",
                  FENNEC_M4_AXPY_LOAD_C FENNEC_M4_AXPY_ROW("b0", "s0") FENNEC_M4_AXPY_ROW("b1", "s1"))
FENNEC_M4_AXPY_FN(axpy1, "vldr s0, [%[coef]]\n\t", FENNEC_M4_AXPY_LOAD_C FENNEC_M4_AXPY_ROW("b0", "s0"))

#undef FENNEC_M4_AXPY_LAST4
#undef FENNEC_M4_AXPY_LOAD5
#undef FENNEC_M4_AXPY_LOAD_C
#undef FENNEC_M4_AXPY_ROW
#undef FENNEC_M4_AXPY_FN
#undef FENNEC_M4_MUL8_AXPY
#undef FENNEC_M4_FMA8_AXPY

// One rank-1 term of the 4x4 block: acc(r, s) += a[r] * b[s], a in s16-s19, b in s20-s23.
#define FENNEC_M4_OUTER(op)                                                                      \
  op " s0, s16, s20\n\t" op " s1, s16, s21\n\t" op " s2, s16, s22\n\t" op " s3, s16, s23\n\t"   \
  op " s4, s17, s20\n\t" op " s5, s17, s21\n\t" op " s6, s17, s22\n\t" op " s7, s17, s23\n\t"   \
  op " s8, s18, s20\n\t" op " s9, s18, s21\n\t" op " s10, s18, s22\n\t" op " s11, s18, s23\n\t" \
  op " s12, s19, s20\n\t" op " s13, s19, s21\n\t" op " s14, s19, s22\n\t" op " s15, s19, s23\n\t"

// A strip of rows of C in `blocks` blocks of W = W_BYTES / 4 columns: block t is acc(r, s) =
// sum_{p < k} a_p[r] b_p[W t + s], with a_p = a + p * lda and b_p = b + p * ldb (k >= 1,
// blocks >= 1; strides in bytes), stored at c + r * ldc + W t. AREGS and BREGS take a_p's rows and b_p's
// columns, OPS the rank-1 term into the accumulators, STORE them into the rows of C (t is free
// there). The first term is a plain product, so no zeroing is needed. The blocks loop here, not
// in C++: 7 instructions a block besides the stores.
using OuterStripFn = void (*)(const float* a, size_t lda_bytes, const float* b, size_t ldb_bytes, size_t k,
                              float* c, size_t ldc_bytes, size_t blocks);
#define FENNEC_M4_OUTER_STRIP(name, AREGS, BREGS, OPS, STORE, W_BYTES)                            \
  __attribute__((noinline)) void name(const float* a0, size_t lda_bytes, const float* b0, size_t ldb_bytes,     \
                                      size_t k0, float* c, size_t ldc_bytes, size_t blocks) {    \
    const float *a, *b;                                                                          \
    size_t k;                                                                                    \
    float* t;                                                                                    \
    __asm__ volatile("1:\n\t"                                                                    \
                     "mov %[a], %[a0]\n\t"                                                       \
                     "mov %[b], %[b0]\n\t"                                                       \
                     "mov %[k], %[k0]\n\t"                                                       \
                     "vldmia %[a], {" AREGS "}\n\t"                                              \
                     "vldmia %[b], {" BREGS "}\n\t"                                              \
                     "add %[a], %[a], %[lda]\n\t"                                                \
                     "add %[b], %[b], %[ldb]\n\t" OPS("vmul.f32")                                \
                     "subs %[k], %[k], #1\n\t"                                                   \
                     "beq 3f\n\t"                                                                \
                     "2:\n\t"                                                                    \
                     "vldmia %[a], {" AREGS "}\n\t"                                              \
                     "vldmia %[b], {" BREGS "}\n\t"                                              \
                     "add %[a], %[a], %[lda]\n\t"                                                \
                     "add %[b], %[b], %[ldb]\n\t" OPS("vfma.f32")                                \
                     "subs %[k], %[k], #1\n\t"                                                   \
                     "bne 2b\n\t"                                                                \
                     "3:\n\t" STORE                                                              \
                     "add %[b0], %[b0], #" W_BYTES "\n\t"                                        \
                     "add %[c], %[c], #" W_BYTES "\n\t"                                          \
                     "subs %[blocks], %[blocks], #1\n\t"                                         \
                     "bne 1b\n\t"                                                                \
                     : [b0] "+r"(b0), [c] "+r"(c), [blocks] "+r"(blocks), [a] "=&r"(a), [b] "=&r"(b), \
                       [k] "=&r"(k), [t] "=&r"(t)                                                \
                     : [a0] "r"(a0), [k0] "r"(k0), [lda] "r"(lda_bytes), [ldb] "r"(ldb_bytes),   \
                       [ldc] "r"(ldc_bytes)                                                      \
                     : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", \
                       "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", \
                       "s21", "s22", "s23", "s24", "s25");                                       \
  }
#define FENNEC_M4_STORE_NEXT(regs) "add %[t], %[t], %[ldc]\n\t" "vstmia %[t], {" regs "}\n\t"
#define FENNEC_M4_STORE_ROWS2(r0, r1)                                                            \
  "vstmia %[c], {" r0 "}\n\t"                                                                    \
  "add %[t], %[c], %[ldc]\n\t"                                                                   \
  "vstmia %[t], {" r1 "}\n\t"
// Four rows: a 4x4 block, a in s16-s19 and b in s20-s23, 22 instructions per 16 products.
FENNEC_M4_OUTER_STRIP(outer4x4, "s16-s19", "s20-s23", FENNEC_M4_OUTER,
                      FENNEC_M4_STORE_ROWS2("s0-s3", "s4-s7") FENNEC_M4_STORE_NEXT("s8-s11")
                          FENNEC_M4_STORE_NEXT("s12-s15"), "16")
// Rows outside the 4-row strips, two or one, in blocks of 8 columns: row r of the block in
// s(8 r)..s(8 r + 7), a in s16-s17, b in s18-s25. Two rows take 22 instructions per 16 products
// (as the 4x4 block), one 14 per 8: a 10-wide layer's dW leaves two.
#define FENNEC_M4_OUTER8_ROW0(op)                                                                \
  op " s0, s16, s18\n\t" op " s1, s16, s19\n\t" op " s2, s16, s20\n\t" op " s3, s16, s21\n\t"   \
  op " s4, s16, s22\n\t" op " s5, s16, s23\n\t" op " s6, s16, s24\n\t" op " s7, s16, s25\n\t"
#define FENNEC_M4_OUTER8_ROW1(op)                                                                \
  op " s8, s17, s18\n\t" op " s9, s17, s19\n\t" op " s10, s17, s20\n\t" op " s11, s17, s21\n\t" \
  op " s12, s17, s22\n\t" op " s13, s17, s23\n\t" op " s14, s17, s24\n\t" op " s15, s17, s25\n\t"
#define FENNEC_M4_OUTER8_ROWS2(op) FENNEC_M4_OUTER8_ROW0(op) FENNEC_M4_OUTER8_ROW1(op)
FENNEC_M4_OUTER_STRIP(outer2x8, "s16-s17", "s18-s25", FENNEC_M4_OUTER8_ROWS2, FENNEC_M4_STORE_ROWS2("s0-s7", "s8-s15"),
                      "32")
FENNEC_M4_OUTER_STRIP(outer1x8, "s16", "s18-s25", FENNEC_M4_OUTER8_ROW0, "vstmia %[c], {s0-s7}\n\t", "32")
#undef FENNEC_M4_OUTER8_ROWS2
#undef FENNEC_M4_OUTER8_ROW1
#undef FENNEC_M4_OUTER8_ROW0
#undef FENNEC_M4_STORE_ROWS2
#undef FENNEC_M4_STORE_NEXT
#undef FENNEC_M4_OUTER_STRIP
#undef FENNEC_M4_OUTER

// Batch 1 (k == 1, alpha 1, beta 0): C is the outer product a b^T. W columns of b stay in
// s16-s31 while the loop writes them, scaled by a[i], into row i of C: a[i] goes into s0, the
// products into s1.. and last into s0 itself, so 16 columns fit: 1 vldm + W vmul + 1 vstm + 3 per
// row (16 columns: 21 per 16 products), against 29 per 16 for a 4x4 block of one term with its
// set-up around every block. m >= 1; the stride is in bytes.
#define FENNEC_M4_RANK1(W, BREGS, CREGS, MULS)                                                   \
  FENNEC_M4_INLINE void rank1_rows##W(const float* a, const float* b, float* c, size_t ldc_bytes, size_t m) { \
    __asm__ volatile("vldmia %[b], {" BREGS "}\n\t"                                              \
                     "1:\n\t"                                                                    \
                     "vldmia %[a]!, {s0}\n\t" MULS "vmul.f32 s0, s0, s16\n\t"                    \
                     "vstmia %[c], {" CREGS "}\n\t"                                              \
                     "add %[c], %[c], %[ldc]\n\t"                                                 \
                     "subs %[m], %[m], #1\n\t"                                                    \
                     "bne 1b\n\t"                                                                 \
                     : [a] "+r"(a), [c] "+r"(c), [m] "+r"(m)                                     \
                     : [b] "r"(b), [ldc] "r"(ldc_bytes)                                          \
                     : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", \
                       "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", \
                       "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31"); \
  }
#define FENNEC_M4_MUL1(d, b) "vmul.f32 s" #d ", s0, s" #b "\n\t"
#define FENNEC_M4_MUL3(d0, d1, d2, b0, b1, b2) FENNEC_M4_MUL1(d0, b0) FENNEC_M4_MUL1(d1, b1) FENNEC_M4_MUL1(d2, b2)
#define FENNEC_M4_MUL4(d0, d1, d2, d3, b0, b1, b2, b3) FENNEC_M4_MUL3(d0, d1, d2, b0, b1, b2) FENNEC_M4_MUL1(d3, b3)
FENNEC_M4_RANK1(16, "s16-s31", "s0-s15",
                FENNEC_M4_MUL3(1, 2, 3, 17, 18, 19) FENNEC_M4_MUL4(4, 5, 6, 7, 20, 21, 22, 23)
                    FENNEC_M4_MUL4(8, 9, 10, 11, 24, 25, 26, 27) FENNEC_M4_MUL4(12, 13, 14, 15, 28, 29, 30, 31))
FENNEC_M4_RANK1(8, "s16-s23", "s0-s7",
                FENNEC_M4_MUL3(1, 2, 3, 17, 18, 19) FENNEC_M4_MUL4(4, 5, 6, 7, 20, 21, 22, 23))
FENNEC_M4_RANK1(4, "s16-s19", "s0-s3", FENNEC_M4_MUL3(1, 2, 3, 17, 18, 19))
#undef FENNEC_M4_MUL4
#undef FENNEC_M4_MUL3
#undef FENNEC_M4_MUL1
#undef FENNEC_M4_RANK1

// The kernel for the terms p.. of gemm_nn, and how many it takes: fives, then pairs, then one.
FENNEC_M4_INLINE AxpyFn axpy_for(size_t p, size_t k, bool first_writes, size_t& w) {
  w = k - p >= 5 ? 5 : k - p >= 2 ? 2 : 1;
  return w == 5 ? (p == 0 && first_writes ? axpy5_first : axpy5) : w == 2 ? axpy2 : axpy1;
}

// Every other case: a call a row, with its coefficients scaled by alpha, the columns past the
// multiple of 8 in C++, and whatever beta and the epilogue ask for. A function of its own,
// so that the common case skips its set-up.
__attribute__((noinline)) void nn_general(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const float alpha = g.alpha, beta = g.beta;
  const size_t blocks = n / 8, n8 = blocks * 8;
  AxpyShape shape{ldb * sizeof(float), lda * sizeof(float), ldc * sizeof(float), blocks, 1};
  // With beta == 0 and k >= 5, the first five terms write C's first n8 columns (not read).
  const bool first_writes = beta == 0.f && k >= 5 && blocks;
  if (beta != 1.f) {
    for (size_t i = 0; i < m; ++i) {
      float* c = g.c + i * ldc;
      if (beta == 0.f) {
        const size_t j0 = first_writes ? n8 : 0;
        if (j0 < n)  // (a library memset call per row otherwise, even for no bytes)
          for (size_t j = j0; j < n; ++j) c[j] = 0.f;
      } else {
        for (size_t j = 0; j < n; ++j) c[j] *= beta;
      }
    }
  }
  for (size_t p = 0, w; p < k; p += w) {
    const AxpyFn axpy = axpy_for(p, k, first_writes, w);
    const float* b = g.b + p * ldb;
    for (size_t i = 0; i < m; ++i) {
      const float* a = g.a + i * lda + p;
      float* c = g.c + i * ldc;
      float scaled[5];
      for (size_t r = 0; r < w; ++r) scaled[r] = alpha * a[r];
      if (blocks) axpy(c, b, scaled, shape);
      for (size_t j = n8; j < n; ++j) {
        float s = c[j];
        for (size_t r = 0; r < w; ++r) s += scaled[r] * b[r * ldb + j];
        c[j] = s;
      }
    }
  }
  if (g.bias || g.act.kind != Activation::kIdentity)
    for (size_t i = 0; i < m; ++i) row_epilogue(g.c + i * ldc, n, g.bias, g.act);
}

}  // namespace

void gemm_nn(const GemmArgs& g) {
  // The common case (dX: alpha 1, beta 0, whole blocks of C, no epilogue), each group of terms
  // over every row of C in one call; the first five terms write C (not read).
  if (g.alpha == 1.f && g.beta == 0.f && g.n % 8 == 0 && g.k >= 5 && g.m && g.n && !g.bias &&
      g.act.kind == Activation::kIdentity) {
    const AxpyShape shape{g.ldb * sizeof(float), g.lda * sizeof(float), g.ldc * sizeof(float), g.n / 8, g.m};
    axpy5_first(g.c, g.b, g.a, shape);
    for (size_t p = 5, w; p < g.k; p += w) axpy_for(p, g.k, false, w)(g.c, g.b + p * g.ldb, g.a + p, shape);
    return;
  }
  nn_general(g);
}

namespace {

// Everything but batch 1's outer product. A function of its own, so that batch 1 skips its set-up.
__attribute__((noinline)) void tn_blocks(const GemmArgs& g) {
  const size_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const float alpha = g.alpha, beta = g.beta;
  const bool plain = alpha == 1.f && beta == 0.f;
  // Strips of four rows of C in 4x4 blocks, then of two or one in blocks of 8 columns; the
  // columns past the blocks in C++.
  for (size_t i = 0, h; i < m; i += h) {
    h = m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
    const size_t w = h == 4 ? 4 : 8;
    const OuterStripFn outer = h == 4 ? outer4x4 : h == 2 ? outer2x8 : outer1x8;
    size_t j = 0;
    if (plain && k > 0 && n >= w) {
      outer(g.a + i, lda * sizeof(float), g.b, ldb * sizeof(float), k, g.c + i * ldc, ldc * sizeof(float), n / w);
      j = n / w * w;
    }
    for (; k > 0 && j + w <= n; j += w) {
      float* c = g.c + i * ldc + j;
      float acc[16];
      outer(g.a + i, lda * sizeof(float), g.b + j, ldb * sizeof(float), k, acc, w * sizeof(float), 1);
      for (size_t r = 0; r < h; ++r)
        for (size_t s = 0; s < w; ++s) c[r * ldc + s] = combine(alpha, beta, acc[w * r + s], c + r * ldc + s);
    }
    for (; j < n; ++j) {
      for (size_t r = 0; r < h; ++r) {
        float s = 0.f;
        for (size_t p = 0; p < k; ++p) s += g.a[p * lda + i + r] * g.b[p * ldb + j];
        float* c = g.c + (i + r) * ldc + j;
        *c = combine(alpha, beta, s, c);
      }
    }
  }
  if (g.bias || g.act.kind != Activation::kIdentity)  // dW has neither: no call per row
    for (size_t i = 0; i < m; ++i) row_epilogue(g.c + i * ldc, n, g.bias, g.act);
}

}  // namespace

void gemm_tn(const GemmArgs& g) {
  // Batch 1's dW (k == 1, alpha 1, beta 0, no epilogue): C is the outer product, in strips of
  // columns.
  if (g.k == 1 && g.alpha == 1.f && g.beta == 0.f && g.m && !g.bias && g.act.kind == Activation::kIdentity) {
    const size_t m = g.m, n = g.n, ldc = g.ldc;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) rank1_rows16(g.a, g.b + j, g.c + j, ldc * sizeof(float), m);
    if (j + 8 <= n) rank1_rows8(g.a, g.b + j, g.c + j, ldc * sizeof(float), m), j += 8;
    if (j + 4 <= n) rank1_rows4(g.a, g.b + j, g.c + j, ldc * sizeof(float), m), j += 4;
    for (; j < n; ++j)
      for (size_t r = 0; r < m; ++r) g.c[r * ldc + j] = g.a[r] * g.b[j];
    return;
  }
  tn_blocks(g);
}
#endif  // !FENNEC_INFERENCE_ONLY

}  // namespace fennec::kernels::cortex_m4
