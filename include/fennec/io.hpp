// SPDX-License-Identifier: Apache-2.0
// The Fennec model file (byte streams and CRC-32: fennec/stream.hpp; file kinds:
// fennec/file_kind.hpp, both included here).
//
// Everything here works without a file system and without heap: a model stored as a `const`
// byte array in flash loads with load_model(data, size, options, arena). File helpers live in
// io_file.hpp (not part of FENNEC_INFERENCE_ONLY builds).
//
// Fennec model file, versions 1 and 2. All integers and floats little-endian, no padding.
// save_model writes version 1 for a network without batch norm or dropout (byte for byte what
// earlier releases wrote) and version 2 otherwise; both are read. Version 1:
//
//   offset  size  field
//   0       8     magic "FENNECMF"
//   8       4     u32 format version (1)
//   12      4     u32 header_bytes = 40 + 24 * num_layers (offset of the parameter payload)
//   16      4     u32 input width
//   20      4     u32 num_layers (1..kMaxLayers)
//   24      4     u32 loss (Loss enumerator)
//   28      4     u32 flags (must be 0)
//   32      8     u64 parameter count (sum over layers of units*fan_in + units)
//   40      24*L  per layer: u32 units, u32 activation, f32 alpha, u32 init kind, f32 init a,
//                 f32 init b
//   header  4*P   parameters, layer by layer: W_i row-major (units x fan_in), then b_i (f32)
//   end-4   4     u32 CRC-32 (IEEE 802.3 / zlib) of every byte before it
//
// Version 2 (docs/layers.md) differs in three places:
//   12      4     header_bytes = 40 + 40 * num_layers
//   32      8     parameter count also counts 2 * units per batch-norm layer (gamma, beta)
//   40+24L  16*L  per layer a layer-options record: u32 flags (1 batch norm, 2 no weight decay
//                 on gamma/beta), f32 eps, f32 momentum (both 0 without batch norm), f32 dropout
//   payload       per layer W_i, b_i, then gamma_i, beta_i of a batch-norm layer; after every
//                 parameter the running statistics: per batch-norm layer mean, then variance
//                 (a negative variance is kCorruptData)
// The file ends right after the CRC: trailing bytes are an error (no polyglot files).
// Readers check every field, every size with overflow-checked 64-bit arithmetic and the spec with
// validate(spec); the in-memory loaders also check the exact total size and the CRC before any
// parameter reaches a model (streaming loaders find a bad CRC at the end and then zero the
// parameters). Errors: kCorruptData (malformed), kUnsupported (a version from the future),
// kOutOfMemory (the arena cannot hold the model; checked before planning) or kNonFinite (NaN/Inf
// parameters when LoadOptions::check_finite is set).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/file_kind.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/stream.hpp"

namespace fennec {

// ---------------------------------------------------------------------------------------------
// Fennec model file

inline constexpr char kModelFileMagic[8] = {'F', 'E', 'N', 'N', 'E', 'C', 'M', 'F'};
// The version save_model writes for a network without batch norm or dropout, and the one it
// writes for a network with them (the newest this library reads).
inline constexpr std::uint32_t kModelFileVersion = 1;
inline constexpr std::uint32_t kModelFileLayersVersion = 2;
inline constexpr std::size_t kModelFileFixedHeader = 40;
inline constexpr std::size_t kModelFileLayerRecord = 24;
inline constexpr std::size_t kModelFileLayerOptionsRecord = 16;  // version 2

struct LoadOptions {
  // Reject NaN/Inf parameters with kNonFinite (one pass over the loaded values).
  bool check_finite = false;
};

// What a model file's header says, after validation.
struct ModelFileInfo {
  ModelSpec spec{};
  std::uint32_t version = 0;
  std::uint64_t parameter_count = 0;  // parameter floats in the payload
  std::uint64_t state_count = 0;      // running-statistics floats after them (version 2)
  std::uint64_t header_bytes = 0;
  std::uint64_t file_bytes = 0;       // header + payload + CRC
  std::uint32_t header_crc = 0;       // CRC-32 of the header bytes (the payload's CRC continues it)
};

// Exact size of the file save_model writes for `spec` (spec must be valid).
constexpr std::uint64_t model_file_size(const ModelSpec& spec) {
  std::uint64_t floats = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i)
    floats += static_cast<std::uint64_t>(spec.layers[i].units) * spec.fan_in(i) + spec.layers[i].units +
              (spec.layers[i].batchnorm.enabled ? 4 * std::uint64_t{spec.layers[i].units} : 0);
  const std::size_t record =
      kModelFileLayerRecord + (spec.has_batchnorm() || spec.has_dropout() ? kModelFileLayerOptionsRecord : 0);
  return kModelFileFixedHeader + record * spec.num_layers + 4 * floats + 4;
}

