// SPDX-License-Identifier: Apache-2.0
// An MNIST-family data set directory: train/test images (N x rows x cols, u8) and labels (N, u8),
// as IDX files, plain or .gz. Images stay as bytes; callers convert one batch at a time.
#pragma once

#include <cstddef>
#include <string>

#include "common/idx.hpp"

namespace fennec_tools {

struct MnistSet {
  IdxArray train_images, train_labels, test_images, test_labels;
  std::size_t rows = 0, cols = 0;
  std::size_t classes = 0;  // 1 + largest training label
  std::string train_images_path, test_images_path;

  std::size_t pixels() const { return rows * cols; }
  std::size_t train_count() const { return train_images.count(); }
  std::size_t test_count() const { return test_images.count(); }
};

// Looks for train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte (each plain or with .gz) in `dir` and validates them together: image
// files 3-D with equal image sizes, label files 1-D with one label per image, at least 2 classes,
// every test label among the training classes. False with a message on any problem.
bool load_mnist_dir(const std::string& dir, MnistSet& out, std::string& error);

}  // namespace fennec_tools
