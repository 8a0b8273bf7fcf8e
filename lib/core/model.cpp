// SPDX-License-Identifier: Apache-2.0
#include "fennec/model.hpp"

#include <cstdint>
#include <cstring>

#include "core/check.hpp"
#include "core/finite.hpp"
#include "core/gemm_call.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec {
namespace {

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
  FENNEC_ENSURE(options.frozen_layers < spec.num_layers || options.mode != Mode::kTraining,
                StatusCode::kInvalidArgument, "frozen_layers %lu: at least one of %lu layers must train",
                static_cast<unsigned long>(options.frozen_layers),
                static_cast<unsigned long>(spec.num_layers));
  // The plan counts the parameters in the arena or not by this flag alone.
  FENNEC_ENSURE(options.external_parameters == (external != nullptr), StatusCode::kInvalidArgument,
                "options.external_parameters %s, but bind was %s a parameter buffer",
                options.external_parameters ? "set" : "not set", external ? "given" : "not given");
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

  const bool training = options.mode == Mode::kTraining;
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
      if (keeps_layer_output(options, i)) m.outputs_[i] = take(batch * spec.layers[i].units, "layer outputs");
  }
  m.buffers_[0] = take(batch * buffer_width, "activation buffers");
  m.buffers_[1] = take(batch * buffer_width, "activation buffers");
  if (m.plan_.scratch) {
    m.scratch_floats_ = m.plan_.scratch / sizeof(float);
    m.scratch_ = take(m.scratch_floats_, "GEMM scratch");
  }
  if (!failure.is_ok()) {
    arena.rewind(start);
    return Status::error(StatusCode::kOutOfMemory, "%s; the model needs %zu bytes in all (plan)",
                         failure.message(), m.plan_.total());
  }

  // Padding must read as zero forever (optimizers then keep it at zero), and a fresh model
  // must not expose whatever bytes the caller's buffer held.
  if (m.params_) std::memset(m.params_, 0, m.param_floats_ * sizeof(float));
  if (m.grads_) std::memset(m.grads_, 0, m.trainable_floats_ * sizeof(float));
  for (float* s : m.state_)
    if (s) std::memset(s, 0, m.trainable_floats_ * sizeof(float));

  m.external_ = external ? static_cast<const float*>(external->data) : nullptr;
  std::size_t offset = 0, file_offset = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t units = spec.layers[i].units;
    const std::size_t w_floats = units * spec.fan_in(i);
    const std::size_t file_w = file_offset, file_b = file_offset + w_floats;
    file_offset += w_floats + units;
    if (i < m.first_arena_layer_) {
      m.weight_offset_[i] = file_w;
      m.bias_offset_[i] = file_b;
      continue;
    }
    m.weight_offset_[i] = offset;
    offset += padded_floats(w_floats);
    m.bias_offset_[i] = offset;
    offset += padded_floats(units);
    // A trainable layer of an externally bound model starts from the caller's values.
    if (m.external_) {
      std::memcpy(m.params_ + m.weight_offset_[i], m.external_ + file_w, w_floats * sizeof(float));
      std::memcpy(m.params_ + m.bias_offset_[i], m.external_ + file_b, units * sizeof(float));
    }
  }
  m.kernels_ = kernels::kernel_table_for(m.isa_);
  return m;
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
  if (grads_) std::memset(grads_, 0, trainable_floats_ * sizeof(float));
  for (float* s : state_)
    if (s) std::memset(s, 0, trainable_floats_ * sizeof(float));
  return Status::ok();
}

