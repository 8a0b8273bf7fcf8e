// SPDX-License-Identifier: Apache-2.0
// One row per epoch, to a CSV or JSON Lines file. The file is opened and given its buffer at
// setup, and each row is written with fprintf into that buffer and flushed, so logging during
// training does not touch the heap. Values not measured (no validation set, test not evaluated
// that epoch) are empty in CSV and null in JSON.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "fennec-train/options.hpp"

namespace fennec_train {

struct EpochRecord {
  std::uint64_t epoch = 0;
  std::uint64_t step = 0;  // optimizer steps so far
  double lr = 0;           // the rate of the epoch's last step
  double train_loss = NAN, train_acc = NAN;
  double val_loss = NAN, val_acc = NAN;
  double test_loss = NAN, test_acc = NAN;
  double wall_s = 0;        // training time of the epoch (evaluation not included)
  double samples_per_s = 0;
};

class MetricsLog {
 public:
  MetricsLog() = default;
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  ~MetricsLog();

  // Opens `path` (truncated, or appended to when `append` and it already holds rows) and writes
  // the CSV header when the file is new. False with `error` set on failure.
  bool open(const std::string& path, LogFormat format, bool append, std::string& error);
  bool is_open() const { return file_ != nullptr; }
  // False when the row could not be written (disk full...).
  bool write(const EpochRecord& r);

 private:
  std::FILE* file_ = nullptr;
  LogFormat format_ = LogFormat::kNone;
  char buffer_[4096];
};

}  // namespace fennec_train
