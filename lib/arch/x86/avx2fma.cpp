// SPDX-License-Identifier: Apache-2.0
// The AVX2+FMA kernel table: the xsimd kernel templates instantiated for xsimd::fma3<xsimd::avx2>.
// Compiled with -mavx2 -mfma; selected only when __builtin_cpu_supports("avx2") && ("fma").
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable avx2fma_kernel_table = simd::make_table<xsimd::fma3<xsimd::avx2>>(Isa::kAvx2Fma);

}  // namespace fennec::kernels
