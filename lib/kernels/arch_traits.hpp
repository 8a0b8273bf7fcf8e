// SPDX-License-Identifier: Apache-2.0
// What the kernel bodies (*_impl.hpp) choose per xsimd Arch, as constants of ArchTraits<Arch>,
// so they branch with `if constexpr` on the Arch they are instantiated for instead of on the
// flags of the file that includes them; and the raw-intrinsic helpers those branches call.
//
// The intrinsic headers exist only on their own CPU family, so the helpers that name
// intrinsic types are defined under the family's guard below and only declared elsewhere; a
// branch calling one is discarded for every Arch of another family and never instantiated.
// Everything here is a template on Arch and force-inlined (see simd_common.hpp).
#pragma once

#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#if defined(__GNUC__)
#define FENNEC_SIMD_INLINE inline __attribute__((always_inline))
#else
#define FENNEC_SIMD_INLINE inline
#endif

// The GEMM k loops' unroll (the x86 micro-kernel's, and the small-dimension tiles' everywhere).
// A pragma takes no template constant, so this is the one choice made by the target: AArch64
// (its only table is neon64) unrolls 8, where 4 left 4% of its 27-instruction k step in the
// loop control; every other target 4. The NEON micro-kernels are assembly, unrolled by hand.
#if defined(__aarch64__)
#define FENNEC_GEMM_K_UNROLL _Pragma("GCC unroll 8")
#else
#define FENNEC_GEMM_K_UNROLL _Pragma("GCC unroll 4")
#endif

namespace fennec::kernels::simd {

// AVX-512 with the VNNI int8 dot product (vpdpbusd): xsimd 8.1 has no such arch, so this is
// avx512bw (every f32 kernel runs as there) under a name of its own, whose int8 kernels use
// vpdpbusd and whose symbols cannot merge with the avx512bw table's.
struct avx512vnni : xsimd::avx512bw {
  static constexpr bool supported() noexcept { return xsimd::avx512bw::supported(); }
  static constexpr bool available() noexcept { return true; }
  static constexpr unsigned version() noexcept { return xsimd::generic::version(3, 4, 1); }
  static constexpr char const* name() noexcept { return "avx512vnni"; }
};

// AVX-512 with the bf16 dot product (vdpbf16ps), for the opt-in bf16 GEMMs: as avx512vnni, avx512bw
// under a name of its own, so every other kernel runs as avx512's and no symbol merges with its.
struct avx512bf16 : xsimd::avx512bw {
  static constexpr bool supported() noexcept { return xsimd::avx512bw::supported(); }
  static constexpr bool available() noexcept { return true; }
  static constexpr unsigned version() noexcept { return xsimd::generic::version(3, 4, 2); }
  static constexpr char const* name() noexcept { return "avx512bf16"; }
};

template <class Arch>
struct ArchTraits {
  // x86 vector registers of 256 bits or more (fma3<avx2>, avx512bw): B panels are transposed
  // 8x8 with AVX shuffles.
  static constexpr bool kAvx = std::is_base_of_v<xsimd::avx, Arch> || std::is_base_of_v<xsimd::avx512f, Arch>;
  // x86 SSE registers only (sse2): 4x4 transposes with SSE shuffles.
  static constexpr bool kSse = std::is_base_of_v<xsimd::sse2, Arch>;
  static constexpr bool kX86 = kAvx || kSse;
  // ARMv7 NEON and AArch64 Advanced SIMD.
  static constexpr bool kNeon = std::is_base_of_v<xsimd::neon, Arch>;
  static constexpr bool kNeon64 = std::is_same_v<Arch, xsimd::neon64>;
  static constexpr bool kNeon32 = std::is_same_v<Arch, xsimd::neon>;
  // vpdpbusd for the int8 kernels.
  static constexpr bool kAvx512Vnni = std::is_same_v<Arch, avx512vnni>;
  // The f32 GEMMs multiply in bf16 (vdpbf16ps): the GemmBf16 packing policy of gemm_impl.hpp.
  static constexpr bool kBf16Gemm = std::is_same_v<Arch, avx512bf16>;
  // Side of the square register transpose that packs GEMM panels.
  static constexpr std::size_t kTransposeBlock = kAvx ? 8 : 4;
};

// Whether the arch's vector FMA can take its multiplier from one lane of a vector register
// (AArch64 fmla by element). ARMv7 has this only for vmla, which rounds twice, and x86 not at all.
template <class Arch>
inline constexpr bool kFmaByLane = ArchTraits<Arch>::kNeon64;

// Whether the micro-kernel multiplies by vector lanes with vmla (ARMv7 NEON): vmla.f32 by scalar
// is a multiply and an add, each rounded (vfma has no by-scalar form). The Cortex-A8/A9 build
// rounds twice anyway (no VFPv4: xsimd's fma is vmul + vadd), and the GEMM tests bound every
// table by the reference's error bound, which covers both. Taking A by lane frees the broadcast
// registers, so the 6 x 8 tile's 12 accumulators, 2 B vectors and 6 A values fit the 16 q
// registers without spills.
template <class Arch>
inline constexpr bool kMlaByLane = ArchTraits<Arch>::kNeon32;

#if defined(__x86_64__) || defined(__i386__)
// dst[p*ld_dst + j] = src[j*ld_src + p] for an 8x8 block (rows j of B become columns).
template <class Arch>
FENNEC_SIMD_INLINE void transpose8x8_avx(Arch, const float* src, std::size_t ld_src, float* dst, std::size_t ld_dst) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld_src);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * ld_src), r3 = _mm256_loadu_ps(src + 3 * ld_src);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * ld_src), r5 = _mm256_loadu_ps(src + 5 * ld_src);
  const __m256 r6 = _mm256_loadu_ps(src + 6 * ld_src), r7 = _mm256_loadu_ps(src + 7 * ld_src);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ld_dst, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld_dst, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld_dst, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld_dst, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld_dst, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld_dst, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld_dst, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// acc + a * b per f32 lane over the two bf16 halves of each 32-bit lane of a and b (vdpbf16ps:
