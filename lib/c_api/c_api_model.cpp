// SPDX-License-Identifier: Apache-2.0
// The C API's model calls: sizing, binding, initialising, running and inspecting a model.
#include <cstring>
#include <new>

#include "c_api/handle.hpp"
#include "core/finite.hpp"
#include "fennec/loss.hpp"
#include "fennec/rng.hpp"

namespace fennec::c_api {
namespace {

// Bytes from `buffer` up to its first aligned byte.
std::size_t misalignment(const void* buffer) {
  const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(buffer);
  return (kArenaAlignment - address % kArenaAlignment) % kArenaAlignment;
}

// Mean loss and correct rows of one batch, for training and inference models alike (what
// Trainer::evaluate computes, without needing a trainer).
Status evaluate(Model& model, const float* x, std::size_t batch, const int32_t* labels,
                const float* targets, fennec_eval_stats* stats) {
  Result<Targets> t = to_targets(model, batch, labels, targets);
  if (!t.is_ok()) return t.status();
  Result<ConstMatrixView> y = model.forward(ConstMatrixView(x, batch, model.spec().input));
  if (!y.is_ok()) return y.status();
  const Loss loss = model.spec().loss;
  FENNEC_RETURN_IF_ERROR(validate_targets(loss, y.value(), t.value()));
  const double value = compute_loss(loss, y.value(), t.value(), MatrixView{});
  FENNEC_ENSURE(detail::is_finite_bits(value), StatusCode::kNonFinite,
                "evaluate: loss is %g", value);
  if (stats != nullptr) {
    stats->loss = value;
    stats->correct = count_correct(y.value(), t.value(), loss);
  }
  return Status::ok();
}

Result<Model> bind_empty(const void*, const ModelSpec& spec, const ModelOptions& options, Arena& arena) {
  return Model::bind(spec, options, arena);
}

}  // namespace

std::size_t handle_arena_bytes(const ModelSpec& spec, const ModelOptions& options) {
  return kHandleBytes + plan(spec, options).total();
}

Status bind_handle(const ModelSpec& spec, const fennec_options* options, void* buffer,
                   std::size_t buffer_bytes, fennec_model** out, const Binder& binder) {
  FENNEC_ENSURE(out != nullptr, StatusCode::kInvalidArgument, "model (the output) is NULL");
  Result<ModelOptions> o = to_options(options);
  if (!o.is_ok()) return o.status();
#if !defined(FENNEC_INFERENCE_ONLY)
  TrainerConfig trainer_config;
  if (o->mode == Mode::kTraining) {
    Result<TrainerConfig> t = to_trainer_config(&options->training);
    if (!t.is_ok()) return t.status();
    trainer_config = t.value();
  }
#endif
  FENNEC_ENSURE(buffer != nullptr, StatusCode::kInvalidArgument, "buffer is NULL");
  const std::size_t pad = misalignment(buffer);
  const std::size_t need = pad + handle_arena_bytes(spec, o.value());
  // %lu, not %zu: newlib-nano's printf (Cortex-M) has no z modifier.
  FENNEC_ENSURE(buffer_bytes >= need, StatusCode::kOutOfMemory,
                "buffer too small: need %lu bytes (handle %lu + model %lu + alignment %lu), have %lu",
                static_cast<unsigned long>(need), static_cast<unsigned long>(kHandleBytes),
                static_cast<unsigned long>(need - pad - kHandleBytes), static_cast<unsigned long>(pad),
                static_cast<unsigned long>(buffer_bytes));

  unsigned char* start = static_cast<unsigned char*>(buffer) + pad;
  Arena arena(start + kHandleBytes, buffer_bytes - pad - kHandleBytes);
  Result<Model> model = binder.make(binder.context, spec, o.value(), arena);
  if (!model.is_ok()) return model.status();
  fennec_model* h = ::new (static_cast<void*>(start)) fennec_model();
  h->model = std::move(model).value();
#if !defined(FENNEC_INFERENCE_ONLY)
  if (o->mode == Mode::kTraining) {
    Result<Trainer> t = Trainer::create(h->model, trainer_config);
    if (!t.is_ok()) {
      h->magic = 0;
      return t.status();
    }
    h->trainer = t.value();
  }
#endif
  *out = h;
  return Status::ok();
}

}  // namespace fennec::c_api

using fennec::Status;
using fennec::StatusCode;
using namespace fennec::c_api;

