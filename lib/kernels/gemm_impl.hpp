// SPDX-License-Identifier: Apache-2.0
// xsimd GEMM: C = alpha*op(A)*op(B) + beta*C, then C = act(C + bias) (GemmArgs, kernel_table.hpp).
//
// Goto-style blocking. For each k block (kc <= kGemmKc, balanced so K=784 gives 4 x 196):
//   pack op(B)[kc x n] into NR-column micro-panels (k-major, zero-padded)  -> after the A region
//   for each m block (mc <= kGemmMc): pack op(A)[mc x kc] into MR-row micro-panels -> scratch
//   (scratch layout follows gemm_scratch_floats(m, n, k) in plan.hpp: A region of
//   min(kGemmMc, m+kGemmMaxTile-1) x min(kGemmKc, k) floats, then the B block)
//     for each NR panel of B (stays in L1), for each MR panel of A (streams from L2):
//       MR x NR register tile, kc rank-1 updates (MR broadcasts, NB loads, MR*NB FMAs per k)
//       epilogue on the registers: alpha, beta (first k block only), then bias + activation
//       (last k block only), stored with full or partial batches (no scalar tail loop).
// The bf16 table (opt-in) packs the same panels and rounds them to bf16 pairs (GemmPacking).
// The three forms differ only in how A and B are packed. m == 1 takes a GEMV path that needs
// no scratch (batch-1 inference): NT as dot products over rows of B, NN/TN as row-axpys. The
// narrow layer's forms skip the packing (small-dimension paths): NT with n < NR as tiles of
// unpacked dot products, NN with small k and TN with small m as register tiles of C over all k
// with A broadcast where it lies. Those paths keep f32 products on every table.
#pragma once

#include <cstddef>

#include "fennec/detail/gemm_blocking.hpp"
#include "kernels/elementwise_impl.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/simd_common.hpp"

