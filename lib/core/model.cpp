// SPDX-License-Identifier: Apache-2.0
#include "fennec/model.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/check.hpp"
#include "core/finite.hpp"
#include "core/gemm_call.hpp"
#include "core/parallel_gemm.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec {
namespace {

// An inference-only build binds Mode::kInference only (validate_options): written into the
// conditions below, this constant lets such a build drop the training branches at compile time.
#if defined(FENNEC_INFERENCE_ONLY)
constexpr bool kBuildTrains = false;
#else
constexpr bool kBuildTrains = true;
#endif

// Largest batch accepted (keeps batch * width far from size_t overflow on 32-bit targets).
constexpr std::size_t kMaxBatch = 1u << 20;
// Largest fused gradient block (rows): keeps rows x fan_in far from overflow on 32-bit targets.
constexpr std::uint32_t kMaxFusedBlockRows = 1u << 16;

Status validate_options(const ModelOptions& o) {
  const int mode = static_cast<int>(o.mode);
  FENNEC_ENSURE(mode == 0 || mode == 1, StatusCode::kInvalidArgument, "mode %d out of range", mode);
#if defined(FENNEC_INFERENCE_ONLY)
  // This build has no backward or optimizer kernels (FENNEC_INFERENCE_ONLY).
  FENNEC_ENSURE(o.mode == Mode::kInference, StatusCode::kUnsupported,
                "this is an inference-only build of Fennec: bind with Mode::kInference");
#endif
  FENNEC_ENSURE(o.max_batch >= 1 && o.max_batch <= kMaxBatch, StatusCode::kInvalidArgument,
                "max_batch must be in [1, %zu], got %zu", kMaxBatch, o.max_batch);
  FENNEC_ENSURE(o.mode == Mode::kTraining || o.fused_block_rows == 0, StatusCode::kInvalidArgument,
                "fused_block_rows is %u but the fused update is for training models (use 0)",
                static_cast<unsigned>(o.fused_block_rows));
  FENNEC_ENSURE(o.fused_block_rows <= kMaxFusedBlockRows, StatusCode::kInvalidArgument,
                "fused_block_rows must be in [0, %u], got %u", static_cast<unsigned>(kMaxFusedBlockRows),
                static_cast<unsigned>(o.fused_block_rows));
  const int opt = static_cast<int>(o.optimizer);
  FENNEC_ENSURE(opt >= 0 && opt < kOptimizerCount, StatusCode::kInvalidArgument,
                "optimizer kind %d out of range", opt);
  FENNEC_ENSURE(o.mode == Mode::kTraining || o.frozen_layers == 0, StatusCode::kInvalidArgument,
                "frozen_layers must be 0 for inference");
#if !defined(FENNEC_NO_THREADS)
  // threads is the most a model may use: a build without threads uses 1 whatever it says (its
  // ThreadPool refuses to start more), so only a threaded build checks it, and a firmware image
  // carries neither the check nor its message.
  FENNEC_ENSURE(o.threads >= 1 && o.threads <= kMaxThreads, StatusCode::kInvalidArgument,
                "threads must be in [1, %u], got %u", kMaxThreads, static_cast<unsigned>(o.threads));
#endif
  return Status::ok();
}

bool little_endian_host() {
  const std::uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// The caller's buffer for external parameters: exactly the spec's parameters, float-aligned.
Status check_external(const ModelSpec& spec, const ExternalParameters& e) {
  const std::size_t floats = file_layout_floats(spec, spec.num_layers);
  FENNEC_ENSURE(e.data != nullptr, StatusCode::kInvalidArgument, "external parameters: null buffer");
  FENNEC_ENSURE(reinterpret_cast<std::uintptr_t>(e.data) % alignof(float) == 0,
                StatusCode::kInvalidArgument,
                "external parameters at %p are not %zu-byte aligned (a float load there faults "
                "on Cortex-M)",
                e.data, alignof(float));
  FENNEC_ENSURE(e.bytes == floats * sizeof(float), StatusCode::kShapeMismatch,
                "external parameters are %zu bytes, the network has %zu parameters (%zu bytes)",
                e.bytes, floats, floats * sizeof(float));
  FENNEC_ENSURE(little_endian_host(), StatusCode::kUnsupported,
                "external parameters are little-endian f32: this host is big-endian");
  return Status::ok();
}

Status check_input(const Model& m, ConstMatrixView x, const char* who) {
  FENNEC_ENSURE(m.is_bound(), StatusCode::kFailedPrecondition, "%s: model is not bound", who);
  FENNEC_ENSURE(x.data != nullptr, StatusCode::kInvalidArgument, "%s: input has no data", who);
  FENNEC_ENSURE(x.cols == m.spec().input, StatusCode::kShapeMismatch,
                "%s: input has %zu columns, the model expects %u", who, x.cols,
                static_cast<unsigned>(m.spec().input));
  FENNEC_ENSURE(x.rows >= 1 && x.rows <= m.options().max_batch, StatusCode::kShapeMismatch,
                "%s: batch of %zu rows outside [1, %zu] (max_batch the model was bound with)", who,
                x.rows, m.options().max_batch);
  FENNEC_ENSURE(x.stride >= x.cols, StatusCode::kShapeMismatch, "%s: input stride %zu < cols %zu",
                who, x.stride, x.cols);
  return Status::ok();
}

}  // namespace

using detail::run_gemm;

Status validate(const ModelOptions& options) { return validate_options(options); }

Result<Model> Model::bind(const ModelSpec& spec, const ModelOptions& options, Arena& arena) {
  return bind_impl(spec, options, arena, nullptr);
}

// check_external is called only from here, so an image that never binds external parameters
// does not link it (-ffunction-sections, --gc-sections).
Result<Model> Model::bind(const ModelSpec& spec, const ModelOptions& options, Arena& arena,
                          const ExternalParameters& external) {
  FENNEC_RETURN_IF_ERROR(validate(spec));
  FENNEC_RETURN_IF_ERROR(check_external(spec, external));
  return bind_impl(spec, options, arena, &external);
}

Result<Model> Model::bind_impl(const ModelSpec& spec, const ModelOptions& options, Arena& arena,
                               const ExternalParameters* external) {
  FENNEC_RETURN_IF_ERROR(validate(spec));
  FENNEC_RETURN_IF_ERROR(validate_options(options));
  FENNEC_ENSURE(!kBuildTrains || options.frozen_layers < spec.num_layers || options.mode != Mode::kTraining,
                StatusCode::kInvalidArgument, "frozen_layers %lu: at least one of %lu layers must train",
                static_cast<unsigned long>(options.frozen_layers),
                static_cast<unsigned long>(spec.num_layers));
  // The plan counts the parameters in the arena or not by this flag alone.
  FENNEC_ENSURE(options.external_parameters == (external != nullptr), StatusCode::kInvalidArgument,
                "options.external_parameters %s, but bind was %s a parameter buffer",
                options.external_parameters ? "set" : "not set", external ? "given" : "not given");
  if (kBuildHasBatchNormDropout && (spec.has_batchnorm() || spec.has_dropout())) {
    FENNEC_ENSURE(options.frozen_layers == 0 && !options.external_parameters && options.fused_block_rows == 0,
                  StatusCode::kUnsupported,
                  "batch norm and dropout layers are not supported with frozen layers, external "
                  "parameters or the fused update");
  }
  Result<Isa> isa = resolve_isa(options.isa);
  if (!isa.is_ok()) return isa.status();

  Model m;
  m.spec_ = spec;
  m.options_ = options;
#if !defined(FENNEC_INFERENCE_ONLY)
  if (options.mode == Mode::kTraining) {
    // The optimizer kind the memory is planned for is the one the trainer runs.
    if (m.options_.optimizer_config.kind != options.optimizer)
      m.options_.optimizer_config = OptimizerConfig::defaults(options.optimizer);
    FENNEC_RETURN_IF_ERROR(validate(m.options_.optimizer_config));
  }
#endif
  m.plan_ = plan(spec, options);
  m.isa_ = isa.value();
  m.frozen_ = frozen_layer_count(options);
  m.first_arena_layer_ = first_arena_layer(spec, options);
  m.param_floats_ = parameter_block_floats(spec, m.first_arena_layer_);

  const bool training = kBuildTrains && options.mode == Mode::kTraining;
  const std::size_t batch = options.max_batch;
  const std::size_t buffer_width = activation_buffer_width(spec, options);
  const Arena::Mark start = arena.mark();

  // Each block is one allocation of exactly the size plan() counted for it.
  Status failure;
  auto take = [&](std::size_t floats, const char* what) -> float* {
    if (!failure.is_ok()) return nullptr;
    Result<float*> r = arena.allocate_array<float>(floats, what);
    if (!r.is_ok()) {
      failure = r.status();
      return nullptr;
    }
    return r.value();
  };

  if (m.param_floats_) m.params_ = take(m.param_floats_, "parameters");
  const bool fused = training && options.fused_block_rows > 0;
  if (training) {
    m.trainable_floats_ = parameter_block_floats(spec, m.frozen_);
    m.trainable_offset_ = m.param_floats_ - m.trainable_floats_;
    if (fused) {
      m.grad_block_ = take(m.plan_.gradients / sizeof(float), "gradient block");
    } else {
      m.grads_ = take(m.trainable_floats_, "gradients");
    }
    for (std::size_t s = 0; s < optimizer_state_slots(options.optimizer); ++s)
      m.state_[s] = take(m.trainable_floats_, "optimizer state");
    for (std::size_t i = 0; i < spec.num_layers; ++i)
      if (keeps_layer_output(options, i)) m.layer_[i].output = take(batch * spec.layers[i].units, "layer outputs");
  }
  m.buffers_[0] = take(batch * buffer_width, "activation buffers");
  m.buffers_[1] = take(batch * buffer_width, "activation buffers");
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units;
    if (spec.layers[i].batchnorm.enabled) {
      m.layer_[i].bn_stats = take(batchnorm_stats_floats(options, units), "batch-norm statistics");
      if (training) m.layer_[i].xhat = take(batch * units, "batch-norm x-hat");
    }
    if (training && spec.layers[i].dropout > 0.f) {
      m.layer_[i].pre_dropout = take(batch * units, "pre-dropout outputs");
      if (failure.is_ok()) {
        Result<unsigned char*> r = arena.allocate_array<unsigned char>(batch * units, "dropout masks");
        if (r.is_ok())
          m.layer_[i].mask = r.value();
        else
          failure = r.status();
      }
    }
  }
  if (m.plan_.scratch) {
    m.scratch_ = take(m.plan_.scratch / sizeof(float), "GEMM scratch");
    // Each thread's block (plan() reserves options.threads equal ones).
    m.scratch_floats_ = m.plan_.scratch / sizeof(float) / (kBuildHasThreads ? options.threads : 1);
  }
  m.layer_state_floats_ = kBuildHasBatchNormDropout ? batchnorm_state_floats(spec) : 0;
  if (m.layer_state_floats_) m.layer_state_ = take(m.layer_state_floats_, "batch-norm running statistics");
  if (!failure.is_ok()) {
    arena.rewind(start);
    return Status::error(StatusCode::kOutOfMemory, "%s; the model needs %zu bytes in all (plan)",
                         failure.message(), m.plan_.total());
  }

