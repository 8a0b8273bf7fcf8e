// SPDX-License-Identifier: Apache-2.0
// Model: a ModelSpec bound to arena memory.
//
// Layout in the arena (in this order, each block 64-byte aligned; see plan.hpp):
//   parameters  [W0 | b0 | W1 | b1 | ...]   one contiguous block, W_i of shape (units_i, fan_in_i)
//   gradients   same layout                 (training)
//   state       slots x same layout         (training, optimizer-dependent)
//   activations layer outputs + dY/dX buffers (training) or two ping-pong buffers (inference)
//   scratch     GEMM packing
//   layer state batch-norm running mean/var  (both modes)
// After bind() nothing allocates: forward/backward use only these blocks.
//
// Batch norm and dropout (LayerSpec::batchnorm, LayerSpec::dropout; docs/layers.md): a layer
// computes y = dropout(act(BN(x W^T + b))). gamma_i and beta_i follow b_i in the parameter
// block (so optimizers, clipping and decay treat them like every parameter). The phase says
// which statistics and whether dropout runs: Phase::kTrain normalises with the batch statistics
// and updates the running ones, and draws fresh dropout masks; Phase::kEval normalises with the
// running statistics and leaves dropout out. The dense bias of a batch-norm layer has no effect on the
// training-phase loss (the batch mean is subtracted); backward gives it a gradient of exactly 0. Training models start in kTrain, inference models
// are always kEval. Not combined (yet) with frozen layers, external parameters or the fused
// update: bind refuses those with kUnsupported.
//
// Frozen layers (ModelOptions::frozen_layers = k, training): the gradient and state blocks cover
// layers [k, L) only, in the parameter block's layout of those layers (trainable_parameters()
// is the matching tail of the parameter block), and only the outputs of layers [k-1, L) are kept.
//
// External parameters (ModelOptions::external_parameters): the layers nothing trains read their
// parameters in place from the caller's buffer, which must stay valid and unchanged while the
// model is used; the parameter block holds only the trainable layers (none for inference).
#pragma once

#include <cstddef>

#include "fennec/arena.hpp"
#include "fennec/plan.hpp"
#include "fennec/rng.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

namespace kernels {
struct KernelTable;
struct GemmArgs;
}
class ThreadPool;
namespace detail {
struct FusedUpdate;
struct ModelInternals;
enum class GemmForm : int;
}

// Sees the gradient flowing back through the network during Model::backward: for each layer,
// from the last to the first, dL/d(layer output) (batch x units) before the activation's
// derivative is applied. The view is valid only during the call. For studies of vanishing and
// exploding gradients; costs nothing when absent.
struct BackwardObserver {
  void (*on_output_gradient)(void* context, std::size_t layer, ConstMatrixView grad) = nullptr;
  void* context = nullptr;
};

// What Model::bind checks of `options`: mode and optimizer kind in range, 1 <= max_batch <= 2^20,
// fused_block_rows 0 for inference and <= 2^16, frozen_layers 0 for inference, and kUnsupported
// for Mode::kTraining in inference-only builds. (frozen_layers < num_layers is checked against
// the spec by bind.)
Status validate(const ModelOptions& options);

// The caller's parameters for ModelOptions::external_parameters: every layer's weights and bias
// in the model file's payload layout (layer by layer, W_i row-major (units x fan_in), then b_i;
// f32, little-endian, no padding), i.e. exactly file_layout_floats(spec, num_layers) floats.
// `data` must be 4-byte aligned (a float load from flash or a mapping faults otherwise on
// Cortex-M). Layers the model trains are copied from it at bind; the others are read in place.
struct ExternalParameters {
  const void* data = nullptr;
  std::size_t bytes = 0;
};

// One byte per activation of a dropout layer (rows = max_batch, cols = units, row-major):
// 0 drops, anything else keeps.
struct DropoutMaskView {
  unsigned char* data = nullptr;
  std::size_t rows = 0, cols = 0;
};

class Trainer;

class Model {
 public:
  // Train: batch statistics, running statistics updated, dropout masks drawn. Eval: running
  // statistics, no dropout (what inference computes).
  enum class Phase : int { kEval = 0, kTrain = 1 };

