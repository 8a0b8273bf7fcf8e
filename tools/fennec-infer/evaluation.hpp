// SPDX-License-Identifier: Apache-2.0
// What fennec-infer reports about a labelled set: the confusion matrix (true class x predicted
// class), per-class and overall accuracy, top-k accuracy, and the class names they are printed
// with. The predicted class is the library's: the arg-max of the outputs (first on ties), or for
// a single output under MSE / sigmoid BCE the thresholded output (z > 0.5 / z > 0), two classes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

namespace fennec_tools {

// Number of classes a model with `outputs` outputs and `loss` tells apart.
std::size_t classes_of(std::size_t outputs, fennec::Loss loss);

class Evaluation {
 public:
  Evaluation(std::size_t outputs, fennec::Loss loss, std::size_t top_k);

  // One batch: outputs (rows x outputs) and each row's true class, in [0, classes()).
  void add(fennec::ConstMatrixView outputs, const std::int32_t* labels);
  // The class row `o` (outputs() floats) predicts.
  std::size_t predicted(const float* o) const;

  std::size_t classes() const { return classes_; }
  std::size_t top_k() const { return top_k_; }
  std::uint64_t samples() const { return samples_; }
  std::uint64_t correct() const;  // the diagonal
  std::uint64_t top_k_correct() const { return top_k_correct_; }
  // Samples of true class t predicted as p.
  std::uint64_t count(std::size_t t, std::size_t p) const { return confusion_[t * classes_ + p]; }
  std::uint64_t class_total(std::size_t t) const;

 private:
  std::size_t outputs_, classes_, top_k_;
  fennec::Loss loss_;
  std::vector<std::uint64_t> confusion_;
  std::uint64_t samples_ = 0, top_k_correct_ = 0;
};

// Fashion-MNIST's ten class names, in label order.
const std::vector<std::string>& fashion_mnist_names();

// --class-names: `list` (comma-separated, one non-empty, distinct name per class) when given;
// otherwise Fashion-MNIST's names for 10 classes and the numbers 0, 1, ... for any other count.
// Throws ArgError naming the flag when the list does not fit.
std::vector<std::string> class_names(bool given, const std::string& list, std::size_t classes);

// "accuracy of class 3 (Dress): 85.20% (852 / 1000)" per class.
void print_class_accuracy(std::FILE* out, const Evaluation& e, const std::vector<std::string>& names);
// One row per true class: its name (spaces as '_', so every row has classes + 1 fields), then
// the counts predicted as each class, separated by spaces.
void print_confusion(std::FILE* out, const Evaluation& e, const std::vector<std::string>& names);

}  // namespace fennec_tools
