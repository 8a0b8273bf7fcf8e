// SPDX-License-Identifier: Apache-2.0
// The safetensors container: the 8-byte length and JSON header of a file, validated as
// include/fennec/safetensors.hpp describes before anything reads a tensor, and the header text
// an export writes. No heap: the JSON is parsed in place, and the per-tensor facts live in the
// caller's Header.
#include "io/safetensors_format.hpp"

#include <cstdio>

#include "fennec/file_kind.hpp"
#include "io/io_util.hpp"

namespace fennec {

using namespace io_detail;

namespace io_detail {

namespace {

Status parse_shape(JsonReader& j, Entry& e, std::uint64_t* nelements) {
  return j.for_each_element("to open a shape", "in a shape", [&]() {
    std::uint64_t d;
    FENNEC_RETURN_IF_ERROR(j.u64(&d));
    FENNEC_ENSURE(e.rank < kSafetensorsMaxRank, StatusCode::kUnsupported, "tensor rank above %zu",
                  kSafetensorsMaxRank);
    if (e.rank < 2) e.dims[e.rank] = d;
    ++e.rank;
    FENNEC_ENSURE(mul_u64(*nelements, d, nelements), StatusCode::kCorruptData,
                  "element count overflows 64 bits");
    return Status::ok();
  });
}

Status parse_tensor_info(JsonReader& j, Entry& e) {
  bool seen_dtype = false, seen_shape = false, seen_offsets = false;
  std::uint64_t nelements = 1;
  FENNEC_RETURN_IF_ERROR(j.for_each_member("to open tensor info", "in tensor info", [&](JsonSlice key) {
    if (json_decoded_equal(key, "dtype")) {
      FENNEC_ENSURE(!seen_dtype, StatusCode::kCorruptData, "duplicate field 'dtype'");
      seen_dtype = true;
      JsonSlice v;
      FENNEC_RETURN_IF_ERROR(j.string(&v));
      e.dtype = find_dtype(v);
      if (e.dtype < 0) {
        NameBuf n(v);
        return Status::error(StatusCode::kCorruptData, "unknown dtype '%s'", n.text);
      }
      return Status::ok();
    }
    if (json_decoded_equal(key, "shape")) {
      FENNEC_ENSURE(!seen_shape, StatusCode::kCorruptData, "duplicate field 'shape'");
      seen_shape = true;
      return parse_shape(j, e, &nelements);
    }
    if (json_decoded_equal(key, "data_offsets")) {
      FENNEC_ENSURE(!seen_offsets, StatusCode::kCorruptData, "duplicate field 'data_offsets'");
      seen_offsets = true;
      FENNEC_RETURN_IF_ERROR(j.expect('[', "to open data_offsets"));
      FENNEC_RETURN_IF_ERROR(j.u64(&e.begin));
      FENNEC_RETURN_IF_ERROR(j.expect(',', "in data_offsets"));
      FENNEC_RETURN_IF_ERROR(j.u64(&e.end));
      return j.expect(']', "after two data_offsets");
    }
    return j.skip_value();  // unknown fields are ignored, as serde does
  }));
  FENNEC_ENSURE(seen_dtype && seen_shape && seen_offsets, StatusCode::kCorruptData,
                "tensor info lacks %s", !seen_dtype ? "dtype" : !seen_shape ? "shape" : "data_offsets");
  std::uint64_t bits = 0;
  FENNEC_ENSURE(mul_u64(nelements, kDtypes[e.dtype].bits, &bits), StatusCode::kCorruptData,
                "byte size overflows 64 bits");
  e.nbytes = bits / 8;
  return Status::ok();
}

// __metadata__ is null or a map of string to string; every item is kept for the importers.
Status parse_metadata(JsonReader& j, Header& h) {
  if (j.null_literal()) return Status::ok();
  return j.for_each_member("to open __metadata__", "in __metadata__", [&](JsonSlice key) {
    JsonSlice value;
    FENNEC_RETURN_IF_ERROR(j.string(&value));
    FENNEC_ENSURE(h.metadata_count < kSafetensorsMaxMetadata, StatusCode::kUnsupported,
                  "more than %zu metadata keys", kSafetensorsMaxMetadata);
    for (std::size_t i = 0; i < h.metadata_count; ++i) {
      if (json_decoded_equal(h.metadata[i].key, key)) {
        NameBuf b(key);
        return Status::error(StatusCode::kCorruptData, "duplicate metadata key '%s'", b.text);
      }
    }
    h.metadata[h.metadata_count++] = MetadataItem{key, value};
    return Status::ok();
  });
}

// One "name": {tensor info} member of the header.
Status parse_tensor(JsonReader& j, JsonSlice key, Header& h) {
  FENNEC_ENSURE(h.count < kSafetensorsMaxTensors, StatusCode::kUnsupported, "more than %zu tensors",
                kSafetensorsMaxTensors);
  // Other readers see "0.weight" and "0.weight\u0000" as two keys; a C string would not.
  if (json_decoded_has_nul(key)) {
    NameBuf b(key);
    return Status::error(StatusCode::kCorruptData, "tensor name '%s\\u0000...' contains a NUL byte",
                         b.text);
  }
  for (std::size_t i = 0; i < h.count; ++i) {
    if (json_decoded_equal(h.entries[i].name, key)) {
      NameBuf b(key);
      return Status::error(StatusCode::kCorruptData, "duplicate tensor name '%s'", b.text);
    }
  }
  Entry& e = h.entries[h.count];
  e = Entry{};
  e.name = key;
  const Status s = parse_tensor_info(j, e);
  if (!s.is_ok()) {
    NameBuf b(key);
    return Status::error(s.code(), "tensor '%s': %s", b.text, s.message());
  }
  ++h.count;
  return Status::ok();
}

// The tensors sorted by data offsets must tile the data section from 0 with no overlap or hole,
// each exactly as long as its shape and dtype say.
Status check_data_offsets(std::uint64_t data_bytes, Header& h) {
  // Sort by (begin, end) (insertion sort; at most kSafetensorsMaxTensors entries).
  for (std::size_t i = 0; i < h.count; ++i) h.order[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 1; i < h.count; ++i) {
    const std::uint8_t x = h.order[i];
    std::size_t k = i;
    while (k > 0) {
      const Entry &a = h.entries[h.order[k - 1]], &b = h.entries[x];
      if (a.begin < b.begin || (a.begin == b.begin && a.end <= b.end)) break;
      h.order[k] = h.order[k - 1];
      --k;
    }
    h.order[k] = x;
  }
  std::uint64_t expected_begin = 0;
  for (std::size_t i = 0; i < h.count; ++i) {
    const Entry& e = h.entries[h.order[i]];
    if (e.begin != expected_begin || e.end < e.begin) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kCorruptData,
                           "tensor '%s': data_offsets [%llu, %llu] do not continue the previous "
                           "tensor at %llu (overlap, hole or reversed range)",
                           b.text, static_cast<unsigned long long>(e.begin),
                           static_cast<unsigned long long>(e.end),
                           static_cast<unsigned long long>(expected_begin));
    }
    if (e.end - e.begin != e.nbytes) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kCorruptData,
                           "tensor '%s': %llu bytes in data_offsets, shape x %s needs %llu", b.text,
                           static_cast<unsigned long long>(e.end - e.begin), kDtypes[e.dtype].name,
                           static_cast<unsigned long long>(e.nbytes));
    }
    expected_begin = e.end;
  }
  FENNEC_ENSURE(expected_begin == data_bytes, StatusCode::kCorruptData,
                "safetensors: tensors cover %llu data bytes, the file holds %llu (%s)",
                static_cast<unsigned long long>(expected_begin),
                static_cast<unsigned long long>(data_bytes),
                expected_begin < data_bytes ? "trailing bytes" : "truncated data");
  return Status::ok();
}

}  // namespace

