// SPDX-License-Identifier: Apache-2.0
// Where splitting a GEMM across threads starts to pay: one GEMM of the best table, on the
// calling thread alone (/threads:1) and split across a pool (/threads:T, T = FENNEC_THREADS or
// the machine's cores) by the model's own split (core/parallel_gemm.hpp) with the size threshold
// off, for shapes from a quarter to 16 times kGemmSplitMinMacs. The crossover is the threshold
// a model should use (bench/README.md, "Threads").
//
//   BM_gemm_split/<arch>/<nt|tn>/<m>x<n>x<k>/threads:<T>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "core/gemm_call.hpp"
#include "core/parallel_gemm.hpp"
#include "fennec/plan.hpp"
#include "fennec/thread_pool.hpp"

namespace fennec_bench {

namespace {

using fennec::detail::GemmForm;

void bm_split(benchmark::State& st, fennec::kernels::GemmFn fn, GemmForm form, std::size_t m, std::size_t n,
              std::size_t k, unsigned threads) {
  // A (m x k, or k x m for TN), B (n x k for NT); C m x n.
  Buffer a(m * k, 1), b(n * k, 2), c(m * n, 3);
  const std::size_t per_thread = fennec::gemm_scratch_floats(m, n, k);
  Buffer scratch(per_thread * threads);
  fennec::kernels::GemmArgs g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.data();
  g.lda = form == GemmForm::kTN ? m : k;
  g.b = b.data();
  g.ldb = form == GemmForm::kNT ? k : n;
  g.c = c.data();
  g.ldc = n;
  fennec::ThreadPool pool;
  if (threads > 1 && !pool.start(threads).is_ok()) return st.SkipWithError("thread pool did not start");
  for (auto _ : st) {
    if (threads < 2 || !fennec::detail::run_gemm_split(pool, fn, form, g, scratch.data(), per_thread, 0.0))
      fennec::detail::run_gemm(fn, g, scratch.data(), per_thread);
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * m * n * k);
}

}  // namespace

void register_threads() {
  const unsigned many = fennec::kBuildHasThreads ? bench_threads() : 1;
  if (many < 2) return;
  const std::vector<Table> all = tables(false);
  if (all.empty()) return;
  const Table best = all.back();
  struct Shape {
    GemmForm form;
    std::size_t m, n, k;
  };
  // Forward (NT: batch x units x fan_in; batch 1 as well) and dW (TN: units x fan_in x batch).
  const Shape shapes[] = {
      {GemmForm::kNT, 16, 64, 64},   {GemmForm::kNT, 16, 64, 128},  {GemmForm::kNT, 32, 64, 128},
      {GemmForm::kNT, 64, 64, 128},  {GemmForm::kNT, 64, 128, 128}, {GemmForm::kNT, 64, 128, 512},
      {GemmForm::kNT, 1, 128, 512},  {GemmForm::kNT, 1, 256, 1024}, {GemmForm::kNT, 1, 512, 784},
      {GemmForm::kNT, 1, 512, 2048}, {GemmForm::kTN, 64, 64, 16},   {GemmForm::kTN, 64, 64, 64},
      {GemmForm::kTN, 128, 128, 64}, {GemmForm::kTN, 256, 512, 64},
  };
  for (const Shape& s : shapes) {
    const bool tn = s.form == GemmForm::kTN;
    const fennec::kernels::GemmFn fn = tn ? best.table->gemm_tn_f32 : best.table->gemm_nt_f32;
    const std::string name = "BM_gemm_split/" + best.name + (tn ? "/tn/" : "/nt/") + std::to_string(s.m) + "x" +
                             std::to_string(s.n) + "x" + std::to_string(s.k) + "/threads:";
    for (unsigned t : {1u, many})
      benchmark::RegisterBenchmark((name + std::to_string(t)).c_str(),
                                   [=](benchmark::State& st) { bm_split(st, fn, s.form, s.m, s.n, s.k, t); });
  }
}

}  // namespace fennec_bench
