// SPDX-License-Identifier: Apache-2.0
// xsimd bodies of the fused optimizer updates (sgd ... adamw): one pass over w, g and state.
// Formulas are optim.hpp's; OptimStepArgs is documented in kernel_table.hpp. These kernels are
// memory-bound: one load of each stream, one store of each written stream, no second pass.
#pragma once

#include <cfloat>
#include <cstddef>

#include "kernels/kernel_table.hpp"
#include "kernels/simd_common.hpp"
#if defined(__arm__) && defined(__ARM_NEON)
#include "kernels/optim_neon32_asm.hpp"
#endif

namespace fennec::kernels::simd {

enum class OptimKind : int { kSgd, kMomentum, kNesterov, kAdaGrad, kRmsProp, kAdam, kAdamW };

// Broadcast hyper-parameters once per call.
template <class Arch>
struct OptimConsts {
  Vf<Arch> lr, mu, rho, one_minus_rho, b1, one_minus_b1, b2, one_minus_b2, eps, wd, ibc1, ibc2, decoupled;
  explicit OptimConsts(const OptimStepArgs& a)
      : lr(a.lr),
        mu(a.momentum),
        rho(a.rho),
        one_minus_rho(a.one_minus_rho),
        b1(a.beta1),
        one_minus_b1(a.one_minus_beta1),
        b2(a.beta2),
        one_minus_b2(a.one_minus_beta2),
        eps(a.eps),
        wd(a.weight_decay),
        ibc1(a.inv_bias_correction1),
        ibc2(a.inv_bias_correction2),
        decoupled(a.decoupled_decay) {}
};

// lr * num / den for den >= eps > 0 and finite. On x86 a division is the bottleneck of the
// adaptive updates (with the sqrt, ~9 cycles per 8 floats: the Adam pass was compute-bound at
// 172 us, above the L3 bandwidth bound), so it is a hardware reciprocal estimate (rcpps 12 bits,
// rcp14 on AVX-512) refined by one Newton step to ~1 ulp, then a multiply. The update term is
// ~lr-sized, so an ulp of it is far below an ulp of w; the kernel tests bound the result at
// 8 eps of w. AArch64 has a vector divide (fdiv .4s, correctly rounded) that xsimd 8.1 does not
// use for float: its operator/ is an estimate plus two Newton steps, 7 instructions, and at
// times an out-of-line call (the Adam pass took 35 instructions per 4 floats instead of ~22).
// ARMv7 NEON has no vector divide and keeps operator/.
template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> scaled_ratio(Arch, const Vf<Arch>& lr, const Vf<Arch>& num, const Vf<Arch>& den) {
  if constexpr (ArchTraits<Arch>::kX86) {
    const Vf<Arch> r0 = xsimd::reciprocal(den);
    const Vf<Arch> r1 = r0 * xsimd::fnma(den, r0, Vf<Arch>(2.f));
    return lr * num * r1;
  } else if constexpr (ArchTraits<Arch>::kNeon64) {
    return Vf<Arch>(vdivq_f32(lr * num, den));
  } else {
    return lr * num / den;
  }
}

// Square root. On AArch64 xsimd 8.1 computes it as a reciprocal-sqrt estimate refined by two
// Newton steps (9 instructions); fsqrt .4s is one and correctly rounded.
// ARMv7 has no vector sqrt: xsimd's sequence, r = rsqrte(x) refined twice by vrsqrts and
// x * r, with x = 0 (or a denormal, which NEON flushes) selected to 0 after a vceq, since the
// estimate of 0 is inf and 0 * inf is NaN. Here the first refinement reads max(x, FLT_MIN)
// instead, which keeps r finite, and the second reads x: for x >= FLT_MIN (and inf, NaN) every
// step is xsimd's, for x = 0 the result is 0 * finite = 0 as before, in one vmax instead of the
// vceq and vbsl (Adam 34 -> 33 instructions per 4 floats). The same bits as xsimd's on each
// 7th non-negative bit pattern, denormals and inf included (checked once under qemu); -0 gives
// -0, as IEEE's sqrt does (and the same once eps is added). A negative x, which no optimizer
// state holds (its sqrt inputs are sums of squares), gives a finite value instead of NaN.
template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> vector_sqrt(const Vf<Arch>& x) {
  using V = Vf<Arch>;
  if constexpr (ArchTraits<Arch>::kNeon64) {
    return V(vsqrtq_f32(x));
  } else if constexpr (ArchTraits<Arch>::kNeon32) {
    const V xm(vmaxq_f32(x, V(FLT_MIN)));
    const V r0(vrsqrteq_f32(xm));
    const V r1 = r0 * V(vrsqrtsq_f32(xm * r0, r0));
    const V t1 = x * r1;
    return t1 * V(vrsqrtsq_f32(t1, r1));
  } else {
    return xsimd::sqrt(x);
  }
}

// One batch of the update. Kind and Decay are compile-time so the loop carries no branches.
// The adaptive methods divide through scaled_ratio (above).
template <int Kind, bool Decay, class Arch>
FENNEC_SIMD_INLINE void optim_batch(Arch, const OptimConsts<Arch>& c, Vf<Arch>& w, Vf<Arch> g, Vf<Arch>& s1,
                                    Vf<Arch>& s2) {
  using V = Vf<Arch>;
  constexpr auto kind = static_cast<OptimKind>(Kind);
  if constexpr (kind == OptimKind::kAdamW) {
    if constexpr (Decay) w = w * c.decoupled;
  } else {
    if constexpr (Decay) g = xsimd::fma(c.wd, w, g);
  }
  if constexpr (kind == OptimKind::kSgd) {
    w = xsimd::fnma(c.lr, g, w);
  } else if constexpr (kind == OptimKind::kMomentum) {
    s1 = xsimd::fma(c.mu, s1, g);
    w = xsimd::fnma(c.lr, s1, w);
  } else if constexpr (kind == OptimKind::kNesterov) {
    s1 = xsimd::fma(c.mu, s1, g);
    w = xsimd::fnma(c.lr, xsimd::fma(c.mu, s1, g), w);
  } else if constexpr (kind == OptimKind::kAdaGrad) {
    s1 = xsimd::fma(g, g, s1);
    w = w - scaled_ratio(Arch{}, c.lr, g, vector_sqrt<Arch>(s1) + c.eps);
  } else if constexpr (kind == OptimKind::kRmsProp) {
    s1 = xsimd::fma(c.rho, s1, c.one_minus_rho * (g * g));
    w = w - scaled_ratio(Arch{}, c.lr, g, vector_sqrt<Arch>(s1) + c.eps);
  } else {  // adam, adamw
    s1 = xsimd::fma(c.b1, s1, c.one_minus_b1 * g);
    s2 = xsimd::fma(c.b2, s2, c.one_minus_b2 * (g * g));
    const V mhat = s1 * c.ibc1;
    const V vhat = s2 * c.ibc2;
    w = w - scaled_ratio(Arch{}, c.lr, mhat, vector_sqrt<Arch>(vhat) + c.eps);
  }
}

template <int Kind, bool Decay, class Arch>
FENNEC_SIMD_INLINE void optim_loop(Arch arch, const OptimStepArgs& a) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  constexpr auto kind = static_cast<OptimKind>(Kind);
  constexpr bool kS1 = kind != OptimKind::kSgd;
  constexpr bool kS2 = kind == OptimKind::kAdam || kind == OptimKind::kAdamW;
  const OptimConsts<Arch> c(a);
  const std::size_t n = a.n;
  float* w = a.w;
  const float* g = a.g;
  float* s1p = a.s1;
  float* s2p = a.s2;
  const auto step = [&](float* wi, const float* gi, float* s1i, float* s2i) {
    V wv = V::load_unaligned(wi);
    V s1 = kS1 ? V::load_unaligned(s1i) : V(0.f);
    V s2 = kS2 ? V::load_unaligned(s2i) : V(0.f);
    optim_batch<Kind, Decay>(arch, c, wv, V::load_unaligned(gi), s1, s2);
    wv.store_unaligned(wi);
    if constexpr (kS1) s1.store_unaligned(s1i);
    if constexpr (kS2) s2.store_unaligned(s2i);
  };
  std::size_t i = 0;
  if constexpr (ArchTraits<Arch>::kNeon32) {
    // ARMv7's NEON loads and stores take no offset register: indexed, each array cost an add a
    // step (the Adam loop was 44 instructions per 4 floats); pointers post-increment instead.
    // Adam and AdamW without decay run two batches a trip in assembly (optim_neon32_asm.hpp,
    // 34 -> 28.5 instructions per 4 floats), the last odd batch and the tail below.
    if constexpr (kS2 && !Decay) {
      const float k[8] = {a.lr, a.one_minus_beta1, a.one_minus_beta2, a.inv_bias_correction1,
                          a.inv_bias_correction2, a.beta1, a.beta2, a.eps};
      i = n / (2 * L) * (2 * L);
      neon32_adam_pairs(arch, n / (2 * L), w, g, s1p, s2p, k);
    }
    float* wi = w + i;
    const float* gi = g + i;
    float* s1i = kS1 ? s1p + i : s1p;
    float* s2i = kS2 ? s2p + i : s2p;
    i = n / L * L;
    for (const float* const end = w + i; wi != end; wi += L, gi += L) {
      step(wi, gi, s1i, s2i);
      if constexpr (kS1) s1i += L;
      if constexpr (kS2) s2i += L;
    }
  } else {
    for (; i + L <= n; i += L) step(w + i, g + i, s1p + i, s2p + i);
  }
  if (i < n) {
    const std::size_t r = n - i;
    V wv = load_partial(arch, w + i, r, 0.f);
    V s1 = kS1 ? load_partial(arch, s1p + i, r, 0.f) : V(0.f);
    V s2 = kS2 ? load_partial(arch, s2p + i, r, 0.f) : V(0.f);
    optim_batch<Kind, Decay>(arch, c, wv, load_partial(arch, g + i, r, 0.f), s1, s2);
    store_partial(arch, w + i, wv, r);
    if constexpr (kS1) store_partial(arch, s1p + i, s1, r);
    if constexpr (kS2) store_partial(arch, s2p + i, s2, r);
  }
}

