# SPDX-License-Identifier: Apache-2.0
# Per-arch kernel tables, included from lib/CMakeLists.txt when FENNEC_SIMD is ON.
#
# x86-64: sse2 (baseline flags), avx2fma (-mavx2 -mfma), avx512 (-mavx512f/cd/dq/bw) are all
#   compiled into one library; isa.cpp picks one at run time from __builtin_cpu_supports.
# ARM: the one NEON flavour the compiler targets (neon64 on AArch64; neon on ARMv7 built with
#   -mfpu=neon*), chosen here at configure time.
# Anything else (Cortex-M, other CPUs): no table; the scalar reference runs.
# Only the files in lib/arch/ get -m flags; FENNEC_HAVE_<ARCH>_TABLE tells isa.cpp what exists.

set(_fennec_arch_dir ${CMAKE_CURRENT_LIST_DIR})
set(_fennec_arch_sources "")
set(_fennec_arch_defs "")
include(CheckCXXSourceCompiles)
include(CheckCXXCompilerFlag)
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _fennec_proc)

if(_fennec_proc MATCHES "^(x86_64|amd64|x64|x86-64)$" AND CMAKE_SIZEOF_VOID_P EQUAL 8)
  # Unoptimized (Debug) per-arch objects would define arch-independent xsimd helpers
  # (xsimd::constants::*<float>, bit_cast, the avx2 registers of the avx512 batches...) as weak
  # symbols compiled with that arch's flags: the linker may then hand the AVX-512 copy to the SSE2
  # path (an ODR trap: the linker may keep this object's AVX copy of a shared inline function for
  # baseline callers; checked with nm: 200+ such symbols at -O0, none at -O2).
  # So these three files are always optimized.
  set(_x86_opt $<$<CONFIG:Debug>:-O2>)
  set_source_files_properties(${_fennec_arch_dir}/x86/sse2.cpp PROPERTIES COMPILE_OPTIONS "${_x86_opt}")
  set(_avx2_flags -mavx2 -mfma ${_x86_opt})
  # GCC 12's avx512fintrin.h builds _mm512_undefined_* as `__m512 __Y = __Y;`, which trips
  # -W(maybe-)uninitialized once xsimd's exp/tanh inline it (a GCC false positive; the plain
  # form appears under the sanitizer build's inlining).
  set(_avx512_flags -mavx512f -mavx512cd -mavx512dq -mavx512bw -Wno-maybe-uninitialized -Wno-uninitialized ${_x86_opt})
  list(APPEND _fennec_arch_sources ${_fennec_arch_dir}/x86/sse2.cpp)
  list(APPEND _fennec_arch_defs FENNEC_HAVE_SSE2_TABLE=1)
  check_cxx_compiler_flag("-mavx2 -mfma" FENNEC_CXX_HAS_AVX2)
  if(FENNEC_CXX_HAS_AVX2)
    list(APPEND _fennec_arch_sources ${_fennec_arch_dir}/x86/avx2fma.cpp)
    set_source_files_properties(${_fennec_arch_dir}/x86/avx2fma.cpp PROPERTIES COMPILE_OPTIONS "${_avx2_flags}")
    list(APPEND _fennec_arch_defs FENNEC_HAVE_AVX2FMA_TABLE=1)
  endif()
  check_cxx_compiler_flag("-mavx512f -mavx512cd -mavx512dq -mavx512bw" FENNEC_CXX_HAS_AVX512)
  if(FENNEC_CXX_HAS_AVX512)
    list(APPEND _fennec_arch_sources ${_fennec_arch_dir}/x86/avx512.cpp)
    set_source_files_properties(${_fennec_arch_dir}/x86/avx512.cpp PROPERTIES COMPILE_OPTIONS "${_avx512_flags}")
    list(APPEND _fennec_arch_defs FENNEC_HAVE_AVX512_TABLE=1)
  endif()
elseif(_fennec_proc MATCHES "^(aarch64|arm64)")
  list(APPEND _fennec_arch_sources ${_fennec_arch_dir}/arm/neon64.cpp)
  list(APPEND _fennec_arch_defs FENNEC_HAVE_NEON64_TABLE=1)
elseif(_fennec_proc MATCHES "^arm")
  # ARMv7-A with NEON only if the toolchain flags enable it (-mfpu=neon*); Cortex-M has none.
  check_cxx_source_compiles("
    #if !defined(__ARM_NEON) && !defined(__ARM_NEON__)
    #error no NEON
    #endif
    int main() { return 0; }" FENNEC_CXX_TARGETS_NEON)
  if(FENNEC_CXX_TARGETS_NEON)
    list(APPEND _fennec_arch_sources ${_fennec_arch_dir}/arm/neon.cpp)
    list(APPEND _fennec_arch_defs FENNEC_HAVE_NEON_TABLE=1)
  endif()
endif()

# Debian's xsimd 8.1 CMake package is broken (links a non-existent xtl, not found when cross
# compiling): use the headers directly. Looked for only when a table is
# compiled (a Cortex-M build needs no xsimd and must not see host headers).
if(_fennec_arch_sources)
  find_path(XSIMD_INCLUDE_DIR xsimd/xsimd.hpp)
  if(NOT XSIMD_INCLUDE_DIR)
    message(WARNING "fennec: xsimd headers not found; only the scalar reference kernels are built")
    set(_fennec_arch_sources "")
    set(_fennec_arch_defs "")
  endif()
endif()

if(_fennec_arch_sources)
  if(NOT TARGET fennec_xsimd)
    add_library(fennec_xsimd INTERFACE)
    target_include_directories(fennec_xsimd SYSTEM INTERFACE ${XSIMD_INCLUDE_DIR})
    # xsimd >= 9 reads this: no code may silently fall back to the compile-time default arch.
    # (8.1 has no such hook; every Fennec kernel names its Arch explicitly anyway.)
    target_compile_definitions(fennec_xsimd INTERFACE XSIMD_DEFAULT_ARCH=xsimd::unsupported)
  endif()
  target_sources(fennec PRIVATE ${_fennec_arch_sources})
  target_link_libraries(fennec PRIVATE $<BUILD_INTERFACE:fennec_xsimd>)
  target_compile_definitions(fennec PRIVATE ${_fennec_arch_defs})
  message(STATUS "fennec: SIMD kernel tables: ${_fennec_arch_defs}")
else()
  message(STATUS "fennec: no SIMD kernel table for '${CMAKE_SYSTEM_PROCESSOR}'; scalar reference only")
endif()
