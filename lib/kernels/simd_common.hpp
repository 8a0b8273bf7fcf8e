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
#include <cstdint>
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

#if defined(__ARM_NEON)
// c + a * b: fused on AArch64 and VFPv4 cores, rounded twice (vmla) on the older ARMv7 ones.
template <class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_mul_add(Arch, float32x4_t c, float32x4_t a, float32x4_t b) {
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
  return vfmaq_f32(c, a, b);
#else
  return vmlaq_f32(c, a, b);
#endif
}

// 1 / d: one instruction on AArch64; on ARMv7 the estimate and two Newton steps (~1 ulp).
template <class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_reciprocal(Arch, float32x4_t d) {
#if defined(__aarch64__)
  return vdivq_f32(vdupq_n_f32(1.f), d);
#else
  float32x4_t r = vrecpeq_f32(d);
  r = vmulq_f32(vrecpsq_f32(d, r), r);
  return vmulq_f32(vrecpsq_f32(d, r), r);
#endif
}

// A constant vector GCC cannot rematerialise: left to itself, GCC 12 reloads every constant of
// the exp below from the literal pool before each use (vldr + vdup, in the loop), where an opaque
// value is hoisted out of the loop and kept in a register.
template <class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_constant(Arch, float k) {
  float32x4_t c = vdupq_n_f32(k);
  __asm__("" : "+w"(c));
  return c;
}

// e^x on NEON for the sigmoid and tanh forwards, about 1 ulp (the kernel tests bound it against
// libm). Intrinsics, not xsimd: xsimd's exp rounds x / ln 2 lane by lane on ARMv7 (no vector
// round there), and GCC scalarises its float negation and comparisons there too (ARMv7's NEON
// is not IEEE, so GCC keeps generic vector float code off it): counted under qemu, the sigmoid
// forward took 51 instructions a float on ARMv7 and 24 on AArch64.
// Inputs are clamped to [-86.6, 88.376] (the lower bound only when kClampLow: tanh's arguments
// are >= 0), so n lies in [-125, 127] and adding n to the exponent field stays in the normal
// range: e^x saturates at 2.4e38, not +inf (sigmoid(-89) is then 4e-39 instead of 2e-39; tanh is
// 1 either way). NaN stays NaN: vmin/vmax return it, and n is converted to an integer (NaN -> 0)
// rather than read from the rounding's bits, which keep a NaN's payload on AArch64.
// The reduction and polynomial are Cephes' expf: x = n ln2 + r, |r| <= ln2 / 2, with ln2 in two
// parts so that n ln2 is exact enough, and e^r = 1 + r + r^2 P(r).
template <bool kClampLow, class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_exp(Arch arch, float32x4_t x) {
  if constexpr (kClampLow) x = vmaxq_f32(x, neon_constant(arch, -86.6f));
  x = vminq_f32(x, neon_constant(arch, 88.37626f));
  // 1.5 * 2^23 has an ulp of 1, so the add rounds x / ln2 to the nearest integer.
  const float32x4_t magic = neon_constant(arch, 12582912.f);
  const float32x4_t n = vsubq_f32(neon_mul_add(arch, magic, x, neon_constant(arch, 1.44269504088896341f)), magic);
  float32x4_t r = neon_mul_add(arch, x, n, neon_constant(arch, -0.693359375f));
  r = neon_mul_add(arch, r, n, neon_constant(arch, 2.12194440e-4f));
  float32x4_t p = neon_mul_add(arch, neon_constant(arch, 1.3981999507e-3f), r, neon_constant(arch, 1.9875691500e-4f));
  p = neon_mul_add(arch, neon_constant(arch, 8.3334519073e-3f), p, r);
  p = neon_mul_add(arch, neon_constant(arch, 4.1665795894e-2f), p, r);
  p = neon_mul_add(arch, neon_constant(arch, 1.6666665459e-1f), p, r);
  p = neon_mul_add(arch, neon_constant(arch, 5.0000001201e-1f), p, r);
  p = vaddq_f32(neon_mul_add(arch, r, p, vmulq_f32(r, r)), neon_constant(arch, 1.f));
  const int32x4_t scale = vshlq_n_s32(vcvtq_s32_f32(n), 23);
  return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), scale));
}