  Model() = default;
  // Move-only: a Model is a view of arena blocks, and a copy would be a second owner writing the
  // same weights, gradients and activations. A moved-from Model is unbound (is_bound() false;
  // its calls fail with kFailedPrecondition). The move is the private member-wise copy (trivial:
  // one memcpy, which a firmware image pays a few bytes for) plus clearing the source's kernels.
  Model(Model&& other) noexcept : Model(static_cast<const Model&>(other)) { other.kernels_ = nullptr; }
  Model& operator=(Model&& other) noexcept {
    if (this != &other) {
      *this = static_cast<const Model&>(other);
      other.kernels_ = nullptr;
    }
    return *this;
  }

  // Validates spec and options, then takes exactly plan(spec, options).total() bytes (plus
  // alignment of the arena's next free byte) from `arena`. On failure the arena is rewound to
  // where it was and the status says which block did not fit and by how much. Inference-only
  // builds (FENNEC_INFERENCE_ONLY) refuse Mode::kTraining with kUnsupported.
  static Result<Model> bind(const ModelSpec& spec, const ModelOptions& options, Arena& arena);
  // With options.external_parameters: the parameters come from `external` (see
  // ExternalParameters), checked once here: size exactly the spec's (kShapeMismatch), alignment
  // (kInvalidArgument), a little-endian host (kUnsupported). The form without `external` refuses
  // options that ask for external parameters, and this one options that do not
  // (kInvalidArgument). Nothing is written to the caller's buffer, ever.
  static Result<Model> bind(const ModelSpec& spec, const ModelOptions& options, Arena& arena,
                            const ExternalParameters& external);

  // Draw the weights of every layer the arena holds from its Init (external layers are left as
  // they are); biases set to zero; batch norm as PyTorch starts it (gamma 1, beta 0, running
  // mean 0, running variance 1, batches_tracked 0); gradients and optimizer state zeroed. kFailedPrecondition
  // when the arena holds no parameters (inference with external parameters).
  Status init_parameters(Rng& rng);

  // Run the network on x (batch x input, 1 <= batch <= max_batch). The returned view of the
  // final layer's output (logits for softmax CE / BCE) lives in the arena until the next call.
  // In Phase::kTrain a batch-norm model needs batch >= 2 (kInvalidArgument: a variance of one
  // row), and the running statistics are updated, as PyTorch does in train(). (Inline: the
  // body is forward_impl, which the trainer calls with the update deferred; a firmware image
  // then carries one function, not a wrapper too.)
  Result<ConstMatrixView> forward(ConstMatrixView x) { return forward_impl(x, true); }

  // kFailedPrecondition for kTrain on an inference model. Changes nothing else.
  Status set_phase(Phase phase);
  Phase phase() const { return phase_; }
  // The generator dropout masks are drawn from (16 random bits a mask byte: p is rounded to a
  // multiple of 2^-16). Seeded at bind with kDefaultDropoutSeed; reseed for another sequence.
  Rng& dropout_rng() { return dropout_rng_; }
  const Rng& dropout_rng() const { return dropout_rng_; }
  static constexpr std::uint64_t kDefaultDropoutSeed = 0xD809A7ULL;
  // With fixed masks, forward in kTrain uses the masks as they are in dropout_mask(layer)
  // (written by the caller) instead of drawing new ones: for gradient checks and for matching
  // another framework's masks. Training models only.
  void set_fixed_dropout_masks(bool fixed) { fixed_masks_ = fixed; }
  // Layer i's dropout mask (training models, dropout layers; empty otherwise).
  DropoutMaskView dropout_mask(std::size_t layer) const;

  // Classic training models only (fused_block_rows 0: a fused model has no gradient block; its
  // Trainer runs backward and the update together). Given the same x as the last forward() and
  // dL/dlogits (batch x output),
  // overwrite the gradient block with dL/dparameters. `dlogits` may be output_gradient(), which
  // backward then consumes (the buffer is reused for dY/dX, so its contents are overwritten);
  // a caller-owned dlogits is only read.
  // If `input_gradient` has data (batch x input, must not alias x or dlogits), dL/dx is written
  // there too (for chaining models or studying gradient flow); not with frozen layers
  // (kFailedPrecondition: their outputs are not kept). Frozen layers get no gradient and are not
  // shown to the observer.
  Status backward(ConstMatrixView x, ConstMatrixView dlogits, MatrixView input_gradient = {},
                  const BackwardObserver* observer = nullptr);

