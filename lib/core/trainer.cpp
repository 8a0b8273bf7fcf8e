// SPDX-License-Identifier: Apache-2.0
#include "fennec/trainer.hpp"

#include <cmath>

#include "core/finite.hpp"
#include "core/fused_update.hpp"
#include "core/apply_update.hpp"
#include "core/parallel_ranges.hpp"
#include "core/model_internals.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec {
namespace {

// Runs `m` in `phase` for the scope, then puts the caller's phase back. (The phase only matters
// to batch norm and dropout: a build without them skips it.)
class PhaseScope {
 public:
  PhaseScope(Model& m, Model::Phase phase) : m_(m), saved_(m.phase()) {
    if (kBuildHasBatchNormDropout) (void)m_.set_phase(phase);
  }
  ~PhaseScope() {
    if (kBuildHasBatchNormDropout) (void)m_.set_phase(saved_);
  }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  Model& m_;
  Model::Phase saved_;
};

// Puts the dropout generator back unless dismissed: a failed step leaves it as it was, so the
// masks a retried step draws are the ones it would have drawn.
class RngRestore {
 public:
  explicit RngRestore(Rng& rng) : rng_(rng), saved_(rng.state()) {}
  ~RngRestore() {
    if (kBuildHasBatchNormDropout && !dismissed_) rng_.set_state(saved_);
  }
  RngRestore(const RngRestore&) = delete;
  RngRestore& operator=(const RngRestore&) = delete;
  void dismiss() { dismissed_ = true; }

 private:
  Rng& rng_;
  Rng::State saved_;
  bool dismissed_ = false;
};

// The update over the trainable block, in one pass unless some batch-norm layer keeps weight
// decay off its gamma and beta: then in runs, the gamma/beta runs with no decay (L2 or AdamW's
// decoupled one alike).
void update_parameters(const Model& m, const kernels::KernelTable& k, const OptimizerConfig& optimizer,
                       VectorView g, std::uint64_t t) {
  float* w = m.trainable_parameters().data;
  float* s0 = m.optimizer_state(0).data;
  float* s1 = m.optimizer_state(1).data;
  const ModelSpec& spec = m.spec();
  bool split = false;
  for (std::size_t l = 0; kBuildHasBatchNormDropout && l < spec.num_layers; ++l)
    split = split || (spec.layers[l].batchnorm.enabled && !spec.layers[l].batchnorm.decay_gamma_beta);
  if (!split || optimizer.weight_decay == 0.f) {
    detail::apply_update(k, optimizer, g.size, w, g.data, s0, s1, t, m.thread_pool());
    return;
  }
  OptimizerConfig no_decay = optimizer;
  no_decay.weight_decay = 0.f;
  std::size_t begin = 0;
  auto run = [&](std::size_t end, const OptimizerConfig& c) {
    if (end > begin)
      detail::apply_update(k, c, end - begin, w + begin, g.data + begin, s0 ? s0 + begin : nullptr,
                           s1 ? s1 + begin : nullptr, t, m.thread_pool());
    begin = end;
  };
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const BatchNormSpec& bn = spec.layers[l].batchnorm;
    if (!bn.enabled || bn.decay_gamma_beta) continue;
    const std::size_t gamma = static_cast<std::size_t>(m.bn_gamma(l).data - w);
    run(gamma, optimizer);
    run(gamma + 2 * padded_floats(spec.layers[l].units), no_decay);
  }
  run(g.size, optimizer);
}

}  // namespace

