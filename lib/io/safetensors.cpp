// SPDX-License-Identifier: Apache-2.0
// safetensors import/export (format and checks in include/fennec/safetensors.hpp).
// No heap: the JSON header is parsed in place; per-tensor facts live in a fixed table on the stack.
#include "fennec/safetensors.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "io/io_util.hpp"
#include "io/json.hpp"

namespace fennec {

using namespace io_detail;

namespace {

struct DtypeInfo {
  const char* name;
  std::uint32_t bits;
};
// safetensors' Dtype enum (serde names). Index 0..2 are the ones Fennec imports.
constexpr DtypeInfo kDtypes[] = {
    {"F32", 32},    {"F16", 16},     {"BF16", 16},   {"BOOL", 8},    {"U8", 8},
    {"I8", 8},      {"F8_E5M2", 8},  {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16},    {"I32", 32},     {"U32", 32},    {"F64", 64},    {"I64", 64},
    {"U64", 64},    {"C64", 64},
};
constexpr int kF32 = 0, kF16 = 1, kBF16 = 2, kF64 = 13, kI64 = 14;
constexpr int kDtypeCount = static_cast<int>(sizeof(kDtypes) / sizeof(kDtypes[0]));

struct Entry {
  JsonSlice name;
  int dtype = -1;
  std::uint32_t rank = 0;
  std::uint64_t dims[2] = {0, 0};  // first two dims (all Fennec needs)
  std::uint64_t begin = 0, end = 0;
  std::uint64_t nbytes = 0;
};

struct Header {
  Entry entries[kSafetensorsMaxTensors];
  std::size_t count = 0;
  // Sorted by data offsets.
  std::uint8_t order[kSafetensorsMaxTensors] = {};
  static_assert(kSafetensorsMaxTensors <= 256, "order holds entry indices in bytes");
  bool has_activations = false, has_loss = false, has_batchnorm = false, has_dropout = false;
  JsonSlice activations, loss, batchnorm, dropout;
  const unsigned char* data = nullptr;  // start of the byte buffer (after the header)
  std::uint64_t data_bytes = 0;
};

// Prints a tensor name into a message buffer (decoded, truncated).
struct NameBuf {
  char text[48];
  explicit NameBuf(JsonSlice s) { json_decode(s, text, sizeof(text)); }
};

Status parse_tensor_info(JsonReader& j, Entry& e) {
  FENNEC_RETURN_IF_ERROR(j.expect('{', "to open tensor info"));
  bool seen_dtype = false, seen_shape = false, seen_offsets = false;
  std::uint64_t nelements = 1;
  if (!j.eat('}')) {
    for (;;) {
      JsonSlice key;
      FENNEC_RETURN_IF_ERROR(j.string(&key));
      FENNEC_RETURN_IF_ERROR(j.expect(':', "after a key"));
      if (json_decoded_equal(key, "dtype")) {
        FENNEC_ENSURE(!seen_dtype, StatusCode::kCorruptData, "duplicate field 'dtype'");
        seen_dtype = true;
        JsonSlice v;
        FENNEC_RETURN_IF_ERROR(j.string(&v));
        for (int d = 0; d < kDtypeCount; ++d)
          if (json_decoded_equal(v, kDtypes[d].name)) e.dtype = d;
        if (e.dtype < 0) {
          NameBuf n(v);
          return Status::error(StatusCode::kCorruptData, "unknown dtype '%s'", n.text);
        }
      } else if (json_decoded_equal(key, "shape")) {
        FENNEC_ENSURE(!seen_shape, StatusCode::kCorruptData, "duplicate field 'shape'");
        seen_shape = true;
        FENNEC_RETURN_IF_ERROR(j.expect('[', "to open a shape"));
        if (!j.eat(']')) {
          for (;;) {
            std::uint64_t d;
            FENNEC_RETURN_IF_ERROR(j.u64(&d));
            FENNEC_ENSURE(e.rank < kSafetensorsMaxRank, StatusCode::kUnsupported,
                          "tensor rank above %zu", kSafetensorsMaxRank);
            if (e.rank < 2) e.dims[e.rank] = d;
            ++e.rank;
            FENNEC_ENSURE(mul_u64(nelements, d, &nelements), StatusCode::kCorruptData,
                          "element count overflows 64 bits");
            if (j.eat(']')) break;
            FENNEC_RETURN_IF_ERROR(j.expect(',', "in a shape"));
          }
        }
      } else if (json_decoded_equal(key, "data_offsets")) {
        FENNEC_ENSURE(!seen_offsets, StatusCode::kCorruptData, "duplicate field 'data_offsets'");
        seen_offsets = true;
        FENNEC_RETURN_IF_ERROR(j.expect('[', "to open data_offsets"));
        FENNEC_RETURN_IF_ERROR(j.u64(&e.begin));
        FENNEC_RETURN_IF_ERROR(j.expect(',', "in data_offsets"));
        FENNEC_RETURN_IF_ERROR(j.u64(&e.end));
        FENNEC_RETURN_IF_ERROR(j.expect(']', "after two data_offsets"));
      } else {
        FENNEC_RETURN_IF_ERROR(j.skip_value());  // unknown fields are ignored, as serde does
      }
      if (j.eat('}')) break;
      FENNEC_RETURN_IF_ERROR(j.expect(',', "in tensor info"));
    }
  }
  FENNEC_ENSURE(seen_dtype && seen_shape && seen_offsets, StatusCode::kCorruptData,
                "tensor info lacks %s", !seen_dtype ? "dtype" : !seen_shape ? "shape" : "data_offsets");
  std::uint64_t bits = 0;
  FENNEC_ENSURE(mul_u64(nelements, kDtypes[e.dtype].bits, &bits), StatusCode::kCorruptData,
                "byte size overflows 64 bits");
  e.nbytes = bits / 8;
  return Status::ok();
}

Status parse_metadata(JsonReader& j, Header& h) {
  if (j.null_literal()) return Status::ok();
  FENNEC_RETURN_IF_ERROR(j.expect('{', "to open __metadata__"));
  constexpr std::size_t kMaxKeys = 64;
  JsonSlice keys[kMaxKeys];
  std::size_t n = 0;
  if (j.eat('}')) return Status::ok();
  for (;;) {
    JsonSlice key, value;
    FENNEC_RETURN_IF_ERROR(j.string(&key));
    FENNEC_RETURN_IF_ERROR(j.expect(':', "after a key"));
    FENNEC_RETURN_IF_ERROR(j.string(&value));  // metadata is a map of string to string
    FENNEC_ENSURE(n < kMaxKeys, StatusCode::kUnsupported, "more than %zu metadata keys", kMaxKeys);
    for (std::size_t i = 0; i < n; ++i) {
      if (json_decoded_equal(keys[i], key)) {
        NameBuf b(key);
        return Status::error(StatusCode::kCorruptData, "duplicate metadata key '%s'", b.text);
      }
    }
    keys[n++] = key;
    if (json_decoded_equal(key, "fennec.activations")) {
      h.has_activations = true;
      h.activations = value;
    } else if (json_decoded_equal(key, "fennec.loss")) {
      h.has_loss = true;
      h.loss = value;
    } else if (json_decoded_equal(key, "fennec.batchnorm")) {
      h.has_batchnorm = true;
      h.batchnorm = value;
    } else if (json_decoded_equal(key, "fennec.dropout")) {
      h.has_dropout = true;
      h.dropout = value;
    }
    if (j.eat('}')) return Status::ok();
    FENNEC_RETURN_IF_ERROR(j.expect(',', "in __metadata__"));
  }
}

// The 8-byte length field against the file's size: the JSON header's length. `start` holds the
// file's first probe_size bytes (at least 8 when the file has them), enough to say what the file
// is when it is another format Fennec knows (or text) instead of safetensors.
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

// Parses the JSON header (json_size bytes) of a file whose data section holds data_bytes bytes.
// Leaves h.data null: the caller says where the data is.
Status parse_header(const char* json, std::size_t json_size, std::uint64_t data_bytes, Header& h) {
  FENNEC_ENSURE(json_size > 0 && json[0] == '{', StatusCode::kCorruptData,
                "safetensors: header does not start with '{'");
  FENNEC_ENSURE(valid_utf8(reinterpret_cast<const unsigned char*>(json), json_size),
                StatusCode::kCorruptData, "safetensors: header is not valid UTF-8");

  JsonReader j(json, json_size);
  FENNEC_RETURN_IF_ERROR(j.expect('{', "to open the header"));
  bool seen_metadata = false;
  if (!j.eat('}')) {
    for (;;) {
      JsonSlice key;
      FENNEC_RETURN_IF_ERROR(j.string(&key));
      FENNEC_RETURN_IF_ERROR(j.expect(':', "after a key"));
      if (json_decoded_equal(key, "__metadata__")) {
        FENNEC_ENSURE(!seen_metadata, StatusCode::kCorruptData, "duplicate key '__metadata__'");
        seen_metadata = true;
        FENNEC_RETURN_IF_ERROR(parse_metadata(j, h));
      } else {
        FENNEC_ENSURE(h.count < kSafetensorsMaxTensors, StatusCode::kUnsupported,
                      "more than %zu tensors", kSafetensorsMaxTensors);
        // Other readers see "0.weight" and "0.weight\u0000" as two keys; a C string would not.
        if (json_decoded_has_nul(key)) {
          NameBuf b(key);
          return Status::error(StatusCode::kCorruptData,
                               "tensor name '%s\\u0000...' contains a NUL byte", b.text);
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
      }
      if (j.eat('}')) break;
      FENNEC_RETURN_IF_ERROR(j.expect(',', "between header entries"));
    }
  }
  FENNEC_ENSURE(j.at_end(), StatusCode::kCorruptData,
                "header JSON: trailing characters at byte %zu", j.offset());

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
  h.data = nullptr;
  h.data_bytes = data_bytes;
  return Status::ok();
}

Status parse(const void* data, std::size_t size, Header& h) {
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

// ---- Sequential/Linear/BatchNorm1d mapping ----
// What a tensor name ends in.
enum Part : int { kUnknownPart = -1, kWeight, kBias, kRunningMean, kRunningVar, kBatchesTracked };
constexpr const char* kPartNames[] = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"};

// A BatchNorm1d module: the entry index of each of its tensors (-1: absent).
struct BatchNormModule {
  std::uint32_t index = 0;
  int part[5] = {-1, -1, -1, -1, -1};
};

struct Layer {
  std::uint32_t index = 0;
  int weight = -1, bias = -1;  // entry indices
  int bn = -1;                 // the BatchNorm1d module after it (Mapping::bn), -1: none
};

struct Mapping {
  Layer layers[kMaxLayers];
  std::size_t count = 0;
  BatchNormModule bn[kMaxLayers];
  std::size_t bn_count = 0;
  // Whether entry t is a num_batches_tracked counter (not a float parameter).
  bool is_counter(std::size_t t) const {
    for (std::size_t k = 0; k < bn_count; ++k)
      if (bn[k].part[kBatchesTracked] == static_cast<int>(t)) return true;
    return false;
  }
};

// Longest tensor name the import maps (prefix and module names included).
constexpr std::size_t kMaxTensorName = 160;

// "<i>" a decimal without leading zeros, < 10^9.
bool parse_index(const char* s, std::size_t n, std::uint32_t* index) {
  if (n == 0 || n > 9 || (s[0] == '0' && n > 1)) return false;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(s[i] - '0');
  }
  *index = v;
  return true;
}

struct Name {
  bool module = false;  // the stem names a module: a Sequential index or a listed layer name
  std::uint32_t index = 0;
  int part = kUnknownPart;
};

// "<prefix><stem>.<part>", where <stem> is the Sequential index "<i>" or, with
// import.layer_names, one of those names (its position in the list is the layer's index).
Name parse_name(JsonSlice s, const SafetensorsImport& import) {
  Name out;
  char buf[kMaxTensorName];
  std::size_t size = 0;
  // Decoded with its length: a NUL inside the name must not end it early ("0.weight\u0000" is
  // another key than "0.weight" to PyTorch).
  if (!json_decode(s, buf, sizeof(buf), &size) || std::memchr(buf, 0, size) != nullptr) return out;
  const char* rest = buf;
  if (import.prefix) {
    const std::size_t p = std::strlen(import.prefix);
    if (std::strncmp(buf, import.prefix, p) != 0) return out;
    rest += p;
  }
  const char* dot = std::strrchr(rest, '.');
  if (!dot) return out;
  for (int k = 0; k < 5; ++k)
    if (std::strcmp(dot + 1, kPartNames[k]) == 0) out.part = k;
  const std::size_t stem = static_cast<std::size_t>(dot - rest);
  if (!import.layer_names) {
    out.module = parse_index(rest, stem, &out.index);
    return out;
  }
  for (std::size_t i = 0; i < import.num_layer_names; ++i) {
    const char* name = import.layer_names[i];
    if (name && std::strlen(name) == stem && std::strncmp(rest, name, stem) == 0) {
      out.index = static_cast<std::uint32_t>(i);
      out.module = true;
      return out;
    }
  }
  return out;
}

bool float_dtype(int d) { return d == kF32 || d == kF16 || d == kBF16 || d == kF64; }

// The BatchNorm1d modules (a module index holding running statistics) and their tensors.
Status map_batchnorm(const Header& h, const SafetensorsImport& import, const Name* names, Mapping& m) {
  for (std::size_t t = 0; t < h.count; ++t) {
    if (names[t].part < kRunningMean) continue;
    // With layer names the module order is unknown (only the Linear layers are listed).
    if (import.layer_names) {
      NameBuf b(h.entries[t].name);
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' is a BatchNorm1d buffer: BatchNorm1d modules map by their "
                           "nn.Sequential index only, not with layer names",
                           b.text);
    }
    if (!names[t].module) continue;
    std::size_t k = 0;
    while (k < m.bn_count && m.bn[k].index != names[t].index) ++k;
    if (k == m.bn_count) {
      FENNEC_ENSURE(m.bn_count < kMaxLayers, StatusCode::kUnsupported,
                    "more than %zu BatchNorm1d modules", kMaxLayers);
      m.bn[m.bn_count++].index = names[t].index;
    }
  }
  for (std::size_t t = 0; t < h.count; ++t) {
    if (!names[t].module) continue;
    std::size_t k = 0;
    while (k < m.bn_count && m.bn[k].index != names[t].index) ++k;
    if (k == m.bn_count) continue;
    const Entry& e = h.entries[t];
    NameBuf b(e.name);
    FENNEC_ENSURE(names[t].part != kUnknownPart, StatusCode::kUnsupported,
                  "tensor '%s' of BatchNorm1d module %lu is not its weight, bias, running_mean, "
                  "running_var or num_batches_tracked",
                  b.text, static_cast<unsigned long>(m.bn[k].index));
    const int part = names[t].part;
    if (part == kBatchesTracked) {
      FENNEC_ENSURE(e.dtype == kI64 || e.dtype == kF32 || e.dtype == kF64, StatusCode::kUnsupported,
                    "tensor '%s' has dtype %s; num_batches_tracked loads from I64, F32 or F64", b.text,
                    kDtypes[e.dtype].name);
      FENNEC_ENSURE(e.rank == 0 || (e.rank == 1 && e.dims[0] == 1), StatusCode::kShapeMismatch,
                    "tensor '%s' must have shape [] or [1]", b.text);
    } else {
      FENNEC_ENSURE(float_dtype(e.dtype), StatusCode::kUnsupported,
                    "tensor '%s' has dtype %s; only F32, F16, BF16 and F64 load", b.text,
                    kDtypes[e.dtype].name);
      FENNEC_ENSURE(e.rank == 1, StatusCode::kShapeMismatch, "tensor '%s' has rank %lu, not 1", b.text,
                    static_cast<unsigned long>(e.rank));
    }
    m.bn[k].part[part] = static_cast<int>(t);
  }
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const BatchNormModule& bn = m.bn[k];
    const unsigned long i = bn.index;
    FENNEC_ENSURE(bn.part[kRunningMean] >= 0 && bn.part[kRunningVar] >= 0, StatusCode::kShapeMismatch,
                  "BatchNorm1d module %lu lacks '%lu.%s'", i, i,
                  bn.part[kRunningMean] < 0 ? "running_mean" : "running_var");
    FENNEC_ENSURE((bn.part[kWeight] >= 0) == (bn.part[kBias] >= 0), StatusCode::kShapeMismatch,
                  "BatchNorm1d module %lu has '%lu.%s' without '%lu.%s' (affine=False has neither)", i,
                  i, bn.part[kWeight] >= 0 ? "weight" : "bias", i, bn.part[kWeight] >= 0 ? "bias" : "weight");
  }
  return Status::ok();
}

// Attaches each BatchNorm1d module to the Linear before it (m.layers sorted by index).
Status attach_batchnorm(const Header& h, Mapping& m) {
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const unsigned long i = m.bn[k].index;
    std::size_t l = m.count;
    for (std::size_t j = 0; j < m.count && m.layers[j].index < m.bn[k].index; ++j) l = j;
    FENNEC_ENSURE(l < m.count, StatusCode::kUnsupported,
                  "BatchNorm1d module %lu comes before any Linear (Fennec normalises a dense layer's output)", i);
    Layer& layer = m.layers[l];
    FENNEC_ENSURE(layer.bn < 0, StatusCode::kUnsupported,
                  "BatchNorm1d modules %lu and %lu both follow Linear %lu (Fennec has one per dense layer)",
                  static_cast<unsigned long>(m.bn[layer.bn].index), i, static_cast<unsigned long>(layer.index));
    layer.bn = static_cast<int>(k);
    const std::uint64_t units = h.entries[layer.weight].dims[0];
    for (int part = kWeight; part <= kRunningVar; ++part) {
      const int t = m.bn[k].part[part];
      FENNEC_ENSURE(t < 0 || h.entries[t].dims[0] == units, StatusCode::kShapeMismatch,
                    "'%lu.%s' must have shape (%llu), the out features of Linear %lu", i, kPartNames[part],
                    static_cast<unsigned long long>(units), static_cast<unsigned long>(layer.index));
    }
  }
  return Status::ok();
}

