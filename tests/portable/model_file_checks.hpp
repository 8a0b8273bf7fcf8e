// SPDX-License-Identifier: Apache-2.0
// The Fennec model file on every target: the classifier of model_data.hpp stored as
// kModelFile, a Fennec model file that gen_model.py writes in Python (struct + zlib.crc32), loaded
// with fennec::load_model straight from the const array (flash on the Cortex-M4: no copy, no file
// system, no heap). Shared by the self-test firmware and the host/ARM Linux test
// (tests/platform/test_model_file.cpp); `Report` is as in sensor_checks.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/status.hpp"
#include "sensor_checks.hpp"

namespace sensor_model {

inline constexpr std::size_t kModelFileBytes = sizeof(kModelFile);
static_assert(fennec::model_file_size(kSpec) == kModelFileBytes,
              "kModelFile's size is not what the format gives for kSpec: regenerate model_data.hpp");

// One byte inverted (XOR 0xFF) at each of these offsets must be refused with kCorruptData: a byte
// of the magic, layer 0's width and activation kind (header checks), a weight in the middle of
// the payload and the stored CRC itself (CRC check).
struct Corruption {
  std::size_t offset;
  const char* what;
};
inline constexpr std::size_t kModelFileHeaderBytes =
    fennec::kModelFileFixedHeader + fennec::kModelFileLayerRecord * kNumLayers;
inline constexpr Corruption kCorruptions[] = {
    {0, "flipped magic byte refused"},
    {fennec::kModelFileFixedHeader, "flipped layer width refused"},
    {fennec::kModelFileFixedHeader + 4, "flipped activation kind refused"},
    {kModelFileHeaderBytes + (kModelFileBytes - kModelFileHeaderBytes) / 2 + 1,
     "flipped weight byte refused"},
    {kModelFileBytes - 1, "flipped CRC byte refused"},
};

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Whether the model holds exactly the float32 weights and biases of model_data.hpp.
inline bool holds_model_data(const fennec::Model& model) {
  for (int l = 0; l < kNumLayers; ++l) {
    const fennec::MatrixView w = model.weights(static_cast<std::size_t>(l));
    for (std::size_t r = 0; r < w.rows; ++r)
      for (std::size_t c = 0; c < w.cols; ++c)
        if (!same_bits(w(r, c), kWeights[l][r * w.cols + c])) return false;
    const fennec::VectorView b = model.bias(static_cast<std::size_t>(l));
    for (std::size_t j = 0; j < b.size; ++j)
      if (!same_bits(b[j], kBiases[l][j])) return false;
  }
  return true;
}

inline bool is_corrupt_data(const fennec::Status& s) {
  return s.code() == fennec::StatusCode::kCorruptData;
}

// The example as it would ship with a model file (fennec_m4_flash_model): the weights come only
// from kModelFile, loaded in place into the plan-sized arena, then every case is checked.
template <class Report>
void run_flash_model_example(unsigned char* arena_buffer, Report& report) {
  fennec::Arena arena(arena_buffer, kArenaBytes);
  fennec::Result<fennec::Model> loaded = fennec::load_model(kModelFile, kModelFileBytes, kOptions, arena);
  report.check(loaded.is_ok(), "load_model(kModelFile) from flash", 0);
  if (!loaded.is_ok()) return;
  report.check(arena.used() == kArenaBytes, "load_model consumes exactly plan.total()", 0);
  check_cases(loaded.value(), report);
}

// `arena_buffer`: 64-byte aligned, kArenaBytes bytes (plan(kSpec, kOptions).total(), known at
// compile time). `file_buffer`: kModelFileBytes bytes of RAM for the re-saved and corrupted copies.
template <class Report>
void run_model_file_checks(unsigned char* arena_buffer, unsigned char* file_buffer, Report& report) {
  // 1. The header alone sizes the arena: its spec is kSpec's network and plan() of it is the
  //    compile-time size of the static arena.
  {
    fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(kModelFile, kModelFileBytes);
    report.check(info.is_ok(), "read_model_info(kModelFile)", 0);
    if (!info.is_ok()) return;
    const fennec::ModelSpec& spec = info->spec;
    bool same = spec.input == kSpec.input && spec.num_layers == kSpec.num_layers &&
                spec.loss == kSpec.loss;
    for (std::size_t l = 0; same && l < kSpec.num_layers; ++l)
      same = spec.layers[l].units == kSpec.layers[l].units &&
             spec.layers[l].activation.kind == kSpec.layers[l].activation.kind;
    report.check(same, "file spec == kSpec", 0);
    report.check(info->file_bytes == kModelFileBytes && info->header_bytes == kModelFileHeaderBytes &&
                     info->parameter_count == kSpec.num_parameters(),
                 "file sizes", 0);
    report.check(fennec::plan(spec, kOptions).total() == kArenaBytes, "plan(file spec) == kArenaBytes", 0);
  }

  // 2. One byte short of the plan: refused with kOutOfMemory, arena rewound.
  {
    fennec::Arena small(arena_buffer, kArenaBytes - 1);
    fennec::Result<fennec::Model> r = fennec::load_model(kModelFile, kModelFileBytes, kOptions, small);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kOutOfMemory,
                 "load_model(arena - 1 byte) fails", 0);
    report.check(small.used() == 0, "failed load_model rewinds the arena", 0);
  }

