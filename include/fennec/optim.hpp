// SPDX-License-Identifier: Apache-2.0
// Optimizers, weight decay and gradient clipping.
//
// Updates, per parameter w with gradient g (after clipping and L2 decay):
//   sgd       w -= lr*g
//   momentum  v = mu*v + g;            w -= lr*v
//   nesterov  v = mu*v + g;            w -= lr*(g + mu*v)            (PyTorch's formulation)
//   adagrad   r += g^2;                w -= lr*g/(sqrt(r) + eps)
//   rmsprop   r = rho*r + (1-rho)*g^2; w -= lr*g/(sqrt(r) + eps)
//   adam      m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2
//             w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)     (eps after the sqrt)
//   adamw     w -= lr*wd*w first (decoupled decay), then the adam update without L2
// weight_decay for every optimizer but adamw is L2: g += wd*w before the update.
// State (v, r, m, v) lives in the model's arena block, in the parameters' layout.
#pragma once

#include <cstddef>

#include <cstdint>

#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

enum class OptimizerKind : int {
  kSgd = 0,
  kMomentum,
  kNesterov,
  kAdaGrad,
  kRmsProp,
  kAdam,
  kAdamW,
};
inline constexpr int kOptimizerCount = 7;

// Number of parameter-sized state buffers the optimizer keeps (0, 1 or 2).
constexpr std::size_t optimizer_state_slots(OptimizerKind k) {
  return k == OptimizerKind::kSgd                                      ? 0
         : (k == OptimizerKind::kAdam || k == OptimizerKind::kAdamW) ? 2
                                                                       : 1;
}

const char* optimizer_name(OptimizerKind k);
Result<OptimizerKind> parse_optimizer(const char* name);

// Hyper-parameters are double so that a decay rate means what it says: the kernels get rho and
// 1 - rho each rounded once to float from the double value (as PyTorch passes alpha and
// 1 - alpha), so rmsprop(0.01, 0.999) decays by exactly float(0.001), not by 1 - 0.999f
// (1.3e-5 off). The same holds for beta1, beta2 and momentum.
//
// eps: 0 (the default) means the optimizer's own default, PyTorch's: 1e-10 for AdaGrad, 1e-8 for
// RMSProp, Adam and AdamW; so a plain OptimizerConfig with kind kAdaGrad and adagrad() agree.
// See effective_eps.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double lr = 0.01;
  double momentum = 0.9;     // mu: momentum, nesterov
  double rho = 0.99;         // rmsprop decay (PyTorch's alpha)
  double beta1 = 0.9;        // adam, adamw
  double beta2 = 0.999;      // adam, adamw
  double eps = 0.0;          // adagrad, rmsprop, adam; 0: the optimizer's default (above)
  double weight_decay = 0.0; // L2 (decoupled for adamw)

  static constexpr OptimizerConfig sgd(double lr = 0.01) {
    OptimizerConfig c;
    c.kind = OptimizerKind::kSgd;
    c.lr = lr;
    return c;
  }
  static constexpr OptimizerConfig momentum_sgd(double lr = 0.01, double mu = 0.9) {
    OptimizerConfig c;
    c.kind = OptimizerKind::kMomentum;
    c.lr = lr;
    c.momentum = mu;
    return c;
  }
  static constexpr OptimizerConfig nesterov(double lr = 0.01, double mu = 0.9) {
    OptimizerConfig c = momentum_sgd(lr, mu);
    c.kind = OptimizerKind::kNesterov;
    return c;
  }
  static constexpr OptimizerConfig adagrad(double lr = 0.01, double eps = 1e-10) {
    OptimizerConfig c;
    c.kind = OptimizerKind::kAdaGrad;
    c.lr = lr;
    c.eps = eps;
    return c;
  }
  static constexpr OptimizerConfig rmsprop(double lr = 0.01, double rho = 0.99, double eps = 1e-8) {
    OptimizerConfig c;
    c.kind = OptimizerKind::kRmsProp;
    c.lr = lr;
    c.rho = rho;
    c.eps = eps;
    return c;
  }
  static constexpr OptimizerConfig adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                                        double eps = 1e-8) {
    OptimizerConfig c;
    c.kind = OptimizerKind::kAdam;
    c.lr = lr;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    return c;
  }
  static constexpr OptimizerConfig adamw(double lr = 1e-3, double weight_decay = 0.01,
                                         double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8) {
    OptimizerConfig c = adam(lr, beta1, beta2, eps);
    c.kind = OptimizerKind::kAdamW;
    c.weight_decay = weight_decay;
    return c;
  }
  // Default hyper-parameters for `kind` (an out-of-range kind gets sgd's).
  static constexpr OptimizerConfig defaults(OptimizerKind kind) {
    switch (kind) {
      case OptimizerKind::kSgd: return sgd();
      case OptimizerKind::kMomentum: return momentum_sgd();
      case OptimizerKind::kNesterov: return nesterov();
      case OptimizerKind::kAdaGrad: return adagrad();
      case OptimizerKind::kRmsProp: return rmsprop();
      case OptimizerKind::kAdam: return adam();
      case OptimizerKind::kAdamW: return adamw();
    }
    return sgd();
  }
};

// PyTorch's eps for `kind`: 1e-10 for AdaGrad, 1e-8 otherwise.
constexpr double default_eps(OptimizerKind kind) {
  return kind == OptimizerKind::kAdaGrad ? 1e-10 : 1e-8;
}
// The eps an update uses: c.eps, or default_eps(c.kind) when c.eps is 0.
constexpr double effective_eps(const OptimizerConfig& c) {
  return c.eps == 0.0 ? default_eps(c.kind) : c.eps;
}

// lr > 0, 0 <= momentum < 1, 0 <= rho < 1, 0 <= beta < 1, eps >= 0 (0: default),
// weight_decay >= 0, all finite.
Status validate(const OptimizerConfig& c);

// Gradient clipping. Zero disables a clip. Norm clipping scales all gradients by
// max_norm/(norm + 1e-6) when the global L2 norm exceeds max_norm (PyTorch clip_grad_norm_);
// value clipping clamps each gradient to [-max_value, max_value]. Value clipping runs first.
struct ClipConfig {
  float max_norm = 0.f;
  float max_value = 0.f;
};
Status validate(const ClipConfig& c);

// Largest step number t. Adam's bias correction raises beta to the power t in double, where t is
// exact only up to 2^53; a counter past 2^64-1 would wrap to t = 0 (a division by zero that turns
// every weight into NaN). Steps, step counts and restores beyond it are refused.
inline constexpr std::uint64_t kMaxStepCount = std::uint64_t{1} << 53;

// One optimizer update on caller-owned vectors (what Trainer does to the model's flat blocks).
// `t` is the 1-based number of this step (Adam's bias correction). params, grads and the state
// vectors the optimizer uses (optimizer_state_slots) must all have the same size; state starts
// at zero. Uses the scalar reference kernels. Useful for studies and custom parameter sets.
Status optimizer_step(const OptimizerConfig& c, VectorView params, ConstVectorView grads,
                      VectorView state0, VectorView state1, std::uint64_t t);

}  // namespace fennec
