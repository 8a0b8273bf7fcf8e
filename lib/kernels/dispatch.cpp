// SPDX-License-Identifier: Apache-2.0
// ISA names, CPU support and the choice of kernel table (fennec/isa.hpp), all expanded from
// isa_list.def. Compiled with baseline flags; it takes the addresses of the tables this build
// compiled (FENNEC_HAVE_<ARCH>_TABLE, defined by fennec_add_arch_table() in lib/arch/) and never
// calls into one.
//
// x86 CPU detection uses the compiler's __builtin_cpu_supports, which checks both CPUID and the
// OS's XCR0 state: xsimd 8.1's own detection misreads sse2 and avx on several CPUs and has no
// XCR0 check, so it can report AVX on an OS that does not save the AVX registers. ARM tables
// are chosen at compile time: the one compiled runs.
#include "fennec/isa.hpp"

#include <cstdlib>
#include <cstring>

#include "kernels/arch_tables.hpp"
#include "kernels/isa_registry.hpp"
#include "kernels/kernel_table.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FENNEC_X86_CPU_HAS(feature) (__builtin_cpu_init(), __builtin_cpu_supports(feature))
#else
#define FENNEC_X86_CPU_HAS(feature) false
#endif

// The reference table is in every build.
#define FENNEC_HAVE_REF_TABLE 1

// FENNEC_DEFINED_TO_1(M) is true when the macro M is defined as 1 and false when it is not
// defined, as a constant expression (so the registry can name each table's macro in a column).
#define FENNEC_SECOND_ARG(ignored, value, ...) value
#define FENNEC_PLACEHOLDER_1 0,
#define FENNEC_DEFINED_TO_1(macro) FENNEC_DEFINED_TO_1_(macro)
#define FENNEC_DEFINED_TO_1_(value) FENNEC_DEFINED_TO_1__(FENNEC_PLACEHOLDER_##value)
#define FENNEC_DEFINED_TO_1__(arg_or_junk) FENNEC_SECOND_ARG(arg_or_junk true, false, )

namespace fennec {
namespace {

// Whether this build compiled each ISA's table, indexed by Isa.
constexpr bool kCompiled[] = {
#define FENNEC_ISA(enumerator, id, alias, rank, lanes, products, cpu_has, table, compiled) FENNEC_DEFINED_TO_1(compiled),
#include "kernels/isa_list.def"
#undef FENNEC_ISA
};
static_assert(kCompiled[static_cast<int>(Isa::kRef)], "the reference table is always compiled");

// No SIMD table in this build (bare metal, FENNEC_SIMD=OFF): only `ref` can ever be chosen.
constexpr bool only_ref_compiled() {
  for (std::size_t i = 0; i < kernels::kIsaCount; ++i)
    if (kCompiled[i] && kernels::kIsas[i].isa != Isa::kRef) return false;
  return true;
}

// Whether this CPU can run `isa`'s instructions (independent of what is compiled).
bool cpu_has(Isa isa) {
#define FENNEC_ISA(enumerator, id, alias, rank, lanes, products, cpu_has, table, compiled) \
  if (isa == Isa::enumerator) return cpu_has;
#include "kernels/isa_list.def"
#undef FENNEC_ISA
  return false;
}

// Order used by the FENNEC_ISA cap: a cap admits every ISA of equal or lower rank.
int isa_rank(Isa isa) {
  const kernels::IsaInfo* info = kernels::isa_info(isa);
  return info ? info->rank : 100;  // kAuto: no cap
}

}  // namespace

const char* isa_name(Isa isa) {
  if (isa == Isa::kAuto) return "auto";
  const kernels::IsaInfo* info = kernels::isa_info(isa);
  return info ? info->id : "unknown";
}

Result<Isa> parse_isa(const char* name) {
  if (name) {
    if (std::strcmp(name, "auto") == 0) return Isa::kAuto;
    for (const kernels::IsaInfo& info : kernels::kIsas)
      if (std::strcmp(name, info.id) == 0 || (*info.alias && std::strcmp(name, info.alias) == 0)) return info.isa;
  }
  // The accepted names, from the registry: "auto, ref, scalar, sse2, ...".
  char names[160] = "auto";
  std::size_t used = std::strlen(names);
  const auto append = [&](const char* s) {
    const std::size_t len = std::strlen(s);
    if (*s == '\0' || used + 2 + len >= sizeof(names)) return;
    std::memcpy(names + used, ", ", 2);
    std::memcpy(names + used + 2, s, len + 1);
    used += 2 + len;
  };
  for (const kernels::IsaInfo& info : kernels::kIsas) {
    append(info.id);
    append(info.alias);
  }
  return Status::error(StatusCode::kInvalidArgument, "unknown ISA '%s' (%s)", name ? name : "(null)", names);
}

bool isa_compiled(Isa isa) { return kernels::kernel_table_for(isa) != nullptr; }

bool isa_supported(Isa isa) { return isa_compiled(isa) && cpu_has(isa); }

Isa best_isa() {
  if constexpr (only_ref_compiled()) {
    // Only the reference is compiled (bare metal, FENNEC_SIMD=OFF): no cap can choose another, so
    // the environment is not read, and a firmware links neither getenv nor the ISA parser.
    return Isa::kRef;
  } else {
    // FENNEC_ISA as a rank cap; unset, empty, "auto" or unparsable means no cap. An opt-in ISA
    // (not f32 results, isa_list.def) is never reached by the rank order: naming it selects it
    // where the CPU runs it, and elsewhere caps at its rank like any cap this CPU cannot run.
    int cap = 100;
    const char* env = std::getenv("FENNEC_ISA");
    if (env != nullptr && *env != '\0') {
      Result<Isa> parsed = parse_isa(env);
      if (parsed.is_ok()) {
        const kernels::IsaInfo* info = kernels::isa_info(parsed.value());
        if (info && info->opt_in() && isa_supported(info->isa)) return info->isa;
        cap = isa_rank(parsed.value());
      }
    }
    Isa best = Isa::kRef;
    for (const kernels::IsaInfo& info : kernels::kIsas) {
      if (!info.opt_in() && info.rank <= cap && info.rank > isa_rank(best) && isa_supported(info.isa)) best = info.isa;
    }
    return best;
  }
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

// A table this build did not compile is only named in a discarded branch, so its missing
// definition is never referenced.
const KernelTable* kernel_table_for(Isa isa) {
#define FENNEC_ISA(enumerator, id, alias, rank, lanes, products, cpu_has, table, compiled) \
  if (isa == Isa::enumerator) {                                                \
    if constexpr (FENNEC_DEFINED_TO_1(compiled)) {                             \
      return &table;                                                           \
    } else {                                                                   \
      return nullptr;                                                          \
    }                                                                          \
  }
#include "kernels/isa_list.def"
#undef FENNEC_ISA
  return nullptr;
}

}  // namespace kernels
}  // namespace fennec
