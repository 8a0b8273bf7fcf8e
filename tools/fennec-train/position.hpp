// SPDX-License-Identifier: Apache-2.0
// fennec-train's part of a checkpoint (the library's opaque user blob): where the data order
// stands and what the epoch-level trackers know. Little-endian u64 fields:
//   0 tag "FTRAIN02", 8 epoch (1-based, in progress), 16 next batch in that epoch, 24 --batch,
//   32 training images used, 40 f64 bits of the epoch's summed loss so far, 48 its correct count,
//   56 validation images held out by --val-split, 64 the split's seed,
//   72 f64 bits of the best validation loss, 80 its epoch (0: none yet), 88 epochs validated,
//   96 epochs since the best (early stopping and --save-best continue from these).
// Version "FTRAIN01" (the first 56 bytes, no validation) is still read.
// The checkpoint's Rng state is the one at the start of `epoch`, before its shuffle.
#pragma once

#include <cstddef>
#include <cstdint>

#include <fennec/early_stopping.hpp>

namespace fennec_train {

inline constexpr std::size_t kPositionBytesV1 = 56;
inline constexpr std::size_t kPositionBytes = 104;

struct Position {
  std::uint64_t epoch = 1;
  std::uint64_t batch = 0;
  std::uint64_t batch_size = 0;
  std::uint64_t train_count = 0;
  double loss_sum = 0;
  std::uint64_t correct = 0;
  std::uint64_t val_count = 0;
  std::uint64_t split_seed = 0;
  fennec::MetricTracker::State best{};  // the validation loss tracker
};

void encode_position(const Position& pos, unsigned char* out);  // kPositionBytes
// False when `in` (`bytes` long) is not a position record of either version.
bool decode_position(const unsigned char* in, std::size_t bytes, Position& pos);

}  // namespace fennec_train
