// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/resume.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include <fennec/io_file.hpp>

namespace fennec_train {

namespace {

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

int fail(const char* what, const fennec::Status& s) {
  std::fprintf(stderr, "fennec-train: error: %s: %s (%s)\n", what, s.message(), fennec::status_code_name(s.code()));
  return kExitError;
}

// Warns about the slot used when it is not FILE itself; moves a rejected FILE aside.
void report_slot(const Options& o, const fennec::CheckpointFileInfo& found) {
  const char* path = o.checkpoint.c_str();
  if (found.slot == 2) {
    std::fprintf(stderr,
                 "fennec-train: warning: checkpoint %s %s; resuming from %s.tmp, complete and later "
                 "than %s.prev (a save was interrupted between its two renames)\n",
                 path, file_exists(o.checkpoint) ? "rejected" : "missing", path, path);
  }
  if (found.slot == 1) {
    std::fprintf(stderr, "fennec-train: warning: checkpoint %s rejected (%s); falling back to %s.prev\n", path,
                 found.rejected.message(), path);
    // Moved aside (kept for inspection) so that the next checkpoint write, which renames FILE to
    // FILE.prev, keeps the good FILE.prev rather than rotating the bad file into its place.
    if (file_exists(o.checkpoint)) {
      const std::string aside = o.checkpoint + ".rejected";
      if (std::rename(path, aside.c_str()) == 0)
        std::fprintf(stderr, "fennec-train: the rejected file is now %s\n", aside.c_str());
    }
  }
}

}  // namespace

int resume_from_checkpoint(const Options& o, fennec::Trainer& trainer, fennec::Rng& rng, const Position& expected,
                           std::size_t batches_per_epoch, Position& pos) {
  const char* path = o.checkpoint.c_str();
  if (!file_exists(o.checkpoint) && !file_exists(o.checkpoint + ".prev")) {
    std::fprintf(stderr, "fennec-train: error: --resume: no checkpoint %s (nor %s.prev)\n", path, path);
    return kExitError;
  }
  fennec::Result<fennec::CheckpointFileInfo> found = fennec::read_checkpoint_file_info(path);
  if (!found.is_ok()) return fail("--resume: no usable checkpoint", found.status());
  const fennec::CheckpointInfo& ci = found->info;
  // The checkpoint keeps the base rate at f32 precision (exactly, with a schedule).
  if (static_cast<float>(ci.trainer.optimizer.lr) != static_cast<float>(o.optimizer.lr)) {
    std::fprintf(stderr, "fennec-train: error: --resume: the checkpoint was written with --lr %g, not %g\n",
                 static_cast<double>(ci.trainer.optimizer.lr), static_cast<double>(o.optimizer.lr));
    return kExitError;
  }
  if (ci.user_bytes != kPositionBytes && ci.user_bytes != kPositionBytesV1) {
    std::fprintf(stderr,
                 "fennec-train: error: --resume: %s is a Fennec checkpoint but not one written by "
                 "fennec-train (%llu-byte position record, expected %zu)\n",
                 path, static_cast<unsigned long long>(ci.user_bytes), kPositionBytes);
    return kExitError;
  }
  report_slot(o, found.value());
  unsigned char blob[kPositionBytes];
  fennec::CheckpointFileInfo used;
  const fennec::Status s = fennec::restore_checkpoint_file(path, trainer, rng, blob, sizeof blob, &used);
  if (!s.is_ok()) {
    if (s.code() == fennec::StatusCode::kShapeMismatch || s.code() == fennec::StatusCode::kFailedPrecondition) {
      std::fprintf(stderr,
                   "fennec-train: error: --resume: %s (pass the same --hidden, --activation, "
                   "--optimizer, --clip-norm, --weight-decay, --lr-schedule and its parameters, "
                   "--warmup-steps and --epochs as the run that wrote it)\n",
                   s.message());
      return kExitError;
    }
    return fail("--resume: restoring the checkpoint", s);
  }
  if (!decode_position(blob, static_cast<std::size_t>(used.info.user_bytes), pos)) {
    std::fprintf(stderr, "fennec-train: error: --resume: %s has no fennec-train position record\n", path);
    return kExitError;
  }
  if (pos.batch_size != expected.batch_size || pos.train_count != expected.train_count) {
    std::fprintf(stderr,
                 "fennec-train: error: --resume: the checkpoint was written with --batch %llu on "
                 "%llu training images, not --batch %llu on %llu (the data order would differ)\n",
                 static_cast<unsigned long long>(pos.batch_size), static_cast<unsigned long long>(pos.train_count),
                 static_cast<unsigned long long>(expected.batch_size),
                 static_cast<unsigned long long>(expected.train_count));
    return kExitError;
  }
  if (pos.val_count != expected.val_count) {
    std::fprintf(stderr,
                 "fennec-train: error: --resume: the checkpoint was written holding out %llu validation "
                 "images, not %llu (pass the same --val-split)\n",
                 static_cast<unsigned long long>(pos.val_count), static_cast<unsigned long long>(expected.val_count));
    return kExitError;
  }
  if (pos.epoch < 1 || pos.batch >= batches_per_epoch) {
    std::fprintf(stderr, "fennec-train: error: --resume: position epoch %llu batch %llu is invalid\n",
                 static_cast<unsigned long long>(pos.epoch), static_cast<unsigned long long>(pos.batch));
    return kExitError;
  }
  std::printf("resumed from %s%s: epoch %llu, batch %llu, step %llu\n", path,
              used.slot == 1 ? ".prev" : used.slot == 2 ? ".tmp" : "", static_cast<unsigned long long>(pos.epoch),
              static_cast<unsigned long long>(pos.batch), static_cast<unsigned long long>(trainer.step_count()));
  if (pos.epoch > o.epochs) std::printf("checkpoint already past epoch %zu: nothing to train\n", o.epochs);
  return kExitOk;
}

}  // namespace fennec_train
