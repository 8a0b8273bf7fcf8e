// SPDX-License-Identifier: Apache-2.0
// GEMMs for the Cortex-M4F (single-precision FPU with fused multiply-add, 32 S registers, no
// cache): the reference table's gemm_{nt,nn,tn}_f32 in Cortex-M4F builds (FENNEC_CORTEX_M4_KERNELS).
// Same contract as kernel_table.hpp's GemmArgs (any m, n, k, strides, alpha, beta, bias, act);
// scratch is not used. Register-blocked micro-kernels in inline assembly: 4 or 5 rows at a time,
// several floats per vldm, accumulators held in S registers, no bounds checks inside the loops
// (the C++ around them handles the tails). Summation order differs from the plain reference (the
// forward's bias first when alpha is 1 and beta 0, dot products in blocks of 4 and 8 terms, then
// the tail), so results agree with it to rounding, not bit for bit.
#pragma once

#include "kernels/kernel_table.hpp"

namespace fennec::kernels::cortex_m4 {

void gemm_nt(const GemmArgs& g);  // forward: C = act(alpha * A B^T + beta * C + bias)
#if !defined(FENNEC_INFERENCE_ONLY)
void gemm_nn(const GemmArgs& g);  // dX: C = alpha * A B + beta * C (+ bias, act)
void gemm_tn(const GemmArgs& g);  // dW: C = alpha * A^T B + beta * C (+ bias, act)
#endif

}  // namespace fennec::kernels::cortex_m4
