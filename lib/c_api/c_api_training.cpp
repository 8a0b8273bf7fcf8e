// SPDX-License-Identifier: Apache-2.0
// The C API's training calls: optimizer defaults, training options, steps and new
// hyper-parameters. Inference-only builds have no trainer: these calls report kUnsupported.
#include <cstring>

#include "c_api/handle.hpp"
#include "fennec/optim.hpp"

using fennec::Status;
using fennec::StatusCode;
using namespace fennec::c_api;

#if defined(FENNEC_INFERENCE_ONLY)

namespace {
Status no_training() {
  return Status::error(StatusCode::kUnsupported,
                       "this is an inference-only build of Fennec: it has no training code");
}
}  // namespace

extern "C" {
fennec_status fennec_optimizer_defaults(int32_t, fennec_optimizer_config*) {
  return to_c(no_training().code());
}
fennec_status fennec_options_training(fennec_options*, uint32_t, int32_t) {
  return to_c(no_training().code());
}
fennec_status fennec_train_step(fennec_model* model, const float*, size_t, const int32_t*,
                                const float*, fennec_step_stats*) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  return record(model, no_training());
}
fennec_status fennec_set_training(fennec_model* model, const fennec_training*) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  return record(model, no_training());
}
}  // extern "C"

#else

namespace fennec::c_api {
namespace {

fennec_optimizer_config to_c_config(const OptimizerConfig& c) {
  fennec_optimizer_config out;
  out.kind = static_cast<std::int32_t>(c.kind);
  out.lr = c.lr;
  out.momentum = c.momentum;
  out.rho = c.rho;
  out.beta1 = c.beta1;
  out.beta2 = c.beta2;
  out.eps = c.eps;
  out.weight_decay = c.weight_decay;
  return out;
}

// The C++ field types decide the precision the kernels see (decltype keeps this exact whether
// they are float or double).
template <class T>
T narrow(double v) {
  return static_cast<T>(v);
}

}  // namespace

Result<TrainerConfig> to_trainer_config(const fennec_training* training) {
  FENNEC_ENSURE(training != nullptr, StatusCode::kInvalidArgument, "training is NULL");
  const fennec_optimizer_config& c = training->optimizer;
  TrainerConfig t;
  OptimizerConfig& o = t.optimizer;
  o.kind = static_cast<OptimizerKind>(c.kind);
  o.lr = narrow<decltype(o.lr)>(c.lr);
  o.momentum = narrow<decltype(o.momentum)>(c.momentum);
  o.rho = narrow<decltype(o.rho)>(c.rho);
  o.beta1 = narrow<decltype(o.beta1)>(c.beta1);
  o.beta2 = narrow<decltype(o.beta2)>(c.beta2);
  o.eps = narrow<decltype(o.eps)>(c.eps);
  o.weight_decay = narrow<decltype(o.weight_decay)>(c.weight_decay);
  t.clip.max_norm = narrow<decltype(t.clip.max_norm)>(training->clip_norm);
  t.clip.max_value = narrow<decltype(t.clip.max_value)>(training->clip_value);
  FENNEC_RETURN_IF_ERROR(validate(o));
  FENNEC_RETURN_IF_ERROR(validate(t.clip));
  return t;
}

}  // namespace fennec::c_api

extern "C" {

fennec_status fennec_optimizer_defaults(int32_t kind, fennec_optimizer_config* out) {
  const int k = kind;
  if (out == nullptr || k < 0 || k >= fennec::kOptimizerCount) return FENNEC_INVALID_ARGUMENT;
  *out = fennec::c_api::to_c_config(fennec::OptimizerConfig::defaults(static_cast<fennec::OptimizerKind>(k)));
  return FENNEC_OK;
}

fennec_status fennec_options_training(fennec_options* out, uint32_t max_batch, int32_t kind) {
  if (out == nullptr) return FENNEC_INVALID_ARGUMENT;
  fennec_options o;
  std::memset(&o, 0, sizeof(o));
  o.mode = FENNEC_MODE_TRAINING;
  o.max_batch = max_batch;
  const fennec_status s = fennec_optimizer_defaults(kind, &o.training.optimizer);
  if (s != FENNEC_OK) return s;
  *out = o;
  return FENNEC_OK;
}

fennec_status fennec_train_step(fennec_model* model, const float* x, size_t batch,
                                const int32_t* labels, const float* targets,
                                fennec_step_stats* stats) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  fennec::Model& m = model->model;
  if (m.mode() != fennec::Mode::kTraining)
    return record(model, Status::error(StatusCode::kFailedPrecondition,
                                       "train_step: the model was bound for inference"));
  fennec::Result<fennec::Targets> t = to_targets(m, batch, labels, targets);
  if (!t.is_ok()) return record(model, t.status());
  fennec::Result<fennec::StepStats> r =
      model->trainer.step(fennec::ConstMatrixView(x, batch, m.spec().input), t.value());
  if (!r.is_ok()) return record(model, r.status());
  if (stats != nullptr) {
    stats->loss = r->loss;
    stats->grad_norm = r->grad_norm;
  }
  return FENNEC_OK;
}

fennec_status fennec_set_training(fennec_model* model, const fennec_training* training) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  fennec::Model& m = model->model;
  if (m.mode() != fennec::Mode::kTraining)
    return record(model, Status::error(StatusCode::kFailedPrecondition,
                                       "set_training: the model was bound for inference"));
  fennec::Result<fennec::TrainerConfig> config = to_trainer_config(training);
  if (!config.is_ok()) return record(model, config.status());
  fennec::Result<fennec::Trainer> t = fennec::Trainer::create(m, config.value());
  if (!t.is_ok()) return record(model, t.status());
  // The step count carries over (a valid trainer's count is always within the limit).
  fennec::Trainer next = t.value();
  const Status kept = next.set_step_count(model->trainer.step_count());
  if (!kept.is_ok()) return record(model, kept);
  model->trainer = next;
  return FENNEC_OK;
}

}  // extern "C"

#endif
