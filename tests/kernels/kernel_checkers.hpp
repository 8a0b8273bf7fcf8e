// SPDX-License-Identifier: Apache-2.0
// One checker per kernel signature: check_kernel(id, field, table) runs the kernel `field` of
// `table.table` against `table.oracle` (and, where a signature has one, an exact oracle computed
// in the test) over the sizes and offsets its test file documents. test_kernel_registry.cpp
// expands kernel_list.def into one TEST_CASE per id with a section "<id>/<arch>" per table, so
// a registry row whose signature has no overload here fails to compile.
//
// The overloads are defined beside the tests of their kernels: GemmFn in test_gemm.cpp, the
// elementwise and reduction signatures in test_elementwise.cpp, the batch-norm and dropout
// signatures in test_norm_kernels.cpp, OptimStepFn in test_optim_kernels.cpp, QGemmFn in
// test_qgemm.cpp, QuantizeFn in test_quantize_s8.cpp. A new signature gets its overload (and its file) there.
#pragma once

#include "kernel_test_util.hpp"

namespace fennec_ktest {

using namespace fennec::kernels;

void check_kernel(const char* id, GemmFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, BiasActFwdFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, ActBwdFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, ColSumFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, SumSquaresFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, ScaleFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, ClampFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, BnStatsFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, BnFwdFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, BnBwdFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, DropoutFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, OptimStepFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, QGemmFn KernelTable::*fn, const TableUnderTest& t);
void check_kernel(const char* id, QuantizeFn KernelTable::*fn, const TableUnderTest& t);

}  // namespace fennec_ktest
