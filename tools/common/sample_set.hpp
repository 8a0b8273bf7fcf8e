// SPDX-License-Identifier: Apache-2.0
// A labelled data set in memory, whatever file it came from: IDX images and labels (the MNIST
// family), NumPy .npy inputs and labels, or a CSV table with a label column. The tools take their
// batches from it, so every format trains and evaluates the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/idx.hpp"

namespace fennec_tools {

struct SampleSet {
  std::size_t count = 0;    // samples
  std::size_t width = 0;    // features per sample (pixels of an image)
  std::size_t classes = 0;  // 1 + largest label
  // The features, count x width, row-major, in one of two forms: bytes (IDX, uint8 .npy) are read
  // scaled by 1/255, as the IDX tools always have; floats (float32 .npy, CSV) are read as stored.
  std::vector<std::uint8_t> bytes;
  std::vector<float> values;
  std::vector<std::int32_t> labels;  // count, each in [0, classes)
  std::string source;                // the feature file, for messages

  bool holds_bytes() const { return values.empty(); }
  // Features of the samples at `indices` into x (rows x width) and their labels into y.
  void batch(const std::uint32_t* indices, std::size_t rows, float* x, std::int32_t* y) const;
  // The same for samples first .. first + rows - 1.
  void range(std::size_t first, std::size_t rows, float* x, std::int32_t* y) const;
};

// IDX images (N x ...) and labels (N); the arrays are moved from. False with a message when the
// counts differ or a label is >= max_classes.
bool samples_from_idx(IdxArray&& images, IdxArray&& labels, const std::string& images_path,
                      const std::string& labels_path, std::size_t max_classes, SampleSet& out,
                      std::string& error);

// inputs: float32 or uint8, shape (N, d1, ...) read as N samples of d1 x ... features, C order;
// labels: an integer type, shape (N,), each in [0, max_classes). Float inputs must be finite.
bool load_npy_samples(const std::string& inputs_path, const std::string& labels_path,
                      std::size_t max_classes, SampleSet& out, std::string& error);

// By the inputs' extension: .npy (labels_path names the labels .npy) or .csv (the labels are
// the column named label_column; labels_path must be empty). Anything else is refused.
bool load_samples(const std::string& inputs_path, const std::string& labels_path,
                  const std::string& label_column, std::size_t max_classes, SampleSet& out,
                  std::string& error);

}  // namespace fennec_tools