// the odd halves' product first, then the even halves', each added with round to nearest even,
// denormal inputs and results flushed to zero).
template <class Arch>
FENNEC_SIMD_INLINE xsimd::batch<float, Arch> dot_bf16_pairs(Arch, const xsimd::batch<float, Arch>& acc,
                                                            const xsimd::batch<float, Arch>& a,
                                                            const xsimd::batch<float, Arch>& b) {
  return _mm512_dpbf16_ps(acc, (__m512bh)static_cast<__m512>(a), (__m512bh)static_cast<__m512>(b));
}

// Rounds a packed GEMM panel of kc rows of W floats (row p at panel + p*W) to bf16 in place, as
// ceil(kc/2) rows of W 32-bit lanes, the layout vdpbf16ps multiplies: lane j of row q holds
// row 2q's element j (round to nearest even, vcvtne2ps2bf16) in its low half and row 2q+1's in
// its high half, 0 when kc is odd and 2q+1 == kc. Output row q lies at or before input rows 2q and
// 2q+1 and is stored after both are loaded, so the pass runs in place front to back.
template <std::size_t W, class Arch>
FENNEC_SIMD_INLINE void pair_rows_bf16(Arch, float* panel, std::size_t kc) {
  static_assert(W == 8 || W % 16 == 0, "a panel row is half a vector or whole vectors");
  const std::size_t pairs = (kc + 1) / 2;
  if constexpr (W == 8) {
    // Rows 2q and 2q+1 are one vector: bf16 elements t and 8 + t become 32-bit lane t.
    const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                         15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
    for (std::size_t q = 0; q < pairs; ++q) {
      const __mmask16 rows = 2 * q + 1 < kc ? 0xFFFF : 0x00FF;
      const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(rows, panel + 2 * q * W));
      const __m512i r = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512((__m256i)h));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(panel + q * W), _mm512_castsi512_si256(r));
    }
  } else {
    // 16 lanes of rows 2q (low half of the conversion) and 2q+1 (high half) interleaved.
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,  //
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (std::size_t q = 0; q < pairs; ++q) {
      const float* lo = panel + 2 * q * W;
      const bool has_hi = 2 * q + 1 < kc;
#pragma GCC unroll 4
      for (std::size_t j = 0; j < W; j += 16) {
        const __m512 hi = has_hi ? _mm512_loadu_ps(lo + W + j) : _mm512_setzero_ps();
        const __m512bh h = _mm512_cvtne2ps_pbh(hi, _mm512_loadu_ps(lo + j));
        _mm512_storeu_si512(panel + q * W + j, _mm512_permutexvar_epi16(idx, (__m512i)h));
      }
    }
  }
}

