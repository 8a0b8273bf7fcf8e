// SPDX-License-Identifier: Apache-2.0
// ISA selection. Tables other than `ref` come from lib/arch/ and are declared in
// kernels/arch_tables.hpp; this file only knows which exist (FENNEC_HAVE_*_TABLE, set by
// lib/arch/arch.cmake). It is compiled with baseline flags and never calls into a table.
//
// x86 CPU detection uses the compiler's __builtin_cpu_supports, which checks both CPUID and the
// OS's XCR0 state: xsimd 8.1's own detection misreads sse2 and avx on several CPUs and has no
// XCR0 check, so it can report AVX on an OS that does not save the AVX registers. ARM tables
// are chosen at compile time: the one compiled runs.
#include "fennec/isa.hpp"

#include <cstdlib>
#include <cstring>

#include "kernels/arch_tables.hpp"
#include "kernels/kernel_table.hpp"

// No SIMD table in this build (bare metal, FENNEC_SIMD=OFF): only `ref` can ever be chosen.
#if !defined(FENNEC_HAVE_SSE2_TABLE) && !defined(FENNEC_HAVE_AVX2FMA_TABLE) && \
    !defined(FENNEC_HAVE_AVX512_TABLE) && !defined(FENNEC_HAVE_NEON_TABLE) &&    \
    !defined(FENNEC_HAVE_NEON64_TABLE)
#define FENNEC_ONLY_REF_TABLE 1
#else
#define FENNEC_ONLY_REF_TABLE 0
#endif

namespace fennec {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kRef: return "ref";
    case Isa::kSse2: return "sse2";
    case Isa::kAvx2Fma: return "avx2fma";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
    case Isa::kNeon64: return "neon64";
  }
  return "unknown";
}

Result<Isa> parse_isa(const char* name) {
  if (name) {
    if (std::strcmp(name, "scalar") == 0) return Isa::kRef;
    if (std::strcmp(name, "avx2") == 0) return Isa::kAvx2Fma;
    for (int i = -1; i <= static_cast<int>(Isa::kNeon64); ++i) {
      if (std::strcmp(name, isa_name(static_cast<Isa>(i))) == 0) return static_cast<Isa>(i);
    }
  }
  return Status::error(StatusCode::kInvalidArgument,
                       "unknown ISA '%s' (auto, scalar, ref, sse2, avx2, avx2fma, avx512, neon, neon64)",
                       name ? name : "(null)");
}

bool isa_compiled(Isa isa) { return kernels::kernel_table_for(isa) != nullptr; }

namespace {

// Whether this CPU can run `isa`'s instructions (independent of what is compiled).
bool cpu_has(Isa isa) {
  switch (isa) {
    case Isa::kRef: return true;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    case Isa::kSse2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("sse2");
    case Isa::kAvx2Fma:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      // The table is built for xsimd::avx512bw, compiled with -mavx512f/cd/dq/bw.
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#endif
    // NEON tables exist only when the compiler already targets NEON for the whole build.
    case Isa::kNeon: return true;
    case Isa::kNeon64: return true;
    default: return false;
  }
}

#if !FENNEC_ONLY_REF_TABLE
// Order used by the FENNEC_ISA cap: a cap admits every ISA of equal or lower rank.
int isa_rank(Isa isa) {
  switch (isa) {
    case Isa::kRef: return 0;
    case Isa::kSse2: return 1;
    case Isa::kAvx2Fma: return 2;
    case Isa::kAvx512: return 3;
    case Isa::kNeon: return 1;
    case Isa::kNeon64: return 1;
    default: return 100;  // kAuto: no cap
  }
}

// FENNEC_ISA as a rank cap; unset, empty, "auto" or unparsable means no cap.
int env_cap_rank() {
  const char* env = std::getenv("FENNEC_ISA");
  if (env == nullptr || *env == '\0') return 100;
  Result<Isa> cap = parse_isa(env);
  if (!cap.is_ok()) return 100;
  return isa_rank(cap.value());
}
#endif

}  // namespace

bool isa_supported(Isa isa) { return isa_compiled(isa) && cpu_has(isa); }

Isa best_isa() {
#if FENNEC_ONLY_REF_TABLE
  // Only the reference is compiled (bare metal, FENNEC_SIMD=OFF): no cap can choose another, so
  // the environment is not read, and a firmware links neither getenv nor the ISA parser.
  return Isa::kRef;
#else
  const int cap = env_cap_rank();
  Isa best = Isa::kRef;
  const Isa candidates[] = {Isa::kSse2, Isa::kAvx2Fma, Isa::kAvx512, Isa::kNeon, Isa::kNeon64};
  for (Isa isa : candidates) {
    if (isa_rank(isa) <= cap && isa_rank(isa) > isa_rank(best) && isa_supported(isa)) best = isa;
  }
  return best;
#endif
}

Result<Isa> resolve_isa(Isa requested) {
  if (requested == Isa::kAuto) return best_isa();
  if (!isa_compiled(requested)) {
    return Status::error(StatusCode::kUnsupported, "ISA %s is not compiled into this build",
                         isa_name(requested));
  }
  if (!isa_supported(requested)) {
    return Status::error(StatusCode::kUnsupported, "this CPU cannot run the %s kernels",
                         isa_name(requested));
  }
  return requested;
}

namespace kernels {

const KernelTable* kernel_table_for(Isa isa) {
  switch (isa) {
    case Isa::kRef: return &ref_kernel_table();
#if defined(FENNEC_HAVE_SSE2_TABLE)
    case Isa::kSse2: return &sse2_kernel_table;
#endif
#if defined(FENNEC_HAVE_AVX2FMA_TABLE)
    case Isa::kAvx2Fma: return &avx2fma_kernel_table;
#endif
#if defined(FENNEC_HAVE_AVX512_TABLE)
    case Isa::kAvx512: return &avx512_kernel_table;
#endif
#if defined(FENNEC_HAVE_NEON_TABLE)
    case Isa::kNeon: return &neon_kernel_table;
#endif
#if defined(FENNEC_HAVE_NEON64_TABLE)
    case Isa::kNeon64: return &neon64_kernel_table;
#endif
    default: return nullptr;
  }
}

}  // namespace kernels
}  // namespace fennec
