// SPDX-License-Identifier: Apache-2.0
// The int8 GEMMs of the quantization scheme (QGemmArgs in kernel_table.hpp), templated on Arch.
// Each output's int32 accumulator is exact on every table; the epilogue is the reference's
// (requant.hpp), so every table gives the reference's bits.
//
// The dot products: AVX2 and AVX-512BW widen 16 / 32 bytes of x and w to int16 and multiply-add
// pairs into int32 (vpmaddwd; exact, where vpmaddubsw would saturate at 255 * 127 * 2); AVX-512
// VNNI multiplies x + 128 (unsigned) by w (signed) four bytes at a time into int32 (vpdpbusd, which
// does not saturate) and takes 128 * wsum[j] back off. The ARM tables' bodies are in
// qgemm_neon.hpp (smull / sdot on AArch64, vmull.s8 on ARMv7). Other arches run the scalar loop.
// Tiles of MR rows of x by NR rows of w share each widened load.
//
// With the packed weights (g.wpack, fennec/detail/qpack_layout.hpp) the VNNI table runs the other
// way round: a 64-byte load holds 16 units x 4 bytes of k of w + 128, a 4-byte group of x is
// broadcast, and vpdpbusd leaves 16 whole dot products in the lanes of one accumulator. No
// horizontal sums, one sequential stream per panel, and a 16-lane integer epilogue; x (signed) is
// the multiplier, so 128 * sum_k x[i][k] comes back off instead of 128 * wsum[j].
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/detail/qpack_layout.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/qgemm_neon.hpp"
#include "kernels/requant.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd {

struct qgemv_s8 {
  template <class Arch>
  void operator()(Arch, const QGemmArgs& g) const;
};
struct qgemm_nt_s8 {
  template <class Arch>
  void operator()(Arch, const QGemmArgs& g) const;
};

namespace qdetail {

using std::size_t;

template <class Arch>
inline constexpr bool kVnni = ArchTraits<Arch>::kAvx512Vnni;
template <class Arch>
inline constexpr bool kAvx512Int = std::is_base_of_v<xsimd::avx512bw, Arch>;
template <class Arch>
inline constexpr bool kAvx2Int = std::is_base_of_v<xsimd::avx2, Arch>;

#if defined(__x86_64__) || defined(__i386__)
// acc[r][c] (exact int32) = sum_p x_r[p] * w_c[p] for r < MR, c < NR over the first k bytes.
template <class Arch, size_t MR, size_t NR>
FENNEC_SIMD_INLINE void dot_tile_x86(Arch, const std::int8_t* const* x, const std::int8_t* const* w, size_t k,
                                     std::int32_t (*acc)[NR]) {
  if constexpr (kVnni<Arch>) {
    __m512i a[MR][NR];
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) a[r][c] = _mm512_setzero_si512();
    const __m512i bias128 = _mm512_set1_epi8(static_cast<char>(0x80));
    for (size_t p = 0; p < k; p += 64) {
      const __mmask64 mask = k - p >= 64 ? ~__mmask64{0} : ((__mmask64{1} << (k - p)) - 1);
      __m512i xv[MR];
      // Masked-off bytes load as 0 (w) and 0 ^ 0x80 = 128 (x): their products are 0.
      for (size_t r = 0; r < MR; ++r) xv[r] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, x[r] + p), bias128);
      for (size_t c = 0; c < NR; ++c) {
        const __m512i wv = _mm512_maskz_loadu_epi8(mask, w[c] + p);
        for (size_t r = 0; r < MR; ++r) a[r][c] = _mm512_dpbusd_epi32(a[r][c], xv[r], wv);
      }
    }
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) acc[r][c] = _mm512_reduce_add_epi32(a[r][c]);
  } else if constexpr (kAvx512Int<Arch>) {
    __m512i a[MR][NR];
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) a[r][c] = _mm512_setzero_si512();
    for (size_t p = 0; p < k; p += 32) {
      const __mmask64 mask = k - p >= 32 ? __mmask64{0xFFFFFFFFu} : ((__mmask64{1} << (k - p)) - 1);
      __m512i xv[MR];
      for (size_t r = 0; r < MR; ++r) xv[r] = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(_mm512_maskz_loadu_epi8(mask, x[r] + p)));
      for (size_t c = 0; c < NR; ++c) {
        const __m512i wv = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(_mm512_maskz_loadu_epi8(mask, w[c] + p)));
        for (size_t r = 0; r < MR; ++r) a[r][c] = _mm512_add_epi32(a[r][c], _mm512_madd_epi16(xv[r], wv));
      }
    }
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) acc[r][c] = _mm512_reduce_add_epi32(a[r][c]);
  } else {
    static_assert(kAvx2Int<Arch>, "x86 int8 dot tile without AVX2");
    __m256i a[MR][NR];
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) a[r][c] = _mm256_setzero_si256();
    const size_t k16 = k / 16 * 16;
    for (size_t p = 0; p < k16; p += 16) {
      __m256i xv[MR];
      for (size_t r = 0; r < MR; ++r)
        xv[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[r] + p)));
      for (size_t c = 0; c < NR; ++c) {
        const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[c] + p)));
        for (size_t r = 0; r < MR; ++r) a[r][c] = _mm256_add_epi32(a[r][c], _mm256_madd_epi16(xv[r], wv));
      }
    }
    for (size_t r = 0; r < MR; ++r)
      for (size_t c = 0; c < NR; ++c) {
        const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(a[r][c]), _mm256_extracti128_si256(a[r][c], 1));
        const __m128i q = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
        std::int32_t s = _mm_cvtsi128_si32(_mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1)));
        for (size_t p = k16; p < k; ++p) s += static_cast<std::int32_t>(x[r][p]) * w[c][p];
        acc[r][c] = s;
      }
  }
}
#else
template <class Arch, size_t MR, size_t NR>
void dot_tile_x86(Arch, const std::int8_t* const* x, const std::int8_t* const* w, size_t k, std::int32_t (*acc)[NR]);
#endif

