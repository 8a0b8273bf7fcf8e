// SPDX-License-Identifier: Apache-2.0
// Fennec benchmarks: one binary, every kernel table this CPU runs, OpenBLAS and Eigen baselines
// when found, the machine's FMA peak and stream bandwidth measured first so every figure is also
// printed as a fraction of them. Names: BM_<kernel_id>/<arch_id>/<dims>, BM_train_step/<arch>/
// <model>/<batch>, BM_infer/<arch>/<model>/<batch> (arch ids: ref sse2 avx2fma avx512 avx512vnni
// avx512bf16 neon neon64, plus openblas and eigen).
#include <cstdio>
#include <cstdlib>

#include "bench_common.hpp"
#include "kernels/isa_registry.hpp"

namespace fennec_bench {

std::vector<Table> tables(bool with_ref) {
  std::vector<Table> out;
  if (with_ref) out.push_back({fennec::Isa::kRef, &fennec::kernels::ref_kernel_table(), "ref"});
  // The other ISAs of isa_list.def in rank order (the registry's order among equal ranks).
  // FENNEC_ISA caps the list as it caps the automatic choice (FENNEC_ISA=sse2: baseline only).
  // Opt-in tables (bf16 products) are benchmarked too, unless a cap below them is set: their
  // rows sit beside the f32 ones they are compared with.
  const fennec::kernels::IsaInfo* best = fennec::kernels::isa_info(fennec::best_isa());
  const char* cap = std::getenv("FENNEC_ISA");
  int top = best->rank;
  if (cap == nullptr || *cap == '\0')
    for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas)
      if (info.opt_in() && info.rank > top && fennec::isa_supported(info.isa)) top = info.rank;
  for (int rank = 1; rank <= top; ++rank)
    for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas)
      if (info.rank == rank && fennec::isa_supported(info.isa))
        out.push_back({info.isa, fennec::kernels::kernel_table_for(info.isa), info.id});
  return out;
}

}  // namespace fennec_bench

int main(int argc, char** argv) {
  using namespace fennec_bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  openblas_single_thread();
  measure_limits();
  std::printf("fennec bench: best ISA %s; FMA peak %.1f GFLOP/s; triad %.1f GB/s (DRAM-sized), %.1f GB/s (L3-sized)\n",
              fennec::isa_name(fennec::best_isa()), limits().fma_peak_flops * 1e-9, limits().triad_dram_bytes * 1e-9,
              limits().triad_l3_bytes * 1e-9);
#if defined(FENNEC_BENCH_XNNPACK)
  const char* xnnpack = "yes (1 thread)";
#else
  const char* xnnpack = "not found";
#endif
  std::printf("baselines: openblas %s, eigen %s, xnnpack %s\n", openblas_available() ? "yes (1 thread)" : "not found",
              eigen_available() ? "yes" : "not found", xnnpack);
  register_peak();
  register_kernels();
  register_model();
  register_threads();
#if defined(FENNEC_BENCH_XNNPACK)
  register_xnnpack();
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
