// SPDX-License-Identifier: Apache-2.0
// Runners of the batch-norm and dropout signatures (kernel_runners.hpp), on the 784-512-256-10
// MLP's widest hidden layer at batch 64:
//   BM_bn_stats_f32/<arch>/64x512   BM_bn_fwd_f32/<arch>/64x512   BM_bn_bwd_f32/<arch>/64x512
//   BM_dropout_f32/<arch>/64x512
#include <string>
#include <vector>

#include "kernel_runners.hpp"

namespace fennec_bench {
namespace {

using namespace fennec::kernels;

constexpr std::size_t kRows = 64, kCols = 512;

std::string name(const char* id, const Table& t) {
  return "BM_" + std::string(id) + "/" + t.name + "/" + std::to_string(kRows) + "x" + std::to_string(kCols);
}

}  // namespace

void add_benchmarks(const char* id, BnStatsFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const BnStatsFn stats = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t).c_str(), [stats](benchmark::State& st) {
      Buffer x(kRows * kCols, 21), mean(kCols, 22), var(kCols, 23);
      for (auto _ : st) {
        stats(kRows, kCols, x.data(), kCols, mean.data(), var.data());
        benchmark::ClobberMemory();
      }
      byte_counters(st, sizeof(float) * (2.0 * kRows * kCols + 2 * kCols), true);
    });
  }
}

void add_benchmarks(const char* id, BnFwdFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const BnFwdFn fwd = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t).c_str(), [fwd](benchmark::State& st) {
      Buffer x(kRows * kCols, 24), xhat(kRows * kCols, 25), y(kRows * kCols, 26), mean(kCols, 27),
          inv_std(kCols, 28, 0.5f, 2.f), gamma(kCols, 29), beta(kCols, 30);
      BnFwdArgs a;
      a.m = kRows;
      a.n = kCols;
      a.x = x.data();
      a.ldx = a.ldxhat = a.ldy = kCols;
      a.mean = mean.data();
      a.inv_std = inv_std.data();
      a.gamma = gamma.data();
      a.beta = beta.data();
      a.xhat = xhat.data();
      a.y = y.data();
      for (auto _ : st) {
        fwd(a);
        benchmark::ClobberMemory();
      }
      byte_counters(st, 3.0 * sizeof(float) * kRows * kCols, true);
    });
  }
}

void add_benchmarks(const char* id, BnBwdFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const BnBwdFn bwd = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t).c_str(), [bwd](benchmark::State& st) {
      Buffer dy(kRows * kCols, 31), xhat(kRows * kCols, 32), dx(kRows * kCols, 33), gamma(kCols, 34),
          inv_std(kCols, 35, 0.5f, 2.f), dgamma(kCols, 36), dbeta(kCols, 37);
      BnBwdArgs a;
      a.m = kRows;
      a.n = kCols;
      a.dy = dy.data();
      a.lddy = a.ldxhat = a.lddx = kCols;
      a.xhat = xhat.data();
      a.gamma = gamma.data();
      a.inv_std = inv_std.data();
      a.dgamma = dgamma.data();
      a.dbeta = dbeta.data();
      a.dx = dx.data();
      for (auto _ : st) {
        bwd(a);
        benchmark::ClobberMemory();
      }
      byte_counters(st, 5.0 * sizeof(float) * kRows * kCols, true);
    });
  }
}

void add_benchmarks(const char* id, DropoutFn KernelTable::*fn, const std::vector<Table>& tables) {
  for (const Table& t : tables) {
    const DropoutFn drop = t.table->*fn;
    benchmark::RegisterBenchmark(name(id, t).c_str(), [drop](benchmark::State& st) {
      Buffer x(kRows * kCols, 38);
      std::vector<unsigned char> mask(kRows * kCols);
      for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = (i * 2654435761u >> 7) % 5 != 0;
      for (auto _ : st) {
        drop(kRows, kCols, x.data(), kCols, mask.data(), kCols, 1.25f, x.data(), kCols);
        benchmark::ClobberMemory();
      }
      byte_counters(st, (2.0 * sizeof(float) + 1) * kRows * kCols, true);
    });
  }
}

}  // namespace fennec_bench