Status map_layers(const Header& h, const SafetensorsImport& import, Mapping& m) {
  FENNEC_ENSURE(import.layer_names == nullptr || (import.num_layer_names >= 1 &&
                                                  import.num_layer_names <= kMaxLayers),
                StatusCode::kInvalidArgument, "%zu layer names given; 1 to %zu allowed",
                import.num_layer_names, kMaxLayers);
  Name names[kSafetensorsMaxTensors];
  for (std::size_t t = 0; t < h.count; ++t) names[t] = parse_name(h.entries[t].name, import);
  // BatchNorm1d first: its weight/bias would otherwise be read as a rank-1 Linear weight.
  FENNEC_RETURN_IF_ERROR(map_batchnorm(h, import, names, m));
  for (std::size_t t = 0; t < h.count; ++t) {
    const Entry& e = h.entries[t];
    const Name& name = names[t];
    bool in_bn = false;
    for (std::size_t k = 0; k < m.bn_count; ++k) in_bn = in_bn || (name.module && m.bn[k].index == name.index);
    if (in_bn) continue;
    if (!name.module || (name.part != kWeight && name.part != kBias)) {
      NameBuf b(e.name);
      if (import.prefix || import.layer_names)
        return Status::error(StatusCode::kUnsupported,
                             "tensor '%s' is not '%s<%s>.weight' or '.bias'", b.text,
                             import.prefix ? import.prefix : "",
                             import.layer_names ? "listed layer" : "i");
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' is not '<i>.weight' or '<i>.bias' of an nn.Sequential of "
                           "nn.Linear (and BatchNorm1d) modules (other names: a prefix or a list of "
                           "layer names)",
                           b.text);
    }
    const std::uint32_t index = name.index;
    const bool is_weight = name.part == kWeight;
    if (!float_dtype(e.dtype)) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' has dtype %s; only F32, F16, BF16 and F64 load", b.text,
                           kDtypes[e.dtype].name);
    }
    std::size_t k = 0;
    while (k < m.count && m.layers[k].index != index) ++k;
    if (k == m.count) {
      FENNEC_ENSURE(m.count < kMaxLayers, StatusCode::kUnsupported, "more than %zu Linear layers",
                    kMaxLayers);
      m.layers[m.count++].index = index;
    }
    int& slot = is_weight ? m.layers[k].weight : m.layers[k].bias;
    if (slot >= 0) {
      NameBuf a(h.entries[slot].name), b(e.name);
      return Status::error(StatusCode::kCorruptData, "tensors '%s' and '%s' both map to layer %lu's %s",
                           a.text, b.text, static_cast<unsigned long>(index),
                           is_weight ? "weight" : "bias");
    }
    slot = static_cast<int>(t);
  }
  FENNEC_ENSURE(m.count > 0, StatusCode::kShapeMismatch, "no Linear layers in the file");
  // Sequential order.
  for (std::size_t i = 1; i < m.count; ++i) {
    const Layer x = m.layers[i];
    std::size_t k = i;
    while (k > 0 && m.layers[k - 1].index > x.index) {
      m.layers[k] = m.layers[k - 1];
      --k;
    }
    m.layers[k] = x;
  }
  if (import.layer_names) {
    FENNEC_ENSURE(m.count == import.num_layer_names, StatusCode::kShapeMismatch,
                  "%zu layer names given, the file has tensors for %zu of them",
                  import.num_layer_names, m.count);
  }
  for (std::size_t i = 0; i < m.count; ++i) {
    const Layer& l = m.layers[i];
    FENNEC_ENSURE(l.weight >= 0, StatusCode::kShapeMismatch, "'%lu.bias' without '%lu.weight'",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long>(l.index));
    const Entry& w = h.entries[l.weight];
    FENNEC_ENSURE(w.rank == 2, StatusCode::kShapeMismatch, "'%lu.weight' has rank %lu, not 2",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long>(w.rank));
    FENNEC_ENSURE(w.dims[0] >= 1 && w.dims[0] <= kMaxWidth && w.dims[1] >= 1 && w.dims[1] <= kMaxWidth,
                  StatusCode::kShapeMismatch, "'%lu.weight' shape (%llu, %llu) outside [1, %zu]",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long long>(w.dims[0]),
                  static_cast<unsigned long long>(w.dims[1]), kMaxWidth);
    if (l.bias >= 0) {
      const Entry& b = h.entries[l.bias];
      FENNEC_ENSURE(b.rank == 1 && b.dims[0] == w.dims[0], StatusCode::kShapeMismatch,
                    "'%lu.bias' must have shape (%llu)", static_cast<unsigned long>(l.index),
                    static_cast<unsigned long long>(w.dims[0]));
    }
    if (i > 0) {
      const Entry& prev = h.entries[m.layers[i - 1].weight];
      FENNEC_ENSURE(w.dims[1] == prev.dims[0], StatusCode::kShapeMismatch,
                    "'%lu.weight' takes %llu inputs but the previous layer gives %llu",
                    static_cast<unsigned long>(l.index), static_cast<unsigned long long>(w.dims[1]),
                    static_cast<unsigned long long>(prev.dims[0]));
    }
  }
  return attach_batchnorm(h, m);
}

