// SPDX-License-Identifier: Apache-2.0
#include "fennec/thread_pool.hpp"

#if !defined(FENNEC_NO_THREADS)
#include <unistd.h>
#endif

namespace fennec {

#if defined(FENNEC_NO_THREADS)

ThreadPool::~ThreadPool() = default;

Status ThreadPool::start(unsigned threads) {
  FENNEC_ENSURE(threads >= 1 && threads <= kMaxThreads, StatusCode::kInvalidArgument,
                "thread pool: %u threads outside [1, %u]", threads, kMaxThreads);
  FENNEC_ENSURE(threads == 1, StatusCode::kUnsupported,
                "thread pool: this build has no threads (FENNEC_THREADS=OFF): use 1");
  return Status::ok();
}

Status ThreadPool::start(unsigned threads, Arena&, std::size_t) { return start(threads); }

void ThreadPool::run(unsigned tasks, Task task, void* context) {
  ++runs_;
  for (unsigned i = 0; i < tasks; ++i) task(context, i);
}

#else

namespace {

struct WorkerStart {
  ThreadPool* pool;
  unsigned index;
};

// Polls before sleeping: 4,000 pause (x86) or yield (ARM) instructions, from tens to a few
// hundred microseconds by CPU; long enough to span the gap between the GEMMs of one step, short
// enough that an idle pool does not keep a core busy.
constexpr int kSpins = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__ARM_ARCH) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  pthread_mutex_lock(&mutex_);
  stopping_.store(true, std::memory_order_release);
  pthread_cond_broadcast(&work_);
  pthread_mutex_unlock(&mutex_);
  for (unsigned i = 0; i < started_; ++i) pthread_join(workers_[i], nullptr);
  started_ = 0;
  stopping_.store(false, std::memory_order_relaxed);
  threads_ = 1;
}

Status ThreadPool::start(unsigned threads) { return start_workers(threads, nullptr, 0, 0); }

Status ThreadPool::start(unsigned threads, Arena& arena, std::size_t stack_bytes) {
  if (threads == 1) return start_workers(threads, nullptr, 0, 0);
  const long minimum = sysconf(_SC_THREAD_STACK_MIN);
  FENNEC_ENSURE(minimum <= 0 || stack_bytes >= static_cast<std::size_t>(minimum), StatusCode::kInvalidArgument,
                "thread pool: worker stacks of %zu bytes are below this system's minimum, %ld bytes "
                "(PTHREAD_STACK_MIN)",
                stack_bytes, minimum);
  // Checked before the arena is touched, so that a refused count leaves it as it was.
  FENNEC_RETURN_IF_ERROR(check_startable(threads));
  const Arena::Mark mark = arena.mark();
  Result<void*> stacks = arena.allocate(stack_arena_bytes(threads, stack_bytes), "thread pool worker stacks");
  if (!stacks.is_ok()) return stacks.status();
  const Status s = start_workers(threads, static_cast<unsigned char*>(stacks.value()), arena_round_up(stack_bytes),
                                 stack_bytes);
  if (!s.is_ok()) arena.rewind(mark);
  return s;
}

Status ThreadPool::check_startable(unsigned threads) const {
  FENNEC_ENSURE(threads >= 1 && threads <= kMaxThreads, StatusCode::kInvalidArgument,
                "thread pool: %u threads outside [1, %u]", threads, kMaxThreads);
  FENNEC_ENSURE(started_ == 0 && threads_ == 1, StatusCode::kFailedPrecondition,
                "thread pool: already started with %u threads", threads_);
  return Status::ok();
}

Status ThreadPool::start_workers(unsigned threads, unsigned char* stacks, std::size_t stride, std::size_t stack_bytes) {
  FENNEC_RETURN_IF_ERROR(check_startable(threads));
  // Each worker reads its index from here before start() returns (it waits for all of them).
  WorkerStart starts[kMaxThreads - 1];
  unsigned ready = 0;
  int refused = 0;
  for (unsigned i = 0; i + 1 < threads && refused == 0; ++i) {
    starts[i] = WorkerStart{this, i + 1};
    pthread_attr_t attr;
    pthread_attr_t* with = nullptr;
    if (stacks) {
      refused = pthread_attr_init(&attr);
      if (refused == 0) {
        with = &attr;
        refused = pthread_attr_setstack(&attr, stacks + i * stride, stack_bytes);
      }
    }
    if (refused == 0) refused = pthread_create(&workers_[i], with, &ThreadPool::worker_main, &starts[i]);
    if (with) pthread_attr_destroy(with);
    if (refused == 0) ++ready;
  }
  started_ = ready;
  if (refused != 0) {
    stop();
    return Status::error(StatusCode::kOutOfMemory,
                         "thread pool: the system refused thread %u of %u (pthread error %d)",
                         ready + 2, threads, refused);
  }
  threads_ = threads;
  // One empty run: every worker has then read its WorkerStart and is waiting for work.
  run(threads, [](void*, unsigned) {}, nullptr);
  runs_ = 0;
  return Status::ok();
}

void* ThreadPool::worker_main(void* arg) {
  const WorkerStart s = *static_cast<WorkerStart*>(arg);
  s.pool->worker(s.index);
  return nullptr;
}

void ThreadPool::worker(unsigned index) {
  unsigned long seen = 0;
  for (;;) {
    unsigned long now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpins && !stopping_.load(std::memory_order_relaxed); ++spin) {
      cpu_relax();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      // Nothing for a while: sleep. The check under the mutex pairs with run(), which bumps the
      // generation before it takes the mutex to broadcast, so no wake-up is lost.
      pthread_mutex_lock(&mutex_);
      while ((now = generation_.load(std::memory_order_acquire)) == seen &&
             !stopping_.load(std::memory_order_acquire))
        pthread_cond_wait(&work_, &mutex_);
      pthread_mutex_unlock(&mutex_);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = now;
    const unsigned tasks = tasks_, threads = started_ + 1;
    for (unsigned i = index; i < tasks; i += threads) task_(context_, i);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&mutex_);
      pthread_cond_signal(&done_);
      pthread_mutex_unlock(&mutex_);
    }
  }
}

void ThreadPool::run(unsigned tasks, Task task, void* context) {
  ++runs_;
  if (started_ == 0) {
    for (unsigned i = 0; i < tasks; ++i) task(context, i);
    return;
  }
  tasks_ = tasks;
  task_ = task;
  context_ = context;
  pending_.store(started_, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  pthread_mutex_lock(&mutex_);
  pthread_cond_broadcast(&work_);
  pthread_mutex_unlock(&mutex_);
  const unsigned threads = started_ + 1;
  for (unsigned i = 0; i < tasks; i += threads) task(context, i);
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0 && spin < kSpins; ++spin) cpu_relax();
  if (pending_.load(std::memory_order_acquire) != 0) {
    pthread_mutex_lock(&mutex_);
    while (pending_.load(std::memory_order_acquire) != 0) pthread_cond_wait(&done_, &mutex_);
    pthread_mutex_unlock(&mutex_);
  }
}

#endif

}  // namespace fennec
