// SPDX-License-Identifier: Apache-2.0
// Instruction sets Fennec's kernels are compiled for, and which one runs.
//
// x86-64 builds carry sse2, avx2fma, avx512 and avx512vnni kernel tables and pick the best one the CPU
// supports when a model is bound; ARM builds carry the one NEON table they were compiled for;
// every build carries `ref`, the scalar reference. The environment variable
// FENNEC_ISA=scalar|ref|sse2|avx2|avx512|avx512vnni|neon|neon64 caps the automatic choice (for tests and
// benchmarks); a cap above what the CPU supports is ignored.
#pragma once

#include <cstddef>

#include "fennec/status.hpp"

namespace fennec {

enum class Isa : int {
  kAuto = -1,  // pick the best available (honours FENNEC_ISA)
  kRef = 0,    // scalar reference
  kSse2,
  kAvx2Fma,
  kAvx512,
  kNeon,    // ARMv7 NEON
  kNeon64,  // AArch64 Advanced SIMD
  kAvx512Vnni,  // AVX-512 (as kAvx512) whose int8 kernels use VNNI (vpdpbusd)
};

// "auto", "ref", "sse2", "avx2fma", "avx512", "neon", "neon64", "avx512vnni".
const char* isa_name(Isa isa);
// Accepts the names above plus "scalar" (= ref), "avx2" (= avx2fma) and "vnni" (= avx512vnni).
Result<Isa> parse_isa(const char* name);

// Whether this build contains kernels for `isa` (independent of the CPU).
bool isa_compiled(Isa isa);
// Whether this build contains kernels for `isa` and this CPU can run them.
bool isa_supported(Isa isa);
// The ISA kAuto resolves to on this machine, after the FENNEC_ISA cap.
Isa best_isa();
// Resolve a request: kAuto -> best_isa(); an unsupported ISA -> kUnsupported with a message.
Result<Isa> resolve_isa(Isa requested);

}  // namespace fennec