// "relu,relu,identity" (each optionally "leaky_relu:0.2"), decoded with its length so a \u0000
// inside is a byte of an item, and parsed by the same function as the tools' --activation.
Status parse_activation_metadata(JsonSlice s, ActivationSpec* out, std::size_t count) {
  char buf[kMaxLayers * 24];
  std::size_t size = 0;
  FENNEC_ENSURE(json_decode(s, buf, sizeof(buf), &size), StatusCode::kInvalidArgument,
                "fennec.activations metadata too long");
  const Status st = parse_activation_list(buf, size, out, count);
  if (!st.is_ok()) return Status::error(st.code(), "fennec.activations metadata: %s", st.message());
  for (std::size_t i = 0; i < count; ++i) FENNEC_RETURN_IF_ERROR(validate(out[i]));
  return Status::ok();
}

// Reads a float item of layer-option metadata: a terminated copy for strtof, no leading
// whitespace, the whole item consumed, finite.
bool parse_metadata_float(const char* text, std::size_t size, float* out) {
  char num[32];
  if (size == 0 || size >= sizeof(num) || text[0] == ' ' || text[0] == '\t') return false;
  std::memcpy(num, text, size);
  num[size] = 0;
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(num, &end);
  if (end != num + size || errno == ERANGE || !finite_f32(v)) return false;
  *out = v;
  return true;
}