  // Padding must read as zero forever (optimizers then keep it at zero), and a fresh model
  // must not expose whatever bytes the caller's buffer held.
  if (m.params_) std::memset(m.params_, 0, m.param_floats_ * sizeof(float));
  if (m.layer_state_) std::memset(m.layer_state_, 0, m.layer_state_floats_ * sizeof(float));
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec.num_layers; ++i)
    if (m.layer_[i].mask) std::memset(m.layer_[i].mask, 1, batch * spec.layers[i].units);
  if (training) {
    if (m.grads_) std::memset(m.grads_, 0, m.trainable_floats_ * sizeof(float));
    for (float* s : m.state_)
      if (s) std::memset(s, 0, m.trainable_floats_ * sizeof(float));
  }

  m.external_ = external ? static_cast<const float*>(external->data) : nullptr;
  std::size_t offset = 0, file_offset = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units;
    const std::size_t w_floats = units * spec.fan_in(i);
    const std::size_t file_w = file_offset, file_b = file_offset + w_floats;
    file_offset += w_floats + units;
    if (i < m.first_arena_layer_) {
      m.layer_[i].weight_offset = file_w;
      m.layer_[i].bias_offset = file_b;
      continue;
    }
    m.layer_[i].weight_offset = offset;
    offset += padded_floats(w_floats);
    m.layer_[i].bias_offset = offset;
    offset += padded_floats(units);
    if (kBuildHasBatchNormDropout && spec.layers[i].batchnorm.enabled) {
      m.layer_[i].gamma_offset = offset;
      offset += 2 * padded_floats(units);
    }
    // A trainable layer of an externally bound model starts from the caller's values.
    if (m.external_) {
      std::memcpy(m.params_ + m.layer_[i].weight_offset, m.external_ + file_w, w_floats * sizeof(float));
      std::memcpy(m.params_ + m.layer_[i].bias_offset, m.external_ + file_b, units * sizeof(float));
    }
  }
  std::size_t state_offset = 0;
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec.num_layers; ++i) {
    if (!spec.layers[i].batchnorm.enabled) continue;
    m.layer_[i].running = m.layer_state_ + state_offset;
    state_offset += 2 * padded_floats(spec.layers[i].units);
  }
  if (kBuildHasBatchNormDropout) {
    m.reset_batchnorm();
    m.dropout_rng_.reseed(kDefaultDropoutSeed);
  }
  m.phase_ = training ? Phase::kTrain : Phase::kEval;
  m.kernels_ = kernels::kernel_table_for(m.isa_);
  return m;
}