template <class Arch>
inline constexpr bool kX86Int = kVnni<Arch> || kAvx512Int<Arch> || kAvx2Int<Arch>;

// Rows [0, m) of x against rows [0, n) of w in MR x NR tiles; an edge tile repeats its last row
// pointers (loaded, never stored).
template <class Arch, size_t MR, size_t NR>
FENNEC_SIMD_INLINE void qgemm_tiles(Arch, const QGemmArgs& g) {
  for (size_t i0 = 0; i0 < g.m; i0 += MR) {
    const size_t mr = g.m - i0 < MR ? g.m - i0 : MR;
    const std::int8_t* x[MR];
    for (size_t r = 0; r < MR; ++r) x[r] = g.x + (i0 + (r < mr ? r : mr - 1)) * g.ldx;
    for (size_t j0 = 0; j0 < g.n; j0 += NR) {
      const size_t nr = g.n - j0 < NR ? g.n - j0 : NR;
      const std::int8_t* w[NR];
      for (size_t c = 0; c < NR; ++c) w[c] = g.w + (j0 + (c < nr ? c : nr - 1)) * g.ldw;
      std::int32_t acc[MR][NR];
      dot_tile_x86<Arch, MR, NR>(Arch{}, x, w, g.k, acc);
      for (size_t r = 0; r < mr; ++r)
        for (size_t c = 0; c < nr; ++c) {
          const size_t j = j0 + c;
          // VNNI summed (x + 128) * w: take 128 * wsum back off, in uint32 (both wrap mod 2^32
          // and the true result fits int32).
          const std::uint32_t offset = kVnni<Arch> ? static_cast<std::uint32_t>(g.wsum[j]) * 128u : 0u;
          const std::uint32_t sum = static_cast<std::uint32_t>(acc[r][c]) - offset + static_cast<std::uint32_t>(g.bias[j]);
          qgemm_store(g, i0 + r, j, static_cast<std::int32_t>(sum));
        }
    }
  }
}