extern "C" {

fennec_status fennec_options_inference(fennec_options* out, uint32_t max_batch) {
  if (out == nullptr) return FENNEC_INVALID_ARGUMENT;
  std::memset(out, 0, sizeof(*out));
  out->mode = FENNEC_MODE_INFERENCE;
  out->max_batch = max_batch;
  return FENNEC_OK;
}

fennec_status fennec_arena_bytes(const fennec_network* network, const fennec_options* options,
                                 size_t* bytes, fennec_error* error) {
  if (bytes == nullptr) return report(error, Status::error(StatusCode::kInvalidArgument, "bytes is NULL"));
  fennec::Result<fennec::ModelSpec> spec = to_spec(network);
  if (!spec.is_ok()) return report(error, spec.status());
  fennec::Result<fennec::ModelOptions> o = to_options(options);
  if (!o.is_ok()) return report(error, o.status());
  *bytes = handle_arena_bytes(spec.value(), o.value());
  return FENNEC_OK;
}

fennec_status fennec_bind(const fennec_network* network, const fennec_options* options,
                          void* buffer, size_t buffer_bytes, fennec_model** model,
                          fennec_error* error) {
  fennec::Result<fennec::ModelSpec> spec = to_spec(network);
  if (!spec.is_ok()) return report(error, spec.status());
  return report(error, bind_handle(spec.value(), options, buffer, buffer_bytes, model, Binder{bind_empty, nullptr}));
}

fennec_status fennec_init_parameters(fennec_model* model, uint64_t seed) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  fennec::Rng rng(seed);
  const Status s = model->model.init_parameters(rng);
#if !defined(FENNEC_INFERENCE_ONLY)
  // Fresh parameters and zeroed optimizer state start Adam's bias correction again.
  if (s.is_ok() && model->model.mode() == fennec::Mode::kTraining)
    return record(model, model->trainer.set_step_count(0));
#endif
  return record(model, s);
}

fennec_status fennec_forward(fennec_model* model, const float* x, size_t batch, float* y,
                             size_t y_count) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  fennec::Model& m = model->model;
  const std::size_t outputs = m.spec().output();
  if (y == nullptr)
    return record(model, Status::error(StatusCode::kInvalidArgument, "forward: y is NULL"));
  // Checked before running, so a short output buffer leaves the model's activations alone (a
  // batch out of range is forward's to report). 64-bit: batch * outputs can pass 2^32.
  const std::uint64_t need = static_cast<std::uint64_t>(batch) * outputs;
  if (batch <= m.options().max_batch && y_count < need)
    return record(model, Status::error(StatusCode::kShapeMismatch,
                                       "forward: y holds %lu floats, batch %lu x %lu outputs needs %lu",
                                       static_cast<unsigned long>(y_count), static_cast<unsigned long>(batch),
                                       static_cast<unsigned long>(outputs), static_cast<unsigned long>(need)));
  fennec::Result<fennec::ConstMatrixView> out =
      m.forward(fennec::ConstMatrixView(x, batch, m.spec().input));
  if (!out.is_ok()) return record(model, out.status());
  const fennec::ConstMatrixView r = out.value();
  for (std::size_t i = 0; i < r.rows; ++i) std::memcpy(y + i * outputs, r.row(i), outputs * sizeof(float));
  return FENNEC_OK;
}

fennec_status fennec_evaluate(fennec_model* model, const float* x, size_t batch,
                              const int32_t* labels, const float* targets,
                              fennec_eval_stats* stats) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  return record(model, evaluate(model->model, x, batch, labels, targets, stats));
}

const char* fennec_last_error(const fennec_model* model) {
  if (!is_handle(model)) return "not a fennec model handle";
  return model->last_error.message();
}

fennec_status fennec_get_network(fennec_model* model, fennec_network* network) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  if (network == nullptr)
    return record(model, Status::error(StatusCode::kInvalidArgument, "network is NULL"));
  to_network(model->model.spec(), network);
  return FENNEC_OK;
}

fennec_status fennec_step_count(fennec_model* model, uint64_t* steps) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  if (steps == nullptr) return record(model, Status::error(StatusCode::kInvalidArgument, "steps is NULL"));
#if defined(FENNEC_INFERENCE_ONLY)
  *steps = 0;
#else
  *steps = model->model.mode() == fennec::Mode::kTraining ? model->trainer.step_count() : 0;
#endif
  return FENNEC_OK;
}

}  // extern "C"
