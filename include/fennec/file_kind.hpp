// SPDX-License-Identifier: Apache-2.0
// Which of the formats Fennec reads a buffer holds, from its first bytes, and the phrase a loader
// uses to say what it got instead of what it expected.
#pragma once

#include <cstddef>

namespace fennec {

// What a buffer holds, judged from its first bytes (magic numbers; safetensors by its u64
// header length followed by '{'; text by printable leading bytes). Loaders use it to say what
// they got when it is not what they expected.
enum class FileKind : int {
  kUnknown = 0,
  kModelFile,    // "FENNECMF"
  kCheckpoint,   // "FENNECCK"
  kSafetensors,  // u64 little-endian N, then '{'
  kText,         // the first bytes are printable ASCII or UTF-8 text
  kQuantizedModel,  // "FENNECQ8" (fennec/quant_io.hpp)
};
// Reads at most the first kFileKindProbe bytes; a stream reader passes that many (or the whole
// file when shorter) and gets the same answer for every kind but kSafetensors, which needs the
// file's size to check N against.
inline constexpr std::size_t kFileKindProbe = 64;
FileKind detect_file_kind(const void* data, std::size_t size);
// "a Fennec model file", "a Fennec training checkpoint", "a safetensors file", "a text file",
// "a Fennec int8 model file", "unrecognised data".
const char* file_kind_name(FileKind kind);

}  // namespace fennec
