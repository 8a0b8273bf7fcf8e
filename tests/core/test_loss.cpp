// SPDX-License-Identifier: Apache-2.0
// Losses: values against double references, gradients against finite differences in double,
// numerical stability, target validation, count_correct.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;
using fennec_test::ref_loss;

namespace {

struct Case {
  Loss loss;
  std::size_t rows, cols;
  bool use_labels;
};

}  // namespace

TEST_CASE("loss: values and gradients match double references and finite differences", "[loss]") {
  const Case cases[] = {
      {Loss::kSoftmaxCrossEntropy, 5, 4, true}, {Loss::kSoftmaxCrossEntropy, 3, 7, false},
      {Loss::kSoftmaxCrossEntropy, 1, 2, true}, {Loss::kMse, 4, 3, false},
      {Loss::kMse, 1, 1, false},                {Loss::kSigmoidBce, 6, 1, false},
      {Loss::kSigmoidBce, 3, 5, false},
  };
  const std::uint64_t seed = 4242;
  Rng rng(seed);
  for (const Case& c : cases) {
    INFO(loss_name(c.loss) << " " << c.rows << "x" << c.cols << " labels " << c.use_labels
                           << " seed " << seed);
    const std::size_t n = c.rows * c.cols;
    std::vector<float> z(n), t(n, 0.f), g(n, 0.f);
    std::vector<std::int32_t> labels(c.rows);
    for (float& v : z) v = static_cast<float>(rng.normal(0.0, 2.0));
    if (c.loss == Loss::kSoftmaxCrossEntropy) {
      for (std::size_t i = 0; i < c.rows; ++i) {
        if (c.use_labels) {
          labels[i] = static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(c.cols)));
          t[i * c.cols + static_cast<std::size_t>(labels[i])] = 1.f;
        } else {  // a soft target distribution per row
          float s = 0;
          for (std::size_t j = 0; j < c.cols; ++j) s += t[i * c.cols + j] = static_cast<float>(rng.uniform(0.1, 1.0));
          for (std::size_t j = 0; j < c.cols; ++j) t[i * c.cols + j] /= s;
        }
      }
    } else if (c.loss == Loss::kMse) {
      for (float& v : t) v = static_cast<float>(rng.normal());
    } else {
      for (float& v : t) v = static_cast<float>(rng.uniform01());
    }
    ConstMatrixView zv(z.data(), c.rows, c.cols);
    const Targets targets = c.use_labels ? Targets::classes(labels.data())
                                         : Targets::values(ConstMatrixView(t.data(), c.rows, c.cols));
    REQUIRE(validate_targets(c.loss, zv, targets).is_ok());
    const double value = compute_loss(c.loss, zv, targets, MatrixView(g.data(), c.rows, c.cols));

    std::vector<double> zd(z.begin(), z.end()), td(t.begin(), t.end());
    // Value: the inputs are the same floats; the library may work in float: atol 1e-6, rtol 1e-5.
    CHECK(close(value, ref_loss(c.loss, zd, td, c.rows, c.cols), 1e-6, 1e-5));
    // Loss without a gradient buffer gives the same value.
    CHECK(compute_loss(c.loss, zv, targets, MatrixView()) == value);

    // Gradient: central differences of the double reference, h = 1e-6 (error ~1e-10);
    // the library's float gradient: atol 1e-6, rtol 1e-4.
    const double h = 1e-6;
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<double> zp = zd, zm = zd;
      zp[k] += h;
      zm[k] -= h;
      const double fd = (ref_loss(c.loss, zp, td, c.rows, c.cols) -
                         ref_loss(c.loss, zm, td, c.rows, c.cols)) / (2 * h);
      INFO("element " << k);
      CHECK(close(g[k], fd, 1e-6, 1e-4));
    }

    // And directly on the library: central difference of compute_loss over float logits,
    // h = 2^-7; float rounding of the inputs and O(h^2): atol 1e-4, rtol 1e-2.
    const float hf = 1.0f / 128;
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<float> zp = z, zm = z;
      zp[k] += hf;
      zm[k] -= hf;
      const double dp = compute_loss(c.loss, ConstMatrixView(zp.data(), c.rows, c.cols), targets, MatrixView());
      const double dm = compute_loss(c.loss, ConstMatrixView(zm.data(), c.rows, c.cols), targets, MatrixView());
      const double fd = (dp - dm) / (double(zp[k]) - double(zm[k]));
      INFO("element " << k << " (library FD)");
      CHECK(close(g[k], fd, 1e-4, 1e-2));
    }
  }
}

