// SPDX-License-Identifier: Apache-2.0
#include "fennec/activation.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
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

Result<ActivationSpec> parse_activation_spec(const char* text, std::size_t size) {
  FENNEC_ENSURE(text != nullptr || size == 0, StatusCode::kInvalidArgument, "null activation text");
  FENNEC_ENSURE(std::memchr(text, 0, size) == nullptr, StatusCode::kInvalidArgument,
                "activation name contains a NUL byte");
  const char* colon = static_cast<const char*>(std::memchr(text, ':', size));
  const std::size_t name_size = colon ? static_cast<std::size_t>(colon - text) : size;
  char name[16] = {};
  Activation kind = Activation::kIdentity;
  bool known = false;
  if (name_size < sizeof(name)) {
    std::memcpy(name, text, name_size);
    for (int i = 0; i < kActivationCount; ++i) {
      if (std::strcmp(name, activation_name(static_cast<Activation>(i))) == 0) {
        kind = static_cast<Activation>(i);
        known = true;
      }
    }
  }
  FENNEC_ENSURE(known, StatusCode::kInvalidArgument,
                "unknown activation '%.*s' (relu, leaky_relu, leaky_relu:ALPHA, tanh, sigmoid, "
                "identity)",
                static_cast<int>(size < 64 ? size : 64), text);
  if (!colon) return ActivationSpec{kind, kind == Activation::kLeakyRelu ? 0.01f : 0.f};
  FENNEC_ENSURE(kind == Activation::kLeakyRelu, StatusCode::kInvalidArgument,
                "only leaky_relu takes a parameter, got '%.*s'", static_cast<int>(size < 64 ? size : 64),
                text);
  // The number, copied so strtod sees a terminated string: no sign-less whitespace, the whole
  // text consumed, finite.
  const std::size_t num_size = size - name_size - 1;
  char num[32];
  const bool fits = num_size > 0 && num_size < sizeof(num);
  if (fits) {
    std::memcpy(num, colon + 1, num_size);
    num[num_size] = 0;
  }
  char* end = nullptr;
  errno = 0;
  const double a = fits && num[0] != ' ' && num[0] != '\t' ? std::strtod(num, &end) : 0.0;
  FENNEC_ENSURE(fits && num[0] != ' ' && num[0] != '\t' && end == num + num_size && errno != ERANGE &&
                    std::isfinite(a),
                StatusCode::kInvalidArgument, "leaky_relu:ALPHA: expected a finite number, got '%.*s'",
                static_cast<int>(num_size < 32 ? num_size : 32), colon + 1);
  FENNEC_ENSURE(a >= 0.0 && a < 1.0, StatusCode::kInvalidArgument,
                "leaky_relu ALPHA must lie in [0, 1), got %g", a);
  return ActivationSpec{Activation::kLeakyRelu, static_cast<float>(a)};
}

Status parse_activation_list(const char* text, std::size_t size, ActivationSpec* out,
                             std::size_t count) {
  FENNEC_ENSURE(text != nullptr || size == 0, StatusCode::kInvalidArgument, "null activation list");
  std::size_t items = 0, start = 0;
  for (;;) {
    const void* comma = size > start ? std::memchr(text + start, ',', size - start) : nullptr;
    const std::size_t end = comma ? static_cast<std::size_t>(static_cast<const char*>(comma) - text) : size;
    FENNEC_ENSURE(end > start, StatusCode::kInvalidArgument,
                  "empty item %zu in the activation list", items + 1);
    Result<ActivationSpec> a = parse_activation_spec(text + start, end - start);
    if (!a.is_ok()) return a.status();
    if (items < count) out[items] = a.value();
    ++items;
    if (!comma) break;
    start = end + 1;
  }
  FENNEC_ENSURE(items == count, StatusCode::kShapeMismatch,
                "the activation list has %zu items for %zu layers", items, count);
  return Status::ok();
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
