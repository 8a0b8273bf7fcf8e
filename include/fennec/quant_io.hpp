// SPDX-License-Identifier: Apache-2.0
// The int8 model file: a QuantizedModel (fennec/quant.hpp) as bytes, loadable from a byte array
// (flash) without heap or file system. Its own format beside the f32 model file (io.hpp), with its
// own magic and version. Version 1, little-endian, no implicit padding:
//
//   offset  size  field
//   0       8     magic "FENNECQ8"
//   8       4     u32 format version (1)
//   12      4     u32 header_bytes = 40 + 32 * num_layers (offset of the payload)
//   16      4     u32 input width
//   20      4     u32 num_layers (1..kMaxLayers)
//   24      4     u32 loss (Loss enumerator; what the f32 network was trained with)
//   28      4     u32 flags (must be 0)
//   32      8     u64 payload bytes
//   40      32*L  per layer: u32 units, u32 activation (identity, relu, leaky_relu), f32 alpha,
//                 f32 in_scale, i32 in_zero_point, f32 out_scale, i32 out_zero_point, i32 out_lo
//   header  ...   per layer: int8 weights (units x fan_in, row-major), zero bytes up to a
//                 multiple of 4, then units x 4 bytes of each of weight_scale (f32), bias, wsum,
//                 mult, shift, mult_neg, shift_neg (i32), deq, deq_neg (f32)
//   end-4   4     u32 CRC-32 (io.hpp's crc32) of every byte before it
//
// The loader checks, before anything reaches the arena: the size against the header (exactly:
// no trailing bytes), magic, version, counts, widths, activations and alpha, every size with
// overflow-checked arithmetic, the CRC; then, in the arena, every field against the scheme
// (QuantizedModel::check_parameters: scales positive and finite, zero points in [-128, 127],
// shifts in range, clamp floors, weight sums, int32 headroom, zero padding). Errors: kCorruptData,
// kUnsupported (a version from the future), kOutOfMemory; a failed load rewinds the arena.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/quant.hpp"
#include "fennec/status.hpp"

namespace fennec {

inline constexpr char kQuantFileMagic[8] = {'F', 'E', 'N', 'N', 'E', 'C', 'Q', '8'};
inline constexpr std::uint32_t kQuantFileVersion = 1;
inline constexpr std::size_t kQuantFileFixedHeader = 40;
inline constexpr std::size_t kQuantFileLayerRecord = 32;

// Exact size save_quantized_model writes for `model`.
std::uint64_t quantized_model_file_size(const QuantizedModel& model);
// Writes the file; kFailedPrecondition for an unbound model, the writer's error otherwise.
[[nodiscard]] Status save_quantized_model(const QuantizedModel& model, ByteWriter& out);
// Whether the buffer starts with the int8 file's magic.
bool is_quantized_file(const void* data, std::size_t size);
// The spec stored in a file (header checks only, no CRC): to size an arena with
// quantized_plan(spec, max_batch).total() before loading.
[[nodiscard]] Result<ModelSpec> read_quantized_spec(const void* data, std::size_t size);
// Loads the file into `arena` (exactly quantized_plan(spec, max_batch).total() bytes) with the
// kernel table `isa`; the arena holds a copy, `data` may go away afterwards.
[[nodiscard]] Result<QuantizedModel> load_quantized_model(const void* data, std::size_t size, std::size_t max_batch,
                                                          Isa isa, Arena& arena);

// The name before 0.2.0; forwards to the one above and will be removed in 0.3.0.
[[deprecated("use quantized_model_file_size")]] inline std::uint64_t quantized_file_bytes(
    const QuantizedModel& model) {
  return quantized_model_file_size(model);
}

}  // namespace fennec
