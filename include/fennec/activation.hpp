// SPDX-License-Identifier: Apache-2.0
// Activation functions and their derivatives.
//
// Derivatives are expressed in terms of the activation's *output* y, so the backward pass needs
// only the stored outputs (no pre-activations): sigmoid' = y(1-y), tanh' = 1-y^2,
// relu' = [y > 0], leaky_relu' = y > 0 ? 1 : alpha (exact for 0 <= alpha < 1).
#pragma once

#include <cstddef>

#include "fennec/status.hpp"

namespace fennec {

enum class Activation : int {
  kIdentity = 0,
  kSigmoid = 1,
  kTanh = 2,
  kRelu = 3,
  kLeakyRelu = 4,
};
inline constexpr int kActivationCount = 5;

struct ActivationSpec {
  Activation kind = Activation::kIdentity;
  float alpha = 0.01f;  // negative slope, LeakyReLU only

  static constexpr ActivationSpec identity() { return {Activation::kIdentity, 0.f}; }
  static constexpr ActivationSpec sigmoid() { return {Activation::kSigmoid, 0.f}; }
  static constexpr ActivationSpec tanh() { return {Activation::kTanh, 0.f}; }
  static constexpr ActivationSpec relu() { return {Activation::kRelu, 0.f}; }
  static constexpr ActivationSpec leaky_relu(float a = 0.01f) { return {Activation::kLeakyRelu, a}; }
};

// "identity", "sigmoid", "tanh", "relu", "leaky_relu".
const char* activation_name(Activation a);
// Parses the names above; kInvalidArgument otherwise.
Result<Activation> parse_activation(const char* name);
// One activation as the tools and the safetensors metadata write it: a name above, or
// "leaky_relu:ALPHA" with ALPHA a finite decimal in [0, 1) ("leaky_relu" alone: alpha 0.01).
// `text` has `size` bytes and need not be NUL-terminated; a NUL byte inside is an error, never
// the end of the text. kInvalidArgument with a message on anything else.
Result<ActivationSpec> parse_activation_spec(const char* text, std::size_t size);
// A comma-separated list of the above ("relu,leaky_relu:0.2,identity"): exactly `count` items
// into out[0..count); an empty item, a count mismatch (kShapeMismatch) or a bad item is refused.
Status parse_activation_list(const char* text, std::size_t size, ActivationSpec* out,
                             std::size_t count);
// alpha must lie in [0, 1) for LeakyReLU (the output-based derivative needs it).
Status validate(const ActivationSpec& a);

// Scalar definitions: the reference every kernel is tested against.
float activate(const ActivationSpec& a, float x);
float activation_derivative_from_output(const ActivationSpec& a, float y);

}  // namespace fennec
