// SPDX-License-Identifier: Apache-2.0
// The int8 GEMMs (QGemmArgs, kernel_table.hpp) on ARM NEON, templated on Arch; included by
// qgemm_impl.hpp, whose qgemv_s8 / qgemm_nt_s8 dispatch here for the neon64 and neon tables.
//
// Dot products, all exact in int32:
//   neon64, dot-product build (__ARM_FEATURE_DOTPROD, the aarch64-dotprod preset): sdot
//     (vdotq_s32) sums 4 int8 products into each int32 lane, 16 bytes of k an instruction.
//   neon64: smull + smlal2 multiply 16 bytes of x and w into 8 int16 lanes, each the sum of two
//     products, and sadalp adds the int16 pairs into int32 lanes.
//   neon (ARMv7): the same with vmull.s8 + vmlal.s8 + vpadal.s16.
// The int16 sum of two products is exact because the weights are in [-127, 127] (QGemmArgs;
// QuantizedModel refuses -128): |x * w| <= 128 * 127, two of them <= 32512 < 2^15. Two products
// of -128 * -128 (32768) would wrap, which is why the range excludes -128.
// Tiles of MR rows of x by NR rows of w share each 16-byte load; edge tiles take the next
// smaller power-of-two tile. A k that is not a multiple of 16 ends with one step over copies of
// the last bytes, zero-padded on the stack: nothing past a row's k bytes is read.
// The epilogue is requant.hpp's, bit for bit: qgemm_store per output, or on AArch64 four
// outputs at a time (store4_neon64), which does the same integer steps in vector lanes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/detail/qpack_layout.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/qgemm_sdot_asm.hpp"
#include "kernels/qgemm_smull_asm.hpp"
#include "kernels/requant.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd::qdetail {

using std::size_t;

// Whether this target compiles the dot-product extension: a choice of the whole build (the
// toolchain's -march), like every ARM table's.
#if defined(__ARM_FEATURE_DOTPROD)
inline constexpr bool kTargetDotProd = true;
#else
inline constexpr bool kTargetDotProd = false;
#endif

template <class Arch>
inline constexpr bool kSdot = ArchTraits<Arch>::kNeon64 && kTargetDotProd;

#if defined(__ARM_NEON)
// acc += the products of the 16 bytes of x and w, summed so that each int32 lane stays exact.
template <class Arch>
FENNEC_SIMD_INLINE int32x4_t dot16(Arch, int32x4_t acc, int8x16_t x, int8x16_t w) {
  if constexpr (kSdot<Arch>) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, x, w);
#endif
  } else if constexpr (ArchTraits<Arch>::kNeon64) {
#if defined(__aarch64__)
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(w)), x, w));
#endif
  } else {
    static_assert(ArchTraits<Arch>::kNeon32, "NEON int8 dot product on another arch");
    return vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(x), vget_low_s8(w)), vget_high_s8(x), vget_high_s8(w)));
  }
}

// The sum of the four lanes.
template <class Arch>
FENNEC_SIMD_INLINE std::int32_t lane_sum(Arch, int32x4_t v) {
  if constexpr (ArchTraits<Arch>::kNeon64) {
#if defined(__aarch64__)
    return vaddvq_s32(v);
#endif
  } else {
    const int32x2_t h = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(h, h), 0);
  }
}

// V consecutive 16-byte vectors from p. On AArch64 four are one ld1 of 4 registers and two an
// ldp (GCC pairs the adjacent loads; its ld1 of 2 registers kept the accumulators on the stack),
// so a step of V * 16 bytes of k costs one load instruction per row.
template <class Arch, size_t V>
FENNEC_SIMD_INLINE void load_vectors(Arch, const std::int8_t* p, int8x16_t* v) {
  if constexpr (V == 4) {
#if defined(__aarch64__)
    static_assert(ArchTraits<Arch>::kNeon64, "ld1 of 4 registers on AArch64");
    const int8x16x4_t t = vld1q_s8_x4(p);
    for (size_t i = 0; i < 4; ++i) v[i] = t.val[i];
#endif
  } else {
    for (size_t i = 0; i < V; ++i) v[i] = vld1q_s8(p + 16 * i);
  }
}