  // Splits the large GEMMs of forward and backward across `pool`'s threads from now on (null:
  // back to the calling thread alone). The pool must run at most options().threads threads,
  // the count plan() reserved packing scratch for (kInvalidArgument; nothing changes then), and
  // must outlive its use here. Results are bit-identical for any thread count.
  Status set_thread_pool(ThreadPool* pool);
  ThreadPool* thread_pool() const { return pool_; }

  // Training models only: layer i's activation output from the last forward() (batch x units);
  // empty for a frozen layer whose output is not kept (all but the last frozen one).
  // After Trainer::step this is the step's forward pass (before the update): the last layer's
  // view holds the logits the step's loss was computed from.
  ConstMatrixView layer_output(std::size_t layer) const;

  // Arena buffer (batch x output) a caller may write dL/dlogits into before backward().
  // Training models only; empty view otherwise.
  MatrixView output_gradient(std::size_t batch) const;

  const ModelSpec& spec() const { return spec_; }
  const ModelOptions& options() const { return options_; }
  const MemoryPlan& memory_plan() const { return plan_; }
  Mode mode() const { return options_.mode; }
  std::size_t num_layers() const { return spec_.num_layers; }
  // The kernel table picked at bind (never kAuto).
  Isa isa() const { return isa_; }
  bool is_bound() const { return kernels_ != nullptr; }
  // Layers [0, frozen_layers()) are frozen (ModelOptions::frozen_layers; 0 for inference).
  std::size_t frozen_layers() const { return frozen_; }
  // Whether layer i reads its parameters in place from the caller's buffer.
  bool is_external(std::size_t layer) const { return layer < first_arena_layer_; }

  // Layer views. W has shape (units, fan_in), row-major, as PyTorch's nn.Linear.weight.
  // weights/bias are writable and empty for an external layer; const_weights/const_bias see
  // every layer wherever it lives.
  MatrixView weights(std::size_t layer) const;
  VectorView bias(std::size_t layer) const;
  ConstMatrixView const_weights(std::size_t layer) const;
  ConstVectorView const_bias(std::size_t layer) const;
  MatrixView weight_gradient(std::size_t layer) const;  // trainable layers, classic training only
  VectorView bias_gradient(std::size_t layer) const;    // trainable layers, classic training only
  // Batch-norm layers (empty views for the others): gamma and beta (parameters), their
  // gradients (classic training), and the running mean and variance (state; writable, e.g. by
  // a loader). batches_tracked(): training-phase forwards so far (PyTorch's num_batches_tracked).
  VectorView bn_gamma(std::size_t layer) const;
  VectorView bn_beta(std::size_t layer) const;
  VectorView bn_gamma_gradient(std::size_t layer) const;
  VectorView bn_beta_gradient(std::size_t layer) const;
  VectorView bn_running_mean(std::size_t layer) const;
  VectorView bn_running_var(std::size_t layer) const;
  std::uint64_t batches_tracked() const { return batches_tracked_; }
  // Running mean 0, running variance 1, batches_tracked 0 (what a failed load leaves).
  void reset_batchnorm_state();
  void set_batches_tracked(std::uint64_t n) { batches_tracked_ = n; }
  // The whole running-statistics block (padding included), layer by layer: running mean then
  // running variance of each batch-norm layer (what checkpoints save).
  VectorView layer_state() const { return {layer_state_, layer_state_floats_}; }

  // The flat blocks (padding included; padding is always zero). parameters(): every layer the
  // arena holds (empty when it holds none); trainable_parameters(): its tail of the trainable
  // layers, the layout of gradients() and optimizer_state() (all of parameters() when nothing is
  // frozen).
  VectorView parameters() const { return {params_, param_floats_}; }
  VectorView trainable_parameters() const {
    const bool training = options_.mode == Mode::kTraining && params_ != nullptr;
    return {training ? params_ + trainable_offset_ : nullptr, training ? trainable_floats_ : 0};
  }
  // Empty for inference and for the fused update (which keeps one block, not the model's).
  VectorView gradients() const { return {grads_, grads_ ? trainable_floats_ : 0}; }
  // slot < optimizer_state_slots(options().optimizer); empty view otherwise.
  VectorView optimizer_state(std::size_t slot) const;

 private:
  // Trivial (every member is a value or a view), and private so that only the moves use them.
  Model(const Model&) = default;
  Model& operator=(const Model&) = default;

