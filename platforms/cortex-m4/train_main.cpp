// SPDX-License-Identifier: Apache-2.0
// Training firmware: one epoch of a 196-64-32-10 MLP (Adam, batch 16, the fused update) on
// Fashion-MNIST 14x14 on a Cortex-M4F, inside a 256 KiB RAM region (mps2_train.ld: over budget
// is a link error). fennec_m4_train_small (FASHION_TRAIN_SMALL) trains 196-32-10 with SGD +
// momentum instead.
//
// The records come the way a sensor node reads an SD card: the host's file (make_fashion14.py)
// opened with semihosting SYS_OPEN and read a batch at a time (SYS_READ) into a static buffer.
// The arena is a static buffer of fennec::plan()'s size. Output goes through SYS_WRITE0 (no
// stdio: nothing allocates; every allocator is wrapped and counted). At the end:
//   fennec-m4-train: params=P arena=B ram=B steps=N loss_first=X loss_last=X test_acc=X
// (loss_first/last: mean loss of the first/last 10 steps; test_acc in percent; ram: .data + .bss
// + the stack's high-water mark, all in the 256 KiB region), then "N passed, N failed"; the exit
// code is the failure count. The Adam image on the CI subset also checks its first 10 losses and
// test accuracy against the host's run of the same code (fashion_train_reference.hpp, written and
// checked by tests/platform/test_m4_train.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fashion_train.hpp"
#if FASHION_TRAIN_FINETUNE
#include "fashion_model_data.hpp"
#endif
#include "fashion_train_reference.hpp"
#include "heap_count.hpp"

extern "C" {
extern std::uint32_t __ram_start;
extern std::uint32_t __bss_end__;
extern std::uint32_t __stack_limit;
extern std::uint32_t __stack_top;
}

namespace {

#if FASHION_TRAIN_SMALL
constexpr std::size_t kRamBudget = 100 * 1024;
#else
constexpr std::size_t kRamBudget = 220 * 1024;
#endif

#if FASHION_TRAIN_FINETUNE
constexpr const char* kPhase = "phase=finetune ";
constexpr fennec::MemoryPlan kImagePlan = fashion_train::kFinetunePlan;
#else
constexpr const char* kPhase = "";
constexpr fennec::MemoryPlan kImagePlan = fashion_train::kPlan;
#endif
alignas(fennec::kArenaAlignment) unsigned char g_arena[kImagePlan.total()];
fashion_train::Buffers g_buffers;

// ---- semihosting (ARM semihosting specification: operation in r0, argument block in r1) ----
int semihost(int op, const void* arg) {
  register int r0 __asm("r0") = op;
  register const void* r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
constexpr int kSysOpen = 0x01, kSysClose = 0x02, kSysWrite0 = 0x04, kSysRead = 0x06;

int open_read(const char* path) {
  const std::uintptr_t args[3] = {reinterpret_cast<std::uintptr_t>(path), 1 /* "rb" */, std::strlen(path)};
  return semihost(kSysOpen, args);
}
bool read_exact(void* context, std::uint8_t* dst, std::size_t n) {
  const std::uintptr_t args[3] = {static_cast<std::uintptr_t>(*static_cast<int*>(context)),
                                  reinterpret_cast<std::uintptr_t>(dst), n};
  return semihost(kSysRead, args) == 0;  // SYS_READ returns the bytes *not* read
}
void close_file(int handle) {
  const std::uintptr_t args[1] = {static_cast<std::uintptr_t>(handle)};
  semihost(kSysClose, args);
}

// One output line, built in a fixed buffer.
struct Line {
  char buf[256];
  std::size_t n = 0;
  Line& str(const char* s) {
    while (*s && n + 1 < sizeof buf) buf[n++] = *s++;
    return *this;
  }
  Line& num(unsigned long v) {
    char d[12];
    int i = 0;
    do d[i++] = static_cast<char>('0' + v % 10); while ((v /= 10) && i < 12);
    while (i && n + 1 < sizeof buf) buf[n++] = d[--i];
    return *this;
  }
  Line& fixed(double v, unsigned decimals) {  // newlib nano's printf has no %f
    if (v < 0) {
      str("-");
      v = -v;
    }
    unsigned long scale = 1;
    for (unsigned i = 0; i < decimals; ++i) scale *= 10;
    const unsigned long q = static_cast<unsigned long>(v * static_cast<double>(scale) + 0.5);
    num(q / scale).str(".");
    for (unsigned long p = scale / 10, r = q % scale; p; p /= 10) num(r / p % 10);
    return *this;
  }
  void print() {
    buf[n] = '\0';
    semihost(kSysWrite0, buf);
  }
};

struct Report {
  int passed = 0, failed = 0;
  void check(bool ok, const char* what) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      Line().str("FAIL ").str(what).str("\n").print();
    }
  }
};

