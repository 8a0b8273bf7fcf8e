// SPDX-License-Identifier: Apache-2.0
// One benchmark runner per kernel signature: add_benchmarks(id, field, tables) registers
// BM_<id>/<arch>/<dims...> for the kernel `field` of every table, in the order given.
// bm_registry.cpp expands kernel_list.def into one call per row, so a row whose signature has
// no overload here fails to compile. GemmFn runs in bm_gemm.cpp (with the OpenBLAS and Eigen
// baselines on the same shapes); QGemmFn and QuantizeFn in bm_qgemm.cpp; the batch-norm and dropout signatures
// in bm_norm.cpp; the other signatures in bm_kernels.cpp.
#pragma once

#include <vector>

#include "bench_common.hpp"

namespace fennec_bench {

using fennec::kernels::KernelTable;

void add_benchmarks(const char* id, fennec::kernels::GemmFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::BiasActFwdFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::ActBwdFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::ColSumFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::SumSquaresFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::ScaleFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::ClampFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::BnStatsFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::BnFwdFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::BnBwdFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::DropoutFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::OptimStepFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::QGemmFn KernelTable::*fn, const std::vector<Table>& tables);
void add_benchmarks(const char* id, fennec::kernels::QuantizeFn KernelTable::*fn, const std::vector<Table>& tables);

}  // namespace fennec_bench