void Model::reset_batchnorm() {
  // PyTorch's BatchNorm1d initial values: gamma 1, beta 0, running mean 0, running variance 1.
  for (std::size_t i = 0; kBuildHasBatchNormDropout && i < spec_.num_layers; ++i) {
    if (!spec_.layers[i].batchnorm.enabled) continue;
    const std::size_t units = spec_.layers[i].units;
    VectorView g = bn_gamma(i), b = bn_beta(i), rm = bn_running_mean(i), rv = bn_running_var(i);
    for (std::size_t j = 0; j < units; ++j) {
      g[j] = 1.f;
      b[j] = 0.f;
      rm[j] = 0.f;
      rv[j] = 1.f;
    }
  }
  batches_tracked_ = 0;
}

void Model::reset_batchnorm_state() {
  for (std::size_t i = 0; i < spec_.num_layers; ++i) {
    VectorView rm = bn_running_mean(i), rv = bn_running_var(i);
    for (std::size_t j = 0; j < rm.size; ++j) {
      rm[j] = 0.f;
      rv[j] = 1.f;
    }
  }
  batches_tracked_ = 0;
}

Status Model::set_phase(Phase phase) {
  FENNEC_ENSURE(is_bound(), StatusCode::kFailedPrecondition, "set_phase: model is not bound");
  FENNEC_ENSURE(phase == Phase::kEval || phase == Phase::kTrain, StatusCode::kInvalidArgument,
                "set_phase: phase %d out of range", static_cast<int>(phase));
  FENNEC_ENSURE(phase == Phase::kEval || options_.mode == Mode::kTraining, StatusCode::kFailedPrecondition,
                "set_phase: an inference model has no training phase (no batch statistics or masks)");
  phase_ = phase;
  return Status::ok();
}

