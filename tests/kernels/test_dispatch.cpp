// SPDX-License-Identifier: Apache-2.0
// Dispatch: which tables exist and which one runs, the FENNEC_ISA cap, and an end-to-end
// training run through every runnable table against the same run on the reference table.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fennec/fennec.hpp"
#include "core/model_internals.hpp"
#include "kernel_test_util.hpp"

using namespace fennec_ktest;
using namespace fennec;

namespace {

// Restores FENNEC_ISA when a test that changes it ends.
struct EnvGuard {
  std::string saved;
  bool had;
  EnvGuard() {
    const char* v = std::getenv("FENNEC_ISA");
    had = v != nullptr;
    if (had) saved = v;
  }
  ~EnvGuard() {
    if (had)
      setenv("FENNEC_ISA", saved.c_str(), 1);
    else
      unsetenv("FENNEC_ISA");
  }
};

// The table a model bound with Isa::kAuto runs (the active table, as dispatch sees it).
Isa auto_model_table() {
  const ModelSpec spec = ModelSpec(8).dense(4, ActivationSpec::relu());
  const ModelOptions opts{Mode::kInference, 1, OptimizerKind::kSgd, Isa::kAuto};
  std::vector<unsigned char> bytes(plan(spec, opts).total() + kArenaAlignment);
  Arena arena(bytes.data(), bytes.size());
  Result<Model> model = Model::bind(spec, opts, arena);
  REQUIRE(model.is_ok());
  CHECK(model->isa() == fennec::detail::ModelInternals::kernel_table(model.value()).isa);
  return fennec::detail::ModelInternals::kernel_table(model.value()).isa;
}

}  // namespace

TEST_CASE("every compiled kernel table is complete and labelled", "[kernels][dispatch]") {
  for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas) {
    const Isa isa = info.isa;
    const KernelTable* t = fennec::kernels::kernel_table_for(isa);
    INFO(isa_name(isa));
    CHECK(isa_compiled(isa) == (t != nullptr));
    if (!t) continue;
    CHECK(t->isa == isa);
#define FENNEC_KERNEL(id, Fn, scope) CHECK((t->id != nullptr) == (isa != Isa::kRef || fennec::kernels::row_in_build(fennec::kernels::RowScope::scope)));
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
    if (isa != Isa::kRef) CHECK(t->gemm_nt_f32 != ref().gemm_nt_f32);
  }
#if FENNEC_TEST_SIMD_BUILD
#if defined(__x86_64__)
  // One x86-64 binary carries every x86 table (arch.cmake); the baseline always runs.
  CHECK(isa_compiled(Isa::kSse2));
  CHECK(isa_supported(Isa::kSse2));
#endif
#else
  // FENNEC_SIMD=OFF: the reference is the only table, so it is what kAuto picks.
  for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas) {
    if (info.isa == Isa::kRef) continue;
    INFO(info.id);
    CHECK(!isa_compiled(info.isa));
  }
  CHECK(best_isa() == Isa::kRef);
#endif
}

// CI runs the suite natively and under `qemu-x86_64 -cpu qemu64` with FENNEC_EXPECT_ISA set to
// what must be chosen there (e.g. sse2); without it the choice is printed and sanity-checked.
TEST_CASE("the active ISA is the expected one", "[kernels][dispatch]") {
  const Isa best = best_isa();
  WARN("active kernel table: " << isa_name(best));
  CHECK(isa_supported(best));
  const char* expect = std::getenv("FENNEC_EXPECT_ISA");
  if (expect && *expect) {
    Result<Isa> e = parse_isa(expect);
    REQUIRE(e.is_ok());
    CHECK(std::string(isa_name(best)) == isa_name(e.value()));
  }
  const char* cap = std::getenv("FENNEC_ISA");
  if (!cap || !*cap) {
    // No cap: nothing runnable may rank above the choice.
    for (Isa isa : {Isa::kSse2, Isa::kAvx2Fma, Isa::kAvx512, Isa::kAvx512Vnni})
      if (isa_supported(isa)) CHECK(static_cast<int>(best) >= static_cast<int>(isa));
  }
  // A model bound with kAuto runs that table.
  CHECK(auto_model_table() == best);
}