// dst[p*ld_dst + j] = src[j*ld_src + p] for a 4x4 block, as a statement in the caller's body:
// as a function of its own (one more inline layer) it changed GCC's inlining of the SSE2 GEMM
// driver around it, where the macro leaves the generated code as it was.
#define FENNEC_TRANSPOSE4X4_SSE(src, ld_src, dst, ld_dst)                                     \
  do {                                                                                        \
    __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps((src) + (ld_src));                       \
    __m128 r2 = _mm_loadu_ps((src) + 2 * (ld_src)), r3 = _mm_loadu_ps((src) + 3 * (ld_src));  \
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);                                                        \
    _mm_storeu_ps(dst, r0);                                                                   \
    _mm_storeu_ps((dst) + (ld_dst), r1);                                                      \
    _mm_storeu_ps((dst) + 2 * (ld_dst), r2);                                                  \
    _mm_storeu_ps((dst) + 3 * (ld_dst), r3);                                                  \
  } while (0)
#else
template <class Arch>
void transpose8x8_avx(Arch, const float* src, std::size_t ld_src, float* dst, std::size_t ld_dst);
template <class Arch>
xsimd::batch<float, Arch> dot_bf16_pairs(Arch, const xsimd::batch<float, Arch>& acc, const xsimd::batch<float, Arch>& a,
                                         const xsimd::batch<float, Arch>& b);
template <std::size_t W, class Arch>
void pair_rows_bf16(Arch, float* panel, std::size_t kc);
// Never expanded for an Arch of this family: only in branches discarded for every Arch here.
#define FENNEC_TRANSPOSE4X4_SSE(src, ld_src, dst, ld_dst) static_assert(!ArchTraits<Arch>::kSse, "SSE on a non-x86 target")
#endif

#if defined(__arm__) && defined(__ARM_NEON)
// B's packed panels on ARMv7 (kMlaByLane): rows rows of 8 floats each rewritten in place as
// a0 b0 a1 b1 ... a3 b3 (a: the first 4, b: the last 4), so that one vld2 gives back a and b.
// GCC 12's 32-bit arm_neon.h has no vld1q_f32_x2, and two vld1q cost two loads plus an add and a
// move for the address; vld2 post-increments on its own.
template <class Arch>
FENNEC_SIMD_INLINE void interleave_pairs_neon32(Arch, float* p, std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r, p += 8) {
    const float32x4x2_t v = {{vld1q_f32(p), vld1q_f32(p + 4)}};
    vst2q_f32(p, v);
  }
}

// The ARMv7 micro-kernel, 6 x 8 over kc k steps, in assembly: c[i][j] = sum_p a_p[i] b_p[4j..],
// c row-major as the 12 vectors c[0][0], c[0][1], ..., c[5][1]. One step: vld3 of the 6 A values
// into d0-d2 (de-interleaved: {a0 a3} {a1 a4} {a2 a5}), vld2 of the 8 B values (interleaved by
// interleave_pairs_neon32) into q2-q3, 12 vmla by scalar into q4-q15; two steps an iteration, so
// 15 instructions a step. GCC compiled the same loop from intrinsics to 17-18: its unrolled copies
// address A and B by offsets, which NEON loads do not take, so each load cost an add as well.
// vmla by scalar rounds the product and the sum (ARMv7 has no fused form by scalar).
#define FENNEC_NEON32_MK_STEP                                                                    \
  "vld3.32 {d0-d2}, [%[a]]!\n\t"                                                                 \
  "vld2.32 {d4-d7}, [%[b]]!\n\t"                                                                 \
  "vmla.f32 q4, q2, d0[0]\n\t"                                                                   \
  "vmla.f32 q5, q3, d0[0]\n\t"                                                                   \
  "vmla.f32 q6, q2, d1[0]\n\t"                                                                   \
  "vmla.f32 q7, q3, d1[0]\n\t"                                                                   \
  "vmla.f32 q8, q2, d2[0]\n\t"                                                                   \
  "vmla.f32 q9, q3, d2[0]\n\t"                                                                   \
  "vmla.f32 q10, q2, d0[1]\n\t"                                                                  \
  "vmla.f32 q11, q3, d0[1]\n\t"                                                                  \
  "vmla.f32 q12, q2, d1[1]\n\t"                                                                  \
  "vmla.f32 q13, q3, d1[1]\n\t"                                                                  \
  "vmla.f32 q14, q2, d2[1]\n\t"                                                                  \
  "vmla.f32 q15, q3, d2[1]\n\t"
