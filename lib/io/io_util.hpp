// SPDX-License-Identifier: Apache-2.0
// Internal helpers shared by the io formats: little-endian codecs, checked arithmetic, CRC-tracking
// input/output wrappers and the spec record shared by model files and checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"

namespace fennec::io_detail {

// ---- checked arithmetic (u64) ----
inline bool add_u64(std::uint64_t a, std::uint64_t b, std::uint64_t* r) {
  if (a > UINT64_MAX - b) return false;
  *r = a + b;
  return true;
}
inline bool mul_u64(std::uint64_t a, std::uint64_t b, std::uint64_t* r) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *r = a * b;
  return true;
}

// ---- little-endian codecs (byte by byte: correct on any host, any alignment) ----
inline std::uint32_t load_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t load_u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(load_u32(p)) | static_cast<std::uint64_t>(load_u32(p + 4)) << 32;
}
inline float load_f32(const unsigned char* p) {
  const std::uint32_t u = load_u32(p);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline void store_u32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}
inline void store_u64(unsigned char* p, std::uint64_t v) {
  store_u32(p, static_cast<std::uint32_t>(v));
  store_u32(p + 4, static_cast<std::uint32_t>(v >> 32));
}
inline void store_f32(unsigned char* p, float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  store_u32(p, u);
}
inline bool finite_bits(std::uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u; }
inline bool finite_f32(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return finite_bits(u);
}

// ---- CRC-tracking streams ----
class Output {
 public:
  explicit Output(ByteWriter& w) : w_(w) {}
  Status write(const void* data, std::size_t size);
  Status u32(std::uint32_t v);
  Status u64(std::uint64_t v);
  Status f32(float v);
  // n floats as little-endian f32 (converted through a small stack buffer).
  Status floats(const float* data, std::size_t n);
  // Appends the CRC of everything written so far (not itself covered).
  Status finish_crc();
  std::uint32_t crc() const { return crc_; }
  std::uint64_t position() const { return pos_; }

 private:
  ByteWriter& w_;
  std::uint32_t crc_ = 0;
  std::uint64_t pos_ = 0;
};

class Input {
 public:
  explicit Input(ByteReader& r, std::uint32_t crc = 0, std::uint64_t position = 0)
      : r_(r), crc_(crc), pos_(position) {}
  std::uint32_t crc() const { return crc_; }
  // Exactly `size` bytes or kCorruptData ("truncated ...", with `what`).
  Status read(void* data, std::size_t size, const char* what);
  Status skip(std::uint64_t size, const char* what);
  // n little-endian f32 into `dst` (may be null: validate only). Counts non-finite values.
  Status floats(float* dst, std::uint64_t n, const char* what, std::uint64_t* non_finite);
  // Reads the stored CRC and compares it with the CRC of everything read before it.
  Status check_crc();
  // kCorruptData unless the input has ended.
  Status expect_end();
  std::uint64_t position() const { return pos_; }

 private:
  ByteReader& r_;
  std::uint32_t crc_ = 0;
  std::uint64_t pos_ = 0;
};

// ---- the spec as stored in model files and checkpoints ----
// Fixed part: u32 input, u32 num_layers, u32 loss, u32 flags, u64 param count (24 bytes), then
// kModelFileLayerRecord bytes per layer.
inline constexpr std::size_t kSpecFixedBytes = 24;
inline constexpr std::size_t kSpecMaxBytes =
    kSpecFixedBytes + (kModelFileLayerRecord + kModelFileLayerOptionsRecord) * kMaxLayers;

// Parameter count in u64 (no size_t overflow on 32-bit targets); widths are bounded by
// validate(spec), so this cannot overflow, but it is checked anyway.
bool parameter_count(const ModelSpec& spec, std::uint64_t* count);

// The model's parameters (`count` floats) must fit in what the arena has left. Every loader
// checks this before plan()/bind, so a huge but valid spec never reaches size_t arithmetic
// that could wrap on 32-bit targets, and the error names the real shortfall.
Status check_parameters_fit(std::uint64_t count, const Arena& arena);

// Floats of the batch-norm running statistics in a file: running mean and variance of every
// batch-norm layer, unpadded.
std::uint64_t layer_state_count(const ModelSpec& spec);
// Whether the spec needs the layer-options records (batch norm or dropout anywhere).
bool has_layer_options(const ModelSpec& spec);

// Layer-options record (kModelFileLayerOptionsRecord bytes, one per layer after the layer
// records): u32 flags, f32 batch-norm eps, f32 batch-norm momentum, f32 dropout p.
inline constexpr std::uint32_t kLayerBatchNorm = 1u;
inline constexpr std::uint32_t kLayerNoDecayGammaBeta = 2u;

// Encodes spec into `out` (kSpecMaxBytes at least), with the layer-options records after the
// layer records when `layer_options`; returns the byte count.
std::size_t encode_spec(const ModelSpec& spec, unsigned char* out, bool layer_options = false);
// Reads the fixed part (num_layers checked against kMaxLayers) -- then the caller reads
// 24 * num_layers more bytes and calls decode_spec_layers.
struct SpecFixed {
  std::uint32_t input, num_layers, loss, flags;
  std::uint64_t param_count;
};
Status decode_spec_fixed(const unsigned char* p, SpecFixed* f);
// Builds and validates the spec; checks the stored parameter count. `options` (null: none) are
// the num_layers layer-options records.
Status decode_spec_layers(const SpecFixed& f, const unsigned char* layers, const unsigned char* options,
                          ModelSpec* spec);

// Whether two specs describe the same network (widths, activations, loss; initialisers ignored).
bool same_network(const ModelSpec& a, const ModelSpec& b);

// kNonFinite unless every value of `block` (the model's parameter layout, padding excluded) is
// finite: no file is ever written from a diverged model ("what" names the block).
Status check_block_finite(const Model& model, const float* block, const char* what);

// The same check for the model's parameters wherever they live (arena or external).
Status check_parameters_finite(const Model& model);
// kFailedPrecondition when the model reads parameters in place (nothing may be loaded into it).
Status check_writable_model(const Model& model);

// Writes / reads a model's parameters in file order (W_i rows, then b_i), unpadded. write_parameters
// reads every layer wherever it lives (arena or external); write_block and read_block take blocks
// in the layout of parameters() (a model with no external layer).
Status write_parameters(Output& out, const Model& model);
// Layer i's weight rows then its bias, unpadded: how every format Fennec writes stores a layer.
Status write_linear(Output& out, const Model& model, std::size_t i);
Status write_block(Output& out, const Model& model, const float* block);  // same layout, any block
// Reads into `block` (the model's parameter layout) or validates only when `block` is null.
Status read_block(Input& in, const Model* model, const ModelSpec& spec, float* block,
                  const char* what, std::uint64_t* non_finite);
// The running statistics in file order (per batch-norm layer: mean, then variance). read_ reads
// into `model` or only validates when it is null; a negative variance is kCorruptData.
Status write_layer_state(Output& out, const Model& model);
Status read_layer_state(Input& in, Model* model, const ModelSpec& spec, std::uint64_t* non_finite);

}  // namespace fennec::io_detail
