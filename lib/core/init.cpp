// SPDX-License-Identifier: Apache-2.0
#include "fennec/init.hpp"

#include <cmath>

namespace fennec {
namespace {

bool finite(float x) { return std::isfinite(x); }

}  // namespace

const char* init_name(InitKind k) {
  switch (k) {
    case InitKind::kZeros: return "zeros";
    case InitKind::kConstant: return "constant";
    case InitKind::kNormal: return "normal";
    case InitKind::kUniform: return "uniform";
    case InitKind::kXavierNormal: return "xavier_normal";
    case InitKind::kXavierUniform: return "xavier_uniform";
    case InitKind::kGlorotNormal: return "glorot_normal";
    case InitKind::kGlorotUniform: return "glorot_uniform";
    case InitKind::kHeNormal: return "he_normal";
    case InitKind::kHeUniform: return "he_uniform";
  }
  return "unknown";
}

Status validate(const Init& init) {
  const int k = static_cast<int>(init.kind);
  FENNEC_ENSURE(k >= 0 && k <= static_cast<int>(InitKind::kHeUniform), StatusCode::kInvalidArgument,
                "initializer kind %d out of range", k);
  switch (init.kind) {
    case InitKind::kConstant:
      FENNEC_ENSURE(finite(init.a), StatusCode::kInvalidArgument, "constant init value must be finite");
      break;
    case InitKind::kNormal:
      FENNEC_ENSURE(finite(init.a) && finite(init.b) && init.b >= 0.f, StatusCode::kInvalidArgument,
                    "normal init needs a finite mean and sigma >= 0, got mean %g sigma %g",
                    static_cast<double>(init.a), static_cast<double>(init.b));
      break;
    case InitKind::kUniform:
      FENNEC_ENSURE(finite(init.a) && finite(init.b) && init.a < init.b, StatusCode::kInvalidArgument,
                    "uniform init needs finite lo < hi, got [%g, %g)", static_cast<double>(init.a),
                    static_cast<double>(init.b));
      break;
    default: break;
  }
  return Status::ok();
}

double init_stddev(const Init& init, std::size_t fan_in, std::size_t fan_out) {
  const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
  switch (init.kind) {
    case InitKind::kZeros:
    case InitKind::kConstant: return 0.0;
    case InitKind::kNormal: return init.b;
    case InitKind::kUniform: return (static_cast<double>(init.b) - init.a) / std::sqrt(12.0);
    case InitKind::kXavierNormal:
    case InitKind::kXavierUniform: return std::sqrt(1.0 / fi);
    case InitKind::kGlorotNormal:
    case InitKind::kGlorotUniform: return std::sqrt(2.0 / (fi + fo));
    case InitKind::kHeNormal:
    case InitKind::kHeUniform: return std::sqrt(2.0 / fi);
  }
  return 0.0;
}

Status initialize(const Init& init, MatrixView w, Rng& rng) {
  FENNEC_RETURN_IF_ERROR(validate(init));
  FENNEC_ENSURE(w.rows == 0 || w.cols == 0 || w.data != nullptr, StatusCode::kInvalidArgument,
                "initialize: null matrix data");
  FENNEC_ENSURE(w.stride >= w.cols, StatusCode::kShapeMismatch, "initialize: stride %zu < cols %zu",
                w.stride, w.cols);
  const std::size_t fan_in = w.cols, fan_out = w.rows;
  const double sd = init_stddev(init, fan_in, fan_out);
  // A uniform distribution on [-a, a) has standard deviation a / sqrt(3).
  const double half_width = sd * std::sqrt(3.0);
  for (std::size_t i = 0; i < w.rows; ++i) {
    float* row = w.row(i);
    for (std::size_t j = 0; j < w.cols; ++j) {
      double v = 0.0;
      switch (init.kind) {
        case InitKind::kZeros: v = 0.0; break;
        case InitKind::kConstant: v = init.a; break;
        case InitKind::kNormal: v = rng.normal(init.a, init.b); break;
        case InitKind::kUniform: v = rng.uniform(init.a, init.b); break;
        case InitKind::kXavierNormal:
        case InitKind::kGlorotNormal:
        case InitKind::kHeNormal: v = sd * rng.normal(); break;
        case InitKind::kXavierUniform:
        case InitKind::kGlorotUniform:
        case InitKind::kHeUniform: v = rng.uniform(-half_width, half_width); break;
      }
      row[j] = static_cast<float>(v);
    }
  }
  return Status::ok();
}

}  // namespace fennec