Result<Trainer> Trainer::create(Model& model, const TrainerConfig& config) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "trainer: model is not bound");
  FENNEC_ENSURE(model.mode() == Mode::kTraining, StatusCode::kFailedPrecondition,
                "trainer: model was bound for inference; bind it with Mode::kTraining");
  FENNEC_RETURN_IF_ERROR(validate(config.optimizer));
  FENNEC_RETURN_IF_ERROR(validate(config.clip));
  FENNEC_ENSURE(config.optimizer.kind == model.options().optimizer, StatusCode::kInvalidArgument,
                "trainer: optimizer %s but the model's memory was planned for %s",
                optimizer_name(config.optimizer.kind), optimizer_name(model.options().optimizer));
  FENNEC_ENSURE(model.options().fused_block_rows == 0 || config.clip.max_norm == 0.f, StatusCode::kUnsupported,
                "trainer: global-norm clipping (max_norm %g) needs every gradient before any update, "
                "and this model was bound for the fused update (fused_block_rows %u): clip by value "
                "(max_value) or bind with fused_block_rows 0",
                static_cast<double>(config.clip.max_norm), static_cast<unsigned>(model.options().fused_block_rows));
  Result<LrSchedule> schedule = LrSchedule::create(config.schedule, static_cast<float>(config.optimizer.lr));
  if (!schedule.is_ok()) return schedule.status();
  Trainer t;
  t.model_ = &model;
  t.config_ = config;
  t.config_.optimizer.lr = static_cast<float>(config.optimizer.lr);
  t.schedule_ = schedule.value();
  return t;
}

Status Trainer::set_step_count(std::uint64_t t) {
  FENNEC_ENSURE(t <= kMaxStepCount, StatusCode::kInvalidArgument,
                "step count %llu above the %llu limit (2^53, where Adam's t stops being exact)",
                static_cast<unsigned long long>(t), static_cast<unsigned long long>(kMaxStepCount));
  step_ = t;
  return Status::ok();
}

Result<Trainer> Trainer::create(Model& model, const ClipConfig& clip) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "trainer: model is not bound");
  TrainerConfig config;
  config.optimizer = model.options().optimizer_config;
  config.clip = clip;
  return create(model, config);
}

Status Trainer::set_learning_rate(double lr) {
  OptimizerConfig c = config_.optimizer;
  c.lr = static_cast<float>(lr);
  FENNEC_RETURN_IF_ERROR(validate(c));
  LrSchedule schedule = schedule_;
  FENNEC_RETURN_IF_ERROR(schedule.set_base_lr(c.lr));
  config_.optimizer = c;
  schedule_ = schedule;
  return Status::ok();
}

Status Trainer::restore_schedule(double base_lr, double latest_lr, const LrSchedule::State& state) {
  OptimizerConfig c = config_.optimizer;
  c.lr = static_cast<float>(latest_lr);
  FENNEC_RETURN_IF_ERROR(validate(c));
  LrSchedule schedule = schedule_;
  FENNEC_RETURN_IF_ERROR(schedule.set_base_lr(static_cast<float>(base_lr)));
  FENNEC_RETURN_IF_ERROR(schedule.set_state(state));
  config_.optimizer = c;
  schedule_ = schedule;
  return Status::ok();
}

