// SPDX-License-Identifier: Apache-2.0
#include "core/parallel_ranges.hpp"

namespace fennec::detail {
namespace {

// At most this many chunks, so that the threads' partial sums fit in a small array on the
// caller's stack; past 64 x 65,536 floats the chunks grow instead.
constexpr std::size_t kMaxChunks = 64;
constexpr std::size_t kMinChunk = 65536;

}  // namespace

unsigned range_count(const ThreadPool* pool, std::size_t n) {
  if (!kBuildHasThreads || !pool || pool->threads() < 2 || n < 2 * kRangeMinFloats) return 1;
  const std::size_t most = n / kRangeMinFloats;
  return most < pool->threads() ? static_cast<unsigned>(most) : pool->threads();
}

std::size_t sum_squares_chunk(std::size_t n) {
  const std::size_t even = (n + kMaxChunks - 1) / kMaxChunks;
  // A multiple of the kernels' summing block (4,096 floats), so every chunk but the last is
  // whole blocks.
  const std::size_t rounded = (even + 4095) / 4096 * 4096;
  return rounded > kMinChunk ? rounded : kMinChunk;
}

double sum_squares(const kernels::KernelTable& k, ThreadPool* pool, std::size_t n, const float* x) {
  // One thread is all such a build ever runs, so there is no other count to agree with; the
  // chunk loop would only cost a firmware image flash.
  if (!kBuildHasThreads) return k.sum_squares_f32(n, x);
  const std::size_t chunk = sum_squares_chunk(n);
  const std::size_t chunks = (n + chunk - 1) / chunk;
  double total = 0.0;
  if (range_count(pool, n) < 2 || chunks < 2) {
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t begin = c * chunk;
      total += k.sum_squares_f32(n - begin < chunk ? n - begin : chunk, x + begin);
    }
    return total;
  }
  // Each thread fills the partials of its chunks; the caller adds them in chunk order, as the
  // loop above does.
  double partial[kMaxChunks];
  struct Sum {
    const kernels::KernelTable* k;
    const float* x;
    std::size_t n, chunk, chunks;
    unsigned tasks;
    double* partial;
  } s{&k, x, n, chunk, chunks, 0, partial};
  s.tasks = chunks < pool->threads() ? static_cast<unsigned>(chunks) : pool->threads();
  pool->run(
      s.tasks,
      [](void* context, unsigned i) {
        const Sum& s = *static_cast<const Sum*>(context);
        for (std::size_t c = s.chunks * i / s.tasks; c < s.chunks * (i + 1) / s.tasks; ++c) {
          const std::size_t begin = c * s.chunk;
          s.partial[c] = s.k->sum_squares_f32(s.n - begin < s.chunk ? s.n - begin : s.chunk, s.x + begin);
        }
      },
      &s);
  for (std::size_t c = 0; c < chunks; ++c) total += partial[c];
  return total;
}

}  // namespace fennec::detail