namespace fennec::kernels::simd {

enum class GemmForm : int { kNT, kNN, kTN };

struct gemm_nt_f32 {
  static constexpr GemmForm kForm = GemmForm::kNT;
  template <class Arch>
  void operator()(Arch, const GemmArgs& g) const;
};
struct gemm_nn_f32 {
  static constexpr GemmForm kForm = GemmForm::kNN;
  template <class Arch>
  void operator()(Arch, const GemmArgs& g) const;
};
struct gemm_tn_f32 {
  static constexpr GemmForm kForm = GemmForm::kTN;
  template <class Arch>
  void operator()(Arch, const GemmArgs& g) const;
};

// Register tile: MR rows x NB batches. Accumulators MR*NB plus the B loads plus the A values
// must fit the register file:
//   16 regs (SSE2, AVX2): 6 x 2 (12 accumulators, 2 B, 1 broadcast).
//   16 q regs (ARMv7 NEON): 6 x 2 with vmla by scalar (kMlaByLane): 12 accumulators, 2 B and the
//   6 A values in 3 d registers; per k step 2 loads for 12 vmla (micro_kernel_neon32, assembly).
//   32 zmm (AVX-512): 8 x 2; the MLP batches (32, 64, 256) are multiples of 8, so no A panel is
//   partly padding (12 rows wasted 11% at batch 32 and 64).
//   32 regs (AArch64): 8 x 3 (8 x 12 floats): 24 accumulators, 3 B vectors and the 8 A values
//   as 2 vectors used by lane (fmla by element), 29 registers. Per k step: 5 loads for 24 fmla,
//   where 8 x 2 with broadcasts took 10 for 16.
template <class Arch>
struct GemmTile {
  static constexpr std::size_t kLanesV = kLanes<Arch>;
  static constexpr bool kByLane = kFmaByLane<Arch>;
  static constexpr std::size_t kMr = kByLane || kLanesV >= 16 ? 8 : 6;
  static constexpr std::size_t kNb = kByLane ? 3 : 2;
  static constexpr std::size_t kNr = kNb * kLanesV;
  // gemm_scratch_floats() pads m and n by kGemmMaxTile - 1: both tile sides must fit in that.
  static_assert(kNr <= kGemmMaxTile && kMr <= kGemmMaxTile, "tile exceeds the plan's padding");
  static_assert(kMr <= kGemmMc, "A block must hold one panel");
  static_assert(!kByLane || kMr % kLanesV == 0, "by-lane A values come in whole vectors");
};

// ---- small-dimension paths (no packing) --------------------------------------------------
//
// One dimension of 10 (the MLP's class layer: NT forward with n = 10, NN dX with k = 10, TN dW
// with m = 10) leaves the packed tiles mostly padding and makes the packing most of the call.
// These paths read A and B where they lie. The choice depends on the small dimension alone,
// which the thread split (parallel_gemm.hpp: ranges of NT/NN columns, TN rows, multiples of 32)
// never changes; and each output's arithmetic is independent of the tile it falls in (rows and
// columns past the edge repeat the last one, computed and dropped).

// Register tiles of the small paths. 32 registers (AVX-512, AArch64) or 16 (SSE2, AVX2, ARMv7).
//   NT (dots along k): Rd rows of A x Cd rows of B, Rd*Cd accumulators + Rd A vectors + 1 B.
//     5 B rows per sweep: the 10-class layer is two sweeps with no repeated rows.
//   NN (small k), TN (small m): Ru rows x NBu vectors of C held over the k steps, Ru broadcasts
//     and NBu loads a step. TN takes 5 rows (10 = 2 x 5 with no repeated row); NN 8 (32 regs:
//     the MLP batches are multiples of 8) or 4 rows.
template <class Arch>
struct SmallTile {
  static constexpr bool kWide = kLanes<Arch> >= 16 || ArchTraits<Arch>::kNeon64;
  static constexpr std::size_t kRd = kWide ? 4 : 2;
  static constexpr std::size_t kCd = 5;
  static constexpr std::size_t kRnn = kWide ? 8 : 4;
  static constexpr std::size_t kNbNn = kWide ? 3 : 2;
  static constexpr std::size_t kRtn = 5;
  static constexpr std::size_t kNbTn = kWide ? 4 : 2;
  // Small-path bounds. Measured on Zen 4 at the 10-class layer only (bench/README.md, "What
  // limits the misses"): k = 10 NN 0.83-0.86x OpenBLAS unpacked against 0.68-0.75x packed, m = 10
  // TN 0.99-1.14x against 0.46-0.53x. 16 is not measured: it keeps both bounds below the thread
  // split's 32-wide ranges (a TN range never changes path). NT keeps the dots for n < NR.
  static constexpr std::size_t kMaxK = 16;
  static constexpr std::size_t kMaxM = 16;
};

// Whether a non-bf16 table runs g unpacked: NN with small k, TN with small m (m >= 2; m == 1 is
// the GEMV's).
template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE bool gemm_small_path(Arch, const GemmArgs& g) {
  if constexpr (ArchTraits<Arch>::kBf16Gemm) return false;
  // NEON keeps the packed NN tile: its by-lane FMAs take the 8 (or 6) A values in two loads a
  // step, where this tile needs one load-and-duplicate per row; under QEMU the unpacked NN took
  // 12-24% more AArch64 instructions per MAC on the 256-10 dX (bench/qemu, b16 and b64).
  if (F == GemmForm::kNN) return ArchTraits<Arch>::kX86 && g.k <= SmallTile<Arch>::kMaxK;
  if (F == GemmForm::kTN) return g.m <= SmallTile<Arch>::kMaxM;
  return false;
}

// Whether the driver multiplies packed panels for g. The other paths (no products, batch 1, NT's
// narrow outputs, and on f32 tables NN's small k and TN's small m) keep f32 products on every
// table: a bf16 table's GEMM rows hand them to its base table's rows (simd_table.hpp), so its
// driver compiles only the packed path. A bf16 table packs NN and TN whatever their size
// (gemm_small_path), as it did before those paths existed.
template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE bool gemm_packs(Arch arch, const GemmArgs& g) {
  if (g.m <= 1 || g.n == 0 || g.k == 0 || gemm_small_path<F>(arch, g)) return false;
  return F != GemmForm::kNT || g.n >= GemmTile<Arch>::kNr;
}

// What the packed panels hold along k, and so what one micro-kernel step consumes. f32 (every
// table but one): the packed floats, one k a step. bf16 (ArchTraits::kBf16Gemm, opt-in): each
// panel, once packed as f32, is rounded in place to bf16 pairs (pair_rows_bf16, arch_traits.hpp),
// so a step takes two k with one vdpbf16ps and still advances MR and NR 32-bit lanes: the packing
// loops, the blocking, the scratch size and the epilogue are the f32 ones. An ARMv8.6 table
// would plug BFDOT in here (the same pair per 32-bit lane).
template <class Arch>
struct GemmPacking {
  static constexpr bool kBf16 = ArchTraits<Arch>::kBf16Gemm;
  static constexpr std::size_t steps(std::size_t kc) { return kBf16 ? (kc + 1) / 2 : kc; }
  // Called once a panel of kc rows of W floats is packed.
  // ARMv7 (kMlaByLane): B's panels (W = NR = 8) interleaved for the kernel's one vld2 a step.
  template <std::size_t W>
  static FENNEC_SIMD_INLINE void finish_panel(float* panel, std::size_t kc) {
    if constexpr (kBf16) pair_rows_bf16<W>(Arch{}, panel, kc);
    if constexpr (kMlaByLane<Arch> && W == GemmTile<Arch>::kNr) interleave_pairs_neon32(Arch{}, panel, kc);
  }
};

// ---- packing -----------------------------------------------------------------------------

// dst[p*ld_dst + j] = src[j*ld_src + p] for j < T = ArchTraits<Arch>::kTransposeBlock and
// p < T * blocks: T rows of src transposed a square block at a time, 8x8 by AVX shuffles, 4x4 by
// SSE shuffles, and on NEON by single-lane ld4 loads (transpose_rows4_neon, arch_traits.hpp).
template <class Arch>
FENNEC_SIMD_INLINE void transpose_strip(Arch arch, const float* src, std::size_t ld_src, std::size_t blocks, float* dst,
                                        std::size_t ld_dst) {
  if constexpr (ArchTraits<Arch>::kNeon) {
    (void)arch;
    if (blocks > 0) transpose_rows4_neon(src, ld_src, blocks, dst, ld_dst);
  } else {
    constexpr std::size_t T = ArchTraits<Arch>::kTransposeBlock;
    for (std::size_t b = 0; b < blocks; ++b, src += T, dst += T * ld_dst) {
      if constexpr (ArchTraits<Arch>::kAvx) {
        transpose8x8_avx(arch, src, ld_src, dst, ld_dst);
      } else {
        static_assert(ArchTraits<Arch>::kSse, "a transpose for this arch");
        FENNEC_TRANSPOSE4X4_SSE(src, ld_src, dst, ld_dst);
      }
    }
  }
}

// op(A) rows [i0, i0+mc), k range [p0, p0+kc) into MR-row panels: dst[panel][p][i].
template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE void pack_a(Arch arch, const GemmArgs& g, std::size_t i0, std::size_t mc, std::size_t p0,
                               std::size_t kc, float* dst) {
  constexpr std::size_t MR = GemmTile<Arch>::kMr;
  for (std::size_t ir = 0; ir < mc; ir += MR) {
    const std::size_t rows = min_size(arch, MR, mc - ir);
    float* d = dst + ir * kc;
    if constexpr (F == GemmForm::kTN) {
      // A is (k x m): op(A)(i, p) = a[p*lda + i], MR contiguous floats per p: whole vectors
      // when the panel is full (GCC left the element loop scalar, 2 instructions a float).
      const float* src = g.a + p0 * g.lda + i0 + ir;
      if constexpr (MR % kLanes<Arch> == 0) {
        if (rows == MR) {
          using V = Vf<Arch>;
          const std::size_t lda = g.lda;
          for (std::size_t p = 0; p < kc; ++p, src += lda, d += MR)
            for (std::size_t i = 0; i < MR; i += kLanes<Arch>) V::load_unaligned(src + i).store_unaligned(d + i);
          continue;
        }
      }
      for (std::size_t p = 0; p < kc; ++p, src += g.lda, d += MR) {
        for (std::size_t i = 0; i < rows; ++i) d[i] = src[i];
        for (std::size_t i = rows; i < MR; ++i) d[i] = 0.f;
      }
    } else {
      // A is (m x k): op(A)(i, p) = a[i*lda + p]; read each row contiguously.
      // NEON: 4 rows x 4 k at a time through a register transpose (the scalar copy below
      // cost 3-4 instructions a float; this is 0.6).
      if constexpr (ArchTraits<Arch>::kNeon) {
        if (rows == MR) {
          const std::size_t kc4 = kc / 4 * 4, lda = g.lda;
          std::size_t i = 0;
          for (; i + 4 <= MR; i += 4) {
            const float* src = g.a + (i0 + ir + i) * lda + p0;
            transpose_strip(arch, src, lda, kc4 / 4, d + i, MR);
            for (std::size_t q = 0; q < 4; ++q)
              for (std::size_t p = kc4; p < kc; ++p) d[p * MR + i + q] = src[q * lda + p];
          }
          for (; i < MR; ++i) {
            const float* src = g.a + (i0 + ir + i) * lda + p0;
            for (std::size_t p = 0; p < kc; ++p) d[p * MR + i] = src[p];
          }
          continue;
        }
      }
      for (std::size_t i = 0; i < MR; ++i) {
        if (i < rows) {
          const float* src = g.a + (i0 + ir + i) * g.lda + p0;
          for (std::size_t p = 0; p < kc; ++p) d[p * MR + i] = src[p];
        } else {
          for (std::size_t p = 0; p < kc; ++p) d[p * MR + i] = 0.f;
        }
      }
    }
  }
}


// op(B) k range [p0, p0+kc), all n columns into NR-column panels: dst[panel][p][j].
template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE void pack_b(Arch arch, const GemmArgs& g, std::size_t p0, std::size_t kc, float* dst) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  constexpr std::size_t NR = GemmTile<Arch>::kNr;
  const std::size_t n = g.n;
  for (std::size_t jr = 0; jr < n; jr += NR, dst += kc * NR) {
    const std::size_t cols = min_size(arch, NR, n - jr);
    if constexpr (F == GemmForm::kNT) {
      // B is (n x k): op(B)(p, j) = b[j*ldb + p]; a transpose. Full panels go through 8x8
      // (AVX) or 4x4 (SSE, NEON) register transposes; this pack is most of the NT forward's
      // overhead (on NEON the scalar copy was a quarter of the forward's instructions).
      if (cols == NR) {
        constexpr std::size_t T = ArchTraits<Arch>::kTransposeBlock;
        // Locals, not g.b/g.ldb: the stores to dst may alias g as far as the compiler knows,
        // which reloaded both for every block.
        const std::size_t ldb = g.ldb;
        const float* src = g.b + jr * ldb + p0;
        if constexpr (ArchTraits<Arch>::kNeon64 && NR == 12) {
          if (kc >= 4) transpose_rows12_neon64(src, ldb, kc / 4, dst);
        } else {
          for (std::size_t j0 = 0; j0 < NR; j0 += T) transpose_strip(arch, src + j0 * ldb, ldb, kc / T, dst + j0, NR);
        }
        for (std::size_t p = kc / T * T; p < kc; ++p)
          for (std::size_t j = 0; j < NR; ++j) dst[p * NR + j] = src[j * ldb + p];
        continue;
      }
      for (std::size_t j = 0; j < NR; ++j) {
        if (j < cols) {
          const float* src = g.b + (jr + j) * g.ldb + p0;
          for (std::size_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
        } else {
          for (std::size_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.f;
        }
      }
    } else {
      // B is (k x n): op(B)(p, j) = b[p*ldb + j], NR contiguous floats per p.
      const float* src = g.b + p0 * g.ldb + jr;
      float* d = dst;
      if (cols == NR) {
        for (std::size_t p = 0; p < kc; ++p, src += g.ldb, d += NR)
          for (std::size_t q = 0; q < NR; q += L) V::load_unaligned(src + q).store_unaligned(d + q);
      } else {
        for (std::size_t p = 0; p < kc; ++p, src += g.ldb, d += NR)
          for (std::size_t q = 0; q < NR; q += L) {
            const V v = q + L <= cols ? V::load_unaligned(src + q)
                        : q < cols    ? load_partial(arch, src + q, cols - q, 0.f)
                                      : V(0.f);
            v.store_unaligned(d + q);
          }
      }
    }
  }
}

// ---- micro-kernel and epilogue -----------------------------------------------------------

// Accumulators are named variables, not an array: GCC keeps a 6x2 array of ymm in registers
// but spills a 12x2 array of zmm to the stack on every k step (too large for its scalar
// replacement). The kernel is also kept out of line: inlined into the driver, GCC 12 still
// spilled most of the 24 zmm accumulators (the AVX-512 GEMM ran at 35 GFLOP/s against 90 for
// AVX2); on its own it allocates them all to registers. One call per MR x NR x kc tile.
// Rows beyond MR and batches beyond NB are compiled out.
//
// Broadcast form (x86): each A value is broadcast into a register, MR per k step. The NEON
// tiles are assembly (arch_traits.hpp): ARMv7's 6 x 8 with vmla by scalar, AArch64's 8 x 12 with
// fmla by element (the MR A values loaded as MR/L vectors, each fmla taking its multiplier from a
// lane; xsimd 8.1 has no API for it, and building the broadcast from batch::get() spills: 8.1's
// get() is a store and reload).
#define FENNEC_MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
template <class Arch, std::size_t MR, std::size_t NB>
__attribute__((noinline)) void micro_kernel(Arch, std::size_t kc, const float* ap, const float* bp,
                                     Vf<Arch> (&c)[MR][NB]) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  static_assert((NB == 2 || NB == 3) && MR <= 12, "named accumulators cover up to 12 x 3");
  if constexpr (kMlaByLane<Arch>) {
    static_assert(MR == 6 && NB == 2, "the ARMv7 kernel is 6 x 8");
    // c is 12 vectors in a row; the assembly stores them in that order.
    micro_kernel_neon32(kc, ap, bp, reinterpret_cast<float*>(&c[0][0]));
    return;
  }
  if constexpr (kFmaByLane<Arch>) {
    static_assert(MR == 8 && NB == 3, "the AArch64 kernel is 8 x 12");
    // Its loads placed for in-order cores (micro_kernel_neon64, arch_traits.hpp); c is 8 rows
    // of 12 floats.
    micro_kernel_neon64(kc, ap, bp, reinterpret_cast<float*>(&c[0][0]), NB * L, false);
    return;
  }
#define FENNEC_MK_DECL(i) [[maybe_unused]] V c##i##_0(0.f), c##i##_1(0.f), c##i##_2(0.f);
  FENNEC_MK_ROWS(FENNEC_MK_DECL)
#undef FENNEC_MK_DECL
  // Unrolling the k loop removes the loop overhead, which cost ~20% of the kernel's time
  // when it was measured rolled.
  FENNEC_GEMM_K_UNROLL
  for (std::size_t p = 0; p < kc; ++p) {
    const V b0 = V::load_unaligned(bp);
    const V b1 = V::load_unaligned(bp + L);
    [[maybe_unused]] const V b2 = NB > 2 ? V::load_unaligned(bp + 2 * L) : b1;
    if constexpr (GemmPacking<Arch>::kBf16) {
      // One step is two k: each 32-bit lane of A and B holds a bf16 pair.
#define FENNEC_MK_DOT(i)                                  \
  if constexpr (MR > i) {                                 \
    const V a(ap[i]);                                     \
    c##i##_0 = dot_bf16_pairs(Arch{}, c##i##_0, a, b0);   \
    c##i##_1 = dot_bf16_pairs(Arch{}, c##i##_1, a, b1);   \
    if constexpr (NB > 2) c##i##_2 = dot_bf16_pairs(Arch{}, c##i##_2, a, b2); \
  }
      FENNEC_MK_ROWS(FENNEC_MK_DOT)
#undef FENNEC_MK_DOT
    } else {
#define FENNEC_MK_FMA(i)                                         \
  if constexpr (MR > i) {                                        \
    const V a(ap[i]);                                            \
    c##i##_0 = xsimd::fma(a, b0, c##i##_0);                      \
    c##i##_1 = xsimd::fma(a, b1, c##i##_1);                      \
    if constexpr (NB > 2) c##i##_2 = xsimd::fma(a, b2, c##i##_2); \
  }
      FENNEC_MK_ROWS(FENNEC_MK_FMA)
#undef FENNEC_MK_FMA
    }
    ap += MR;
    bp += NB * L;
  }
#define FENNEC_MK_OUT(i)                      \
  if constexpr (MR > i) {                     \
    c[i][0] = c##i##_0;                       \
    c[i][1] = c##i##_1;                       \
    if constexpr (NB > 2) c[i][NB - 1] = c##i##_2; \
  }
  FENNEC_MK_ROWS(FENNEC_MK_OUT)
#undef FENNEC_MK_OUT
}
#undef FENNEC_MK_ROWS

struct EpilogueArgs {
  float alpha;
  float beta;          // 0: C is not read
  const float* bias;   // null, or the tile's first bias (applied with the activation in the last k block)
  float act_alpha;
};

// A whole MR x NR tile with alpha 1 and beta 0 or 1 (every GEMM of an MLP step):
// C = act(acc [+ C] [+ bias]) with the choices made at compile time, so a vector costs its
// loads, adds and store and no tests (the general path below spent ~12 instructions a vector).
template <int Kind, bool ReadC, bool Bias, class Arch, std::size_t MR, std::size_t NB>
FENNEC_SIMD_INLINE void store_full_tile(Arch arch, Vf<Arch> (&c)[MR][NB], float* C, std::size_t ldc,
                                        const float* bias, float act_alpha) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const V aa(act_alpha);
  [[maybe_unused]] V bv[NB];
  if constexpr (Bias) {
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NB; ++j) bv[j] = V::load_unaligned(bias + j * L);
  }