inline void micro_kernel_neon32(std::size_t kc, const float* a, const float* b, float* c) {
  __asm__ volatile(
      "vmov.i32 q4, #0\n\t"
      "vmov.i32 q5, #0\n\t"
      "vmov.i32 q6, #0\n\t"
      "vmov.i32 q7, #0\n\t"
      "vmov.i32 q8, #0\n\t"
      "vmov.i32 q9, #0\n\t"
      "vmov.i32 q10, #0\n\t"
      "vmov.i32 q11, #0\n\t"
      "vmov.i32 q12, #0\n\t"
      "vmov.i32 q13, #0\n\t"
      "vmov.i32 q14, #0\n\t"
      "vmov.i32 q15, #0\n\t"
      "lsrs %[k], %[k], #1\n\t"
      "bcc 1f\n\t" FENNEC_NEON32_MK_STEP
      "1:\n\t"
      "cmp %[k], #0\n\t"
      "beq 3f\n\t"
      "2:\n\t" FENNEC_NEON32_MK_STEP FENNEC_NEON32_MK_STEP
      "subs %[k], %[k], #1\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      "vstmia %[c]!, {d8-d23}\n\t"
      "vstmia %[c], {d24-d31}\n\t"
      : [a] "+r"(a), [b] "+r"(b), [k] "+r"(kc), [c] "+r"(c)
      :
      : "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13",
        "d14", "d15", "d16", "d17", "d18", "d19", "d20", "d21", "d22", "d23", "d24", "d25", "d26", "d27", "d28",
        "d29", "d30", "d31");
}
#undef FENNEC_NEON32_MK_STEP

// x > 0 on ARMv7 in integer lanes. GCC 12's arm_neon.h writes vcgtq_f32 as a generic vector
// comparison, which GCC does not give to NEON without -ffast-math (NEON compares flush
// denormals), so it splits into four VFP compares, flag moves and lane inserts: a ReLU cost 39
// instructions per 4 floats. Integer comparisons have no such concern, and on the float's bits
// they give the IEEE answer (denormals included, as the reference's scalar compare does):
//   x > 0  <=>  0 < bits(x) <= bits(+inf)  <=>  bits(x) - 1 < 0x7f800000 unsigned
//          (false for +0, -0, every negative and every NaN).
template <class Arch>
FENNEC_SIMD_INLINE xsimd::batch_bool<float, Arch> neon32_greater_than_zero(Arch, const xsimd::batch<float, Arch>& x) {
  const uint32x4_t bits = vreinterpretq_u32_f32(x);
  return vcltq_u32(vsubq_u32(bits, vdupq_n_u32(1u)), vdupq_n_u32(0x7f800000u));
}

// x < y on ARMv7 in integer lanes, for the same reason. Each float's bits become an int32
// ordered as the floats are: non-negative floats keep their bits, negative ones become minus
// their magnitude bits, so -0 and +0 both map to 0 (equal, as IEEE has them). A NaN lane
// (magnitude bits above +inf's) is false, as the IEEE comparison is.
template <class Arch>
FENNEC_SIMD_INLINE xsimd::batch_bool<float, Arch> neon32_less_than(Arch, const xsimd::batch<float, Arch>& x,
                                                                  const xsimd::batch<float, Arch>& y) {
  const int32x4_t sx = vreinterpretq_s32_f32(x), sy = vreinterpretq_s32_f32(y);
  const int32x4_t magnitude = vdupq_n_s32(0x7fffffff);
  const int32x4_t mx = vandq_s32(sx, magnitude), my = vandq_s32(sy, magnitude);
  const int32x4_t zero = vdupq_n_s32(0);
  const int32x4_t kx = vbslq_s32(vcltq_s32(sx, zero), vnegq_s32(mx), sx);
  const int32x4_t ky = vbslq_s32(vcltq_s32(sy, zero), vnegq_s32(my), sy);
  const int32x4_t inf = vdupq_n_s32(0x7f800000);
  const uint32x4_t ordered = vandq_u32(vcleq_s32(mx, inf), vcleq_s32(my, inf));
  return vandq_u32(vcltq_s32(kx, ky), ordered);
}

#else
template <class Arch>
void interleave_pairs_neon32(Arch, float* p, std::size_t rows);
void micro_kernel_neon32(std::size_t kc, const float* a, const float* b, float* c);
template <class Arch>
xsimd::batch_bool<float, Arch> neon32_greater_than_zero(Arch, const xsimd::batch<float, Arch>& x);
template <class Arch>
xsimd::batch_bool<float, Arch> neon32_less_than(Arch, const xsimd::batch<float, Arch>& x,
                                                const xsimd::batch<float, Arch>& y);
