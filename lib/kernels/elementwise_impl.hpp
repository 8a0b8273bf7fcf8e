// SPDX-License-Identifier: Apache-2.0
// xsimd bodies of the elementwise and reduction kernels: bias_act_fwd_f32, act_bwd_f32,
// col_sum_f32, sum_squares_f32, scale_f32, clamp_f32. Signatures and contracts are in
// kernel_table.hpp. Tails are handled with partial batches (same arithmetic as the body).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd {

struct bias_act_fwd_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, float* y, std::size_t ldy, const float* bias,
                  ActivationSpec act) const;
};
struct act_bwd_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* y, std::size_t ldy, float* dy,
                  std::size_t lddy, ActivationSpec act) const;
};
struct col_sum_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* a, std::size_t lda, float* out) const;
};
struct sum_squares_f32 {
  template <class Arch>
  double operator()(Arch, std::size_t n, const float* x) const;
};
struct scale_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t n, float* x, float s) const;
};
struct clamp_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t n, float* x, float lo, float hi) const;
};

// y[0..n) = act(y + bias) for one row; bias may be null.
template <int Kind, class Arch>
FENNEC_SIMD_INLINE void bias_act_row(Arch arch, std::size_t n, float* y, const float* bias,
                                     const Vf<Arch>& alpha) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  std::size_t j = 0;
  constexpr auto kind = static_cast<Activation>(Kind);
  if constexpr (ArchTraits<Arch>::kNeon32 && kind == Activation::kSigmoid) {
    // One batch a trip on ARMv7: the sigmoid's constants and one batch's temporaries fit the 16
    // quad registers, two batches' do not (11.1 instructions a float unrolled, 10.1 not; tanh's
    // two formulas spill either way, and it keeps the pairs below).
#pragma GCC unroll 1
    for (; j + L <= n; j += L) {
      V v = V::load_unaligned(y + j);
      if (bias) v += V::load_unaligned(bias + j);
      act_fwd<Kind>(arch, v, alpha).store_unaligned(y + j);
    }
  }
#if defined(__arm__) && defined(__ARM_NEON)
  if constexpr (ArchTraits<Arch>::kNeon32) {
    // Pairs of batches through one post-incremented vld1/vst1 each: ARMv7's NEON loads take no
    // offset, so the unrolled loop below spends an address add per load and store.
    const float* in = y;
    const float* b = bias;
    float* out = y;
    for (; j + 2 * L <= n; j += 2 * L) {
      Vf<Arch> v0, v1;
      neon32_load_pair(arch, in, v0, v1);
      if (bias) {
        Vf<Arch> b0, b1;
        neon32_load_pair(arch, b, b0, b1);
        v0 += b0;
        v1 += b1;
      }
      neon32_store_pair(arch, out, act_fwd<Kind>(arch, v0, alpha), act_fwd<Kind>(arch, v1, alpha));
    }
  }
#endif
  // Two batches a trip: the loop's add/compare/branch are then a quarter of the work, not 40%.
#pragma GCC unroll 2
  for (; j + L <= n; j += L) {
    V v = V::load_unaligned(y + j);
    if (bias) v += V::load_unaligned(bias + j);
    act_fwd<Kind>(arch, v, alpha).store_unaligned(y + j);
  }
  if (j < n) {
    V v = load_partial(arch, y + j, n - j, 0.f);
    if (bias) v += load_partial(arch, bias + j, n - j, 0.f);
    store_partial(arch, y + j, act_fwd<Kind>(arch, v, alpha), n - j);
  }
}

template <class Arch>
void bias_act_fwd_f32::operator()(Arch arch, std::size_t m, std::size_t n, float* y, std::size_t ldy,
                                  const float* bias, ActivationSpec act) const {
  if (act.kind == Activation::kIdentity && bias == nullptr) return;
  const Vf<Arch> alpha(act.alpha);
  with_activation(arch, act.kind, [&](auto kind) {
    for (std::size_t i = 0; i < m; ++i) bias_act_row<decltype(kind)::value>(arch, n, y + i * ldy, bias, alpha);
  });
}

