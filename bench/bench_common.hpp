// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the Fennec benchmarks: aligned buffers, the kernel tables to run, the
// measured FMA peak and stream bandwidth (so every figure can be printed as a fraction of them).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fennec/isa.hpp"
#include "fennec/thread_pool.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec_bench {

// 64-byte aligned float buffer, filled with uniform [-1, 1) values from a fixed seed.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n, unsigned seed = 1, float lo = -1.f, float hi = 1.f) : n_(n) {
    const std::size_t bytes = ((n ? n : 1) * sizeof(float) + 63) / 64 * 64;
    p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (std::size_t i = 0; i < n; ++i) p_[i] = d(rng);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~Buffer() { std::free(p_); }
  float* data() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  float* p_ = nullptr;
  std::size_t n_ = 0;
};

struct Table {
  fennec::Isa isa;
  const fennec::kernels::KernelTable* table;
  std::string name;
};

// Every table this build has and this CPU runs, best last; `with_ref` adds the scalar reference.
std::vector<Table> tables(bool with_ref);

// Measured once at start-up (bm_peak.cpp): single-core FMA peak in FLOP/s (best of the ISAs this
// CPU runs) and stream-triad bandwidth in bytes/s for arrays far larger than the caches and for
// arrays that fit in L3 (the working set of the optimizer benchmarks).
struct Limits {
  double fma_peak_flops = 0;
  double triad_dram_bytes = 0;
  double triad_l3_bytes = 0;
};
const Limits& limits();
void measure_limits();

// FLOP/s and fraction of the measured FMA peak.
inline void flop_counters(benchmark::State& st, double flops_per_iter) {
  using benchmark::Counter;
  st.counters["FLOP/s"] = Counter(flops_per_iter, Counter::kIsIterationInvariantRate);
  st.counters["peak"] = Counter(flops_per_iter / limits().fma_peak_flops, Counter::kIsIterationInvariantRate);
}
// Bytes/s and fraction of the triad bandwidth measured for a working set of this size.
inline void byte_counters(benchmark::State& st, double bytes_per_iter, bool fits_l3) {
  using benchmark::Counter;
  const double triad = fits_l3 ? limits().triad_l3_bytes : limits().triad_dram_bytes;
  st.counters["B/s"] = Counter(bytes_per_iter, Counter::kIsIterationInvariantRate);
  st.counters["triad"] = Counter(bytes_per_iter / triad, Counter::kIsIterationInvariantRate);
}

void register_peak();
// Every kernel of kernel_list.def through its signature's runner (bm_registry.cpp).
void register_kernels();
void register_model();
// bm_threads.cpp: one GEMM whole and split on a pool, around the split threshold.
void register_threads();

// FENNEC_THREADS, or the machine's cores (at least 1, at most fennec::kMaxThreads).
inline unsigned bench_threads() {
  const char* env = std::getenv("FENNEC_THREADS");
  const long n = env && *env ? std::strtol(env, nullptr, 10) : static_cast<long>(std::thread::hardware_concurrency());
  return n < 1 ? 1u : n > static_cast<long>(fennec::kMaxThreads) ? fennec::kMaxThreads : static_cast<unsigned>(n);
}
// bm_xnnpack.cpp, only in builds that found XNNPACK (FENNEC_BENCH_XNNPACK).
void register_xnnpack();

// Baselines (defined only when found at configure time).
void openblas_single_thread();
bool openblas_available();
bool eigen_available();

}  // namespace fennec_bench
