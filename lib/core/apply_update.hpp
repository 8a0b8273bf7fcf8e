// SPDX-License-Identifier: Apache-2.0
// The optimizer update shared by Trainer and optimizer_step(): picks the kernel for the
// optimizer and fills its arguments (bias corrections computed here, in double).
#pragma once

#include <cstdint>

#include "fennec/optim.hpp"
#include "fennec/thread_pool.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

// t is the 1-based index of this step. s1/s2 may be null when the optimizer does not use them.
// With a pool (null: the calling thread alone) a long update is split by contiguous ranges.
void apply_update(const kernels::KernelTable& k, const OptimizerConfig& c, std::size_t n, float* w,
                  const float* g, float* s1, float* s2, std::uint64_t t, ThreadPool* pool);

}  // namespace fennec::detail
