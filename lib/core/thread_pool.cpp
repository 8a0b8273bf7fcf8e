// SPDX-License-Identifier: Apache-2.0
#include "fennec/thread_pool.hpp"

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

}  // namespace

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  pthread_mutex_lock(&mutex_);
  stopping_ = true;
  pthread_cond_broadcast(&work_);
  pthread_mutex_unlock(&mutex_);
  for (unsigned i = 0; i < started_; ++i) pthread_join(workers_[i], nullptr);
  started_ = 0;
  stopping_ = false;
  threads_ = 1;
}

Status ThreadPool::start(unsigned threads) {
  FENNEC_ENSURE(threads >= 1 && threads <= kMaxThreads, StatusCode::kInvalidArgument,
                "thread pool: %u threads outside [1, %u]", threads, kMaxThreads);
  FENNEC_ENSURE(started_ == 0 && threads_ == 1, StatusCode::kFailedPrecondition,
                "thread pool: already started with %u threads", threads_);
  // Each worker reads its index from here before start() returns (it waits for all of them).
  WorkerStart starts[kMaxThreads - 1];
  unsigned ready = 0;
  int refused = 0;
  for (unsigned i = 0; i + 1 < threads && refused == 0; ++i) {
    starts[i] = WorkerStart{this, i + 1};
    refused = pthread_create(&workers_[i], nullptr, &ThreadPool::worker_main, &starts[i]);
    if (refused == 0) ++ready;
  }
  started_ = ready;
  if (refused != 0) {
    stop();
    return Status::error(StatusCode::kOutOfMemory,
                         "thread pool: the system refused thread %u of %u (pthread_create error %d)",
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
  pthread_mutex_lock(&mutex_);
  for (;;) {
    while (generation_ == seen && !stopping_) pthread_cond_wait(&work_, &mutex_);
    if (stopping_) break;
    seen = generation_;
    const unsigned tasks = tasks_, threads = started_ + 1;
    const Task task = task_;
    void* const context = context_;
    pthread_mutex_unlock(&mutex_);
    for (unsigned i = index; i < tasks; i += threads) task(context, i);
    pthread_mutex_lock(&mutex_);
    if (--pending_ == 0) pthread_cond_signal(&done_);
  }
  pthread_mutex_unlock(&mutex_);
}

void ThreadPool::run(unsigned tasks, Task task, void* context) {
  ++runs_;
  if (started_ == 0) {
    for (unsigned i = 0; i < tasks; ++i) task(context, i);
    return;
  }
  pthread_mutex_lock(&mutex_);
  tasks_ = tasks;
  task_ = task;
  context_ = context;
  pending_ = started_;
  ++generation_;
  pthread_cond_broadcast(&work_);
  pthread_mutex_unlock(&mutex_);
  const unsigned threads = started_ + 1;
  for (unsigned i = 0; i < tasks; i += threads) task(context, i);
  pthread_mutex_lock(&mutex_);
  while (pending_ != 0) pthread_cond_wait(&done_, &mutex_);
  pthread_mutex_unlock(&mutex_);
}

#endif

}  // namespace fennec
