// The Cortex-M4 example's classifier (platforms/cortex-m4/) run on this target with its kernel
// table: the same weights, inputs, expected logits and tolerances as the firmware.
#include <catch2/catch.hpp>

#include "sensor_checks.hpp"

namespace {

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

alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kArenaBytes];

}  // namespace

TEST_CASE("Cortex-M4 example classifier matches the host oracle", "[platform][model]") {
  CatchReport report;
  sensor_model::run_checks(g_arena, report);
  CHECK(report.failed == 0);
  CHECK(report.passed > sensor_model::kNumCases * 5);
}