// Writes `model` (its spec and parameters) to `out`. kNonFinite, with nothing written, when a
// parameter is NaN or Inf.
[[nodiscard]] Status save_model(const Model& model, ByteWriter& out);

// Streaming load, in two steps so the caller can plan and bind in between:
//   read_model_info(in) consumes exactly the header and validates it (spec included);
//   restore_model_parameters(in, info, model) consumes the payload and CRC, requires the input
//   to end there, and fills the parameters of `model`, which must have been bound for info.spec.
//   When it fails after parameters were written (bad CRC found at the end, non-finite values),
//   the model's parameters are zeroed, never left half-loaded.
[[nodiscard]] Result<ModelFileInfo> read_model_info(ByteReader& in);
[[nodiscard]] Status restore_model_parameters(ByteReader& in, const ModelFileInfo& info,
                                              Model& model, const LoadOptions& options = {});

// In-memory file: header validation plus the exact-size check (no CRC pass).
[[nodiscard]] Result<ModelFileInfo> read_model_info(const void* data, std::size_t size);
// In-memory file: full validation, CRC included, before anything is written into `model`.
[[nodiscard]] Status restore_model_parameters(const void* data, std::size_t size, Model& model,
                                              const LoadOptions& options = {});

// Arena capacity load_model needs for this file and `options`, in one call:
// plan(spec from the header, options).total() plus kArenaAlignment - 1 bytes of alignment slack,
// so an Arena of this capacity over any buffer (aligned or not) holds the model. Validates the
// header and the exact size like read_model_info; max_batch must be >= 1.
[[nodiscard]] Result<std::size_t> model_arena_bytes(const void* data, std::size_t size,
                                                    const ModelOptions& options);

// The same from a header already read (read_model_info).
constexpr std::size_t model_arena_bytes(const ModelFileInfo& info, const ModelOptions& options) {
  return plan(info.spec, options).total() + kArenaAlignment - 1;
}

// Read header -> check the arena can hold the parameters -> plan -> bind -> load parameters.
// `options` gives mode, max_batch, optimizer and ISA; the spec comes from the file. On failure
// the arena is rewound to where it was.
[[nodiscard]] Result<Model> load_model(const void* data, std::size_t size,
                                       const ModelOptions& options, Arena& arena,
                                       const LoadOptions& load_options = {});
[[nodiscard]] Result<Model> load_model(ByteReader& in, const ModelOptions& options, Arena& arena,
                                       const LoadOptions& load_options = {});

// Execute in place: binds a model whose untrained parameters stay in `data` (a model file in
// flash, or a read-only mapping of one), so the arena holds only activations, scratch and what
// trains. `options.external_parameters` must be set (the plan is plan(spec, options), which then
// counts no in-place bytes): for inference every layer reads its parameters from the file; for
// training (fine-tuning) the frozen layers do and the trainable ones are copied into the arena.
// Validated once, here, before anything is bound: header, exact size, CRC-32 of the whole file,
// `data` 4-byte aligned (kInvalidArgument; the payload then is too, its offset being a multiple
// of 8), finite values with load_options.check_finite. `data` must stay valid and unchanged
// while the model is used (the CRC is not checked again). On failure the arena is as it was.
[[nodiscard]] Result<Model> load_model_in_place(const void* data, std::size_t size,
                                                const ModelOptions& options, Arena& arena,
                                                const LoadOptions& load_options = {});

// The names before 0.2.0; they forward to the ones above and will be removed in 0.3.0.
[[deprecated("use read_model_info")]] [[nodiscard]] inline Result<ModelFileInfo> read_model_header(
    ByteReader& in) {
  return read_model_info(in);
}
[[deprecated("use restore_model_parameters")]] [[nodiscard]] inline Status read_model_parameters(
    ByteReader& in, const ModelFileInfo& info, Model& model, const LoadOptions& options = {}) {
  return restore_model_parameters(in, info, model, options);
}
[[deprecated("use restore_model_parameters")]] [[nodiscard]] inline Status load_model_parameters(
    const void* data, std::size_t size, Model& model, const LoadOptions& options = {}) {
  return restore_model_parameters(data, size, model, options);
}

}  // namespace fennec
