// SPDX-License-Identifier: Apache-2.0
#include "fennec/loss.hpp"

#include <cmath>

#include "fennec/predict.hpp"

namespace fennec {
namespace {

// log(1 + e^x) without overflow.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

double softmax_cross_entropy(ConstMatrixView z, const Targets& t, MatrixView grad) {
  const std::size_t b = z.rows, n = z.cols;
  const double inv_b = 1.0 / static_cast<double>(b);
  double total = 0.0;
  for (std::size_t i = 0; i < b; ++i) {
    const float* zi = z.row(i);
    // Shift by the row max so exp never overflows; log-sum-exp is then exact to rounding.
    double zmax = zi[0];
    for (std::size_t j = 1; j < n; ++j) zmax = zi[j] > zmax ? zi[j] : zmax;
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) sum += std::exp(zi[j] - zmax);
    const double log_sum = std::log(sum);
    float* gi = grad.data ? grad.row(i) : nullptr;
    if (t.labels) {
      const std::size_t c = static_cast<std::size_t>(t.labels[i]);
      total += log_sum - (zi[c] - zmax);
      if (gi) {
        for (std::size_t j = 0; j < n; ++j) {
          const double p = std::exp(zi[j] - zmax - log_sum);
          gi[j] = static_cast<float>((p - (j == c ? 1.0 : 0.0)) * inv_b);
        }
      }
    } else {
      const float* ti = t.dense.row(i);
      double tsum = 0.0;
      for (std::size_t j = 0; j < n; ++j) {
        const double log_p = zi[j] - zmax - log_sum;
        if (ti[j] != 0.f) total -= ti[j] * log_p;
        tsum += ti[j];
      }
      if (gi) {
        // d/dz_j of -sum_k t_k log p_k = p_j * sum_k t_k - t_j.
        for (std::size_t j = 0; j < n; ++j) {
          const double p = std::exp(zi[j] - zmax - log_sum);
          gi[j] = static_cast<float>((p * tsum - ti[j]) * inv_b);
        }
      }
    }
  }
  return total * inv_b;
}

double mse(ConstMatrixView z, const Targets& t, MatrixView grad) {
  const double inv = 1.0 / (static_cast<double>(z.rows) * static_cast<double>(z.cols));
  double total = 0.0;
  for (std::size_t i = 0; i < z.rows; ++i) {
    const float* zi = z.row(i);
    const float* ti = t.dense.row(i);
    float* gi = grad.data ? grad.row(i) : nullptr;
    for (std::size_t j = 0; j < z.cols; ++j) {
      const double d = static_cast<double>(zi[j]) - ti[j];
      total += d * d;
      if (gi) gi[j] = static_cast<float>(2.0 * d * inv);
    }
  }
  return total * inv;
}

double sigmoid_bce(ConstMatrixView z, const Targets& t, MatrixView grad) {
  const double inv = 1.0 / (static_cast<double>(z.rows) * static_cast<double>(z.cols));
  double total = 0.0;
  for (std::size_t i = 0; i < z.rows; ++i) {
    const float* zi = z.row(i);
    const float* ti = t.dense.row(i);
    float* gi = grad.data ? grad.row(i) : nullptr;
    for (std::size_t j = 0; j < z.cols; ++j) {
      const double x = zi[j], y = ti[j];
      // -[y log s(x) + (1-y) log(1-s(x))] = softplus(x) - y x, stable for any x.
      total += softplus(x) - y * x;
      if (gi) {
        const double s = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
        gi[j] = static_cast<float>((s - y) * inv);
      }
    }
  }
  return total * inv;
}

}  // namespace

const char* loss_name(Loss l) {
  switch (l) {
    case Loss::kSoftmaxCrossEntropy: return "softmax_cross_entropy";
    case Loss::kMse: return "mse";
    case Loss::kSigmoidBce: return "sigmoid_bce";
  }
  return "unknown";
}

Status validate_targets(Loss loss, ConstMatrixView logits, const Targets& t) {
  const int k = static_cast<int>(loss);
  FENNEC_ENSURE(k >= 0 && k <= static_cast<int>(Loss::kSigmoidBce), StatusCode::kInvalidArgument,
                "loss kind %d out of range", k);
  FENNEC_ENSURE(logits.rows > 0 && logits.cols > 0, StatusCode::kShapeMismatch,
                "loss: empty logits (%zu x %zu)", logits.rows, logits.cols);
  if (t.labels) {
    FENNEC_ENSURE(loss == Loss::kSoftmaxCrossEntropy, StatusCode::kInvalidArgument,
                  "%s needs dense targets, not class labels", loss_name(loss));
    for (std::size_t i = 0; i < logits.rows; ++i) {
      const std::int32_t c = t.labels[i];
      FENNEC_ENSURE(c >= 0 && static_cast<std::size_t>(c) < logits.cols, StatusCode::kInvalidArgument,
                    "label %d at row %zu out of range [0, %zu)", static_cast<int>(c), i, logits.cols);
    }
    return Status::ok();
  }
  FENNEC_ENSURE(t.dense.data != nullptr, StatusCode::kInvalidArgument, "loss: no targets given");
  FENNEC_ENSURE(t.dense.rows == logits.rows && t.dense.cols == logits.cols, StatusCode::kShapeMismatch,
                "targets are %zu x %zu but outputs are %zu x %zu", t.dense.rows, t.dense.cols,
                logits.rows, logits.cols);
  FENNEC_ENSURE(t.dense.stride >= t.dense.cols, StatusCode::kShapeMismatch,
                "targets stride %zu < cols %zu", t.dense.stride, t.dense.cols);
  if (loss == Loss::kSigmoidBce) {
    // BCE is only a loss (bounded below, minimised at z = logit(t)) for t in [0, 1].
    for (std::size_t i = 0; i < t.dense.rows; ++i) {
      const float* ti = t.dense.row(i);
      for (std::size_t j = 0; j < t.dense.cols; ++j) {
        FENNEC_ENSURE(ti[j] >= 0.f && ti[j] <= 1.f, StatusCode::kInvalidArgument,
                      "sigmoid BCE target at row %zu column %zu is %g, outside [0, 1]", i, j,
                      static_cast<double>(ti[j]));
      }
    }
  }
  return Status::ok();
}

double compute_loss(Loss loss, ConstMatrixView logits, const Targets& targets, MatrixView grad) {
  switch (loss) {
    case Loss::kSoftmaxCrossEntropy: return softmax_cross_entropy(logits, targets, grad);
    case Loss::kMse: return mse(logits, targets, grad);
    case Loss::kSigmoidBce: return sigmoid_bce(logits, targets, grad);
  }
  return 0.0;
}

std::size_t count_correct(ConstMatrixView z, const Targets& t, Loss loss) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < z.rows; ++i) {
    const float* zi = z.row(i);
    if (z.cols == 1 && loss != Loss::kSoftmaxCrossEntropy) {
      const bool predicted = loss == Loss::kMse ? zi[0] > 0.5f : zi[0] > 0.f;
      correct += predicted == (t.dense.row(i)[0] > 0.5f);
    } else {
      const std::size_t target =
          t.labels ? static_cast<std::size_t>(t.labels[i]) : argmax(ConstVectorView(t.dense.row(i), z.cols));
      correct += argmax(ConstVectorView(zi, z.cols)) == target;
    }
  }
  return correct;
}

}  // namespace fennec