Result<StepStats> Trainer::step(ConstMatrixView x, const Targets& targets) {
  FENNEC_ENSURE(model_ != nullptr, StatusCode::kFailedPrecondition, "trainer: not created");
  FENNEC_ENSURE(step_ < kMaxStepCount, StatusCode::kFailedPrecondition,
                "trainer: %llu steps taken, the limit (2^53: Adam's t stops being exact); weights "
                "unchanged",
                static_cast<unsigned long long>(step_));
  Model& m = *model_;
  const kernels::KernelTable& k = detail::ModelInternals::kernel_table(m);

  // Nothing below writes weights, optimizer state, running statistics or step_ until every
  // check has passed. A step always runs the training phase.
  PhaseScope phase(m, Model::Phase::kTrain);
  RngRestore rng(m.dropout_rng());
  Result<ConstMatrixView> out = m.forward_impl(x, false);
  if (!out.is_ok()) return out.status();
  const ConstMatrixView logits = out.value();
  FENNEC_RETURN_IF_ERROR(validate_targets(m.spec().loss, logits, targets));
  MatrixView dlogits = m.output_gradient(logits.rows);
  StepStats stats;
  stats.loss = compute_loss(m.spec().loss, logits, targets, dlogits);
  FENNEC_ENSURE(detail::is_finite_bits(stats.loss), StatusCode::kNonFinite,
                "step %llu: loss is %g (NaN/Inf in targets or a diverged model); weights unchanged",
                static_cast<unsigned long long>(step_ + 1), stats.loss);
  // The schedule's rate for this step, kept only when the step succeeds.
  OptimizerConfig optimizer = config_.optimizer;
  if (schedule_.varies()) optimizer.lr = static_cast<float>(schedule_.rate(step_ + 1));
  if (m.options().fused_block_rows > 0) return fused_step(x, optimizer, stats);
  FENNEC_RETURN_IF_ERROR(m.backward(x, dlogits));

  // Clipping and the update are split across the model's pool (when it has one) by ranges, and
  // the norm is summed in an order that does not depend on the thread count.
  VectorView g = m.gradients();
  ThreadPool* pool = m.thread_pool();
  double norm2 = detail::sum_squares(k, pool, g.size, g.data);
  stats.grad_norm = std::sqrt(norm2);
  FENNEC_ENSURE(detail::is_finite_bits(norm2), StatusCode::kNonFinite,
                "step %llu: gradient norm is %g; weights unchanged",
                static_cast<unsigned long long>(step_ + 1), stats.grad_norm);

  const ClipConfig& clip = config_.clip;
  if (clip.max_value > 0.f) {
    detail::for_each_range(pool, g.size, [&](std::size_t begin, std::size_t end) {
      k.clamp_f32(end - begin, g.data + begin, -clip.max_value, clip.max_value);
    });
    if (clip.max_norm > 0.f) norm2 = detail::sum_squares(k, pool, g.size, g.data);
  }
  if (clip.max_norm > 0.f) {
    const double norm = std::sqrt(norm2);
    const float scale = static_cast<float>(clip.max_norm / (norm + 1e-6));
    if (norm > clip.max_norm)
      detail::for_each_range(pool, g.size, [&](std::size_t begin, std::size_t end) {
        k.scale_f32(end - begin, g.data + begin, scale);
      });
  }

  update_parameters(m, k, optimizer, g, step_ + 1);
  if (kBuildHasBatchNormDropout) m.commit_batch_statistics();
  rng.dismiss();
  config_.optimizer.lr = optimizer.lr;
  ++step_;
  return stats;
}

Result<StepStats> Trainer::fused_step(ConstMatrixView x, const OptimizerConfig& optimizer, StepStats stats) {
  double norm2 = 0.0;
  const Status s = detail::fused_backward_update(*model_, x, optimizer, config_.clip.max_value,
                                                 step_ + 1, norm2);
  stats.grad_norm = std::sqrt(norm2);
  if (!s.is_ok()) return s;
  config_.optimizer.lr = optimizer.lr;
  ++step_;
  return stats;
}

Result<EvalStats> Trainer::evaluate(ConstMatrixView x, const Targets& targets) {
  FENNEC_ENSURE(model_ != nullptr, StatusCode::kFailedPrecondition, "trainer: not created");
  // Evaluation is what inference computes: the eval phase (running statistics, no dropout).
  PhaseScope phase(*model_, Model::Phase::kEval);
  Result<ConstMatrixView> out = model_->forward(x);
  if (!out.is_ok()) return out.status();
  FENNEC_RETURN_IF_ERROR(validate_targets(model_->spec().loss, out.value(), targets));
  EvalStats e;
  e.loss = compute_loss(model_->spec().loss, out.value(), targets, MatrixView{});
  FENNEC_ENSURE(detail::is_finite_bits(e.loss), StatusCode::kNonFinite, "evaluate: loss is %g", e.loss);
  e.correct = count_correct(out.value(), targets, model_->spec().loss);
  return e;
}

}  // namespace fennec
