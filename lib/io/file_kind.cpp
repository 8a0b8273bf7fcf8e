// SPDX-License-Identifier: Apache-2.0
// detect_file_kind: which of the formats Fennec reads (or text) a buffer starts with.
#include <cstring>

#include "fennec/file_kind.hpp"
#include "fennec/io.hpp"  // the model file magic
#include "io/io_util.hpp"

namespace fennec {

namespace {

// The checkpoint magic, spelled here so inference-only builds (no checkpoint code) know it too.
constexpr char kCheckpointMagicBytes[8] = {'F', 'E', 'N', 'N', 'E', 'C', 'C', 'K'};
// The int8 model file's (fennec/quant_io.hpp), likewise for builds without int8.
constexpr char kQuantizedMagicBytes[8] = {'F', 'E', 'N', 'N', 'E', 'C', 'Q', '8'};

bool is_text_byte(unsigned char c) {
  return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7F);  // >= 0x80: UTF-8
}

}  // namespace

FileKind detect_file_kind(const void* data, std::size_t size) {
  const unsigned char* b = static_cast<const unsigned char*>(data);
  if (!b || size == 0) return FileKind::kUnknown;
  if (size >= 8 && std::memcmp(b, kModelFileMagic, 8) == 0) return FileKind::kModelFile;
  if (size >= 8 && std::memcmp(b, kCheckpointMagicBytes, 8) == 0) return FileKind::kCheckpoint;
  if (size >= 8 && std::memcmp(b, kQuantizedMagicBytes, 8) == 0) return FileKind::kQuantizedModel;
  if (size >= 9) {
    const std::uint64_t n = io_detail::load_u64(b);
    if (n >= 2 && n <= size - 8 && b[8] == '{') return FileKind::kSafetensors;
  }
  const std::size_t probe = size < kFileKindProbe ? size : kFileKindProbe;
  for (std::size_t i = 0; i < probe; ++i)
    if (!is_text_byte(b[i])) return FileKind::kUnknown;
  return FileKind::kText;
}

const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kModelFile: return "a Fennec model file";
    case FileKind::kCheckpoint: return "a Fennec training checkpoint";
    case FileKind::kSafetensors: return "a safetensors file";
    case FileKind::kText: return "a text file";
    case FileKind::kQuantizedModel: return "a Fennec int8 model file";
    case FileKind::kUnknown: break;
  }
  return "unrecognised data";
}

}  // namespace fennec
