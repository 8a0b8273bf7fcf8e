// SPDX-License-Identifier: Apache-2.0
#include "core/apply_update.hpp"

#include <cmath>

#include "core/parallel_ranges.hpp"

namespace fennec {
namespace detail {

void apply_update(const kernels::KernelTable& k, const OptimizerConfig& c, std::size_t n, float* w,
                  const float* g, float* s1, float* s2, std::uint64_t t, ThreadPool* pool) {
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
  kernels::OptimStepFn step = nullptr;
  switch (c.kind) {
    case OptimizerKind::kSgd: step = k.sgd_step_f32; break;
    case OptimizerKind::kMomentum: step = k.momentum_step_f32; break;
    case OptimizerKind::kNesterov: step = k.nesterov_step_f32; break;
    case OptimizerKind::kAdaGrad: step = k.adagrad_step_f32; break;
    case OptimizerKind::kRmsProp: step = k.rmsprop_step_f32; break;
    case OptimizerKind::kAdam: step = k.adam_step_f32; break;
    case OptimizerKind::kAdamW: step = k.adamw_step_f32; break;
  }
  if (!kBuildHasThreads || !pool) {
    step(a);
    return;
  }
  // Each element's update reads and writes that element alone: any split gives the same bits.
  for_each_range(pool, n, [&](std::size_t begin, std::size_t end) {
    kernels::OptimStepArgs r = a;
    r.n = end - begin;
    r.w = w + begin;
    r.g = g + begin;
    r.s1 = s1 ? s1 + begin : nullptr;
    r.s2 = s2 ? s2 + begin : nullptr;
    step(r);
  });
}

}  // namespace detail

}  // namespace fennec
