// SPDX-License-Identifier: Apache-2.0
// fennec-train's data: the --data directory, the --val directory when given, and the views the
// training loop batches from (which images of which arrays).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/idx.hpp"
#include "common/mnist.hpp"

namespace fennec_train {

struct TrainData {
  fennec_tools::MnistSet set;
  fennec_tools::IdxArray val_images, val_labels;  // --val DIR only
  std::string val_images_path;
};

// Reads --data, and --val DIR's t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or
// .gz) when `val_dir` is not empty: images of the training images' size, one label per image,
// every label among the training classes. False with `error` set.
bool load_train_data(const std::string& data_dir, const std::string& val_dir, TrainData& out,
                     std::string& error);

// Some images of one IDX pair: items[0..count) index images and labels.
struct ImageSet {
  const fennec_tools::IdxArray* images = nullptr;
  const fennec_tools::IdxArray* labels = nullptr;
  const std::uint32_t* items = nullptr;
  std::size_t count = 0;
};

}  // namespace fennec_train
