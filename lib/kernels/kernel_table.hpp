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
#include <cstdint>

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

// Batch statistics of x (m x n, m >= 1) per column: mean[j] and the biased variance
// var[j] = sum_i (x[i][j] - mean[j])^2 / m (two passes: no cancellation from E[x^2] - E[x]^2).
using BnStatsFn = void (*)(std::size_t m, std::size_t n, const float* x, std::size_t ldx, float* mean,
                           float* var);

// Batch-norm forward, fused: xhat = (x - mean[j]) * inv_std[j], y = gamma[j] * xhat + beta[j].
// xhat may be null (not kept: inference); x may alias xhat or y (same stride), so the
// normalisation can run in place.
struct BnFwdArgs {
  std::size_t m = 0, n = 0;
  const float* x = nullptr;
  std::size_t ldx = 0;
  const float* mean = nullptr;
  const float* inv_std = nullptr;
  const float* gamma = nullptr;
  const float* beta = nullptr;
  float* xhat = nullptr;
  std::size_t ldxhat = 0;
  float* y = nullptr;
  std::size_t ldy = 0;
};
using BnFwdFn = void (*)(const BnFwdArgs&);

// Batch-norm backward, fused, from the saved xhat (m x n) and dL/dy:
//   dbeta[j]  = sum_i dy[i][j]            dgamma[j] = sum_i dy[i][j] * xhat[i][j]
//   dx[i][j]  = gamma[j] * inv_std[j] / m * (m * dy[i][j] - dbeta[j] - xhat[i][j] * dgamma[j])
// dgamma and dbeta are overwritten; dx may alias dy (same stride): the sums are taken first.
struct BnBwdArgs {
  std::size_t m = 0, n = 0;
  const float* dy = nullptr;
  std::size_t lddy = 0;
  const float* xhat = nullptr;
  std::size_t ldxhat = 0;
  const float* gamma = nullptr;
  const float* inv_std = nullptr;
  float* dgamma = nullptr;
  float* dbeta = nullptr;
  float* dx = nullptr;
  std::size_t lddx = 0;
};
using BnBwdFn = void (*)(const BnBwdArgs&);

// Inverted dropout, forward and backward alike: y[i][j] = mask[i][j] ? x[i][j] * scale : 0,
// mask one byte per element (0 dropped, anything else kept), scale = 1/(1-p). y may alias x.
using DropoutFn = void (*)(std::size_t m, std::size_t n, const float* x, std::size_t ldx,
                           const unsigned char* mask, std::size_t ldmask, float scale, float* y,
                           std::size_t ldy);

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

// int8 GEMM of the quantization scheme (fennec/quant.hpp): for i < m, j < n
//   acc = bias[j] + sum_k w[j*ldw + k] * x[i*ldx + k]          (exact int32)
// then either (y != null) y[i*ldy + j] = clamp(out_zero_point + requantize(acc), out_lo, 127)
// with requantize by (mult[j], shift[j]) for acc >= 0 and (mult_neg[j], shift_neg[j]) otherwise,
// or (yf != null) yf[i*ldyf + j] = float(acc) * (acc >= 0 ? deq[j] : deq_neg[j]).
// x is (m x k), w is (n x k), both row-major int8, w in [-127, 127] (the scheme never uses -128,
// QuantizedModel refuses it; the NEON tables sum two products in int16, exact only then);
// wsum[j] = sum_k w[j][k] (tables that offset x to unsigned bytes use it). wpack, when not
// null, is the same w packed once by qpack_s8 (fennec/detail/qpack_layout.hpp,
// lib/kernels/qpack.hpp); tables that read it (qgemm_reads_packed) then never read w, which may
// be null, and fall back to w without it; the others ignore wpack and need w. Every table gives
// the same bits (integer arithmetic). No scratch.
struct QGemmArgs {
  std::size_t m = 0, n = 0, k = 0;
  const std::int8_t* x = nullptr;
  std::size_t ldx = 0;
  const std::int8_t* w = nullptr;
  std::size_t ldw = 0;
  const std::uint8_t* wpack = nullptr;
  const std::int32_t* bias = nullptr;
  const std::int32_t* wsum = nullptr;
  const std::int32_t* mult = nullptr;
  const std::int32_t* shift = nullptr;
  const std::int32_t* mult_neg = nullptr;
  const std::int32_t* shift_neg = nullptr;
  std::int32_t out_zero_point = 0;
  std::int32_t out_lo = -128;
  std::int8_t* y = nullptr;
  std::size_t ldy = 0;
  const float* deq = nullptr;
  const float* deq_neg = nullptr;
  float* yf = nullptr;
  std::size_t ldyf = 0;
};
using QGemmFn = void (*)(const QGemmArgs&);

// Whether the int8 GEMMs of `isa`'s table read QGemmArgs::wpack (the packed layout), so that a
// quantized model bound to it keeps its weights in that layout only: AVX-512 VNNI, and NEON64
// when the whole build has the dot-product extension (sdot by element reads the panels).
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
constexpr bool qgemm_reads_packed(Isa isa) { return isa == Isa::kAvx512Vnni || isa == Isa::kNeon64; }
#else
constexpr bool qgemm_reads_packed(Isa isa) { return isa == Isa::kAvx512Vnni; }
#endif

// int8 quantization of the first layer's input (fennec/quant.hpp): for i < rows, k < cols
//   y[i*ldy + k] = clamp(zero_point + round_half_away(clamp(x[i*ldx + k] * inv_scale, -512, 512)),
//                        -128, 127)
// with the product rounded to float once (the clamp to +-512 only keeps the rounding exact in
// float: beyond it the final clamp decides alone). Returns false when any x is NaN or Inf; y is
// then unspecified (the caller reports the element and keeps nothing). Every table gives the
// same bytes. x is (rows x cols) f32, y (rows x cols) int8; no alignment, no scratch.
struct QuantizeArgs {
  std::size_t rows = 0, cols = 0;
  const float* x = nullptr;
  std::size_t ldx = 0;
  float inv_scale = 1.f;
  std::int32_t zero_point = 0;
  std::int8_t* y = nullptr;
  std::size_t ldy = 0;
};
using QuantizeFn = bool (*)(const QuantizeArgs&);

// Which builds carry a kernel_list.def row (its third column).
enum class RowScope { kEvery, kTraining, kBatchNormDropout, kInt8 };

constexpr bool row_in_build(RowScope scope) {
#if defined(FENNEC_INFERENCE_ONLY)
  if (scope == RowScope::kTraining) return false;
#endif
#if defined(FENNEC_NO_BATCHNORM_DROPOUT)
  if (scope == RowScope::kBatchNormDropout) return false;
#endif
#if defined(FENNEC_NO_INT8)
  if (scope == RowScope::kInt8) return false;
#endif
  (void)scope;
  return true;
}

struct KernelTable {
  Isa isa = Isa::kRef;
#define FENNEC_KERNEL(id, Fn, scope) Fn id = nullptr;
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
