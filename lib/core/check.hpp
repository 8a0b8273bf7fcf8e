// SPDX-License-Identifier: Apache-2.0
// FENNEC_DCHECK: internal invariants, checked in debug and test builds (not NDEBUG, or
// FENNEC_ENABLE_DCHECK defined), compiled out of release builds. A failed check is a Fennec bug,
// not bad input (bad input gets a Status), so it stops the program with the location.
#pragma once

#if !defined(NDEBUG) || defined(FENNEC_ENABLE_DCHECK)
#include <cstdio>
#include <cstdlib>
#define FENNEC_DCHECK(cond)                                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "fennec: internal check failed: %s at %s:%d\n", #cond, __FILE__, \
                   __LINE__);                                                            \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
#else
#define FENNEC_DCHECK(cond) \
  do {                      \
  } while (0)
#endif
