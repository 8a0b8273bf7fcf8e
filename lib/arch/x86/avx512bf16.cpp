// SPDX-License-Identifier: Apache-2.0
// The AVX-512 BF16 kernel table (opt-in, isa_list.def): the three f32 GEMMs instantiated for
// simd::avx512bf16 (avx512bw under its own name, arch_traits.hpp), which pack A and B as bf16
// pairs and multiply with vdpbf16ps; every other row is the avx512 table's own code, compiled in
// avx512.cpp (TableBase in simd_table.hpp). Compiled with the avx512 table's flags plus
// -mavx512bf16; runnable when the CPU has all five, chosen only when asked for.
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "avx512_rows.hpp"
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable avx512bf16_kernel_table = simd::make_table<simd::avx512bf16>(Isa::kAvx512Bf16);

}  // namespace fennec::kernels
