// MemoryPlan: the exact arena bytes a model needs, by category, before anything is allocated.
//
// plan() is a pure constexpr function of the spec and options, so a static buffer can be sized
// at compile time:
//
//   constexpr fennec::ModelOptions opts = fennec::ModelOptions::inference(64);
//   alignas(fennec::kArenaAlignment) static unsigned char buf[fennec::plan(spec, opts).total()];
//
// Model::bind consumes exactly plan().total() bytes from an arena whose next free byte is
// 64-byte aligned (any fresh arena over an alignas(kArenaAlignment) buffer); otherwise up to
// kArenaAlignment-1 more for the initial alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/isa.hpp"
#include "fennec/optim.hpp"
#include "fennec/spec.hpp"

namespace fennec {

enum class Mode : int {
  kInference = 0,  // parameters + ping-pong activations only
  kTraining = 1,   // + gradients, optimizer state, per-layer outputs, backward buffers
};

// How a model is bound. Say what the mode needs with the named forms:
//
//   ModelOptions::inference(32)                                 parameters + activations only
//   ModelOptions::training(32, OptimizerConfig::adam(1e-3))     + gradients, Adam's state, and
//                                                               the hyper-parameters that
//                                                               Trainer::create(model) uses
//
// The fields stay public (and aggregate initialisation works as before).
struct ModelOptions {
  Mode mode = Mode::kTraining;
  std::size_t max_batch = 1;  // largest batch forward/step will be called with
  OptimizerKind optimizer = OptimizerKind::kSgd;  // ignored for inference
  Isa isa = Isa::kAuto;                           // kernel table; does not change the plan
  // Training: the hyper-parameters Trainer::create(model, clip) trains with. Its kind is
  // `optimizer`'s: Model::bind replaces a config naming another kind (options written without
  // training()) by OptimizerConfig::defaults(optimizer). Ignored for inference.
  OptimizerConfig optimizer_config{};
  // Training: 0 (the classic path) keeps a gradient block for the whole model, so any clipping
  // works. > 0 is the fused update: backward takes each layer from the last, computes its dX
  // from the old weights, then the weight gradient this many rows at a time, applying the
  // optimizer to each block at once; the gradient memory is one block, not the model. Clipping
  // there is by value only (global-norm clipping needs every gradient first; the trainer
  // refuses it with kUnsupported). Must be 0 for inference.
  std::uint32_t fused_block_rows = 0;

  static constexpr ModelOptions inference(std::size_t max_batch, Isa isa = Isa::kAuto) {
    ModelOptions o;
    o.mode = Mode::kInference;
    o.max_batch = max_batch;
    o.isa = isa;
    return o;
  }
  static constexpr ModelOptions training(std::size_t max_batch, const OptimizerConfig& optimizer,
                                         Isa isa = Isa::kAuto) {
    ModelOptions o;
    o.mode = Mode::kTraining;
    o.max_batch = max_batch;
    o.optimizer = optimizer.kind;
    o.optimizer_config = optimizer;
    o.isa = isa;
    return o;
  }
  // The kind's default hyper-parameters (OptimizerConfig::defaults).
  static constexpr ModelOptions training(std::size_t max_batch, OptimizerKind optimizer,
                                         Isa isa = Isa::kAuto) {
    return training(max_batch, OptimizerConfig::defaults(optimizer), isa);
  }
  // Training with the fused update (see fused_block_rows): no whole-model gradient buffer.
  static constexpr ModelOptions fused_training(std::size_t max_batch, const OptimizerConfig& optimizer,
                                               std::uint32_t block_rows = kDefaultFusedBlockRows,
                                               Isa isa = Isa::kAuto) {
    ModelOptions o = training(max_batch, optimizer, isa);
    o.fused_block_rows = block_rows;
    return o;
  }
  // Rows of a weight gradient block when fused_training() is not told: 8 rows of a 196-wide
  // layer are 6 KiB.
  static constexpr std::uint32_t kDefaultFusedBlockRows = 8;
};

// GEMM packing. A kernel packs at most a kGemmMc x kGemmKc block of the left operand (its M
// rounded up to its register tile, MR <= kGemmMaxTile) and a kGemmKc x n block of the right one
// (n rounded up to its NR <= kGemmMaxTile). One call of gemm_{nt,nn,tn} with sizes (m, n, k)
// may use up to gemm_scratch_floats(m, n, k) floats of scratch; the plan reserves the largest
// such figure over the GEMMs the model runs. Kernels with m == 1 (GEMV) use none.
inline constexpr std::size_t kGemmKc = 256;
inline constexpr std::size_t kGemmMc = 192;
inline constexpr std::size_t kGemmMaxTile = 32;

// A build whose only kernel table is the scalar reference (Cortex-M and other targets without a
// SIMD table: FENNEC_GEMM_NO_PACKING, set by the build) packs nothing, so it plans no scratch.
constexpr std::size_t gemm_scratch_floats(std::size_t m, std::size_t n, std::size_t k) {
#if defined(FENNEC_GEMM_NO_PACKING)
  (void)m, (void)n, (void)k;
  return 0;
#else
  const std::size_t kc = k < kGemmKc ? k : kGemmKc;
  const std::size_t mc = m + kGemmMaxTile - 1 < kGemmMc ? m + kGemmMaxTile - 1 : kGemmMc;
  return m <= 1 ? 0 : mc * kc + kc * (n + kGemmMaxTile - 1);
#endif
}

// Parameter tensors are padded to this many floats inside the parameter block so each
// starts 64-byte aligned; padding stays zero (zero gradient, zero update) under every optimizer.
inline constexpr std::size_t kTensorAlignFloats = kArenaAlignment / sizeof(float);

constexpr std::size_t padded_floats(std::size_t n) {
  return (n + kTensorAlignFloats - 1) / kTensorAlignFloats * kTensorAlignFloats;
}

// Floats in the parameter block (weights and biases of every layer, each padded).
constexpr std::size_t parameter_block_floats(const ModelSpec& spec) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    n += padded_floats(static_cast<std::size_t>(spec.layers[i].units) * spec.fan_in(i));
    n += padded_floats(spec.layers[i].units);
  }
  return n;
}