TEST_CASE("loss: hand-computed values", "[loss]") {
  // CE of uniform logits over 4 classes = log 4; gradient softmax - onehot = 0.25 - [j==y], / B.
  {
    std::vector<float> z(2 * 4, 0.f), g(8);
    const std::int32_t y[2] = {1, 3};
    const double l = compute_loss(Loss::kSoftmaxCrossEntropy, ConstMatrixView(z.data(), 2, 4),
                                  Targets::classes(y), MatrixView(g.data(), 2, 4));
    CHECK(close(l, std::log(4.0), 1e-7, 1e-6));
    CHECK(close(g[0], 0.125, 1e-7, 1e-6));
    CHECK(close(g[1], -0.375, 1e-7, 1e-6));
    CHECK(close(g[7], -0.375, 1e-7, 1e-6));
  }
  // MSE: z = [1, 2], t = [0, 4]: ((1)^2 + (2)^2)/2 = 2.5; grad 2(z-t)/2 = [1, -2].
  {
    const float z[2] = {1.f, 2.f}, t[2] = {0.f, 4.f};
    float g[2];
    const double l = compute_loss(Loss::kMse, ConstMatrixView(z, 1, 2),
                                  Targets::values(ConstMatrixView(t, 1, 2)), MatrixView(g, 1, 2));
    CHECK(l == 2.5);
    CHECK(g[0] == 1.f);
    CHECK(g[1] == -2.f);
  }
  // BCE: z = 0, t = 1: log 2; grad sigmoid(0) - 1 = -0.5.
  {
    const float z[1] = {0.f}, t[1] = {1.f};
    float g[1];
    const double l = compute_loss(Loss::kSigmoidBce, ConstMatrixView(z, 1, 1),
                                  Targets::values(ConstMatrixView(t, 1, 1)), MatrixView(g, 1, 1));
    CHECK(close(l, std::log(2.0), 1e-7, 1e-6));
    CHECK(g[0] == -0.5f);
  }
}

TEST_CASE("loss: numerically stable for extreme logits", "[loss]") {
  // CE: logits +-1000 must not overflow exp; the loss is 2000 for the wrong class, 0 for the right.
  {
    const float z[4] = {1000.f, -1000.f, -1000.f, 1000.f};
    const std::int32_t y[2] = {1, 1};
    float g[4];
    const double l = compute_loss(Loss::kSoftmaxCrossEntropy, ConstMatrixView(z, 2, 2),
                                  Targets::classes(y), MatrixView(g, 2, 2));
    REQUIRE(std::isfinite(l));
    CHECK(close(l, 1000.0, 1e-3, 1e-6));  // (2000 + 0) / 2
    CHECK(close(g[0], 0.5, 1e-7, 1e-6));
    CHECK(close(g[1], -0.5, 1e-7, 1e-6));
    CHECK(std::fabs(g[2]) <= 1e-7f);
    CHECK(std::fabs(g[3]) <= 1e-7f);
  }
  // BCE: z = +-100 with the wrong target: loss 100, gradient +-1; right target ~0.
  {
    const float z[4] = {100.f, -100.f, 100.f, -100.f}, t[4] = {0.f, 1.f, 1.f, 0.f};
    float g[4];
    const double l = compute_loss(Loss::kSigmoidBce, ConstMatrixView(z, 4, 1),
                                  Targets::values(ConstMatrixView(t, 4, 1)), MatrixView(g, 4, 1));
    REQUIRE(std::isfinite(l));
    CHECK(close(l, 50.0, 1e-5, 1e-6));  // (100 + 100 + 0 + 0) / 4
    CHECK(close(g[0], 0.25, 1e-7, 1e-6));
    CHECK(close(g[1], -0.25, 1e-7, 1e-6));
    CHECK(std::fabs(g[2]) <= 1e-7f);
    CHECK(std::fabs(g[3]) <= 1e-7f);
  }
}

