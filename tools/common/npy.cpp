// SPDX-License-Identifier: Apache-2.0
#include "common/npy.hpp"

#include <cstdio>
#include <cstring>
#include <utility>

#include "common/file_bytes.hpp"
#include "common/written_file.hpp"
#include "common/idx.hpp"

namespace fennec_tools {
namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

struct TypeInfo {
  const char* code;  // descr without the byte-order character
  NpyType type;
};
constexpr TypeInfo kTypes[] = {
    {"f4", NpyType::kF32}, {"u1", NpyType::kU8},  {"i1", NpyType::kI8},  {"u2", NpyType::kU16},
    {"i2", NpyType::kI16}, {"u4", NpyType::kU32}, {"i4", NpyType::kI32}, {"u8", NpyType::kU64},
    {"i8", NpyType::kI64},
};

std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

// The header dict, read as the small subset of Python literals np.save writes.
class HeaderParser {
 public:
  HeaderParser(const char* text, std::size_t size) : s_(text), n_(size) {}

  bool parse(std::string& descr, bool& fortran, std::vector<std::uint64_t>& shape, std::string& error) {
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    if (!take('{')) return fail("expected '{' at the start of the header", error);
    skip_space();
    while (!peek('}')) {
      std::string key;
      if (!string_literal(key)) return fail("expected a quoted key", error);
      skip_space();
      if (!take(':')) return fail("expected ':' after '" + key + "'", error);
      skip_space();
      if (key == "descr") {
        if (have_descr) return fail("'descr' given twice", error);
        if (peek('[')) return fail("structured dtype (a list of fields) is not supported", error);
        if (!string_literal(descr)) return fail("'descr' is not a quoted string", error);
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_order) return fail("'fortran_order' given twice", error);
        if (word("True")) fortran = true;
        else if (word("False")) fortran = false;
        else return fail("'fortran_order' is neither True nor False", error);
        have_order = true;
      } else if (key == "shape") {
        if (have_shape) return fail("'shape' given twice", error);
        if (!tuple(shape, error)) return false;
        have_shape = true;
      } else {
        return fail("unexpected key '" + key + "' (a .npy header has 'descr', 'fortran_order', 'shape')",
                    error);
      }
      skip_space();
      if (take(',')) {
        skip_space();
        continue;
      }
      if (!peek('}')) return fail("expected ',' or '}'", error);
    }
    take('}');
    while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t' || s_[i_] == '\0')) ++i_;
    if (i_ != n_) return fail("unexpected text after the closing '}'", error);
    if (!have_descr) return fail("no 'descr' key", error);
    if (!have_order) return fail("no 'fortran_order' key", error);
    if (!have_shape) return fail("no 'shape' key", error);
    return true;
  }

