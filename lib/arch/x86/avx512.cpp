// SPDX-License-Identifier: Apache-2.0
// The AVX-512 kernel table: the xsimd kernel templates instantiated for xsimd::avx512bw.
// Compiled with -mavx512f -mavx512cd -mavx512dq -mavx512bw (xsimd 8.1's avx512f hadd needs DQ);
// selected only when the CPU has all four.
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable avx512_kernel_table = simd::make_table<xsimd::avx512bw>(Isa::kAvx512);

// Every row compiled here once for the tables built on this one (avx512vnni, avx512bf16;
// simd_table.hpp, TableBase), which declare them extern (avx512_rows.hpp).
namespace simd {
#define FENNEC_KERNEL(id, Fn, scope) template struct Entry<xsimd::avx512bw, simd::id, Fn>;
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
}  // namespace simd

}  // namespace fennec::kernels
