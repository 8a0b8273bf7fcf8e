// SPDX-License-Identifier: Apache-2.0
// The training loop of fennec-train, after setup: epochs of shuffled batches, validation, the
// schedule's and early stopping's epoch reports, checkpoints, the metrics log and the final
// test evaluation. Nothing here allocates (the allocation counter checks it): every buffer was
// placed in the arena, the records vector was reserved and the log file opened at setup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <fennec/fennec.hpp>

#include "fennec-train/data.hpp"
#include "fennec-train/metrics_log.hpp"
#include "fennec-train/options.hpp"
#include "fennec-train/position.hpp"

namespace fennec_train {

struct Evaluation {
  double loss = NAN, accuracy = NAN;
};

struct Session {
  Session(const Options& o, fennec::Trainer& t, fennec::Rng& r) : options(o), trainer(t), rng(r) {}

  const Options& options;
  fennec::Trainer& trainer;
  fennec::Rng& rng;       // the data order: its state at an epoch's start decides the epoch
  SampleView train, val, test;  // val.count == 0: no validation; test.count == 0: no test set
  std::size_t width = 0;        // features per sample
  float* x = nullptr;           // one batch of inputs (batch x width)
  std::int32_t* y = nullptr;    // and labels
  std::uint32_t* order = nullptr;  // train.count entries: the epoch's order
  Position pos;                 // where training stands (resumed from, or the start)
  fennec::EarlyStopping stopping;  // on the validation loss (patience "never" without --patience)
  MetricsLog* log = nullptr;    // null: no --log
  std::vector<EpochRecord>* records = nullptr;  // capacity reserved for every epoch
  bool show_progress = false;

  // Results, for the report.
  int exit_code = kExitOk;
  int signal = 0;               // the interrupting signal, 0 when none
  bool stopped_early = false;
  Evaluation final_test;        // after the last epoch (not after an interrupt)
  std::uint64_t last_epoch = 0;  // the last epoch finished
  double train_seconds = 0;
};

// Batches in an epoch of `count` training samples. Batch statistics need two rows (PyTorch
// refuses one too), so with --batchnorm a last batch of a single sample is left out of the
// epoch, as PyTorch's drop_last would; the sample is another one each epoch (shuffled order).
std::size_t epoch_batches(const Options& o, std::size_t count);
// The samples those batches hold.
std::size_t epoch_samples(const Options& o, std::size_t count);

// Runs the epochs from session.pos up to options.epochs (or an early stop, an interrupt, a
// failed step) and then evaluates the test set. The outcome is in session.exit_code and the
// result fields.
void train(Session& session);

}  // namespace fennec_train