template <class Arch>
void act_bwd_f32::operator()(Arch arch, std::size_t m, std::size_t n, const float* y, std::size_t ldy,
                             float* dy, std::size_t lddy, ActivationSpec act) const {
  if (act.kind == Activation::kIdentity) return;
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V alpha(act.alpha);
  with_activation(arch, act.kind, [&](auto kind) {
    constexpr int K = decltype(kind)::value;
    for (std::size_t i = 0; i < m; ++i) {
      const float* yr = y + i * ldy;
      float* dr = dy + i * lddy;
      std::size_t j = 0;
#if defined(__arm__) && defined(__ARM_NEON)
      if constexpr (ArchTraits<Arch>::kNeon32) {
        // Pair loads and stores, as in bias_act_row.
        const float* yp = yr;
        const float* dp = dr;
        float* out = dr;
        for (; j + 2 * L <= n; j += 2 * L) {
          V y0, y1, d0, d1;
          neon32_load_pair(arch, yp, y0, y1);
          neon32_load_pair(arch, dp, d0, d1);
          neon32_store_pair(arch, out, act_bwd<K>(arch, y0, d0, alpha), act_bwd<K>(arch, y1, d1, alpha));
        }
      }
#endif
#pragma GCC unroll 2
      for (; j + L <= n; j += L)
        act_bwd<K>(arch, V::load_unaligned(yr + j), V::load_unaligned(dr + j), alpha).store_unaligned(dr + j);
      if (j < n) {
        const V yv = load_partial(arch, yr + j, n - j, 0.f);
        const V dv = load_partial(arch, dr + j, n - j, 0.f);
        store_partial(arch, dr + j, act_bwd<K>(arch, yv, dv, alpha), n - j);
      }
    }
  });
}

template <class Arch>
void col_sum_f32::operator()(Arch arch, std::size_t m, std::size_t n, const float* a, std::size_t lda,
                             float* out) const {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  std::size_t j = 0;
  // Four column batches per sweep down the rows: four independent add chains.
  for (; j + 4 * L <= n; j += 4 * L) {
    V s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    for (std::size_t i = 0; i < m; ++i) {
      const float* r = a + i * lda + j;
      s0 += V::load_unaligned(r);
      s1 += V::load_unaligned(r + L);
      s2 += V::load_unaligned(r + 2 * L);
      s3 += V::load_unaligned(r + 3 * L);
    }
    s0.store_unaligned(out + j);
    s1.store_unaligned(out + j + L);
    s2.store_unaligned(out + j + 2 * L);
    s3.store_unaligned(out + j + 3 * L);
  }
  for (; j + L <= n; j += L) {
    V s(0.f);
    for (std::size_t i = 0; i < m; ++i) s += V::load_unaligned(a + i * lda + j);
    s.store_unaligned(out + j);
  }
  if (j < n) {
    V s(0.f);
    for (std::size_t i = 0; i < m; ++i) s += load_partial(arch, a + i * lda + j, n - j, 0.f);
    store_partial(arch, out + j, s, n - j);
  }
}

