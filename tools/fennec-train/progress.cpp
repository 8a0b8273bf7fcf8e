// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/progress.hpp"

#include <cstdio>

namespace fennec_train {

void show_progress(std::size_t epoch, std::size_t epochs, std::size_t batch, std::size_t batches,
                   std::size_t samples, double elapsed_s, double running_loss) {
  constexpr int kWidth = 24;
  const std::size_t total = batches ? batches : 1;
  const int filled = static_cast<int>(kWidth * batch / total);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double rate = elapsed_s > 0 ? static_cast<double>(samples) / elapsed_s : 0;
  // The batches left at the epoch's pace so far (rows per batch roughly constant).
  const double per_batch = batch ? elapsed_s / static_cast<double>(batch) : 0;
  const double eta = per_batch * static_cast<double>(batches - batch);
  std::printf("\r\033[Kepoch %zu/%zu [%s] batch %zu/%zu  %.0f samples/s  ETA %.1fs  loss %.4f", epoch,
              epochs, bar, batch, batches, rate, eta, running_loss);
  std::fflush(stdout);
}

void clear_progress() {
  std::printf("\r\033[K");
  std::fflush(stdout);
}

}  // namespace fennec_train
