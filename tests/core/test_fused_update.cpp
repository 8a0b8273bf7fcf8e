// SPDX-License-Identifier: Apache-2.0
// The fused update (ModelOptions::fused_training): backward and the optimizer step together,
// one block of weight rows at a time, no whole-model gradient buffer. It must train exactly as
// the classic path does (same optimizer, no clipping), plan exactly, and refuse what it cannot do.
#include <cmath>
#include <cstring>
#include <cstdint>
#include <vector>

#include "test_util.hpp"

using namespace fennec;

namespace {

ModelSpec spec_for(Loss loss) {
  return ModelSpec(20)
      .dense(16, ActivationSpec::relu())
      .dense(12, ActivationSpec::tanh())
      .dense(5, ActivationSpec::identity())
      .with_loss(loss);
}

constexpr std::size_t kBatch = 8;

// A model with its trainer, bound in its own arena, initialised from `seed`.
struct Trained {
  fennec_test::OwnedArena arena;
  Model model;
  Trainer trainer;
  Trained(const ModelSpec& spec, const ModelOptions& options, std::uint64_t seed, const ClipConfig& clip = {})
      : arena(plan(spec, options).total()) {
    Result<Model> m = Model::bind(spec, options, arena.arena);
    REQUIRE(m.is_ok());
    model = std::move(m).value();
    Rng rng(seed);
    REQUIRE(model.init_parameters(rng).is_ok());
    Result<Trainer> t = Trainer::create(model, clip);
    REQUIRE(t.is_ok());
    trainer = t.value();
  }
};

// Seeded batches: inputs, class labels and regression targets (for every loss).
struct Batches {
  std::vector<float> x, values;
  std::vector<std::int32_t> labels;
  Batches(std::size_t n, std::uint64_t seed) : x(n * kBatch * 20), values(n * kBatch * 5), labels(n * kBatch) {
    Rng r(seed);
    for (float& v : x) v = static_cast<float>(r.normal());
    for (float& v : values) v = static_cast<float>(r.uniform01());
    for (std::int32_t& v : labels) v = static_cast<std::int32_t>(r.below(5));
  }
  ConstMatrixView inputs(std::size_t i) const { return ConstMatrixView(x.data() + i * kBatch * 20, kBatch, 20); }
  Targets targets(Loss loss, std::size_t i) const {
    if (loss == Loss::kSoftmaxCrossEntropy) return Targets::classes(labels.data() + i * kBatch);
    return Targets::values(ConstMatrixView(values.data() + i * kBatch * 5, kBatch, 5));
  }
};

// Largest |fused - classic| over the parameters, relative to the largest |classic| parameter.
double parameter_difference(const Model& fused, const Model& classic) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < classic.parameters().size; ++i) {
    diff = std::fmax(diff, std::fabs(double(fused.parameters()[i]) - classic.parameters()[i]));
    scale = std::fmax(scale, std::fabs(double(classic.parameters()[i])));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("fused update: plan by category, exact, no whole-model gradient", "[fused]") {
  const ModelSpec spec = spec_for(Loss::kSoftmaxCrossEntropy);
  const ModelOptions classic = ModelOptions::training(kBatch, OptimizerConfig::adam());
  const ModelOptions fused = ModelOptions::fused_training(kBatch, OptimizerConfig::adam(), 3);
  const MemoryPlan pc = plan(spec, classic), pf = plan(spec, fused);
  CHECK(pf.parameters == pc.parameters);
  CHECK(pf.optimizer_state == pc.optimizer_state);
  CHECK(pf.activations == pc.activations);
  // One block: the largest of 3 rows x fan_in (3 x 20) and any layer's bias (16).
  CHECK(fused_gradient_floats(spec, 3) == 60);
  CHECK(pf.gradients == arena_round_up(60 * sizeof(float)));
  CHECK(pf.gradients < pc.gradients);
  CHECK(pf.scratch <= pc.scratch);
  fennec_test::OwnedArena arena(pf.total());
  Result<Model> m = Model::bind(spec, fused, arena.arena);
  REQUIRE(m.is_ok());
  CHECK(arena.arena.used() == pf.total());
  CHECK(m.value().gradients().size == 0);
  CHECK(m.value().optimizer_state(1).size == m.value().parameters().size);
}

TEST_CASE("fused update equals the classic path after 50 steps, every optimizer", "[fused]") {
  // Tolerance: the fused path runs the same kernels on the same operands (each block's dW GEMM
  // sums over the batch like the whole layer's), so any difference is rounding, amplified by 50
  // steps; 1e-6 of the largest parameter (about 8 float ulps) is the bound asked of it.
  const Isa isa = GENERATE(Isa::kRef, Isa::kAuto);
  const OptimizerKind kind = static_cast<OptimizerKind>(GENERATE(range(0, kOptimizerCount)));
  OptimizerConfig c = OptimizerConfig::defaults(kind);
  if (kind == OptimizerKind::kSgd || kind == OptimizerKind::kAdam) c.weight_decay = 0.01;  // L2 on both paths
  const Loss loss = kind == OptimizerKind::kAdam ? GENERATE(Loss::kSoftmaxCrossEntropy, Loss::kMse, Loss::kSigmoidBce)
                                                 : Loss::kSoftmaxCrossEntropy;
  const std::uint32_t rows = GENERATE(1u, 3u, 64u);  // 3 leaves tails; 64 is one block per layer
  INFO("optimizer " << optimizer_name(kind) << ", isa " << isa_name(isa) << ", loss " << int(loss)
                    << ", block rows " << rows << ", seed 11/12");
  const ModelSpec spec = spec_for(loss);
  Trained classic(spec, ModelOptions::training(kBatch, c, isa), 11);
  Trained fused(spec, ModelOptions::fused_training(kBatch, c, rows, isa), 11);
  const Batches data(5, 12);
  for (std::size_t s = 0; s < 50; ++s) {
    Result<StepStats> a = classic.trainer.step(data.inputs(s % 5), data.targets(loss, s % 5));
    Result<StepStats> b = fused.trainer.step(data.inputs(s % 5), data.targets(loss, s % 5));
    REQUIRE(a.is_ok());
    REQUIRE(b.is_ok());
    CHECK(b.value().loss == Approx(a.value().loss).epsilon(1e-6));
    CHECK(b.value().grad_norm == Approx(a.value().grad_norm).epsilon(1e-5));
  }
  CHECK(fused.trainer.step_count() == 50);
  const double d = parameter_difference(fused.model, classic.model);
  INFO("max |fused - classic| / max |classic| = " << d);
  CHECK(d <= 1e-6);
  for (std::size_t s = 0; s < optimizer_state_slots(kind); ++s) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < classic.model.parameters().size; ++i) {
      diff = std::fmax(diff, std::fabs(double(fused.model.optimizer_state(s)[i]) - classic.model.optimizer_state(s)[i]));
      scale = std::fmax(scale, std::fabs(double(classic.model.optimizer_state(s)[i])));
    }
    CHECK(diff <= 1e-6 * scale);
  }
}

