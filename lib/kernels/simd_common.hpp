// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the xsimd kernel bodies (*_impl.hpp).
//
// Included only by per-arch translation units (lib/arch/*), which are compiled with that arch's
// -m flags. Everything here is therefore a template on Arch (so its symbols are mangled with the
// arch and cannot be merged with another arch's copy by the linker) and force-inlined. Nothing
// here may call a non-template inline function (std::min, std::exp(float), ...): the linker
// could keep this TU's AVX copy for a baseline caller (it keeps one copy of a weak symbol,
// whichever object that copy comes from).
#pragma once

#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "fennec/activation.hpp"
#include "kernels/arch_traits.hpp"

namespace fennec::kernels::simd {

template <class Arch>
using Vf = xsimd::batch<float, Arch>;

template <class Arch>
inline constexpr std::size_t kLanes = Vf<Arch>::size;

// Loads the first n (< lanes) floats at p, the other lanes set to `fill`. Never reads past p+n.
template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> load_partial(Arch, const float* p, std::size_t n, float fill) {
  alignas(64) float buf[kLanes<Arch>];
  for (std::size_t i = 0; i < kLanes<Arch>; ++i) buf[i] = i < n ? p[i] : fill;
  return Vf<Arch>::load_aligned(buf);
}

// Stores the first n (< lanes) lanes of v at p. Never writes past p+n.
template <class Arch>
FENNEC_SIMD_INLINE void store_partial(Arch, float* p, const Vf<Arch>& v, std::size_t n) {
  alignas(64) float buf[kLanes<Arch>];
  v.store_aligned(buf);
  for (std::size_t i = 0; i < n; ++i) p[i] = buf[i];
}

#if defined(__arm__) && defined(__ARM_NEON)
// Two batches, the 8 floats at p, in one vld1.32 {dN-dN+3}; p steps past them. ARMv7's NEON
// loads take no immediate offset, so GCC addresses the second of two vld1q_f32 with an add, and
// GCC 12's 32-bit arm_neon.h has no vld1q_f32_x2: hence the asm. The memory operand tells GCC
// which floats are read, so the asm needs no memory clobber and can be scheduled.
template <class Arch>
FENNEC_SIMD_INLINE void neon32_load_pair(Arch, const float*& p, Vf<Arch>& a, Vf<Arch>& b) {
  float32x4x2_t v;
  __asm__("vld1.32 %h0, [%1]!" : "=w"(v), "+r"(p) : "m"(*reinterpret_cast<const float(*)[8]>(p)));
  a = v.val[0];
  b = v.val[1];
}

// Stores a then b at p in one vst1.32 {dN-dN+3}; p steps past them.
template <class Arch>
FENNEC_SIMD_INLINE void neon32_store_pair(Arch, float*& p, const Vf<Arch>& a, const Vf<Arch>& b) {
  const float32x4x2_t v = {{a, b}};
  __asm__("vst1.32 %h2, [%0]!" : "+r"(p), "=m"(*reinterpret_cast<float(*)[8]>(p)) : "w"(v));
}
#endif

// x < y per lane (false when either is NaN), the comparison clamp_f32 selects by. ARMv7 makes
// it in integer lanes (arch_traits.hpp says why).
template <class Arch>
FENNEC_SIMD_INLINE xsimd::batch_bool<float, Arch> less_than(Arch arch, const Vf<Arch>& x, const Vf<Arch>& y) {
  if constexpr (ArchTraits<Arch>::kNeon32) {
    return neon32_less_than(arch, x, y);
  } else {
    (void)arch;
    return x < y;
  }
}

// x > 0 per lane (false for NaN and both zeros), the comparison ReLU and LeakyReLU branch on.
// ARMv7 makes it in integer lanes (arch_traits.hpp says why).
template <class Arch>
FENNEC_SIMD_INLINE xsimd::batch_bool<float, Arch> greater_than_zero(Arch arch, const Vf<Arch>& x) {
  if constexpr (ArchTraits<Arch>::kNeon32) {
    return neon32_greater_than_zero(arch, x);
  } else {
    (void)arch;
    return x > Vf<Arch>(0.f);
  }
}

// Activation and derivative on a batch; Kind is an Activation value so the choice is made once,
// outside the loops. Same formulas as fennec::activate / activation_derivative_from_output.
template <int Kind, class Arch>
FENNEC_SIMD_INLINE Vf<Arch> act_fwd([[maybe_unused]] Arch arch, const Vf<Arch>& x, const Vf<Arch>& alpha) {
  using V = Vf<Arch>;
  constexpr auto kind = static_cast<Activation>(Kind);
  if constexpr (kind == Activation::kSigmoid) {
    // 1/(1+e^-x): e^-x overflows to +inf for x < -88, giving exactly 0 as the reference does.
    // On ARM xsimd's division is a Newton-refined reciprocal (~1 ulp); the kernel tests bound it.
    const V one(1.f);
    return one / (one + xsimd::exp(-x));
  } else if constexpr (kind == Activation::kTanh) {
    return xsimd::tanh(x);
  } else if constexpr (kind == Activation::kRelu) {
    return xsimd::select(greater_than_zero(arch, x), x, V(0.f));
  } else if constexpr (kind == Activation::kLeakyRelu) {
    return xsimd::select(greater_than_zero(arch, x), x, x * alpha);
  } else {
    (void)alpha;
    return x;
  }
}

// dy * act'(y), with act' expressed through the stored output y.
template <int Kind, class Arch>
FENNEC_SIMD_INLINE Vf<Arch> act_bwd([[maybe_unused]] Arch arch, const Vf<Arch>& y, const Vf<Arch>& dy, const Vf<Arch>& alpha) {
  using V = Vf<Arch>;
  constexpr auto kind = static_cast<Activation>(Kind);
  if constexpr (kind == Activation::kSigmoid) {
    return dy * (y * (V(1.f) - y));
  } else if constexpr (kind == Activation::kTanh) {
    return dy * (V(1.f) - y * y);
  } else if constexpr (kind == Activation::kRelu) {
    return xsimd::select(greater_than_zero(arch, y), dy, V(0.f));
  } else if constexpr (kind == Activation::kLeakyRelu) {
    return xsimd::select(greater_than_zero(arch, y), dy, dy * alpha);
  } else {
    (void)y;
    (void)alpha;
    return dy;
  }
}

// Calls f(std::integral_constant<int, Kind>) for the runtime activation kind.
template <class Arch, class F>
FENNEC_SIMD_INLINE void with_activation(Arch, Activation kind, F&& f) {
  switch (kind) {
    case Activation::kSigmoid:
      f(std::integral_constant<int, static_cast<int>(Activation::kSigmoid)>{});
      break;
    case Activation::kTanh:
      f(std::integral_constant<int, static_cast<int>(Activation::kTanh)>{});
      break;
    case Activation::kRelu:
      f(std::integral_constant<int, static_cast<int>(Activation::kRelu)>{});
      break;
    case Activation::kLeakyRelu:
      f(std::integral_constant<int, static_cast<int>(Activation::kLeakyRelu)>{});
      break;
    case Activation::kIdentity:
    default:
      f(std::integral_constant<int, static_cast<int>(Activation::kIdentity)>{});
      break;
  }
}

template <class Arch>
FENNEC_SIMD_INLINE std::size_t min_size(Arch, std::size_t a, std::size_t b) {
  return a < b ? a : b;
}

}  // namespace fennec::kernels::simd
