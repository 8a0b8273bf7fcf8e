// SPDX-License-Identifier: Apache-2.0
// The Cortex-M4 example's classifier (tests/portable/, which the firmware runs too) run on this
// target with its kernel table: the same weights, inputs, expected logits and tolerances as the
// firmware; also executing in place from the model file (xip_checks.hpp).
#include <catch2/catch.hpp>

#include "catch_report.hpp"
#include "sensor_checks.hpp"
#include "xip_checks.hpp"

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

TEST_CASE("Cortex-M4 XIP example: parameters read from the model file in place", "[platform][model][in_place]") {
  alignas(fennec::kArenaAlignment) static unsigned char arena[sensor_model::kXipArenaBytes];
  alignas(4) static unsigned char file_copy[sizeof(sensor_model::kModelFile)];
  CatchReport report;
  sensor_model::run_xip_example(arena, report);
  sensor_model::run_xip_corruption_checks(arena, file_copy, report);
  CHECK(report.failed == 0);
  CHECK(report.passed > sensor_model::kNumCases * 5);
}
