// SPDX-License-Identifier: Apache-2.0
// MemoryPlan: hand-derived sizes, constexpr use, and plan().total() == arena bytes bind consumes
// (several specs, batches, modes, optimizers); exact fit binds, one byte less fails cleanly.
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::OwnedArena;

namespace {

constexpr ModelSpec small_spec() {
  return ModelSpec(3).dense(5, ActivationSpec::relu()).dense(2, ActivationSpec::identity());
}
constexpr ModelSpec mnist_spec() {
  return ModelSpec(784)
      .dense(512, ActivationSpec::relu())
      .dense(256, ActivationSpec::relu())
      .dense(10, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

// A static buffer sized at compile time, as plan.hpp promises.
constexpr ModelOptions kStaticOpts{Mode::kTraining, 4, OptimizerKind::kAdam, Isa::kAuto};
alignas(kArenaAlignment) unsigned char g_static_buf[plan(small_spec(), kStaticOpts).total()];

std::vector<ModelSpec> specs() {
  return {
      small_spec(),
      ModelSpec(1).dense(1, ActivationSpec::identity()).with_loss(Loss::kMse),
      ModelSpec(2).dense(1, ActivationSpec::sigmoid()).with_loss(Loss::kSigmoidBce),
      ModelSpec(17)
          .dense(63, ActivationSpec::tanh())
          .dense(129, ActivationSpec::leaky_relu(0.1f))
          .dense(7, ActivationSpec::identity()),
      ModelSpec(300).dense(65, ActivationSpec::sigmoid()).dense(3, ActivationSpec::identity()),
      mnist_spec(),
  };
}

const char* mode_name(Mode m) { return m == Mode::kTraining ? "training" : "inference"; }

}  // namespace

TEST_CASE("plan: hand-derived sizes for 3-5-2, batch 4, Adam", "[plan]") {
  // Parameter block (floats, each tensor padded to 16): W0 15->16, b0 5->16, W1 10->16,
  // b1 2->16 = 64 floats = 256 bytes. Gradients 256; Adam 2 slots = 512.
  // Activations: outputs 4*5*4 = 80 -> 128, 4*2*4 = 32 -> 64, plus 2 * (4*5*4 -> 128) = 448.
  // Scratch: max over layers of gemm_scratch_floats for forward (B, units, fan_in), dW
  // (units, fan_in, B) and dX (B, fan_in, units), each mc*kc + kc*(n+31), kc = min(k, 256),
  // mc = min(m+31, 192). Layer 0: fwd (4,5,3) 35*3+3*36 = 213, dW (5,3,4) 36*4+4*34 = 280,
  // dX (4,3,5) 35*5+5*34 = 345; layer 1: (4,2,5) 340, (2,5,4) 276, (4,5,2) 142.
  // 345 floats = 1380 bytes -> 1408.
  constexpr MemoryPlan p = plan(small_spec(), kStaticOpts);
  static_assert(p.total() == 256 + 256 + 512 + 448 + 1408, "plan is constexpr and as derived");
  CHECK(parameter_block_floats(small_spec()) == 64);
  CHECK(p.parameters == 256);
  CHECK(p.gradients == 256);
  CHECK(p.optimizer_state == 512);
  CHECK(p.activations == 448);
  CHECK(p.scratch == 1408);
  CHECK(sizeof(g_static_buf) == p.total());
  // A model binds in the compile-time-sized static buffer.
  Arena arena(g_static_buf, sizeof g_static_buf);
  Result<Model> m = Model::bind(small_spec(), kStaticOpts, arena);
  REQUIRE(m.is_ok());
  CHECK(arena.used() == sizeof g_static_buf);
}

TEST_CASE("plan: inference plans carry no gradients or optimizer state", "[plan]") {
  for (const ModelSpec& s : specs()) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{8}}) {
      const MemoryPlan p = plan(s, ModelOptions{Mode::kInference, batch, OptimizerKind::kAdam, Isa::kAuto});
      const MemoryPlan t = plan(s, ModelOptions{Mode::kTraining, batch, OptimizerKind::kAdam, Isa::kAuto});
      CHECK(p.gradients == 0);
      CHECK(p.optimizer_state == 0);
      CHECK(p.parameters == t.parameters);
      CHECK(t.gradients == t.parameters);
      CHECK(t.optimizer_state == 2 * t.parameters);
      CHECK(p.total() < t.total());
      if (batch == 1) CHECK(p.scratch == 0);  // matrix-vector path, no packing
    }
  }
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    const MemoryPlan p = plan(small_spec(), ModelOptions{Mode::kTraining, 4, kind, Isa::kAuto});
    CHECK(p.optimizer_state == optimizer_state_slots(kind) * p.parameters);
  }
  CHECK(optimizer_state_slots(OptimizerKind::kSgd) == 0);
  CHECK(optimizer_state_slots(OptimizerKind::kMomentum) == 1);
  CHECK(optimizer_state_slots(OptimizerKind::kNesterov) == 1);
  CHECK(optimizer_state_slots(OptimizerKind::kAdaGrad) == 1);
  CHECK(optimizer_state_slots(OptimizerKind::kRmsProp) == 1);
  CHECK(optimizer_state_slots(OptimizerKind::kAdam) == 2);
  CHECK(optimizer_state_slots(OptimizerKind::kAdamW) == 2);
}

