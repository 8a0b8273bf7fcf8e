// SPDX-License-Identifier: Apache-2.0
// The k loops of the AArch64 smull int8 tiles (qgemm_neon.hpp, builds without the dot-product
// extension), in assembly. Each 16 bytes of x and w: smull of the low halves and smlal2 of the
// high halves into 8 int16 lanes (each the exact sum of two products: the weights exclude -128),
// then sadalp into the 4 int32 lanes of the accumulator. GCC 12 kept these tiles' accumulators
// in the caller's array in memory (int8 loads may alias it), so it loaded and stored them around
// the steps: 0.29-0.30 instructions per MAC at the MLP's layers, where the loop needs 0.21-0.23.
//
// Both loops add `steps` steps to accumulators they load from acc and store back (int32x4_t in
// row-major tile order), so the caller's 16-byte steps and zero-padded tail continue from them.
// Registers v0-v29 are clobbered; nothing depends on what the compiler allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__aarch64__) && !defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

namespace fennec::kernels::simd::qdetail {

// Products of x (X0, X1 halves of 16 bytes) and w (W0, W1) into A, through the int16 temporaries
// T0, T1: two 16-byte vectors of k.
#define FENNEC_SMULL_PAIR(A, X0, X1, W0, W1, T0, T1) \
  "smull " T0 ".8h, " X0 ".8b, " W0 ".8b\n\t"          \
  "smull " T1 ".8h, " X1 ".8b, " W1 ".8b\n\t"          \
  "smlal2 " T0 ".8h, " X0 ".16b, " W0 ".16b\n\t"       \
  "smlal2 " T1 ".8h, " X1 ".16b, " W1 ".16b\n\t"       \
  "sadalp " A ".4s, " T0 ".8h\n\t"                     \
  "sadalp " A ".4s, " T1 ".8h\n\t"

// One unit of the GEMV tile: its 64 bytes of w (post-incremented) against x in v0-v3.
#define FENNEC_SMULL_UNIT(WP, A, W0, W1, W2, W3, T0, T1)                  \
  "ld1 {" W0 ".16b-" W3 ".16b}, [%[" WP "]], #64\n\t"                     \
  FENNEC_SMULL_PAIR(A, "v0", "v1", W0, W1, T0, T1) FENNEC_SMULL_PAIR(A, "v2", "v3", W2, W3, T0, T1)
#define FENNEC_SMULL_UNIT_EVEN(WP, A) FENNEC_SMULL_UNIT(WP, A, "v16", "v17", "v18", "v19", "v20", "v21")
#define FENNEC_SMULL_UNIT_ODD(WP, A) FENNEC_SMULL_UNIT(WP, A, "v24", "v25", "v26", "v27", "v28", "v29")

// acc[0 .. 8) += x by the 8 rows w[0 .. 8) over `steps` >= 1 steps of 64 bytes: per step one
// ld1 of 4 registers of x and one of each row, 96 multiply/accumulate instructions, the loop's
// 2: 107 per 512 MACs (0.209).
inline void smull_row_units8(std::size_t steps, const std::int8_t* x, const std::int8_t* const* w, int32x4_t* acc) {
  const std::int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3], *w4 = w[4], *w5 = w[5], *w6 = w[6], *w7 = w[7];
  __asm__ volatile(
      "ldp q8, q9, [%[acc]]\n\t"
      "ldp q10, q11, [%[acc], #32]\n\t"
      "ldp q12, q13, [%[acc], #64]\n\t"
      "ldp q14, q15, [%[acc], #96]\n\t"
      "1:\n\t"
      "ld1 {v0.16b-v3.16b}, [%[x]], #64\n\t"
      FENNEC_SMULL_UNIT_EVEN("w0", "v8") FENNEC_SMULL_UNIT_ODD("w1", "v9")
      FENNEC_SMULL_UNIT_EVEN("w2", "v10") FENNEC_SMULL_UNIT_ODD("w3", "v11")
      FENNEC_SMULL_UNIT_EVEN("w4", "v12") FENNEC_SMULL_UNIT_ODD("w5", "v13")
      FENNEC_SMULL_UNIT_EVEN("w6", "v14") FENNEC_SMULL_UNIT_ODD("w7", "v15")
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      "stp q8, q9, [%[acc]]\n\t"
      "stp q10, q11, [%[acc], #32]\n\t"
      "stp q12, q13, [%[acc], #64]\n\t"
      "stp q14, q15, [%[acc], #96]\n\t"
      : [n] "+r"(steps), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3), [w4] "+r"(w4),
        [w5] "+r"(w5), [w6] "+r"(w6), [w7] "+r"(w7)
      : [acc] "r"(acc)
      : "cc", "memory", "v0", "v1", "v2", "v3", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17",
        "v18", "v19", "v20", "v21", "v24", "v25", "v26", "v27", "v28", "v29");
}

