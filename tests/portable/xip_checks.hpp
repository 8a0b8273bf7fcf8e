// SPDX-License-Identifier: Apache-2.0
// Execute in place: the sensor classifier run with its parameters left in flash. The model file
// kModelFile (const, 4-byte aligned, in flash) is validated once by fennec::load_model_in_place
// (header, size, CRC-32, alignment); the arena then holds only the two ping-pong activation
// buffers, so a board whose RAM cannot hold the weights still runs a model that fits its flash.
// Shared by the fennec_m4_xip firmware, the self-test firmware and the host/ARM Linux test
// (tests/platform/test_sensor_model.cpp); `Report` is as in sensor_checks.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/status.hpp"
#include "sensor_checks.hpp"

namespace sensor_model {

inline constexpr fennec::ModelOptions kXipOptions = kOptions.with_external_parameters();
inline constexpr fennec::MemoryPlan kXipPlan = fennec::plan(kSpec, kXipOptions);
// The XIP firmware's static arena: activations only.
inline constexpr std::size_t kXipArenaBytes = kXipPlan.total();

static_assert(kXipPlan.parameters == 0, "in-place inference keeps no parameters in the arena");
static_assert(kXipPlan.total() == kXipPlan.activations, "batch-1 in-place inference: activations only");
static_assert(kXipArenaBytes < 1024, "the XIP arena of the 16-32-32-4 model stays under 1 KiB");
static_assert(kXipPlan.external_parameters == kSpec.num_parameters() * sizeof(float),
              "every parameter is read from flash");

// Whether the model reads every layer's parameters from the bytes of kModelFile (no copy).
inline bool reads_from_model_file(const fennec::Model& model) {
  const unsigned char* begin = kModelFile;
  const unsigned char* end = kModelFile + sizeof(kModelFile);
  for (std::size_t l = 0; l < kSpec.num_layers; ++l) {
    const unsigned char* w = reinterpret_cast<const unsigned char*>(model.const_weights(l).data);
    const unsigned char* b = reinterpret_cast<const unsigned char*>(model.const_bias(l).data);
    if (!model.is_external(l) || w < begin || w >= end || b < begin || b >= end) return false;
  }
  return true;
}

// The XIP example as it would ship (fennec_m4_xip): `arena_buffer` is 64-byte aligned and holds
// kXipArenaBytes bytes.
template <class Report>
void run_xip_example(unsigned char* arena_buffer, Report& report) {
  // One byte short of the plan: refused, the arena untouched.
  {
    fennec::Arena small(arena_buffer, kXipArenaBytes - 1);
    fennec::Result<fennec::Model> r = fennec::load_model_in_place(kModelFile, sizeof(kModelFile), kXipOptions, small);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kOutOfMemory && small.used() == 0,
                 "load_model_in_place(arena - 1 byte) refused", 0);
  }
  fennec::Arena arena(arena_buffer, kXipArenaBytes);
  // A misaligned view of the file (a float load there would fault): refused before any read.
  {
    fennec::Result<fennec::Model> r =
        fennec::load_model_in_place(kModelFile + 1, sizeof(kModelFile) - 1, kXipOptions, arena);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kInvalidArgument && arena.used() == 0,
                 "misaligned model file refused", 0);
  }
  // Options that would copy the parameters: refused (the arena could not hold them).
  {
    fennec::Result<fennec::Model> r = fennec::load_model_in_place(kModelFile, sizeof(kModelFile), kOptions, arena);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kInvalidArgument && arena.used() == 0,
                 "options without external_parameters refused", 0);
  }
  fennec::Result<fennec::Model> loaded =
      fennec::load_model_in_place(kModelFile, sizeof(kModelFile), kXipOptions, arena);
  report.check(loaded.is_ok(), "load_model_in_place(kModelFile) from flash", 0);
  if (!loaded.is_ok()) return;
  report.check(arena.used() == kXipArenaBytes, "load_model_in_place consumes exactly plan.total()", 0);
  report.check(reads_from_model_file(loaded.value()), "every layer reads its parameters from flash", 0);
  check_cases(loaded.value(), report);
  report.check(arena.used() == kXipArenaBytes, "forward allocates nothing", 0);
}

// Self-test only: corrupted RAM copies of the file are refused in place too (`file_buffer` holds
// sizeof(kModelFile) bytes and is 4-byte aligned), and nothing is written to them.
template <class Report>
void run_xip_corruption_checks(unsigned char* arena_buffer, unsigned char* file_buffer, Report& report) {
  fennec::Arena arena(arena_buffer, kXipArenaBytes);
  const std::size_t n = sizeof(kModelFile);
  const std::size_t offsets[] = {0, fennec::kModelFileFixedHeader, n / 2 + 1, n - 1};
  for (std::size_t off : offsets) {
    std::memcpy(file_buffer, kModelFile, n);
    file_buffer[off] = static_cast<unsigned char>(file_buffer[off] ^ 0xFFu);
    fennec::Result<fennec::Model> r = fennec::load_model_in_place(file_buffer, n, kXipOptions, arena);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kCorruptData && arena.used() == 0,
                 "corrupted copy refused in place", static_cast<int>(off));
    file_buffer[off] = static_cast<unsigned char>(file_buffer[off] ^ 0xFFu);
    report.check(std::memcmp(file_buffer, kModelFile, n) == 0, "refused copy left unchanged", static_cast<int>(off));
  }
  fennec::Result<fennec::Model> r = fennec::load_model_in_place(kModelFile, n - 1, kXipOptions, arena);
  report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kCorruptData, "truncated file refused in place", 0);
}

}  // namespace sensor_model
