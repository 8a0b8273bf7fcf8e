// SPDX-License-Identifier: Apache-2.0
// isa_list.def as data: every ISA's enumerator, id, alias, rank, lane count and products, in enumerator
// order. What the CPU runs and which tables exist stay in dispatch.cpp (fennec/isa.hpp's API).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/isa.hpp"

namespace fennec::kernels {

// What a table's GEMMs multiply (the products column of isa_list.def).
enum class GemmProducts : std::uint8_t {
  kF32,   // f32 operands: results within the f32 reference's bound
  kBf16,  // A and B rounded to bf16 (round to nearest even), f32 accumulation
};

struct IsaInfo {
  Isa isa;
  const char* id;
  const char* alias;  // "" for none
  // Byte-sized: the table is in every image, the Cortex-M4 ones whose flash budget counts bytes.
  std::uint8_t rank;
  std::uint8_t lanes;
  GemmProducts products;
  // Only f32 tables are chosen automatically; the others must be named.
  constexpr bool opt_in() const { return products != GemmProducts::kF32; }
};

inline constexpr IsaInfo kIsas[] = {
#define FENNEC_ISA(enumerator, id, alias, rank, lanes, products, cpu_has, table, compiled) \
  {Isa::enumerator, id, alias, rank, lanes, GemmProducts::products},
#include "kernels/isa_list.def"
#undef FENNEC_ISA
};
inline constexpr std::size_t kIsaCount = sizeof(kIsas) / sizeof(kIsas[0]);

// Rows are in enumerator order (kRef = 0), so an Isa indexes kIsas.
constexpr bool isa_rows_in_enum_order() {
  for (std::size_t i = 0; i < kIsaCount; ++i)
    if (static_cast<std::size_t>(kIsas[i].isa) != i) return false;
  return true;
}
static_assert(isa_rows_in_enum_order(), "isa_list.def rows must follow the fennec::Isa enumerators");

// The registry row of `isa`, or null for kAuto and values outside the enum.
constexpr const IsaInfo* isa_info(Isa isa) {
  const int i = static_cast<int>(isa);
  return i >= 0 && static_cast<std::size_t>(i) < kIsaCount ? &kIsas[i] : nullptr;
}

}  // namespace fennec::kernels
