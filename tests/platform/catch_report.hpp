// SPDX-License-Identifier: Apache-2.0
// The firmware harness's Report interface (check, check_near; see
// tests/portable/sensor_checks.hpp) on top of Catch2, so the host runs the very same checks
// as the Cortex-M4 images and every failure is reported with its case.
#pragma once

#include <catch2/catch.hpp>

namespace platform_test {

struct CatchReport {
  int passed = 0, failed = 0;
  void check(bool ok, const char* what, int index) {
    INFO(what << " [case " << index << "]");
    CHECK(ok);
    ok ? ++passed : ++failed;
  }
  void check_near(float got, float want, float tol, const char* what, int index) {
    INFO(what << " [case " << index << "]: got " << got << ", want " << want << ", tol " << tol);
    const float d = got > want ? got - want : want - got;
    const bool ok = d <= tol;  // NaN fails
    CHECK(ok);
    ok ? ++passed : ++failed;
  }
};

}  // namespace platform_test
