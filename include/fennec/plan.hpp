// SPDX-License-Identifier: Apache-2.0
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
//
// Frozen layers (ModelOptions::frozen_layers) have no gradient, optimizer state or kept output in
// the plan; parameters read in place (ModelOptions::external_parameters) are not arena bytes, and
// MemoryPlan::external_parameters says how many the caller's buffer provides.
//
// Batch norm and dropout (docs/layers.md) add their gamma/beta to the parameter block, their
// running statistics as layer_state, and what backward needs (x-hat, batch statistics, the
// pre-dropout activation output, the byte masks) to the activations.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/detail/gemm_blocking.hpp"
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
//   ModelOptions::training(...).with_frozen_layers(2)           fine-tuning: layers 0 and 1 are
//                                                               frozen (no gradients, no
//                                                               optimizer state, no kept outputs)
//   ModelOptions::inference(1).with_external_parameters()       parameters read in place from a
//                                                               caller's const buffer (flash, a
//                                                               read-only mapping): the arena
//                                                               holds activations and scratch only
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
  // Training: layers [0, frozen_layers) are frozen. They run forward only: no gradient, no
  // optimizer state, and of their outputs only the last frozen layer's is kept (the input of the
  // first trainable layer); Trainer::step updates layers [frozen_layers, num_layers) alone and
  // leaves the frozen parameters bit for bit as they were. Must be < num_layers (at least one
  // layer trains); must be 0 for inference. Model::backward cannot give an input gradient when
  // layers are frozen.
  std::uint32_t frozen_layers = 0;
  // The parameters nothing trains (every layer's for inference, the frozen layers' for training)
  // are read in place from a caller's const buffer given to Model::bind (or load_model_in_place,
  // io.hpp) instead of being copied into the arena; the trainable layers' parameters are copied
  // from that buffer into the arena at bind. plan() then counts none of the in-place bytes
  // (MemoryPlan::external_parameters says how many they are).
  bool external_parameters = false;
  // Threads the model may split its large GEMMs across (a ThreadPool given to
  // Model::set_thread_pool; the calling thread is one of them). plan() reserves one GEMM packing
  // block per thread; results do not depend on the count. 1: no threading. In [1, kMaxThreads]
  // (fennec/thread_pool.hpp). A build without threads (FENNEC_THREADS=OFF) ignores it: every
  // model runs on the calling thread and plans one block.
  std::uint32_t threads = 1;

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
  // The same options with layers [0, layers) frozen (training only; see frozen_layers).
  constexpr ModelOptions with_frozen_layers(std::uint32_t layers) const {
    ModelOptions o = *this;
    o.frozen_layers = layers;
    return o;
  }
  // The same options planned for `n` threads (see threads).
  constexpr ModelOptions with_threads(std::uint32_t n) const {
    ModelOptions o = *this;
    o.threads = n;
    return o;
  }
  // The same options with the untrained parameters read in place (see external_parameters).
  constexpr ModelOptions with_external_parameters(bool external = true) const {
    ModelOptions o = *this;
    o.external_parameters = external;
    return o;
  }
};

// Parameter tensors are padded to this many floats inside the parameter block so each
// starts 64-byte aligned; padding stays zero (zero gradient, zero update) under every optimizer.
inline constexpr std::size_t kTensorAlignFloats = kArenaAlignment / sizeof(float);

constexpr std::size_t padded_floats(std::size_t n) {
  return (n + kTensorAlignFloats - 1) / kTensorAlignFloats * kTensorAlignFloats;
}

// Floats of layer i's weights and bias, and batch-norm gamma and beta when the layer has it, in
// the parameter block (each padded): [W_i | b_i | gamma_i | beta_i].
constexpr std::size_t layer_block_floats(const ModelSpec& spec, std::size_t i) {
  const std::size_t units = padded_floats(spec.layers[i].units);
  return padded_floats(static_cast<std::size_t>(spec.layers[i].units) * spec.fan_in(i)) + units +
         (kBuildHasBatchNormDropout && spec.layers[i].batchnorm.enabled ? 2 * units : 0);
}

