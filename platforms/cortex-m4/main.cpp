// Example firmware: a 16-32-32-4 sensor classifier on a Cortex-M4F, inference only.
//
// Weights live in flash (const arrays from model_data.hpp, generated on the host by
// gen_model.py); the arena is a static buffer whose size fennec::plan computes at compile time.
// Nothing here or in Fennec touches the heap (checked: malloc is wrapped and counted).
// The harness prints "N passed, N failed" over semihosting and returns the failure count, which
// QEMU (semihosting SYS_EXIT) turns into its exit code for CTest.
//
// Built twice: fennec_m4_sensor is the example as a user would ship it (its footprint is the one
// CI reports); fennec_m4_selftest (FENNEC_M4_SELFTEST=1) also checks the same-seed Rng/init
// checksums of tests/platform/same_seed.hpp, which links the Rng, initialisers and soft doubles.
#include <cstdint>
#include <cstdio>

#include "fennec/arena.hpp"
#if FENNEC_M4_SELFTEST
#include "same_seed.hpp"
#endif
#include "sensor_checks.hpp"

extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
}

namespace {

// Calls to malloc/calloc/realloc from any object linked with -Wl,--wrap=... (Fennec and this
// file). newlib's own stdio buffers use _malloc_r and are not counted.
volatile unsigned g_heap_calls = 0;

alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kArenaBytes];

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

extern "C" {
void* __wrap_malloc(std::size_t n) {
  g_heap_calls = g_heap_calls + 1;
  return __real_malloc(n);
}
void* __wrap_calloc(std::size_t n, std::size_t s) {
  g_heap_calls = g_heap_calls + 1;
  return __real_calloc(n, s);
}
void* __wrap_realloc(void* p, std::size_t n) {
  g_heap_calls = g_heap_calls + 1;
  return __real_realloc(p, n);
}
}

int main() {
  std::printf("fennec cortex-m4 example: 16-32-32-4 sensor classifier, arena %u bytes "
              "(parameters %u, activations %u, scratch %u)\n",
              static_cast<unsigned>(sensor_model::kArenaBytes),
              static_cast<unsigned>(sensor_model::kPlan.parameters),
              static_cast<unsigned>(sensor_model::kPlan.activations),
              static_cast<unsigned>(sensor_model::kPlan.scratch));
  SemihostReport report;

  const std::uint32_t* top = paint_stack();
  const unsigned heap_before = g_heap_calls;
  sensor_model::run_checks(g_arena, report);
#if FENNEC_M4_SELFTEST
  for (const same_seed::Expected& e : same_seed::kExpected) {
    const std::uint64_t got = e.compute();
    report.check(got == e.value, e.name, 0);
    if (got != e.value)
      std::printf("  %s: got 0x%08lx%08lx\n", e.name, static_cast<unsigned long>(got >> 32),
                  static_cast<unsigned long>(got & 0xFFFFFFFFu));
  }
#endif
  report.check(g_heap_calls == heap_before, "no heap allocation", 0);
  const std::size_t stack = stack_used(top);

  std::printf("stack used by the checks: %u bytes\n", static_cast<unsigned>(stack));
  std::printf("%d passed, %d failed\n", report.passed, report.failed);
  return report.failed;
}
