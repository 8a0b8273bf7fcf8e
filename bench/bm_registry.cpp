// SPDX-License-Identifier: Apache-2.0
// Every row of kernel_list.def benchmarked on the reference and on every table this CPU runs,
// through its signature's runner (kernel_runners.hpp).
#include "kernel_runners.hpp"

namespace fennec_bench {

void register_kernels() {
  const std::vector<Table> all = tables(true);
#define FENNEC_KERNEL(id, Fn, scope) \
  if (fennec::kernels::row_in_build(fennec::kernels::RowScope::scope)) add_benchmarks(#id, &KernelTable::id, all);
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
}

}  // namespace fennec_bench
