// SPDX-License-Identifier: Apache-2.0
// The k loops of the packed sdot GEMMs (qgemm_neon.hpp, AArch64 dot-product builds only), in
// assembly. Written with intrinsics, GCC 12 loaded all four groups of a step ahead (16 vectors
// of w beside 16 accumulators), spilled, and stored every accumulator back to the stack once a
// step: 0.110 instructions per MAC at 784-512 batch 64 where the loop needs 0.072. Here each
// 16-byte step of k is exactly: one load of x per row, one ld1 of four registers per 4-byte
// group of each panel (post-incremented), 64 sdot by element, and the loop's subs + b.ne.
// Two sets of w registers alternate, so each load is issued a block of sdot before its use.
//
// Registers: accumulators v0-v15, x v16-v19, w v20-v23 and v24-v27, all clobbered, so nothing
// depends on what the compiler allocates. Each loop loads its accumulators from acc (4 int32
// per accumulator, in accumulator order: row-major over rows x units), adds `steps` steps and
// stores them back, so a caller can run the last partial step over zero-padded copies.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)

namespace fennec::kernels::simd::qdetail {

// acc.4s += each unit's 4 bytes in w.16b times the 4 bytes of x in lane `lane`.
#define FENNEC_SDOT(acc, w, x, lane) "sdot " acc ".4s, " w ".16b, " x ".4b[" lane "]\n\t"
// Four accumulators (16 consecutive units) by the four vectors of one group of a panel.
#define FENNEC_SDOT_QUADS(a0, a1, a2, a3, w0, w1, w2, w3, x, lane) \
  FENNEC_SDOT(a0, w0, x, lane) FENNEC_SDOT(a1, w1, x, lane) FENNEC_SDOT(a2, w2, x, lane) FENNEC_SDOT(a3, w3, x, lane)
#define FENNEC_SDOT_LOAD16                           \
  "ld1 {v0.4s-v3.4s}, [%[acc]], #64\n\t"             \
  "ld1 {v4.4s-v7.4s}, [%[acc]], #64\n\t"             \
  "ld1 {v8.4s-v11.4s}, [%[acc]], #64\n\t"            \
  "ld1 {v12.4s-v15.4s}, [%[acc]]\n\t"                \
  "sub %[acc], %[acc], #192\n\t"
#define FENNEC_SDOT_STORE16                          \
  "st1 {v0.4s-v3.4s}, [%[acc]], #64\n\t"             \
  "st1 {v4.4s-v7.4s}, [%[acc]], #64\n\t"             \
  "st1 {v8.4s-v11.4s}, [%[acc]], #64\n\t"            \
  "st1 {v12.4s-v15.4s}, [%[acc]]\n\t"
#define FENNEC_SDOT_CLOBBERS                                                                                       \
  "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", \
      "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27"

// Four rows of x (accumulators v[4r .. 4r + 3] for row r) by one 16-unit panel: the GEMM tile.
#define FENNEC_SDOT_ROWS4(w0, w1, w2, w3, lane)                                  \
  FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", w0, w1, w2, w3, "v16", lane)         \
  FENNEC_SDOT_QUADS("v4", "v5", "v6", "v7", w0, w1, w2, w3, "v17", lane)         \
  FENNEC_SDOT_QUADS("v8", "v9", "v10", "v11", w0, w1, w2, w3, "v18", lane)       \
  FENNEC_SDOT_QUADS("v12", "v13", "v14", "v15", w0, w1, w2, w3, "v19", lane)

// acc (64 int32) += rows x0 .. x3 by the panel at w over `steps` >= 1 16-byte steps of k
// (x's advance 16 bytes and w 256 bytes a step): the GEMM tile.
inline void sdot_rows4_panel(std::size_t steps, const std::int8_t* x0, const std::int8_t* x1, const std::int8_t* x2,
                             const std::int8_t* x3, const std::int8_t* w, std::int32_t* acc) {
  __asm__ volatile(FENNEC_SDOT_LOAD16
                   "1:\n\t"
                   "ldr q16, [%[x0]], #16\n\t"
                   "ldr q17, [%[x1]], #16\n\t"
                   "ldr q18, [%[x2]], #16\n\t"
                   "ldr q19, [%[x3]], #16\n\t"
                   "ld1 {v20.16b-v23.16b}, [%[w]], #64\n\t"
                   "ld1 {v24.16b-v27.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_ROWS4("v20", "v21", "v22", "v23", "0")
                   "ld1 {v20.16b-v23.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_ROWS4("v24", "v25", "v26", "v27", "1")
                   "ld1 {v24.16b-v27.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_ROWS4("v20", "v21", "v22", "v23", "2")
                   FENNEC_SDOT_ROWS4("v24", "v25", "v26", "v27", "3")
                   "subs %[n], %[n], #1\n\t"
                   "b.ne 1b\n\t"
                   FENNEC_SDOT_STORE16
                   : [n] "+r"(steps), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w] "+r"(w),
                     [acc] "+r"(acc)
                   :
                   : FENNEC_SDOT_CLOBBERS);
}

