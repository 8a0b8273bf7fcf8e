// SPDX-License-Identifier: Apache-2.0
#include "common/batches.hpp"

#include <algorithm>

namespace fennec_tools {

void shuffle_order(std::uint32_t* order, std::size_t n, fennec::Rng& rng) {
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = rng.below(static_cast<std::uint32_t>(i));
    std::swap(order[i - 1], order[j]);
  }
}

void map_order(std::uint32_t* order, std::size_t n, const std::uint32_t* items) {
  for (std::size_t i = 0; i < n; ++i) order[i] = items[order[i]];
}

void split_items(std::size_t n, std::size_t n_val, std::uint64_t seed, std::uint32_t* fit,
                 std::uint32_t* val) {
  // The permutation is built in `fit` and `val` together: fit holds positions 0..n-n_val-1 and val
  // the rest, addressed through one index.
  auto at = [&](std::size_t i) -> std::uint32_t& { return i < n - n_val ? fit[i] : val[i - (n - n_val)]; };
  fennec::Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) at(i) = static_cast<std::uint32_t>(i);
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = rng.below(static_cast<std::uint32_t>(i));
    std::swap(at(i - 1), at(j));
  }
  std::sort(fit, fit + (n - n_val));
  std::sort(val, val + n_val);
}

}  // namespace fennec_tools
