// SPDX-License-Identifier: Apache-2.0
// On ARM Linux builds the NEON kernel table must be the one that runs: a build that silently fell
// back to the scalar reference (missing -mfpu=neon, arch.cmake not selecting the NEON file...)
// would still pass every numerical test, only slower.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <vector>

#include "fennec/isa.hpp"
#include "fennec/model.hpp"
#include "core/model_internals.hpp"
#include "kernels/kernel_table.hpp"

namespace {

#if defined(__aarch64__)
constexpr fennec::Isa kExpectedIsa = fennec::Isa::kNeon64;
constexpr bool kIsArm = true;
#elif defined(__arm__) && defined(__ARM_NEON)
constexpr fennec::Isa kExpectedIsa = fennec::Isa::kNeon;
constexpr bool kIsArm = true;
#else
constexpr fennec::Isa kExpectedIsa = fennec::Isa::kRef;
constexpr bool kIsArm = false;
#endif

}  // namespace

TEST_CASE("the NEON kernel table is the active one on ARM", "[platform][isa]") {
  if (!kIsArm) {
    WARN("not an ARM NEON build: NEON table check skipped");
    return;
  }
  INFO("expected " << fennec::isa_name(kExpectedIsa));
  CHECK(fennec::isa_compiled(kExpectedIsa));
  CHECK(fennec::isa_supported(kExpectedIsa));
  const fennec::kernels::KernelTable* table = fennec::kernels::kernel_table_for(kExpectedIsa);
  REQUIRE(table != nullptr);
  CHECK(table->isa == kExpectedIsa);
  CHECK(table != &fennec::kernels::ref_kernel_table());
  CHECK(table->gemm_nt_f32 != fennec::kernels::ref_kernel_table().gemm_nt_f32);

  const char* cap = std::getenv("FENNEC_ISA");
  if (cap != nullptr && *cap != '\0') {
    WARN("FENNEC_ISA=" << cap << " caps the automatic choice: best_isa()/Model::isa() not checked");
    return;
  }
  CHECK(fennec::best_isa() == kExpectedIsa);

  constexpr fennec::ModelSpec spec = fennec::ModelSpec(8).dense(4, fennec::ActivationSpec::relu());
  constexpr fennec::ModelOptions opts{fennec::Mode::kInference, 1, fennec::OptimizerKind::kSgd,
                                      fennec::Isa::kAuto};
  std::vector<unsigned char> bytes(fennec::plan(spec, opts).total() + fennec::kArenaAlignment);
  fennec::Arena arena(bytes.data(), bytes.size());
  fennec::Result<fennec::Model> model = fennec::Model::bind(spec, opts, arena);
  REQUIRE(model.is_ok());
  CHECK(model->isa() == kExpectedIsa);
  CHECK(fennec::detail::ModelInternals::kernel_table(model.value()).isa == kExpectedIsa);
}
