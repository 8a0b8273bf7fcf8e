// SPDX-License-Identifier: Apache-2.0
// The SSE2 kernel table: the xsimd kernel templates instantiated for xsimd::sse2.
// Baseline x86-64: compiled with the default flags; the fallback every x86-64 CPU runs.
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable sse2_kernel_table = simd::make_table<xsimd::sse2>(Isa::kSse2);

}  // namespace fennec::kernels
