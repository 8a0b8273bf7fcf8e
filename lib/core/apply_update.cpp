// SPDX-License-Identifier: Apache-2.0
#include "core/apply_update.hpp"

#include <cmath>

namespace fennec {
namespace detail {

void apply_update(const kernels::KernelTable& k, const OptimizerConfig& c, std::size_t n, float* w,
                  const float* g, float* s1, float* s2, std::uint64_t t) {
  kernels::OptimStepArgs a;
  a.n = n;
  a.w = w;
  a.g = g;
  a.s1 = s1;
  a.s2 = s2;
  // Each rate and its complement rounded once from double, as PyTorch's float32 path does.
  a.lr = static_cast<float>(c.lr);
  a.momentum = static_cast<float>(c.momentum);
  a.rho = static_cast<float>(c.rho);
  a.one_minus_rho = static_cast<float>(1.0 - c.rho);
  a.beta1 = static_cast<float>(c.beta1);
  a.one_minus_beta1 = static_cast<float>(1.0 - c.beta1);
  a.beta2 = static_cast<float>(c.beta2);
  a.one_minus_beta2 = static_cast<float>(1.0 - c.beta2);
  a.eps = static_cast<float>(effective_eps(c));
  a.weight_decay = static_cast<float>(c.weight_decay);
  // With the float learning rate the kernels apply (so a Trainer, which keeps lr in float, and
  // optimizer_step agree bit for bit).
  a.decoupled_decay = static_cast<float>(1.0 - static_cast<double>(a.lr) * c.weight_decay);
  const double td = static_cast<double>(t);
  a.inv_bias_correction1 = static_cast<float>(1.0 / (1.0 - std::pow(c.beta1, td)));
  a.inv_bias_correction2 = static_cast<float>(1.0 / (1.0 - std::pow(c.beta2, td)));
  switch (c.kind) {
    case OptimizerKind::kSgd: k.sgd_step_f32(a); break;
    case OptimizerKind::kMomentum: k.momentum_step_f32(a); break;
    case OptimizerKind::kNesterov: k.nesterov_step_f32(a); break;
    case OptimizerKind::kAdaGrad: k.adagrad_step_f32(a); break;
    case OptimizerKind::kRmsProp: k.rmsprop_step_f32(a); break;
    case OptimizerKind::kAdam: k.adam_step_f32(a); break;
    case OptimizerKind::kAdamW: k.adamw_step_f32(a); break;
  }
}

}  // namespace detail

}  // namespace fennec
