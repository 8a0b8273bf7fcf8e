// SPDX-License-Identifier: Apache-2.0
// Element-wise passes over the trainable block (the optimizer update, clipping by value and by
// norm) split across a ThreadPool by contiguous ranges, and the gradient's sum of squares as a
// reduction whose order does not depend on the thread count.
//
// An element-wise kernel computes each element from that element alone, with the same
// arithmetic in its vector body and its tail (partial batches), so any split gives the same
// bits; ranges still start at multiples of kRangeQuantum floats so that every range but the last
// is whole vectors and the pointers keep the block's alignment. The sum of squares is a
// reduction: it is taken over fixed chunks (their length depends on n alone) summed in order,
// on one thread or many.
#pragma once

#include <cstddef>

#include "fennec/thread_pool.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

// Range starts are multiples of this many floats: 256 bytes, a multiple of every table's vector
// and unroll width.
inline constexpr std::size_t kRangeQuantum = 64;
// Floats below which a pass stays on the calling thread: an Adam step over 32,768 floats takes
// about 12 us on one core here (BM_adam_step_f32), several times what handing work to a
// spinning worker costs.
inline constexpr std::size_t kRangeMinFloats = 32768;

// How many ranges a pass over n floats is split into on `pool`: 1 (the calling thread alone)
// without a pool, in a build without threads, or for a short pass.
unsigned range_count(const ThreadPool* pool, std::size_t n);

// Runs f(begin, end) over [0, n), split into range_count(pool, n) ranges, task i on thread i.
template <class F>
void for_each_range(ThreadPool* pool, std::size_t n, const F& f) {
  const unsigned parts = range_count(pool, n);
  if (!kBuildHasThreads || parts < 2) {
    f(std::size_t{0}, n);
    return;
  }
  struct Split {
    const F* f;
    std::size_t n, quanta;
    unsigned parts;
  } split{&f, n, n / kRangeQuantum, parts};
  pool->run(
      parts,
      [](void* context, unsigned i) {
        const Split& s = *static_cast<const Split*>(context);
        const std::size_t begin = s.quanta * i / s.parts * kRangeQuantum;
        const std::size_t end = i + 1 == s.parts ? s.n : s.quanta * (i + 1) / s.parts * kRangeQuantum;
        (*s.f)(begin, end);
      },
      &split);
}

// sum of x[i]^2 over [0, n), in double: k.sum_squares_f32 over chunks of sum_squares_chunk(n)
// floats, the chunks' results added in order. The same bits for any pool and thread count; a
// pass of one chunk (n <= 65,536) is exactly the kernel's own result, and so is every pass in a
// build without threads (FENNEC_THREADS=OFF), which sums in one call.
double sum_squares(const kernels::KernelTable& k, ThreadPool* pool, std::size_t n, const float* x);
std::size_t sum_squares_chunk(std::size_t n);

}  // namespace fennec::detail