// One step of V * 16 bytes of k at offset p (tail: the zero-padded copies instead).
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void dot_step(Arch, const std::int8_t* const* x, const std::int8_t* const* w, size_t p,
                                 int32x4_t (*a)[NR]) {
  int8x16_t xv[MR][V];
  for (size_t r = 0; r < MR; ++r) load_vectors<Arch, V>(Arch{}, x[r] + p, xv[r]);
  for (size_t c = 0; c < NR; ++c) {
    int8x16_t wv[V];
    load_vectors<Arch, V>(Arch{}, w[c] + p, wv);
    for (size_t v = 0; v < V; ++v)
      for (size_t r = 0; r < MR; ++r) a[r][c] = dot16(Arch{}, a[r][c], xv[r][v], wv[v]);
  }
}

// out[r][c] = lanes whose sum is sum_p x_r[p] * w_c[p] over the first k bytes: steps of V * 16
// bytes, then of 16, then the zero-padded rest. On ARMv7 and in the sdot GEMV the accumulators
// are a local array, written out once at the end: GCC otherwise kept the caller's array in memory
// and stored it back after every step (int8 loads may alias anything): 0.65 -> 0.53 instructions
// per MAC (ARMv7 GEMV), 0.153 -> 0.137 (sdot GEMV, 784-512). The sdot 4 x 4 GEMM measured
// 0.136 -> 0.137 with it, and the smull kernels, which need 8 int16 temporaries beside the
// accumulators, 0.29 -> 0.31 (GEMV), so those accumulate in place.
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void dot_tile_neon(Arch, const std::int8_t* const* x, const std::int8_t* const* w, size_t k,
                                      int32x4_t (*out)[NR]) {
  constexpr bool kLocal = ArchTraits<Arch>::kNeon32 || (kSdot<Arch> && MR == 1);
  int32x4_t local[MR][NR];
  int32x4_t (*a)[NR] = kLocal ? local : out;
  for (size_t r = 0; r < MR; ++r)
    for (size_t c = 0; c < NR; ++c) a[r][c] = vdupq_n_s32(0);
  size_t p = 0;
#if defined(__aarch64__) && !defined(__ARM_FEATURE_DOTPROD)
  // The whole smull tiles' k loops in assembly (qgemm_smull_asm.hpp); the steps and tail below
  // continue from their sums.
  if constexpr (MR == 1 && NR == 8 && V == 4) {
    if (k >= 64) smull_row_units8(k / 64, x[0], w, &a[0][0]);
    p = k / 64 * 64;
  } else if constexpr (MR == 4 && NR == 4 && V == 1) {
    if (k >= 16) smull_rows4_units4(k / 16, x, w, &a[0][0]);
    p = k / 16 * 16;
  }
#endif
  if constexpr (V > 1) {
    for (; p + V * 16 <= k; p += V * 16) dot_step<Arch, MR, NR, V>(Arch{}, x, w, p, a);
  }
  for (; p + 16 <= k; p += 16) dot_step<Arch, MR, NR, 1>(Arch{}, x, w, p, a);
  if (p < k) {
    alignas(16) std::int8_t tail[MR + NR][16];
    const std::int8_t* tx[MR];
    const std::int8_t* tw[NR];
    for (size_t r = 0; r < MR + NR; ++r) {
      const std::int8_t* src = (r < MR ? x[r] : w[r - MR]) + p;
      for (size_t i = 0; i < 16; ++i) tail[r][i] = i < k - p ? src[i] : 0;
    }
    for (size_t r = 0; r < MR; ++r) tx[r] = tail[r];
    for (size_t c = 0; c < NR; ++c) tw[c] = tail[MR + c];
    dot_step<Arch, MR, NR, 1>(Arch{}, tx, tw, 0, a);
  }
  if constexpr (kLocal) {
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) out[r][c] = a[r][c];
  }
}

