// SPDX-License-Identifier: Apache-2.0
// KernelTable: one function pointer per kernel in kernel_list.def, filled per ISA.
//
// Conventions shared by every kernel:
// - Matrices are row-major with a leading stride in floats (lda >= cols). No alignment is
//   assumed for caller data; scratch is 64-byte aligned.
// - Outputs never alias inputs unless a kernel says so.
// - Kernels return void and do not validate: callers check shapes at setup.
#pragma once

#include <cstddef>

#include "fennec/activation.hpp"
#include "fennec/isa.hpp"

namespace fennec::kernels {

// C (m x n) = alpha * op(A) * op(B) + beta * C, then the optional epilogue
// C = act(C + bias[j]) (bias may be null; act identity means no activation).
//   gemm_nt: A is (m x k), B is (n x k):  C = A * B^T   (forward: Y = X * W^T)
//   gemm_nn: A is (m x k), B is (k x n):  C = A * B     (dX = dY * W)
//   gemm_tn: A is (k x m), B is (k x n):  C = A^T * B   (dW = dY^T * X)
// beta == 0 means C is not read (it may hold NaN). scratch holds at least
// gemm_scratch_floats(m, n, k) floats (fennec/detail/gemm_blocking.hpp); it is null when that is
// 0 (m == 1).
struct GemmArgs {
  std::size_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const float* a = nullptr;
  std::size_t lda = 0;
  const float* b = nullptr;
  std::size_t ldb = 0;
  float beta = 0.f;
  float* c = nullptr;
  std::size_t ldc = 0;
  const float* bias = nullptr;
  ActivationSpec act = ActivationSpec::identity();
  float* scratch = nullptr;
  std::size_t scratch_floats = 0;
};
using GemmFn = void (*)(const GemmArgs&);

// y (m x n, stride ldy) = act(y + bias[j]) in place; bias may be null.
using BiasActFwdFn = void (*)(std::size_t m, std::size_t n, float* y, std::size_t ldy,
                              const float* bias, ActivationSpec act);
// dy (m x n) *= act'(y) where y is the stored activation output, in place on dy.
using ActBwdFn = void (*)(std::size_t m, std::size_t n, const float* y, std::size_t ldy,
                          float* dy, std::size_t lddy, ActivationSpec act);
// out[j] = sum_i a[i][j] for a (m x n); out is overwritten.
using ColSumFn = void (*)(std::size_t m, std::size_t n, const float* a, std::size_t lda, float* out);
// sum_i x[i]^2, accumulated in at least float with several partial sums; a NaN/Inf in x
// makes the result non-finite, and finite x always gives a finite result (no float overflow of
// the squares: every table agrees with the double reference on finiteness).
using SumSquaresFn = double (*)(std::size_t n, const float* x);
// x[i] *= s
using ScaleFn = void (*)(std::size_t n, float* x, float s);
// x[i] = min(max(x[i], lo), hi); NaN stays NaN.
using ClampFn = void (*)(std::size_t n, float* x, float lo, float hi);

// One fused pass of an optimizer update over n parameters (see optim.hpp for the formulas).
// s1/s2 are the state slots the optimizer uses (momentum v; adagrad/rmsprop r; adam m, v).
// weight_decay is L2 (g += wd*w) except for adamw (w -= lr*wd*w). The gradient is not modified.
struct OptimStepArgs {
  std::size_t n = 0;
  float* w = nullptr;
  const float* g = nullptr;
  float* s1 = nullptr;
  float* s2 = nullptr;
  // Every rate and its complement rounded to float from the double hyper-parameter (so
  // one_minus_rho is float(1 - rho), not 1 - float(rho)); see apply_update.
  float lr = 0.f;
  float momentum = 0.f;
  float rho = 0.f;
  float one_minus_rho = 1.f;
  float beta1 = 0.f;
  float one_minus_beta1 = 1.f;
  float beta2 = 0.f;
  float one_minus_beta2 = 1.f;
  float eps = 0.f;
  float weight_decay = 0.f;
  float decoupled_decay = 1.f;  // adamw: float(1 - lr * weight_decay)
  // Adam bias corrections for this step t: 1/(1 - beta1^t) and 1/(1 - beta2^t).
  float inv_bias_correction1 = 1.f;
  float inv_bias_correction2 = 1.f;
};
using OptimStepFn = void (*)(const OptimStepArgs&);

struct KernelTable {
  Isa isa = Isa::kRef;
#define FENNEC_KERNEL(id, Fn, training_only) Fn id = nullptr;
#include "kernel_list.def"
#undef FENNEC_KERNEL
};

// The scalar reference table: always compiled, the oracle for every other table.
const KernelTable& ref_kernel_table();
// The plain scalar loops of every kernel: the same table as ref_kernel_table() except on targets
// whose reference GEMMs are specialised for the core (Cortex-M4F), where this is their oracle.
const KernelTable& plain_ref_kernel_table();
// The table for `isa` if this build has it (CPU support is the caller's concern), else null.
const KernelTable* kernel_table_for(Isa isa);

}  // namespace fennec::kernels
