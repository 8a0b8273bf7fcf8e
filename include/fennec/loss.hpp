// SPDX-License-Identifier: Apache-2.0
// Losses: each computes the mean loss over a batch and dL/dlogits in one pass.
//
//   softmax_cross_entropy  mean over rows of -sum_j t_j log softmax(z)_j   (fused, max-shifted)
//   mse                    mean over all elements of (z - t)^2             (PyTorch MSELoss)
//   sigmoid_bce            mean over all elements of BCE(sigmoid(z), t)    (PyTorch BCEWithLogits)
// Gradients are of that mean, so they already carry the 1/B (or 1/(B*N)) factor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

enum class Loss : int {
  kSoftmaxCrossEntropy = 0,
  kMse = 1,
  kSigmoidBce = 2,
};

const char* loss_name(Loss l);

// What the network should have produced: class indices (one per row, softmax CE only) or a
// dense matrix of the output's shape (probabilities / one-hot for CE, values for MSE,
// probabilities in [0,1] for BCE).
struct Targets {
  const std::int32_t* labels = nullptr;  // length = batch rows
  ConstMatrixView dense{};

  static Targets classes(const std::int32_t* labels) {
    Targets t;
    t.labels = labels;
    return t;
  }
  static Targets values(ConstMatrixView m) {
    Targets t;
    t.dense = m;
    return t;
  }
};

// Checks that `targets` fits `logits` for `loss`: shape, label range, and for sigmoid BCE that
// every target lies in [0, 1] (NaN is rejected there; elsewhere a NaN target shows up as a
// non-finite loss).
Status validate_targets(Loss loss, ConstMatrixView logits, const Targets& targets);

// Mean loss; if `grad` has data, also dL/dlogits (same shape as logits; may alias nothing).
// Call validate_targets first; this function assumes valid targets.
double compute_loss(Loss loss, ConstMatrixView logits, const Targets& targets, MatrixView grad);

// Number of rows of `logits` whose arg-max equals the target class (arg-max of the dense target
// row, or for MSE/BCE with one output column, whether the thresholded output matches: z > 0.5
// for MSE, z > 0 for BCE logits, t > 0.5). Arguments in the order of compute_loss's data:
// count_correct(logits, targets, loss).
std::size_t count_correct(ConstMatrixView logits, const Targets& targets, Loss loss);

// The previous argument order (loss first); forwards to the one above. To be removed.
[[deprecated("use count_correct(logits, targets, loss)")]] inline std::size_t count_correct(
    Loss loss, ConstMatrixView logits, const Targets& targets) {
  return count_correct(logits, targets, loss);
}

}  // namespace fennec
