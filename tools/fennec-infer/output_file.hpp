// SPDX-License-Identifier: Apache-2.0
// fennec-infer --output FILE: the model's outputs for every evaluated sample, in sample order.
//   *.f32  the raw outputs (logits), little-endian float32, samples x outputs, row-major, no
//          header: np.fromfile(FILE, '<f4').reshape(-1, outputs).
//   *.csv  a header row, then one row per sample: sample index, true label, predicted class,
//          then the class probabilities (softmax of the logits for softmax cross-entropy,
//          sigmoid of each for sigmoid BCE: prob_0, prob_1, ...) or, for MSE, the raw outputs
//          (out_0, out_1, ...); numbers printed with 9 significant digits (float32 round-trips).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

#include "fennec-infer/evaluation.hpp"

namespace fennec_tools {

class OutputFile {
 public:
  // Throws ArgError unless `path` ends in .f32 or .csv; checks its directory is writable.
  static void check_path(const std::string& path);

  // Throws std::runtime_error when the file cannot be created.
  OutputFile(const std::string& path, std::size_t outputs, fennec::Loss loss);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // The next rows of outputs, their labels and the evaluation that predicts their classes.
  void write(fennec::ConstMatrixView outputs, const std::int32_t* labels, const Evaluation& e);
  // Flushes and closes; throws std::runtime_error on a write error.
  void close();

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  bool csv_ = false;
  std::size_t outputs_;
  fennec::Loss loss_;
  std::uint64_t next_ = 0;
  std::vector<float> probs_;
};

}  // namespace fennec_tools
