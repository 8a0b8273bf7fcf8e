// SPDX-License-Identifier: Apache-2.0
// Result<T>::value() on an error stops the program when FENNEC_RESULT_CHECKED is on (debug
// builds by default; forced on here so the check runs in every build type). CTest expects this
// program to die by a signal; returning at all (0 if value() came back, 3 if the setup went
// wrong) fails the test.
#define FENNEC_RESULT_CHECKED 1
#include <cstdio>

#include "fennec/status.hpp"

namespace {

// A type of this file only: no other translation unit instantiates Result<TrapProbe>.
struct TrapProbe {
  int v = 0;
};

fennec::Result<TrapProbe> fails() {
  return fennec::Status::error(fennec::StatusCode::kInvalidArgument, "no value");
}

}  // namespace

int main() {
  fennec::Result<TrapProbe> r = fails();
  if (r.is_ok() || r.value_or(TrapProbe{7}).v != 7) return 3;
  std::puts("calling value() on an error; a checked build traps here");
  std::fflush(stdout);
  const int v = r.value().v;
  std::printf("value() returned %d: no trap\n", v);
  return 0;
}
