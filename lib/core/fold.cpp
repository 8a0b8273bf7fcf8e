// SPDX-License-Identifier: Apache-2.0
#include "fennec/fold.hpp"

#include <cmath>

namespace fennec {

Status fold_batchnorm(const Model& trained, Model& folded) {
  FENNEC_ENSURE(trained.is_bound() && folded.is_bound(), StatusCode::kFailedPrecondition,
                "fold_batchnorm: both models must be bound");
  FENNEC_ENSURE(folded.parameters().data != nullptr && !folded.is_external(0), StatusCode::kFailedPrecondition,
                "fold_batchnorm: the folded model reads its parameters in place (external)");
  const ModelSpec& s = trained.spec();
  const ModelSpec& f = folded.spec();
  bool same = f.input == s.input && f.num_layers == s.num_layers && f.loss == s.loss && !f.has_batchnorm();
  for (std::size_t i = 0; same && i < s.num_layers; ++i)
    same = f.layers[i].units == s.layers[i].units && f.layers[i].activation.kind == s.layers[i].activation.kind &&
           f.layers[i].activation.alpha == s.layers[i].activation.alpha;
  FENNEC_ENSURE(same, StatusCode::kShapeMismatch,
                "fold_batchnorm: the folded model must be bound for folded_spec(trained.spec())");
  for (std::size_t l = 0; l < s.num_layers; ++l) {
    const ConstMatrixView w = trained.const_weights(l);
    const ConstVectorView b = trained.const_bias(l);
    MatrixView fw = folded.weights(l);
    VectorView fb = folded.bias(l);
    const BatchNormSpec& bn = s.layers[l].batchnorm;
    for (std::size_t o = 0; o < w.rows; ++o) {
      double scale = 1.0, shift = 0.0;
      if (bn.enabled) {
        const double inv_std =
            1.0 / std::sqrt(static_cast<double>(trained.bn_running_var(l)[o]) + static_cast<double>(bn.eps));
        scale = static_cast<double>(trained.bn_gamma(l)[o]) * inv_std;
        shift = static_cast<double>(trained.bn_beta(l)[o]) - scale * static_cast<double>(trained.bn_running_mean(l)[o]);
      }
      for (std::size_t k = 0; k < w.cols; ++k) fw(o, k) = static_cast<float>(scale * static_cast<double>(w(o, k)));
      fb[o] = static_cast<float>(scale * static_cast<double>(b[o]) + shift);
    }
  }
  return Status::ok();
}

}  // namespace fennec