TEST_CASE("FENNEC_ISA caps the automatic choice", "[kernels][dispatch]") {
  EnvGuard guard;
  setenv("FENNEC_ISA", "scalar", 1);
  CHECK(best_isa() == Isa::kRef);
  setenv("FENNEC_ISA", "ref", 1);
  CHECK(best_isa() == Isa::kRef);
  for (const SimdTable& st : simd_tables()) {
    setenv("FENNEC_ISA", isa_name(st.isa), 1);
    CHECK(best_isa() == st.isa);
  }
#if defined(__x86_64__)
  // Every x86 cap in rank order (a cap admits the tables ranked at or below it). A cap the CPU
  // runs is obeyed exactly, also below the best table; a cap this CPU (or build) cannot run is
  // ignored down to the choice under the next lower cap, so the active table is always one the
  // CPU runs; and the top cap chooses what no cap chooses. (Which branch each cap takes depends
  // on the CPU: CI runs this natively and under qemu's qemu64 and Haswell CPUs.)
  unsetenv("FENNEC_ISA");
  const Isa uncapped = best_isa();
  Isa below = Isa::kRef;  // the choice under the next lower cap
  for (Isa cap : {Isa::kSse2, Isa::kAvx2Fma, Isa::kAvx512, Isa::kAvx512Vnni}) {
    setenv("FENNEC_ISA", isa_name(cap), 1);
    const Isa got = best_isa();
    INFO("FENNEC_ISA=" << isa_name(cap) << " chose " << isa_name(got) << ", CPU runs the cap: " << isa_supported(cap));
    CHECK(got == (isa_supported(cap) ? cap : below));
    CHECK(isa_supported(got));
    CHECK(auto_model_table() == got);
    below = got;
  }
  CHECK(below == uncapped);
  // "avx2" is the same cap as "avx2fma".
  setenv("FENNEC_ISA", "avx2fma", 1);
  const Isa avx2fma = best_isa();
  setenv("FENNEC_ISA", "avx2", 1);
  CHECK(best_isa() == avx2fma);
#endif
  unsetenv("FENNEC_ISA");
  const Isa best = best_isa();
  // An explicit request for an unsupported or uncompiled ISA fails at bind, with a message.
  for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas) {
    const Isa isa = info.isa;
    if (isa == Isa::kRef) continue;
    Result<Isa> r = resolve_isa(isa);
    CHECK(r.is_ok() == isa_supported(isa));
    if (!r.is_ok()) CHECK(r.status().code() == StatusCode::kUnsupported);
  }
  CHECK(isa_supported(best));
}

// avx512bf16 is opt-in (isa_list.def products kBf16): no automatic choice and no cap of an f32
// ISA ever lands on it, even where the CPU runs it; naming it selects it where the CPU runs it;
// asking for it elsewhere fails with kUnsupported at bind (CI runs this under qemu's CPUs, which
// lack AVX-512, and natively).
TEST_CASE("an opt-in ISA is chosen only when named", "[kernels][dispatch]") {
  EnvGuard guard;
  for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas)
    CHECK(info.opt_in() == (info.products != fennec::kernels::GemmProducts::kF32));
  CHECK(fennec::kernels::isa_info(Isa::kAvx512Bf16)->opt_in());
  CHECK(std::string(isa_name(Isa::kAvx512Bf16)) == "avx512bf16");
  CHECK(parse_isa("bf16").value() == Isa::kAvx512Bf16);
  unsetenv("FENNEC_ISA");
  const Isa best = best_isa();
  CHECK_FALSE(fennec::kernels::isa_info(best)->opt_in());
  CHECK(auto_model_table() == best);
  if (isa_supported(Isa::kAvx512Vnni)) CHECK(best == Isa::kAvx512Vnni);
  else if (isa_supported(Isa::kAvx512)) CHECK(best == Isa::kAvx512);
  for (const char* cap : {"avx512", "avx512vnni", "auto"}) {
    setenv("FENNEC_ISA", cap, 1);
    CHECK_FALSE(fennec::kernels::isa_info(best_isa())->opt_in());
  }
  setenv("FENNEC_ISA", "avx512bf16", 1);
  if (isa_supported(Isa::kAvx512Bf16)) {
    CHECK(best_isa() == Isa::kAvx512Bf16);
    CHECK(auto_model_table() == Isa::kAvx512Bf16);
  } else {
    // Like any cap this CPU cannot run: the best f32 table at or below its rank.
    CHECK(best_isa() == best);
  }
  unsetenv("FENNEC_ISA");
  const ModelSpec spec = ModelSpec(8).dense(4, ActivationSpec::relu());
  const ModelOptions opts{Mode::kInference, 1, OptimizerKind::kSgd, Isa::kAvx512Bf16};
  std::vector<unsigned char> bytes(plan(spec, opts).total() + kArenaAlignment);
  Arena arena(bytes.data(), bytes.size());
  Result<Model> model = Model::bind(spec, opts, arena);
  REQUIRE(model.is_ok() == isa_supported(Isa::kAvx512Bf16));
  if (model.is_ok()) {
    CHECK(model->isa() == Isa::kAvx512Bf16);
  } else {
    INFO(model.status().message());
    CHECK(model.status().code() == StatusCode::kUnsupported);
    CHECK(std::string(model.status().message()).find("avx512bf16") != std::string::npos);
  }
}

