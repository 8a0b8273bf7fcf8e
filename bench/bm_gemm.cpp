// SPDX-License-Identifier: Apache-2.0
// GEMM on the MLP shapes, every table this CPU runs, OpenBLAS and BLIS (1 thread each) and Eigen
// side by side.
//   forward  BM_gemm_nt_f32/<arch>/<batch>x<out>x<in>   Y  = X * W^T
//   dX       BM_gemm_nn_f32/<arch>/<batch>x<in>x<out>   dX = dY * W
//   dW       BM_gemm_tn_f32/<arch>/<out>x<in>x<batch>   dW = dY^T * X
// for layers 784x512, 512x256, 256x10, 512x512 (in x out) at batch 1, 32, 64, 256, plus square
// 512 and 1024 (nt, nn). The scalar reference runs the layers at batch 32 only (it is 10-30x
// slower; one shape per layer shows where it stands). Dims are always m x n x k. Counters: FLOP/s and fraction of the FMA
// peak measured at start-up. Batch 1 forward also runs OpenBLAS sgemv (arch openblas_gemv).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fennec/detail/gemm_blocking.hpp"
#include "kernel_runners.hpp"

#if defined(FENNEC_BENCH_OPENBLAS)
#include <cblas.h>
#endif

namespace fennec_bench {

#if defined(FENNEC_BENCH_EIGEN)
// bm_eigen.cpp (compiled with -mavx2 -mfma; called only on CPUs that have them).
void eigen_gemm(int form, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c);
#endif
#if defined(FENNEC_BENCH_BLIS)
// bm_blis.cpp (blis.h and OpenBLAS's cblas.h declare the same CBLAS functions).
void blis_single_thread();
const char* blis_arch();
void blis_gemm(int form, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c);
#endif

void openblas_single_thread() {
#if defined(FENNEC_BENCH_OPENBLAS)
  openblas_set_num_threads(1);
#endif
}
bool openblas_available() {
#if defined(FENNEC_BENCH_OPENBLAS)
  return true;
#else
  return false;
#endif
}
bool eigen_available() {
#if defined(FENNEC_BENCH_EIGEN)
  return fennec::isa_supported(fennec::Isa::kAvx2Fma);
#else
  return false;
#endif
}

namespace {

enum Form { kNT = 0, kNN = 1, kTN = 2 };
const char* const kFormId[] = {"gemm_nt_f32", "gemm_nn_f32", "gemm_tn_f32"};

bool form_of(const std::string& id, Form* f) {
  for (Form x : {kNT, kNN, kTN})
    if (id == kFormId[x]) {
      *f = x;
      return true;
    }
  return false;
}

struct Operands {
  Buffer a, b, c;
  std::size_t lda, ldb, ldc;
  Operands(Form f, std::size_t m, std::size_t n, std::size_t k)
      : a(m * k, 1), b(k * n, 2), c(m * n, 3),
        lda(f == kTN ? m : k), ldb(f == kNT ? k : n), ldc(n) {}
};

void bm_fennec(benchmark::State& st, fennec::kernels::GemmFn fn, Form f, std::size_t m, std::size_t n,
               std::size_t k) {
  Operands o(f, m, n, k);
  Buffer scratch(fennec::gemm_scratch_floats(m, n, k));
  fennec::kernels::GemmArgs g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = o.a.data();
  g.lda = o.lda;
  g.b = o.b.data();
  g.ldb = o.ldb;
  g.c = o.c.data();
  g.ldc = o.ldc;
  g.scratch = scratch.size() ? scratch.data() : nullptr;
  g.scratch_floats = scratch.size();
  for (auto _ : st) {
    fn(g);
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * m * n * k);
}

#if defined(FENNEC_BENCH_OPENBLAS)
void bm_openblas(benchmark::State& st, Form f, std::size_t m, std::size_t n, std::size_t k) {
  Operands o(f, m, n, k);
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, f == kTN ? CblasTrans : CblasNoTrans, f == kNT ? CblasTrans : CblasNoTrans, M, N, K,
                1.f, o.a.data(), static_cast<int>(o.lda), o.b.data(), static_cast<int>(o.ldb), 0.f, o.c.data(),
                static_cast<int>(o.ldc));
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * m * n * k);
}
// y (n) = W (n x k) * x (k): one layer at batch 1.
void bm_openblas_gemv(benchmark::State& st, std::size_t n, std::size_t k) {
  Buffer w(n * k, 2), x(k, 1), y(n, 3);
  for (auto _ : st) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), static_cast<int>(k), 1.f, w.data(),
                static_cast<int>(k), x.data(), 1, 0.f, y.data(), 1);
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * n * k);
}
#endif

