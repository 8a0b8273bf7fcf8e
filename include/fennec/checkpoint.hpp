// SPDX-License-Identifier: Apache-2.0
// Training checkpoints: everything needed to resume bit-exactly. Not in FENNEC_INFERENCE_ONLY builds.
//
// A checkpoint holds the network spec, the trainer configuration (optimizer hyper-parameters and
// clipping), the step counter (Adam's t), the caller's Rng state, an opaque caller blob (data
// order position: epoch, batch index, shuffle seed... up to kCheckpointMaxUserBytes), the
// parameters and every optimizer state slot. Resuming = bind a training model for the stored
// spec and optimizer, create a Trainer with the stored config, restore_checkpoint, continue:
// the weights then match a run that never stopped, bit for bit (same build, same ISA).
//
// Format, versions 1 and 2, little-endian, no padding. A trainer whose learning-rate schedule
// changes the rate (schedule.hpp: any kind but constant, or a warm-up) writes version 2; every
// other trainer writes version 1, exactly as before version 2 existed. Both are read.
//   0    8   magic "FENNECCK"
//   8    4   u32 version (1)
//   12   4   u32 header_bytes = 136 + 24 * num_layers (+ 112 in version 2)
//   16   24  spec fixed part: u32 input, u32 num_layers, u32 loss, u32 flags (0), u64 param count
//   40   4   u32 optimizer kind          44  4  u32 state slots (must match the kind)
//   48   36  f32 lr, momentum, rho, beta1, beta2, eps, weight_decay, clip max_norm, clip max_value
//            (the optimizer's are double in memory: written rounded to f32, compared with a
//            trainer's at f32 precision, and read back as the shortest decimal that rounds to
//            the stored value, so 0.999 written comes back as the double 0.999; lr, which a
//            Trainer keeps in float, comes back exactly)
//   84   4   u32 reserved (0)
//   88   8   u64 step count
//   96   16  u32 rng s[4]               112 8  f64 bits of rng spare     120 4  u32 has_spare (0|1)
//   124  4   u32 reserved (0)
//   128  8   u64 user blob bytes
//   136  24*L layer records (as in the model file)
//   version 2 only, 112 bytes, the schedule record (f64 fields stored as their exact bits):
//     0 u32 kind, 4 u32 metric mode, 8 u64 warmup_steps, 16 u64 step_size, 24 u64 decay_steps,
//     32 u64 patience, 40 f64 gamma, 48 f64 min_lr, 56 f64 min_delta, 64 f64 base rate (the lr
//     field above is then the latest step's rate), 72 f64 plateau scale, 80 f64 metric best,
//     88 u64 best epoch, 96 u64 epochs seen, 104 u64 epochs since the best
//   then the user blob, the parameters (f32, model-file order), state slot 0, state slot 1,
//   and a u32 CRC-32 of every byte before it; nothing after.
//
// Readers validate every field, every size (overflow-checked u64), the exact file size and the
// CRC before anything is written into the trainer, model or Rng.
//
// Version 3 is written for a model with batch norm or dropout (docs/layers.md), whatever its
// schedule: the version-2 layout with, after the layer records, one 16-byte layer-options record
// per layer (as in model file version 2), after the schedule record a 40-byte layer-state record
// (the model's dropout generator: u32 s[4], f64 spare bits, u32 has_spare; u32 reserved 0; u64
// batches tracked), the parameters counting gamma/beta, and after state slot 1 the running
// statistics (per batch-norm layer mean, then variance). header_bytes = 136 + 40 * L + 152.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/io.hpp"
#include "fennec/rng.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/trainer.hpp"