// Splits the decoded metadata value `key` (one item per Linear, comma-separated) and calls
// item(layer, text, size) for each.
template <class Item>
Status for_each_metadata_item(JsonSlice s, const char* key, std::size_t count, Item&& item) {
  char buf[kMaxLayers * 40];
  std::size_t size = 0;
  FENNEC_ENSURE(json_decode(s, buf, sizeof(buf), &size), StatusCode::kInvalidArgument,
                "%s metadata too long", key);
  std::size_t items = 0, start = 0;
  for (;;) {
    const void* comma = size > start ? std::memchr(buf + start, ',', size - start) : nullptr;
    const std::size_t end = comma ? static_cast<std::size_t>(static_cast<const char*>(comma) - buf) : size;
    if (items < count) FENNEC_RETURN_IF_ERROR(item(items, buf + start, end - start));
    ++items;
    if (!comma) break;
    start = end + 1;
  }
  FENNEC_ENSURE(items == count, StatusCode::kInvalidArgument,
                "%s metadata has %zu items for %zu Linear layers", key, items, count);
  return Status::ok();
}

// Batch norm eps/momentum and dropout of each layer: the file's fennec.batchnorm and
// fennec.dropout metadata, else the import's defaults for BatchNorm1d and no dropout.
Status layer_options(const Header& h, const Mapping& m, const SafetensorsImport& import, ModelSpec& spec) {
  for (std::size_t i = 0; i < m.count; ++i) {
    if (m.layers[i].bn >= 0) {
      BatchNormSpec& bn = spec.layers[i].batchnorm;  // by field name: the struct's order is its packing
      bn = BatchNormSpec{};
      bn.enabled = true;
      bn.eps = import.batchnorm_eps;
      bn.momentum = import.batchnorm_momentum;
    }
  }
  if (!import.options_from_metadata) return Status::ok();
  if (h.has_batchnorm) {
    FENNEC_RETURN_IF_ERROR(for_each_metadata_item(
        h.batchnorm, "fennec.batchnorm", m.count, [&](std::size_t i, const char* text, std::size_t size) {
          const bool none = size == 1 && text[0] == '-';
          FENNEC_ENSURE(none == (m.layers[i].bn < 0), StatusCode::kInvalidArgument,
                        "fennec.batchnorm metadata: Linear %lu has %s BatchNorm1d module in the file "
                        "but item %zu is '%.*s'",
                        static_cast<unsigned long>(m.layers[i].index), none ? "a" : "no", i + 1,
                        static_cast<int>(size < 32 ? size : 32), text);
          if (none) return Status::ok();
          const void* colon = std::memchr(text, ':', size);
          const std::size_t at = colon ? static_cast<std::size_t>(static_cast<const char*>(colon) - text) : size;
          float eps = 0.f, momentum = 0.f;
          FENNEC_ENSURE(colon && parse_metadata_float(text, at, &eps) &&
                            parse_metadata_float(text + at + 1, size - at - 1, &momentum),
                        StatusCode::kInvalidArgument,
                        "fennec.batchnorm metadata: item %zu is '%.*s', not '-' or 'EPS:MOMENTUM'", i + 1,
                        static_cast<int>(size < 32 ? size : 32), text);
          spec.layers[i].batchnorm.eps = eps;
          spec.layers[i].batchnorm.momentum = momentum;
          return Status::ok();
        }));
  }
  if (h.has_dropout) {
    FENNEC_RETURN_IF_ERROR(for_each_metadata_item(
        h.dropout, "fennec.dropout", m.count, [&](std::size_t i, const char* text, std::size_t size) {
          FENNEC_ENSURE(parse_metadata_float(text, size, &spec.layers[i].dropout), StatusCode::kInvalidArgument,
                        "fennec.dropout metadata: item %zu is '%.*s', not a probability", i + 1,
                        static_cast<int>(size < 32 ? size : 32), text);
          return Status::ok();
        }));
  }
  return Status::ok();
}

Status build_spec(const Header& h, const Mapping& m, const SafetensorsImport& import,
                  ModelSpec* out) {
  ActivationSpec acts[kMaxLayers];
  Loss loss = import.loss;
  if (import.activations) {
    FENNEC_ENSURE(import.num_activations == m.count, StatusCode::kInvalidArgument,
                  "%zu activations given for %zu Linear layers", import.num_activations, m.count);
    for (std::size_t i = 0; i < m.count; ++i) acts[i] = import.activations[i];
  } else {
    FENNEC_ENSURE(h.has_activations, StatusCode::kInvalidArgument,
                  "no activations given and the file has no fennec.activations metadata");
    FENNEC_RETURN_IF_ERROR(parse_activation_metadata(h.activations, acts, m.count));
    if (h.has_loss) {
      bool found = false;
      for (int k = 0; k <= static_cast<int>(Loss::kSigmoidBce); ++k) {
        if (json_decoded_equal(h.loss, loss_name(static_cast<Loss>(k)))) {
          loss = static_cast<Loss>(k);
          found = true;
        }
      }
      FENNEC_ENSURE(found, StatusCode::kInvalidArgument, "unknown fennec.loss metadata");
    }
  }
  ModelSpec spec(static_cast<std::uint32_t>(h.entries[m.layers[0].weight].dims[1]));
  spec.loss = loss;
  for (std::size_t i = 0; i < m.count; ++i)
    spec.dense(static_cast<std::uint32_t>(h.entries[m.layers[i].weight].dims[0]), acts[i]);
  FENNEC_RETURN_IF_ERROR(layer_options(h, m, import, spec));
  FENNEC_RETURN_IF_ERROR(validate(spec));
  *out = spec;
  return Status::ok();
}

double load_f64(const unsigned char* p) {
  std::uint64_t u = 0;
  for (int i = 7; i >= 0; --i) u = u << 8 | p[i];
  double d;
  std::memcpy(&d, &u, sizeof(d));
  return d;
}