#if defined(__x86_64__) || defined(__i386__)
// The epilogue of requant.hpp on 16 lanes (AVX-512F): outputs j0 .. j0 + 16 of row i, the lanes
// of `valid` only. Integer steps are the scalar ones: the 64-bit products and the flooring shift
// run in two halves (even and odd lanes), the clamp to +-255 and then to [lo, 127] in int32;
// the f32 form converts with the same rounding (MXCSR's nearest) and multiplies once.
template <class Arch>
FENNEC_SIMD_INLINE void store16(Arch, const QGemmArgs& g, size_t i, size_t j0, __mmask16 valid, __m512i acc) {
  const __mmask16 neg = _mm512_cmplt_epi32_mask(acc, _mm512_setzero_si512());
  if (g.yf) {
    const __m512 d = _mm512_mask_blend_ps(neg, _mm512_maskz_loadu_ps(valid, g.deq + j0), _mm512_maskz_loadu_ps(valid, g.deq_neg + j0));
    _mm512_mask_storeu_ps(g.yf + i * g.ldyf + j0, valid, _mm512_mul_ps(_mm512_cvtepi32_ps(acc), d));
    return;
  }
  const __m512i mult = _mm512_mask_blend_epi32(neg, _mm512_maskz_loadu_epi32(valid, g.mult + j0),
                                               _mm512_maskz_loadu_epi32(valid, g.mult_neg + j0));
  const __m512i shift = _mm512_mask_blend_epi32(neg, _mm512_maskz_loadu_epi32(valid, g.shift + j0),
                                                _mm512_maskz_loadu_epi32(valid, g.shift_neg + j0));
  const __m512i low = _mm512_set1_epi64(0xFFFFFFFF);
  const __m512i one = _mm512_set1_epi64(1);
  // Lanes' shifts are in [1, 62]; masked-off lanes (shift 0) compute garbage that is never stored.
  const auto half = [&](__m512i a, __m512i m, __m512i s) {
    __m512i p = _mm512_mul_epi32(a, m);  // low signed 32 bits of each 64-bit lane
    p = _mm512_add_epi64(p, _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one)));
    p = _mm512_srav_epi64(p, s);
    return _mm512_min_epi64(_mm512_max_epi64(p, _mm512_set1_epi64(-255)), _mm512_set1_epi64(255));
  };
  const __m512i even = half(acc, mult, _mm512_and_si512(shift, low));
  const __m512i odd = half(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(mult, 32), _mm512_srli_epi64(shift, 32));
  __m512i q = _mm512_or_si512(_mm512_and_si512(even, low), _mm512_slli_epi64(odd, 32));
  q = _mm512_add_epi32(q, _mm512_set1_epi32(g.out_zero_point));
  q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(g.out_lo)), _mm512_set1_epi32(127));
  _mm512_mask_cvtepi32_storeu_epi8(g.y + i * g.ldy + j0, valid, q);
}