TEST_CASE("loss: validate_targets rejects what does not fit", "[loss]") {
  std::vector<float> z(3 * 4, 0.f), t(3 * 4, 0.f), t_bad(3 * 5, 0.f), t1(3, 0.5f);
  ConstMatrixView zv(z.data(), 3, 4);
  const std::int32_t ok[3] = {0, 3, 2};
  const std::int32_t neg[3] = {0, -1, 2};
  const std::int32_t big[3] = {0, 4, 2};
  CHECK(validate_targets(Loss::kSoftmaxCrossEntropy, zv, Targets::classes(ok)).is_ok());
  CHECK(validate_targets(Loss::kSoftmaxCrossEntropy, zv, Targets::classes(neg)).code() ==
        StatusCode::kInvalidArgument);
  CHECK(validate_targets(Loss::kSoftmaxCrossEntropy, zv, Targets::classes(big)).code() ==
        StatusCode::kInvalidArgument);
  // Neither labels nor a dense matrix.
  CHECK_FALSE(validate_targets(Loss::kSoftmaxCrossEntropy, zv, Targets{}).is_ok());
  CHECK(validate_targets(Loss::kSoftmaxCrossEntropy, zv,
                         Targets::values(ConstMatrixView(t.data(), 3, 4))).is_ok());
  CHECK(validate_targets(Loss::kSoftmaxCrossEntropy, zv,
                         Targets::values(ConstMatrixView(t_bad.data(), 3, 5))).code() ==
        StatusCode::kShapeMismatch);
  CHECK(validate_targets(Loss::kMse, zv, Targets::values(ConstMatrixView(t.data(), 2, 4))).code() ==
        StatusCode::kShapeMismatch);
  // Class labels are for softmax CE only.
  CHECK_FALSE(validate_targets(Loss::kMse, zv, Targets::classes(ok)).is_ok());
  CHECK_FALSE(validate_targets(Loss::kSigmoidBce, zv, Targets::classes(ok)).is_ok());
  // BCE targets are probabilities in [0, 1].
  ConstMatrixView z1(z.data(), 3, 1);
  CHECK(validate_targets(Loss::kSigmoidBce, z1, Targets::values(ConstMatrixView(t1.data(), 3, 1))).is_ok());
  t1[1] = 1.5f;
  CHECK(validate_targets(Loss::kSigmoidBce, z1, Targets::values(ConstMatrixView(t1.data(), 3, 1))).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("loss: count_correct", "[loss]") {
  const float z[3 * 3] = {0.1f, 0.9f, 0.0f,   // argmax 1
                          2.0f, -1.f, 1.0f,   // argmax 0
                          0.0f, 0.2f, 0.3f};  // argmax 2
  const std::int32_t y[3] = {1, 2, 2};
  CHECK(count_correct(ConstMatrixView(z, 3, 3), Targets::classes(y), Loss::kSoftmaxCrossEntropy) == 2);
  const float onehot[9] = {0, 1, 0, 1, 0, 0, 0, 1, 0};
  CHECK(count_correct(ConstMatrixView(z, 3, 3), Targets::values(ConstMatrixView(onehot, 3, 3)),
                      Loss::kSoftmaxCrossEntropy) == 2);
  // One output column: MSE thresholds z at 0.5, BCE logits at 0; targets at 0.5.
  const float zs[4] = {0.6f, 0.4f, 0.2f, -0.2f}, ts[4] = {1.f, 1.f, 0.f, 0.f};
  CHECK(count_correct(ConstMatrixView(zs, 4, 1), Targets::values(ConstMatrixView(ts, 4, 1)), Loss::kMse) == 3);
  CHECK(count_correct(ConstMatrixView(zs, 4, 1), Targets::values(ConstMatrixView(ts, 4, 1)),
                      Loss::kSigmoidBce) == 3);
}

TEST_CASE("loss: the loss-first count_correct still works (deprecated forwarder)", "[loss]") {
  const float z[2 * 2] = {0.1f, 0.9f, 2.0f, -1.f};
  const std::int32_t y[2] = {1, 1};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK(count_correct(Loss::kSoftmaxCrossEntropy, ConstMatrixView(z, 2, 2), Targets::classes(y)) == 1);
#pragma GCC diagnostic pop
}

TEST_CASE("loss: names are distinct", "[loss]") {
  CHECK(std::string(loss_name(Loss::kSoftmaxCrossEntropy)) != loss_name(Loss::kMse));
  CHECK(std::string(loss_name(Loss::kMse)) != loss_name(Loss::kSigmoidBce));
}