TEST_CASE("fused update: clipping by value equals the classic path", "[fused]") {
  const OptimizerConfig c = OptimizerConfig::momentum_sgd(0.05);
  const ClipConfig clip{0.f, 0.01f};
  const ModelSpec spec = spec_for(Loss::kSoftmaxCrossEntropy);
  Trained classic(spec, ModelOptions::training(kBatch, c, Isa::kRef), 3, clip);
  Trained fused(spec, ModelOptions::fused_training(kBatch, c, 5, Isa::kRef), 3, clip);
  const Batches data(3, 4);
  for (std::size_t s = 0; s < 20; ++s) {
    REQUIRE(classic.trainer.step(data.inputs(s % 3), data.targets(Loss::kSoftmaxCrossEntropy, s % 3)).is_ok());
    REQUIRE(fused.trainer.step(data.inputs(s % 3), data.targets(Loss::kSoftmaxCrossEntropy, s % 3)).is_ok());
  }
  CHECK(parameter_difference(fused.model, classic.model) <= 1e-6);
}

TEST_CASE("fused update: refused configurations change nothing", "[fused]") {
  const ModelSpec spec = spec_for(Loss::kSoftmaxCrossEntropy);
  fennec_test::OwnedArena arena(1 << 16);

  SECTION("inference with a block size") {
    ModelOptions o = ModelOptions::inference(4);
    o.fused_block_rows = 8;
    Result<Model> m = Model::bind(spec, o, arena.arena);
    REQUIRE_FALSE(m.is_ok());
    CHECK(m.status().code() == StatusCode::kInvalidArgument);
    CHECK(arena.arena.used() == 0);
  }
  SECTION("block rows above the limit") {
    const ModelOptions o = ModelOptions::fused_training(4, OptimizerConfig::adam(), (1u << 16) + 1);
    Result<Model> m = Model::bind(spec, o, arena.arena);
    REQUIRE_FALSE(m.is_ok());
    CHECK(m.status().code() == StatusCode::kInvalidArgument);
    CHECK(arena.arena.used() == 0);
  }
  SECTION("global-norm clipping, and Model::backward, on a fused model") {
    Result<Model> bound = Model::bind(spec, ModelOptions::fused_training(kBatch, OptimizerConfig::adam(), 4), arena.arena);
    REQUIRE(bound.is_ok());
    Model m = std::move(bound).value();
    Rng rng(5);
    REQUIRE(m.init_parameters(rng).is_ok());
    const auto before = fennec_test::bytes_of(m.parameters());
    Result<Trainer> t = Trainer::create(m, ClipConfig{1.f, 0.f});
    REQUIRE_FALSE(t.is_ok());
    CHECK(t.status().code() == StatusCode::kUnsupported);
    INFO(fennec_test::str(t.status()));
    const Batches data(1, 6);
    REQUIRE(m.forward(data.inputs(0)).is_ok());
    const Status b = m.backward(data.inputs(0), m.output_gradient(kBatch));
    CHECK(b.code() == StatusCode::kFailedPrecondition);
    CHECK(fennec_test::bytes_of(m.parameters()) == before);
    // A refused step (label out of range) leaves weights, state and the counter as they were.
    Result<Trainer> ok = Trainer::create(m);
    REQUIRE(ok.is_ok());
    std::int32_t bad[kBatch] = {0, 1, 2, 3, 4, 5, 0, 0};
    CHECK(ok.value().step(data.inputs(0), Targets::classes(bad)).status().code() == StatusCode::kInvalidArgument);
    CHECK(fennec_test::bytes_of(m.parameters()) == before);
    CHECK(ok.value().step_count() == 0);
  }
}

