// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/training.hpp"

#include <chrono>
#include <cstdio>

#include <fennec/io_file.hpp>

#include "common/batches.hpp"
#include "fennec-train/interrupt.hpp"
#include "fennec-train/progress.hpp"

namespace fennec_train {

std::size_t epoch_batches(const Options& o, std::size_t count) {
  const std::size_t n = fennec_tools::batch_count(count, o.batch);
  return o.batchnorm && n > 1 && count % o.batch == 1 ? n - 1 : n;
}

std::size_t epoch_samples(const Options& o, std::size_t count) {
  const std::size_t n = epoch_batches(o, count) * o.batch;
  return n < count ? n : count;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void error_line(const Session& s) {
  if (s.show_progress) std::printf("\n");
  std::fflush(stdout);
}

// Mean loss and accuracy over `set`; NaN when it is empty. exit_code set on failure.
Evaluation evaluate(Session& s, const SampleView& set) {
  Evaluation e;
  if (set.count == 0) return e;
  const std::size_t batch = s.options.batch;
  double loss = 0;
  std::size_t correct = 0;
  for (std::size_t start = 0; start < set.count; start += batch) {
    const std::size_t rows = start + batch <= set.count ? batch : set.count - start;
    set.set->batch(set.items + start, rows, s.x, s.y);
    fennec::Result<fennec::EvalStats> ev =
        s.trainer.evaluate(fennec::ConstMatrixView(s.x, rows, s.width), fennec::Targets::classes(s.y));
    if (!ev.is_ok()) {
      error_line(s);
      std::fprintf(stderr, "fennec-train: error: evaluating: %s\n", ev.status().message());
      s.exit_code = kExitDiverged;
      return e;
    }
    loss += ev->loss * static_cast<double>(rows);
    correct += ev->correct;
  }
  e.loss = loss / static_cast<double>(set.count);
  e.accuracy = static_cast<double>(correct) / static_cast<double>(set.count);
  return e;
}

// The checkpoint with `s.pos` and the Rng state at the start of pos.epoch; false (message
// printed, exit_code set) on failure.
bool write_checkpoint(Session& s, const fennec::Rng& rng_at_epoch_start) {
  unsigned char blob[kPositionBytes];
  encode_position(s.pos, blob);
  const fennec::Status cs =
      fennec::save_checkpoint_file(s.trainer, rng_at_epoch_start, s.options.checkpoint.c_str(), blob, sizeof blob);
  if (cs.is_ok()) return true;
  error_line(s);
  std::fprintf(stderr, "fennec-train: error: writing the checkpoint: %s (%s)\n", cs.message(),
               fennec::status_code_name(cs.code()));
  s.exit_code = kExitError;
  return false;
}

// Trains one epoch from the resumed position (or its start). False when it ended early: a failed
// step or checkpoint (exit_code set) or an interrupt (signal set, checkpoint written).
bool run_epoch(Session& s, std::size_t epoch, const Position& resumed, EpochRecord& rec) {
  const Options& o = s.options;
  const fennec::Rng epoch_rng = s.rng;
  fennec_tools::shuffle_order(s.order, s.train.count, s.rng);
  fennec_tools::map_order(s.order, s.train.count, s.train.items);
  const std::size_t batches = epoch_batches(o, s.train.count);
  const std::size_t first = epoch == resumed.epoch ? static_cast<std::size_t>(resumed.batch) : 0;
  double loss_sum = first ? resumed.loss_sum : 0;
  std::size_t correct = first ? static_cast<std::size_t>(resumed.correct) : 0;
  const std::size_t last_layer = s.trainer.model().num_layers() - 1;
  const std::size_t progress_every = batches / 100 + 1;
  const Clock::time_point t0 = Clock::now();
  std::size_t rows_done = 0;
  for (std::size_t b = first; b < batches; ++b) {
    const std::size_t start = b * o.batch;
    const std::size_t rows = start + o.batch <= s.train.count ? o.batch : s.train.count - start;
    s.train.set->batch(s.order + start, rows, s.x, s.y);
    const fennec::Targets targets = fennec::Targets::classes(s.y);
    fennec::Result<fennec::StepStats> st = s.trainer.step(fennec::ConstMatrixView(s.x, rows, s.width), targets);
    if (!st.is_ok()) {
      error_line(s);
      std::fprintf(stderr,
                   "fennec-train: error: epoch %zu, batch %zu: %s (%s); weights left as before this step; "
                   "stopping\n",
                   epoch, b + 1, st.status().message(), fennec::status_code_name(st.status().code()));
      s.exit_code = kExitDiverged;
      return false;
    }
    loss_sum += st->loss * static_cast<double>(rows);
    rows_done += rows;
    // The logits of this step's forward pass (before its update), as PyTorch scripts count.
    correct += fennec::count_correct(s.trainer.model().layer_output(last_layer), targets,
                                     fennec::Loss::kSoftmaxCrossEntropy);
    if (s.show_progress && (b % progress_every == 0 || b + 1 == batches))
      show_progress(epoch, o.epochs, b + 1, batches, rows_done, seconds_since(t0),
                    loss_sum / static_cast<double>(start + rows));
    // Mid-epoch checkpoints (every N steps, or on an interrupt); the epoch's last step is
    // covered by the epoch-end one.
    const bool interrupted = interrupt_signal() != 0;
    const bool every = o.checkpoint_every && s.trainer.step_count() % o.checkpoint_every == 0;
    if (b + 1 < batches && (interrupted || every)) {
      s.pos.epoch = epoch;
      s.pos.batch = b + 1;
      s.pos.loss_sum = loss_sum;
      s.pos.correct = correct;
      if (!o.checkpoint.empty() && !write_checkpoint(s, epoch_rng)) return false;
      if (interrupted) {
        s.signal = interrupt_signal();
        return false;
      }
    }
  }
  rec.epoch = epoch;
  rec.step = s.trainer.step_count();
  rec.lr = s.trainer.learning_rate();
  rec.train_loss = loss_sum / static_cast<double>(epoch_samples(o, s.train.count));
  rec.train_acc = static_cast<double>(correct) / static_cast<double>(epoch_samples(o, s.train.count));
  rec.wall_s = seconds_since(t0);
  rec.samples_per_s = static_cast<double>(rows_done) / rec.wall_s;
  return true;
}

void print_epoch(const Session& s, const EpochRecord& r, double eval_s) {
  if (s.show_progress) clear_progress();
  std::printf("epoch %llu/%zu  train loss %.4f  train acc %.4f", static_cast<unsigned long long>(r.epoch),
              s.options.epochs, r.train_loss, r.train_acc);
  if (s.val.count) std::printf("  val loss %.4f  val acc %.4f", r.val_loss, r.val_acc);
  if (std::isfinite(r.test_loss)) std::printf("  test loss %.4f  test acc %.4f", r.test_loss, r.test_acc);
  // Timings on their own line: the epoch line of a resumed run reads exactly as the unbroken one's.
  std::printf("\n  lr %g  %.2f s  %.0f samples/s  (eval %.2f s)\n", r.lr, r.wall_s, r.samples_per_s, eval_s);
  std::fflush(stdout);
}

// After an epoch's steps: validation, the schedule's and early stopping's report, --save-best,
// the epoch-end checkpoint, the test set when asked, the log and the epoch line. False on a
// failure (exit_code set).
bool end_epoch(Session& s, EpochRecord& rec, bool& stop) {
  const Options& o = s.options;
  const Clock::time_point t1 = Clock::now();
  const Evaluation v = evaluate(s, s.val);
  if (s.exit_code) return false;
  rec.val_loss = v.loss;
  rec.val_acc = v.accuracy;
  if (s.val.count) {
    fennec::Result<bool> reduced = s.trainer.observe_metric(v.loss);
    fennec::Result<fennec::EarlyStopping::Verdict> verdict = s.stopping.update(v.loss);
    if (!reduced.is_ok() || !verdict.is_ok()) {
      std::fprintf(stderr, "fennec-train: error: validation loss %g\n", v.loss);
      s.exit_code = kExitDiverged;
      return false;
    }
    s.pos.best = s.stopping.tracker().state();
    if (verdict->improved && !o.save_best.empty()) {
      const fennec::Status bs = fennec::save_model_file(s.trainer.model(), o.save_best.c_str());
      if (!bs.is_ok()) {
        std::fprintf(stderr, "fennec-train: error: --save-best: %s\n", bs.message());
        s.exit_code = kExitError;
        return false;
      }
    }
    stop = verdict->stop;
  }
  if (!o.checkpoint.empty()) {
    // `rng` now stands at the start of the next epoch (before its shuffle).
    s.pos.epoch = rec.epoch + 1;
    s.pos.batch = 0;
    s.pos.loss_sum = 0;
    s.pos.correct = 0;
    if (!write_checkpoint(s, s.rng)) return false;
  }
  if (o.eval_test_every_epoch) {
    const Evaluation t = evaluate(s, s.test);
    if (s.exit_code) return false;
    rec.test_loss = t.loss;
    rec.test_acc = t.accuracy;
    s.final_test = t;
  }
  if (s.log && !s.log->write(rec)) {
    std::fprintf(stderr, "fennec-train: error: --log: cannot write %s\n", o.log.c_str());
    s.exit_code = kExitError;
    return false;
  }
  s.records->push_back(rec);
  print_epoch(s, rec, std::chrono::duration<double>(Clock::now() - t1).count());
  s.train_seconds += rec.wall_s;
  s.last_epoch = rec.epoch;
  return true;
}

}  // namespace

void train(Session& s) {
  const Options& o = s.options;
  const Position resumed = s.pos;
  bool stop = o.patience && s.stopping.tracker().state().epochs_since_best >= o.patience;
  for (std::size_t epoch = static_cast<std::size_t>(resumed.epoch); epoch <= o.epochs && !stop; ++epoch) {
    EpochRecord rec;
    if (!run_epoch(s, epoch, resumed, rec)) return;
    if (!end_epoch(s, rec, stop)) return;
    s.signal = interrupt_signal();
    if (s.signal) return;
  }
  s.stopped_early = stop && s.last_epoch < o.epochs;  // patience ran out before the last epoch
  if (!o.eval_test_every_epoch || s.last_epoch == 0) s.final_test = evaluate(s, s.test);
}

}  // namespace fennec_train
