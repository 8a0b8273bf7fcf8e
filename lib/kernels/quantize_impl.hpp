// SPDX-License-Identifier: Apache-2.0
// xsimd body of quantize_s8 (QuantizeArgs, kernel_table.hpp), templated on Arch: the scalar
// steps of quantize_scalar.hpp on L lanes, so every table writes the reference's bytes. The
// product, the clamps and both truncations are exact lane operations (no compare: ARMv7 NEON
// compiles float compares to scalar VFP); the finiteness test reads the exponent bits as integers,
// fused into the same pass so the input is read once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.hpp"
#include "kernels/quantize_scalar.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd {

struct quantize_s8 {
  template <class Arch>
  bool operator()(Arch, const QuantizeArgs& a) const;
};

template <class Arch>
bool quantize_s8::operator()(Arch, const QuantizeArgs& a) const {
  using V = Vf<Arch>;
  using VI = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V inv(a.inv_scale), hi(512.f), lo(-512.f), two(2.f), qhi(127.f), qlo(-128.f);
  const V zero_point(static_cast<float>(a.zero_point));
  const VI exponent(0x7f800000);
  auto bad = VI(0) != VI(0);
  bool tail_bad = false;
  for (std::size_t i = 0; i < a.rows; ++i) {
    const float* x = a.x + i * a.ldx;
    std::int8_t* y = a.y + i * a.ldy;
    std::size_t k = 0;
    for (; k + L <= a.cols; k += L) {
      const V xv = V::load_unaligned(x + k);
      bad = bad | ((xsimd::bitwise_cast<VI>(xv) & exponent) == exponent);
      const V v = xsimd::min(xsimd::max(xv * inv, lo), hi);
      const VI t = xsimd::to_int(v);
      const VI r = t + xsimd::to_int((v - xsimd::to_float(t)) * two);
      // zero_point + r lies in [-640, 639], exact in float; the clamp there is min/max.
      const VI q = xsimd::to_int(xsimd::min(xsimd::max(xsimd::to_float(r) + zero_point, qlo), qhi));
      alignas(64) std::int32_t lanes[L];
      q.store_aligned(lanes);
      for (std::size_t l = 0; l < L; ++l) y[k + l] = static_cast<std::int8_t>(lanes[l]);
    }
    tail_bad |= quantize_row_tail(a, i, k);
  }
  return !(xsimd::any(bad) || tail_bad);
}

}  // namespace fennec::kernels::simd
