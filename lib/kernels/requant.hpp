// SPDX-License-Identifier: Apache-2.0
// The integer epilogue of the int8 GEMMs (QGemmArgs, kernel_table.hpp), shared by the reference
// and every SIMD table so that their outputs are the same bits: the SIMD tables vectorize the dot
// products, and every table finishes each int32 accumulator with these functions. Internal
// linkage: the per-arch translation units include this too, and must not share a weak copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.hpp"

namespace fennec::kernels {

// The right shift below must be arithmetic (floor); C++17 leaves it to the implementation, and
// every compiler Fennec supports does this.
static_assert((-3 >> 1) == -2, "arithmetic right shift of negative integers required");

// (acc * mult + 2^(shift-1)) >> shift in int64: round half towards +infinity. |acc * mult| <
// 2^62 and shift in [1, 62], so nothing overflows; the result may exceed int32 (small shifts).
static inline std::int64_t requantize(std::int32_t acc, std::int32_t mult, std::int32_t shift) {
  const std::int64_t p = static_cast<std::int64_t>(acc) * mult + (std::int64_t{1} << (shift - 1));
  return p >> shift;
}

// Output j of row i from its exact accumulator (bias already added).
static inline void qgemm_store(const QGemmArgs& g, std::size_t i, std::size_t j, std::int32_t acc) {
  if (g.yf) {
    g.yf[i * g.ldyf + j] = static_cast<float>(acc) * (acc >= 0 ? g.deq[j] : g.deq_neg[j]);
    return;
  }
  const std::int64_t r = acc >= 0 ? requantize(acc, g.mult[j], g.shift[j]) : requantize(acc, g.mult_neg[j], g.shift_neg[j]);
  // The zero point is in [-128, 127]: beyond +-255 the clamp below decides alone.
  const std::int32_t rc = static_cast<std::int32_t>(r > 255 ? 255 : (r < -255 ? -255 : r));
  std::int32_t q = g.out_zero_point + rc;
  q = q < g.out_lo ? g.out_lo : q;
  q = q > 127 ? 127 : q;
  g.y[i * g.ldy + j] = static_cast<std::int8_t>(q);
}

// The whole GEMM as plain loops: the reference, and the tables without an int8 dot product.
static inline void qgemm_scalar(const QGemmArgs& g) {
  for (std::size_t i = 0; i < g.m; ++i) {
    const std::int8_t* x = g.x + i * g.ldx;
    for (std::size_t j = 0; j < g.n; ++j) {
      const std::int8_t* w = g.w + j * g.ldw;
      std::int32_t acc = g.bias[j];
      for (std::size_t p = 0; p < g.k; ++p) acc += static_cast<std::int32_t>(w[p]) * x[p];
      qgemm_store(g, i, j, acc);
    }
  }
}

}  // namespace fennec::kernels
