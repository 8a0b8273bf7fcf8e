// SPDX-License-Identifier: Apache-2.0
// The ARMv7 NEON Adam/AdamW update without weight decay, two batches (8 floats) a trip, in
// assembly. Included by optim_impl.hpp on 32-bit ARM only.
//
// Why assembly: the update needs 9 constants, and the C++ loop (one batch a trip, pointers
// post-incremented) already fills the 16 q registers at 34 instructions per 4 floats. Reading
// two batches per vld1.32 {d-d} (8 floats of a stream in one instruction) or unrolling twice
// made GCC 12 interleave the batches and spill (45 and 65 per 4 floats). Here the 5 constants
// that only multiply are lanes of d0-d2 (vmul by scalar is the same rounded product as by a
// vector), which leaves room for both batches: 57 instructions per 8 floats (4 loads, 3 stores,
// 48 arithmetic, 2 for the loop) instead of 66; without VFPv4's vfma, 61 instead of 70.
//
// The arithmetic is optim_batch's, operation for operation and in its order (so the results are
// the C++ loop's bits): s1 = fma(b1, s1, (1-b1) g); s2 = fma(b2, s2, (1-b2) (g g));
// w -= (lr (s1 ibc1)) * recip(sqrt(s2 ibc2) + eps), with vector_sqrt's sequence (the vmax against
// FLT_MIN) and xsimd's reciprocal (vrecpe and two vrecps steps).
#pragma once

#include <cstddef>

#include "kernels/arch_traits.hpp"

namespace fennec::kernels::simd {

// d += n * m as xsimd::fma makes it: one vfma with VFPv4, else (Cortex-A8/A9) a vmul and a vadd,
// each rounded; that form overwrites m, which every use below no longer needs.
#if defined(__ARM_FEATURE_FMA)
#define FENNEC_NEON32_FMA(d, n, m) "vfma.f32 " d ", " n ", " m "\n\t"
#else
#define FENNEC_NEON32_FMA(d, n, m) "vmul.f32 " m ", " n ", " m "\n\t" "vadd.f32 " d ", " d ", " m "\n\t"
#endif

// pairs trips over w, g, s1, s2 (8 floats each a trip). k = {lr, 1-b1, 1-b2, ibc1, ibc2, b1, b2, eps}.
template <class Arch>
FENNEC_SIMD_INLINE void neon32_adam_pairs(Arch, std::size_t pairs, float* w, const float* g, float* s1, float* s2,
                                          const float* k) {
  if (pairs == 0) return;
  // q0: d0 = {lr, 1-b1}, d1 = {1-b2, ibc1}; d2 = {ibc2, b1}, d3 = {b2, eps}.
  // q12 = b1, q13 = b2, q14 = eps, q15 = FLT_MIN (0x00800000).
  // Per trip: q2-q3 g, q4-q5 s1 then s2, q6-q7 s2, q8-q9 w, q10-q11 s1 then the update term.
  __asm__ volatile(
      "vld1.32 {d0-d3}, [%[k]]\n\t"
      "vdup.32 q12, d2[1]\n\t"
      "vdup.32 q13, d3[0]\n\t"
      "vdup.32 q14, d3[1]\n\t"
      "vmov.i32 q15, #0x00800000\n\t"
      "1:\n\t"
      "vld1.32 {d4-d7}, [%[g]]!\n\t"
      "vld1.32 {d8-d11}, [%[s1]]\n\t"
      "vld1.32 {d12-d15}, [%[s2]]\n\t"
      "vld1.32 {d16-d19}, [%[w]]\n\t"
      // s1 = fma(b1, s1, (1-b1) g), stored; then lr * (s1 ibc1).
      "vmul.f32 q10, q2, d0[1]\n\t"
      "vmul.f32 q11, q3, d0[1]\n\t"
      FENNEC_NEON32_FMA("q10", "q12", "q4")
      FENNEC_NEON32_FMA("q11", "q12", "q5")
      "vst1.32 {d20-d23}, [%[s1]]!\n\t"
      "vmul.f32 q10, q10, d1[1]\n\t"
      "vmul.f32 q11, q11, d1[1]\n\t"
      "vmul.f32 q10, q10, d0[0]\n\t"
      "vmul.f32 q11, q11, d0[0]\n\t"
      // s2 = fma(b2, s2, (1-b2) (g g)), stored; then s2 ibc2.
      "vmul.f32 q4, q2, q2\n\t"
      "vmul.f32 q5, q3, q3\n\t"
      "vmul.f32 q4, q4, d1[0]\n\t"
      "vmul.f32 q5, q5, d1[0]\n\t"
      FENNEC_NEON32_FMA("q4", "q13", "q6")
      FENNEC_NEON32_FMA("q5", "q13", "q7")
      "vst1.32 {d8-d11}, [%[s2]]!\n\t"
      "vmul.f32 q4, q4, d2[0]\n\t"
      "vmul.f32 q5, q5, d2[0]\n\t"
      // Batch 0: sqrt (vector_sqrt), + eps, reciprocal, the update term into q10.
      "vmax.f32 q2, q4, q15\n\t"
      "vrsqrte.f32 q3, q2\n\t"
      "vmul.f32 q6, q2, q3\n\t"
      "vrsqrts.f32 q6, q6, q3\n\t"
      "vmul.f32 q3, q3, q6\n\t"
      "vmul.f32 q6, q4, q3\n\t"
      "vrsqrts.f32 q3, q6, q3\n\t"
      "vmul.f32 q4, q6, q3\n\t"
      "vadd.f32 q4, q4, q14\n\t"
      "vrecpe.f32 q2, q4\n\t"
      "vrecps.f32 q3, q4, q2\n\t"
      "vmul.f32 q2, q3, q2\n\t"
      "vrecps.f32 q3, q4, q2\n\t"
      "vmul.f32 q2, q3, q2\n\t"
      "vmul.f32 q10, q10, q2\n\t"
      // Batch 1, the same into q11.
      "vmax.f32 q2, q5, q15\n\t"
      "vrsqrte.f32 q3, q2\n\t"
      "vmul.f32 q6, q2, q3\n\t"
      "vrsqrts.f32 q6, q6, q3\n\t"
      "vmul.f32 q3, q3, q6\n\t"
      "vmul.f32 q6, q5, q3\n\t"
      "vrsqrts.f32 q3, q6, q3\n\t"
      "vmul.f32 q5, q6, q3\n\t"
      "vadd.f32 q5, q5, q14\n\t"
      "vrecpe.f32 q2, q5\n\t"
      "vrecps.f32 q3, q5, q2\n\t"
      "vmul.f32 q2, q3, q2\n\t"
      "vrecps.f32 q3, q5, q2\n\t"
      "vmul.f32 q2, q3, q2\n\t"
      "vmul.f32 q11, q11, q2\n\t"
      "vsub.f32 q8, q8, q10\n\t"
      "vsub.f32 q9, q9, q11\n\t"
      "vst1.32 {d16-d19}, [%[w]]!\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [w] "+r"(w), [g] "+r"(g), [s1] "+r"(s1), [s2] "+r"(s2), [n] "+r"(pairs)
      : [k] "r"(k)
      : "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13",
        "d14", "d15", "d16", "d17", "d18", "d19", "d20", "d21", "d22", "d23", "d24", "d25", "d26", "d27", "d28",
        "d29", "d30", "d31");
}
#undef FENNEC_NEON32_FMA

}  // namespace fennec::kernels::simd
