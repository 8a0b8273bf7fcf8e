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

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  float lr = 0.01f;
  float momentum = 0.9f;     // mu: momentum, nesterov
  float rho = 0.99f;         // rmsprop decay (PyTorch's alpha)
  float beta1 = 0.9f;        // adam, adamw
  float beta2 = 0.999f;      // adam, adamw
  float eps = 1e-8f;         // adagrad (PyTorch uses 1e-10), rmsprop, adam
  float weight_decay = 0.f;  // L2 (decoupled for adamw)

  static OptimizerConfig sgd(float lr = 0.01f);
  static OptimizerConfig momentum_sgd(float lr = 0.01f, float mu = 0.9f);
  static OptimizerConfig nesterov(float lr = 0.01f, float mu = 0.9f);
  static OptimizerConfig adagrad(float lr = 0.01f, float eps = 1e-10f);
  static OptimizerConfig rmsprop(float lr = 0.01f, float rho = 0.99f, float eps = 1e-8f);
  static OptimizerConfig adam(float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
                              float eps = 1e-8f);
  static OptimizerConfig adamw(float lr = 1e-3f, float weight_decay = 0.01f, float beta1 = 0.9f,
                               float beta2 = 0.999f, float eps = 1e-8f);
  // Default hyper-parameters for `kind`.
  static OptimizerConfig defaults(OptimizerKind kind);
};

// lr > 0, 0 <= momentum < 1, 0 <= rho < 1, 0 <= beta < 1, eps > 0, weight_decay >= 0,
// all finite.
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
