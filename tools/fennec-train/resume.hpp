// SPDX-License-Identifier: Apache-2.0
// --resume: pick the newest usable checkpoint slot, check it was written by fennec-train with
// the same settings, and restore the trainer, the data-order Rng and the position.
#pragma once

#include <cstddef>

#include <fennec/fennec.hpp>

#include "fennec-train/options.hpp"
#include "fennec-train/position.hpp"

namespace fennec_train {

// `expected` holds the batch size, training image count, validation count and split seed this
// run would use; on success `pos` is the stored position. Returns kExitOk, or an exit code
// after printing why.
int resume_from_checkpoint(const Options& o, fennec::Trainer& trainer, fennec::Rng& rng, const Position& expected,
                           std::size_t batches_per_epoch, Position& pos);

}  // namespace fennec_train
