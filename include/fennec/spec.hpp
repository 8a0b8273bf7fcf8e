// SPDX-License-Identifier: Apache-2.0
// ModelSpec: what the network is. A fixed-capacity value type, usable in constexpr context so
// a static arena can be sized at compile time:
//
//   constexpr auto spec = fennec::ModelSpec(784)
//       .dense(512, fennec::ActivationSpec::relu())
//       .dense(256, fennec::ActivationSpec::relu())
//       .dense(10, fennec::ActivationSpec::identity())
//       .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
//
// A dense layer may carry batch normalisation and dropout, applied in the order
//   y = dropout(act(BN(x W^T + b)))
// by calling .batchnorm() and/or .dropout(p) right after its .dense() (docs/layers.md):
//
//   fennec::ModelSpec(784).dense(512, relu).batchnorm().dropout(0.2f).dense(10, identity)
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

// Batch normalisation of a dense layer's output over the batch, per feature (PyTorch's
// BatchNorm1d): training normalises with the batch mean and biased variance and updates
// running = (1 - momentum) * running + momentum * batch (unbiased variance for the running
// estimate); inference (Model::Phase::kEval) normalises with the running estimates.
// gamma and beta live in the parameter block; decay_gamma_beta = false keeps the optimizer's
// weight decay off them.
struct BatchNormSpec {
  // The floats first and the flags together: 12 bytes, not 16 (a ModelSpec holds kMaxLayers).
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool enabled = false;
  bool decay_gamma_beta = true;
};

struct LayerSpec {
  std::uint32_t units = 0;
  ActivationSpec activation{};
  Init init = Init::he_normal();
  BatchNormSpec batchnorm{};
  // Inverted dropout after the activation: each output is zeroed with probability p in the
  // training phase and the kept ones scaled by 1/(1-p); identity in the eval phase. 0: none.
  float dropout = 0.f;
};

struct ModelSpec {
  std::uint32_t input = 0;
  std::uint32_t num_layers = 0;
  LayerSpec layers[kMaxLayers] = {};
  Loss loss = Loss::kSoftmaxCrossEntropy;
  // Set when dense() is called on a full spec; validate() reports it.
  bool overflowed = false;
  // Set when batchnorm() or dropout() is called before any dense(); validate() reports it.
  bool misplaced = false;

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
  // Batch normalisation on the last dense layer added (see BatchNormSpec). On a spec with no
  // layer yet, validate() reports it.
  constexpr ModelSpec& batchnorm(float eps = 1e-5f, float momentum = 0.1f, bool decay_gamma_beta = true) {
    if (num_layers == 0) {
      misplaced = true;
      return *this;
    }
    layers[num_layers - 1].batchnorm = BatchNormSpec{eps, momentum, true, decay_gamma_beta};
    return *this;
  }
  // Dropout with probability p in [0, 1) after the last dense layer's activation.
  constexpr ModelSpec& dropout(float p) {
    if (num_layers == 0) {
      misplaced = true;
      return *this;
    }
    layers[num_layers - 1].dropout = p;
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
  // Weights, biases and batch-norm gamma/beta of all layers.
  constexpr std::size_t num_parameters() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < num_layers; ++i)
      n += static_cast<std::size_t>(layers[i].units) * fan_in(i) + layers[i].units +
           (layers[i].batchnorm.enabled ? 2 * static_cast<std::size_t>(layers[i].units) : 0);
    return n;
  }
  constexpr bool has_batchnorm() const {
    for (std::size_t i = 0; i < num_layers; ++i)
      if (layers[i].batchnorm.enabled) return true;
    return false;
  }
  constexpr bool has_dropout() const {
    for (std::size_t i = 0; i < num_layers; ++i)
      if (layers[i].dropout > 0.f) return true;
    return false;
  }
};

// Whether this build of the library runs batch-norm layers and draws dropout masks. Builds
// configured with FENNEC_BATCHNORM_DROPOUT=OFF (the Cortex-M presets, whose firmware budgets have
// no room for that code) and inference-only builds (FENNEC_INFERENCE_ONLY) carry neither. They
// refuse a spec with batch norm: fold it into the dense layer before it on the host
// (fennec/fold.hpp, or `fennec-convert --fold-batchnorm`). An inference-only build ignores the
// dropout probability (dropout is the identity at inference); a training build without the
// option refuses a spec with dropout.
#if defined(FENNEC_NO_BATCHNORM_DROPOUT)
inline constexpr bool kBuildHasBatchNormDropout = false;
#else
inline constexpr bool kBuildHasBatchNormDropout = true;
#endif

// At least one layer, widths in [1, kMaxWidth], valid activations and initialisers,
// a loss that suits the output (sigmoid BCE and MSE accept any width); batch norm eps in
// (0, 1], momentum in [0, 1]; dropout p in [0, 1). A build without batch norm and dropout
// refuses them with kUnsupported (kBuildHasBatchNormDropout).
Status validate(const ModelSpec& spec);

}  // namespace fennec