 private:
  bool fail(const std::string& what, std::string& error) const {
    error = "bad header: " + what + " (at byte " + std::to_string(i_) + " of the header)";
    return false;
  }
  void skip_space() {
    while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool peek(char c) const { return i_ < n_ && s_[i_] == c; }
  bool take(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }
  bool word(const char* w) {
    const std::size_t len = std::strlen(w);
    if (n_ - i_ < len || std::memcmp(s_ + i_, w, len) != 0) return false;
    i_ += len;
    return true;
  }
  bool string_literal(std::string& out) {
    if (!peek('\'') && !peek('"')) return false;
    const char quote = s_[i_++];
    const std::size_t start = i_;
    while (i_ < n_ && s_[i_] != quote) {
      if (s_[i_] == '\\' || s_[i_] == '\n') return false;
      ++i_;
    }
    if (i_ == n_) return false;
    out.assign(s_ + start, i_ - start);
    ++i_;
    return true;
  }
  bool tuple(std::vector<std::uint64_t>& shape, std::string& error) {
    if (!take('(')) return fail("'shape' is not a tuple", error);
    skip_space();
    while (!peek(')')) {
      if (i_ == n_ || s_[i_] < '0' || s_[i_] > '9') return fail("'shape' holds something other than a non-negative integer", error);
      std::uint64_t v = 0;
      while (i_ < n_ && s_[i_] >= '0' && s_[i_] <= '9') {
        const std::uint64_t digit = static_cast<std::uint64_t>(s_[i_] - '0');
        if (v > (kIdxMaxBytes - digit) / 10) return fail("a dimension in 'shape' is larger than " + std::to_string(kIdxMaxBytes), error);
        v = v * 10 + digit;
        ++i_;
      }
      take('L');  // Python 2's long literal, in files written by old numpy versions
      if (shape.size() == kNpyMaxDims) return fail("'shape' has more than " + std::to_string(kNpyMaxDims) + " dimensions", error);
      shape.push_back(v);
      skip_space();
      if (take(',')) {
        skip_space();
        continue;
      }
      if (!peek(')')) return fail("expected ',' or ')' in 'shape'", error);
    }
    take(')');
    return true;
  }

  const char* s_;
  std::size_t n_;
  std::size_t i_ = 0;
};

// '<f4' and friends; false with a message for every other type.
bool decode_descr(const std::string& descr, NpyType& type, std::string& error) {
  const std::string quoted = "'" + descr + "'";
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '>' || descr[0] == '=')) {
    for (const TypeInfo& t : kTypes) {
      if (descr.compare(1, 2, t.code) != 0) continue;
      const bool one_byte = npy_type_size(t.type) == 1;
      if (!one_byte && descr[0] != '<') {
        error = std::string("dtype ") + quoted + " is not little-endian: save it with .astype('<" + t.code + "')";
        return false;
      }
      type = t.type;
      return true;
    }
  }
  std::string known;
  if (descr == "<f8") known = " (float64)";
  else if (descr == "<f2") known = " (float16)";
  else if (descr == "|b1") known = " (bool)";
  error = "dtype " + quoted + known +
          " is not supported: float32 ('<f4') or an integer type (u1 i1 u2 i2 u4 i4 u8 i8); e.g. "
          "x.astype(np.float32)";
  return false;
}

}  // namespace

const char* npy_type_name(NpyType t) {
  switch (t) {
    case NpyType::kF32: return "float32";
    case NpyType::kU8: return "uint8";
    case NpyType::kI8: return "int8";
    case NpyType::kU16: return "uint16";
    case NpyType::kI16: return "int16";
    case NpyType::kU32: return "uint32";
    case NpyType::kI32: return "int32";
    case NpyType::kU64: return "uint64";
    case NpyType::kI64: return "int64";
  }
  return "?";
}

std::size_t npy_type_size(NpyType t) {
  switch (t) {
    case NpyType::kU8: case NpyType::kI8: return 1;
    case NpyType::kU16: case NpyType::kI16: return 2;
    case NpyType::kF32: case NpyType::kU32: case NpyType::kI32: return 4;
    case NpyType::kU64: case NpyType::kI64: return 8;
  }
  return 1;
}

std::uint64_t NpyArray::elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

std::int64_t NpyArray::integer(std::size_t i) const {
  const std::size_t size = npy_type_size(type);
  const std::uint64_t raw = load_le(data.data() + i * size, size);
  switch (type) {
    case NpyType::kI8: return static_cast<std::int8_t>(raw);
    case NpyType::kI16: return static_cast<std::int16_t>(raw);
    case NpyType::kI32: return static_cast<std::int32_t>(raw);
    // Above INT64_MAX reads as negative, which every caller refuses as out of range.
    case NpyType::kI64: case NpyType::kU64: return static_cast<std::int64_t>(raw);
    default: return static_cast<std::int64_t>(raw);
  }
}

float NpyArray::real(std::size_t i) const {
  const std::uint32_t raw = static_cast<std::uint32_t>(load_le(data.data() + i * 4, 4));
  float v;
  std::memcpy(&v, &raw, 4);
  return v;
}

