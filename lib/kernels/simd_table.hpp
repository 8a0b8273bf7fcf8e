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
// is mangled with Arch, as is everything it inlines.
template <class Arch, class Kernel, class Fn>
struct Entry;

template <class Arch, class Kernel, class R, class... Args>
struct Entry<Arch, Kernel, R (*)(Args...)> {
  static R call(Args... args) { return Kernel{}(Arch{}, args...); }
};

template <class Arch>
constexpr KernelTable make_table(Isa isa) {
  KernelTable t{};
  t.isa = isa;
#define FENNEC_KERNEL(id, Fn, scope) t.id = &Entry<Arch, simd::id, Fn>::call;
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
  return t;
}

}  // namespace fennec::kernels::simd
