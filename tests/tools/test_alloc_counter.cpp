// SPDX-License-Identifier: Apache-2.0
// The allocation counter fennec-train relies on actually sees allocations.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

#include "common/alloc_counter.hpp"

TEST_CASE("alloc counter counts operator new and malloc", "[tools][alloc]") {
  fennec_tools::alloc_counting_start();
  auto p = std::make_unique<int>(3);
  std::vector<double> v(100);
  const std::uint64_t n_new = fennec_tools::alloc_counting_stop();
  CHECK(n_new >= 2);
  CHECK(*p == 3);
  CHECK(v.size() == 100);

  fennec_tools::alloc_counting_start();
  // volatile: the compiler may otherwise drop an unused malloc/free pair.
  void* volatile m = std::malloc(64);
  const std::uint64_t n_malloc = fennec_tools::alloc_counting_stop();
  std::free(m);
  if (fennec_tools::alloc_counting_covers_malloc()) {
    CHECK(n_malloc == 1);
  } else {
    WARN("malloc is not interposed in this build (sanitizers or non-glibc); operator new only");
  }

  fennec_tools::alloc_counting_start();
  int x = 0;
  for (int i = 0; i < 1000; ++i) x += i;
  CHECK(fennec_tools::alloc_counting_stop() == 0);
  CHECK(x == 499500);
}