template <class Arch>
FENNEC_SIMD_INLINE std::int32_t load_group(Arch, const std::int8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Rows in a chunk of the packed GEMM: their x sums live on the stack.
inline constexpr size_t kPackedRowChunk = 64;

// Rows i0 .. i0 + mr (mr <= MR; missing rows repeat the last one and are not stored) by panels
// p0 .. p0 + NV of the packed weights, `groups` = ceil(k / 4) per panel.
template <class Arch, size_t MR, size_t NV>
FENNEC_SIMD_INLINE void packed_tile(Arch, const QGemmArgs& g, size_t i0, size_t mr, size_t p0, const std::int32_t* xsum) {
  constexpr size_t kUnits = detail::kQPackUnits;
  constexpr size_t kStep = kUnits * detail::kQPackGroup;
  const size_t groups = (g.k + 3) / 4, full = g.k / 4;
  const std::int8_t* x[MR];
  for (size_t r = 0; r < MR; ++r) x[r] = g.x + (i0 + (r < mr ? r : mr - 1)) * g.ldx;
  const std::uint8_t* w[NV];
  for (size_t v = 0; v < NV; ++v) w[v] = g.wpack + (p0 + v) * groups * kStep;
  __m512i acc[MR][NV];
  for (size_t r = 0; r < MR; ++r)
    for (size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_si512();
  const auto step = [&](size_t t, const std::int32_t* xg) {
    __m512i wv[NV];
    for (size_t v = 0; v < NV; ++v) wv[v] = _mm512_loadu_si512(w[v] + t * kStep);
    for (size_t r = 0; r < MR; ++r) {
      const __m512i xb = _mm512_set1_epi32(xg[r]);
      for (size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], wv[v], xb);
    }
  };
  for (size_t t = 0; t < full; ++t) {
    std::int32_t xg[MR];
    for (size_t r = 0; r < MR; ++r) xg[r] = load_group(Arch{}, x[r] + t * 4);
    step(t, xg);
  }
  if (full < groups) {
    // The last group of a k that is not a multiple of 4: x's bytes past k read as 0 (the packed
    // weights there are 0 too), and nothing past the row is read.
    std::int32_t xg[MR];
    for (size_t r = 0; r < MR; ++r) {
      std::int8_t b[4] = {0, 0, 0, 0};
      for (size_t c = 0; c < g.k - full * 4; ++c) b[c] = x[r][full * 4 + c];
      std::memcpy(&xg[r], b, sizeof b);
    }
    step(full, xg);
  }
  for (size_t v = 0; v < NV; ++v) {
    const size_t j0 = (p0 + v) * kUnits;
    if (j0 >= g.n) break;
    const size_t lanes = g.n - j0 < kUnits ? g.n - j0 : kUnits;
    const __mmask16 valid = static_cast<__mmask16>(lanes == kUnits ? 0xFFFFu : (1u << lanes) - 1u);
    const __m512i bias = _mm512_maskz_loadu_epi32(valid, g.bias + j0);
    for (size_t r = 0; r < mr; ++r) {
      // sum (w + 128) x = sum w x + 128 sum x, in wrapping int32 (the true result fits).
      const __m512i off = _mm512_set1_epi32(static_cast<std::int32_t>(static_cast<std::uint32_t>(xsum[r]) * 128u));
      store16(Arch{}, g, i0 + r, j0, valid, _mm512_add_epi32(_mm512_sub_epi32(acc[r][v], off), bias));
    }
  }
}

// sum_k x[k] of one row, exact (|sum| <= 128 * kQuantMaxFanIn): vpdpbusd of ones by x.
template <class Arch>
FENNEC_SIMD_INLINE std::int32_t row_sum(Arch, const std::int8_t* x, size_t k) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i s = _mm512_setzero_si512();
  for (size_t p = 0; p < k; p += 64) {
    const __mmask64 mask = k - p >= 64 ? ~__mmask64{0} : ((__mmask64{1} << (k - p)) - 1);
    s = _mm512_dpbusd_epi32(s, ones, _mm512_maskz_loadu_epi8(mask, x + p));
  }
  return _mm512_reduce_add_epi32(s);
}

// A tile of mr <= MR rows, by the smallest power-of-two tile that holds them (a few rows do not
// pay for MR).
template <class Arch, size_t MR, size_t NV>
FENNEC_SIMD_INLINE void packed_rows(Arch, const QGemmArgs& g, size_t i0, size_t mr, size_t p0, const std::int32_t* xsum) {
  if constexpr (MR > 1) {
    if (mr <= MR / 2) return packed_rows<Arch, MR / 2, NV>(Arch{}, g, i0, mr, p0, xsum);
  }
  packed_tile<Arch, MR, NV>(Arch{}, g, i0, mr, p0, xsum);
}

