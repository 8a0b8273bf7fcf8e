// SPDX-License-Identifier: Apache-2.0
// Runners of the memory-bound signatures (kernel_runners.hpp). The fused optimizer updates and
// the vector kernels run over the 784-512-256-10 MLP's 535,818 parameters (B/s and fraction of
// the L3-sized triad: the streams are 2.1 MB each), the activation kernels and the column sum
// on a 64x512 layer output.
//   BM_<optimizer>_step_f32/<arch>/535818     BM_bias_act_fwd_f32/<arch>/<act>/64x512
//   BM_act_bwd_f32/<arch>/<act>/64x512        BM_col_sum_f32/<arch>/64x512
//   BM_sum_squares_f32/<arch>/535818          BM_scale_f32/<arch>/535818   BM_clamp_f32/<arch>/535818
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fennec/optim.hpp"
#include "kernel_runners.hpp"

namespace fennec_bench {
namespace {

using namespace fennec::kernels;

constexpr std::size_t kParams = 535818;
constexpr std::size_t kRows = 64, kCols = 512;

const fennec::ActivationSpec kActs[] = {fennec::ActivationSpec::relu(), fennec::ActivationSpec::sigmoid(),
                                        fennec::ActivationSpec::tanh()};

std::string name(const char* id, const Table& t, const std::string& dims) {
  return "BM_" + std::string(id) + "/" + t.name + "/" + dims;
}

// The optimizer an update kernel's id names (<optimizer_name>_step_f32): its state slots are
// the ones the kernel streams; the others are passed as null.
fennec::OptimizerKind optimizer_of(const char* id) {
  for (int k = 0; k < fennec::kOptimizerCount; ++k) {
    const auto kind = static_cast<fennec::OptimizerKind>(k);
    if (std::string(fennec::optimizer_name(kind)) + "_step_f32" == id) return kind;
  }
  std::fprintf(stderr, "fennec bench: update kernel %s names no optimizer (<optimizer_name>_step_f32)\n", id);
  std::abort();
}

void bm_optim(benchmark::State& st, OptimStepFn fn, std::size_t slots) {
  const std::size_t n = kParams;
  Buffer w(n, 1), g(n, 2, -1e-3f, 1e-3f), s1(n, 3, 0.f, 1e-6f), s2(n, 4, 0.f, 1e-6f);
  OptimStepArgs a;
  a.n = n;
  a.w = w.data();
  a.g = g.data();
  a.s1 = slots >= 1 ? s1.data() : nullptr;
  a.s2 = slots >= 2 ? s2.data() : nullptr;
  a.lr = 1e-3f;
  a.momentum = 0.9f;
  a.rho = 0.99f;
  a.one_minus_rho = 0.01f;
  a.beta1 = 0.9f;
  a.one_minus_beta1 = 0.1f;
  a.beta2 = 0.999f;
  a.one_minus_beta2 = 0.001f;
  a.eps = 1e-8f;
  a.inv_bias_correction1 = 1.f / (1.f - 0.9f);
  a.inv_bias_correction2 = 1.f / (1.f - 0.999f);
  for (auto _ : st) {
    fn(a);
    benchmark::ClobberMemory();
  }
  // Read w, g and the state; write w and the state.
  const double streams = 2.0 + 1.0 + 2.0 * static_cast<double>(slots);
  byte_counters(st, streams * sizeof(float) * n, true);
}

}  // namespace

void add_benchmarks(const char* id, OptimStepFn KernelTable::*fn, const std::vector<Table>& tables) {
  const std::size_t slots = fennec::optimizer_state_slots(optimizer_of(id));
  for (const Table& t : tables) {
    const OptimStepFn step = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t, std::to_string(kParams)).c_str(),
                                 [step, slots](benchmark::State& st) { bm_optim(st, step, slots); });
  }
}

void add_benchmarks(const char* id, SumSquaresFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const SumSquaresFn sum_squares = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t, std::to_string(kParams)).c_str(), [sum_squares](benchmark::State& st) {
      Buffer x(kParams, 5);
      double s = 0;
      for (auto _ : st) s += sum_squares(kParams, x.data());
      benchmark::DoNotOptimize(s);
      byte_counters(st, sizeof(float) * kParams, true);
    });
  }
}

// Both read and write x once per call.
void add_benchmarks(const char* id, ScaleFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const ScaleFn scale = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t, std::to_string(kParams)).c_str(), [scale](benchmark::State& st) {
      Buffer x(kParams, 10);
      for (auto _ : st) {
        scale(kParams, x.data(), -1.f);  // magnitudes stay put: no drift into denormals
        benchmark::ClobberMemory();
      }
      byte_counters(st, 2.0 * sizeof(float) * kParams, true);
    });
  }
}

void add_benchmarks(const char* id, ClampFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const ClampFn clamp = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t, std::to_string(kParams)).c_str(), [clamp](benchmark::State& st) {
      Buffer x(kParams, 11);
      for (auto _ : st) {
        clamp(kParams, x.data(), -0.5f, 0.5f);
        benchmark::ClobberMemory();
      }
      byte_counters(st, 2.0 * sizeof(float) * kParams, true);
    });
  }
}

// The bias gradient of a 64x512 layer output: reads it once, writes one row.
void add_benchmarks(const char* id, ColSumFn KernelTable::*fn, const std::vector<Table>& tables) {
  const std::string dims = std::to_string(kRows) + "x" + std::to_string(kCols);
  for (const Table& t : tables) {
    const ColSumFn col_sum = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t, dims).c_str(), [col_sum](benchmark::State& st) {
      Buffer a(kRows * kCols, 12), out(kCols, 13);
      for (auto _ : st) {
        col_sum(kRows, kCols, a.data(), kCols, out.data());
        benchmark::ClobberMemory();
      }
      byte_counters(st, sizeof(float) * (kRows * kCols + kCols), true);
    });
  }
}

void add_benchmarks(const char* id, BiasActFwdFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables)
    for (fennec::ActivationSpec act : kActs) {
      const BiasActFwdFn fwd = t.table->*fn;
      const std::string dims = std::string(fennec::activation_name(act.kind)) + "/64x512";
      benchmark::RegisterBenchmark(name(id, t, dims).c_str(), [fwd, act](benchmark::State& st) {
        Buffer y(kRows * kCols, 6, -4.f, 4.f), b(kCols, 7);
        for (auto _ : st) {
          fwd(kRows, kCols, y.data(), kCols, b.data(), act);
          benchmark::ClobberMemory();
        }
        byte_counters(st, 2.0 * sizeof(float) * kRows * kCols, true);
      });
    }
}

void add_benchmarks(const char* id, ActBwdFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables)
    for (fennec::ActivationSpec act : kActs) {
      const ActBwdFn bwd = t.table->*fn;
      const std::string dims = std::string(fennec::activation_name(act.kind)) + "/64x512";
      benchmark::RegisterBenchmark(name(id, t, dims).c_str(), [bwd, act](benchmark::State& st) {
        Buffer y(kRows * kCols, 8, 0.f, 1.f), dy(kRows * kCols, 9);
        for (auto _ : st) {
          bwd(kRows, kCols, y.data(), kCols, dy.data(), kCols, act);
          benchmark::ClobberMemory();
        }
        byte_counters(st, 3.0 * sizeof(float) * kRows * kCols, true);
      });
    }
}

}  // namespace fennec_bench