#endif

#if defined(__aarch64__)
// The AArch64 micro-kernel, 8 x 12 over kc >= 1 k steps, in assembly: out[i][4j..] (+)= sum_p
// a_p[i] b_p[4j..]. One step: 24
// fmla by element into v8-v31 (A's 8 values in two registers used by lane, B's 12 in v2-v4) and
// three loads: A of the next step (ldp, into the other pair of A registers: v0-v1 and v5-v6
// alternate), B's third vector of this step (ldr q4) first, and B's first two of the next step
// (ldp q2, q3) last, once this step's fmla no longer read them. Eight steps an iteration by
// immediate offsets, then two adds: 27.5 instructions a step, as the intrinsics loop compiled.
// The intrinsics loop let GCC group the loads: llvm-mca put the Cortex-A53 at 79% of its FMA
// peak (326 cycles per 8 steps, 256 at peak). This order was the best of a search over where
// the three loads go in a step: 267 cycles (96%), the Cortex-A72 and A57 at 100% as before (the
// Cortex-A55 model goes from 59% to 50%: bench/neon-mca.sh prints all four). A load is never
// issued past the panels: the last step (and, below 9 steps, the pairs before it) loads only
// what it uses.
#define FENNEC_NEON64_MK_FMLA(A0, A1) \
  "fmla v8.4s, v2.4s, " A0 ".s[0]\n\t" \
  "fmla v11.4s, v2.4s, " A0 ".s[1]\n\t" \
  "fmla v14.4s, v2.4s, " A0 ".s[2]\n\t" \
  "fmla v17.4s, v2.4s, " A0 ".s[3]\n\t" \
  "fmla v20.4s, v2.4s, " A1 ".s[0]\n\t" \
  "fmla v23.4s, v2.4s, " A1 ".s[1]\n\t" \
  "fmla v26.4s, v2.4s, " A1 ".s[2]\n\t" \
  "fmla v29.4s, v2.4s, " A1 ".s[3]\n\t" \
  "fmla v9.4s, v3.4s, " A0 ".s[0]\n\t" \
  "fmla v12.4s, v3.4s, " A0 ".s[1]\n\t" \
  "fmla v15.4s, v3.4s, " A0 ".s[2]\n\t" \
  "fmla v18.4s, v3.4s, " A0 ".s[3]\n\t" \
  "fmla v21.4s, v3.4s, " A1 ".s[0]\n\t" \
  "fmla v24.4s, v3.4s, " A1 ".s[1]\n\t" \
  "fmla v27.4s, v3.4s, " A1 ".s[2]\n\t" \
  "fmla v30.4s, v3.4s, " A1 ".s[3]\n\t" \
  "fmla v10.4s, v4.4s, " A0 ".s[0]\n\t" \
  "fmla v13.4s, v4.4s, " A0 ".s[1]\n\t" \
  "fmla v16.4s, v4.4s, " A0 ".s[2]\n\t" \
  "fmla v19.4s, v4.4s, " A0 ".s[3]\n\t" \
  "fmla v22.4s, v4.4s, " A1 ".s[0]\n\t" \
  "fmla v25.4s, v4.4s, " A1 ".s[1]\n\t" \
  "fmla v28.4s, v4.4s, " A1 ".s[2]\n\t" \
  "fmla v31.4s, v4.4s, " A1 ".s[3]\n\t"
// One step s of an iteration: A(s) in A0-A1, B(s)'s first two vectors in v2-v3; loads A(s+1)
// into NA0-NA1 (offset AN from a), B(s)'s third (offset B2 from b) and B(s+1)'s first two (BN).
#define FENNEC_NEON64_MK_STEP(A0, A1, NA0, NA1, AN, B2, BN) \
  "ldp " NA0 ", " NA1 ", [%[a], #" AN "]\n\t"             \
  "ldr q4, [%[b], #" B2 "]\n\t" FENNEC_NEON64_MK_FMLA(A0, A1) "ldp q2, q3, [%[b], #" BN "]\n\t"
// Steps 2q and 2q + 1 (A in v0-v1, then v5-v6), offsets as for FENNEC_NEON64_MK_STEP.
#define FENNEC_NEON64_MK_PAIR(AN0, B20, BN0, AN1, B21, BN1)      \
  FENNEC_NEON64_MK_STEP("v0", "v1", "q5", "q6", AN0, B20, BN0) \
  FENNEC_NEON64_MK_STEP("v5", "v6", "q0", "q1", AN1, B21, BN1)
