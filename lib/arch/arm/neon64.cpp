// SPDX-License-Identifier: Apache-2.0
// The AArch64 NEON kernel table: the xsimd kernel templates instantiated for xsimd::neon64.
// Built for every AArch64 target (Advanced SIMD is mandatory there).
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable neon64_kernel_table = simd::make_table<xsimd::neon64>(Isa::kNeon64);

}  // namespace fennec::kernels
