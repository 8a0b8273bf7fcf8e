// SPDX-License-Identifier: Apache-2.0
// Heap allocation counter, the one every host program that proves "no heap after setup" links
// (fennec-train, the C++ and C allocation tests). Linking alloc_counter.cpp into a program
// replaces every form of the global operator new/delete and, on glibc without sanitizers, the
// malloc family (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign), each call
// counted once (operator new counts through the malloc it calls when that is replaced). Frees are
// not counted. Under a sanitizer, which owns malloc, only operator new is counted.
// The Cortex-M4 firmware counts with linker wraps instead (no C++ runtime is linked there).
#pragma once

#include <cstdint>

namespace fennec_tools {

// Allocation calls made by the whole process since it started (monotonic).
std::uint64_t heap_calls();
void alloc_counting_start();          // remember where the count stands
std::uint64_t alloc_counting_stop();  // calls counted since alloc_counting_start
// True when malloc-level calls are counted too (not only operator new).
bool alloc_counting_covers_malloc();

}  // namespace fennec_tools
