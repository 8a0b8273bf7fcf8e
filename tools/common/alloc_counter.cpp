// SPDX-License-Identifier: Apache-2.0
#include "common/alloc_counter.hpp"

#include "common/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FENNEC_TOOLS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define FENNEC_TOOLS_SANITIZED 1
#endif
#endif

// Interpose malloc itself only where the real one is reachable by another name (glibc) and no
// sanitizer runtime owns it.
#if defined(__GLIBC__) && !defined(FENNEC_TOOLS_SANITIZED)
#define FENNEC_TOOLS_COUNT_MALLOC 1
#endif

namespace {
std::atomic<std::uint64_t> g_count{0};
std::atomic<std::uint64_t> g_start{0};

inline void note() { g_count.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

namespace fennec_tools {
std::uint64_t heap_calls() { return g_count.load(std::memory_order_relaxed); }
void alloc_counting_start() { g_start.store(heap_calls()); }
std::uint64_t alloc_counting_stop() { return heap_calls() - g_start.load(); }
bool alloc_counting_covers_malloc() {
#if defined(FENNEC_TOOLS_COUNT_MALLOC)
  return true;
#else
  return false;
#endif
}
}  // namespace fennec_tools

extern "C" {
int heap_counter_available(void) { return fennec_tools::alloc_counting_covers_malloc() ? 1 : 0; }
void heap_counter_start(void) { fennec_tools::alloc_counting_start(); }
unsigned long heap_counter_stop(void) { return static_cast<unsigned long>(fennec_tools::alloc_counting_stop()); }
}

#if defined(FENNEC_TOOLS_COUNT_MALLOC)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t m) {
  note();
  return __libc_calloc(n, m);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) {
  note();
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  note();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, std::size_t a, std::size_t n) {
  note();
  if (a < sizeof(void*) || (a & (a - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(a, n);
  if (!p && n) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}
// operator new below calls malloc, which counts.
#define FENNEC_TOOLS_NOTE_NEW()
#else
#define FENNEC_TOOLS_NOTE_NEW() note()
#endif

namespace {
void* counted_new(std::size_t n) {
  FENNEC_TOOLS_NOTE_NEW();
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void* counted_new_aligned(std::size_t n, std::align_val_t al) {
  FENNEC_TOOLS_NOTE_NEW();
  std::size_t a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (posix_memalign(&p, a, n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
// Every form is replaced: a form left to the runtime (under ASan, the sanitizer's) would
// allocate memory that the replaced operator delete below then frees with the wrong allocator.
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_new_aligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_new_aligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
