// SPDX-License-Identifier: Apache-2.0
// The int8 variant of the Cortex-M4 example's classifier: the same 16-32-32-4 network quantized on
// the host with fennec::quantize() (calibrated on the 16 test inputs) and stored as an int8 model
// file (sensor_int8_data.hpp, written by tests/platform/test_sensor_model.cpp with
// FENNEC_WRITE_M4_INT8_MODEL), loaded from flash with load_quantized_model into a plan-sized arena
// and run on every test vector. Shared by the firmware (fennec_m4_int8) and the host test, like
// sensor_checks.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/quant.hpp"
#include "fennec/quant_io.hpp"
#include "sensor_checks.hpp"
#include "sensor_int8_data.hpp"

namespace sensor_model {

inline constexpr fennec::QuantizedPlan kInt8Plan = fennec::quantized_plan(kSpec, 1);
inline constexpr std::size_t kInt8ArenaBytes = kInt8Plan.total();

// One quantization step of the logits: the int8 step the calibration rule would give them (range
// of the f32 oracle's logits over the test vectors, widened to contain 0, over 255 codes: 0.100).
// The int8 network's logits are within 1.27 steps of the f32 oracle's here (0.127 at worst, on
// logits of magnitude 8-11: the rounding of three layers' inputs and weights adds up), so the
// check allows kInt8LogitSteps steps; argmax must be equal on every case.
inline constexpr float kInt8LogitSteps = 2.f;
inline float int8_logit_step() {
  float lo = 0.f, hi = 0.f;
  for (float v : kExpectedLogits) {
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  return (hi - lo) / 255.f;
}

// The f32 oracle's class for case i.
inline std::size_t oracle_class(int i) {
  const float* l = kExpectedLogits + static_cast<std::size_t>(i) * kSizes[3];
  std::size_t best = 0;
  for (std::size_t j = 1; j < kSizes[3]; ++j) best = l[j] > l[best] ? j : best;
  return best;
}

// `buffer` must be 64-byte aligned and hold at least kInt8ArenaBytes bytes.
template <class Report>
void run_int8_checks(unsigned char* buffer, Report& report) {
  // One byte short: refused, the arena rewound.
  {
    fennec::Arena small(buffer, kInt8ArenaBytes - 1);
    fennec::Result<fennec::QuantizedModel> r =
        fennec::load_quantized_model(kInt8ModelFile, sizeof kInt8ModelFile, 1, fennec::Isa::kAuto, small);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kOutOfMemory && small.used() == 0,
                 "load_quantized_model(arena - 1 byte) fails", 0);
  }
  fennec::Arena arena(buffer, kInt8ArenaBytes);
  fennec::Result<fennec::QuantizedModel> loaded =
      fennec::load_quantized_model(kInt8ModelFile, sizeof kInt8ModelFile, 1, fennec::Isa::kAuto, arena);
  report.check(loaded.is_ok(), "load_quantized_model(kInt8ModelFile)", 0);
  if (!loaded.is_ok()) return;
  report.check(arena.used() == kInt8ArenaBytes, "the load consumes exactly quantized_plan().total()", 0);
  fennec::QuantizedModel& model = loaded.value();
  const float tol = kInt8LogitSteps * int8_logit_step();
  check_cases_against(
      model, report, [tol](std::size_t) { return tol; },
      [](int i) { return static_cast<std::int32_t>(oracle_class(i)); }, "int8 logit within 2 steps of the f32 oracle",
      "int8 argmax == f32 argmax");
  report.check(arena.used() == kInt8ArenaBytes, "int8 forward allocates nothing", 0);
}

}  // namespace sensor_model