// One row of out (in, post-incremented by a row) added to its accumulators A0-A2.
#define FENNEC_NEON64_MK_ADD_ROW(A0, A1, A2)                                            \
  "ld1 {v0.4s-v2.4s}, [%[in]], %[ld]\n\t"                                               \
  "fadd " A0 ".4s, " A0 ".4s, v0.4s\n\tfadd " A1 ".4s, " A1 ".4s, v1.4s\n\t"            \
  "fadd " A2 ".4s, " A2 ".4s, v2.4s\n\t"
#define FENNEC_NEON64_MK_LAST(A0, A1, B2) "ldr q4, [%[b], #" B2 "]\n\t" FENNEC_NEON64_MK_FMLA(A0, A1)
// out: 8 rows of 12 floats, row r at out + r * ldo; accumulate: out + sums (out read once the
// sums are complete, one ld1 of 3 registers a row, and added to them: the epilogue's order, so a
// tile gives the same bits whichever path it takes, and the thread split, which moves the tile
// edges, cannot change them), else the sums. One st1 of 3 registers a row stores them.
inline void micro_kernel_neon64(std::size_t kc, const float* a, const float* b, float* out, std::size_t ldo,
                                bool accumulate) {
  // kc = 8 * iterations + 2 * pairs + last, last 1 or 2: the iterations and pairs read one step
  // ahead, the last step (or two) nothing past the panels.
  const std::size_t iterations = (kc - 1) / 8;
  const std::size_t rest = kc - 8 * iterations;
  std::size_t pairs = (rest - 1) / 2;
  const std::size_t last = rest - 2 * pairs;
  std::size_t n = iterations;
  const std::size_t row_bytes = ldo * sizeof(float);
  const float* in = out;
  __asm__ volatile(
      "movi v8.4s, #0\n\tmovi v9.4s, #0\n\tmovi v10.4s, #0\n\tmovi v11.4s, #0\n\t"
      "movi v12.4s, #0\n\tmovi v13.4s, #0\n\tmovi v14.4s, #0\n\tmovi v15.4s, #0\n\t"
      "movi v16.4s, #0\n\tmovi v17.4s, #0\n\tmovi v18.4s, #0\n\tmovi v19.4s, #0\n\t"
      "movi v20.4s, #0\n\tmovi v21.4s, #0\n\tmovi v22.4s, #0\n\tmovi v23.4s, #0\n\t"
      "movi v24.4s, #0\n\tmovi v25.4s, #0\n\tmovi v26.4s, #0\n\tmovi v27.4s, #0\n\t"
      "movi v28.4s, #0\n\tmovi v29.4s, #0\n\tmovi v30.4s, #0\n\tmovi v31.4s, #0\n\t"
      "ldp q0, q1, [%[a]]\n\t"
      "ldp q2, q3, [%[b]]\n\t"
      "cbz %[n], 2f\n\t"
      "1:\n\t"
      FENNEC_NEON64_MK_PAIR("32", "32", "48", "64", "80", "96")
      FENNEC_NEON64_MK_PAIR("96", "128", "144", "128", "176", "192")
      FENNEC_NEON64_MK_PAIR("160", "224", "240", "192", "272", "288")
      FENNEC_NEON64_MK_PAIR("224", "320", "336", "256", "368", "384")
      "add %[a], %[a], #256\n\t"
      "add %[b], %[b], #384\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      "2:\n\t"
      "cbz %[pairs], 3f\n\t"
      FENNEC_NEON64_MK_PAIR("32", "32", "48", "64", "80", "96")
      "add %[a], %[a], #64\n\t"
      "add %[b], %[b], #96\n\t"
      "subs %[pairs], %[pairs], #1\n\t"
      "b 2b\n\t"
      "3:\n\t"
      "cmp %[last], #1\n\t"
      "b.eq 4f\n\t"
      FENNEC_NEON64_MK_STEP("v0", "v1", "q5", "q6", "32", "32", "48")
      FENNEC_NEON64_MK_LAST("v5", "v6", "80")
      "b 5f\n\t"
      "4:\n\t"
      FENNEC_NEON64_MK_LAST("v0", "v1", "32")
      "5:\n\t"
      "cbz %[accumulate], 6f\n\t"
      FENNEC_NEON64_MK_ADD_ROW("v8", "v9", "v10")
      FENNEC_NEON64_MK_ADD_ROW("v11", "v12", "v13")
      FENNEC_NEON64_MK_ADD_ROW("v14", "v15", "v16")
      FENNEC_NEON64_MK_ADD_ROW("v17", "v18", "v19")
      FENNEC_NEON64_MK_ADD_ROW("v20", "v21", "v22")
      FENNEC_NEON64_MK_ADD_ROW("v23", "v24", "v25")
      FENNEC_NEON64_MK_ADD_ROW("v26", "v27", "v28")
      FENNEC_NEON64_MK_ADD_ROW("v29", "v30", "v31")
      "6:\n\t"
      "st1 {v8.4s-v10.4s}, [%[out]], %[ld]\n\t"
      "st1 {v11.4s-v13.4s}, [%[out]], %[ld]\n\t"
      "st1 {v14.4s-v16.4s}, [%[out]], %[ld]\n\t"
      "st1 {v17.4s-v19.4s}, [%[out]], %[ld]\n\t"
      "st1 {v20.4s-v22.4s}, [%[out]], %[ld]\n\t"
      "st1 {v23.4s-v25.4s}, [%[out]], %[ld]\n\t"
      "st1 {v26.4s-v28.4s}, [%[out]], %[ld]\n\t"
      "st1 {v29.4s-v31.4s}, [%[out]], %[ld]\n\t"
      : [a] "+r"(a), [b] "+r"(b), [n] "+r"(n), [pairs] "+r"(pairs), [in] "+r"(in), [out] "+r"(out)
      : [last] "r"(last), [ld] "r"(row_bytes), [accumulate] "r"(std::size_t{accumulate})
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
        "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29",
        "v30", "v31");
}
#undef FENNEC_NEON64_MK_LAST
#undef FENNEC_NEON64_MK_ADD_ROW
#undef FENNEC_NEON64_MK_PAIR
#undef FENNEC_NEON64_MK_STEP
#undef FENNEC_NEON64_MK_FMLA
#else
void micro_kernel_neon64(std::size_t kc, const float* a, const float* b, float* out, std::size_t ldo, bool accumulate);
#endif

