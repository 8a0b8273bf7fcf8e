// SPDX-License-Identifier: Apache-2.0
// The ARMv7 NEON kernel table: the xsimd kernel templates instantiated for xsimd::neon.
// Built only when the compiler targets NEON (-mfpu=neon...); ARMv7 NEON flushes denormals to zero.
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable neon_kernel_table = simd::make_table<xsimd::neon>(Isa::kNeon);

}  // namespace fennec::kernels
