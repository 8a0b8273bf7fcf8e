// SPDX-License-Identifier: Apache-2.0
#include "fennec/predict.hpp"

#include <cmath>

namespace fennec {

std::size_t argmax(ConstVectorView v) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < v.size; ++j)
    if (v.data[j] > v.data[best]) best = j;
  return best;
}

Status predict_classes(ConstMatrixView logits, std::int32_t* classes, std::size_t capacity) {
  FENNEC_ENSURE(logits.data && logits.cols > 0, StatusCode::kShapeMismatch,
                "predict_classes: logits are empty (%zu x %zu)", logits.rows, logits.cols);
  FENNEC_ENSURE(classes && capacity >= logits.rows, StatusCode::kShapeMismatch,
                "predict_classes: room for %zu classes, logits have %zu rows", classes ? capacity : 0,
                logits.rows);
  for (std::size_t i = 0; i < logits.rows; ++i) {
    const float* z = logits.row(i);
    classes[i] = logits.cols == 1 ? (z[0] > 0.f ? 1 : 0)
                                  : static_cast<std::int32_t>(argmax(ConstVectorView(z, logits.cols)));
  }
  return Status::ok();
}

Status softmax(ConstMatrixView logits, MatrixView probs) {
  FENNEC_ENSURE(logits.data && probs.data && probs.rows == logits.rows && probs.cols == logits.cols,
                StatusCode::kShapeMismatch, "softmax: probs are %zu x %zu, logits %zu x %zu",
                probs.rows, probs.cols, logits.rows, logits.cols);
  FENNEC_ENSURE(probs.data != logits.data || probs.stride == logits.stride,
                StatusCode::kInvalidArgument,
                "softmax: in place needs the same stride (probs %zu, logits %zu)", probs.stride,
                logits.stride);
  for (std::size_t i = 0; i < logits.rows; ++i) {
    const float* z = logits.row(i);
    float* p = probs.row(i);
    float m = z[0];
    for (std::size_t j = 1; j < logits.cols; ++j) m = z[j] > m ? z[j] : m;
    // Sum in double: the exponentials are in (0, 1] after the shift, the largest exactly 1.
    double sum = 0.0;
    for (std::size_t j = 0; j < logits.cols; ++j) {
      const float e = std::exp(z[j] - m);
      p[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (std::size_t j = 0; j < logits.cols; ++j) p[j] *= inv;
  }
  return Status::ok();
}

}  // namespace fennec