#pragma GCC unroll 16
  for (std::size_t i = 0; i < MR; ++i) {
    float* crow = C + i * ldc;
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NB; ++j) {
      V r = c[i][j];
      if constexpr (ReadC) r += V::load_unaligned(crow + j * L);
      if constexpr (Bias) r += bv[j];
      act_fwd<Kind>(arch, r, aa).store_unaligned(crow + j * L);
    }
  }
}

// C[0..mr, 0..nr) = act(alpha*acc + beta*C + bias); mr <= MR, nr <= NB*L.
template <int Kind, class Arch, std::size_t MR, std::size_t NB>
FENNEC_SIMD_INLINE void store_tile(Arch arch, Vf<Arch> (&c)[MR][NB], float* C, std::size_t ldc, std::size_t mr,
                                   std::size_t nr, const EpilogueArgs& e) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  if (mr == MR && nr == NB * L && e.alpha == 1.f && (e.beta == 0.f || e.beta == 1.f)) {
    if (e.beta == 1.f) {
      if (e.bias)
        store_full_tile<Kind, true, true>(arch, c, C, ldc, e.bias, e.act_alpha);
      else
        store_full_tile<Kind, true, false>(arch, c, C, ldc, e.bias, e.act_alpha);
    } else {
      if (e.bias)
        store_full_tile<Kind, false, true>(arch, c, C, ldc, e.bias, e.act_alpha);
      else
        store_full_tile<Kind, false, false>(arch, c, C, ldc, e.bias, e.act_alpha);
    }
    return;
  }
  const V av(e.alpha), bv(e.beta), act_alpha(e.act_alpha);
  const bool read_c = e.beta != 0.f;
  const bool beta_one = e.beta == 1.f;