// One group (lane) of four panels for one row of x in v16: panel v's accumulators v[4v .. 4v + 3].
#define FENNEC_SDOT_PANELS4(lane)                                                    \
  "ld1 {v20.16b-v23.16b}, [%[w0]], #64\n\t"                                          \
  "ld1 {v24.16b-v27.16b}, [%[w1]], #64\n\t"                                          \
  FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", "v20", "v21", "v22", "v23", "v16", lane) \
  "ld1 {v20.16b-v23.16b}, [%[w2]], #64\n\t"                                          \
  FENNEC_SDOT_QUADS("v4", "v5", "v6", "v7", "v24", "v25", "v26", "v27", "v16", lane) \
  "ld1 {v24.16b-v27.16b}, [%[w3]], #64\n\t"                                          \
  FENNEC_SDOT_QUADS("v8", "v9", "v10", "v11", "v20", "v21", "v22", "v23", "v16", lane) \
  FENNEC_SDOT_QUADS("v12", "v13", "v14", "v15", "v24", "v25", "v26", "v27", "v16", lane)

// acc (64 int32) += row x by the four panels at w0 .. w3 over `steps` >= 1 steps: the GEMV tile.
inline void sdot_row_panels4(std::size_t steps, const std::int8_t* x, const std::int8_t* w0, const std::int8_t* w1,
                             const std::int8_t* w2, const std::int8_t* w3, std::int32_t* acc) {
  __asm__ volatile(FENNEC_SDOT_LOAD16
                   "1:\n\t"
                   "ldr q16, [%[x]], #16\n\t"
                   FENNEC_SDOT_PANELS4("0") FENNEC_SDOT_PANELS4("1") FENNEC_SDOT_PANELS4("2") FENNEC_SDOT_PANELS4("3")
                   "subs %[n], %[n], #1\n\t"
                   "b.ne 1b\n\t"
                   FENNEC_SDOT_STORE16
                   : [n] "+r"(steps), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3),
                     [acc] "+r"(acc)
                   :
                   : FENNEC_SDOT_CLOBBERS);
}

// acc (16 int32) += row x by the panel at w over `steps` >= 1 steps: the rows a 4-row tile
// leaves, and the GEMV's panels outside its blocks of four. Accumulators v0-v3.
inline void sdot_row_panel(std::size_t steps, const std::int8_t* x, const std::int8_t* w, std::int32_t* acc) {
  __asm__ volatile("ld1 {v0.4s-v3.4s}, [%[acc]]\n\t"
                   "1:\n\t"
                   "ldr q16, [%[x]], #16\n\t"
                   "ld1 {v20.16b-v23.16b}, [%[w]], #64\n\t"
                   "ld1 {v24.16b-v27.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", "v20", "v21", "v22", "v23", "v16", "0")
                   "ld1 {v20.16b-v23.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", "v24", "v25", "v26", "v27", "v16", "1")
                   "ld1 {v24.16b-v27.16b}, [%[w]], #64\n\t"
                   FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", "v20", "v21", "v22", "v23", "v16", "2")
                   FENNEC_SDOT_QUADS("v0", "v1", "v2", "v3", "v24", "v25", "v26", "v27", "v16", "3")
                   "subs %[n], %[n], #1\n\t"
                   "b.ne 1b\n\t"
                   "st1 {v0.4s-v3.4s}, [%[acc]]\n\t"
                   : [n] "+r"(steps), [x] "+r"(x), [w] "+r"(w)
                   : [acc] "r"(acc)
                   : "cc", "memory", "v0", "v1", "v2", "v3", "v16", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27");
}

#undef FENNEC_SDOT_PANELS4
#undef FENNEC_SDOT_ROWS4
#undef FENNEC_SDOT_CLOBBERS
#undef FENNEC_SDOT_STORE16
#undef FENNEC_SDOT_LOAD16
#undef FENNEC_SDOT_QUADS
#undef FENNEC_SDOT

}  // namespace fennec::kernels::simd::qdetail

#endif