namespace {

struct RunResult {
  std::vector<double> losses, norms;
  std::vector<float> params;
};

// A fixed-seed training run of a small MLP with every activation, a batch that is not a
// multiple of any lane count, and an input wider than one k block of the GEMM.
RunResult train(Isa isa, OptimizerKind kind, int steps) {
  const ModelSpec spec = ModelSpec(300)
                             .dense(37, ActivationSpec::relu())
                             .dense(19, ActivationSpec::tanh())
                             .dense(11, ActivationSpec::leaky_relu(0.1f))
                             .dense(9, ActivationSpec::sigmoid())
                             .dense(5, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 23;
  const ModelOptions opts{Mode::kTraining, batch, kind, isa};
  std::vector<unsigned char> bytes(plan(spec, opts).total() + kArenaAlignment);
  auto base = reinterpret_cast<std::uintptr_t>(bytes.data());
  const std::size_t skip = (kArenaAlignment - base % kArenaAlignment) % kArenaAlignment;
  Arena arena(bytes.data() + skip, bytes.size() - skip);
  Result<Model> model = Model::bind(spec, opts, arena);
  REQUIRE(model.is_ok());
  REQUIRE(model->isa() == isa);
  Rng rng(1234);
  REQUIRE(model->init_parameters(rng).is_ok());
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::defaults(kind);
  cfg.optimizer.lr = kind == OptimizerKind::kAdam ? 1e-3f : 0.05f;
  cfg.clip.max_norm = 5.f;
  Result<Trainer> trainer = Trainer::create(model.value(), cfg);
  REQUIRE(trainer.is_ok());

  std::mt19937 data_rng(99);
  const std::vector<float> x = uniform(data_rng, batch * 300);
  std::vector<std::int32_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int32_t>(i % 5);
  RunResult out;
  for (int s = 0; s < steps; ++s) {
    Result<StepStats> st = trainer->step(ConstMatrixView(x.data(), batch, 300), Targets::classes(labels.data()));
    REQUIRE(st.is_ok());
    out.losses.push_back(st->loss);
    out.norms.push_back(st->grad_norm);
  }
  const VectorView p = model->parameters();
  out.params.assign(p.data, p.data + p.size);
  return out;
}

}  // namespace

// Tolerances: per-step loss and gradient norm within 1e-4 relative (float GEMMs over k <= 300
// summed in different orders differ by ~1e-6 relative per layer; 8 steps of training on the same
// data keep the trajectories within ~1e-5). Parameters after momentum SGD within 1e-4 absolute.
// Adam is compared on loss and norm only: its first steps move each weight by ~lr*sign(g), so a
// gradient element within rounding of 0 may legitimately flip a weight by 2*lr.
// A bf16 table (opt-in: A and B rounded to bf16, 2^-8 relative per factor) gets its own bounds:
// loss within 1e-3 relative (the loss averages many products' errors: 8e-5 measured), gradient
// norm within 3e-2 (each layer's backward GEMMs add ~2^-7 relative, through 5 layers: 8e-3
// measured at Adam's 8th step), momentum-SGD parameters within 5e-3 absolute (9e-4 measured).
TEST_CASE("end to end: training through every SIMD table tracks the reference", "[kernels][e2e]") {
  for (OptimizerKind kind : {OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    const int steps = 8;
    const RunResult r = train(Isa::kRef, kind, steps);
    for (const SimdTable& st : simd_tables()) {
      INFO(st.name << " optimizer " << optimizer_name(kind));
      const bool bf16 = fennec::kernels::isa_info(st.isa)->opt_in();
      const double loss_rtol = bf16 ? 1e-3 : 1e-4, norm_rtol = bf16 ? 3e-2 : 1e-4, ptol = bf16 ? 5e-3 : 1e-4;
      const RunResult x = train(st.isa, kind, steps);
      for (int s = 0; s < steps; ++s) {
        INFO("step " << s);
        CHECK(close(x.losses[s], r.losses[s], 0, loss_rtol));
        CHECK(close(x.norms[s], r.norms[s], 0, norm_rtol));
      }
      if (kind == OptimizerKind::kMomentum) {
        double worst = 0;
        // (A plain compare, not std::fmax: GCC 12's aarch64 vectorizer ICEs on that reduction.)
        for (std::size_t i = 0; i < r.params.size(); ++i) {
          const double d = std::fabs(static_cast<double>(x.params[i]) - r.params[i]);
          if (d > worst) worst = d;
        }
        INFO("max |w - w_ref| " << worst);
        CHECK(worst <= ptol);
      }
      CHECK(x.losses.back() < x.losses.front());  // it learns
    }
  }
}