// Stack high-water mark: paint the reserved stack below this frame, then find the deepest word
// written.
constexpr std::uint32_t kPaint = 0xDEADBEEFu;

__attribute__((noinline)) void paint_stack() {
  std::uint32_t* sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (std::uint32_t* p = &__stack_limit; p < sp - 16; ++p) *p = kPaint;
}

std::size_t stack_high_water() {
  const std::uint32_t* p = &__stack_limit;
  while (p < &__stack_top && *p == kPaint) ++p;
  return static_cast<std::size_t>(&__stack_top - p) * sizeof(std::uint32_t);
}

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

int main() {
  namespace ft = fashion_train;
  Report report;
  std::uint32_t* sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  report.check(sp > &__stack_limit && sp <= &__stack_top, "the stack is in the 256 KiB region");
  paint_stack();
  const unsigned heap_before = heap_calls();

  int handle = open_read("fashion14.bin");
  report.check(handle != -1, "semihosting SYS_OPEN of fashion14.bin (written by make_fashion14.py)");
  if (handle == -1) {
    Line().num(static_cast<unsigned long>(report.passed)).str(" passed, ").num(static_cast<unsigned long>(report.failed)).str(" failed\n").print();
    return report.failed;
  }
  ft::Reader in{read_exact, &handle};
  ft::Outcome o;
#if FASHION_TRAIN_FINETUNE
  const fennec::Status s = ft::finetune(ft::kHostModelFile, sizeof ft::kHostModelFile, g_arena, sizeof g_arena, in, g_buffers, o);
#else
  const fennec::Status s = ft::run(g_arena, sizeof g_arena, in, g_buffers, o);
#endif
  close_file(handle);
  if (!s.is_ok()) Line().str("run: ").str(fennec::status_code_name(s.code())).str(": ").str(s.message()).str("\n").print();
  report.check(s.is_ok(), "training run");
  report.check(heap_calls() == heap_before, "no heap allocation");

  const std::size_t stack = stack_high_water();
  const std::size_t statics = address(&__bss_end__) - address(&__ram_start);
  const std::size_t ram = statics + stack;
  report.check(o.steps > 0 && o.loss_last() < o.loss_first(), "the loss falls");
  report.check(ram <= kRamBudget, "RAM within the budget");

#if !FASHION_TRAIN_SMALL
  // The host's run of the same code on the same file (CI subset): losses and accuracy.
  namespace ref = ft::reference;
#if FASHION_TRAIN_FINETUNE
  const double* want_losses = ref::kFinetuneFirstLosses;
  const double want_accuracy = ref::kFinetuneTestAccuracy;
#else
  const double* want_losses = ref::kFirstLosses;
  const double want_accuracy = ref::kTestAccuracy;
#endif
  if (o.train_records == ref::kTrainRecords && o.test_records == ref::kTestRecords) {
    for (std::size_t i = 0; i < ft::kLossesKept; ++i) {
      const double d = o.first_losses[i] - want_losses[i];
      report.check((d < 0 ? -d : d) <= 1e-5 * want_losses[i], "step loss agrees with the host to 1e-5");
    }
    const double da = o.test_accuracy() - want_accuracy;
    report.check((da < 0 ? -da : da) <= 0.5, "test accuracy within 0.5 points of the host's");
  } else {
    Line().str("host reference: recorded for ").num(ref::kTrainRecords).str("/").num(ref::kTestRecords)
        .str(" records, this file has ").num(o.train_records).str("/").num(o.test_records).str(": not compared\n").print();
  }
#endif

  const fennec::MemoryPlan& p = kImagePlan;
  Line().str("fennec-m4-train: ").str(kPhase).str("model ").str(ft::kName).str(" arena: parameters=").num(p.parameters)
      .str(" gradients=").num(p.gradients).str(" optimizer_state=").num(p.optimizer_state)
      .str(" activations=").num(p.activations).str(" scratch=").num(p.scratch).str(" batch_records=")
      .num(sizeof g_buffers.records).str(" batch_floats=").num(sizeof g_buffers.x).str(" stack=").num(stack)
      .str(" static=").num(statics).str("\n").print();
  Line().str("fennec-m4-train: ").str(kPhase).str("params=").num(ft::kSpec.num_parameters()).str(" arena=").num(sizeof g_arena)
      .str(" ram=").num(ram).str(" steps=").num(o.steps).str(" loss_first=").fixed(o.loss_first(), 6)
      .str(" loss_last=").fixed(o.loss_last(), 6).str(" test_acc=").fixed(o.test_accuracy(), 2).str("\n").print();
  Line().num(static_cast<unsigned long>(report.passed)).str(" passed, ").num(static_cast<unsigned long>(report.failed)).str(" failed\n").print();
  return report.failed;
}
