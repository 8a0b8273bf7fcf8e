// SPDX-License-Identifier: Apache-2.0
// The per-arch kernel tables this build compiled (lib/arch/*.cpp), as announced by the
// FENNEC_HAVE_<ARCH>_TABLE definitions that lib/arch/arch.cmake puts on the fennec target.
// Baseline code may take their addresses and read their pointers; it must call through them only
// after checking that the CPU supports the arch (isa.cpp does).
#pragma once

#include "kernels/kernel_table.hpp"

namespace fennec::kernels {

#if defined(FENNEC_HAVE_SSE2_TABLE)
extern const KernelTable sse2_kernel_table;
#endif
#if defined(FENNEC_HAVE_AVX2FMA_TABLE)
extern const KernelTable avx2fma_kernel_table;
#endif
#if defined(FENNEC_HAVE_AVX512_TABLE)
extern const KernelTable avx512_kernel_table;
#endif
#if defined(FENNEC_HAVE_NEON_TABLE)
extern const KernelTable neon_kernel_table;
#endif
#if defined(FENNEC_HAVE_NEON64_TABLE)
extern const KernelTable neon64_kernel_table;
#endif

}  // namespace fennec::kernels