// Widest layer output (not counting the input).
constexpr std::size_t max_layer_width(const ModelSpec& spec) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) w = spec.layers[i].units > w ? spec.layers[i].units : w;
  return w;
}

// Rows of layer i's weight gradient the fused update computes at once.
constexpr std::size_t fused_rows(const ModelSpec& spec, std::size_t layer, std::size_t block_rows) {
  return block_rows < spec.layers[layer].units ? block_rows : spec.layers[layer].units;
}

// Floats of the fused update's gradient block: the largest weight block (rows x fan_in) or
// bias gradient (units) of any layer.
constexpr std::size_t fused_gradient_floats(const ModelSpec& spec, std::size_t block_rows) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t w = fused_rows(spec, i, block_rows) * spec.fan_in(i);
    const std::size_t b = spec.layers[i].units;
    n = w > n ? w : n;
    n = b > n ? b : n;
  }
  return n;
}

struct MemoryPlan {
  std::size_t parameters = 0;
  std::size_t gradients = 0;  // the whole model's, or the fused update's one block
  std::size_t optimizer_state = 0;
  std::size_t activations = 0;
  std::size_t scratch = 0;

  constexpr std::size_t total() const {
    return parameters + gradients + optimizer_state + activations + scratch;
  }
};

// Assumes validate(spec) passes and max_batch >= 1 (Model::bind checks both).
constexpr MemoryPlan plan(const ModelSpec& spec, const ModelOptions& options) {
  MemoryPlan p;
  const std::size_t batch = options.max_batch;
  const std::size_t param_bytes = arena_round_up(parameter_block_floats(spec) * sizeof(float));
  const std::size_t widest = max_layer_width(spec);
  const bool fused = options.mode == Mode::kTraining && options.fused_block_rows > 0;
  p.parameters = param_bytes;
  if (options.mode == Mode::kTraining) {
    p.gradients = fused ? arena_round_up(fused_gradient_floats(spec, options.fused_block_rows) * sizeof(float))
                        : param_bytes;
    p.optimizer_state = optimizer_state_slots(options.optimizer) * param_bytes;
    // Every layer's output is kept for backward; two (batch x widest) buffers carry dY / dX.
    for (std::size_t i = 0; i < spec.num_layers; ++i)
      p.activations += arena_round_up(batch * spec.layers[i].units * sizeof(float));
    p.activations += 2 * arena_round_up(batch * widest * sizeof(float));
  } else {
    // Inference ping-pongs between two (batch x widest) buffers.
    p.activations = 2 * arena_round_up(batch * widest * sizeof(float));
  }
  // Forward: (batch, units, fan_in). Backward: dW (units, fan_in, batch) and
  // dX (batch, fan_in, units), dX for layer 0 too (Model::backward's optional input gradient).
  std::size_t scratch = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units, fan_in = spec.fan_in(i);
    std::size_t s = gemm_scratch_floats(batch, units, fan_in);
    if (options.mode == Mode::kTraining) {
      const std::size_t dw_rows = fused ? fused_rows(spec, i, options.fused_block_rows) : units;
      const std::size_t dw = gemm_scratch_floats(dw_rows, fan_in, batch);
      const std::size_t dx = gemm_scratch_floats(batch, fan_in, units);
      s = dw > s ? dw : s;
      s = dx > s ? dx : s;
    }
    scratch = s > scratch ? s : scratch;
  }
  p.scratch = arena_round_up(scratch * sizeof(float));
  return p;
}

}  // namespace fennec