Status Model::init_parameters(Rng& rng) {
  FENNEC_ENSURE(is_bound(), StatusCode::kFailedPrecondition, "init_parameters: model is not bound");
  FENNEC_ENSURE(params_ != nullptr, StatusCode::kFailedPrecondition,
                "init_parameters: every parameter is external (read in place, read-only)");
  for (std::size_t i = first_arena_layer_; i < spec_.num_layers; ++i) {
    FENNEC_RETURN_IF_ERROR(initialize(spec_.layers[i].init, weights(i), rng));
    VectorView b = bias(i);
    for (std::size_t j = 0; j < b.size; ++j) b[j] = 0.f;
  }
  reset_batchnorm();
  if (grads_) std::memset(grads_, 0, trainable_floats_ * sizeof(float));
  for (float* s : state_)
    if (s) std::memset(s, 0, trainable_floats_ * sizeof(float));
  return Status::ok();
}

// Every GEMM of forward and backward goes through here: the one place that hands a kernel the
// model's packing scratch.
void Model::gemm(kernels::GemmFn fn, detail::GemmForm form, const kernels::GemmArgs& g) const {
  if (kBuildHasThreads && pool_ && detail::run_gemm_split(*pool_, fn, form, g, scratch_, scratch_floats_,
                                                            detail::kGemmSplitMinMacs))
    return;
  run_gemm(fn, g, scratch_, scratch_floats_);
}