#pragma GCC unroll 16
  for (std::size_t i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* crow = C + i * ldc;
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NB; ++j) {
      const std::size_t col = j * L;
      if (col >= nr) break;
      V r = c[i][j] * av;
      if (col + L <= nr) {
        if (read_c) r = beta_one ? r + V::load_unaligned(crow + col) : xsimd::fma(bv, V::load_unaligned(crow + col), r);
        if (e.bias) r += V::load_unaligned(e.bias + col);
        act_fwd<Kind>(arch, r, act_alpha).store_unaligned(crow + col);
      } else {
        const std::size_t cnt = nr - col;
        if (read_c) {
          const V cv = load_partial(arch, crow + col, cnt, 0.f);
          r = beta_one ? r + cv : xsimd::fma(bv, cv, r);
        }
        if (e.bias) r += load_partial(arch, e.bias + col, cnt, 0.f);
        store_partial(arch, crow + col, act_fwd<Kind>(arch, r, act_alpha), cnt);
      }
    }
  }
}

// ---- GEMV paths (m == 1, no scratch) -----------------------------------------------------

// After the raw products are in c[0..n): C = act(C + bias) (the alpha/beta part is done).
template <class Arch>
FENNEC_SIMD_INLINE void gemv_finish(Arch arch, const GemmArgs& g) {
  if (g.bias || g.act.kind != Activation::kIdentity) bias_act_fwd_f32{}(arch, 1, g.n, g.c, g.ldc, g.bias, g.act);
}

