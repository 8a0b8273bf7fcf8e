// ISA selection. Tables other than `ref` come from lib/arch/ and are declared there; this file
// only knows which exist (FENNEC_HAVE_*_TABLE, set by lib/arch/arch.cmake).
#include "fennec/isa.hpp"

#include <cstdlib>
#include <cstring>

#include "kernels/kernel_table.hpp"

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

bool isa_supported(Isa isa) { return isa == Isa::kRef; }

Isa best_isa() { return Isa::kRef; }

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
  if (isa == Isa::kRef) return &ref_kernel_table();
  return nullptr;
}

}  // namespace kernels
}  // namespace fennec
