// SPDX-License-Identifier: Apache-2.0
// The int8 variant of the Cortex-M4 example (tests/portable/sensor_int8_checks.hpp, which the
// fennec_m4_int8 firmware runs too): the checked-in int8 model file must be what quantize() makes
// of the f32 example model today, calibrated on its 16 test inputs, byte for byte; then the
// firmware's checks on this target's kernel table. FENNEC_WRITE_M4_INT8_MODEL=<path> writes the
// header (to refresh it after a change to the scheme or the model). The calibration runs the f32
// network, whose sums round differently on other tables (and where the compiler contracts the
// reference's multiply-adds), so the file is compared on x86-64 with the reference table, where it
// was written; elsewhere that case is skipped with a warning. The int8 outputs are integer
// arithmetic after the input quantization: the checks hold on every target.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

#include "byte_array_header.hpp"
#include "catch_report.hpp"
#include "fennec/stream.hpp"
#include "sensor_int8_checks.hpp"

#if !defined(FENNEC_NO_INT8)

namespace {

using platform_test::CatchReport;

constexpr fennec::QuantOptions kQuantOptions = [] {
  fennec::QuantOptions o;
  o.max_batch = 1;
  o.calibration_batch = sensor_model::kNumCases;
  o.isa = fennec::Isa::kRef;
  return o;
}();

alignas(fennec::kArenaAlignment) unsigned char g_f32_arena[sensor_model::kArenaBytes];
alignas(fennec::kArenaAlignment) unsigned char g_q_arena[1 << 16];
unsigned char g_file[1 << 14];

}  // namespace

TEST_CASE("Cortex-M4 int8 example: the model file is quantize()'s of the f32 model", "[platform][model][int8]") {
#if !defined(__x86_64__)
  WARN("the int8 model file is compared with quantize()'s on x86-64 only (f32 calibration sums)");
  return;
#endif
  fennec::ModelOptions options = sensor_model::kOptions;
  options.isa = fennec::Isa::kRef;
  fennec::Arena arena(g_f32_arena, sizeof g_f32_arena);
  fennec::Result<fennec::Model> bound = fennec::Model::bind(sensor_model::kSpec, options, arena);
  REQUIRE(bound.is_ok());
  sensor_model::load_weights(bound.value());
  fennec::Arena qarena(g_q_arena, sizeof g_q_arena);
  const fennec::ConstMatrixView calibration(sensor_model::kInputs, sensor_model::kNumCases, sensor_model::kSizes[0]);
  fennec::Result<fennec::QuantizedModel> q = fennec::quantize(bound.value(), calibration, kQuantOptions, qarena);
  REQUIRE(q.is_ok());
  fennec::MemoryWriter mw(g_file, sizeof g_file);
  fennec::ByteWriter w = mw.writer();
  REQUIRE(fennec::save_quantized_model(q.value(), w).is_ok());
  if (const char* path = std::getenv("FENNEC_WRITE_M4_INT8_MODEL"))
    platform_test::write_byte_array_header(
        path,
        "// Written by tests/platform/test_sensor_int8.cpp (FENNEC_WRITE_M4_INT8_MODEL): the int8 model file\n"
        "// (fennec/quant_io.hpp) of the example's 16-32-32-4 classifier (model_data.hpp), quantized with\n"
        "// fennec::quantize() (min/max ranges calibrated on the 16 test inputs), for fennec_m4_int8 to load\n"
        "// from flash.\n",
        "sensor_model", "kInt8ModelFile", g_file, mw.size());
  REQUIRE(mw.size() == sizeof sensor_model::kInt8ModelFile);
  CHECK(std::memcmp(g_file, sensor_model::kInt8ModelFile, mw.size()) == 0);
}

TEST_CASE("Cortex-M4 int8 example: outputs within one step of the f32 model, same classes", "[platform][model][int8]") {
  alignas(fennec::kArenaAlignment) static unsigned char arena[sensor_model::kInt8ArenaBytes];
  CatchReport report;
  sensor_model::run_int8_checks(arena, report);
  CHECK(report.failed == 0);
  CHECK(report.passed > sensor_model::kNumCases * 5);
}

#endif