// One row of C = A * B^T without packing: c[j] = alpha * dot(x[0..k), b[j*ldb ..]) + beta*c[j],
// four rows of B per sweep over x, then bias + activation on the row (m == 1, GEMV).
template <class Arch>
FENNEC_SIMD_INLINE void dot_row_nt(Arch arch, const GemmArgs& g, const float* x, float* c) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  const std::size_t n = g.n, k = g.k;
  const std::size_t kfull = k / L * L;
  auto finish = [&](std::size_t j, float dot) {
    const float r = g.alpha * dot;
    c[j] = g.beta == 0.f ? r : r + g.beta * c[j];
  };
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* b0 = g.b + j * g.ldb;
    const float* b1 = b0 + g.ldb;
    const float* b2 = b1 + g.ldb;
    const float* b3 = b2 + g.ldb;
    V s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    std::size_t p = 0;
    for (; p < kfull; p += L) {
      const V xv = V::load_unaligned(x + p);
      s0 = xsimd::fma(xv, V::load_unaligned(b0 + p), s0);
      s1 = xsimd::fma(xv, V::load_unaligned(b1 + p), s1);
      s2 = xsimd::fma(xv, V::load_unaligned(b2 + p), s2);
      s3 = xsimd::fma(xv, V::load_unaligned(b3 + p), s3);
    }
    if (p < k) {
      const std::size_t r = k - p;
      const V xv = load_partial(arch, x + p, r, 0.f);
      s0 = xsimd::fma(xv, load_partial(arch, b0 + p, r, 0.f), s0);
      s1 = xsimd::fma(xv, load_partial(arch, b1 + p, r, 0.f), s1);
      s2 = xsimd::fma(xv, load_partial(arch, b2 + p, r, 0.f), s2);
      s3 = xsimd::fma(xv, load_partial(arch, b3 + p, r, 0.f), s3);
    }
    finish(j, xsimd::hadd(s0));
    finish(j + 1, xsimd::hadd(s1));
    finish(j + 2, xsimd::hadd(s2));
    finish(j + 3, xsimd::hadd(s3));
  }
  for (; j < n; ++j) {
    const float* b0 = g.b + j * g.ldb;
    V s0(0.f);
    std::size_t p = 0;
    for (; p < kfull; p += L) s0 = xsimd::fma(V::load_unaligned(x + p), V::load_unaligned(b0 + p), s0);
    if (p < k) s0 = xsimd::fma(load_partial(arch, x + p, k - p, 0.f), load_partial(arch, b0 + p, k - p, 0.f), s0);
    finish(j, xsimd::hadd(s0));
  }
  if (g.bias || g.act.kind != Activation::kIdentity) bias_act_fwd_f32{}(arch, 1, n, c, g.ldc, g.bias, g.act);
}

