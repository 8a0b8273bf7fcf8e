// SPDX-License-Identifier: Apache-2.0
// Every row of the avx512 table as an explicit instantiation declaration, for the tables built on
// it (TableBase in simd_table.hpp: avx512vnni, avx512bf16). A translation unit that includes this
// compiles none of avx512's rows; it links to the one instantiation avx512.cpp defines.
#pragma once

#include "kernels/simd_table.hpp"

namespace fennec::kernels::simd {

#define FENNEC_KERNEL(id, Fn, scope) extern template struct Entry<xsimd::avx512bw, simd::id, Fn>;
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL

}  // namespace fennec::kernels::simd