Status Model::set_thread_pool(ThreadPool* pool) {
  FENNEC_ENSURE(is_bound(), StatusCode::kFailedPrecondition, "set_thread_pool: model is not bound");
  FENNEC_ENSURE(!pool || pool->threads() <= options_.threads, StatusCode::kInvalidArgument,
                "set_thread_pool: the pool runs %u threads, the model was planned for %u "
                "(ModelOptions::threads)",
                pool ? pool->threads() : 0u, static_cast<unsigned>(options_.threads));
  pool_ = pool;
  return Status::ok();
}

Result<ConstMatrixView> Model::forward_impl(ConstMatrixView x, bool commit_running) {
  FENNEC_RETURN_IF_ERROR(check_input(*this, x, "forward"));
  const std::size_t bad = detail::first_non_finite(x.data, x.rows, x.cols, x.stride);
  if (bad != x.rows * x.cols) {
    return Status::error(StatusCode::kNonFinite, "forward: input row %zu column %zu is NaN or Inf",
                         bad / x.cols, bad % x.cols);
  }
  const std::size_t batch = x.rows;
  const bool train = kBuildHasBatchNormDropout && phase_ == Phase::kTrain;
  FENNEC_ENSURE(!train || batch >= 2 || !spec_.has_batchnorm(), StatusCode::kInvalidArgument,
                "forward: batch norm in the training phase needs at least 2 rows, got 1 (eval phase "
                "normalises single rows with the running statistics)");
  ConstMatrixView in = x;
  for (std::size_t l = 0; l < spec_.num_layers; ++l) {
    const LayerSpec& layer = spec_.layers[l];
    const std::size_t units = layer.units;
    const bool bn = kBuildHasBatchNormDropout && layer.batchnorm.enabled;
    const bool drop = train && layer_[l].mask != nullptr;
    // Kept outputs (training) go to their own buffer; the rest ping-pong. With dropout the
    // activation output is kept before dropout, and with batch norm in training the dense
    // output lands in x-hat, which the normalisation then overwrites in place.
    float* out = layer_[l].output ? layer_[l].output : buffers_[l % 2];
    float* act_out = drop ? layer_[l].pre_dropout : out;
    const float* const w = layer_base(l) + layer_[l].weight_offset;
    const float* const bias = layer_base(l) + layer_[l].bias_offset;
    // Batch norm comes between the dense product and the activation; in training the product
    // lands in x-hat, which the normalisation then reads.
    const ActivationSpec act = bn ? ActivationSpec::identity() : layer.activation;
    float* const y = bn && train ? layer_[l].xhat : act_out;
    gemm(kernels_->gemm_nt_f32, detail::GemmForm::kNT, detail::dense_forward_gemm(in, w, bias, act, units, y));
    if (bn) {
      const std::size_t pu = padded_floats(units);
      kernels::BnFwdArgs a;
      a.m = batch;
      a.n = units;
      a.gamma = params_ + layer_[l].gamma_offset;
      a.beta = a.gamma + pu;
      a.y = act_out;
      a.ldy = units;
      float* inv_std = layer_[l].bn_stats + (kBuildTrains && options_.mode == Mode::kTraining ? 2 * pu : 0);
      const float* var;
      if (train) {
        float* mean = layer_[l].bn_stats;
        kernels_->bn_stats_f32(batch, units, layer_[l].xhat, units, mean, mean + pu);
        var = mean + pu;
        a.mean = mean;
        a.x = a.xhat = layer_[l].xhat;
        a.ldx = a.ldxhat = units;
      } else {
        var = layer_[l].running + pu;
        a.mean = layer_[l].running;
        a.x = act_out;
        a.ldx = units;
      }
      for (std::size_t j = 0; j < units; ++j) inv_std[j] = 1.f / std::sqrt(var[j] + layer.batchnorm.eps);
      a.inv_std = inv_std;
      kernels_->bn_fwd_f32(a);
      kernels_->bias_act_fwd_f32(batch, units, act_out, units, nullptr, layer.activation);
    }
    if (drop) {
      if (!fixed_masks_) draw_dropout_mask(l, batch);
      kernels_->dropout_f32(batch, units, act_out, units, layer_[l].mask, units, 1.f / (1.f - layer.dropout), out,
                            units);
    }
    in = ConstMatrixView(out, batch, units);
  }
  last_batch_ = batch;
  last_phase_ = phase_;
  if (train) {
    pending_statistics_ = true;
    if (commit_running) commit_batch_statistics();
  }
  return in;
}

