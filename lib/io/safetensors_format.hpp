// SPDX-License-Identifier: Apache-2.0
// The safetensors container, shared by the importers and the exporter: the dtype table, the
// parsed and validated header of a file, and the writer of a header. Nothing here knows what the
// tensors mean to Fennec (that is safetensors_sequential.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/safetensors.hpp"
#include "fennec/status.hpp"
#include "io/json.hpp"

namespace fennec::io_detail {

// ---- dtypes (safetensors_dtype.cpp) ----
struct DtypeInfo {
  const char* name;
  std::uint32_t bits;
};
// safetensors' Dtype enum (serde names), indexed by the constants below.
extern const DtypeInfo kDtypes[];
extern const int kDtypeCount;
inline constexpr int kF32 = 0, kF16 = 1, kBF16 = 2, kF64 = 13, kI64 = 14;

inline std::uint32_t dtype_bytes(int dtype) { return kDtypes[dtype].bits / 8; }
// The dtypes Fennec converts to f32.
inline bool float_dtype(int d) { return d == kF32 || d == kF16 || d == kBF16 || d == kF64; }
// Index in kDtypes of the decoded name, -1 when it is none of them.
int find_dtype(JsonSlice name);

double load_f64(const unsigned char* p);
// One element of a float dtype (float_dtype) at p, as f32 (F64 rounded to nearest).
float load_value(const unsigned char* p, int dtype);

// ---- a parsed header (safetensors_format.cpp) ----
struct Entry {
  JsonSlice name;
  int dtype = -1;
  std::uint32_t rank = 0;
  std::uint64_t dims[2] = {0, 0};  // first two dims (all Fennec needs)
  std::uint64_t begin = 0, end = 0;
  std::uint64_t nbytes = 0;
};

inline constexpr std::size_t kSafetensorsMaxMetadata = 64;

struct MetadataItem {
  JsonSlice key, value;
};

struct Header {
  Entry entries[kSafetensorsMaxTensors];
  std::size_t count = 0;
  // Sorted by data offsets.
  std::uint8_t order[kSafetensorsMaxTensors] = {};
  static_assert(kSafetensorsMaxTensors <= 256, "order holds entry indices in bytes");
  MetadataItem metadata[kSafetensorsMaxMetadata];
  std::size_t metadata_count = 0;
  const unsigned char* data = nullptr;  // start of the data section (after the header)
  std::uint64_t data_bytes = 0;
};

// The __metadata__ value of `key` (false when the file has none).
bool find_metadata(const Header& h, const char* key, JsonSlice* value);

// Prints a tensor name into a message buffer (decoded, truncated).
struct NameBuf {
  char text[48];
  explicit NameBuf(JsonSlice s) { json_decode(s, text, sizeof(text)); }
};

// The 8-byte length field against the file's size: the JSON header's length. `start` holds the
// file's first probe_size bytes (at least 8 when the file has them), enough to say what the file
// is when it is another format Fennec knows (or text) instead of safetensors.
Status header_length(const unsigned char* start, std::size_t probe_size, std::uint64_t file_size,
                     std::uint64_t* n);

// Parses and validates the JSON header (json_size bytes) of a file whose data section holds
// data_bytes bytes. Leaves h.data null: the caller says where the data is.
Status parse_header(const char* json, std::size_t json_size, std::uint64_t data_bytes, Header& h);

// A whole file in memory: length field, header, and h.data pointing at its data section.
Status parse_safetensors(const void* data, std::size_t size, Header& h);

// ---- writing a header ----
// Where header text goes: called with each piece (a NUL-terminated string, or `size` bytes when
// size is not 0).
struct TextSink {
  Status (*write)(void* context, const char* text, std::size_t size) = nullptr;
  void* context = nullptr;
};

// Writes a header in order: the __metadata__ items (each value written in pieces between
// begin_metadata and end_metadata; the pieces need no JSON escaping), then the tensors, whose
// data_offsets follow one another from 0 in the order given, then finish(). The writer adds no
// whitespace: the caller pads to the alignment it wants.
class HeaderWriter {
 public:
  explicit HeaderWriter(TextSink sink) : sink_(sink) {}
  Status begin_metadata(const char* key);
  Status text(const char* text, std::size_t size = 0) { return sink_.write(sink_.context, text, size); }
  Status end_metadata() { return text("\""); }
  // rank <= 2 (dims[0..rank)); the name needs no JSON escaping.
  Status tensor(const char* name, int dtype, int rank, const std::uint64_t* dims);
  Status finish();

 private:
  TextSink sink_;
  bool metadata_open_ = false;
  bool tensors_ = false;
  std::uint64_t offset_ = 0;
};

}  // namespace fennec::io_detail
