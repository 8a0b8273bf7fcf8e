// SPDX-License-Identifier: Apache-2.0
// ModelSpec: what the network is. A fixed-capacity value type, usable in constexpr context so
// a static arena can be sized at compile time:
//
//   constexpr auto spec = fennec::ModelSpec(784)
//       .dense(512, fennec::ActivationSpec::relu())
//       .dense(256, fennec::ActivationSpec::relu())
//       .dense(10, fennec::ActivationSpec::identity())
//       .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/activation.hpp"
#include "fennec/init.hpp"
#include "fennec/loss.hpp"
#include "fennec/status.hpp"

namespace fennec {

inline constexpr std::size_t kMaxLayers = 32;
// Largest width accepted for any layer or input (keeps every size computation far from
// overflow on 32-bit targets).
inline constexpr std::size_t kMaxWidth = 1u << 20;

struct LayerSpec {
  std::uint32_t units = 0;
  ActivationSpec activation{};
  Init init = Init::he_normal();
};

struct ModelSpec {
  std::uint32_t input = 0;
  std::uint32_t num_layers = 0;
  LayerSpec layers[kMaxLayers] = {};
  Loss loss = Loss::kSoftmaxCrossEntropy;
  // Set when dense() is called on a full spec; validate() reports it.
  bool overflowed = false;

  constexpr ModelSpec() = default;
  explicit constexpr ModelSpec(std::uint32_t input_width) : input(input_width) {}

  // Append a fully-connected layer y = act(x W^T + b), W of shape (units, previous width).
  constexpr ModelSpec& dense(std::uint32_t units, ActivationSpec act,
                             Init init = Init::he_normal()) {
    if (num_layers >= kMaxLayers) {
      overflowed = true;
      return *this;
    }
    layers[num_layers] = LayerSpec{units, act, init};
    ++num_layers;
    return *this;
  }
  constexpr ModelSpec& with_loss(Loss l) {
    loss = l;
    return *this;
  }

  constexpr std::uint32_t fan_in(std::size_t layer) const {
    return layer == 0 ? input : layers[layer - 1].units;
  }
  constexpr std::uint32_t output() const { return num_layers ? layers[num_layers - 1].units : 0; }
  // Widest of the input and all layers.
  constexpr std::size_t max_width() const {
    std::size_t w = input;
    for (std::size_t i = 0; i < num_layers; ++i) w = layers[i].units > w ? layers[i].units : w;
    return w;
  }
  // Weights and biases of all layers.
  constexpr std::size_t num_parameters() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < num_layers; ++i)
      n += static_cast<std::size_t>(layers[i].units) * fan_in(i) + layers[i].units;
    return n;
  }
};

// At least one layer, widths in [1, kMaxWidth], valid activations and initialisers,
// a loss that suits the output (sigmoid BCE and MSE accept any width).
Status validate(const ModelSpec& spec);

}  // namespace fennec