void Model::commit_batch_statistics() {
  if (!pending_statistics_) return;
  pending_statistics_ = false;
  ++batches_tracked_;
  const std::size_t m = last_batch_;
  // PyTorch: the running variance estimates the population's, so the batch's is made unbiased.
  const float unbias = static_cast<float>(m) / static_cast<float>(m - 1);
  for (std::size_t l = 0; l < spec_.num_layers; ++l) {
    const BatchNormSpec& bn = spec_.layers[l].batchnorm;
    if (!bn.enabled) continue;
    const std::size_t units = spec_.layers[l].units, pu = padded_floats(units);
    const float mom = bn.momentum, keep = 1.f - bn.momentum;
    const float* mean = layer_[l].bn_stats;
    const float* var = mean + pu;
    float* rm = layer_[l].running;
    float* rv = rm + pu;
    for (std::size_t j = 0; j < units; ++j) {
      rm[j] = keep * rm[j] + mom * mean[j];
      rv[j] = keep * rv[j] + mom * (var[j] * unbias);
    }
  }
}

void Model::draw_dropout_mask(std::size_t layer, std::size_t batch) {
  // Keep when a 16-bit draw is >= p * 2^16: probability 1 - p to within 2^-16; two masks per
  // 32-bit draw, drawn a block at a time.
  const std::uint32_t threshold =
      static_cast<std::uint32_t>(static_cast<double>(spec_.layers[layer].dropout) * 65536.0 + 0.5);
  unsigned char* mask = layer_[layer].mask;
  const std::size_t n = batch * spec_.layers[layer].units;
  constexpr std::size_t kBlock = 128;
  std::uint32_t r[kBlock];
  for (std::size_t i = 0; i < n; i += 2 * kBlock) {
    const std::size_t pairs = (n - i + 1) / 2 < kBlock ? (n - i + 1) / 2 : kBlock;
    dropout_rng_.fill_u32(r, pairs);
    const std::size_t end = n - i < 2 * pairs ? n - i : 2 * pairs;
    for (std::size_t k = 0; k + 1 < end; k += 2) {
      mask[i + k] = (r[k / 2] & 0xffffu) >= threshold;
      mask[i + k + 1] = (r[k / 2] >> 16) >= threshold;
    }
    if (end % 2) mask[i + end - 1] = (r[end / 2] & 0xffffu) >= threshold;
  }
}

// Inline: backward is its only caller, and a firmware image then carries no call or second
// prologue for it (the same holds for bias_gradient).
inline void Model::backward_to_preactivation(std::size_t l, std::size_t batch, float* dy) {
  // Back through dropout (the same mask and scale), the activation (its derivative taken from
  // the output before dropout) and batch norm (which also writes dgamma and dbeta).
  const LayerSpec& layer = spec_.layers[l];
  const std::size_t units = layer.units;
  const float* act_out = layer_[l].output;
  if (kBuildHasBatchNormDropout && layer_[l].mask) {
    kernels_->dropout_f32(batch, units, dy, units, layer_[l].mask, units, 1.f / (1.f - layer.dropout), dy, units);
    act_out = layer_[l].pre_dropout;
  }
  kernels_->act_bwd_f32(batch, units, act_out, units, dy, units, layer.activation);
  if (!(kBuildHasBatchNormDropout && layer.batchnorm.enabled)) return;
  const std::size_t pu = padded_floats(units);
  kernels::BnBwdArgs a;
  a.m = batch;
  a.n = units;
  a.dy = a.dx = dy;
  a.lddy = a.lddx = units;
  a.xhat = layer_[l].xhat;
  a.ldxhat = units;
  a.gamma = params_ + layer_[l].gamma_offset;
  a.inv_std = layer_[l].bn_stats + 2 * pu;
  a.dgamma = grads_ + (layer_[l].gamma_offset - trainable_offset_);
  a.dbeta = a.dgamma + pu;
  kernels_->bn_bwd_f32(a);
}