float load_value(const unsigned char* p, int dtype) {
  if (dtype == kF32) return load_f32(p);
  if (dtype == kF64) return static_cast<float>(load_f64(p));  // round to nearest
  const std::uint16_t v = static_cast<std::uint16_t>(p[0] | p[1] << 8);
  return dtype == kF16 ? f16_to_f32(v) : bf16_to_f32(v);
}

Status check_finite(const Header& h, const Entry& e) {
  const std::uint64_t size = kDtypes[e.dtype].bits / 8;
  const unsigned char* p = h.data + e.begin;
  for (std::uint64_t i = 0; i < e.nbytes; i += size) {
    if (!finite_f32(load_value(p + i, e.dtype))) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kNonFinite, "tensor '%s' element %llu is NaN or Inf",
                           b.text, static_cast<unsigned long long>(i / size));
    }
  }
  return Status::ok();
}

// F64 values must fit float: a finite double beyond float's range would load as Inf.
Status check_f64_range(const Header& h, const Entry& e) {
  const unsigned char* p = h.data + e.begin;
  for (std::uint64_t i = 0; i < e.nbytes; i += 8) {
    const double d = load_f64(p + i);
    if (d == d && d - d == 0.0 && !finite_f32(static_cast<float>(d))) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' element %llu is %g, outside float's range", b.text,
                           static_cast<unsigned long long>(i / 8), d);
    }
  }
  return Status::ok();
}

void copy_tensor(const Header& h, const Entry& e, float* dst, std::size_t rows, std::size_t cols,
                 std::size_t stride) {
  const std::size_t size = kDtypes[e.dtype].bits / 8;
  const unsigned char* p = h.data + e.begin;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c, p += size) dst[r * stride + c] = load_value(p, e.dtype);
}

// num_batches_tracked as a count: I64 (PyTorch) or a float holding a non-negative integer
// (writers that store every tensor as F32).
Status decode_counter(const unsigned char* p, int dtype, const char* prefix, std::uint32_t index,
                      std::uint64_t* out) {
  if (dtype == kI64) {
    const std::uint64_t u = load_u64(p);
    FENNEC_ENSURE(u >> 63 == 0, StatusCode::kCorruptData, "'%s%lu.num_batches_tracked' is negative (%lld)",
                  prefix, static_cast<unsigned long>(index), static_cast<long long>(u));
    *out = u;
    return Status::ok();
  }
  const double d = dtype == kF32 ? static_cast<double>(load_f32(p)) : load_f64(p);
  const bool whole = d >= 0.0 && d < 9223372036854775808.0 &&
                     static_cast<double>(static_cast<std::uint64_t>(d)) == d;
  FENNEC_ENSURE(whole, StatusCode::kCorruptData,
                "'%s%lu.num_batches_tracked' is %g, not a non-negative whole number", prefix,
                static_cast<unsigned long>(index), d);
  *out = static_cast<std::uint64_t>(d);
  return Status::ok();
}

// Fennec keeps one count for the model; PyTorch one per module (equal when trained together).
Status merge_counter(std::uint64_t value, bool* seen, std::uint64_t* count, const char* prefix,
                     std::uint32_t index) {
  FENNEC_ENSURE(!*seen || value == *count, StatusCode::kUnsupported,
                "'%s%lu.num_batches_tracked' is %llu, another BatchNorm1d module's is %llu (Fennec "
                "keeps one count per model)",
                prefix, static_cast<unsigned long>(index), static_cast<unsigned long long>(value),
                static_cast<unsigned long long>(*count));
  *seen = true;
  *count = value;
  return Status::ok();
}

Status check_running_var(float v, const char* prefix, std::uint32_t index, std::size_t k) {
  FENNEC_ENSURE(v >= 0.f && finite_f32(v), StatusCode::kCorruptData,
                "'%s%lu.running_var' element %zu is %g: a variance is finite and >= 0", prefix,
                static_cast<unsigned long>(index), k, static_cast<double>(v));
  return Status::ok();
}

// The batch-norm values a load checks before writing anything: running variances and the
// batches-tracked count.
Status check_batchnorm_values(const Header& h, const Mapping& m, const SafetensorsImport& import,
                              std::uint64_t* tracked) {
  const char* prefix = import.prefix ? import.prefix : "";
  bool seen = false;
  *tracked = 0;
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const BatchNormModule& bn = m.bn[k];
    const Entry& v = h.entries[bn.part[kRunningVar]];
    const std::size_t size = kDtypes[v.dtype].bits / 8;
    for (std::size_t i = 0; i < v.dims[0]; ++i)
      FENNEC_RETURN_IF_ERROR(check_running_var(load_value(h.data + v.begin + i * size, v.dtype), prefix, bn.index, i));
    if (bn.part[kBatchesTracked] >= 0) {
      const Entry& c = h.entries[bn.part[kBatchesTracked]];
      std::uint64_t value = 0;
      FENNEC_RETURN_IF_ERROR(decode_counter(h.data + c.begin, c.dtype, prefix, bn.index, &value));
      FENNEC_RETURN_IF_ERROR(merge_counter(value, &seen, tracked, prefix, bn.index));
    }
  }
  return Status::ok();
}

// Whether the model has batch norm exactly where the file has BatchNorm1d modules.
Status check_batchnorm_layout(const Mapping& m, const ModelSpec& spec) {
  for (std::size_t i = 0; i < m.count; ++i) {
    const bool file = m.layers[i].bn >= 0, model = spec.layers[i].batchnorm.enabled;
    FENNEC_ENSURE(file == model, StatusCode::kShapeMismatch,
                  "layer %zu: batch norm in the %s but not in the %s", i, file ? "file" : "model",
                  file ? "model" : "file");
  }
  return Status::ok();
}

}  // namespace

float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise (at most 10 shifts)
      std::uint32_t e = 113;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --e;
      }
      bits = sign | e << 23 | (mant & 0x3FFu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | mant << 13 | (mant ? 0x400000u : 0u);
  } else {
    bits = sign | (exp + 112) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu)) bits |= 0x400000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Result<std::size_t> validate_safetensors(const void* data, std::size_t size) {
  Header h;
  FENNEC_RETURN_IF_ERROR(parse(data, size, h));
  return h.count;
}

Result<ModelSpec> read_safetensors_spec(const void* data, std::size_t size,
                                        const SafetensorsImport& import) {
  Header h;
  FENNEC_RETURN_IF_ERROR(parse(data, size, h));
  Mapping m;
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  ModelSpec spec;
  FENNEC_RETURN_IF_ERROR(build_spec(h, m, import, &spec));
  return spec;
}