  friend struct detail::FusedUpdate;  // backward fused with the optimizer (core/fused_update.cpp)
  friend class Trainer;               // forward with the running-statistics update deferred
  friend struct detail::ModelInternals;  // what the library reads of a model and users need not

  // forward; with commit_running false the batch statistics are kept but not yet folded into
  // the running ones (Trainer::step does that only once the step has succeeded).
  Result<ConstMatrixView> forward_impl(ConstMatrixView x, bool commit_running);
  void commit_batch_statistics();
  void draw_dropout_mask(std::size_t layer, std::size_t batch);
  // Runs one GEMM of the model with its packing scratch, split across the pool when it has one
  // and the GEMM is large enough.
  void gemm(void (*fn)(const kernels::GemmArgs&), detail::GemmForm form, const kernels::GemmArgs& g) const;
  // backward's steps for layer l: dY -> dZ in place (dropout, activation, batch norm), and db.
  void backward_to_preactivation(std::size_t l, std::size_t batch, float* dy);
  void bias_gradient(std::size_t l, std::size_t batch, const float* dz);
  void reset_batchnorm();

  ModelSpec spec_{};
  ModelOptions options_{};
  MemoryPlan plan_{};
  Isa isa_ = Isa::kRef;
  const kernels::KernelTable* kernels_ = nullptr;  // set by bind; null: unbound (a move leaves it null)

  static Result<Model> bind_impl(const ModelSpec& spec, const ModelOptions& options, Arena& arena,
                                 const ExternalParameters* external);

  std::size_t param_floats_ = 0;
  float* params_ = nullptr;
  float* grads_ = nullptr;
  float* grad_block_ = nullptr;  // fused update: one block of gradient rows
  float* state_[2] = {nullptr, nullptr};
  std::size_t frozen_ = 0;
  std::size_t first_arena_layer_ = 0;
  // Offset (floats) of the first trainable layer in the parameter block, and the floats from
  // there to its end (the size of the gradient and state blocks).
  std::size_t trainable_offset_ = 0;
  std::size_t trainable_floats_ = 0;
  // The caller's buffer (external parameters; null otherwise).
  const float* external_ = nullptr;

  // Where layer i's offsets point: the caller's buffer or the parameter block.
  const float* layer_base(std::size_t i) const { return i < first_arena_layer_ ? external_ : params_; }
  // Two (max_batch x widest) buffers: dY/dX in training, ping-pong in inference.
  float* buffers_[2] = {nullptr, nullptr};
  float* scratch_ = nullptr;
  std::size_t scratch_floats_ = 0;  // of each thread's block (thread t's starts at t * this)
  ThreadPool* pool_ = nullptr;
  // Rows of the last forward() (for layer_output and backward's consistency check).
  std::size_t last_batch_ = 0;

  Phase phase_ = Phase::kEval;
  Phase last_phase_ = Phase::kEval;  // of the last forward (backward needs kTrain's buffers)
  bool fixed_masks_ = false;
  bool pending_statistics_ = false;  // batch statistics of the last forward not yet committed
  // Seeded by bind (only in builds with dropout: kBuildHasBatchNormDropout), so that constructing
  // a Model runs no seeding code on an inference-only firmware.
  Rng dropout_rng_{Rng::State{}};
  std::uint64_t batches_tracked_ = 0;
  // Batch norm's running statistics of every layer (model state, not parameters).
  float* layer_state_ = nullptr;
  std::size_t layer_state_floats_ = 0;
  // What bind placed for each layer, in one array of structs so that constructing a Model zeroes
  // it with one memset (a firmware image pays for every separate array's initialisation).
  struct LayerBlocks {
    // Offsets (floats) of W_i and b_i inside the parameter block, or for an external layer
    // inside the caller's buffer (see layer_base); batch norm's gamma (beta follows, padded).
    std::size_t weight_offset;
    std::size_t bias_offset;
    std::size_t gamma_offset;
    // Training: the layer's output when it is kept (max_batch x units). Inference: null.
    float* output;
    // Batch norm: running mean (var follows, padded) in the layer-state block; the statistics
    // block [mean | var | inv_std] (training) or [inv_std] (inference); x-hat (training).
    float* running;
    float* bn_stats;
    float* xhat;
    // Dropout (training): the activation output before dropout, and the mask.
    float* pre_dropout;
    unsigned char* mask;
  };
  LayerBlocks layer_[kMaxLayers] = {};
};

}  // namespace fennec