#if defined(__aarch64__)
// The epilogue's inputs as values, taken from g once per tile: int8 stores may alias anything,
// so GCC reloads fields of g after each one, but not these. F32: the dequantized last layer.
template <bool F32>
struct Epilogue4 {
  const std::int32_t* bias;
  const std::int32_t *mult, *mult_neg, *shift, *shift_neg;
  const float *deq, *deq_neg;
  std::int8_t* y;
  float* yf;
  size_t ld;
  int32x4_t zero_point, lo;
};

template <bool F32>
FENNEC_SIMD_INLINE Epilogue4<F32> epilogue4_of(const QGemmArgs& g) {
  return {g.bias,  g.mult, g.mult_neg, g.shift, g.shift_neg, g.deq, g.deq_neg, g.y, g.yf, F32 ? g.ldyf : g.ldy,
          vdupq_n_s32(g.out_zero_point), vdupq_n_s32(g.out_lo)};
}

// The requantization parameters of outputs j .. j + 3, loaded once for all the rows of a tile.
struct Requant4 {
  int32x4_t bias, mult, mult_neg, down, down_neg;
  float32x4_t deq, deq_neg;
};

template <bool F32>
FENNEC_SIMD_INLINE Requant4 load_requant4(const Epilogue4<F32>& e, size_t j) {
  Requant4 p{};
  p.bias = vld1q_s32(e.bias + j);
  if constexpr (F32) {
    p.deq = vld1q_f32(e.deq + j);
    p.deq_neg = vld1q_f32(e.deq_neg + j);
  } else {
    p.mult = vld1q_s32(e.mult + j);
    p.mult_neg = vld1q_s32(e.mult_neg + j);
    p.down = vnegq_s32(vld1q_s32(e.shift + j));
    p.down_neg = vnegq_s32(vld1q_s32(e.shift_neg + j));
  }
  return p;
}

// qgemm_store for outputs j .. j + 3 of row i at once, acc their accumulators (bias added), p
// their parameters. The same steps in lanes: the 64-bit product, then srshl by -shift, which
// adds 2^(shift-1) and shifts right arithmetically (floor) without overflow, as requantize does
// in int64; the saturating narrow to int32 keeps the order. The scalar epilogue clamps that to
// +-255, adds the zero point and clamps to [lo, 127]; a saturating add of the zero point (in
// [-128, 127]) then the clamp gives the same bytes: beyond +-255 both end at 127 or lo, since
// 255 + zp >= 127 and -255 + zp <= -128 <= lo. f32: scvtf rounds to nearest as the scalar
// conversion does, then one multiply.
template <bool F32>
FENNEC_SIMD_INLINE void store4_neon64(const Epilogue4<F32>& e, const Requant4& p, size_t i, size_t j, int32x4_t acc) {
  const uint32x4_t neg = vcltzq_s32(acc);
  if constexpr (F32) {
    vst1q_f32(e.yf + i * e.ld + j, vmulq_f32(vcvtq_f32_s32(acc), vbslq_f32(neg, p.deq_neg, p.deq)));
  } else {
    const int32x4_t mult = vbslq_s32(neg, p.mult_neg, p.mult);
    const int32x4_t down = vbslq_s32(neg, p.down_neg, p.down);
    const int64x2_t lo = vrshlq_s64(vmull_s32(vget_low_s32(acc), vget_low_s32(mult)), vmovl_s32(vget_low_s32(down)));
    const int64x2_t hi = vrshlq_s64(vmull_high_s32(acc, mult), vmovl_high_s32(down));
    int32x4_t q = vqaddq_s32(vqmovn_high_s64(vqmovn_s64(lo), hi), e.zero_point);
    q = vminq_s32(vmaxq_s32(q, e.lo), vdupq_n_s32(127));
    const int16x4_t q16 = vmovn_s32(q);
    const int8x8_t q8 = vmovn_s16(vcombine_s16(q16, q16));
    const std::uint32_t four = vget_lane_u32(vreinterpret_u32_s8(q8), 0);
    std::memcpy(e.y + i * e.ld + j, &four, sizeof four);
  }
}

