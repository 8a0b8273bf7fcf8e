// SPDX-License-Identifier: Apache-2.0
// Inference helpers: argmax, predict_classes (multi-class and single-logit), a softmax that stays
// finite for logits far outside exp's range, and their shape checks.
#include <cmath>
#include <cstdint>
#include <string>

#include "test_util.hpp"

using namespace fennec;

TEST_CASE("predict: argmax takes the first of ties and skips NaN", "[predict]") {
  const float v[5] = {0.5f, 2.f, -1.f, 2.f, 1.f};
  CHECK(argmax(ConstVectorView(v, 5)) == 1);
  const float with_nan[3] = {0.f, std::nanf(""), 3.f};
  CHECK(argmax(ConstVectorView(with_nan, 3)) == 2);
  CHECK(argmax(ConstVectorView(v, 0)) == 0);
}

TEST_CASE("predict: predict_classes per row, single column thresholded at logit 0", "[predict]") {
  const float z[3 * 4] = {0.1f, 0.9f, 0.0f, -2.f,  //
                          2.0f, -1.f, 1.0f, 1.5f,  //
                          0.0f, 0.2f, 0.3f, 0.31f};
  std::int32_t c[3] = {-1, -1, -1};
  REQUIRE(predict_classes(ConstMatrixView(z, 3, 4), c, 3).is_ok());
  CHECK(c[0] == 1);
  CHECK(c[1] == 0);
  CHECK(c[2] == 3);
  // A strided view (2 of 4 columns) sees only its own columns.
  REQUIRE(predict_classes(ConstMatrixView(z, 3, 2, 4), c, 3).is_ok());
  CHECK(c[0] == 1);
  CHECK(c[1] == 0);
  CHECK(c[2] == 1);
  const float logit[3] = {0.2f, -0.1f, 0.f};
  REQUIRE(predict_classes(ConstMatrixView(logit, 3, 1), c, 3).is_ok());
  CHECK(c[0] == 1);
  CHECK(c[1] == 0);
  CHECK(c[2] == 0);  // sigmoid(0) = 0.5 is not above 0.5
}

TEST_CASE("predict: predict_classes refuses a short output and writes nothing", "[predict][bad-input]") {
  const float z[2 * 2] = {0.f, 1.f, 1.f, 0.f};
  std::int32_t c[2] = {-7, -7};
  const Status s = predict_classes(ConstMatrixView(z, 2, 2), c, 1);
  CHECK(s.code() == StatusCode::kShapeMismatch);
  CHECK(std::string(s.message()).find("room for 1 classes, logits have 2 rows") != std::string::npos);
  CHECK(c[0] == -7);
  CHECK(predict_classes(ConstMatrixView(z, 2, 2), nullptr, 2).code() == StatusCode::kShapeMismatch);
}

TEST_CASE("predict: softmax matches the double formula and is stable for huge logits", "[predict]") {
  const float z[2 * 3] = {1.f, 2.f, 3.f,  //
                          1000.f, 999.f, -1000.f};
  float p[2 * 3] = {};
  REQUIRE(softmax(ConstMatrixView(z, 2, 3), MatrixView(p, 2, 3)).is_ok());
  for (std::size_t i = 0; i < 2; ++i) {
    double m = z[i * 3];
    for (std::size_t j = 1; j < 3; ++j) m = std::max(m, double(z[i * 3 + j]));
    double sum = 0;
    for (std::size_t j = 0; j < 3; ++j) sum += std::exp(double(z[i * 3 + j]) - m);
    for (std::size_t j = 0; j < 3; ++j) {
      INFO("row " << i << " col " << j);
      // exp in float, one division: a few float ulps of O(1) values.
      CHECK(fennec_test::close(p[i * 3 + j], std::exp(double(z[i * 3 + j]) - m) / sum, 1e-7, 1e-6));
      CHECK(std::isfinite(p[i * 3 + j]));
    }
  }
  CHECK(p[5] == 0.f);  // e^-2000 underflows to an exact zero, not NaN
  // In place gives the same numbers.
  float q[2 * 3];
  std::copy(z, z + 6, q);
  REQUIRE(softmax(ConstMatrixView(q, 2, 3), MatrixView(q, 2, 3)).is_ok());
  for (std::size_t k = 0; k < 6; ++k) CHECK(q[k] == p[k]);
}

TEST_CASE("predict: softmax shape checks", "[predict][bad-input]") {
  float z[4] = {0.f, 1.f, 2.f, 3.f};
  float p[4] = {};
  CHECK(softmax(ConstMatrixView(z, 2, 2), MatrixView(p, 1, 2)).code() == StatusCode::kShapeMismatch);
  CHECK(softmax(ConstMatrixView(z, 1, 2, 2), MatrixView(z, 1, 2, 3)).code() == StatusCode::kInvalidArgument);
  CHECK(p[0] == 0.f);
}