// c[j] = alpha * sum_p x[p*xs] * b[p*ldb + j] + beta*c[j] (NN: x = a, xs = 1; TN: xs = lda).
template <std::size_t W, class Arch>
FENNEC_SIMD_INLINE void gemv_axpy_block(Arch arch, const GemmArgs& g, std::size_t xs, std::size_t j,
                                        std::size_t cols) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  V s[W];
#pragma GCC unroll 4
  for (std::size_t q = 0; q < W; ++q) s[q] = V(0.f);
  const float* brow = g.b + j;
  const float* x = g.a;
  for (std::size_t p = 0; p < g.k; ++p, brow += g.ldb, x += xs) {
    const V xv(*x);
    if (cols == W * L) {
#pragma GCC unroll 4
      for (std::size_t q = 0; q < W; ++q) s[q] = xsimd::fma(xv, V::load_unaligned(brow + q * L), s[q]);
    } else {
      s[0] = xsimd::fma(xv, load_partial(arch, brow, cols, 0.f), s[0]);
    }
  }
  const V av(g.alpha), bv(g.beta);
  float* c = g.c + j;
#pragma GCC unroll 4
  for (std::size_t q = 0; q < W; ++q) {
    if (q * L >= cols) break;
    const std::size_t cnt = min_size(arch, L, cols - q * L);
    V r = s[q] * av;
    if (cnt == L) {
      if (g.beta != 0.f) r = xsimd::fma(bv, V::load_unaligned(c + q * L), r);
      r.store_unaligned(c + q * L);
    } else {
      if (g.beta != 0.f) r = xsimd::fma(bv, load_partial(arch, c + q * L, cnt, 0.f), r);
      store_partial(arch, c + q * L, r, cnt);
    }
  }
}

template <class Arch>
FENNEC_SIMD_INLINE void gemv_axpy(Arch arch, const GemmArgs& g, std::size_t xs) {
  constexpr std::size_t L = kLanes<Arch>;
  const std::size_t n = g.n;
  std::size_t j = 0;
  for (; j + 4 * L <= n; j += 4 * L) gemv_axpy_block<4>(arch, g, xs, j, 4 * L);
  for (; j + L <= n; j += L) gemv_axpy_block<1>(arch, g, xs, j, L);
  if (j < n) gemv_axpy_block<1>(arch, g, xs, j, n - j);
  gemv_finish(arch, g);
}

// dots[r][c] = dot(x_r[0..k), w_c[0..k)) over R rows of A and C rows of B: full vectors, one
// partial vector for k's tail, one horizontal sum per output (the order dot_row_nt sums in).
template <class Arch, std::size_t R, std::size_t C>
__attribute__((noinline)) void dot_tile_nt(Arch arch, std::size_t k, const float* const (&x)[R],
                                           const float* const (&w)[C], float (&dots)[R][C]) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  V s[R][C];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) s[r][c] = V(0.f);
  const std::size_t kfull = k / L * L;
  auto step = [&](auto load) {
    V xv[R];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) xv[r] = load(x[r]);
#pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) {
      const V wv = load(w[c]);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r) s[r][c] = xsimd::fma(xv[r], wv, s[r][c]);
    }
  };
  std::size_t p = 0;
#pragma GCC unroll 2
  for (; p < kfull; p += L) step([p](const float* q) { return V::load_unaligned(q + p); });
  if (p < k) step([&](const float* q) { return load_partial(arch, q + p, k - p, 0.f); });
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) dots[r][c] = xsimd::hadd(s[r][c]);
}

// NT with n < NR and m >= 2: Rd x Cd dot tiles, then bias + activation over C.
template <class Arch>
FENNEC_SIMD_INLINE void gemm_nt_dot_tiles(Arch arch, const GemmArgs& g) {
  constexpr std::size_t R = SmallTile<Arch>::kRd, C = SmallTile<Arch>::kCd;
  const std::size_t m = g.m, n = g.n;
  for (std::size_t i0 = 0; i0 < m; i0 += R) {
    const std::size_t rows = min_size(arch, R, m - i0);
    const float* x[R];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) x[r] = g.a + (i0 + min_size(arch, r, rows - 1)) * g.lda;
    for (std::size_t j0 = 0; j0 < n; j0 += C) {
      const std::size_t cols = min_size(arch, C, n - j0);
      const float* w[C];
#pragma GCC unroll 8
      for (std::size_t c = 0; c < C; ++c) w[c] = g.b + (j0 + min_size(arch, c, cols - 1)) * g.ldb;
      float dots[R][C];
      dot_tile_nt<Arch, R, C>(arch, g.k, x, w, dots);
      for (std::size_t r = 0; r < rows; ++r) {
        float* crow = g.c + (i0 + r) * g.ldc + j0;
        for (std::size_t c = 0; c < cols; ++c) {
          const float v = g.alpha * dots[r][c];
          crow[c] = g.beta == 0.f ? v : v + g.beta * crow[c];
        }
      }
    }
  }
  if (g.bias || g.act.kind != Activation::kIdentity) bias_act_fwd_f32{}(arch, m, n, g.c, g.ldc, g.bias, g.act);
}