// Outputs of rows i0 .. i0 + rows by units j0 .. j0 + units: quad(r, u) gives row r's sums of
// units u .. u + 3 (bias not added), one(r, u) unit u's alone. Four units a store, their
// parameters loaded once for all the rows; the last units % 4 through qgemm_store.
template <bool F32, class Quad, class One>
FENNEC_SIMD_INLINE void store_outputs_neon64(const QGemmArgs& g, size_t i0, size_t rows, size_t j0, size_t units,
                                             Quad quad, One one) {
  const size_t whole = units / 4 * 4;
  const Epilogue4<F32> e = epilogue4_of<F32>(g);
  for (size_t u = 0; u < whole; u += 4) {
    const Requant4 rq = load_requant4(e, j0 + u);
    for (size_t r = 0; r < rows; ++r) {
      // Wrapping int32 adds of the bias: the true sum fits (the scheme bounds it).
      const int32x4_t acc = vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(quad(r, u)), vreinterpretq_u32_s32(rq.bias)));
      store4_neon64(e, rq, i0 + r, j0 + u, acc);
    }
  }
  for (size_t u = whole; u < units; ++u)
    for (size_t r = 0; r < rows; ++r)
      qgemm_store(g, i0 + r, j0 + u,
                  static_cast<std::int32_t>(static_cast<std::uint32_t>(one(r, u)) + static_cast<std::uint32_t>(g.bias[j0 + u])));
}

#endif

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
// The packed sdot GEMM (g.wpack, fennec/detail/qpack_layout.hpp, bytes = w). A 4-byte group of
// a 16-unit panel is four 16-byte vectors, each 4 units x 4 bytes of k; sdot by element
// multiplies one of them by the group of x in one lane of a 16-byte vector of x and adds each
// unit's 4 products into its own int32 lane. So one 16-byte load of x per row serves 4 groups,
// one ld1 of 4 registers brings a group of the panel, and the accumulators end holding whole
// dot products, 4 units each: no horizontal sums, 16 MACs an instruction. The k loops are in
// assembly (qgemm_sdot_asm.hpp): 4 rows x 1 panel (the GEMM), 1 row x 4 panels (the GEMV) and
// 1 row x 1 panel (the rest). A partial last panel runs whole (its padding units are zero
// weights, planned and present) and stores only its units.

// sums (rows R x panels P x 16 int32) = rows x[0 .. R) by panels w[0 .. P) over k: the whole
// 16-byte steps in place, then the last 1 .. 15 bytes of k as one more step over zero-padded
// copies: x's bytes past k and the groups the panels do not have read as zero, and nothing past
// a row of x or a panel is read.
template <size_t R, size_t P>
FENNEC_SIMD_INLINE void sdot_sums(const std::int8_t* const* x, const std::int8_t* const* w, size_t k, std::int32_t* sums) {
  static_assert((R == 4 && P == 1) || (R == 1 && (P == 1 || P == 4)), "an assembly loop of qgemm_sdot_asm.hpp");
  constexpr size_t kStepBytes = 4 * detail::kQPackUnits * detail::kQPackGroup;
  const auto run = [sums](size_t steps, const std::int8_t* const* xs, const std::int8_t* const* ws) {
    if constexpr (R == 4)
      sdot_rows4_panel(steps, xs[0], xs[1], xs[2], xs[3], ws[0], sums);
    else if constexpr (P == 4)
      sdot_row_panels4(steps, xs[0], ws[0], ws[1], ws[2], ws[3], sums);
    else
      sdot_row_panel(steps, xs[0], ws[0], sums);
  };
  std::memset(sums, 0, R * P * 16 * sizeof(std::int32_t));
  const size_t steps = k / 16, rest = k % 16;
  if (steps > 0) run(steps, x, w);
  if (rest == 0) return;
  const size_t wbytes = (rest + 3) / 4 * detail::kQPackUnits * detail::kQPackGroup;
  alignas(16) std::int8_t xt[R][16];
  alignas(16) std::int8_t wt[P][kStepBytes];
  const std::int8_t* xs[R];
  const std::int8_t* ws[P];
  for (size_t r = 0; r < R; ++r) {
    std::memset(xt[r], 0, 16);
    std::memcpy(xt[r], x[r] + steps * 16, rest);
    xs[r] = xt[r];
  }
  for (size_t v = 0; v < P; ++v) {
    std::memset(wt[v], 0, kStepBytes);
    std::memcpy(wt[v], w[v] + steps * kStepBytes, wbytes);
    ws[v] = wt[v];
  }
  run(1, xs, ws);
}

