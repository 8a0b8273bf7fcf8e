// SPDX-License-Identifier: Apache-2.0
// Every allocator entry point of the firmware images, wrapped (-Wl,--wrap: the symbol list in
// CMakeLists.txt) so a firmware counts the calls made by any object in the image: Fennec, the
// firmware, newlib. Each wrapper counts, then does the real work (operator new/delete on the
// malloc family: no C++ runtime library is linked; newlib nano has no posix_memalign).
#include "heap_count.hpp"

#include <cstddef>

extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void __real_free(void*);
void* __real__malloc_r(void*, std::size_t);
void* __real__calloc_r(void*, std::size_t, std::size_t);
void* __real__realloc_r(void*, void*, std::size_t);
void __real__free_r(void*, void*);
void* __real_memalign(std::size_t, std::size_t);
void* __real_aligned_alloc(std::size_t, std::size_t);
char* __real_strdup(const char*);
char* __real_strndup(const char*, std::size_t);
}


namespace {
volatile unsigned g_heap_calls = 0;
void count_heap_call() { g_heap_calls = g_heap_calls + 1; }
}  // namespace

unsigned heap_calls() { return g_heap_calls; }

extern "C" {
void* __wrap_malloc(std::size_t n) { count_heap_call(); return __real_malloc(n); }
void* __wrap_calloc(std::size_t n, std::size_t s) { count_heap_call(); return __real_calloc(n, s); }
void* __wrap_realloc(void* p, std::size_t n) { count_heap_call(); return __real_realloc(p, n); }
void __wrap_free(void* p) { count_heap_call(); __real_free(p); }
void* __wrap__malloc_r(void* r, std::size_t n) { count_heap_call(); return __real__malloc_r(r, n); }
void* __wrap__calloc_r(void* r, std::size_t n, std::size_t s) { count_heap_call(); return __real__calloc_r(r, n, s); }
void* __wrap__realloc_r(void* r, void* p, std::size_t n) { count_heap_call(); return __real__realloc_r(r, p, n); }
void __wrap__free_r(void* r, void* p) { count_heap_call(); __real__free_r(r, p); }
void* __wrap_memalign(std::size_t a, std::size_t n) { count_heap_call(); return __real_memalign(a, n); }
void* __wrap_aligned_alloc(std::size_t a, std::size_t n) { count_heap_call(); return __real_aligned_alloc(a, n); }
int __wrap_posix_memalign(void** out, std::size_t a, std::size_t n) {
  count_heap_call();
  *out = __real_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
char* __wrap_strdup(const char* s) { count_heap_call(); return __real_strdup(s); }
char* __wrap_strndup(const char* s, std::size_t n) { count_heap_call(); return __real_strndup(s, n); }
// operator new (size), new (size, nothrow), new (size, align) and their array forms; delete
// (ptr), delete (ptr, size), delete (ptr, align), delete (ptr, size, align) and array forms.
void* __wrap__Znwj(std::size_t n) { count_heap_call(); return __real_malloc(n); }
void* __wrap__Znaj(std::size_t n) { count_heap_call(); return __real_malloc(n); }
void* __wrap__ZnwjRKSt9nothrow_t(std::size_t n, const void*) { count_heap_call(); return __real_malloc(n); }
void* __wrap__ZnajRKSt9nothrow_t(std::size_t n, const void*) { count_heap_call(); return __real_malloc(n); }
void* __wrap__ZnwjSt11align_val_t(std::size_t n, std::size_t a) { count_heap_call(); return __real_memalign(a, n); }
void* __wrap__ZnajSt11align_val_t(std::size_t n, std::size_t a) { count_heap_call(); return __real_memalign(a, n); }
void __wrap__ZdlPv(void* p) { count_heap_call(); __real_free(p); }
void __wrap__ZdaPv(void* p) { count_heap_call(); __real_free(p); }
void __wrap__ZdlPvj(void* p, std::size_t) { count_heap_call(); __real_free(p); }
void __wrap__ZdaPvj(void* p, std::size_t) { count_heap_call(); __real_free(p); }
void __wrap__ZdlPvSt11align_val_t(void* p, std::size_t) { count_heap_call(); __real_free(p); }
void __wrap__ZdaPvSt11align_val_t(void* p, std::size_t) { count_heap_call(); __real_free(p); }
void __wrap__ZdlPvjSt11align_val_t(void* p, std::size_t, std::size_t) { count_heap_call(); __real_free(p); }
void __wrap__ZdaPvjSt11align_val_t(void* p, std::size_t, std::size_t) { count_heap_call(); __real_free(p); }
}