TEST_CASE("plan: total() equals the bytes bind consumes", "[plan]") {
  const std::size_t batches[] = {1, 7, 64};
  for (const ModelSpec& s : specs()) {
    for (Mode mode : {Mode::kInference, Mode::kTraining}) {
      for (std::size_t batch : batches) {
        for (int k = 0; k < kOptimizerCount; ++k) {
          if (mode == Mode::kInference && k > 0) break;  // optimizer ignored for inference
          const ModelOptions o{mode, batch, static_cast<OptimizerKind>(k), Isa::kAuto};
          const MemoryPlan p = plan(s, o);
          INFO("input " << s.input << " layers " << s.num_layers << " " << mode_name(mode)
                        << " batch " << batch << " optimizer " << optimizer_name(o.optimizer)
                        << " plan " << p.total());
          // Bind after an unrelated 64-byte block: the delta is still exactly the plan.
          OwnedArena oa(p.total() + 64 + 256);
          REQUIRE(oa.arena.allocate(64, "before").is_ok());
          const std::size_t before = oa.arena.used();
          Result<Model> m = Model::bind(s, o, oa.arena);
          REQUIRE(m.is_ok());
          CHECK(oa.arena.used() - before == p.total());
          CHECK(m.value().memory_plan().total() == p.total());
          // The flat blocks have the documented sizes.
          CHECK(m.value().parameters().size == parameter_block_floats(s));
          CHECK(m.value().gradients().size == (mode == Mode::kTraining ? parameter_block_floats(s) : 0));
          // Nothing else is taken afterwards (init and a forward pass use only the plan).
          Rng rng(1);
          REQUIRE(m.value().init_parameters(rng).is_ok());
          std::vector<float> x(batch * s.input, 0.5f);
          REQUIRE(m.value().forward(ConstMatrixView(x.data(), batch, s.input)).is_ok());
          CHECK(oa.arena.used() - before == p.total());
          if (s.input == 784) break;  // the big spec: one optimizer per mode is enough
        }
      }
    }
  }
}