Status load_safetensors_parameters(const void* data, std::size_t size, Model& model,
                                   const SafetensorsImport& import) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "model is not bound");
  FENNEC_RETURN_IF_ERROR(check_writable_model(model));
  Header h;
  FENNEC_RETURN_IF_ERROR(parse(data, size, h));
  Mapping m;
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  // Same widths as the model (activations are the caller's business once bound).
  FENNEC_ENSURE(m.count == model.num_layers() &&
                    h.entries[m.layers[0].weight].dims[1] == model.spec().input,
                StatusCode::kShapeMismatch, "the file's %zu layers do not match the model's %zu",
                m.count, model.num_layers());
  for (std::size_t i = 0; i < m.count; ++i) {
    FENNEC_ENSURE(h.entries[m.layers[i].weight].dims[0] == model.spec().layers[i].units,
                  StatusCode::kShapeMismatch, "layer %zu: %llu units in the file, %lu in the model",
                  i, static_cast<unsigned long long>(h.entries[m.layers[i].weight].dims[0]),
                  static_cast<unsigned long>(model.spec().layers[i].units));
  }
  FENNEC_RETURN_IF_ERROR(check_batchnorm_layout(m, model.spec()));
  // Counters are integers, checked by check_batchnorm_values.
  for (std::size_t t = 0; t < h.count; ++t)
    if (h.entries[t].dtype == kF64 && !m.is_counter(t)) FENNEC_RETURN_IF_ERROR(check_f64_range(h, h.entries[t]));
  if (import.check_finite) {
    for (std::size_t t = 0; t < h.count; ++t)
      if (!m.is_counter(t)) FENNEC_RETURN_IF_ERROR(check_finite(h, h.entries[t]));
  }
  std::uint64_t tracked = 0;
  FENNEC_RETURN_IF_ERROR(check_batchnorm_values(h, m, import, &tracked));
  for (std::size_t i = 0; i < m.count; ++i) {
    const MatrixView w = model.weights(i);
    copy_tensor(h, h.entries[m.layers[i].weight], w.data, w.rows, w.cols, w.stride);
    const VectorView b = model.bias(i);
    if (m.layers[i].bias >= 0) {
      copy_tensor(h, h.entries[m.layers[i].bias], b.data, 1, b.size, b.size);
    } else {
      std::memset(b.data, 0, b.size * sizeof(float));
    }
    if (m.layers[i].bn < 0) continue;
    const BatchNormModule& bn = m.bn[m.layers[i].bn];
    const VectorView g = model.bn_gamma(i), be = model.bn_beta(i);
    const VectorView mean = model.bn_running_mean(i), var = model.bn_running_var(i);
    if (bn.part[kWeight] >= 0) {
      copy_tensor(h, h.entries[bn.part[kWeight]], g.data, 1, g.size, g.size);
      copy_tensor(h, h.entries[bn.part[kBias]], be.data, 1, be.size, be.size);
    } else {  // affine=False: the identity scale and shift
      for (std::size_t k = 0; k < g.size; ++k) g.data[k] = 1.f;
      std::memset(be.data, 0, be.size * sizeof(float));
    }
    copy_tensor(h, h.entries[bn.part[kRunningMean]], mean.data, 1, mean.size, mean.size);
    copy_tensor(h, h.entries[bn.part[kRunningVar]], var.data, 1, var.size, var.size);
  }
  if (m.bn_count) model.set_batches_tracked(tracked);
  return Status::ok();
}

Result<Model> load_safetensors(const void* data, std::size_t size, const SafetensorsImport& import,
                               const ModelOptions& options, Arena& arena) {
  Result<ModelSpec> spec = read_safetensors_spec(data, size, import);
  if (!spec.is_ok()) return spec.status();
  std::uint64_t count = 0;
  FENNEC_ENSURE(parameter_count(spec.value(), &count), StatusCode::kOutOfMemory,
                "parameter count overflows");
  FENNEC_RETURN_IF_ERROR(check_parameters_fit(count, arena));
  const Arena::Mark start = arena.mark();
  Result<Model> model = Model::bind(spec.value(), options, arena);
  if (!model.is_ok()) return model.status();
  const Status s = load_safetensors_parameters(data, size, model.value(), import);
  if (!s.is_ok()) {
    arena.rewind(start);
    return s;
  }
  return model;
}

// ---- random-access (streaming) import ----
namespace {

// Reads exactly `size` bytes at `offset`; an input that delivers fewer (it shrank after its size
// was taken) is corrupt, never a crash.
Status read_exactly(const RandomReader& in, std::uint64_t offset, void* data, std::size_t size,
                    const char* what) {
  std::size_t got = 0;
  FENNEC_RETURN_IF_ERROR(in.read_at(in.context, offset, data, size, &got));
  FENNEC_ENSURE(got == size, StatusCode::kCorruptData,
                "safetensors: %s: %zu of %zu bytes at offset %llu (the input shrank while it was "
                "read?)",
                what, got, size, static_cast<unsigned long long>(offset));
  return Status::ok();
}

// Header into `json` (json_capacity bytes): length field, JSON, parse.
Status read_header(const RandomReader& in, char* json, std::size_t json_capacity, Header& h,
                   std::uint64_t* json_size) {
  unsigned char start[kFileKindProbe] = {};
  const std::size_t probe = in.size < kFileKindProbe ? static_cast<std::size_t>(in.size) : kFileKindProbe;
  if (in.size >= 8) FENNEC_RETURN_IF_ERROR(read_exactly(in, 0, start, probe, "header length"));
  FENNEC_RETURN_IF_ERROR(header_length(start, probe, in.size, json_size));
  FENNEC_ENSURE(*json_size <= json_capacity, StatusCode::kOutOfMemory,
                "safetensors: the %llu-byte header does not fit the %zu bytes available to read it",
                static_cast<unsigned long long>(*json_size), json_capacity);
  const std::size_t n = static_cast<std::size_t>(*json_size);
  if (n) FENNEC_RETURN_IF_ERROR(read_exactly(in, 8, json, n, "header"));
  return parse_header(json, n, in.size - 8 - *json_size, h);
}

// What the copy needs of one tensor once the header's memory is gone.
struct Source {
  std::uint64_t offset = 0;  // in the input
  int dtype = -1;            // -1: absent (a missing bias)
};

// Decodes rows x cols values at src.offset into dst (row stride `stride`), a chunk at a time.
Status stream_tensor(const RandomReader& in, const Source& src, float* dst, std::size_t rows,
                     std::size_t cols, std::size_t stride, const char* what) {
  const std::size_t esize = kDtypes[src.dtype].bits / 8;
  unsigned char chunk[16384];
  const std::size_t per_chunk = sizeof(chunk) / esize;
  std::uint64_t offset = src.offset;
  const std::uint64_t total = std::uint64_t{rows} * cols;
  std::uint64_t done = 0;
  while (done < total) {
    const std::size_t k = total - done < per_chunk ? static_cast<std::size_t>(total - done) : per_chunk;
    FENNEC_RETURN_IF_ERROR(read_exactly(in, offset, chunk, k * esize, what));
    for (std::size_t i = 0; i < k; ++i, ++done) {
      const std::size_t r = static_cast<std::size_t>(done / cols), c = static_cast<std::size_t>(done % cols);
      const float v = load_value(chunk + i * esize, src.dtype);
      if (src.dtype == kF64 && !finite_f32(v)) {
        // As check_f64_range for in-memory loads: a finite double beyond float's range.
        const double d = load_f64(chunk + i * esize);
        FENNEC_ENSURE(!(d == d && d - d == 0.0), StatusCode::kUnsupported,
                      "%s element %llu is %g, outside float's range", what,
                      static_cast<unsigned long long>(done), d);
      }
      dst[r * stride + c] = v;
    }
    offset += k * esize;
  }
  return Status::ok();
}

Status check_finite_rows(const float* p, std::size_t rows, std::size_t cols, std::size_t stride,
                         std::size_t layer, const char* what) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      FENNEC_ENSURE(finite_f32(p[r * stride + c]), StatusCode::kNonFinite,
                    "layer %zu %s element %zu is NaN or Inf", layer, what, r * cols + c);
  return Status::ok();
}

