// SPDX-License-Identifier: Apache-2.0
// Example firmware: a 16-32-32-4 sensor classifier on a Cortex-M4F, inference only.
//
// Weights live in flash (const arrays from model_data.hpp, generated on the host by
// gen_model.py); the arena is a static buffer whose size fennec::plan computes at compile time.
// Nothing here or in Fennec touches the heap (checked: every allocator is wrapped and counted).
// The harness prints "N passed, N failed" over semihosting and returns the failure count, which
// QEMU (semihosting SYS_EXIT) turns into its exit code for CTest.
//
// Built three times: fennec_m4_sensor is the example as a user would ship it (its footprint is
// the one CI holds to 8 KiB); fennec_m4_flash_model (FENNEC_M4_FLASH_MODEL=1) is the same example
// taking its weights from a Fennec model file in flash with fennec::load_model instead (CI
// reports its footprint: the difference is the loader); fennec_m4_selftest (FENNEC_M4_SELFTEST=1)
// also checks the same-seed Rng/init checksums of tests/portable/same_seed.hpp, which links the
// Rng, initialisers and soft doubles, and the model file in full (model_file_checks.hpp: load,
// save_model byte for byte, corrupted copies refused). fennec_m4_xip (FENNEC_M4_XIP=1) runs the
// example with its parameters left in flash (xip_checks.hpp: fennec::load_model_in_place; the
// arena holds only the activations). fennec_m4_int8 (FENNEC_M4_INT8=1, cortex-m4-int8 preset) runs
// the int8 model of the same network from an int8 model file in flash (sensor_int8_checks.hpp:
// load_quantized_model, the SMLAD GEMM of the reference table).
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fennec/arena.hpp"
#if FENNEC_M4_SELFTEST || FENNEC_M4_FLASH_MODEL
#include "model_file_checks.hpp"
#endif
#if FENNEC_M4_SELFTEST
#include "same_seed.hpp"
#endif
#if FENNEC_M4_SELFTEST || FENNEC_M4_XIP
#include "xip_checks.hpp"
#endif
#include "heap_count.hpp"
#include "sensor_checks.hpp"
#if FENNEC_M4_INT8
#include "sensor_int8_checks.hpp"
#endif

namespace {

#if FENNEC_M4_XIP
// Parameters stay in flash: the arena is the activations alone.
alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kXipArenaBytes];
constexpr fennec::MemoryPlan kImagePlan = sensor_model::kXipPlan;
#elif FENNEC_M4_INT8
// The int8 model's int8 weights, per-channel arrays and activation buffers.
alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kInt8ArenaBytes];
#else
alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kArenaBytes];
constexpr fennec::MemoryPlan kImagePlan = sensor_model::kPlan;
#endif
#if FENNEC_M4_SELFTEST
// RAM for the re-saved and the corrupted copies of the flash-resident model file (4-byte aligned:
// the in-place checks read floats from it).
alignas(4) unsigned char g_file_copy[sensor_model::kModelFileBytes];
#endif

long micro(float v) { return static_cast<long>(v * 1e6f); }  // nano printf has no %f

struct SemihostReport {
  int passed = 0, failed = 0;
  void check(bool ok, const char* what, int index) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL %s [case %d]\n", what, index);
    }
  }
  void check_near(float got, float want, float tol, const char* what, int index) {
    const float d = got > want ? got - want : want - got;
    const bool ok = d <= tol;  // NaN fails
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL %s [case %d]: got %ld, want %ld, tol %ld (1e-6 units)\n", what, index,
                  micro(got), micro(want), micro(tol));
    }
  }
};

// Stack high-water mark: paint the stack below this frame, then see how deep the checks wrote.
constexpr std::uint32_t kPaint = 0xDEADBEEFu;
constexpr std::size_t kPaintWords = 8192;  // 32 KiB

__attribute__((noinline)) std::uint32_t* paint_stack() {
  std::uint32_t* sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  std::uint32_t* bottom = sp - kPaintWords;
  for (std::uint32_t* p = bottom; p < sp - 16; ++p) *p = kPaint;
  return sp;
}