TEST_CASE("plan: exact fit binds, and one byte less fails with kOutOfMemory and rewinds", "[plan]") {
  for (const ModelSpec& s : specs()) {
    for (Mode mode : {Mode::kInference, Mode::kTraining}) {
      for (std::size_t batch : {std::size_t{1}, std::size_t{5}}) {
        const ModelOptions o{mode, batch, OptimizerKind::kMomentum, Isa::kAuto};
        const MemoryPlan p = plan(s, o);
        INFO("input " << s.input << " layers " << s.num_layers << " " << mode_name(mode) << " batch "
                      << batch << " plan " << p.total());
        {
          OwnedArena exact(p.total());
          Result<Model> m = Model::bind(s, o, exact.arena);
          REQUIRE(m.is_ok());
          CHECK(exact.arena.used() == p.total());
          CHECK(exact.arena.remaining() == 0);
        }
        {
          OwnedArena short_by_one(p.total() - 1);
          Result<Model> m = Model::bind(s, o, short_by_one.arena);
          REQUIRE_FALSE(m.is_ok());
          CHECK(m.status().code() == StatusCode::kOutOfMemory);
          CHECK_FALSE(static_cast<bool>(m));  // no model handed out
          // All-or-nothing: the arena is rewound to where bind started.
          CHECK(short_by_one.arena.used() == 0);
          // The message names the bytes needed (the whole plan).
          const std::string msg = m.status().message();
          INFO("message: " << msg);
          CHECK(msg.find(std::to_string(p.total())) != std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("plan: an unaligned arena costs at most 63 extra bytes", "[plan]") {
  const ModelOptions o{Mode::kTraining, 3, OptimizerKind::kAdam, Isa::kAuto};
  const MemoryPlan p = plan(small_spec(), o);
  std::vector<unsigned char> storage(p.total() + 256);
  auto base = reinterpret_cast<std::uintptr_t>(storage.data());
  unsigned char* odd = reinterpret_cast<unsigned char*>((base + 63) / 64 * 64 + 5);
  Arena a(odd, p.total() + 59);  // 59 padding bytes are needed to reach the boundary
  Result<Model> m = Model::bind(small_spec(), o, a);
  REQUIRE(m.is_ok());
  CHECK(a.used() == p.total() + 59);
  Arena b(odd, p.total() + 58);
  CHECK(Model::bind(small_spec(), o, b).status().code() == StatusCode::kOutOfMemory);
  CHECK(b.used() == 0);
}

TEST_CASE("plan: 784-512-256-10 with Adam at batch 64", "[plan]") {
  const ModelOptions o{Mode::kTraining, 64, OptimizerKind::kAdam, Isa::kAuto};
  const MemoryPlan p = plan(mnist_spec(), o);
  // 535,818 parameters; each tensor padded to 16 floats: W0 401408, b0 512, W1 131072, b1 256,
  // W2 2560, b2 10->16 = 535,824 floats = 2,143,296 bytes per parameter-sized block.
  CHECK(mnist_spec().num_parameters() == 535818);
  CHECK(p.parameters == 2143296);
  CHECK(p.gradients == 2143296);
  CHECK(p.optimizer_state == 2 * 2143296);
  // Outputs 64*(512+256+10)*4 -> 131072 + 65536 + 2560; dY/dX buffers 2 * 64*512*4 (the widest
  // layer; the input width does not count, dL/dx goes to a caller buffer).
  CHECK(p.activations == 131072 + 65536 + 2560 + 2 * 131072);
  // Scratch: the largest GEMM is layer 0's dX (64, 784, 512): kc 256, mc 95:
  // 95*256 + 256*(784+31) = 232,960 floats = 931,840 bytes.
  CHECK(p.scratch == 931840);
  CHECK(p.total() == 9966336);
  OwnedArena oa(p.total());
  Result<Model> m = Model::bind(mnist_spec(), o, oa.arena);
  REQUIRE(m.is_ok());
  CHECK(oa.arena.used() == p.total());
  WARN("784-512-256-10, Adam, batch 64: plan total " << p.total() << " bytes (params "
       << p.parameters << ", grads " << p.gradients << ", state " << p.optimizer_state
       << ", activations " << p.activations << ", scratch " << p.scratch << "); arena used "
       << oa.arena.used() << " bytes");
}