// The packed GEMM: chunks of rows (their x sums first), then for each block of NV panels every
// MR-row tile of the chunk, so a panel block stays in L1 while the chunk's rows pass. A last
// block of fewer than NV panels runs one panel at a time. Tiles of 24 or more accumulators
// (8 x 3, 6 x 4, 4 x 6) measured 1.6x slower than 4 x 4 and 8 x 2 (spills): 16 it is.
template <class Arch, size_t MR, size_t NV>
FENNEC_SIMD_INLINE void qgemm_packed(Arch, const QGemmArgs& g) {
  const size_t panels = (g.n + detail::kQPackUnits - 1) / detail::kQPackUnits;
  std::int32_t xsum[kPackedRowChunk];
  for (size_t c0 = 0; c0 < g.m; c0 += kPackedRowChunk) {
    const size_t rows = g.m - c0 < kPackedRowChunk ? g.m - c0 : kPackedRowChunk;
    for (size_t r = 0; r < rows; ++r) xsum[r] = row_sum(Arch{}, g.x + (c0 + r) * g.ldx, g.k);
    size_t p0 = 0;
    for (; p0 + NV <= panels; p0 += NV)
      for (size_t i = 0; i < rows; i += MR)
        packed_rows<Arch, MR, NV>(Arch{}, g, c0 + i, rows - i < MR ? rows - i : MR, p0, xsum + i);
    for (; p0 < panels; ++p0)
      for (size_t i = 0; i < rows; i += MR)
        packed_rows<Arch, MR, 1>(Arch{}, g, c0 + i, rows - i < MR ? rows - i : MR, p0, xsum + i);
  }
}
#else
template <class Arch, size_t MR, size_t NV>
void qgemm_packed(Arch, const QGemmArgs& g);
#endif

}  // namespace qdetail

template <class Arch>
void qgemv_s8::operator()(Arch, const QGemmArgs& g) const {
  if constexpr (qdetail::kVnni<Arch>) {
    if (g.wpack) return qdetail::qgemm_packed<Arch, 1, 8>(Arch{}, g);
  }
  if constexpr (qdetail::kSdot<Arch>) {
    if (g.wpack) return qdetail::qgemm_sdot_packed<Arch, 1>(Arch{}, g);
  }
  if constexpr (qdetail::kX86Int<Arch>)
    qdetail::qgemm_tiles<Arch, 1, 8>(Arch{}, g);
  else if constexpr (ArchTraits<Arch>::kNeon64)
    qdetail::qgemm_neon<Arch, 1, 8, 4>(Arch{}, g);
  else if constexpr (ArchTraits<Arch>::kNeon32)
    qdetail::qgemm_neon<Arch, 1, 8, 1>(Arch{}, g);
  else
    qgemm_scalar(g);
}

template <class Arch>
void qgemm_nt_s8::operator()(Arch, const QGemmArgs& g) const {
  if constexpr (qdetail::kVnni<Arch>) {
    if (g.wpack) return qdetail::qgemm_packed<Arch, 4, 4>(Arch{}, g);
  }
  if constexpr (qdetail::kSdot<Arch>) {
    if (g.wpack) return qdetail::qgemm_sdot_packed<Arch, 4>(Arch{}, g);
  }
  if constexpr (qdetail::kVnni<Arch> || qdetail::kAvx512Int<Arch>)
    qdetail::qgemm_tiles<Arch, 4, 4>(Arch{}, g);
  else if constexpr (qdetail::kAvx2Int<Arch>)
    qdetail::qgemm_tiles<Arch, 4, 2>(Arch{}, g);
  else if constexpr (ArchTraits<Arch>::kNeon64)
    qdetail::qgemm_neon<Arch, 4, 4, 1>(Arch{}, g);
  else if constexpr (ArchTraits<Arch>::kNeon32)
    qdetail::qgemm_neon<Arch, 2, 4, 1>(Arch{}, g);
  else
    qgemm_scalar(g);
}

}  // namespace fennec::kernels::simd