#if defined(FENNEC_BENCH_EIGEN)
void bm_eigen(benchmark::State& st, Form f, std::size_t m, std::size_t n, std::size_t k) {
  Operands o(f, m, n, k);
  for (auto _ : st) {
    eigen_gemm(f, m, n, k, o.a.data(), o.b.data(), o.c.data());
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * m * n * k);
}
#endif

#if defined(FENNEC_BENCH_BLIS)
void bm_blis(benchmark::State& st, Form f, std::size_t m, std::size_t n, std::size_t k) {
  Operands o(f, m, n, k);
  blis_single_thread();
  st.SetLabel(blis_arch());
  for (auto _ : st) {
    blis_gemm(f, m, n, k, o.a.data(), o.b.data(), o.c.data());
    benchmark::ClobberMemory();
  }
  flop_counters(st, 2.0 * m * n * k);
}
#endif

void add(const std::vector<Table>& tables, fennec::kernels::GemmFn KernelTable::*fn, Form f, std::size_t m,
         std::size_t n, std::size_t k, bool with_ref) {
  const std::string dims = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  const std::string base = std::string("BM_") + kFormId[f] + "/";
  for (const Table& t : tables) {
    if (t.isa == fennec::Isa::kRef && !with_ref) continue;
    const fennec::kernels::GemmFn gemm = t.table->*fn;
    benchmark::RegisterBenchmark((base + t.name + "/" + dims).c_str(),
                                 [=](benchmark::State& st) { bm_fennec(st, gemm, f, m, n, k); });
  }
#if defined(FENNEC_BENCH_OPENBLAS)
  benchmark::RegisterBenchmark((base + "openblas/" + dims).c_str(),
                               [=](benchmark::State& st) { bm_openblas(st, f, m, n, k); });
  if (f == kNT && m == 1)
    benchmark::RegisterBenchmark((base + "openblas_gemv/" + dims).c_str(),
                                 [=](benchmark::State& st) { bm_openblas_gemv(st, n, k); });
#endif
#if defined(FENNEC_BENCH_EIGEN)
  if (eigen_available())
    benchmark::RegisterBenchmark((base + "eigen/" + dims).c_str(),
                                 [=](benchmark::State& st) { bm_eigen(st, f, m, n, k); });
#endif
#if defined(FENNEC_BENCH_BLIS)
  benchmark::RegisterBenchmark((base + "blis/" + dims).c_str(),
                               [=](benchmark::State& st) { bm_blis(st, f, m, n, k); });
#endif
}

}  // namespace

void add_benchmarks(const char* id, fennec::kernels::GemmFn KernelTable::*fn, const std::vector<Table>& tables) {
  Form f{};
  if (!form_of(id, &f)) {
    std::fprintf(stderr, "fennec bench: GEMM id %s names no operand layout (nt, nn, tn)\n", id);
    std::abort();
  }
  struct Layer {
    std::size_t in, out;
  };
  const Layer layers[] = {{784, 512}, {512, 256}, {256, 10}, {512, 512}};
  for (const Layer& l : layers)
    for (std::size_t batch : {1, 32, 64, 256}) {
      const bool with_ref = batch == 32;
      if (f == kNT) add(tables, fn, f, batch, l.out, l.in, with_ref);
      if (f == kNN) add(tables, fn, f, batch, l.in, l.out, with_ref);
      if (f == kTN) add(tables, fn, f, l.out, l.in, batch, with_ref);
    }
  if (f != kTN)
    for (std::size_t s : {512, 1024}) add(tables, fn, f, s, s, s, false);
}

}  // namespace fennec_bench