// Gamma, beta and the running statistics of batch-norm layer `layer` (BatchNorm1d module
// `index`), decoded into the bound model; running variances checked.
Status stream_batchnorm(const RandomReader& in, const Source* src, std::uint32_t index,
                        const SafetensorsImport& import, Model& model, std::size_t layer) {
  const VectorView g = model.bn_gamma(layer), be = model.bn_beta(layer);
  const VectorView mean = model.bn_running_mean(layer), var = model.bn_running_var(layer);
  if (src[kWeight].dtype >= 0) {
    FENNEC_RETURN_IF_ERROR(stream_tensor(in, src[kWeight], g.data, 1, g.size, g.size, "batch-norm weight"));
    FENNEC_RETURN_IF_ERROR(stream_tensor(in, src[kBias], be.data, 1, be.size, be.size, "batch-norm bias"));
  } else {  // affine=False
    for (std::size_t k = 0; k < g.size; ++k) g.data[k] = 1.f;
    std::memset(be.data, 0, be.size * sizeof(float));
  }
  FENNEC_RETURN_IF_ERROR(stream_tensor(in, src[kRunningMean], mean.data, 1, mean.size, mean.size, "running_mean"));
  FENNEC_RETURN_IF_ERROR(stream_tensor(in, src[kRunningVar], var.data, 1, var.size, var.size, "running_var"));
  const char* prefix = import.prefix ? import.prefix : "";
  for (std::size_t k = 0; k < var.size; ++k) FENNEC_RETURN_IF_ERROR(check_running_var(var[k], prefix, index, k));
  if (import.check_finite) {
    FENNEC_RETURN_IF_ERROR(check_finite_rows(g.data, 1, g.size, g.size, layer, "batch-norm weight"));
    FENNEC_RETURN_IF_ERROR(check_finite_rows(be.data, 1, be.size, be.size, layer, "batch-norm bias"));
    FENNEC_RETURN_IF_ERROR(check_finite_rows(mean.data, 1, mean.size, mean.size, layer, "running_mean"));
  }
  return Status::ok();
}

}  // namespace

Result<ModelSpec> read_safetensors_spec(const RandomReader& in, const SafetensorsImport& import,
                                        void* scratch, std::size_t scratch_bytes) {
  FENNEC_ENSURE(in.read_at != nullptr, StatusCode::kInvalidArgument, "null reader");
  Header h;
  std::uint64_t json_size = 0;
  FENNEC_RETURN_IF_ERROR(read_header(in, static_cast<char*>(scratch), scratch ? scratch_bytes : 0, h,
                                     &json_size));
  Mapping m;
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  ModelSpec spec;
  FENNEC_RETURN_IF_ERROR(build_spec(h, m, import, &spec));
  return spec;
}

Result<Model> load_safetensors(const RandomReader& in, const SafetensorsImport& import,
                               const ModelOptions& options, Arena& arena) {
  FENNEC_ENSURE(in.read_at != nullptr, StatusCode::kInvalidArgument, "null reader");
  const Arena::Mark start = arena.mark();
  // The header lives in the arena's free space until the network is known.
  ModelSpec spec;
  Source weights[kMaxLayers], biases[kMaxLayers];
  // Batch-norm layers: the module's Sequential index and its tensors (kWeight..kBatchesTracked).
  std::uint32_t bn_index[kMaxLayers] = {};
  Source bn[kMaxLayers][5];
  {
    std::uint64_t json_size = 0;
    unsigned char head[kFileKindProbe] = {};
    const std::size_t probe = in.size < kFileKindProbe ? static_cast<std::size_t>(in.size) : kFileKindProbe;
    if (in.size >= 8) FENNEC_RETURN_IF_ERROR(read_exactly(in, 0, head, probe, "header length"));
    FENNEC_RETURN_IF_ERROR(header_length(head, probe, in.size, &json_size));
    Result<void*> buf = arena.allocate(static_cast<std::size_t>(json_size ? json_size : 1),
                                       "safetensors header (read, then released before binding)");
    if (!buf.is_ok()) return buf.status();
    Header h;
    Status s = read_header(in, static_cast<char*>(buf.value()), static_cast<std::size_t>(json_size),
                           h, &json_size);
    Mapping m;
    if (s.is_ok()) s = map_layers(h, import, m);
    if (s.is_ok()) s = build_spec(h, m, import, &spec);
    arena.rewind(start);
    if (!s.is_ok()) return s;
    const std::uint64_t data_start = 8 + json_size;
    for (std::size_t i = 0; i < m.count; ++i) {
      const Entry& w = h.entries[m.layers[i].weight];
      weights[i] = Source{data_start + w.begin, w.dtype};
      if (m.layers[i].bias >= 0) {
        const Entry& b = h.entries[m.layers[i].bias];
        biases[i] = Source{data_start + b.begin, b.dtype};
      }
      if (m.layers[i].bn < 0) continue;
      const BatchNormModule& module = m.bn[m.layers[i].bn];
      bn_index[i] = module.index;
      for (int part = kWeight; part <= kBatchesTracked; ++part) {
        if (module.part[part] < 0) continue;
        const Entry& e = h.entries[module.part[part]];
        bn[i][part] = Source{data_start + e.begin, e.dtype};
      }
    }
  }
  std::uint64_t count = 0;
  FENNEC_ENSURE(parameter_count(spec, &count), StatusCode::kOutOfMemory, "parameter count overflows");
  FENNEC_RETURN_IF_ERROR(check_parameters_fit(count, arena));
  Result<Model> model = Model::bind(spec, options, arena);
  if (!model.is_ok()) return model.status();
  Model& mo = model.value();
  Status s;
  for (std::size_t i = 0; i < spec.num_layers && s.is_ok(); ++i) {
    const MatrixView w = mo.weights(i);
    const VectorView b = mo.bias(i);
    s = stream_tensor(in, weights[i], w.data, w.rows, w.cols, w.stride, "weight");
    if (s.is_ok() && import.check_finite) s = check_finite_rows(w.data, w.rows, w.cols, w.stride, i, "weight");
    if (!s.is_ok()) break;
    if (biases[i].dtype >= 0) {
      s = stream_tensor(in, biases[i], b.data, 1, b.size, b.size, "bias");
      if (s.is_ok() && import.check_finite) s = check_finite_rows(b.data, 1, b.size, b.size, i, "bias");
    } else {
      std::memset(b.data, 0, b.size * sizeof(float));
    }
    if (s.is_ok() && spec.layers[i].batchnorm.enabled) s = stream_batchnorm(in, bn[i], bn_index[i], import, mo, i);
  }
  if (s.is_ok() && spec.has_batchnorm()) {
    // One count for the model: every module's must agree.
    bool seen = false;
    std::uint64_t tracked = 0;
    const char* prefix = import.prefix ? import.prefix : "";
    for (std::size_t i = 0; i < spec.num_layers && s.is_ok(); ++i) {
      const Source& c = bn[i][kBatchesTracked];
      if (!spec.layers[i].batchnorm.enabled || c.dtype < 0) continue;
      unsigned char raw[8];
      std::uint64_t value = 0;
      s = read_exactly(in, c.offset, raw, kDtypes[c.dtype].bits / 8, "num_batches_tracked");
      if (s.is_ok()) s = decode_counter(raw, c.dtype, prefix, bn_index[i], &value);
      if (s.is_ok()) s = merge_counter(value, &seen, &tracked, prefix, bn_index[i]);
    }
    mo.set_batches_tracked(tracked);
  }
  if (!s.is_ok()) {
    arena.rewind(start);
    return s;
  }
  return model;
}