Result<ConstMatrixView> Model::forward(ConstMatrixView x) {
  FENNEC_RETURN_IF_ERROR(check_input(*this, x, "forward"));
  const std::size_t bad = detail::first_non_finite(x.data, x.rows, x.cols, x.stride);
  if (bad != x.rows * x.cols) {
    return Status::error(StatusCode::kNonFinite, "forward: input row %zu column %zu is NaN or Inf",
                         bad / x.cols, bad % x.cols);
  }
  const std::size_t batch = x.rows;
  ConstMatrixView in = x;
  for (std::size_t l = 0; l < spec_.num_layers; ++l) {
    const LayerSpec& layer = spec_.layers[l];
    // Kept outputs (training) go to their own buffer; the rest ping-pong.
    float* out = outputs_[l] ? outputs_[l] : buffers_[l % 2];
    kernels::GemmArgs g;
    g.m = batch;
    g.n = layer.units;
    g.k = in.cols;
    g.a = in.data;
    g.lda = in.stride;
    g.b = layer_base(l) + weight_offset_[l];
    g.ldb = in.cols;
    g.c = out;
    g.ldc = layer.units;
    g.bias = layer_base(l) + bias_offset_[l];
    g.act = layer.activation;
    run_gemm(kernels_->gemm_nt_f32, g, scratch_, scratch_floats_);
    in = ConstMatrixView(out, batch, layer.units);
  }
  last_batch_ = batch;
  return in;
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
    const LayerSpec& layer = spec_.layers[l];
    const std::size_t units = layer.units, fan_in = spec_.fan_in(l);
    const ConstMatrixView in = l == 0 ? x : ConstMatrixView(outputs_[l - 1], batch, fan_in);
    if (observer && observer->on_output_gradient)
      observer->on_output_gradient(observer->context, l, ConstMatrixView(dy, batch, units));
    // dZ = dY * act'(Y), in place.
    kernels_->act_bwd_f32(batch, units, outputs_[l], units, dy, units, layer.activation);
    // dW = dZ^T * X  (units x fan_in)
    kernels::GemmArgs gw;
    gw.m = units;
    gw.n = fan_in;
    gw.k = batch;
    gw.a = dy;
    gw.lda = units;
    gw.b = in.data;
    gw.ldb = in.stride;
    gw.c = grads_ + (weight_offset_[l] - trainable_offset_);
    gw.ldc = fan_in;
    run_gemm(kernels_->gemm_tn_f32, gw, scratch_, scratch_floats_);
    kernels_->col_sum_f32(batch, units, dy, units, grads_ + (bias_offset_[l] - trainable_offset_));
    // dX = dZ * W  (batch x fan_in), into the other buffer or the caller's input gradient.
    float* dx = nullptr;
    std::size_t lddx = fan_in;
    if (l > frozen_) {
      dx = dy == buffers_[0] ? buffers_[1] : buffers_[0];
    } else if (input_gradient.data) {
      dx = input_gradient.data;
      lddx = input_gradient.stride;
    }
    if (dx) {
      kernels::GemmArgs gx;
      gx.m = batch;
      gx.n = fan_in;
      gx.k = units;
      gx.a = dy;
      gx.lda = units;
      gx.b = layer_base(l) + weight_offset_[l];
      gx.ldb = fan_in;
      gx.c = dx;
      gx.ldc = lddx;
      run_gemm(kernels_->gemm_nn_f32, gx, scratch_, scratch_floats_);
      dy = dx;
    }
  }
  return Status::ok();
}

MatrixView Model::output_gradient(std::size_t batch) const {
  if (options_.mode != Mode::kTraining || batch == 0 || batch > options_.max_batch) return {};
  return MatrixView(buffers_[0], batch, spec_.output());
}

ConstMatrixView Model::layer_output(std::size_t layer) const {
  if (options_.mode != Mode::kTraining || layer >= spec_.num_layers || last_batch_ == 0 ||
      !outputs_[layer])
    return {};
  return ConstMatrixView(outputs_[layer], last_batch_, spec_.layers[layer].units);
}

MatrixView Model::weights(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers || layer < first_arena_layer_) return {};
  return MatrixView(params_ + weight_offset_[layer], spec_.layers[layer].units, spec_.fan_in(layer));
}

VectorView Model::bias(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers || layer < first_arena_layer_) return {};
  return {params_ + bias_offset_[layer], spec_.layers[layer].units};
}

ConstMatrixView Model::const_weights(std::size_t layer) const {
  if (!is_bound() || layer >= spec_.num_layers) return {};
  return ConstMatrixView(layer_base(layer) + weight_offset_[layer], spec_.layers[layer].units,
                         spec_.fan_in(layer));
}

ConstVectorView Model::const_bias(std::size_t layer) const {
  if (!is_bound() || layer >= spec_.num_layers) return {};
  return {layer_base(layer) + bias_offset_[layer], spec_.layers[layer].units};
}

MatrixView Model::weight_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers || layer < frozen_) return {};
  return MatrixView(grads_ + (weight_offset_[layer] - trainable_offset_), spec_.layers[layer].units,
                    spec_.fan_in(layer));
}

VectorView Model::bias_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers || layer < frozen_) return {};
  return {grads_ + (bias_offset_[layer] - trainable_offset_), spec_.layers[layer].units};
}

VectorView Model::optimizer_state(std::size_t slot) const {
  if (slot >= 2 || !state_[slot]) return {};
  return {state_[slot], trainable_floats_};
}

}  // namespace fennec