// The outputs of a tile: rows i0 .. i0 + R by units j0 .. j0 + P * 16 (those below n), sums
// row-major without the bias.
template <bool F32, size_t R, size_t P>
FENNEC_SIMD_INLINE void sdot_store_tile(const QGemmArgs& g, const std::int32_t* sums, size_t i0, size_t j0) {
  constexpr size_t kRow = P * detail::kQPackUnits;
  store_outputs_neon64<F32>(
      g, i0, R, j0, g.n - j0 < kRow ? g.n - j0 : kRow, [sums](size_t r, size_t u) { return vld1q_s32(sums + r * kRow + u); },
      [sums](size_t r, size_t u) { return sums[r * kRow + u]; });
}

// Rows i0 .. i0 + R of x by panels p0 .. p0 + P.
template <size_t R, size_t P>
FENNEC_SIMD_INLINE void sdot_packed_tile(const QGemmArgs& g, size_t i0, size_t p0) {
  const size_t panel_bytes = (g.k + 3) / 4 * detail::kQPackUnits * detail::kQPackGroup;
  const std::int8_t* x[R];
  for (size_t r = 0; r < R; ++r) x[r] = g.x + (i0 + r) * g.ldx;
  const std::int8_t* w[P];
  for (size_t v = 0; v < P; ++v) w[v] = reinterpret_cast<const std::int8_t*>(g.wpack) + (p0 + v) * panel_bytes;
  alignas(16) std::int32_t sums[R * P * detail::kQPackUnits];
  sdot_sums<R, P>(x, w, g.k, sums);
  if (g.yf)
    sdot_store_tile<true, R, P>(g, sums, i0, p0 * detail::kQPackUnits);
  else
    sdot_store_tile<false, R, P>(g, sums, i0, p0 * detail::kQPackUnits);
}

// The packed GEMM. m == 1 (the GEMV, MR == 1): blocks of four panels, then one at a time. Else
// 4-row tiles, each panel against every tile while it stays in L1, and the rows left one at a
// time.
template <class Arch, size_t MR>
FENNEC_SIMD_INLINE void qgemm_sdot_packed(Arch, const QGemmArgs& g) {
  const size_t panels = (g.n + detail::kQPackUnits - 1) / detail::kQPackUnits;
  if constexpr (MR == 1) {
    for (size_t i = 0; i < g.m; ++i) {
      size_t p0 = 0;
      for (; p0 + 4 <= panels; p0 += 4) sdot_packed_tile<1, 4>(g, i, p0);
      for (; p0 < panels; ++p0) sdot_packed_tile<1, 1>(g, i, p0);
    }
  } else {
    static_assert(MR == 4, "the GEMM's tile is 4 rows");
    const size_t whole = g.m / 4 * 4;
    for (size_t p0 = 0; p0 < panels; ++p0) {
      for (size_t i0 = 0; i0 < whole; i0 += 4) sdot_packed_tile<4, 1>(g, i0, p0);
      for (size_t i = whole; i < g.m; ++i) sdot_packed_tile<1, 1>(g, i, p0);
    }
  }
}
#endif