// Floats of the batch-norm running statistics (state, not parameters): running mean and
// running variance of every batch-norm layer, each padded, layer by layer.
constexpr std::size_t batchnorm_state_floats(const ModelSpec& spec) {
  std::size_t n = 0;
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec.num_layers; ++i)
    if (spec.layers[i].batchnorm.enabled) n += 2 * padded_floats(spec.layers[i].units);
  return n;
}

// Floats of a batch-norm layer's per-feature statistics block: training keeps the batch mean,
// the batch (biased) variance and 1/sqrt(var + eps) for backward; inference only the last,
// computed from the running variance.
constexpr std::size_t batchnorm_stats_floats(const ModelOptions& options, std::size_t units) {
  return (options.mode == Mode::kTraining ? 3 : 1) * padded_floats(units);
}

// Floats in the parameter block of layers [first_layer, num_layers) (weights and biases, each
// padded). first_layer = 0: the whole model.
constexpr std::size_t parameter_block_floats(const ModelSpec& spec, std::size_t first_layer = 0) {
  std::size_t n = 0;
  for (std::size_t i = first_layer; i < spec.num_layers; ++i) n += layer_block_floats(spec, i);
  return n;
}

// Floats of layers [0, layers) in the model file's layout (unpadded: W_i then b_i).
constexpr std::size_t file_layout_floats(const ModelSpec& spec, std::size_t layers) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < layers && i < spec.num_layers; ++i)
    n += static_cast<std::size_t>(spec.layers[i].units) * spec.fan_in(i) + spec.layers[i].units;
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
// bias gradient (units) of the trainable layers [first, num_layers).
constexpr std::size_t fused_gradient_floats(const ModelSpec& spec, std::size_t block_rows,
                                            std::size_t first = 0) {
  std::size_t n = 0;
  for (std::size_t i = first; i < spec.num_layers; ++i) {
    const std::size_t w = fused_rows(spec, i, block_rows) * spec.fan_in(i);
    const std::size_t b = spec.layers[i].units;
    n = w > n ? w : n;
    n = b > n ? b : n;
  }
  return n;
}

// Layers the options freeze (0 for inference).
constexpr std::size_t frozen_layer_count(const ModelOptions& options) {
  return options.mode == Mode::kTraining ? options.frozen_layers : 0;
}

// First layer whose parameters live in the arena: 0, or with external parameters the first
// trainable layer (num_layers for inference: the arena holds no parameters).
constexpr std::size_t first_arena_layer(const ModelSpec& spec, const ModelOptions& options) {
  if (!options.external_parameters) return 0;
  return options.mode == Mode::kTraining ? options.frozen_layers : spec.num_layers;
}

// Width of the two (batch x width) activation buffers. Inference ping-pongs every layer through
// them. Training carries dY / dX of the trainable layers in them, and the forward pass of the
// frozen layers before the last one ping-pongs through them too (the last frozen layer writes its
// kept output, the first trainable layer's input).
constexpr std::size_t activation_buffer_width(const ModelSpec& spec, const ModelOptions& options) {
  const std::size_t frozen = frozen_layer_count(options);
  if (frozen == 0) return max_layer_width(spec);
  std::size_t w = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const bool used = i >= frozen || i + 1 < frozen;
    if (used && spec.layers[i].units > w) w = spec.layers[i].units;
  }
  return w;
}

// Whether training keeps layer i's output for backward: every trainable layer's, and the last
// frozen layer's (the first trainable layer's input).
constexpr bool keeps_layer_output(const ModelOptions& options, std::size_t i) {
  const std::size_t frozen = frozen_layer_count(options);
  return options.mode == Mode::kTraining && i + 1 >= frozen;
}

struct MemoryPlan {
  std::size_t parameters = 0;
  std::size_t gradients = 0;  // the whole model's, or the fused update's one block
  std::size_t optimizer_state = 0;
  std::size_t activations = 0;
  std::size_t scratch = 0;
  // Batch-norm running statistics (batchnorm_state_floats).
  std::size_t layer_state = 0;
  // Bytes of parameters read in place from the caller's buffer (ModelOptions::external_parameters;
  // the model file's unpadded layout). Not arena memory: not part of total().
  std::size_t external_parameters = 0;

