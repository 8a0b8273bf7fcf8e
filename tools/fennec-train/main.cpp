// SPDX-License-Identifier: Apache-2.0
// fennec-train: train an MLP classifier on an MNIST-family data set (Fashion-MNIST by default),
// or on samples from .npy or CSV files.
//
// Setup (may allocate, may throw): parse and validate every flag, read the data into SampleSets
// (IDX and uint8 .npy images kept as bytes), plan the model, take one buffer for the arena, bind, initialise (or restore a
// checkpoint), split off the validation set, open the log. Training (training.cpp, must not
// allocate): shuffled batches converted to floats in the arena, Trainer::step, validation,
// checkpoints, the log. The allocation counter proves the second part allocates nothing. The
// report (plot, model files) comes after.
//
// Resuming is bit-exact because an epoch's data order is a function of the Rng state at the start
// of that epoch only (identity permutation, then Fisher-Yates): a checkpoint stores that state and
// the position (epoch, next batch), never the permutation; the validation split is a function of
// the seed stored in the position record.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io_file.hpp>

#include "common/alloc_counter.hpp"
#include "common/args.hpp"
#include "common/batches.hpp"
#include "common/sample_set.hpp"
#include "common/svg.hpp"
#include "fennec-train/curves_plot.hpp"
#include "fennec-train/data.hpp"
#include "fennec-train/interrupt.hpp"
#include "fennec-train/metrics_log.hpp"
#include "fennec-train/options.hpp"
#include "fennec-train/resume.hpp"
#include "fennec-train/training.hpp"

using namespace fennec_train;