#if defined(__aarch64__)
// The outputs of an smull/sdot tile (rows i0 .. i0 + mr, units j0 .. j0 + nr): four
// accumulators' lane sums in one vector by two levels of pairwise adds.
template <bool F32, size_t MR, size_t NR>
FENNEC_SIMD_INLINE void store_tile_neon64(const QGemmArgs& g, const int32x4_t (*a)[NR], size_t i0, size_t mr, size_t j0,
                                          size_t nr) {
  store_outputs_neon64<F32>(
      g, i0, mr, j0, nr,
      [a](size_t r, size_t c) {
        return vpaddq_s32(vpaddq_s32(a[r][c], a[r][c + 1]), vpaddq_s32(a[r][c + 2], a[r][c + 3]));
      },
      [a](size_t r, size_t c) { return vaddvq_s32(a[r][c]); });
}
#endif

// Rows i0 .. i0 + mr of x by rows j0 .. j0 + nr of w (mr <= MR, nr <= NR; missing rows repeat
// the last one, computed and never stored).
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void neon_tile(Arch, const QGemmArgs& g, size_t i0, size_t mr, size_t j0, size_t nr) {
  const std::int8_t* x[MR];
  for (size_t r = 0; r < MR; ++r) x[r] = g.x + (i0 + (r < mr ? r : mr - 1)) * g.ldx;
  const std::int8_t* w[NR];
  for (size_t c = 0; c < NR; ++c) w[c] = g.w + (j0 + (c < nr ? c : nr - 1)) * g.ldw;
  int32x4_t a[MR][NR];
  dot_tile_neon<Arch, MR, NR, V>(Arch{}, x, w, g.k, a);
#if defined(__aarch64__)
  if constexpr (NR % 4 == 0) {
    if (g.yf)
      store_tile_neon64<true, MR, NR>(g, a, i0, mr, j0, nr);
    else
      store_tile_neon64<false, MR, NR>(g, a, i0, mr, j0, nr);
    return;
  }
#endif
  for (size_t r = 0; r < mr; ++r)
    for (size_t c = 0; c < nr; ++c) {
      const std::uint32_t sum = static_cast<std::uint32_t>(lane_sum(Arch{}, a[r][c])) + static_cast<std::uint32_t>(g.bias[j0 + c]);
      qgemm_store(g, i0 + r, j0 + c, static_cast<std::int32_t>(sum));
    }
}

// Columns j0 .. j0 + nr (nr <= NR) by the smallest power-of-two tile that holds them.
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void neon_cols(Arch, const QGemmArgs& g, size_t i0, size_t mr, size_t j0, size_t nr) {
  if constexpr (NR > 1) {
    if (nr <= NR / 2) return neon_cols<Arch, MR, NR / 2, V>(Arch{}, g, i0, mr, j0, nr);
  }
  neon_tile<Arch, MR, NR, V>(Arch{}, g, i0, mr, j0, nr);
}

// Rows i0 .. i0 + mr (mr <= MR) by every column, the same way.
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void neon_rows(Arch, const QGemmArgs& g, size_t i0, size_t mr) {
  if constexpr (MR > 1) {
    if (mr <= MR / 2) return neon_rows<Arch, MR / 2, NR, V>(Arch{}, g, i0, mr);
  }
  for (size_t j0 = 0; j0 < g.n; j0 += NR)
    neon_cols<Arch, MR, NR, V>(Arch{}, g, i0, mr, j0, g.n - j0 < NR ? g.n - j0 : NR);
}

// The whole GEMM in MR x NR tiles, k in steps of V * 16 bytes.
template <class Arch, size_t MR, size_t NR, size_t V>
FENNEC_SIMD_INLINE void qgemm_neon(Arch, const QGemmArgs& g) {
  for (size_t i0 = 0; i0 < g.m; i0 += MR) neon_rows<Arch, MR, NR, V>(Arch{}, g, i0, g.m - i0 < MR ? g.m - i0 : MR);
}
#else
template <class Arch, size_t MR, size_t NR, size_t V>
void qgemm_neon(Arch, const QGemmArgs& g);
#endif
#if !(defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD))
template <class Arch, size_t MR>
void qgemm_sdot_packed(Arch, const QGemmArgs& g);
#endif

}  // namespace fennec::kernels::simd::qdetail
