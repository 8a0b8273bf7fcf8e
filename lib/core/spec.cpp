// SPDX-License-Identifier: Apache-2.0
#include "fennec/spec.hpp"

namespace fennec {

Status validate(const ModelSpec& spec) {
  FENNEC_ENSURE(!spec.overflowed, StatusCode::kInvalidArgument,
                "model spec has more than %zu layers", kMaxLayers);
  FENNEC_ENSURE(!spec.misplaced, StatusCode::kInvalidArgument,
                "model spec: batchnorm() or dropout() before any dense() layer");
  FENNEC_ENSURE(spec.num_layers >= 1 && spec.num_layers <= kMaxLayers, StatusCode::kInvalidArgument,
                "model spec needs 1..%zu layers, has %u", kMaxLayers, static_cast<unsigned>(spec.num_layers));
  FENNEC_ENSURE(spec.input >= 1 && spec.input <= kMaxWidth, StatusCode::kInvalidArgument,
                "input width %u outside [1, %zu]", static_cast<unsigned>(spec.input), kMaxWidth);
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    FENNEC_ENSURE(l.units >= 1 && l.units <= kMaxWidth, StatusCode::kInvalidArgument,
                  "layer %zu width %u outside [1, %zu]", i, static_cast<unsigned>(l.units), kMaxWidth);
    Status s = validate(l.activation);
    FENNEC_ENSURE(s.is_ok(), s.code(), "layer %zu: %s", i, s.message());
    s = validate(l.init);
    FENNEC_ENSURE(s.is_ok(), s.code(), "layer %zu: %s", i, s.message());
    // Written so that NaN fails every range check.
    const BatchNormSpec& bn = l.batchnorm;
    if (!kBuildHasBatchNormDropout) {
      FENNEC_ENSURE(!bn.enabled, StatusCode::kUnsupported,
                    "layer %zu: batch norm is not in this build; fold it first (fold_batchnorm)", i);
#if !defined(FENNEC_INFERENCE_ONLY)
      // Training without the dropout code would silently train without dropout. (An
      // inference-only build never reads the probability: dropout is the identity there.)
      FENNEC_ENSURE(l.dropout == 0.f, StatusCode::kUnsupported,
                    "layer %zu: dropout is not in this build (FENNEC_BATCHNORM_DROPOUT=OFF)", i);
#endif
      continue;
    }
    if (bn.enabled) {
      FENNEC_ENSURE(bn.eps > 0.f && bn.eps <= 1.f, StatusCode::kInvalidArgument,
                    "layer %zu: batch norm eps %g outside (0, 1]", i, static_cast<double>(bn.eps));
      FENNEC_ENSURE(bn.momentum >= 0.f && bn.momentum <= 1.f, StatusCode::kInvalidArgument,
                    "layer %zu: batch norm momentum %g outside [0, 1]", i, static_cast<double>(bn.momentum));
    }
    FENNEC_ENSURE(l.dropout >= 0.f && l.dropout < 1.f, StatusCode::kInvalidArgument,
                  "layer %zu: dropout probability %g outside [0, 1)", i, static_cast<double>(l.dropout));
  }
  const int loss = static_cast<int>(spec.loss);
  FENNEC_ENSURE(loss >= 0 && loss <= static_cast<int>(Loss::kSigmoidBce), StatusCode::kInvalidArgument,
                "loss kind %d out of range", loss);
  if (spec.loss == Loss::kSoftmaxCrossEntropy) {
    FENNEC_ENSURE(spec.output() >= 2, StatusCode::kInvalidArgument,
                  "softmax cross-entropy needs at least 2 outputs, the last layer has %u",
                  static_cast<unsigned>(spec.output()));
  }
  return Status::ok();
}

}  // namespace fennec
