#include "fennec/model.hpp"

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
  FENNEC_RETURN_IF_ERROR(validate(spec));
  FENNEC_RETURN_IF_ERROR(validate_options(options));
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
  m.kernels_ = kernels::kernel_table_for(m.isa_);
  m.param_floats_ = parameter_block_floats(spec);

  const bool training = options.mode == Mode::kTraining;
  const std::size_t batch = options.max_batch;
  const std::size_t widest = max_layer_width(spec);
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

  m.params_ = take(m.param_floats_, "parameters");
  const bool fused = training && options.fused_block_rows > 0;
  if (fused) {
    m.grad_block_ = take(m.plan_.gradients / sizeof(float), "gradient block");
  } else if (training) {
    m.grads_ = take(m.param_floats_, "gradients");
  }
  if (training) {
    for (std::size_t s = 0; s < optimizer_state_slots(options.optimizer); ++s)
      m.state_[s] = take(m.param_floats_, "optimizer state");
    for (std::size_t i = 0; i < spec.num_layers; ++i)
      m.outputs_[i] = take(batch * spec.layers[i].units, "layer outputs");
  }
  m.buffers_[0] = take(batch * widest, "activation buffers");
  m.buffers_[1] = take(batch * widest, "activation buffers");
  if (m.plan_.scratch) {
    m.scratch_floats_ = m.plan_.scratch / sizeof(float);
    m.scratch_ = take(m.scratch_floats_, "GEMM scratch");
  }
  if (!failure.is_ok()) {
    arena.rewind(start);
    return Status::error(StatusCode::kOutOfMemory, "%s; the model needs %zu bytes in all (plan)",
                         failure.message(), m.plan_.total());
  }

  std::size_t offset = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    m.weight_offset_[i] = offset;
    offset += padded_floats(static_cast<std::size_t>(spec.layers[i].units) * spec.fan_in(i));
    m.bias_offset_[i] = offset;
    offset += padded_floats(spec.layers[i].units);
  }
  // Padding must read as zero forever (optimizers then keep it at zero), and a fresh model
  // must not expose whatever bytes the caller's buffer held.
  std::memset(m.params_, 0, m.param_floats_ * sizeof(float));
  if (m.grads_) std::memset(m.grads_, 0, m.param_floats_ * sizeof(float));
  for (float* s : m.state_)
    if (s) std::memset(s, 0, m.param_floats_ * sizeof(float));
  return m;
}

Status Model::init_parameters(Rng& rng) {
  FENNEC_ENSURE(is_bound(), StatusCode::kFailedPrecondition, "init_parameters: model is not bound");
  for (std::size_t i = 0; i < spec_.num_layers; ++i) {
    FENNEC_RETURN_IF_ERROR(initialize(spec_.layers[i].init, weights(i), rng));
    VectorView b = bias(i);
    for (std::size_t j = 0; j < b.size; ++j) b[j] = 0.f;
  }
  if (grads_) std::memset(grads_, 0, param_floats_ * sizeof(float));
  for (float* s : state_)
    if (s) std::memset(s, 0, param_floats_ * sizeof(float));
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
    float* out = options_.mode == Mode::kTraining ? outputs_[l] : buffers_[l % 2];
    kernels::GemmArgs g;
    g.m = batch;
    g.n = layer.units;
    g.k = in.cols;
    g.a = in.data;
    g.lda = in.stride;
    g.b = params_ + weight_offset_[l];
    g.ldb = in.cols;
    g.c = out;
    g.ldc = layer.units;
    g.bias = params_ + bias_offset_[l];
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

  for (std::size_t l = spec_.num_layers; l-- > 0;) {
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
    gw.c = grads_ + weight_offset_[l];
    gw.ldc = fan_in;
    run_gemm(kernels_->gemm_tn_f32, gw, scratch_, scratch_floats_);
    kernels_->col_sum_f32(batch, units, dy, units, grads_ + bias_offset_[l]);
    // dX = dZ * W  (batch x fan_in), into the other buffer or the caller's input gradient.
    float* dx = nullptr;
    std::size_t lddx = fan_in;
    if (l > 0) {
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
      gx.b = params_ + weight_offset_[l];
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
  if (options_.mode != Mode::kTraining || layer >= spec_.num_layers || last_batch_ == 0) return {};
  return ConstMatrixView(outputs_[layer], last_batch_, spec_.layers[layer].units);
}

MatrixView Model::weights(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers) return {};
  return MatrixView(params_ + weight_offset_[layer], spec_.layers[layer].units, spec_.fan_in(layer));
}

VectorView Model::bias(std::size_t layer) const {
  if (!params_ || layer >= spec_.num_layers) return {};
  return {params_ + bias_offset_[layer], spec_.layers[layer].units};
}

MatrixView Model::weight_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers) return {};
  return MatrixView(grads_ + weight_offset_[layer], spec_.layers[layer].units, spec_.fan_in(layer));
}

VectorView Model::bias_gradient(std::size_t layer) const {
  if (!grads_ || layer >= spec_.num_layers) return {};
  return {grads_ + bias_offset_[layer], spec_.layers[layer].units};
}

VectorView Model::optimizer_state(std::size_t slot) const {
  if (slot >= 2 || !state_[slot]) return {};
  return {state_[slot], param_floats_};
}

}  // namespace fennec