bool find_metadata(const Header& h, const char* key, JsonSlice* value) {
  for (std::size_t i = 0; i < h.metadata_count; ++i) {
    if (json_decoded_equal(h.metadata[i].key, key)) {
      *value = h.metadata[i].value;
      return true;
    }
  }
  return false;
}

Status header_length(const unsigned char* start, std::size_t probe_size, std::uint64_t file_size,
                     std::uint64_t* n) {
  FENNEC_ENSURE(file_size >= 8, StatusCode::kCorruptData,
                "safetensors: %llu bytes, shorter than the 8-byte header length",
                static_cast<unsigned long long>(file_size));
  const FileKind kind = detect_file_kind(start, probe_size);
  FENNEC_ENSURE(kind != FileKind::kModelFile && kind != FileKind::kCheckpoint && kind != FileKind::kText,
                StatusCode::kCorruptData, "expected a safetensors file, got %s", file_kind_name(kind));
  *n = load_u64(start);
  FENNEC_ENSURE(*n <= kSafetensorsMaxHeader, StatusCode::kCorruptData,
                "safetensors: header length %llu above the %llu limit",
                static_cast<unsigned long long>(*n),
                static_cast<unsigned long long>(kSafetensorsMaxHeader));
  // n <= 1e8, so 8 + n cannot wrap.
  FENNEC_ENSURE(8 + *n <= file_size, StatusCode::kCorruptData,
                "safetensors: header length %llu runs past the end of the %llu-byte file",
                static_cast<unsigned long long>(*n), static_cast<unsigned long long>(file_size));
  return Status::ok();
}

