// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/metrics_log.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace fennec_train {

namespace {

constexpr const char* kCsvHeader =
    "epoch,step,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,wall_s,samples_per_s\n";

// A measured value, or the format's "nothing" (empty in CSV, null in JSON); %.9g keeps a float
// exactly and a double to 9 digits.
void put(std::FILE* f, double v, LogFormat format) {
  if (std::isfinite(v))
    std::fprintf(f, "%.9g", v);
  else if (format == LogFormat::kJsonl)
    std::fputs("null", f);
}

}  // namespace

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

bool MetricsLog::open(const std::string& path, LogFormat format, bool append, std::string& error) {
  struct stat st;
  const bool has_rows = append && ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
  file_ = std::fopen(path.c_str(), has_rows ? "a" : "w");
  if (!file_) {
    error = "--log: cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::setvbuf(file_, buffer_, _IOFBF, sizeof buffer_);
  format_ = format;
  if (format == LogFormat::kCsv && !has_rows) std::fputs(kCsvHeader, file_);
  if (std::fflush(file_) != 0) {
    error = "--log: cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool MetricsLog::write(const EpochRecord& r) {
  const bool json = format_ == LogFormat::kJsonl;
  const char* names[9] = {"lr", "train_loss", "train_acc", "val_loss", "val_acc",
                          "test_loss", "test_acc", "wall_s", "samples_per_s"};
  const double values[9] = {r.lr, r.train_loss, r.train_acc, r.val_loss, r.val_acc,
                            r.test_loss, r.test_acc, r.wall_s, r.samples_per_s};
  if (json)
    std::fprintf(file_, "{\"epoch\": %llu, \"step\": %llu", static_cast<unsigned long long>(r.epoch),
                 static_cast<unsigned long long>(r.step));
  else
    std::fprintf(file_, "%llu,%llu", static_cast<unsigned long long>(r.epoch),
                 static_cast<unsigned long long>(r.step));
  for (int i = 0; i < 9; ++i) {
    if (json)
      std::fprintf(file_, ", \"%s\": ", names[i]);
    else
      std::fputc(',', file_);
    put(file_, values[i], format_);
  }
  std::fputs(json ? "}\n" : "\n", file_);
  return std::fflush(file_) == 0 && !std::ferror(file_);
}

}  // namespace fennec_train
