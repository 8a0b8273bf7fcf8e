// SPDX-License-Identifier: Apache-2.0
// fennec-train's data: the training, validation and test sets as SampleSets, from an IDX
// directory (--data, --val) or from .npy / CSV files (--train-inputs, --test-inputs), and the
// views the training loop batches from (which samples of which set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/sample_set.hpp"

namespace fennec_train {

struct Options;

struct TrainData {
  fennec_tools::SampleSet train, test;  // test.count == 0: no test set (--train-inputs alone)
  fennec_tools::SampleSet val;          // --val DIR only
  std::string val_path;                 // its images file
  std::string shape;                    // "images of 28x28" or "samples of 4 features"
  const char* noun = "images";          // what the messages call one sample
};

// Reads the data sets the options name: --data's directory and --val DIR's
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz), or --train-inputs and
// --test-inputs with their labels. Validation and test sets must have the training set's
// feature count, and their labels must be among the training classes. False with `error` set.
bool load_train_data(const Options& o, TrainData& out, std::string& error);

// Some samples of one set: items[0..count) index it.
struct SampleView {
  const fennec_tools::SampleSet* set = nullptr;
  const std::uint32_t* items = nullptr;
  std::size_t count = 0;
};

}  // namespace fennec_train
