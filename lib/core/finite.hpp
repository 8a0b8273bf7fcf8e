// SPDX-License-Identifier: Apache-2.0
// Finite checks that survive -ffast-math: they test the exponent bits instead of relying on
// isnan/isfinite, which -ffinite-math-only may fold to constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fennec::detail {

inline bool is_finite_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  return (u & 0x7f800000u) != 0x7f800000u;
}

inline bool is_finite_bits(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof(u));
  return (u & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
}

// Index of the first non-finite element of a (rows x cols, stride) matrix, or rows*cols if none.
inline std::size_t first_non_finite(const float* data, std::size_t rows, std::size_t cols,
                                    std::size_t stride) {
  for (std::size_t i = 0; i < rows; ++i) {
    const float* r = data + i * stride;
    std::uint32_t bad = 0;
    // Branch-free scan of the row; locate the element only when the row has one.
    for (std::size_t j = 0; j < cols; ++j) {
      std::uint32_t u;
      std::memcpy(&u, r + j, sizeof(u));
      bad |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
    if (bad)
      for (std::size_t j = 0; j < cols; ++j)
        if (!is_finite_bits(r[j])) return i * cols + j;
  }
  return rows * cols;
}

}  // namespace fennec::detail
