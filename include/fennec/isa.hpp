// SPDX-License-Identifier: Apache-2.0
// Instruction sets Fennec's kernels are compiled for, and which one runs.
//
// x86-64 builds carry sse2, avx2fma, avx512, avx512vnni and avx512bf16 kernel tables and pick the
// best f32 one the CPU supports when a model is bound; ARM builds carry the one NEON table they
// were compiled for; every build carries `ref`, the scalar reference. The environment variable
// FENNEC_ISA=scalar|ref|sse2|avx2|avx512|avx512vnni|neon|neon64 caps the automatic choice (for tests and
// benchmarks); a cap above what the CPU supports is ignored.
//
// avx512bf16 is opt-in: its GEMMs round A and B to bf16 (round to nearest even) and accumulate
// in f32, so its results are not f32 results (about 3 significant decimal digits per product).
// Neither kAuto nor any cap ever selects it; it runs only when asked for, by
// ModelOptions::isa = Isa::kAvx512Bf16 (resolve_isa fails with kUnsupported on a CPU without
// AVX512_BF16) or by FENNEC_ISA=avx512bf16 (on a CPU without it, a cap at avx512vnni's level).
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
  kAvx512Bf16,  // opt-in: AVX-512 (as kAvx512) whose f32 GEMMs multiply in bf16 (vdpbf16ps)
};

// "auto", "ref", "sse2", "avx2fma", "avx512", "neon", "neon64", "avx512vnni", "avx512bf16".
const char* isa_name(Isa isa);
// Accepts the names above plus "scalar" (= ref), "avx2" (= avx2fma), "vnni" (= avx512vnni) and
// "bf16" (= avx512bf16).
Result<Isa> parse_isa(const char* name);

// Whether this build contains kernels for `isa` (independent of the CPU).
bool isa_compiled(Isa isa);
// Whether this build contains kernels for `isa` and this CPU can run them.
bool isa_supported(Isa isa);
// The ISA kAuto resolves to on this machine, after the FENNEC_ISA cap (never an opt-in ISA
// unless FENNEC_ISA names it).
Isa best_isa();
// Resolve a request: kAuto -> best_isa(); an unsupported ISA -> kUnsupported with a message.
Result<Isa> resolve_isa(Isa requested);

}  // namespace fennec
