// SPDX-License-Identifier: Apache-2.0
#include "fennec-infer/output_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fennec/predict.hpp>

#include "common/args.hpp"
#include "common/file_names.hpp"

namespace fennec_tools {
void OutputFile::check_path(const std::string& path) {
  if (!ends_with(path, ".f32") && !ends_with(path, ".csv"))
    throw ArgError("--output " + path + ": the name must end in .f32 (raw float32 logits) or .csv "
                   "(probabilities)");
  check_output_path(path, "--output");
}

OutputFile::OutputFile(const std::string& path, std::size_t outputs, fennec::Loss loss)
    : path_(path), csv_(ends_with(path, ".csv")), outputs_(outputs), loss_(loss) {
  f_ = std::fopen(path.c_str(), csv_ ? "w" : "wb");
  if (!f_) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  if (csv_) {
    std::fputs("sample,label,predicted", f_);
    const char* column = loss == fennec::Loss::kMse ? "out" : "prob";
    for (std::size_t j = 0; j < outputs; ++j) std::fprintf(f_, ",%s_%zu", column, j);
    std::fputc('\n', f_);
  }
}

OutputFile::~OutputFile() {
  if (f_) std::fclose(f_);
}

void OutputFile::write(fennec::ConstMatrixView outputs, const std::int32_t* labels, const Evaluation& e) {
  if (!csv_) {
    // Little-endian bytes whatever the host's order.
    std::vector<unsigned char> bytes(outputs.rows * outputs_ * 4);
    for (std::size_t i = 0; i < outputs.rows; ++i)
      for (std::size_t j = 0; j < outputs_; ++j) {
        std::uint32_t u;
        std::memcpy(&u, outputs.row(i) + j, 4);
        for (int b = 0; b < 4; ++b) bytes[(i * outputs_ + j) * 4 + b] = static_cast<unsigned char>(u >> (8 * b));
      }
    std::fwrite(bytes.data(), 1, bytes.size(), f_);  // a failure is reported by close()
    next_ += outputs.rows;
    return;
  }
  probs_.resize(outputs.rows * outputs_);
  fennec::MatrixView probs(probs_.data(), outputs.rows, outputs_);
  if (loss_ == fennec::Loss::kSoftmaxCrossEntropy) {
    const fennec::Status s = fennec::softmax(outputs, probs);
    if (!s.is_ok()) throw std::runtime_error(path_ + ": " + s.message());
  } else {
    for (std::size_t i = 0; i < outputs.rows; ++i)
      for (std::size_t j = 0; j < outputs_; ++j) {
        const float z = outputs.row(i)[j];
        probs.row(i)[j] = loss_ == fennec::Loss::kSigmoidBce ? 1.0f / (1.0f + std::exp(-z)) : z;
      }
  }
  for (std::size_t i = 0; i < outputs.rows; ++i) {
    std::fprintf(f_, "%llu,%d,%zu", static_cast<unsigned long long>(next_ + i), labels[i],
                 e.predicted(outputs.row(i)));
    for (std::size_t j = 0; j < outputs_; ++j) std::fprintf(f_, ",%.9g", static_cast<double>(probs.row(i)[j]));
    std::fputc('\n', f_);
  }
  next_ += outputs.rows;
}

void OutputFile::close() {
  const bool failed = std::ferror(f_) != 0;
  const int closed = std::fclose(f_);
  f_ = nullptr;
  if (failed || closed != 0) throw std::runtime_error(path_ + ": write failed");
}

}  // namespace fennec_tools