Status parse_header(const char* json, std::size_t json_size, std::uint64_t data_bytes, Header& h) {
  FENNEC_ENSURE(json_size > 0 && json[0] == '{', StatusCode::kCorruptData,
                "safetensors: header does not start with '{'");
  FENNEC_ENSURE(valid_utf8(reinterpret_cast<const unsigned char*>(json), json_size),
                StatusCode::kCorruptData, "safetensors: header is not valid UTF-8");

  JsonReader j(json, json_size);
  bool seen_metadata = false;
  FENNEC_RETURN_IF_ERROR(j.for_each_member("to open the header", "between header entries", [&](JsonSlice key) {
    if (!json_decoded_equal(key, "__metadata__")) return parse_tensor(j, key, h);
    FENNEC_ENSURE(!seen_metadata, StatusCode::kCorruptData, "duplicate key '__metadata__'");
    seen_metadata = true;
    return parse_metadata(j, h);
  }));
  FENNEC_ENSURE(j.at_end(), StatusCode::kCorruptData,
                "header JSON: trailing characters at byte %zu", j.offset());
  FENNEC_RETURN_IF_ERROR(check_data_offsets(data_bytes, h));
  h.data = nullptr;
  h.data_bytes = data_bytes;
  return Status::ok();
}

Status parse_safetensors(const void* data, std::size_t size, Header& h) {
  FENNEC_ENSURE(data != nullptr || size == 0, StatusCode::kInvalidArgument, "null data");
  const unsigned char* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t n = 0;
  FENNEC_RETURN_IF_ERROR(header_length(bytes, size, size, &n));
  FENNEC_RETURN_IF_ERROR(parse_header(reinterpret_cast<const char*>(bytes + 8),
                                      static_cast<std::size_t>(n),
                                      static_cast<std::uint64_t>(size) - 8 - n, h));
  h.data = bytes + 8 + n;
  return Status::ok();
}

Status HeaderWriter::begin_metadata(const char* key) {
  FENNEC_RETURN_IF_ERROR(text(metadata_open_ ? "," : "{\"__metadata__\":{"));
  metadata_open_ = true;
  FENNEC_RETURN_IF_ERROR(text("\""));
  FENNEC_RETURN_IF_ERROR(text(key));
  return text("\":\"");
}

Status HeaderWriter::tensor(const char* name, int dtype, int rank, const std::uint64_t* dims) {
  if (!tensors_) FENNEC_RETURN_IF_ERROR(text(metadata_open_ ? "}" : "{"));
  char shape[48];
  std::uint64_t bytes = dtype_bytes(dtype);
  if (rank == 0) {
    shape[0] = 0;
  } else if (rank == 1) {
    std::snprintf(shape, sizeof(shape), "%llu", static_cast<unsigned long long>(dims[0]));
    bytes *= dims[0];
  } else {
    std::snprintf(shape, sizeof(shape), "%llu,%llu", static_cast<unsigned long long>(dims[0]),
                  static_cast<unsigned long long>(dims[1]));
    bytes *= dims[0] * dims[1];
  }
  char buf[200];
  const int n = std::snprintf(buf, sizeof(buf),
                              "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%llu,%llu]}",
                              metadata_open_ || tensors_ ? "," : "", name, kDtypes[dtype].name, shape,
                              static_cast<unsigned long long>(offset_),
                              static_cast<unsigned long long>(offset_ + bytes));
  tensors_ = true;
  offset_ += bytes;
  return text(buf, static_cast<std::size_t>(n));
}

Status HeaderWriter::finish() {
  if (!tensors_) return text(metadata_open_ ? "}}" : "{}");
  return text("}");
}

}  // namespace io_detail

Result<SafetensorsInfo> read_safetensors_info(const void* data, std::size_t size) {
  Header h;
  FENNEC_RETURN_IF_ERROR(parse_safetensors(data, size, h));
  SafetensorsInfo info;
  info.tensors = h.count;
  info.header_bytes = static_cast<std::uint64_t>(size) - 8 - h.data_bytes;
  info.data_bytes = h.data_bytes;
  return info;
}

}  // namespace fennec