inline void Model::bias_gradient(std::size_t l, std::size_t batch, const float* dz) {
  const std::size_t units = spec_.layers[l].units;
  float* db = grads_ + (layer_[l].bias_offset - trainable_offset_);
  if (kBuildHasBatchNormDropout && spec_.layers[l].batchnorm.enabled) {
    // Batch norm subtracts the batch mean, so the dense bias has no effect on the loss: its
    // gradient is exactly 0. The column sum would give the rounding noise of a cancelling sum
    // (~1e-9), which Adam's normalised step turns into moves of size ~lr.
    std::memset(db, 0, units * sizeof(float));
  } else {
    kernels_->col_sum_f32(batch, units, dz, units, db);
  }
}

Status Model::backward(ConstMatrixView x, ConstMatrixView dlogits, MatrixView input_gradient,
                       const BackwardObserver* observer) {
  FENNEC_ENSURE(options_.mode == Mode::kTraining, StatusCode::kFailedPrecondition,
                "backward: model was bound for inference (no gradient memory)");
  FENNEC_ENSURE(grads_ != nullptr, StatusCode::kFailedPrecondition,
                "backward: model was bound for the fused update (no whole-model gradient memory); "
                "Trainer::step runs its backward");
  FENNEC_RETURN_IF_ERROR(check_input(*this, x, "backward"));
  FENNEC_ENSURE(x.rows == last_batch_, StatusCode::kFailedPrecondition,
                "backward: x has %zu rows but the last forward() ran %zu", x.rows, last_batch_);
  FENNEC_ENSURE(!kBuildHasBatchNormDropout || last_phase_ == Phase::kTrain ||
                    !(spec_.has_batchnorm() || spec_.has_dropout()),
                StatusCode::kFailedPrecondition,
                "backward: the last forward ran in the eval phase; batch norm and dropout need a "
                "training-phase forward (set_phase(Phase::kTrain))");
  const std::size_t batch = x.rows;
  FENNEC_ENSURE(dlogits.data != nullptr && dlogits.rows == batch && dlogits.cols == spec_.output() &&
                    dlogits.stride >= dlogits.cols,
                StatusCode::kShapeMismatch, "backward: dlogits is %zu x %zu, expected %zu x %u",
                dlogits.rows, dlogits.cols, batch, static_cast<unsigned>(spec_.output()));
  if (input_gradient.data) {
    FENNEC_ENSURE(frozen_ == 0, StatusCode::kFailedPrecondition,
                  "backward: no input gradient with %zu frozen layers (their outputs are not kept)",
                  frozen_);
    FENNEC_ENSURE(input_gradient.rows == batch && input_gradient.cols == spec_.input &&
                      input_gradient.stride >= input_gradient.cols,
                  StatusCode::kShapeMismatch, "backward: input_gradient is %zu x %zu, expected %zu x %u",
                  input_gradient.rows, input_gradient.cols, batch, static_cast<unsigned>(spec_.input));
  }

  // dY of the last layer lives in buffers_[0] (stride = output width); copy unless the caller
  // already wrote it there through output_gradient().
  const std::size_t out_w = spec_.output();
  float* dy = buffers_[0];
  if (!(dlogits.data == dy && dlogits.stride == out_w)) {
    for (std::size_t i = 0; i < batch; ++i) std::memcpy(dy + i * out_w, dlogits.row(i), out_w * sizeof(float));
  }

  for (std::size_t l = spec_.num_layers; l-- > frozen_;) {
    const std::size_t units = spec_.layers[l].units, fan_in = spec_.fan_in(l);
    const ConstMatrixView in = l == 0 ? x : ConstMatrixView(layer_[l - 1].output, batch, fan_in);
    if (observer && observer->on_output_gradient)
      observer->on_output_gradient(observer->context, l, ConstMatrixView(dy, batch, units));
    float* const dw = grads_ + (layer_[l].weight_offset - trainable_offset_);
    const float* const w = layer_base(l) + layer_[l].weight_offset;
    // dX goes to the other buffer, to the caller's input gradient, or (first layer) nowhere.
    float* const dx = l > frozen_ ? (dy == buffers_[0] ? buffers_[1] : buffers_[0]) : input_gradient.data;
    const std::size_t lddx = l > frozen_ ? fan_in : input_gradient.stride;

    backward_to_preactivation(l, batch, dy);                                              // dZ, in place
    gemm(kernels_->gemm_tn_f32, detail::GemmForm::kTN, detail::weight_gradient_gemm(dy, units, units, in, dw));  // dW = dZ^T X
    bias_gradient(l, batch, dy);                                                          // db
    if (!dx) break;
    gemm(kernels_->gemm_nn_f32, detail::GemmForm::kNN, detail::input_gradient_gemm(dy, batch, units, w, fan_in, dx, lddx));  // dX = dZ W
    dy = dx;
  }
  return Status::ok();
}

