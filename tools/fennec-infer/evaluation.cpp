// SPDX-License-Identifier: Apache-2.0
#include "fennec-infer/evaluation.hpp"

#include <fennec/predict.hpp>

#include "common/args.hpp"

namespace fennec_tools {

std::size_t classes_of(std::size_t outputs, fennec::Loss loss) {
  return outputs == 1 && loss != fennec::Loss::kSoftmaxCrossEntropy ? 2 : outputs;
}

Evaluation::Evaluation(std::size_t outputs, fennec::Loss loss, std::size_t top_k)
    : outputs_(outputs), classes_(classes_of(outputs, loss)), top_k_(top_k), loss_(loss),
      confusion_(classes_ * classes_, 0) {}

std::size_t Evaluation::predicted(const float* o) const {
  if (outputs_ == 1 && loss_ != fennec::Loss::kSoftmaxCrossEntropy)
    return (loss_ == fennec::Loss::kMse ? o[0] > 0.5f : o[0] > 0.f) ? 1 : 0;
  return fennec::argmax(fennec::ConstVectorView(o, outputs_));
}

void Evaluation::add(fennec::ConstMatrixView outputs, const std::int32_t* labels) {
  for (std::size_t i = 0; i < outputs.rows; ++i) {
    const float* o = outputs.row(i);
    const std::size_t t = static_cast<std::size_t>(labels[i]);
    ++confusion_[t * classes_ + predicted(o)];
    ++samples_;
    // In the top k when fewer than k classes score strictly higher than the true one (a tie is
    // in the true class's favour; with one output there are only the two thresholded classes).
    std::size_t higher = 0;
    if (outputs_ == classes_) {
      for (std::size_t j = 0; j < outputs_; ++j) higher += o[j] > o[t];
    } else {
      higher = predicted(o) != t;
    }
    top_k_correct_ += higher < top_k_;
  }
}

std::uint64_t Evaluation::correct() const {
  std::uint64_t c = 0;
  for (std::size_t t = 0; t < classes_; ++t) c += count(t, t);
  return c;
}

std::uint64_t Evaluation::class_total(std::size_t t) const {
  std::uint64_t n = 0;
  for (std::size_t p = 0; p < classes_; ++p) n += count(t, p);
  return n;
}

const std::vector<std::string>& fashion_mnist_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

std::vector<std::string> class_names(bool given, const std::string& list, std::size_t classes) {
  std::vector<std::string> names;
  if (!given) {
    if (classes == fashion_mnist_names().size()) return fashion_mnist_names();
    for (std::size_t i = 0; i < classes; ++i) names.push_back(std::to_string(i));
    return names;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    names.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (names.back().empty()) throw ArgError("--class-names: empty name in '" + list + "'");
    for (std::size_t i = 0; i + 1 < names.size(); ++i)
      if (names[i] == names.back()) throw ArgError("--class-names: '" + names.back() + "' given twice");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (names.size() != classes)
    throw ArgError("--class-names: " + std::to_string(names.size()) + " names for a model of " +
                   std::to_string(classes) + " classes");
  return names;
}

void print_class_accuracy(std::FILE* out, const Evaluation& e, const std::vector<std::string>& names) {
  for (std::size_t t = 0; t < e.classes(); ++t) {
    const std::uint64_t n = e.class_total(t), c = e.count(t, t);
    const std::string label = names[t] == std::to_string(t) ? names[t] : std::to_string(t) + " (" + names[t] + ")";
    if (n == 0) {
      std::fprintf(out, "accuracy of class %s: no samples\n", label.c_str());
    } else {
      std::fprintf(out, "accuracy of class %s: %.2f%% (%llu / %llu)\n", label.c_str(),
                   100.0 * static_cast<double>(c) / static_cast<double>(n), static_cast<unsigned long long>(c),
                   static_cast<unsigned long long>(n));
    }
  }
}

void print_confusion(std::FILE* out, const Evaluation& e, const std::vector<std::string>& names) {
  for (std::size_t t = 0; t < e.classes(); ++t) {
    std::string row = names[t];
    for (char& ch : row)
      if (ch == ' ' || ch == '\t') ch = '_';
    for (std::size_t p = 0; p < e.classes(); ++p) row += " " + std::to_string(e.count(t, p));
    std::fprintf(out, "%s\n", row.c_str());
  }
}

}  // namespace fennec_tools