TEST_CASE("fused update with a frozen prefix equals the classic path, frozen weights untouched", "[fused][frozen]") {
  // Same tolerance and reason as the unfrozen comparison above.
  const std::uint32_t frozen = GENERATE(1u, 2u);
  const OptimizerConfig c = GENERATE(OptimizerConfig::adam(0.01), OptimizerConfig::momentum_sgd(0.05));
  INFO("frozen " << frozen << ", optimizer " << optimizer_name(c.kind));
  const ModelSpec spec = spec_for(Loss::kSoftmaxCrossEntropy);
  const ModelOptions classic_opts = ModelOptions::training(kBatch, c, Isa::kRef).with_frozen_layers(frozen);
  const ModelOptions fused_opts = ModelOptions::fused_training(kBatch, c, 3, Isa::kRef).with_frozen_layers(frozen);
  // The gradient block spans the trainable layers only.
  CHECK(plan(spec, fused_opts).gradients == arena_round_up(fused_gradient_floats(spec, 3, frozen) * sizeof(float)));
  Trained classic(spec, classic_opts, 21);
  Trained fused(spec, fused_opts, 21);
  std::vector<float> before(fused.model.parameters().data, fused.model.parameters().data + fused.model.parameters().size);
  const Batches data(4, 22);
  for (std::size_t s = 0; s < 30; ++s) {
    REQUIRE(classic.trainer.step(data.inputs(s % 4), data.targets(Loss::kSoftmaxCrossEntropy, s % 4)).is_ok());
    REQUIRE(fused.trainer.step(data.inputs(s % 4), data.targets(Loss::kSoftmaxCrossEntropy, s % 4)).is_ok());
  }
  CHECK(parameter_difference(fused.model, classic.model) <= 1e-6);
  for (std::uint32_t l = 0; l < frozen; ++l) {
    const ConstMatrixView w = fused.model.const_weights(l);
    const std::size_t at = static_cast<std::size_t>(w.data - fused.model.parameters().data);
    CHECK(std::memcmp(w.data, before.data() + at, w.rows * w.cols * sizeof(float)) == 0);
  }
}
