// SPDX-License-Identifier: Apache-2.0
// The fused update (ModelOptions::fused_block_rows > 0): backward and the optimizer step in one
// pass over the layers, so no whole-model gradient buffer exists. Used by Trainer::step.
#pragma once

#include <cstdint>

#include "fennec/model.hpp"
#include "fennec/optim.hpp"
#include "fennec/status.hpp"

namespace fennec::detail {

// After m.forward(x) and the loss, with dL/dlogits in m.output_gradient(x.rows): updates every
// parameter of `m` with optimizer `c` at step t (1-based), each gradient first clamped to
// [-max_value, max_value] when max_value > 0. grad_norm2 receives the squared global L2 norm of
// the gradient before clipping. A non-finite gradient block returns kNonFinite before that
// block is applied; the layers after it (already updated) keep their update.
Status fused_backward_update(Model& m, ConstMatrixView x, const OptimizerConfig& c, float max_value,
                             std::uint64_t t, double& grad_norm2);

}  // namespace fennec::detail
