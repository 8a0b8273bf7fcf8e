// SPDX-License-Identifier: Apache-2.0
#include "fennec/optim.hpp"

#include <cmath>
#include <cstring>

#include "core/apply_update.hpp"

namespace fennec {
namespace {

bool finite(double x) { return std::isfinite(x); }

}  // namespace

const char* optimizer_name(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kMomentum: return "momentum";
    case OptimizerKind::kNesterov: return "nesterov";
    case OptimizerKind::kAdaGrad: return "adagrad";
    case OptimizerKind::kRmsProp: return "rmsprop";
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kAdamW: return "adamw";
  }
  return "unknown";
}

Result<OptimizerKind> parse_optimizer(const char* name) {
  if (name) {
    for (int i = 0; i < kOptimizerCount; ++i) {
      const OptimizerKind k = static_cast<OptimizerKind>(i);
      if (std::strcmp(name, optimizer_name(k)) == 0) return k;
    }
  }
  return Status::error(StatusCode::kInvalidArgument,
                       "unknown optimizer '%s' (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)",
                       name ? name : "(null)");
}

Status validate(const OptimizerConfig& c) {
  const int k = static_cast<int>(c.kind);
  FENNEC_ENSURE(k >= 0 && k < kOptimizerCount, StatusCode::kInvalidArgument,
                "optimizer kind %d out of range", k);
  const char* name = optimizer_name(c.kind);
  FENNEC_ENSURE(finite(c.lr) && c.lr > 0.0, StatusCode::kInvalidArgument,
                "%s: learning rate must be finite and > 0, got %g", name, c.lr);
  FENNEC_ENSURE(c.momentum >= 0.0 && c.momentum < 1.0, StatusCode::kInvalidArgument,
                "%s: momentum must be in [0, 1), got %g", name, c.momentum);
  FENNEC_ENSURE(c.rho >= 0.0 && c.rho < 1.0, StatusCode::kInvalidArgument,
                "%s: rho must be in [0, 1), got %g", name, c.rho);
  FENNEC_ENSURE(c.beta1 >= 0.0 && c.beta1 < 1.0, StatusCode::kInvalidArgument,
                "%s: beta1 must be in [0, 1), got %g", name, c.beta1);
  FENNEC_ENSURE(c.beta2 >= 0.0 && c.beta2 < 1.0, StatusCode::kInvalidArgument,
                "%s: beta2 must be in [0, 1), got %g", name, c.beta2);
  FENNEC_ENSURE(finite(c.eps) && c.eps >= 0.0, StatusCode::kInvalidArgument,
                "%s: eps must be finite and >= 0 (0 means the default, %g), got %g", name,
                default_eps(c.kind), c.eps);
  FENNEC_ENSURE(finite(c.weight_decay) && c.weight_decay >= 0.0, StatusCode::kInvalidArgument,
                "%s: weight_decay must be finite and >= 0, got %g", name, c.weight_decay);
  // What the kernels see: every rate rounded once to float. A value that rounds to 0 or Inf
  // there would silently change the rule.
  FENNEC_ENSURE(static_cast<float>(c.lr) > 0.f && finite(static_cast<float>(c.lr)),
                StatusCode::kInvalidArgument, "%s: learning rate %g is outside float's range", name,
                c.lr);
  FENNEC_ENSURE(finite(static_cast<float>(c.weight_decay)), StatusCode::kInvalidArgument,
                "%s: weight_decay %g is outside float's range", name, c.weight_decay);
  FENNEC_ENSURE(static_cast<float>(effective_eps(c)) > 0.f, StatusCode::kInvalidArgument,
                "%s: eps %g rounds to 0 in float", name, c.eps);
  return Status::ok();
}

Status validate(const ClipConfig& c) {
  FENNEC_ENSURE(finite(c.max_norm) && c.max_norm >= 0.f, StatusCode::kInvalidArgument,
                "clip max_norm must be finite and >= 0 (0 disables), got %g",
                static_cast<double>(c.max_norm));
  FENNEC_ENSURE(finite(c.max_value) && c.max_value >= 0.f, StatusCode::kInvalidArgument,
                "clip max_value must be finite and >= 0 (0 disables), got %g",
                static_cast<double>(c.max_value));
  return Status::ok();
}

Status optimizer_step(const OptimizerConfig& c, VectorView params, ConstVectorView grads,
                      VectorView state0, VectorView state1, std::uint64_t t) {
  FENNEC_RETURN_IF_ERROR(validate(c));
  FENNEC_ENSURE(t >= 1, StatusCode::kInvalidArgument, "optimizer_step: t is 1-based, got 0");
  FENNEC_ENSURE(t <= kMaxStepCount, StatusCode::kInvalidArgument,
                "optimizer_step: t = %llu above the %llu limit (2^53)",
                static_cast<unsigned long long>(t), static_cast<unsigned long long>(kMaxStepCount));
  FENNEC_ENSURE(params.data && grads.data && grads.size == params.size, StatusCode::kShapeMismatch,
                "optimizer_step: %zu params but %zu grads", params.size, grads.size);
  const std::size_t slots = optimizer_state_slots(c.kind);
  FENNEC_ENSURE(slots < 1 || (state0.data && state0.size == params.size), StatusCode::kShapeMismatch,
                "optimizer_step: %s needs state0 of %zu floats, got %zu", optimizer_name(c.kind),
                params.size, state0.size);
  FENNEC_ENSURE(slots < 2 || (state1.data && state1.size == params.size), StatusCode::kShapeMismatch,
                "optimizer_step: %s needs state1 of %zu floats, got %zu", optimizer_name(c.kind),
                params.size, state1.size);
  detail::apply_update(kernels::ref_kernel_table(), c, params.size, params.data, grads.data,
                       state0.data, state1.data, t, nullptr);
  return Status::ok();
}

}  // namespace fennec
