// SPDX-License-Identifier: Apache-2.0
// Every GEMM a model runs goes through run_gemm: it hands the call the model's packing scratch,
// whose size plan() derived from the same (m, n, k) bound the DCHECK verifies.
//
// The three products of a dense layer are built by the factories below, so that the forward,
// the classic backward, the fused update and calibration each say which product they run
// instead of filling GemmArgs field by field. W is (units x fan_in), row-major, as
// nn.Linear.weight; every other matrix is row-major with its row stride given.
#pragma once

#include <cstddef>

#include "core/check.hpp"
#include "fennec/plan.hpp"
#include "fennec/tensor.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

inline void run_gemm(kernels::GemmFn fn, kernels::GemmArgs g, float* scratch, std::size_t scratch_floats) {
  g.scratch = scratch;
  g.scratch_floats = scratch_floats;
  FENNEC_DCHECK(gemm_scratch_floats(g.m, g.n, g.k) <= scratch_floats);
  fn(g);
}

// Y = act(X W^T + b): (x.rows x units) into y (row stride units). For gemm_nt_f32.
inline kernels::GemmArgs dense_forward_gemm(ConstMatrixView x, const float* w, const float* bias,
                                            ActivationSpec act, std::size_t units, float* y) {
  kernels::GemmArgs g;
  g.m = x.rows;
  g.n = units;
  g.k = x.cols;
  g.a = x.data;
  g.lda = x.stride;
  g.b = w;
  g.ldb = x.cols;
  g.c = y;
  g.ldc = units;
  g.bias = bias;
  g.act = act;
  return g;
}

// dW = dZ^T X for `rows` output units: dz points at the first of them in a (x.rows x lddz)
// matrix; the result (rows x x.cols) goes to dw with row stride x.cols. For gemm_tn_f32.
inline kernels::GemmArgs weight_gradient_gemm(const float* dz, std::size_t lddz, std::size_t rows,
                                              ConstMatrixView x, float* dw) {
  kernels::GemmArgs g;
  g.m = rows;
  g.n = x.cols;
  g.k = x.rows;
  g.a = dz;
  g.lda = lddz;
  g.b = x.data;
  g.ldb = x.stride;
  g.c = dw;
  g.ldc = x.cols;
  return g;
}

// dX = dZ W: dz is (batch x units) with row stride units; dx (batch x fan_in), row stride lddx.
// For gemm_nn_f32.
inline kernels::GemmArgs input_gradient_gemm(const float* dz, std::size_t batch, std::size_t units,
                                             const float* w, std::size_t fan_in, float* dx,
                                             std::size_t lddx) {
  kernels::GemmArgs g;
  g.m = batch;
  g.n = fan_in;
  g.k = units;
  g.a = dz;
  g.lda = units;
  g.b = w;
  g.ldb = fan_in;
  g.c = dx;
  g.ldc = lddx;
  return g;
}

}  // namespace fennec::detail
