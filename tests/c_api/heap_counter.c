// SPDX-License-Identifier: Apache-2.0
/* The C heap counter of heap_counter.h: glibc's allocation entry points replaced by counting
 * wrappers (the same technique as the C++ allocation tests). */
#include "heap_counter.h"

#include <stddef.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HEAP_COUNTER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HEAP_COUNTER_SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && !defined(HEAP_COUNTER_SANITIZED)
#define HEAP_COUNTER_ACTIVE 1
#endif

static volatile int g_counting = 0;
static volatile unsigned long g_calls = 0;

#ifdef HEAP_COUNTER_ACTIVE
static void count(void) {
  if (g_counting) g_calls = g_calls + 1;
}

void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  void* p;
  count();
  p = __libc_memalign(a, n);
  if (!p) return 12; /* ENOMEM */
  *out = p;
  return 0;
}
int heap_counter_available(void) { return 1; }
#else
int heap_counter_available(void) { return 0; }
#endif

void heap_counter_start(void) {
  g_calls = 0;
  g_counting = 1;
}

unsigned long heap_counter_stop(void) {
  g_counting = 0;
  return g_calls;
}
