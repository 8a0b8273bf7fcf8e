// SPDX-License-Identifier: Apache-2.0
#include "core/parallel_gemm.hpp"

#include "core/gemm_call.hpp"

namespace fennec::detail {
namespace {

struct SplitGemm {
  kernels::GemmFn fn;
  GemmForm form;
  const kernels::GemmArgs* g;
  float* scratch;
  std::size_t per_thread;
  std::size_t extent;  // C's columns (NT, NN) or rows (TN)
  std::size_t units;   // extent / kGemmSplitQuantum
  unsigned tasks;

  static void task(void* context, unsigned i) {
    const SplitGemm& s = *static_cast<const SplitGemm*>(context);
    const std::size_t lo = s.units * i / s.tasks * kGemmSplitQuantum;
    const std::size_t hi = i + 1 == s.tasks ? s.extent : s.units * (i + 1) / s.tasks * kGemmSplitQuantum;
    kernels::GemmArgs t = *s.g;
    if (s.form == GemmForm::kTN) {
      // A is stored transposed (k x m): its columns lo.. are C's rows lo..
      t.m = hi - lo;
      t.a += lo;
      t.c += lo * t.ldc;
    } else {
      // B is (n x k) for NT and (k x n) for NN: C's columns lo.. are its rows or columns lo..
      t.n = hi - lo;
      t.b += s.form == GemmForm::kNT ? lo * t.ldb : lo;
      t.c += lo;
      if (t.bias) t.bias += lo;
    }
    run_gemm(s.fn, t, s.scratch + i * s.per_thread, s.per_thread);
  }
};

}  // namespace

bool run_gemm_split(ThreadPool& pool, kernels::GemmFn fn, GemmForm form, const kernels::GemmArgs& g,
                    float* scratch, std::size_t per_thread, double min_macs) {
  const unsigned threads = pool.threads();
  if (threads < 2) return false;
  const double macs = static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  if (macs < min_macs) return false;
  const std::size_t extent = form == GemmForm::kTN ? g.m : g.n;
  const std::size_t units = extent / kGemmSplitQuantum;
  const unsigned tasks = units < threads ? static_cast<unsigned>(units) : threads;
  if (tasks < 2) return false;
  SplitGemm s{fn, form, &g, scratch, per_thread, extent, units, tasks};
  pool.run(tasks, &SplitGemm::task, &s);
  return true;
}

}  // namespace fennec::detail