// 1 / (1 + e^-x). The negation flips the sign bit as an integer: GCC 12 turns vnegq_f32 into
// four scalar vneg on ARMv7 (with the moves in and out), for the IEEE reason above.
template <class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_sigmoid(Arch arch, float32x4_t x) {
  const float32x4_t minus_x = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u)));
  return neon_reciprocal(arch, vaddq_f32(neon_constant(arch, 1.f), neon_exp<true>(arch, minus_x)));
}

// tanh: x + x^3 Q(x^2) below |x| = 0.625 (Cephes' tanhf polynomial, where the formula below
// would lose x's low bits to the subtraction from 1), 1 - 2 / (e^{2|x|} + 1) with x's sign
// above. Both are computed and one selected, as xsimd's tanh does (64 instructions a float on
// ARMv7, 30 on AArch64).
template <class Arch>
FENNEC_SIMD_INLINE float32x4_t neon_tanh(Arch arch, float32x4_t x) {
  const float32x4_t a = vabsq_f32(x);
  const float32x4_t q = neon_reciprocal(arch, vaddq_f32(neon_exp<false>(arch, vaddq_f32(a, a)), neon_constant(arch, 1.f)));
  const float32x4_t big = neon_mul_add(arch, neon_constant(arch, 1.f), q, neon_constant(arch, -2.f));
  const float32x4_t z = vmulq_f32(x, x);
  float32x4_t s = neon_mul_add(arch, neon_constant(arch, 2.06390887954e-2f), z, neon_constant(arch, -5.70498872745e-3f));
  s = neon_mul_add(arch, neon_constant(arch, -5.37397155531e-2f), s, z);
  s = neon_mul_add(arch, neon_constant(arch, 1.33314422036e-1f), s, z);
  s = neon_mul_add(arch, neon_constant(arch, -3.33332819422e-1f), s, z);
  const float32x4_t small = neon_mul_add(arch, x, vmulq_f32(x, z), s);
  // big gets x's sign; |x| < 0.625 is compared as integers (a's sign bit is clear, a NaN's bits
  // exceed 0.625's): one instruction, where GCC scalarises a float vector comparison on ARMv7.
  const uint32x4_t sign = vdupq_n_u32(0x80000000u);
  const float32x4_t signed_big = vbslq_f32(sign, x, big);
  const uint32x4_t below = vcltq_s32(vreinterpretq_s32_f32(a), vdupq_n_s32(0x3f200000));
  return vbslq_f32(below, small, signed_big);
}
#endif

// x where mask is set, +0 elsewhere. On ARMv7 one vand: xsimd's select is a vbsl, which
// overwrites its mask operand, so GCC adds a vmov to keep the mask, and a zero register.
template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> keep_where(Arch, const xsimd::batch_bool<float, Arch>& mask, const Vf<Arch>& x) {
#if defined(__arm__) && defined(__ARM_NEON)
  if constexpr (ArchTraits<Arch>::kNeon32) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(x), mask));
  } else
#endif
  {
    return xsimd::select(mask, x, Vf<Arch>(0.f));
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
#if defined(__ARM_NEON)
    if constexpr (ArchTraits<Arch>::kNeon) return neon_sigmoid(arch, x);
#endif
    return one / (one + xsimd::exp(-x));
  } else if constexpr (kind == Activation::kTanh) {
#if defined(__ARM_NEON)
    if constexpr (ArchTraits<Arch>::kNeon) return neon_tanh(arch, x);
#endif
    return xsimd::tanh(x);
  } else if constexpr (kind == Activation::kRelu) {
    return keep_where(arch, greater_than_zero(arch, x), x);
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
    return keep_where(arch, greater_than_zero(arch, y), dy);
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