#if defined(__aarch64__)
// Rows at R0 .. R3 (post-incremented by 16 bytes) into lanes 0 .. 3 of V0 .. V3: a 4x4 block
// transposed by four single-lane ld4.
#define FENNEC_NEON64_LD4_BLOCK(V0, V1, V2, V3, R0, R1, R2, R3)                 \
  "ld4 {" V0 ".s, " V1 ".s, " V2 ".s, " V3 ".s}[0], [%[" R0 "]], #16\n\t"  \
  "ld4 {" V0 ".s, " V1 ".s, " V2 ".s, " V3 ".s}[1], [%[" R1 "]], #16\n\t"  \
  "ld4 {" V0 ".s, " V1 ".s, " V2 ".s, " V3 ".s}[2], [%[" R2 "]], #16\n\t"  \
  "ld4 {" V0 ".s, " V1 ".s, " V2 ".s, " V3 ".s}[3], [%[" R3 "]], #16\n\t"
#endif
#if defined(__ARM_NEON)
// dst[p*ld_dst + r] = src[r*ld_src + p] for r < 4 and p < 4 * blocks (blocks >= 1): four rows
// transposed 4 columns at a time, the GEMM packs' transpose on NEON. One step is 4 single-lane
// vld4/ld4 (row r's 4 floats into lane r of 4 registers, post-incremented) and 4 stores of the
// 4 transposed rows (post-incremented by ld_dst): 10 instructions per 16 floats with the loop's.
// The shuffle transposes they replace were 16 plus address arithmetic on AArch64 (4 loads, 8
// zips, 4 stores) and 22 on ARMv7 (two vtrn.32 and the d halves recombined); GCC had to re-derive
// each block's 4 row addresses too. Registers v0-v3 (q0-q3) are clobbered.
inline void transpose_rows4_neon(const float* src, std::size_t ld_src, std::size_t blocks, float* dst,
                                 std::size_t ld_dst) {
  const float* r0 = src;
  const float* r1 = src + ld_src;
  const float* r2 = src + 2 * ld_src;
  const float* r3 = src + 3 * ld_src;
  const std::size_t step = ld_dst * sizeof(float);
#if defined(__aarch64__)
  __asm__ volatile(
      "1:\n\t"
      FENNEC_NEON64_LD4_BLOCK("v0", "v1", "v2", "v3", "r0", "r1", "r2", "r3")
      "st1 {v0.4s}, [%[d]], %[step]\n\t"
      "st1 {v1.4s}, [%[d]], %[step]\n\t"
      "st1 {v2.4s}, [%[d]], %[step]\n\t"
      "st1 {v3.4s}, [%[d]], %[step]\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3), [d] "+r"(dst), [n] "+r"(blocks)
      : [step] "r"(step)
      : "cc", "memory", "v0", "v1", "v2", "v3");
#else
  // q0-q3 are d0-d7: lane r of q_p is d(2p + r / 2)[r % 2], so the lists are double-spaced.
  __asm__ volatile(
      "1:\n\t"
      "vld4.32 {d0[0], d2[0], d4[0], d6[0]}, [%[r0]]!\n\t"
      "vld4.32 {d0[1], d2[1], d4[1], d6[1]}, [%[r1]]!\n\t"
      "vld4.32 {d1[0], d3[0], d5[0], d7[0]}, [%[r2]]!\n\t"
      "vld4.32 {d1[1], d3[1], d5[1], d7[1]}, [%[r3]]!\n\t"
      "vst1.32 {d0-d1}, [%[d]], %[step]\n\t"
      "vst1.32 {d2-d3}, [%[d]], %[step]\n\t"
      "vst1.32 {d4-d5}, [%[d]], %[step]\n\t"
      "vst1.32 {d6-d7}, [%[d]], %[step]\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3), [d] "+r"(dst), [n] "+r"(blocks)
      : [step] "r"(step)
      : "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7");
#endif
}
#else
void transpose_rows4_neon(const float* src, std::size_t ld_src, std::size_t blocks, float* dst, std::size_t ld_dst);
#endif

