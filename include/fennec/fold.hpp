// SPDX-License-Identifier: Apache-2.0
// Folding batch norm into the dense layer before it, for inference (docs/layers.md).
//
// In the eval phase a batch-norm layer is an affine map per feature, so
//   gamma * (x W^T + b - mean) / sqrt(var + eps) + beta  ==  x W'^T + b'
// with s = gamma / sqrt(var + eps), W'[o][k] = s[o] W[o][k] and b'[o] = s[o] (b[o] - mean[o]) +
// beta[o] (computed in double, rounded once). Dropout is the identity at inference and drops out
// of the spec. The folded model runs no batch-norm kernel, so every inference path (Cortex-M,
// external parameters, the model file version 1) takes it as a plain MLP.
//
//   ModelSpec plain = folded_spec(trained.spec());
//   Model inf = Model::bind(plain, ModelOptions::inference(64), arena).value();
//   fold_batchnorm(trained, inf);
#pragma once

#include "fennec/model.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"

namespace fennec {

// The spec with every layer's batch norm and dropout removed (widths, activations, initialisers
// and loss kept).
constexpr ModelSpec folded_spec(const ModelSpec& spec) {
  ModelSpec out = spec;
  for (std::size_t i = 0; i < out.num_layers; ++i) {
    out.layers[i].batchnorm = BatchNormSpec{};
    out.layers[i].dropout = 0.f;
  }
  return out;
}

// Writes into `folded` (bound for folded_spec(trained.spec()), any mode, parameters in its arena)
// the parameters of `trained` with each batch norm folded into its dense layer, using the
// running statistics. kShapeMismatch when `folded` has another spec or batch norm of its own,
// kFailedPrecondition when either model is unbound or `folded` reads external parameters.
// Nothing is written on failure.
[[nodiscard]] Status fold_batchnorm(const Model& trained, Model& folded);

}  // namespace fennec
