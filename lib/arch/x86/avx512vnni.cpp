// SPDX-License-Identifier: Apache-2.0
// The AVX-512 VNNI kernel table: the int8 GEMMs instantiated for simd::avx512vnni (avx512bw under
// its own name, arch_traits.hpp), which use vpdpbusd; every other row is the avx512 table's own
// code, compiled in avx512.cpp (TableBase in simd_table.hpp). Compiled with the avx512 table's
// flags plus -mavx512vnni; selected only when the CPU has all five.
// Only arch-templated code may live here (see simd_common.hpp); the table is constant-initialized.
#include "avx512_rows.hpp"
#include "kernels/arch_tables.hpp"
#include "kernels/simd_table.hpp"

namespace fennec::kernels {

constexpr KernelTable avx512vnni_kernel_table = simd::make_table<simd::avx512vnni>(Isa::kAvx512Vnni);

}  // namespace fennec::kernels
