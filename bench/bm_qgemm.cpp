// SPDX-License-Identifier: Apache-2.0
// Runner of the int8 GEMMs (QGemmFn, kernel_runners.hpp) on the 784-512-256-10 MLP's first two
// layers, requantized to int8 as the hidden layers are:
//   BM_qgemv_s8/<arch>/1x512x784      BM_qgemm_nt_s8/<arch>/<m>x512x784  (m = 1, 64)
//   BM_qgemv_s8/<arch>/1x256x512      BM_qgemm_nt_s8/<arch>/<m>x256x512
// The weights are packed as the quantized model packs them (qpack_s8; the VNNI table reads them).
// Counter OP/s: 2 * m * n * k integer operations per call (a multiply and an add per MAC).
// And the input quantization of the first layer, the step before those GEMMs:
//   BM_quantize_s8/<arch>/<m>x784  (m = 1, 64; B/s and fraction of the L3 triad: 5 bytes an input)
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernel_runners.hpp"
#include "kernels/qpack.hpp"

namespace fennec_bench {
namespace {

using namespace fennec::kernels;

struct Shape {
  std::size_t m, n, k;
};

void bm_qgemm(benchmark::State& st, QGemmFn fn, Shape s) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-127, 127);
  std::vector<std::int8_t> x(s.m * s.k), w(s.n * s.k), y(s.m * s.n);
  for (auto& v : x) v = static_cast<std::int8_t>(d(rng));
  for (auto& v : w) v = static_cast<std::int8_t>(d(rng));
  std::vector<std::uint8_t> wpack(fennec::detail::qpack_bytes(s.n, s.k));
  qpack_s8(w.data(), s.k, s.n, s.k, wpack.data());
  std::vector<std::int32_t> bias(s.n, 100), wsum(s.n, 0), mult(s.n, 1 << 30), shift(s.n, 40);
  QGemmArgs g;
  g.m = s.m;
  g.n = s.n;
  g.k = s.k;
  g.x = x.data();
  g.ldx = s.k;
  g.w = w.data();
  g.ldw = s.k;
  g.wpack = wpack.data();
  g.bias = bias.data();
  g.wsum = wsum.data();
  g.mult = g.mult_neg = mult.data();
  g.shift = g.shift_neg = shift.data();
  g.out_zero_point = -128;
  g.out_lo = -128;
  g.y = y.data();
  g.ldy = s.n;
  for (auto _ : st) {
    fn(g);
    benchmark::ClobberMemory();
  }
  st.counters["OP/s"] = benchmark::Counter(2.0 * s.m * s.n * s.k, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

void add_benchmarks(const char* id, QGemmFn KernelTable::*fn, const std::vector<Table>& tables) {
  const bool gemv = std::string(id).rfind("qgemv", 0) == 0;
  std::vector<Shape> shapes;
  for (std::size_t m : gemv ? std::vector<std::size_t>{1} : std::vector<std::size_t>{1, 64}) {
    shapes.push_back({m, 512, 784});
    shapes.push_back({m, 256, 512});
  }
  for (const Table& t : tables)
    for (const Shape& s : shapes) {
      const QGemmFn f = t.table->*fn;
      const std::string name = "BM_" + std::string(id) + "/" + t.name + "/" + std::to_string(s.m) + "x" +
                               std::to_string(s.n) + "x" + std::to_string(s.k);
      benchmark::RegisterBenchmark(name.c_str(), [f, s](benchmark::State& st) { bm_qgemm(st, f, s); });
    }
}

void add_benchmarks(const char* id, QuantizeFn KernelTable::*fn, const std::vector<Table>& tables) {
  constexpr std::size_t kInputs = 784;
  for (const Table& t : tables)
    for (std::size_t m : {std::size_t{1}, std::size_t{64}}) {
      const QuantizeFn f = t.table->*fn;
      const std::string name = "BM_" + std::string(id) + "/" + t.name + "/" + std::to_string(m) + "x" + std::to_string(kInputs);
      benchmark::RegisterBenchmark(name.c_str(), [f, m](benchmark::State& st) {
        Buffer x(m * kInputs, 21);
        std::vector<std::int8_t> y(m * kInputs);
        QuantizeArgs a;
        a.rows = m;
        a.cols = kInputs;
        a.x = x.data();
        a.ldx = kInputs;
        a.inv_scale = 100.f;
        a.zero_point = -3;
        a.y = y.data();
        a.ldy = kInputs;
        for (auto _ : st) {
          if (!f(a)) st.SkipWithError("quantize_s8 reported a non-finite input");
          benchmark::ClobberMemory();
        }
        byte_counters(st, (sizeof(float) + 1.0) * m * kInputs, true);
      });
    }
}

}  // namespace fennec_bench
