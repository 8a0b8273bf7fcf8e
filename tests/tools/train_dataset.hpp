// SPDX-License-Identifier: Apache-2.0
// A small generated MNIST-layout data set for the fennec-train tests: 8x8 images of 3 classes.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/idx.hpp"
#include "tools/tools_test_util.hpp"

namespace tools_test {

// Class c of 3: a bright bar on row 1, 4 or 6 of an 8x8 image, over noise.
struct Generated {
  std::vector<std::uint8_t> images, labels;
};

inline Generated generate(std::size_t n, std::uint32_t seed) {
  Generated g;
  std::uint32_t s = seed;
  auto next = [&s] {
    s = s * 1664525u + 1013904223u;
    return s >> 8;
  };
  const int rows_for_class[3] = {1, 4, 6};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = static_cast<std::uint8_t>(next() % 3);
    g.labels.push_back(c);
    for (int r = 0; r < 8; ++r)
      for (int col = 0; col < 8; ++col) {
        int v = static_cast<int>(next() % 90);
        if (r == rows_for_class[c]) v += 150;
        g.images.push_back(static_cast<std::uint8_t>(v));
      }
  }
  return g;
}

inline void make_dataset(const tools_test::TempDir& dir, bool gzip, std::size_t train = 600,
                  std::size_t test = 150) {
  std::string error;
  const Generated tr = generate(train, 1), te = generate(test, 2);
  const std::string gz = gzip ? ".gz" : "";
  REQUIRE(fennec_tools::write_idx(dir.file("train-images-idx3-ubyte" + gz),
                                  {static_cast<std::uint32_t>(train), 8, 8}, tr.images.data(), gzip, error));
  REQUIRE(fennec_tools::write_idx(dir.file("train-labels-idx1-ubyte" + gz),
                                  {static_cast<std::uint32_t>(train)}, tr.labels.data(), gzip, error));
  REQUIRE(fennec_tools::write_idx(dir.file("t10k-images-idx3-ubyte" + gz),
                                  {static_cast<std::uint32_t>(test), 8, 8}, te.images.data(), gzip, error));
  REQUIRE(fennec_tools::write_idx(dir.file("t10k-labels-idx1-ubyte" + gz),
                                  {static_cast<std::uint32_t>(test)}, te.labels.data(), gzip, error));
}

}  // namespace tools_test