// acc[i][q] = sum_p op(A)(i, p) * op(B)(p, q*L ..) over all k, from unpacked A and B: the
// micro-kernel's k loop (one FMA chain per output from zero, in k order) with A broadcast where
// it lies. a points at op(A)(i0, 0), b at op(B)(0, j0); rows past `rows` repeat the last one.
// Partial (NB == 1): the single vector holds `cols` < L columns.
template <GemmForm F, class Arch, std::size_t R, std::size_t NB, bool Partial>
__attribute__((noinline)) void unpacked_tile(Arch arch, std::size_t k, const float* a, std::size_t lda,
                                             std::size_t rows, const float* b, std::size_t ldb, std::size_t cols,
                                             Vf<Arch> (&acc)[R][NB]) {
  using V = Vf<Arch>;
  constexpr std::size_t L = kLanes<Arch>;
  static_assert(!Partial || NB == 1, "a partial tile is one vector wide");
  // NN: op(A)(i, p) = a[i*lda + p], a row per i; TN: a[p*lda + i], one row of A per p.
  const std::size_t row_step = F == GemmForm::kNN ? lda : 1;
  const std::size_t k_step = F == GemmForm::kNN ? 1 : lda;
  const float* ar[R];
#pragma GCC unroll 16
  for (std::size_t i = 0; i < R; ++i) ar[i] = a + min_size(arch, i, rows - 1) * row_step;
  V c[R][NB];
#pragma GCC unroll 16
  for (std::size_t i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (std::size_t q = 0; q < NB; ++q) c[i][q] = V(0.f);
  FENNEC_GEMM_K_UNROLL
  for (std::size_t p = 0; p < k; ++p, b += ldb) {
    V bv[NB];
    if constexpr (Partial) {
      bv[0] = load_partial(arch, b, cols, 0.f);
    } else {
#pragma GCC unroll 4
      for (std::size_t q = 0; q < NB; ++q) bv[q] = V::load_unaligned(b + q * L);
    }
    const std::size_t ap = p * k_step;
#pragma GCC unroll 16
    for (std::size_t i = 0; i < R; ++i) {
      const V av(ar[i][ap]);
#pragma GCC unroll 4
      for (std::size_t q = 0; q < NB; ++q) c[i][q] = xsimd::fma(av, bv[q], c[i][q]);
    }
  }
#pragma GCC unroll 16
  for (std::size_t i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (std::size_t q = 0; q < NB; ++q) acc[i][q] = c[i][q];
}

// NN with small k or TN with small m: R x NB tiles (then one-vector tiles for the column tail)
// over all k, each stored once through the packed path's epilogue with alpha and beta, then bias
// + activation over C as the dot tiles do (an activation inlined into this epilogue too took the
// AArch64 build's bias_act_fwd tanh/sigmoid rows 12% more instructions under QEMU).
template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE void gemm_unpacked(Arch arch, const GemmArgs& g) {
  constexpr bool kNN = F == GemmForm::kNN;
  constexpr std::size_t R = kNN ? SmallTile<Arch>::kRnn : SmallTile<Arch>::kRtn;
  constexpr std::size_t NB = kNN ? SmallTile<Arch>::kNbNn : SmallTile<Arch>::kNbTn;
  constexpr std::size_t L = kLanes<Arch>;
  constexpr int kIdentity = static_cast<int>(Activation::kIdentity);
  const std::size_t m = g.m, n = g.n;
  const std::size_t a_row = kNN ? g.lda : 1;
  const EpilogueArgs e{g.alpha, g.beta, nullptr, 0.f};
  auto columns = [&](auto nb_c, auto partial_c, std::size_t j0, std::size_t cols) {
    constexpr std::size_t W = decltype(nb_c)::value;
    for (std::size_t i0 = 0; i0 < m; i0 += R) {
      const std::size_t rows = min_size(arch, R, m - i0);
      Vf<Arch> acc[R][W];
      unpacked_tile<F, Arch, R, W, decltype(partial_c)::value>(arch, g.k, g.a + i0 * a_row, g.lda, rows, g.b + j0,
                                                               g.ldb, cols, acc);
      store_tile<kIdentity, Arch, R, W>(arch, acc, g.c + i0 * g.ldc + j0, g.ldc, rows, cols, e);
    }
  };
  using NbFull = std::integral_constant<std::size_t, NB>;
  using NbOne = std::integral_constant<std::size_t, 1>;
  std::size_t j0 = 0;
  for (; j0 + NB * L <= n; j0 += NB * L) columns(NbFull{}, std::false_type{}, j0, NB * L);
  for (; j0 + L <= n; j0 += L) columns(NbOne{}, std::false_type{}, j0, L);
  if (j0 < n) columns(NbOne{}, std::true_type{}, j0, n - j0);
  if (g.bias || g.act.kind != Activation::kIdentity) bias_act_fwd_f32{}(arch, m, n, g.c, g.ldc, g.bias, g.act);
}

// ---- driver ------------------------------------------------------------------------------

template <GemmForm F, class Arch>
FENNEC_SIMD_INLINE void gemm_driver(Arch arch, const GemmArgs& g) {
  constexpr std::size_t MR = GemmTile<Arch>::kMr;
  constexpr std::size_t NB = GemmTile<Arch>::kNb;
  constexpr std::size_t NR = GemmTile<Arch>::kNr;
  const std::size_t m = g.m, n = g.n, k = g.k;
  // A bf16 table is only called here for the packed path (gemm_packs).
  if constexpr (!GemmPacking<Arch>::kBf16) {
    if (!gemm_packs<F>(arch, g)) {
      if (m == 0 || n == 0) return;
      if (k == 0) {
        // No products: C = act(beta*C + bias).
        for (std::size_t i = 0; i < m; ++i) {
          float* cr = g.c + i * g.ldc;
          if (g.beta == 0.f) {
            for (std::size_t j = 0; j < n; ++j) cr[j] = 0.f;
          } else {
            scale_f32{}(arch, n, cr, g.beta);
          }
        }
        bias_act_fwd_f32{}(arch, m, n, g.c, g.ldc, g.bias, g.act);
        return;
      }
      // m == 1, NT with n < NR, NN with small k, TN with small m.
      if constexpr (F == GemmForm::kNT) {
        if (m == 1) return dot_row_nt(arch, g, g.a, g.c);
        return gemm_nt_dot_tiles(arch, g);
      } else {
        if (m == 1) return gemv_axpy(arch, g, F == GemmForm::kNN ? 1 : g.lda);
        return gemm_unpacked<F>(arch, g);
      }
    }
  }

  const std::size_t kblocks = (k + kGemmKc - 1) / kGemmKc;
  const std::size_t kc_max = (k + kblocks - 1) / kblocks;
  constexpr std::size_t mc_max = kGemmMc / MR * MR;
  const std::size_t a_rows = min_size(arch, kGemmMc, m + kGemmMaxTile - 1);
  float* apack = g.scratch;
  float* bpack = g.scratch + a_rows * min_size(arch, kGemmKc, k);

  for (std::size_t p0 = 0; p0 < k; p0 += kc_max) {
    const std::size_t kc = min_size(arch, kc_max, k - p0);
    const bool first = p0 == 0;
    const bool last = p0 + kc == k;
    const float* bias = last ? g.bias : nullptr;
    const Activation kind = last ? g.act.kind : Activation::kIdentity;
    pack_b<F>(arch, g, p0, kc, bpack);
    for (std::size_t jr = 0; jr < n; jr += NR) GemmPacking<Arch>::template finish_panel<NR>(bpack + jr * kc, kc);
    for (std::size_t i0 = 0; i0 < m; i0 += mc_max) {
      const std::size_t mc = min_size(arch, mc_max, m - i0);
      pack_a<F>(arch, g, i0, mc, p0, kc, apack);
      for (std::size_t ir = 0; ir < mc; ir += MR) GemmPacking<Arch>::template finish_panel<MR>(apack + ir * kc, kc);
      with_activation(arch, kind, [&](auto kind_c) {
        constexpr int K = decltype(kind_c)::value;
        for (std::size_t jr = 0; jr < n; jr += NR) {
          const std::size_t nr = min_size(arch, NR, n - jr);
          const float* bp = bpack + jr * kc;
          const EpilogueArgs e{g.alpha, first ? g.beta : 1.f, bias ? bias + jr : nullptr, g.act.alpha};
          for (std::size_t ir = 0; ir < mc; ir += MR) {
            const std::size_t mr = min_size(arch, MR, mc - ir);
            if constexpr (kFmaByLane<Arch>) {
              // A whole tile that is only C = sums or C += sums (the k blocks before the last,
              // and every block of a GEMM without bias or activation): the kernel adds C to its
              // sums itself, in the epilogue's order (acc + C), and stores the tile, which saves
              // the round trip through acc and the epilogue.
              if (mr == MR && nr == NR && e.alpha == 1.f && (e.beta == 0.f || e.beta == 1.f) && !e.bias &&
                  K == static_cast<int>(Activation::kIdentity)) {
                micro_kernel_neon64(GemmPacking<Arch>::steps(kc), apack + ir * kc, bp, g.c + (i0 + ir) * g.ldc + jr,
                                    g.ldc, e.beta == 1.f);
                continue;
              }
            }
            Vf<Arch> acc[MR][NB];
            micro_kernel<Arch, MR, NB>(arch, GemmPacking<Arch>::steps(kc), apack + ir * kc, bp, acc);
            store_tile<K, Arch, MR, NB>(arch, acc, g.c + (i0 + ir) * g.ldc + jr, g.ldc, mr, nr, e);
          }
        }
      });
    }
  }
}

template <class Arch>
void gemm_nt_f32::operator()(Arch arch, const GemmArgs& g) const {
  gemm_driver<GemmForm::kNT>(arch, g);
}
template <class Arch>
void gemm_nn_f32::operator()(Arch arch, const GemmArgs& g) const {
  gemm_driver<GemmForm::kNN>(arch, g);
}
template <class Arch>
void gemm_tn_f32::operator()(Arch arch, const GemmArgs& g) const {
  gemm_driver<GemmForm::kTN>(arch, g);
}

}  // namespace fennec::kernels::simd