namespace fennec {

inline constexpr char kCheckpointMagic[8] = {'F', 'E', 'N', 'N', 'E', 'C', 'C', 'K'};
inline constexpr std::uint32_t kCheckpointVersion = 3;  // the newest this library reads
inline constexpr std::size_t kCheckpointFixedHeader = 136;
inline constexpr std::size_t kCheckpointScheduleRecord = 112;
inline constexpr std::size_t kCheckpointLayerStateRecord = 40;  // version 3
inline constexpr std::uint64_t kCheckpointMaxUserBytes = 64ull << 20;

struct CheckpointInfo {
  ModelSpec spec{};
  // What to create the resuming Trainer with: optimizer.lr is the schedule's base rate, and
  // schedule the stored schedule (constant in version 1).
  TrainerConfig trainer{};
  std::uint32_t version = 0;
  double learning_rate = 0;           // the rate of the latest step (version 1: = optimizer.lr)
  LrSchedule::State schedule_state{};  // plateau scale and metric tracker (version 2)
  std::uint64_t step = 0;
  Rng::State rng{};
  std::uint64_t user_bytes = 0;
  std::uint64_t parameter_count = 0;
  std::uint64_t state_count = 0;   // running-statistics floats (version 3)
  Rng::State dropout_rng{};        // the model's dropout generator (version 3)
  std::uint64_t batches_tracked = 0;  // version 3
  std::uint64_t file_bytes = 0;
};

// Exact size save_checkpoint writes.
std::uint64_t checkpoint_file_size(const Trainer& trainer, std::size_t user_bytes);

// Writes the trainer's model, optimizer state, step count and config, `rng`'s state and
// `user_bytes` bytes of `user` (may be null when 0) to `out`. kNonFinite, with nothing written,
// when a parameter or optimizer state value is NaN or Inf. Stored step counts above
// kMaxStepCount are refused by the readers (kCorruptData).
[[nodiscard]] Status save_checkpoint(const Trainer& trainer, const Rng& rng, ByteWriter& out,
                                     const void* user = nullptr, std::size_t user_bytes = 0);

// Streaming validation of a whole checkpoint (CRC included); leaves the reader at the end.
[[nodiscard]] Result<CheckpointInfo> read_checkpoint_info(ByteReader& in);
// Streaming restore. Call only on an input read_checkpoint_info accepted (e.g. re-open the file):
// this pass writes as it reads, and if the bytes changed in between and the CRC fails at the end,
// the model's parameters and state are zeroed and the error returned.
[[nodiscard]] Status restore_checkpoint(ByteReader& in, Trainer& trainer, Rng& rng, void* user,
                                        std::size_t user_capacity);

// In-memory checkpoint: validation (CRC included).
[[nodiscard]] Result<CheckpointInfo> read_checkpoint_info(const void* data, std::size_t size);
// In-memory checkpoint: validates everything, then restores. The trainer's model must have the
// stored network and optimizer and the trainer the stored config and schedule, except the
// learning rate (version 2: the base rate and the latest step's rate) and the schedule's state,
// which are restored; `user_capacity` must hold the blob. Nothing is modified on failure.
[[nodiscard]] Status restore_checkpoint(const void* data, std::size_t size, Trainer& trainer,
                                        Rng& rng, void* user, std::size_t user_capacity);

// The names and argument order before 0.2.0; they forward to the ones above and will be removed
// in 0.3.0.
[[deprecated("use checkpoint_file_size")]] inline std::uint64_t checkpoint_size(
    const Trainer& trainer, std::size_t user_bytes) {
  return checkpoint_file_size(trainer, user_bytes);
}
[[deprecated("use save_checkpoint(trainer, rng, out, user, user_bytes)")]] [[nodiscard]] inline Status
save_checkpoint(const Trainer& trainer, const Rng& rng, const void* user, std::size_t user_bytes,
                ByteWriter& out) {
  return save_checkpoint(trainer, rng, out, user, user_bytes);
}
[[deprecated("use read_checkpoint_info")]] [[nodiscard]] inline Result<CheckpointInfo>
validate_checkpoint(ByteReader& in) {
  return read_checkpoint_info(in);
}

}  // namespace fennec
