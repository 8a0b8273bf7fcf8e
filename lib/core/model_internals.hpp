// SPDX-License-Identifier: Apache-2.0
// What the library's own code (trainer, fused update, calibration) and its tests read of a Model
// that is no part of the public API: kept out of fennec/model.hpp so that users see only what
// they may rely on.
#pragma once

#include "fennec/model.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

struct ModelInternals {
  // The kernel table bind picked for the model (its isa() is the table's).
  static const kernels::KernelTable& kernel_table(const Model& m) { return *m.kernels_; }
};

}  // namespace fennec::detail
