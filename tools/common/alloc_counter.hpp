// SPDX-License-Identifier: Apache-2.0
// Heap allocation counter: linking alloc_counter.cpp into a program replaces the global
// operator new family (and, on glibc without sanitizers, malloc/calloc/realloc/aligned_alloc/
// posix_memalign/memalign) with versions that count calls while counting is switched on.
// Used by fennec-train to prove that nothing allocates after setup.
#pragma once

#include <cstdint>

namespace fennec_tools {

void alloc_counting_start();             // reset the count and start counting
std::uint64_t alloc_counting_stop();     // stop counting; return calls counted since start
// True when malloc-level calls are counted too (not only operator new).
bool alloc_counting_covers_malloc();

}  // namespace fennec_tools
