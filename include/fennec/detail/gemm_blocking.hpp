// SPDX-License-Identifier: Apache-2.0
// The GEMM kernels' blocking, shared by the planner (plan.hpp sizes the scratch from it) and the
// kernels (lib/kernels/gemm_impl.hpp packs by it). A leaf: the kernels never include the
// planning layer, and changing a block size cannot drift between the two.
#pragma once

#include <cstddef>

namespace fennec {

// GEMM packing. A kernel packs at most a kGemmMc x kGemmKc block of the left operand (its M
// rounded up to its register tile, MR <= kGemmMaxTile) and a kGemmKc x n block of the right one
// (n rounded up to its NR <= kGemmMaxTile). One call of gemm_{nt,nn,tn} with sizes (m, n, k)
// may use up to gemm_scratch_floats(m, n, k) floats of scratch; the plan reserves the largest
// such figure over the GEMMs the model runs. Kernels with m == 1 (GEMV) use none.
inline constexpr std::size_t kGemmKc = 256;
inline constexpr std::size_t kGemmMc = 192;
inline constexpr std::size_t kGemmMaxTile = 32;

// A build whose only kernel table is the scalar reference (Cortex-M and other targets without a
// SIMD table: FENNEC_GEMM_NO_PACKING, set by the build) packs nothing, so it plans no scratch.
constexpr std::size_t gemm_scratch_floats(std::size_t m, std::size_t n, std::size_t k) {
#if defined(FENNEC_GEMM_NO_PACKING)
  (void)m, (void)n, (void)k;
  return 0;
#else
  const std::size_t kc = k < kGemmKc ? k : kGemmKc;
  const std::size_t mc = m + kGemmMaxTile - 1 < kGemmMc ? m + kGemmMaxTile - 1 : kGemmMc;
  return m <= 1 ? 0 : mc * kc + kc * (n + kGemmMaxTile - 1);
#endif
}

}  // namespace fennec