MatrixView Model::output_gradient(std::size_t batch) const {
  if (options_.mode != Mode::kTraining || batch == 0 || batch > options_.max_batch) return {};
  return MatrixView(buffers_[0], batch, spec_.output());
}

ConstMatrixView Model::layer_output(std::size_t layer) const {
  if (options_.mode != Mode::kTraining || layer >= spec_.num_layers || last_batch_ == 0 ||
      !layer_[layer].output)
    return {};
  return ConstMatrixView(layer_[layer].output, last_batch_, spec_.layers[layer].units);
}

MatrixView Model::weights(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers || layer < first_arena_layer_) return {};
  return MatrixView(params_ + layer_[layer].weight_offset, spec_.layers[layer].units, spec_.fan_in(layer));
}

VectorView Model::bias(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers || layer < first_arena_layer_) return {};
  return {params_ + layer_[layer].bias_offset, spec_.layers[layer].units};
}

ConstMatrixView Model::const_weights(std::size_t layer) const {
  if (!is_bound() || layer >= spec_.num_layers) return {};
  return ConstMatrixView(layer_base(layer) + layer_[layer].weight_offset, spec_.layers[layer].units,
                         spec_.fan_in(layer));
}

ConstVectorView Model::const_bias(std::size_t layer) const {
  if (!is_bound() || layer >= spec_.num_layers) return {};
  return {layer_base(layer) + layer_[layer].bias_offset, spec_.layers[layer].units};
}

MatrixView Model::weight_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers || layer < frozen_) return {};
  return MatrixView(grads_ + (layer_[layer].weight_offset - trainable_offset_), spec_.layers[layer].units,
                    spec_.fan_in(layer));
}

VectorView Model::bias_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers || layer < frozen_) return {};
  return {grads_ + (layer_[layer].bias_offset - trainable_offset_), spec_.layers[layer].units};
}

VectorView Model::bn_gamma(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers || !spec_.layers[layer].batchnorm.enabled) return {};
  return {params_ + layer_[layer].gamma_offset, spec_.layers[layer].units};
}

VectorView Model::bn_beta(std::size_t layer) const {
  const VectorView g = bn_gamma(layer);
  return g.data ? VectorView{g.data + padded_floats(g.size), g.size} : VectorView{};
}

VectorView Model::bn_gamma_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers || !spec_.layers[layer].batchnorm.enabled) return {};
  return {grads_ + (layer_[layer].gamma_offset - trainable_offset_), spec_.layers[layer].units};
}

VectorView Model::bn_beta_gradient(std::size_t layer) const {
  const VectorView g = bn_gamma_gradient(layer);
  return g.data ? VectorView{g.data + padded_floats(g.size), g.size} : VectorView{};
}

VectorView Model::bn_running_mean(std::size_t layer) const {
  if (layer >= spec_.num_layers || !layer_[layer].running) return {};
  return {layer_[layer].running, spec_.layers[layer].units};
}

VectorView Model::bn_running_var(std::size_t layer) const {
  const VectorView m = bn_running_mean(layer);
  return m.data ? VectorView{m.data + padded_floats(m.size), m.size} : VectorView{};
}

DropoutMaskView Model::dropout_mask(std::size_t layer) const {
  if (layer >= spec_.num_layers || !layer_[layer].mask) return {};
  return {layer_[layer].mask, options_.max_batch, spec_.layers[layer].units};
}

VectorView Model::optimizer_state(std::size_t slot) const {
  if (slot >= 2 || !state_[slot]) return {};
  return {state_[slot], trainable_floats_};
}

}  // namespace fennec
