// SPDX-License-Identifier: Apache-2.0
// tools/common/batches: the validation split is a fixed function of (n, n_val, seed), disjoint
// and complete; the epoch order is the documented Fisher-Yates of an identity permutation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/batches.hpp"

TEST_CASE("batches: the validation split", "[tools][batches]") {
  const std::size_t n = 103, n_val = 21;
  std::vector<std::uint32_t> fit(n - n_val), val(n_val), fit2(n - n_val), val2(n_val), fit3(n - n_val), val3(n_val);
  fennec_tools::split_items(n, n_val, 7, fit.data(), val.data());
  fennec_tools::split_items(n, n_val, 7, fit2.data(), val2.data());
  fennec_tools::split_items(n, n_val, 8, fit3.data(), val3.data());
  CHECK(fit == fit2);
  CHECK(val == val2);
  CHECK(val != val3);
  CHECK(std::is_sorted(fit.begin(), fit.end()));
  CHECK(std::is_sorted(val.begin(), val.end()));
  std::vector<std::uint32_t> all(fit);
  all.insert(all.end(), val.begin(), val.end());
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < n; ++i) CHECK(all[i] == i);  // disjoint and complete
}

TEST_CASE("batches: the epoch order and its mapping onto the training items", "[tools][batches]") {
  // Fisher-Yates from the end with Rng::below(i + 1), as the checkpoints of earlier versions assume.
  fennec::Rng a(5), b(5);
  std::vector<std::uint32_t> order(10), expect(10);
  fennec_tools::shuffle_order(order.data(), order.size(), a);
  for (std::uint32_t i = 0; i < 10; ++i) expect[i] = i;
  for (std::size_t i = 9; i > 0; --i) std::swap(expect[i], expect[b.below(static_cast<std::uint32_t>(i + 1))]);
  CHECK(order == expect);
  const std::uint32_t items[10] = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31};
  fennec_tools::map_order(order.data(), order.size(), items);
  for (std::size_t i = 0; i < 10; ++i) CHECK(order[i] == items[expect[i]]);
  CHECK(fennec_tools::batch_count(10, 3) == 4);
  CHECK(fennec_tools::batch_count(9, 3) == 3);
}
