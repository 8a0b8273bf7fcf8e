// SPDX-License-Identifier: Apache-2.0
// xsimd bodies of the batch-norm and dropout kernels: bn_stats_f32, bn_fwd_f32, bn_bwd_f32,
// dropout_f32. Signatures and contracts are in kernel_table.hpp. Every kernel walks the columns
// in blocks of one batch (the last block partial), so each lane owns one feature and the
// per-feature sums run down the rows in the reference's order.
#pragma once

#include <cstddef>

#include "kernels/kernel_table.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd {

struct bn_stats_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* x, std::size_t ldx, float* mean,
                  float* var) const;
};
struct bn_fwd_f32 {
  template <class Arch>
  void operator()(Arch, const BnFwdArgs& a) const;
};
struct bn_bwd_f32 {
  template <class Arch>
  void operator()(Arch, const BnBwdArgs& a) const;
};
struct dropout_f32 {
  template <class Arch>
  void operator()(Arch, std::size_t m, std::size_t n, const float* x, std::size_t ldx,
                  const unsigned char* mask, std::size_t ldmask, float scale, float* y,
                  std::size_t ldy) const;
};

// w (<= lanes) floats at p; the other lanes 0.
template <class Arch>
FENNEC_SIMD_INLINE Vf<Arch> load_n(Arch arch, const float* p, std::size_t w) {
  return w == kLanes<Arch> ? Vf<Arch>::load_unaligned(p) : load_partial(arch, p, w, 0.f);
}
template <class Arch>
FENNEC_SIMD_INLINE void store_n(Arch arch, float* p, const Vf<Arch>& v, std::size_t w) {
  if (w == kLanes<Arch>)
    v.store_unaligned(p);
  else
    store_partial(arch, p, v, w);
}

// Calls f(j, w) for the column blocks [j, j + w) of n columns, w = lanes except the last.
template <class Arch, class F>
FENNEC_SIMD_INLINE void for_column_blocks(Arch, std::size_t n, F&& f) {
  constexpr std::size_t L = kLanes<Arch>;
  for (std::size_t j = 0; j < n; j += L) f(j, n - j < L ? n - j : L);
}

template <class Arch>
void bn_stats_f32::operator()(Arch arch, std::size_t m, std::size_t n, const float* x, std::size_t ldx,
                              float* mean, float* var) const {
  using V = Vf<Arch>;
  const V inv_m(1.f / static_cast<float>(m));
  for_column_blocks(arch, n, [&](std::size_t j, std::size_t w) {
    V s(0.f);
    for (std::size_t i = 0; i < m; ++i) s += load_n(arch, x + i * ldx + j, w);
    const V mu = s * inv_m;
    V q(0.f);
    for (std::size_t i = 0; i < m; ++i) {
      const V d = load_n(arch, x + i * ldx + j, w) - mu;
      q += d * d;
    }
    store_n(arch, mean + j, mu, w);
    store_n(arch, var + j, q * inv_m, w);
  });
}

template <class Arch>
void bn_fwd_f32::operator()(Arch arch, const BnFwdArgs& a) const {
  using V = Vf<Arch>;
  for_column_blocks(arch, a.n, [&](std::size_t j, std::size_t w) {
    const V mu = load_n(arch, a.mean + j, w), is = load_n(arch, a.inv_std + j, w);
    const V g = load_n(arch, a.gamma + j, w), b = load_n(arch, a.beta + j, w);
    for (std::size_t i = 0; i < a.m; ++i) {
      const V xh = (load_n(arch, a.x + i * a.ldx + j, w) - mu) * is;
      if (a.xhat) store_n(arch, a.xhat + i * a.ldxhat + j, xh, w);
      store_n(arch, a.y + i * a.ldy + j, g * xh + b, w);
    }
  });
}

template <class Arch>
void bn_bwd_f32::operator()(Arch arch, const BnBwdArgs& a) const {
  using V = Vf<Arch>;
  const V fm(static_cast<float>(a.m)), inv_m(1.f / static_cast<float>(a.m));
  for_column_blocks(arch, a.n, [&](std::size_t j, std::size_t w) {
    V db(0.f), dg(0.f);
    for (std::size_t i = 0; i < a.m; ++i) {
      const V d = load_n(arch, a.dy + i * a.lddy + j, w);
      db += d;
      dg += d * load_n(arch, a.xhat + i * a.ldxhat + j, w);
    }
    store_n(arch, a.dbeta + j, db, w);
    store_n(arch, a.dgamma + j, dg, w);
    const V k = load_n(arch, a.gamma + j, w) * load_n(arch, a.inv_std + j, w) * inv_m;
    for (std::size_t i = 0; i < a.m; ++i) {
      const V d = load_n(arch, a.dy + i * a.lddy + j, w);
      const V xh = load_n(arch, a.xhat + i * a.ldxhat + j, w);
      store_n(arch, a.dx + i * a.lddx + j, k * (fm * d - db - xh * dg), w);
    }
  });
}

template <class Arch>
void dropout_f32::operator()(Arch arch, std::size_t m, std::size_t n, const float* x, std::size_t ldx,
                             const unsigned char* mask, std::size_t ldmask, float scale, float* y,
                             std::size_t ldy) const {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V s(scale), zero(0.f);
  for (std::size_t i = 0; i < m; ++i) {
    const unsigned char* mr = mask + i * ldmask;
    for_column_blocks(arch, n, [&](std::size_t j, std::size_t w) {
      // Bytes widened to floats through a buffer (xsimd has no byte-to-float widening load); the
      // full blocks' loop has no branch, so the compiler turns it into a widening conversion. A
      // select, not a multiply by 0, so a dropped NaN is 0.
      alignas(64) float keep[L];
      if (w == L) {
        for (std::size_t k = 0; k < L; ++k) keep[k] = static_cast<float>(mr[j + k]);
      } else {
        for (std::size_t k = 0; k < L; ++k) keep[k] = k < w ? static_cast<float>(mr[j + k]) : 0.f;
      }
      const V v = load_n(arch, x + i * ldx + j, w) * s;
      store_n(arch, y + i * ldy + j, xsimd::select(V::load_aligned(keep) != zero, v, zero), w);
    });
  }
}

}  // namespace fennec::kernels::simd
