#include "fennec/activation.hpp"

#include <cmath>
#include <cstring>

namespace fennec {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kRelu: return "relu";
    case Activation::kLeakyRelu: return "leaky_relu";
  }
  return "unknown";
}

Result<Activation> parse_activation(const char* name) {
  if (name) {
    for (int i = 0; i < kActivationCount; ++i) {
      const Activation a = static_cast<Activation>(i);
      if (std::strcmp(name, activation_name(a)) == 0) return a;
    }
  }
  return Status::error(StatusCode::kInvalidArgument,
                       "unknown activation '%s' (identity, sigmoid, tanh, relu, leaky_relu)",
                       name ? name : "(null)");
}

Status validate(const ActivationSpec& a) {
  const int k = static_cast<int>(a.kind);
  FENNEC_ENSURE(k >= 0 && k < kActivationCount, StatusCode::kInvalidArgument,
                "activation kind %d out of range", k);
  if (a.kind == Activation::kLeakyRelu) {
    FENNEC_ENSURE(a.alpha >= 0.f && a.alpha < 1.f, StatusCode::kInvalidArgument,
                  "leaky_relu alpha must be in [0, 1), got %g", static_cast<double>(a.alpha));
  }
  return Status::ok();
}

float activate(const ActivationSpec& a, float x) {
  switch (a.kind) {
    case Activation::kIdentity: return x;
    // 1/(1+e^-x) overflows gracefully: e^-x -> inf gives 0, never NaN.
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case Activation::kTanh: return std::tanh(x);
    case Activation::kRelu: return x > 0.f ? x : 0.f;
    case Activation::kLeakyRelu: return x > 0.f ? x : a.alpha * x;
  }
  return x;
}

float activation_derivative_from_output(const ActivationSpec& a, float y) {
  switch (a.kind) {
    case Activation::kIdentity: return 1.f;
    case Activation::kSigmoid: return y * (1.f - y);
    case Activation::kTanh: return 1.f - y * y;
    case Activation::kRelu: return y > 0.f ? 1.f : 0.f;
    case Activation::kLeakyRelu: return y > 0.f ? 1.f : a.alpha;
  }
  return 1.f;
}

}  // namespace fennec
