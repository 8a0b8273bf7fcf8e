// SPDX-License-Identifier: Apache-2.0
// One GEMM split across a ThreadPool by output tiles.
//
// Each task computes a contiguous range of C's columns (forms NT and NN: the forward and dX
// products, split along the layer's units or fan-in) or of C's rows (form TN: dW, split along
// the layer's units), with the whole k range, so every element is the same sum in the same
// order as on one thread: the result is bit-identical for any thread count. Ranges are
// multiples of kGemmSplitQuantum (>= any kernel's register tile, so no range falls to a
// narrower code path), the last one taking the remainder; a GEMM too small to repay waking the
// workers stays on the calling thread.
#pragma once

#include <cstddef>

#include "fennec/thread_pool.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

enum class GemmForm : int { kNT, kNN, kTN };

// Output columns (or rows) per split unit: kGemmMaxTile, the widest register tile.
inline constexpr std::size_t kGemmSplitQuantum = 32;
// Multiply-adds below which a GEMM stays on one thread. Measured with BM_gemm_split on 2 threads
// (bench/README.md, "Threads"): at 65,536 a split gains 0.98x-1.12x with batch >= 16 (waking
// and joining the worker eat the gain), at 131,072 1.43x and more; a batch-1 product, limited
// by reading W, gains 1.7x already at 65,536 but keeps the common threshold.
inline constexpr double kGemmSplitMinMacs = 131072.0;

// Runs g on pool's threads and returns true, or returns false (nothing done) when the GEMM has
// fewer than min_macs multiply-adds (a model passes kGemmSplitMinMacs; the benchmark that
// measures the threshold, 0) or is too narrow to split. scratch holds pool.threads() blocks of
// per_thread floats.
bool run_gemm_split(ThreadPool& pool, kernels::GemmFn fn, GemmForm form, const kernels::GemmArgs& g,
                    float* scratch, std::size_t per_thread, double min_macs);

}  // namespace fennec::detail