  constexpr std::size_t total() const {
    return parameters + gradients + optimizer_state + activations + scratch + layer_state;
  }
};

// Assumes validate(spec) and validate(options) pass (Model::bind checks both).
constexpr MemoryPlan plan(const ModelSpec& spec, const ModelOptions& options) {
  MemoryPlan p;
  const std::size_t batch = options.max_batch;
  const bool training = options.mode == Mode::kTraining;
  const bool fused = training && options.fused_block_rows > 0;
  const std::size_t frozen = frozen_layer_count(options);
  const std::size_t first_arena = first_arena_layer(spec, options);
  p.parameters = arena_round_up(parameter_block_floats(spec, first_arena) * sizeof(float));
  p.external_parameters = file_layout_floats(spec, first_arena) * sizeof(float);
  if (training) {
    // Gradients and optimizer state cover the trainable layers, in the parameter block's layout;
    // the fused update keeps one block of gradient rows instead of the gradients.
    const std::size_t trainable_bytes = arena_round_up(parameter_block_floats(spec, frozen) * sizeof(float));
    p.gradients = fused ? arena_round_up(fused_gradient_floats(spec, options.fused_block_rows, frozen) * sizeof(float))
                        : trainable_bytes;
    p.optimizer_state = optimizer_state_slots(options.optimizer) * trainable_bytes;
    for (std::size_t i = 0; i < spec.num_layers; ++i)
      if (keeps_layer_output(options, i))
        p.activations += arena_round_up(batch * spec.layers[i].units * sizeof(float));
  }
  p.activations += 2 * arena_round_up(batch * activation_buffer_width(spec, options) * sizeof(float));
  // Batch norm and dropout (Model::bind allocates in this order, after the activation buffers):
  // per batch-norm layer its statistics block, and in training x-hat (batch x units) for
  // backward; per dropout layer in training the activation output before dropout (batch x
  // units floats: the activation derivative is taken from it) and the mask (one byte each).
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units;
    if (spec.layers[i].batchnorm.enabled) {
      p.activations += arena_round_up(batchnorm_stats_floats(options, units) * sizeof(float));
      if (training) p.activations += arena_round_up(batch * units * sizeof(float));
    }
    if (training && spec.layers[i].dropout > 0.f)
      p.activations += arena_round_up(batch * units * sizeof(float)) + arena_round_up(batch * units);
  }
  p.layer_state = arena_round_up(batchnorm_state_floats(spec) * sizeof(float));
  // Forward: (batch, units, fan_in). Backward of a trainable layer: dW (units, fan_in, batch) and
  // dX (batch, fan_in, units); dX for layer 0 too when nothing is frozen (Model::backward's
  // optional input gradient), never for the first trainable layer after frozen ones.
  std::size_t scratch = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units, fan_in = spec.fan_in(i);
    std::size_t s = gemm_scratch_floats(batch, units, fan_in);
    if (training && i >= frozen) {
      const std::size_t dw_rows = fused ? fused_rows(spec, i, options.fused_block_rows) : units;
      const std::size_t dw = gemm_scratch_floats(dw_rows, fan_in, batch);
      s = dw > s ? dw : s;
      if (frozen == 0 || i > frozen) {
        const std::size_t dx = gemm_scratch_floats(batch, fan_in, units);
        s = dx > s ? dx : s;
      }
    }
    scratch = s > scratch ? s : scratch;
  }
  // One packing block per thread: each task of a split GEMM packs its own tiles.
#if defined(FENNEC_NO_THREADS)
  p.scratch = arena_round_up(scratch * sizeof(float));
#else
  p.scratch = (options.threads > 1 ? options.threads : 1) * arena_round_up(scratch * sizeof(float));
#endif
  return p;
}

}  // namespace fennec
