// SPDX-License-Identifier: Apache-2.0
// Builds a KernelTable for one xsimd Arch from kernel_list.def. Included only by the per-arch
// translation units in lib/arch/, each of which defines one table as a constant-initialized
// object (no code runs to build it, so nothing compiled with that arch's flags executes before
// the CPU has been checked).
//
// Every id in kernel_list.def must name a functor simd::<id> with
// `template <class Arch> R operator()(Arch, Args...) const`; a missing one fails to compile.
#pragma once

#include "kernels/elementwise_impl.hpp"
#include "kernels/gemm_impl.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/norm_impl.hpp"
#include "kernels/optim_impl.hpp"
#include "kernels/qgemm_impl.hpp"
#include "kernels/quantize_impl.hpp"

namespace fennec::kernels::simd {

// A plain function with the table's signature that calls Kernel{}(Arch{}, args...). Its symbol
// is mangled with Arch, as is everything it inlines. Defined out of the class, so it is not
// inline: an explicit instantiation declaration (`extern template`) then keeps a translation
// unit from compiling it.
template <class Arch, class Kernel, class Fn>
struct Entry;

template <class Arch, class Kernel, class R, class... Args>
struct Entry<Arch, Kernel, R (*)(Args...)> {
  static R call(Args... args);
};

template <class Arch, class Kernel, class R, class... Args>
R Entry<Arch, Kernel, R (*)(Args...)>::call(Args... args) {
  return Kernel{}(Arch{}, args...);
}

// A table that differs from another arch's in a few rows takes the other rows from that arch's
// instantiation (its base) instead of compiling them again: avx512vnni runs every kernel as
// avx512bw does except the int8 GEMMs, which use vpdpbusd, and avx512bf16 all but the f32 GEMMs,
// which multiply in bf16 (GemmPacking, gemm_impl.hpp). The rows' code would be the same,
// and a whole table's instantiation is the slowest compile of the library (over a minute, and
// several under the sanitizers). TableBase<Arch>::type is the base (Arch itself: no base) and
// own<Kernel> says which rows Arch compiles itself.
template <class Arch>
struct TableBase {
  using type = Arch;
  template <class Kernel>
  static constexpr bool own = true;
};

template <>
struct TableBase<avx512vnni> {
  using type = xsimd::avx512bw;
  template <class Kernel>
  static constexpr bool own = std::is_same_v<Kernel, qgemv_s8> || std::is_same_v<Kernel, qgemm_nt_s8>;
};

template <>
struct TableBase<avx512bf16> {
  using type = xsimd::avx512bw;
  template <class Kernel>
  static constexpr bool own =
      std::is_same_v<Kernel, gemm_nt_f32> || std::is_same_v<Kernel, gemm_nn_f32> || std::is_same_v<Kernel, gemm_tn_f32>;
};

// avx512bf16's GEMM rows round to bf16 only on the packed path (gemm_packs, gemm_impl.hpp); every
// other call keeps f32 products on every table and runs the base's row, so the bf16 driver does
// not compile those paths again (a third of this table's compile time).
template <class Kernel>
struct Entry<avx512bf16, Kernel, GemmFn> {
  static void call(const GemmArgs& g);
};

template <class Kernel>
void Entry<avx512bf16, Kernel, GemmFn>::call(const GemmArgs& g) {
  if (!gemm_packs<Kernel::kForm>(avx512bf16{}, g)) return Entry<TableBase<avx512bf16>::type, Kernel, GemmFn>::call(g);
  Kernel{}(avx512bf16{}, g);
}

template <class Arch, class Kernel, class Fn>
constexpr Fn table_row() {
  if constexpr (TableBase<Arch>::template own<Kernel>)
    return &Entry<Arch, Kernel, Fn>::call;
  else
    return &Entry<typename TableBase<Arch>::type, Kernel, Fn>::call;
}

template <class Arch>
constexpr KernelTable make_table(Isa isa) {
  KernelTable t{};
  t.isa = isa;
#define FENNEC_KERNEL(id, Fn, scope) t.id = table_row<Arch, simd::id, Fn>();
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
  return t;
}

}  // namespace fennec::kernels::simd
