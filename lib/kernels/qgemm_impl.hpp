// SPDX-License-Identifier: Apache-2.0
// The int8 GEMMs of the quantization scheme (QGemmArgs in kernel_table.hpp), templated on Arch.
// Each output's int32 accumulator is exact on every table; the epilogue is the reference's
// (requant.hpp), so every table gives the reference's bits.
//
// The dot products: AVX2 and AVX-512BW widen 16 / 32 bytes of x and w to int16 and multiply-add
// pairs into int32 (vpmaddwd; exact, where vpmaddubsw would saturate at 255 * 127 * 2); AVX-512
// VNNI multiplies x + 128 (unsigned) by w (signed) four bytes at a time into int32 (vpdpbusd, which
// does not saturate) and takes 128 * wsum[j] back off. Other arches run the scalar loop.
// Tiles of kMr rows of x by kNr rows of w share each widened load.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.hpp"
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

}  // namespace qdetail

template <class Arch>
void qgemv_s8::operator()(Arch, const QGemmArgs& g) const {
  if constexpr (qdetail::kX86Int<Arch>)
    qdetail::qgemm_tiles<Arch, 1, 8>(Arch{}, g);
  else
    qgemm_scalar(g);
}

template <class Arch>
void qgemm_nt_s8::operator()(Arch, const QGemmArgs& g) const {
  if constexpr (qdetail::kVnni<Arch> || qdetail::kAvx512Int<Arch>)
    qdetail::qgemm_tiles<Arch, 4, 4>(Arch{}, g);
  else if constexpr (qdetail::kAvx2Int<Arch>)
    qdetail::qgemm_tiles<Arch, 4, 2>(Arch{}, g);
  else
    qgemm_scalar(g);
}

}  // namespace fennec::kernels::simd