// ---- export ----
namespace {

// The shortest "%g" text that reads back (strtof) as exactly v: 1e-05, 0.1, 0.2.
int format_float(char* buf, std::size_t size, float v) {
  // One literal per precision: the library's format strings stay in format_message's subset.
  static const char* const kFormats[] = {"%.1g", "%.2g", "%.3g", "%.4g", "%.5g",
                                         "%.6g", "%.7g", "%.8g", "%.9g"};
  int n = 0;
  for (const char* format : kFormats) {
    n = std::snprintf(buf, size, format, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return n;
}

// Emits the header JSON in pieces (called once to count, once to write). Tensors are listed in
// the order of the data: per layer its Linear, then its BatchNorm1d module.
template <class Emit>
Status emit_header(const Model& model, Emit&& emit) {
  const ModelSpec& spec = model.spec();
  char buf[200];
  FENNEC_RETURN_IF_ERROR(emit("{\"__metadata__\":{\"format\":\"pt\",\"fennec.activations\":\"", std::size_t{0}));
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const ActivationSpec& a = spec.layers[i].activation;
    int n = a.kind == Activation::kLeakyRelu
                ? std::snprintf(buf, sizeof(buf), "%s%s:%.9g", i ? "," : "", activation_name(a.kind),
                                static_cast<double>(a.alpha))
                : std::snprintf(buf, sizeof(buf), "%s%s", i ? "," : "", activation_name(a.kind));
    FENNEC_RETURN_IF_ERROR(emit(buf, static_cast<std::size_t>(n)));
  }
  int n = std::snprintf(buf, sizeof(buf), "\",\"fennec.loss\":\"%s\"", loss_name(spec.loss));
  FENNEC_RETURN_IF_ERROR(emit(buf, static_cast<std::size_t>(n)));
  // Layer options only for a network that has them: plain exports stay as they were.
  if (spec.has_batchnorm()) {
    FENNEC_RETURN_IF_ERROR(emit(",\"fennec.batchnorm\":\"", std::size_t{0}));
    for (std::size_t i = 0; i < spec.num_layers; ++i) {
      const BatchNormSpec& bn = spec.layers[i].batchnorm;
      if (i) FENNEC_RETURN_IF_ERROR(emit(",", std::size_t{0}));
      if (!bn.enabled) {
        FENNEC_RETURN_IF_ERROR(emit("-", std::size_t{0}));
        continue;
      }
      char eps[32], momentum[32];
      format_float(eps, sizeof(eps), bn.eps);
      format_float(momentum, sizeof(momentum), bn.momentum);
      n = std::snprintf(buf, sizeof(buf), "%s:%s", eps, momentum);
      FENNEC_RETURN_IF_ERROR(emit(buf, static_cast<std::size_t>(n)));
    }
    FENNEC_RETURN_IF_ERROR(emit("\"", std::size_t{0}));
  }
  if (spec.has_dropout()) {
    FENNEC_RETURN_IF_ERROR(emit(",\"fennec.dropout\":\"", std::size_t{0}));
    for (std::size_t i = 0; i < spec.num_layers; ++i) {
      if (i) FENNEC_RETURN_IF_ERROR(emit(",", std::size_t{0}));
      n = format_float(buf, sizeof(buf), spec.layers[i].dropout);
      FENNEC_RETURN_IF_ERROR(emit(buf, static_cast<std::size_t>(n)));
    }
    FENNEC_RETURN_IF_ERROR(emit("\"", std::size_t{0}));
  }
  FENNEC_RETURN_IF_ERROR(emit("}", std::size_t{0}));
  std::uint64_t offset = 0;
  // Sequential indices in PyTorch's module order: Linear, BatchNorm1d, the activation (unless
  // identity), Dropout (when p > 0).
  std::uint32_t index = 0;
  const auto tensor = [&](std::uint32_t module, const char* part, const char* dtype, std::uint64_t rows,
                          std::uint64_t cols, int rank, std::uint64_t bytes) {
    char shape[48];
    if (rank == 0) {
      shape[0] = 0;
    } else if (rank == 1) {
      std::snprintf(shape, sizeof(shape), "%llu", static_cast<unsigned long long>(rows));
    } else {
      std::snprintf(shape, sizeof(shape), "%llu,%llu", static_cast<unsigned long long>(rows),
                    static_cast<unsigned long long>(cols));
    }
    const int k = std::snprintf(buf, sizeof(buf),
                                ",\"%lu.%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%llu,%llu]}",
                                static_cast<unsigned long>(module), part, dtype, shape,
                                static_cast<unsigned long long>(offset),
                                static_cast<unsigned long long>(offset + bytes));
    offset += bytes;
    return emit(buf, static_cast<std::size_t>(k));
  };
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    const std::uint64_t units = l.units, fan_in = spec.fan_in(i);
    FENNEC_RETURN_IF_ERROR(tensor(index, "weight", "F32", units, fan_in, 2, units * fan_in * 4));
    FENNEC_RETURN_IF_ERROR(tensor(index, "bias", "F32", units, 0, 1, units * 4));
    ++index;
    if (l.batchnorm.enabled) {
      FENNEC_RETURN_IF_ERROR(tensor(index, "weight", "F32", units, 0, 1, units * 4));
      FENNEC_RETURN_IF_ERROR(tensor(index, "bias", "F32", units, 0, 1, units * 4));
      FENNEC_RETURN_IF_ERROR(tensor(index, "running_mean", "F32", units, 0, 1, units * 4));
      FENNEC_RETURN_IF_ERROR(tensor(index, "running_var", "F32", units, 0, 1, units * 4));
      FENNEC_RETURN_IF_ERROR(tensor(index, "num_batches_tracked", "I64", 0, 0, 0, 8));
      ++index;
    }
    if (l.activation.kind != Activation::kIdentity) ++index;
    if (l.dropout > 0.f) ++index;
  }
  return emit("}", std::size_t{0});
}

std::uint64_t header_json_bytes(const Model& model) {
  std::uint64_t total = 0;
  emit_header(model, [&](const char* s, std::size_t n) {
    total += n ? n : std::strlen(s);
    return Status::ok();
  }).ignore();
  return total;
}

// The tensors in header order: W, b, then for a batch-norm layer gamma, beta, running mean,
// running variance and batches tracked (I64).
Status write_tensors(Output& out, const Model& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    FENNEC_RETURN_IF_ERROR(write_linear(out, model, i));
    if (!model.spec().layers[i].batchnorm.enabled) continue;
    for (const VectorView v : {model.bn_gamma(i), model.bn_beta(i), model.bn_running_mean(i), model.bn_running_var(i)})
      FENNEC_RETURN_IF_ERROR(out.floats(v.data, v.size));
    FENNEC_RETURN_IF_ERROR(out.u64(model.batches_tracked()));
  }
  return Status::ok();
}

}  // namespace

std::uint64_t safetensors_file_size(const Model& model) {
  const std::uint64_t json = header_json_bytes(model);
  const std::uint64_t padded = (json + 7) / 8 * 8;
  std::uint64_t params = 0;  // gamma and beta included
  parameter_count(model.spec(), &params);
  std::uint64_t state = 0;  // running statistics (4 bytes each), batches tracked (8)
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    if (model.spec().layers[i].batchnorm.enabled) state += 8 * std::uint64_t{model.spec().layers[i].units} + 8;
  return 8 + padded + 4 * params + state;
}

Status save_safetensors(const Model& model, ByteWriter& writer) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "save_safetensors: model is not bound");
  FENNEC_RETURN_IF_ERROR(check_parameters_finite(model));
  const std::uint64_t json = header_json_bytes(model);
  const std::uint64_t padded = (json + 7) / 8 * 8;
  Output out(writer);
  FENNEC_RETURN_IF_ERROR(out.u64(padded));
  FENNEC_RETURN_IF_ERROR(emit_header(model, [&](const char* s, std::size_t n) {
    return out.write(s, n ? n : std::strlen(s));
  }));
  const char spaces[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  FENNEC_RETURN_IF_ERROR(out.write(spaces, static_cast<std::size_t>(padded - json)));
  return write_tensors(out, model);
}

}  // namespace fennec
