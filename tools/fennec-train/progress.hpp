// SPDX-License-Identifier: Apache-2.0
// The terminal progress line of one epoch: bar, batch i/n, samples/s, ETA and the running loss.
// printf into stdout's buffer only (no heap).
#pragma once

#include <cstddef>

namespace fennec_train {

// `elapsed_s`: time since the epoch started (or resumed); `samples`: rows trained since then.
void show_progress(std::size_t epoch, std::size_t epochs, std::size_t batch, std::size_t batches,
                   std::size_t samples, double elapsed_s, double running_loss);
// Erases the progress line (before a result line is printed over it).
void clear_progress();

}  // namespace fennec_train