  fennec::Arena arena(arena_buffer, kArenaBytes);
  {
    fennec::LoadOptions checked;
    checked.check_finite = true;
    fennec::Result<fennec::Model> loaded =
        fennec::load_model(kModelFile, kModelFileBytes, kOptions, arena, checked);
    report.check(loaded.is_ok(), "load_model(kModelFile) from flash", 0);
    if (!loaded.is_ok()) return;
    report.check(arena.used() == kArenaBytes, "load_model consumes exactly plan.total()", 0);
    fennec::Model& model = loaded.value();

    // 3. The Python-written floats arrive bit for bit, and give the oracle's logits.
    report.check(holds_model_data(model), "loaded parameters == model_data.hpp, bit for bit", 0);
    check_cases(model, report);
    report.check(arena.used() == kArenaBytes, "forward allocates nothing", 0);

    // 4. save_model of the loaded model writes the Python file again, byte for byte.
    std::memset(file_buffer, 0, kModelFileBytes);
    fennec::MemoryWriter mw(file_buffer, kModelFileBytes);
    fennec::ByteWriter w = mw.writer();
    const fennec::Status saved = fennec::save_model(model, w);
    report.check(saved.is_ok() && mw.size() == kModelFileBytes, "save_model(loaded model)", 0);
    report.check(std::memcmp(file_buffer, kModelFile, kModelFileBytes) == 0,
                 "save_model output == kModelFile, byte for byte", 0);
  }

  // 5. A corrupted RAM copy (one byte inverted) is refused with kCorruptData and leaves the
  //    arena as it was; the intact file still loads afterwards.
  arena.reset();
  for (const Corruption& c : kCorruptions) {
    std::memcpy(file_buffer, kModelFile, kModelFileBytes);
    file_buffer[c.offset] = static_cast<unsigned char>(file_buffer[c.offset] ^ 0xFFu);
    fennec::Result<fennec::Model> r = fennec::load_model(file_buffer, kModelFileBytes, kOptions, arena);
    report.check(!r.is_ok() && is_corrupt_data(r.status()), c.what, static_cast<int>(c.offset));
    report.check(arena.used() == 0, "refused load leaves the arena empty", static_cast<int>(c.offset));
  }
  // Truncated by one byte: refused before anything else is read.
  {
    fennec::Result<fennec::Model> r = fennec::load_model(kModelFile, kModelFileBytes - 1, kOptions, arena);
    report.check(!r.is_ok() && is_corrupt_data(r.status()), "truncated file refused", 0);
  }
  {
    fennec::Result<fennec::Model> again = fennec::load_model(kModelFile, kModelFileBytes, kOptions, arena);
    report.check(again.is_ok() && holds_model_data(again.value()), "intact file loads after refusals", 0);
  }
}

}  // namespace sensor_model
