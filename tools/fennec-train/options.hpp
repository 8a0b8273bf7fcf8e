// SPDX-License-Identifier: Apache-2.0
// fennec-train's command line: every flag with its help text, parsed and validated before any
// data is read (throws fennec_tools::ArgError naming the flag and the bad value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

namespace fennec_train {

// Exit codes (listed in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // bad data, a file that cannot be read or written
inline constexpr int kExitUsage = 2;        // a bad flag or value
inline constexpr int kExitDiverged = 3;     // a step failed (NaN/Inf loss or gradient)
inline constexpr int kExitHeap = 4;         // training allocated on the heap (a Fennec bug)
// SIGINT/SIGTERM: stopped after a step with the state saved, resumable. Not 130/143: a shell
// reports those for a program killed by the signal (as a second Ctrl-C does), which saved nothing.
inline constexpr int kExitInterrupted = 5;

enum class LogFormat { kNone, kCsv, kJsonl };

struct Options {
  std::string data;  // an IDX directory, or:
  // .npy or CSV files (train_inputs not empty): .npy inputs with .npy labels, or a CSV table
  // with its labels in the column label_column. No test set when test_inputs is empty.
  std::string train_inputs, train_labels, test_inputs, test_labels, label_column;
  std::vector<std::uint32_t> hidden;
  fennec::ActivationSpec activation = fennec::ActivationSpec::relu();
  bool batchnorm = false;  // batch norm on every hidden layer
  double dropout = 0.0;    // dropout p after every hidden layer
  fennec::Init init = fennec::Init::he_normal();
  fennec::OptimizerConfig optimizer = fennec::OptimizerConfig::adam();
  fennec::ClipConfig clip{};
  std::size_t batch = 64;
  std::size_t epochs = 5;
  std::uint64_t seed = 1;
  fennec::Isa isa = fennec::Isa::kAuto;
  unsigned threads = 1;
  std::size_t train_samples = 0;  // 0: all
  bool progress = true;
  std::string save;                  // model file written after training ("" = none)
  std::string checkpoint;            // "" = no checkpoints
  std::size_t checkpoint_every = 0;  // steps; 0 = epoch ends only
  bool resume = false;

  // Validation: a fraction of the training set (val_split > 0) or another directory.
  double val_split = 0;
  std::string val_dir;
  bool eval_test_every_epoch = false;
  bool has_validation() const { return val_split > 0 || !val_dir.empty(); }

  // Learning-rate schedule. decay_steps 0 (cosine) and step_size 0 (step, exp) mean "from the
  // data": the whole run after the warm-up, and one epoch.
  fennec::ScheduleConfig schedule{};
  bool schedule_step_size_from_data = true;
  bool schedule_decay_steps_from_data = true;

  std::size_t patience = 0;  // early stopping on the validation loss; 0 = off
  std::string save_best;     // model file of the epoch with the best validation loss
  std::string log;           // metrics log, one row per epoch
  LogFormat log_format = LogFormat::kNone;
  std::string plot;          // SVG learning curves
};

// Parses and validates the command line. With -h/--help prints the generated help and returns
// false (the caller exits 0).
bool parse_options(int argc, char** argv, Options& out);

}  // namespace fennec_train