std::size_t stack_used(const std::uint32_t* top) {
  const std::uint32_t* p = top - kPaintWords;
  while (p < top && *p == kPaint) ++p;
  return static_cast<std::size_t>(top - p) * sizeof(std::uint32_t);
}

}  // namespace

int main() {
#if FENNEC_M4_INT8
  std::printf("fennec cortex-m4 example: 16-32-32-4 sensor classifier, int8, arena %u bytes "
              "(parameters %u, activations %u; model file in flash %u)\n",
              static_cast<unsigned>(sizeof(g_arena)), static_cast<unsigned>(sensor_model::kInt8Plan.parameters),
              static_cast<unsigned>(sensor_model::kInt8Plan.activations),
              static_cast<unsigned>(sizeof(sensor_model::kInt8ModelFile)));
#else
  std::printf("fennec cortex-m4 example: 16-32-32-4 sensor classifier, arena %u bytes "
              "(parameters %u, activations %u, scratch %u; in flash %u)\n",
              static_cast<unsigned>(sizeof(g_arena)), static_cast<unsigned>(kImagePlan.parameters),
              static_cast<unsigned>(kImagePlan.activations), static_cast<unsigned>(kImagePlan.scratch),
              static_cast<unsigned>(kImagePlan.external_parameters));
#endif
  SemihostReport report;

  const std::uint32_t* top = paint_stack();
  const unsigned heap_before = heap_calls();
#if FENNEC_M4_FLASH_MODEL
  sensor_model::run_flash_model_example(g_arena, report);
#elif FENNEC_M4_XIP
  sensor_model::run_xip_example(g_arena, report);
#elif FENNEC_M4_INT8
  sensor_model::run_int8_checks(g_arena, report);
#else
  sensor_model::run_checks(g_arena, report);
#endif
  std::size_t stack = stack_used(top);
#if FENNEC_M4_SELFTEST
  // Measured on its own: what a firmware that calls load_model must budget for.
  top = paint_stack();
  sensor_model::run_model_file_checks(g_arena, g_file_copy, report);
  const std::size_t stack_file = stack_used(top);
  top = paint_stack();
  sensor_model::run_xip_example(g_arena, report);
  sensor_model::run_xip_corruption_checks(g_arena, g_file_copy, report);
  const std::size_t stack_xip = stack_used(top);
  if (stack_xip > stack) stack = stack_xip;
  top = paint_stack();
  for (const same_seed::Expected& e : same_seed::kExpected) {
    const std::uint64_t got = e.compute();
    report.check(got == e.value, e.name, 0);
    if (got != e.value)
      std::printf("  %s: got 0x%08lx%08lx\n", e.name, static_cast<unsigned long>(got >> 32),
                  static_cast<unsigned long>(got & 0xFFFFFFFFu));
  }
  const std::size_t stack_seed = stack_used(top);
#if !defined(FENNEC_STRIP_ERROR_STRINGS)
  // newlib (nano or not) has no %zu and newlib-nano no %llu: Status reads each argument at its
  // true size itself, so a message reads the same here as on Linux.
  {
    const fennec::Status s = fennec::Status::error(fennec::StatusCode::kOutOfMemory, "%zu|%llu|%lu|%d|%s",
                                                   std::size_t{123456}, 18446744073709551615ull,
                                                   7ul, -5, "end");
    const bool same = std::strcmp(s.message(), "123456|18446744073709551615|7|-5|end") == 0;
    report.check(same, "status message integers (%zu, %llu) formatted", 0);
    if (!same) std::printf("  got '%s'\n", s.message());
  }
#endif
  if (stack_file > stack) stack = stack_file;
  if (stack_seed > stack) stack = stack_seed;
  std::printf("stack used by the model-file checks (load_model, forward, save_model): %u bytes\n",
              static_cast<unsigned>(stack_file));
#endif
  report.check(heap_calls() == heap_before, "no heap allocation", 0);

  std::printf("stack used by the checks: %u bytes\n", static_cast<unsigned>(stack));
  std::printf("%d passed, %d failed\n", report.passed, report.failed);
  return report.failed;
}
