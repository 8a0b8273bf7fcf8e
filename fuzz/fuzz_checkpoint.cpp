// SPDX-License-Identifier: Apache-2.0
// Checkpoints: in-memory and streaming validation must agree; a valid one is restored into a
// model and trainer built from what it says, then trained one step.
#include "fennec/checkpoint.hpp"
#include "fuzz_common.hpp"

namespace {
void one(const std::uint8_t* data, std::size_t size) {
  fennec::Result<fennec::CheckpointInfo> info = fennec::read_checkpoint_info(data, size);
  fennec_test::ChunkedReader src{data, size, 5};
  fennec::ByteReader r = src.reader();
  fennec::Result<fennec::CheckpointInfo> streamed = fennec::read_checkpoint_info(r);
  if (streamed.is_ok() != info.is_ok()) __builtin_trap();
  if (!info.is_ok()) return;
  fennec::ModelOptions o;
  o.mode = fennec::Mode::kTraining;
  o.max_batch = 2;
  o.optimizer = info->trainer.optimizer.kind;
  fennec::Arena& a = fuzz::arena();
  fennec::Result<fennec::Model> m = fennec::Model::bind(info->spec, o, a);
  if (!m.is_ok()) return;  // too big for the fuzz arena: fine
  fennec::Result<fennec::Trainer> t = fennec::Trainer::create(m.value(), info->trainer);
  if (!t.is_ok()) __builtin_trap();  // the reader validated the config
  fennec::Rng rng;
  static unsigned char user[1 << 16];
  const fennec::Status s = fennec::restore_checkpoint(data, size, t.value(), rng, user, sizeof(user));
  if (!s.is_ok()) {
    if (info->user_bytes <= sizeof(user)) __builtin_trap();
    return;
  }
  static float x[2 * 4096];
  const std::size_t in = info->spec.input, out = info->spec.output();
  if (in > 4096 || out > 4096) return;
  for (std::size_t i = 0; i < 2 * in; ++i) x[i] = 0.5f;
  static float target[2 * 4096];
  static std::int32_t labels[2] = {0, 1};
  for (std::size_t i = 0; i < 2 * out; ++i) target[i] = 0.5f;
  const fennec::Targets tg = info->spec.loss == fennec::Loss::kSoftmaxCrossEntropy
                                 ? fennec::Targets::classes(labels)
                                 : fennec::Targets::values(fennec::ConstMatrixView(target, 2, out));
  t->step(fennec::ConstMatrixView(x, 2, in), tg).status().ignore();  // NaN loss is a status
}
}  // namespace

// Each input runs twice: as given, and with its CRC recomputed.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one(data, size);
  if (const std::uint8_t* fixed = fuzz::with_fixed_crc(data, size)) one(fixed, size);
  return 0;
}