template <class Arch>
double sum_squares_f32::operator()(Arch arch, std::size_t n, const float* x) const {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  // Float partial sums over blocks of kBlock elements (4 chains x lanes), folded into a double
  // per block: the float error stays that of a kBlock/(4L)-term sum. A block whose float sum is
  // not finite is summed again in double, as the reference does: finite inputs whose squares
  // overflow float (|x| > 1.8e19) then give the reference's finite total, so the trainer's
  // accept/refuse decision on the norm is the same on every table; NaN/Inf inputs stay non-finite.
  constexpr std::size_t kBlock = 4096;
  double total = 0.0;
  std::size_t i = 0;
  while (i < n) {
    const std::size_t begin = i;
    const std::size_t end = min_size(arch, n, i + kBlock);
    V s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    if constexpr (ArchTraits<Arch>::kNeon) {
      // NEON: pointer-stepped, 16 floats a trip in one ld1 of 4 registers (AArch64) or two pair
      // loads (ARMv7, neon32_load_pair): 7 and 8 instructions per 16 floats where the indexed
      // loop took 11 and 16 (the loads behind address adds, and the index's own). The loop counts
      // the pointer. Same chains, same sums.
      const float* p = x + i;
      i += (end - i) / (4 * L) * (4 * L);
      for (const float* const stop = x + i; p != stop;) {
        V a, b, c, d;
#if defined(__aarch64__)
        const float32x4x4_t t = vld1q_f32_x4(p);
        p += 4 * L;
        a = V(t.val[0]), b = V(t.val[1]), c = V(t.val[2]), d = V(t.val[3]);
#else
        neon32_load_pair(arch, p, a, b);
        neon32_load_pair(arch, p, c, d);
#endif
        s0 = xsimd::fma(a, a, s0);
        s1 = xsimd::fma(b, b, s1);
        s2 = xsimd::fma(c, c, s2);
        s3 = xsimd::fma(d, d, s3);
      }
    }
    for (; i + 4 * L <= end; i += 4 * L) {
      const V a = V::load_unaligned(x + i), b = V::load_unaligned(x + i + L);
      const V c = V::load_unaligned(x + i + 2 * L), d = V::load_unaligned(x + i + 3 * L);
      s0 = xsimd::fma(a, a, s0);
      s1 = xsimd::fma(b, b, s1);
      s2 = xsimd::fma(c, c, s2);
      s3 = xsimd::fma(d, d, s3);
    }
    for (; i + L <= end; i += L) {
      const V a = V::load_unaligned(x + i);
      s0 = xsimd::fma(a, a, s0);
    }
    if (i < end) {
      const V a = load_partial(arch, x + i, end - i, 0.f);
      s1 = xsimd::fma(a, a, s1);
      i = end;
    }
    const float block = xsimd::hadd((s0 + s1) + (s2 + s3));
    std::uint32_t bits;
    std::memcpy(&bits, &block, sizeof(bits));
    if ((bits & 0x7f800000u) != 0x7f800000u) {
      total += static_cast<double>(block);
    } else {
      double d = 0.0;
      for (std::size_t k = begin; k < end; ++k) d += static_cast<double>(x[k]) * static_cast<double>(x[k]);
      total += d;
    }
  }
  return total;
}

template <class Arch>
void scale_f32::operator()(Arch arch, std::size_t n, float* x, float s) const {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V sv(s);
  std::size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    (V::load_unaligned(x + i) * sv).store_unaligned(x + i);
    (V::load_unaligned(x + i + L) * sv).store_unaligned(x + i + L);
  }
  for (; i + L <= n; i += L) (V::load_unaligned(x + i) * sv).store_unaligned(x + i);
  if (i < n) store_partial(arch, x + i, load_partial(arch, x + i, n - i, 0.f) * sv, n - i);
}

template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> clamp_batch(Arch arch, const Vf<Arch>& v, const Vf<Arch>& lo, const Vf<Arch>& hi) {
  // Comparisons with NaN are false, so NaN passes through both selects unchanged.
  const Vf<Arch> r = xsimd::select(less_than(arch, v, lo), lo, v);
  return xsimd::select(less_than(arch, hi, r), hi, r);
}

template <class Arch>
void clamp_f32::operator()(Arch arch, std::size_t n, float* x, float lo, float hi) const {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V lv(lo), hv(hi);
  std::size_t i = 0;
  for (; i + L <= n; i += L) clamp_batch(arch, V::load_unaligned(x + i), lv, hv).store_unaligned(x + i);
  if (i < n) store_partial(arch, x + i, clamp_batch(arch, load_partial(arch, x + i, n - i, 0.f), lv, hv), n - i);
}

}  // namespace fennec::kernels::simd
