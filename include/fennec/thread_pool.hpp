// SPDX-License-Identifier: Apache-2.0
// A fixed set of worker threads a model splits its large GEMMs across.
//
// Setup: start(threads) creates threads - 1 workers (the calling thread is the first of the
// `threads`); creating a thread is the C library's business (its stack, its thread-local
// block) and happens there, once. start(threads, arena, stack_bytes) takes the workers' stacks
// from the caller's arena instead (the C library then allocates only its small thread-local
// bookkeeping). After start nothing is allocated: run() publishes a task through
// atomics; a worker spins a short while for the next one (back-to-back GEMMs then cost no
// system call) before it sleeps on a condition variable. Builds without threads (FENNEC_THREADS=OFF,
// the Cortex-M presets) compile this class away: kBuildHasThreads is false, start() refuses
// more than one thread, and a model never splits.
//
// The pool never decides a result: a model splits each GEMM into output tiles, each written
// by exactly one task from the same sums in the same order, so results are bit-identical for
// any thread count (docs/threads.md).
#pragma once

#include <cstddef>

#include "fennec/arena.hpp"
#include "fennec/status.hpp"

#if !defined(FENNEC_NO_THREADS)
#include <pthread.h>

#include <atomic>
#endif

namespace fennec {

#if defined(FENNEC_NO_THREADS)
inline constexpr bool kBuildHasThreads = false;
#else
inline constexpr bool kBuildHasThreads = true;
#endif

// Most threads one pool runs (and ModelOptions::threads accepts).
inline constexpr unsigned kMaxThreads = 64;

class ThreadPool {
 public:
  // task(context, i): one task of a run; i in [0, tasks).
  using Task = void (*)(void* context, unsigned index);

  ThreadPool() = default;
  // Stops the workers and waits for them.
  ~ThreadPool();
  // Workers hold the pool's address: it neither copies nor moves.
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Starts threads - 1 workers. kInvalidArgument outside [1, kMaxThreads]; kFailedPrecondition
  // when already started; kUnsupported for threads > 1 in a build without threads; kOutOfMemory
  // (and no worker left running) when the system refuses a thread.
  Status start(unsigned threads);
  // As start(threads), with each worker's stack from `arena`: stack_arena_bytes(threads,
  // stack_bytes) bytes, which must outlive the pool. Such a stack has no guard page (an overflow
  // would write the arena), so give it room: the workers run GEMM, update and sum tasks, which
  // use a few KiB; 64 KiB is plenty. kInvalidArgument when stack_bytes is below the system's
  // minimum (PTHREAD_STACK_MIN, e.g. 16 KiB on x86-64 Linux); kOutOfMemory when the arena is
  // short. On any failure the arena is rewound and no worker is left running. One thread takes
  // no bytes.
  Status start(unsigned threads, Arena& arena, std::size_t stack_bytes);
  // Bytes start(threads, arena, stack_bytes) takes from an arena (its alignment aside): one
  // stack per worker, each rounded up to kArenaAlignment.
  static constexpr std::size_t stack_arena_bytes(unsigned threads, std::size_t stack_bytes) {
    return threads < 2 ? 0 : (threads - 1) * arena_round_up(stack_bytes);
  }
  // 1 before start.
  unsigned threads() const { return threads_; }

  // Runs task(context, i) for every i in [0, tasks) and returns when all have finished. Task i
  // runs on thread i % threads() (thread 0 is the caller), so with tasks <= threads() each task
  // has a thread of its own and may use that thread's scratch by its index. Not reentrant: a
  // task must not call run() on the same pool.
  void run(unsigned tasks, Task task, void* context);
  // Calls of run() since start (how a test or benchmark sees that work was split at all).
  unsigned long runs() const { return runs_; }

 private:
  unsigned threads_ = 1;
  unsigned long runs_ = 0;
#if !defined(FENNEC_NO_THREADS)
  // kInvalidArgument for a count outside [1, kMaxThreads], kFailedPrecondition when started.
  Status check_startable(unsigned threads) const;
  // Creates the workers; stacks null: the C library's own, else worker i's stack is the
  // stack_bytes at stacks + i * stride.
  Status start_workers(unsigned threads, unsigned char* stacks, std::size_t stride, std::size_t stack_bytes);
  static void* worker_main(void* self);
  void worker(unsigned index);
  void stop();

  pthread_t workers_[kMaxThreads - 1] = {};
  unsigned started_ = 0;  // workers running
  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t work_ = PTHREAD_COND_INITIALIZER;  // a run began, or stop
  pthread_cond_t done_ = PTHREAD_COND_INITIALIZER;  // the last worker finished its share
  // The run's task, written before generation_ is (release) and read after it (acquire).
  unsigned tasks_ = 0;
  Task task_ = nullptr;
  void* context_ = nullptr;
  std::atomic<unsigned long> generation_{0};  // runs begun
  std::atomic<unsigned> pending_{0};          // workers still busy with this run
  std::atomic<bool> stopping_{false};
#endif
};

}  // namespace fennec
