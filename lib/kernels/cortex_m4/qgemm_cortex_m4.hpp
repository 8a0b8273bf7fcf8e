// SPDX-License-Identifier: Apache-2.0
// int8 GEMM for the Cortex-M4 (Armv7E-M DSP extension: SXTB16, SMLAD): the reference table's
// qgemv_s8 and qgemm_nt_s8 in Cortex-M4 builds with int8 (FENNEC_CORTEX_M4_KERNELS and
// FENNEC_INT8). Same contract as kernel_table.hpp's QGemmArgs (any m, n, k, strides, either
// epilogue; wpack ignored; no scratch, about 4.9 KiB of stack at batches of 4 or more); exact
// int32 accumulators and the shared epilogue (requant.hpp), so its outputs are qgemm_scalar's bits.
#pragma once

#include "kernels/kernel_table.hpp"

namespace fennec::kernels::cortex_m4 {

void qgemm_nt_s8(const QGemmArgs& g);

}  // namespace fennec::kernels::cortex_m4
