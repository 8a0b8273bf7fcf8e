// SPDX-License-Identifier: Apache-2.0
// Which samples go into which batch: the epoch's data order and the fixed validation split (the
// batch of floats itself is SampleSet::batch). Nothing here allocates: every array is the
// caller's (the tools place them in their arena), so a training loop built on these stays
// heap-free.
#pragma once

#include <cstddef>
#include <cstdint>

#include <fennec/rng.hpp>

namespace fennec_tools {

// Batches of at most `batch` rows covering `n` items (the last one may be short).
inline std::size_t batch_count(std::size_t n, std::size_t batch) { return (n + batch - 1) / batch; }

// order[i] = i, then a Fisher-Yates shuffle from `rng`: the order depends on the generator's
// state only, so a checkpoint that stores the state at the start of an epoch (not the
// permutation) reproduces the epoch. n may be 0.
void shuffle_order(std::uint32_t* order, std::size_t n, fennec::Rng& rng);

// order[i] = items[order[i]] for i < n: an order over positions 0..n-1 made an order over a
// subset of the data set (the training part of a split).
void map_order(std::uint32_t* order, std::size_t n, const std::uint32_t* items);

// The fixed validation split of n items: a Fisher-Yates permutation from Rng(seed) whose last
// `n_val` items are the validation set, the rest the training set, each list in ascending order
// (so the split depends on n, n_val and seed only, never on training). fit has n - n_val
// entries, val n_val.
void split_items(std::size_t n, std::size_t n_val, std::uint64_t seed, std::uint32_t* fit,
                 std::uint32_t* val);

}  // namespace fennec_tools