// Row R (x in vR) by the 4 units (w in v4-v7) of the GEMM tile into v[8 + 4R .. 8 + 4R + 3].
#define FENNEC_SMULL_ROW(X, A0, A1, A2, A3)                                                        \
  "smull v24.8h, " X ".8b, v4.8b\n\t"                                                             \
  "smull v25.8h, " X ".8b, v5.8b\n\t"                                                             \
  "smull v26.8h, " X ".8b, v6.8b\n\t"                                                             \
  "smull v27.8h, " X ".8b, v7.8b\n\t"                                                             \
  "smlal2 v24.8h, " X ".16b, v4.16b\n\t"                                                          \
  "smlal2 v25.8h, " X ".16b, v5.16b\n\t"                                                          \
  "smlal2 v26.8h, " X ".16b, v6.16b\n\t"                                                          \
  "smlal2 v27.8h, " X ".16b, v7.16b\n\t"                                                          \
  "sadalp " A0 ".4s, v24.8h\n\t"                                                                  \
  "sadalp " A1 ".4s, v25.8h\n\t"                                                                  \
  "sadalp " A2 ".4s, v26.8h\n\t"                                                                  \
  "sadalp " A3 ".4s, v27.8h\n\t"

// acc[0 .. 16) (row-major 4 x 4) += rows x[0 .. 4) by rows w[0 .. 4) over `steps` >= 1 steps of
// 16 bytes: 8 loads, 48 multiply/accumulate instructions and the loop's 2: 58 per 256 MACs
// (0.227).
inline void smull_rows4_units4(std::size_t steps, const std::int8_t* const* x, const std::int8_t* const* w,
                               int32x4_t* acc) {
  const std::int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  const std::int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  int32x4_t* a = acc;
  __asm__ volatile(
      "ld1 {v8.4s-v11.4s}, [%[a]], #64\n\t"
      "ld1 {v12.4s-v15.4s}, [%[a]], #64\n\t"
      "ld1 {v16.4s-v19.4s}, [%[a]], #64\n\t"
      "ld1 {v20.4s-v23.4s}, [%[a]]\n\t"
      "1:\n\t"
      "ldr q0, [%[x0]], #16\n\t"
      "ldr q1, [%[x1]], #16\n\t"
      "ldr q2, [%[x2]], #16\n\t"
      "ldr q3, [%[x3]], #16\n\t"
      "ldr q4, [%[w0]], #16\n\t"
      "ldr q5, [%[w1]], #16\n\t"
      "ldr q6, [%[w2]], #16\n\t"
      "ldr q7, [%[w3]], #16\n\t"
      FENNEC_SMULL_ROW("v0", "v8", "v9", "v10", "v11") FENNEC_SMULL_ROW("v1", "v12", "v13", "v14", "v15")
      FENNEC_SMULL_ROW("v2", "v16", "v17", "v18", "v19") FENNEC_SMULL_ROW("v3", "v20", "v21", "v22", "v23")
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      "st1 {v8.4s-v11.4s}, [%[acc]], #64\n\t"
      "st1 {v12.4s-v15.4s}, [%[acc]], #64\n\t"
      "st1 {v16.4s-v19.4s}, [%[acc]], #64\n\t"
      "st1 {v20.4s-v23.4s}, [%[acc]]\n\t"
      : [n] "+r"(steps), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w0] "+r"(w0), [w1] "+r"(w1),
        [w2] "+r"(w2), [w3] "+r"(w3), [a] "+r"(a), [acc] "+r"(acc)
      :
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
        "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27");
}

#undef FENNEC_SMULL_ROW
#undef FENNEC_SMULL_UNIT_ODD
#undef FENNEC_SMULL_UNIT_EVEN
#undef FENNEC_SMULL_UNIT
#undef FENNEC_SMULL_PAIR

}  // namespace fennec::kernels::simd::qdetail

#endif
