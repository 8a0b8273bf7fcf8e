// SPDX-License-Identifier: Apache-2.0
// Every row of kernel_list.def, on the reference and on every SIMD table this build compiled
// and this CPU runs: TEST_CASE "<id>: every kernel table matches the reference", one section
// "<id>/<arch>" per table, each running its signature's checker (kernel_checkers.hpp).
// The reference's section checks it against the plain reference loops (the same table except on
// Cortex-M4F builds, whose GEMMs are specialised) and, for the GEMMs, against a double oracle.
#include <string>
#include <vector>

#include "kernel_checkers.hpp"

namespace fennec_ktest {
namespace {

// Runs `check` on every table, each in its own section named "<id>/<arch>".
template <class Field>
void check_every_table(const char* id, Field field, bool in_build) {
  const std::uint32_t seed = test_seed();
  INFO("seed " << seed << " (FENNEC_TEST_SEED replays)");
  if (!in_build) {
    // Left out of this build's tables on purpose (kernel_list.def's scope column).
    CHECK(ref().*field == nullptr);
    return;
  }
  std::vector<TableUnderTest> tables{reference_under_test()};
  for (const SimdTable& st : simd_tables()) tables.push_back(simd_under_test(st));
  for (const TableUnderTest& t : tables) {
    DYNAMIC_SECTION(id << "/" << t.name) { check_kernel(id, field, t); }
  }
}

}  // namespace
}  // namespace fennec_ktest

#define FENNEC_KERNEL(id, Fn, scope)                                                                \
  TEST_CASE(#id ": every kernel table matches the reference", "[kernels][registry][" #id "]") {  \
    fennec_ktest::check_every_table(#id, &fennec::kernels::KernelTable::id,                      \
                                    fennec::kernels::row_in_build(fennec::kernels::RowScope::scope)); \
  }
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
