// SPDX-License-Identifier: Apache-2.0
// The scalar body of quantize_s8 (QuantizeArgs, kernel_table.hpp): the reference, and the tails
// of the SIMD rows, so that every table writes the same bytes. Internal linkage: the per-arch
// translation units include this too, and must not share a weak copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.hpp"

namespace fennec::kernels {

// Round half away from zero of a float in [-512, 512], in two truncations: i = trunc(v) and the
// fraction v - i (exact: both lie in the same binade or below) doubled (exact) and truncated,
// which is +-1 exactly when |fraction| >= 0.5. The SIMD rows run the same steps on lanes.
static inline std::int32_t quantize_round(float v) {
  const std::int32_t i = static_cast<std::int32_t>(v);
  return i + static_cast<std::int32_t>((v - static_cast<float>(i)) * 2.f);
}

static inline std::int8_t quantize_one(float x, float inv_scale, std::int32_t zero_point) {
  // Both comparisons fail for NaN, which so takes -512:
  // converting a NaN to an integer would be undefined behaviour.
  float v = x * inv_scale;
  v = v >= -512.f ? (v <= 512.f ? v : 512.f) : -512.f;
  const std::int32_t q = zero_point + quantize_round(v);
  return static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

static inline bool is_non_finite_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u & 0x7f800000u) == 0x7f800000u;
}

// Columns [k0, cols) of row i; returns whether one of them is NaN or Inf.
static inline bool quantize_row_tail(const QuantizeArgs& a, std::size_t i, std::size_t k0) {
  const float* x = a.x + i * a.ldx;
  std::int8_t* y = a.y + i * a.ldy;
  bool bad = false;
  for (std::size_t k = k0; k < a.cols; ++k) {
    bad |= is_non_finite_bits(x[k]);
    y[k] = quantize_one(x[k], a.inv_scale, a.zero_point);
  }
  return bad;
}

static inline bool quantize_scalar(const QuantizeArgs& a) {
  bool bad = false;
  for (std::size_t i = 0; i < a.rows; ++i) bad |= quantize_row_tail(a, i, 0);
  return !bad;
}

}  // namespace fennec::kernels