namespace {

using Clock = std::chrono::steady_clock;

int fail(const char* what, const fennec::Status& s) {
  std::fprintf(stderr, "fennec-train: error: %s: %s (%s)\n", what, s.message(), fennec::status_code_name(s.code()));
  return kExitError;
}

double peak_rss_mib() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

// How many samples --val-split holds out of n (at least one, leaving at least one to train on);
// 0 without it. False with a message naming the flag when the fraction leaves either side empty.
bool validation_count(const Options& o, std::size_t n, const char* noun, std::size_t& n_val) {
  n_val = 0;
  if (o.val_split <= 0) return true;
  n_val = static_cast<std::size_t>(std::llround(o.val_split * static_cast<double>(n)));
  if (n_val >= 1 && n_val < n) return true;
  std::fprintf(stderr,
               "fennec-train: error: --val-split %g of %zu training %s holds out %zu: it must leave at "
               "least one on each side\n",
               o.val_split, n, noun, n_val);
  return false;
}

// The schedule's lengths that default to the data: one epoch (step, exp), the rest of the run
// after the warm-up (cosine). False with a message when the warm-up leaves nothing to decay.
bool schedule_for(const Options& o, std::size_t batches, fennec::ScheduleConfig& s) {
  s = o.schedule;
  if (o.schedule_step_size_from_data) s.step_size = batches;
  if (o.schedule_decay_steps_from_data) {
    const std::uint64_t total = std::uint64_t{o.epochs} * batches;
    if (s.kind == fennec::ScheduleKind::kCosine && total <= s.warmup_steps) {
      std::fprintf(stderr,
                   "fennec-train: error: --lr-schedule cosine: --warmup-steps %llu leaves no steps to decay over "
                   "(%zu epochs of %zu batches are %llu steps)\n",
                   static_cast<unsigned long long>(s.warmup_steps), o.epochs, batches,
                   static_cast<unsigned long long>(total));
      return false;
    }
    s.decay_steps = total > s.warmup_steps ? total - s.warmup_steps : 1;
  }
  return true;
}

void print_schedule(const fennec::ScheduleConfig& c) {
  using K = fennec::ScheduleKind;
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  if (c.kind == K::kConstant && c.warmup_steps == 0) return;
  std::printf("schedule: %s", fennec::schedule_name(c.kind));
  if (c.kind == K::kStep || c.kind == K::kExponential)
    std::printf(", x%g per %llu steps", c.gamma, u(c.step_size));
  if (c.kind == K::kCosine) std::printf(" to %g over %llu steps", c.min_lr, u(c.decay_steps));
  if (c.kind == K::kPlateau)
    std::printf(", x%g after %llu epochs without a better validation loss, floor %g", c.gamma, u(c.patience), c.min_lr);
  std::printf(", warm-up %llu steps\n", u(c.warmup_steps));
}

void identity(std::uint32_t* items, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) items[i] = static_cast<std::uint32_t>(i);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    if (!parse_options(argc, argv, o)) return kExitOk;
  } catch (const fennec_tools::ArgError& e) {
    std::fprintf(stderr, "fennec-train: error: %s\nRun 'fennec-train --help' for usage.\n", e.what());
    return kExitUsage;
  }

  // ---- setup: data --------------------------------------------------------------------------
  const Clock::time_point t_load = Clock::now();
  TrainData data;
  std::string error;
  if (!load_train_data(o, data, error)) {
    std::fprintf(stderr, "fennec-train: error: %s\n", error.c_str());
    return kExitError;
  }
  std::size_t n_train = data.train.count;
  if (o.train_samples) {
    if (o.train_samples > n_train) {
      std::fprintf(stderr, "fennec-train: error: --train-samples %zu exceeds the %zu training %s\n",
                   o.train_samples, n_train, data.noun);
      return kExitUsage;
    }
    n_train = o.train_samples;
  }
  std::size_t n_split = 0;
  if (!validation_count(o, n_train, data.noun, n_split)) return kExitUsage;
  const std::size_t n_fit = n_train - n_split;
  const std::size_t n_val = o.val_dir.empty() ? n_split : data.val.count;
  const std::size_t n_test = data.test.count;
  const std::size_t width = data.train.width;
  const std::size_t classes = data.train.classes;
  std::printf("data: %s: %zu train, %zu test %s, %zu classes (%.2f s)\n",
              (o.train_inputs.empty() ? o.data : o.train_inputs).c_str(), n_train, n_test, data.shape.c_str(), classes,
              std::chrono::duration<double>(Clock::now() - t_load).count());
  if (!o.test_inputs.empty()) std::printf("test: %zu samples from %s\n", n_test, o.test_inputs.c_str());
  if (n_split)
    std::printf("validation: %zu of the %zu training %s held out (--val-split %g)\n", n_split, n_train, data.noun,
                o.val_split);
  if (!o.val_dir.empty()) std::printf("validation: %zu images from %s\n", n_val, data.val_path.c_str());
  const std::size_t batches = epoch_batches(o, n_fit);
  if (batches * o.batch < n_fit)
    std::printf("batch norm: the last batch of each epoch would hold 1 sample; it is left out (batch "
                "statistics need 2 rows)\n");

  // ---- setup: model -------------------------------------------------------------------------
  fennec::ModelSpec spec(static_cast<std::uint32_t>(width));
  for (std::uint32_t h : o.hidden) {
    spec.dense(h, o.activation, o.init);
    if (o.batchnorm) spec.batchnorm();
    if (o.dropout > 0) spec.dropout(static_cast<float>(o.dropout));
  }
  spec.dense(static_cast<std::uint32_t>(classes), fennec::ActivationSpec::identity(), o.init);
  spec.with_loss(fennec::Loss::kSoftmaxCrossEntropy);
  fennec::Status s = fennec::validate(spec);
  if (!s.is_ok()) return fail("model", s);
  fennec::ModelOptions options;
  options.mode = fennec::Mode::kTraining;
  options.max_batch = o.batch;
  options.optimizer = o.optimizer.kind;
  options.isa = o.isa;
  options.threads = o.threads;
  const fennec::MemoryPlan mplan = fennec::plan(spec, options);

  // One buffer: the model, one batch of floats and labels, the epoch order and the three item lists.
  const std::size_t capacity =
      mplan.total() + fennec::arena_round_up(o.batch * width * sizeof(float)) +
      fennec::arena_round_up(o.batch * sizeof(std::int32_t)) +
      fennec::arena_round_up((2 * n_fit + 1) * sizeof(std::uint32_t)) +
      fennec::arena_round_up((n_val + 1) * sizeof(std::uint32_t)) + fennec::arena_round_up((n_test + 1) * sizeof(std::uint32_t));
  // Owned here so every early return (a refused schedule, a failed resume) frees it too.
  struct AlignedDelete {
    void operator()(void* p) const { ::operator delete(p, std::align_val_t{fennec::kArenaAlignment}); }
  };
  const std::unique_ptr<void, AlignedDelete> owned(
      ::operator new(capacity, std::align_val_t{fennec::kArenaAlignment}, std::nothrow));
  void* buffer = owned.get();
  if (!buffer) {
    std::fprintf(stderr, "fennec-train: error: cannot allocate a %zu-byte arena\n", capacity);
    return kExitError;
  }
  fennec::Arena arena(buffer, capacity);
  fennec::Result<fennec::Model> bound = fennec::Model::bind(spec, options, arena);
  if (!bound.is_ok()) return fail("binding the model", bound.status());
  fennec::Model& model = bound.value();
  fennec::ThreadPool pool;
  if (o.threads > 1) {
    s = pool.start(o.threads);
    if (s.is_ok()) s = model.set_thread_pool(&pool);
    if (!s.is_ok()) return fail("starting the threads", s);
  }
  fennec::Rng rng(o.seed);
  // Dropout masks follow --seed too (a stream of their own: the masks do not shift the data
  // order); a resumed run takes the generator's state from the checkpoint.
  model.dropout_rng().reseed(o.seed ^ fennec::Model::kDefaultDropoutSeed);
  if (!o.resume) {
    s = model.init_parameters(rng);
    if (!s.is_ok()) return fail("initialising parameters", s);
  }
  fennec::TrainerConfig tcfg;
  tcfg.optimizer = o.optimizer;
  tcfg.clip = o.clip;
  if (!schedule_for(o, batches, tcfg.schedule)) return kExitUsage;
  fennec::Result<fennec::Trainer> created = fennec::Trainer::create(model, tcfg);
  if (!created.is_ok()) return fail("creating the trainer", created.status());
  fennec::Trainer& trainer = created.value();

  Position pos;
  pos.batch_size = o.batch;
  pos.train_count = n_train;
  pos.val_count = n_split;
  pos.split_seed = o.seed;
  if (o.resume) {
    const Position expected = pos;
    const int rc = resume_from_checkpoint(o, trainer, rng, expected, batches, pos);
    if (rc != kExitOk) return rc;
  }

  fennec::Result<float*> xr = arena.allocate_array<float>(o.batch * width, "batch inputs");
  fennec::Result<std::int32_t*> yr = arena.allocate_array<std::int32_t>(o.batch, "batch labels");
  fennec::Result<std::uint32_t*> orr = arena.allocate_array<std::uint32_t>(2 * n_fit + 1, "order and training items");
  fennec::Result<std::uint32_t*> vr = arena.allocate_array<std::uint32_t>(n_val + 1, "validation items");
  fennec::Result<std::uint32_t*> tr = arena.allocate_array<std::uint32_t>(n_test + 1, "test items");
  for (const fennec::Status& as : {xr.status(), yr.status(), orr.status(), vr.status(), tr.status()})
    if (!as.is_ok()) return fail("arena", as);
  std::uint32_t* const fit_items = orr.value() + n_fit;
  if (n_split)
    fennec_tools::split_items(n_train, n_split, pos.split_seed, fit_items, vr.value());
  else
    identity(fit_items, n_fit);
  if (!o.val_dir.empty()) identity(vr.value(), n_val);
  identity(tr.value(), n_test);

  fennec::Result<fennec::EarlyStopping> stopping = fennec::EarlyStopping::create(o.patience ? o.patience : UINT64_MAX,
                                                                          fennec::MetricMode::kMin);
  if (!stopping.is_ok()) return fail("early stopping", stopping.status());
  if (pos.best.epochs) {
    s = stopping->set_state(pos.best);
    if (!s.is_ok()) return fail("--resume: the stored validation tracker", s);
  }
  MetricsLog log;
  if (!o.log.empty() && !log.open(o.log, o.log_format, o.resume, error)) {
    std::fprintf(stderr, "fennec-train: error: %s\n", error.c_str());
    return kExitError;
  }
  std::vector<EpochRecord> records;
  records.reserve(o.epochs);

  Session session(o, trainer, rng);
  session.train = {&data.train, fit_items, n_fit};
  session.val = {o.val_dir.empty() ? &data.train : &data.val, vr.value(), n_val};
  session.test = {&data.test, tr.value(), n_test};
  session.width = width;
  session.x = xr.value();
  session.y = yr.value();
  session.order = orr.value();
  session.pos = pos;
  session.stopping = stopping.value();
  session.log = log.is_open() ? &log : nullptr;
  session.records = &records;
  session.show_progress = o.progress && isatty(STDOUT_FILENO);

  std::printf("model: %u", spec.input);
  for (std::size_t i = 0; i < spec.num_layers; ++i) std::printf("-%u", spec.layers[i].units);
  std::printf(" %s, init %s, %s lr %g, batch %zu, %zu parameters, isa %s\n", fennec::activation_name(o.activation.kind),
              fennec_tools::init_label(o.init).c_str(), fennec::optimizer_name(o.optimizer.kind),
              static_cast<double>(o.optimizer.lr), o.batch, spec.num_parameters(), fennec::isa_name(model.isa()));
  print_schedule(tcfg.schedule);
  std::fflush(stdout);

  // ---- training: nothing in train() allocates -------------------------------------------------
  install_interrupt_handlers();
  fennec_tools::alloc_counting_start();
  train(session);
  const std::uint64_t allocations = fennec_tools::alloc_counting_stop();
  int exit_code = session.exit_code;

  // ---- report ---------------------------------------------------------------------------------
  std::printf("isa: %s\n", fennec::isa_name(model.isa()));
  std::printf("threads: %u\n", o.threads);
  std::printf("arena: model plan %zu bytes (parameters %zu, gradients %zu, optimizer state %zu, "
              "activations %zu, scratch %zu); arena used %zu of %zu bytes (+ batch buffers and "
              "shuffled indices)\n",
              mplan.total(), mplan.parameters, mplan.gradients, mplan.optimizer_state, mplan.activations,
              mplan.scratch, arena.used(), arena.capacity());
  std::printf("training time: %.2f s total\n", session.train_seconds);
  if (session.stopped_early) {
    const fennec::MetricTracker::State& b = session.stopping.tracker().state();
    std::printf("early stopping: no better validation loss for %zu epochs (best %.4f at epoch %llu)\n", o.patience,
                b.best, static_cast<unsigned long long>(b.best_epoch));
  }
  if (exit_code == kExitOk && !session.signal && std::isfinite(session.final_test.loss))
    std::printf("test loss %.4f  test acc %.4f  (%zu %s, after epoch %llu)\n", session.final_test.loss,
                session.final_test.accuracy, n_test, data.noun, static_cast<unsigned long long>(session.last_epoch));
  if (!o.save_best.empty() && session.stopping.tracker().has_best())
    std::printf("best model: %s (validation loss %.4f, epoch %llu)\n", o.save_best.c_str(),
                session.stopping.tracker().state().best,
                static_cast<unsigned long long>(session.stopping.tracker().state().best_epoch));
  if (!o.checkpoint.empty() && exit_code == kExitOk)
    std::printf("checkpoint: %s (epoch %llu, batch %llu)\n", o.checkpoint.c_str(),
                static_cast<unsigned long long>(session.pos.epoch), static_cast<unsigned long long>(session.pos.batch));
  std::printf("heap allocations after setup: %" PRIu64 "%s\n", allocations,
              fennec_tools::alloc_counting_covers_malloc() ? "" : " (operator new only in this build)");
  if (exit_code == kExitOk && !o.save.empty()) {
    s = fennec::save_model_file(model, o.save.c_str());
    if (!s.is_ok()) {
      fail("saving the model", s);
      exit_code = kExitError;
    } else {
      std::printf("model saved: %s\n", o.save.c_str());
    }
  }
  if (!o.plot.empty() && !records.empty()) {
    std::string title = "fennec-train: " + std::to_string(spec.input);
    for (std::size_t i = 0; i < spec.num_layers; ++i) title += "-" + std::to_string(spec.layers[i].units);
    title += std::string(" ") + fennec::activation_name(o.activation.kind) + ", " +
             fennec::optimizer_name(o.optimizer.kind) + " lr " + fennec_tools::tick_label(o.optimizer.lr) +
             ", schedule " + fennec::schedule_name(tcfg.schedule.kind) + ", batch " + std::to_string(o.batch);
    if (write_curves_svg(records, title, o.plot, error))
      std::printf("learning curves: %s\n", o.plot.c_str());
    else
      std::fprintf(stderr, "fennec-train: warning: --plot: %s\n", error.c_str());
  }
  std::printf("peak resident memory: %.1f MiB\n", peak_rss_mib());
  std::fflush(stdout);
  if (session.signal && exit_code == kExitOk) {
    std::fprintf(stderr, "fennec-train: interrupted by %s after step %llu (epoch %llu, batch %llu of %zu)\n",
                 signal_name(session.signal), static_cast<unsigned long long>(trainer.step_count()),
                 static_cast<unsigned long long>(session.pos.epoch), static_cast<unsigned long long>(session.pos.batch),
                 batches);
    if (!o.checkpoint.empty())
      std::fprintf(stderr, "fennec-train: checkpoint written: %s; resume with the same command and --resume\n",
                   o.checkpoint.c_str());
    else
      std::fprintf(stderr, "fennec-train: no --checkpoint was given, so this run cannot be resumed\n");
    exit_code = kExitInterrupted;
  }
  if (allocations != 0 && exit_code == kExitOk) exit_code = kExitHeap;
  return exit_code;
}