bool parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& name, NpyArray& out,
               std::string& error) {
  const std::string where = name + ": ";
  if (size < 10) {
    error = where + "too short for a .npy preamble (" + std::to_string(size) + " of at least 10 bytes)";
    return false;
  }
  if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0) {
    error = where + "not a .npy file (it does not start with \\x93NUMPY)";
    return false;
  }
  const unsigned major = bytes[6], minor = bytes[7];
  if ((major != 1 && major != 2) || minor != 0) {
    error = where + "version " + std::to_string(major) + "." + std::to_string(minor) +
            " is not supported (1.0 and 2.0; np.save writes 1.0)";
    return false;
  }
  const std::size_t preamble = major == 1 ? 10 : 12;
  if (size < preamble) {
    error = where + "truncated: the version 2.0 preamble needs 12 bytes, the file has " + std::to_string(size);
    return false;
  }
  const std::uint64_t header_len = load_le(bytes + 8, major == 1 ? 2 : 4);
  if (header_len > kNpyMaxHeaderBytes) {
    error = where + "header length " + std::to_string(header_len) + " is above the " +
            std::to_string(kNpyMaxHeaderBytes) + " accepted (corrupt file?)";
    return false;
  }
  if (header_len > size - preamble) {
    error = where + "truncated: the header needs " + std::to_string(header_len) + " bytes, the file has " +
            std::to_string(size - preamble) + " after the preamble";
    return false;
  }
  std::string descr;
  bool fortran = false;
  NpyArray parsed;
  std::string why;
  HeaderParser header(reinterpret_cast<const char*>(bytes + preamble), static_cast<std::size_t>(header_len));
  if (!header.parse(descr, fortran, parsed.shape, why) || !decode_descr(descr, parsed.type, why)) {
    error = where + why;
    return false;
  }
  if (fortran && parsed.shape.size() > 1) {
    error = where + "Fortran (column-major) order is not supported: save np.ascontiguousarray(x)";
    return false;
  }
  // Each dimension is <= kIdxMaxBytes (checked while parsing): the running product stays
  // below 2^60, and the division bounds the byte count before multiplying.
  const std::size_t element = npy_type_size(parsed.type);
  std::uint64_t elements = 1;
  for (std::uint64_t d : parsed.shape) {
    elements *= d;
    if (elements > kIdxMaxBytes / element) {
      error = where + "shape describes more than " + std::to_string(kIdxMaxBytes) + " bytes (corrupt header?)";
      return false;
    }
    if (elements == 0) break;
  }
  const std::uint64_t data_bytes = elements * element;
  const std::uint64_t offset = preamble + header_len;
  const std::uint64_t present = size - offset;
  if (present != data_bytes) {
    error = where + (present < data_bytes ? "truncated: " : "trailing data: ") + "the header describes " +
            std::to_string(data_bytes) + " data bytes (" + std::to_string(elements) + " " +
            npy_type_name(parsed.type) + "), the file holds " + std::to_string(present);
    return false;
  }
  parsed.data.assign(bytes + offset, bytes + size);
  out = std::move(parsed);
  return true;
}

bool read_npy(const std::string& path, NpyArray& out, std::string& error) {
  std::vector<std::uint8_t> bytes;
  if (!read_file_bytes(path, kIdxMaxBytes + 12 + kNpyMaxHeaderBytes, bytes, error)) return false;
  return parse_npy(bytes.data(), bytes.size(), path, out, error);
}

bool write_npy(const std::string& path, NpyType type, const std::vector<std::uint64_t>& shape,
               const void* data, std::string& error) {
  std::string dict = "{'descr': '";
  dict += npy_type_size(type) == 1 ? "|" : "<";
  for (const TypeInfo& t : kTypes)
    if (t.type == type) dict += t.code;
  dict += "', 'fortran_order': False, 'shape': (";
  std::uint64_t elements = 1;
  for (std::uint64_t d : shape) {
    dict += std::to_string(d) + ",";
    if (shape.size() > 1) dict += " ";
    elements *= d;
  }
  if (shape.size() > 1) dict.resize(dict.size() - 2);
  dict += "), }";
  // np.save pads the header with spaces so the data starts on a 64-byte boundary.
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::vector<std::uint8_t> bytes(kMagic, kMagic + sizeof kMagic);
  bytes.push_back(1);
  bytes.push_back(0);
  bytes.push_back(static_cast<std::uint8_t>(dict.size()));
  bytes.push_back(static_cast<std::uint8_t>(dict.size() >> 8));
  bytes.insert(bytes.end(), dict.begin(), dict.end());
  const auto* p = static_cast<const std::uint8_t*>(data);
  bytes.insert(bytes.end(), p, p + elements * npy_type_size(type));
  std::FILE* f = create_written_file(path, error);
  if (!f) return false;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  return close_written_file(f, path, error);
}

}  // namespace fennec_tools
