// The Cortex-M4 example's classifier (platforms/cortex-m4/) run on this target with its kernel
// table: the same weights, inputs, expected logits and tolerances as the firmware.
#include <catch2/catch.hpp>

#include "catch_report.hpp"
#include "sensor_checks.hpp"

namespace {

using platform_test::CatchReport;

alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kArenaBytes];

}  // namespace

TEST_CASE("Cortex-M4 example classifier matches the host oracle", "[platform][model]") {
  CatchReport report;
  sensor_model::run_checks(g_arena, report);
  CHECK(report.failed == 0);
  CHECK(report.passed > sensor_model::kNumCases * 5);
}
