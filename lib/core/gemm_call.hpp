// SPDX-License-Identifier: Apache-2.0
// Every GEMM a model runs goes through run_gemm: it hands the call the model's packing scratch,
// whose size plan() derived from the same (m, n, k) bound the DCHECK verifies.
#pragma once

#include <cstddef>

#include "core/check.hpp"
#include "fennec/plan.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

inline void run_gemm(kernels::GemmFn fn, kernels::GemmArgs g, float* scratch, std::size_t scratch_floats) {
  g.scratch = scratch;
  g.scratch_floats = scratch_floats;
  FENNEC_DCHECK(gemm_scratch_floats(g.m, g.n, g.k) <= scratch_floats);
  fn(g);
}

}  // namespace fennec::detail