template <int Kind, class Arch>
FENNEC_SIMD_INLINE void optim_dispatch(Arch arch, const OptimStepArgs& a) {
  if (a.weight_decay != 0.f)
    optim_loop<Kind, true>(arch, a);
  else
    optim_loop<Kind, false>(arch, a);
}

#define FENNEC_OPTIM_KERNEL(id, kind)                                               \
  struct id {                                                                       \
    template <class Arch>                                                           \
    void operator()(Arch arch, const OptimStepArgs& a) const {                      \
      optim_dispatch<static_cast<int>(OptimKind::kind)>(arch, a);                   \
    }                                                                               \
  };
FENNEC_OPTIM_KERNEL(sgd_step_f32, kSgd)
FENNEC_OPTIM_KERNEL(momentum_step_f32, kMomentum)
FENNEC_OPTIM_KERNEL(nesterov_step_f32, kNesterov)
FENNEC_OPTIM_KERNEL(adagrad_step_f32, kAdaGrad)
FENNEC_OPTIM_KERNEL(rmsprop_step_f32, kRmsProp)
FENNEC_OPTIM_KERNEL(adam_step_f32, kAdam)
FENNEC_OPTIM_KERNEL(adamw_step_f32, kAdamW)
#undef FENNEC_OPTIM_KERNEL

}  // namespace fennec::kernels::simd
