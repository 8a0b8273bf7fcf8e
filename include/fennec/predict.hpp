// SPDX-License-Identifier: Apache-2.0
// Inference helpers on a network's output: the predicted class of each row and class
// probabilities from logits. Freestanding-safe (no heap, no I/O).
//
//   Result<ConstMatrixView> logits = model.forward(x);
//   std::int32_t classes[kBatch];
//   FENNEC_RETURN_IF_ERROR(predict_classes(logits.value(), classes, kBatch));
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

// Index of the largest of `v` (the first one on ties; NaN never compares larger, so a NaN
// entry is skipped unless it is entry 0). 0 for an empty vector.
std::size_t argmax(ConstVectorView v);

// The class each row of `logits` predicts: the arg-max over its columns, or, for a single
// column (a sigmoid BCE logit), 1 when the logit is > 0 (probability > 0.5) and 0 otherwise.
// `classes` must have room for logits.rows entries (`capacity`); nothing is written on failure.
Status predict_classes(ConstMatrixView logits, std::int32_t* classes, std::size_t capacity);

// Row-wise softmax of logits, computed stably (max-shifted, so logits of 1000 or -1000 give
// finite probabilities): probs(i, j) = exp(z_ij - max_i) / sum_k exp(z_ik - max_i).
// `probs` must have the logits' shape; it may be the logits' own buffer (in place, same stride).
// A row holding NaN or +Inf yields NaN probabilities for that row.
Status softmax(ConstMatrixView logits, MatrixView probs);

}  // namespace fennec
