// SPDX-License-Identifier: Apache-2.0
// The kernel table object of every ISA in isa_list.def (the reference's in ref_kernels.cpp, the
// others in lib/arch/). Only the tables this build compiled are defined; dispatch.cpp takes the
// address of those alone (FENNEC_HAVE_<ARCH>_TABLE), and calls through one only after checking
// that the CPU supports the arch.
#pragma once

#include "kernels/kernel_table.hpp"

namespace fennec::kernels {

#define FENNEC_ISA(enumerator, id, alias, rank, lanes, products, cpu_has, table, compiled) extern const KernelTable table;
#include "kernels/isa_list.def"
#undef FENNEC_ISA

}  // namespace fennec::kernels