#if defined(__aarch64__)
// The same for the 12 rows of a B panel of the AArch64 GEMM (dst rows of 12 floats): per 4
// columns 12 single-lane ld4 and, for each of the 4 panel rows, one stp and one str: 22
// instructions per 48 floats where three 4-row strips take 30. Registers v0-v11 are clobbered.
inline void transpose_rows12_neon64(const float* src, std::size_t ld_src, std::size_t blocks, float* dst) {
  const float* r[12];
  for (std::size_t i = 0; i < 12; ++i) r[i] = src + i * ld_src;
  __asm__ volatile(
      "1:\n\t"
      FENNEC_NEON64_LD4_BLOCK("v0", "v1", "v2", "v3", "r0", "r1", "r2", "r3")
      FENNEC_NEON64_LD4_BLOCK("v4", "v5", "v6", "v7", "r4", "r5", "r6", "r7")
      FENNEC_NEON64_LD4_BLOCK("v8", "v9", "v10", "v11", "r8", "r9", "r10", "r11")
      "str q8, [%[d], #32]\n\t"
      "stp q0, q4, [%[d]], #48\n\t"
      "str q9, [%[d], #32]\n\t"
      "stp q1, q5, [%[d]], #48\n\t"
      "str q10, [%[d], #32]\n\t"
      "stp q2, q6, [%[d]], #48\n\t"
      "str q11, [%[d], #32]\n\t"
      "stp q3, q7, [%[d]], #48\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [r0] "+r"(r[0]), [r1] "+r"(r[1]), [r2] "+r"(r[2]), [r3] "+r"(r[3]), [r4] "+r"(r[4]), [r5] "+r"(r[5]),
        [r6] "+r"(r[6]), [r7] "+r"(r[7]), [r8] "+r"(r[8]), [r9] "+r"(r[9]), [r10] "+r"(r[10]), [r11] "+r"(r[11]),
        [d] "+r"(dst), [n] "+r"(blocks)
      :
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11");
}
#else
void transpose_rows12_neon64(const float* src, std::size_t ld_src, std::size_t blocks, float* dst);
#endif
#undef FENNEC_NEON64_LD4_BLOCK

}  // namespace fennec::kernels::simd

#if XSIMD_WITH_AVX512BW
namespace xsimd::types {
// As xsimd declares avx512bw's: its registers, and mask registers for its batch_bool.
template <class T>
struct get_bool_simd_register<T, ::fennec::kernels::simd::avx512vnni> {
  using type = simd_avx512_bool_register<T>;
};
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(::fennec::kernels::simd::avx512vnni, avx512bw);
template <class T>
struct get_bool_simd_register<T, ::fennec::kernels::simd::avx512bf16> {
  using type = simd_avx512_bool_register<T>;
};
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(::fennec::kernels::simd::avx512bf16, avx512bw);
}  // namespace xsimd::types
#endif
