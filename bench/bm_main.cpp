// SPDX-License-Identifier: Apache-2.0
// Fennec benchmarks: one binary, every kernel table this CPU runs, OpenBLAS and Eigen baselines
// when found, the machine's FMA peak and stream bandwidth measured first so every figure is also
// printed as a fraction of them. Names: BM_<kernel_id>/<arch_id>/<dims>, BM_train_step/<arch>/
// <model>/<batch>, BM_infer/<arch>/<model>/<batch> (arch ids: ref sse2 avx2fma avx512 neon
// neon64, plus openblas and eigen).
#include <cstdio>

#include "bench_common.hpp"

namespace fennec_bench {

std::vector<Table> tables(bool with_ref) {
  std::vector<Table> out;
  if (with_ref) out.push_back({fennec::Isa::kRef, &fennec::kernels::ref_kernel_table(), "ref"});
  for (fennec::Isa isa : {fennec::Isa::kSse2, fennec::Isa::kNeon, fennec::Isa::kNeon64, fennec::Isa::kAvx2Fma,
                          fennec::Isa::kAvx512}) {
    // FENNEC_ISA caps the list as it caps the automatic choice (FENNEC_ISA=sse2: baseline only).
    if (fennec::isa_supported(isa) && static_cast<int>(isa) <= static_cast<int>(fennec::best_isa()))
      out.push_back({isa, fennec::kernels::kernel_table_for(isa), fennec::isa_name(isa)});
  }
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
  std::printf("baselines: openblas %s, eigen %s\n", openblas_available() ? "yes (1 thread)" : "not found",
              eigen_available() ? "yes" : "not found");
  register_peak();
  register_kernels();
  register_model();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
