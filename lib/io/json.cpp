// SPDX-License-Identifier: Apache-2.0
#include "io/json.hpp"

#include <cstring>

namespace fennec::io_detail {

bool valid_utf8(const unsigned char* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0u) != 0x80u) return false;
      cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
  }
  return true;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (caller checked the length).
bool hex4(const char* p, std::uint32_t* v) {
  std::uint32_t r = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = hex_value(p[i]);
    if (h < 0) return false;
    r = r << 4 | static_cast<std::uint32_t>(h);
  }
  *v = r;
  return true;
}

// Yields the decoded bytes of a validated string slice one at a time.
class Decoder {
 public:
  explicit Decoder(JsonSlice s) : p_(s.data), end_(s.data + s.size) {}
  // -1 at the end.
  int next() {
    if (pending_pos_ < pending_len_) return pending_[pending_pos_++];
    if (p_ == end_) return -1;
    const unsigned char c = static_cast<unsigned char>(*p_++);
    if (c != '\\') return c;
    const char e = *p_++;
    switch (e) {
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u': break;
      default: return static_cast<unsigned char>(e);  // \" \\ \/
    }
    std::uint32_t cp = 0, lo = 0;
    hex4(p_, &cp);
    p_ += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {  // validated: a low surrogate escape follows
      hex4(p_ + 2, &lo);
      p_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    pending_pos_ = 0;
    if (cp < 0x80) {
      pending_[0] = static_cast<unsigned char>(cp);
      pending_len_ = 1;
    } else if (cp < 0x800) {
      pending_[0] = static_cast<unsigned char>(0xC0 | cp >> 6);
      pending_[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      pending_len_ = 2;
    } else if (cp < 0x10000) {
      pending_[0] = static_cast<unsigned char>(0xE0 | cp >> 12);
      pending_[1] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
      pending_[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      pending_len_ = 3;
    } else {
      pending_[0] = static_cast<unsigned char>(0xF0 | cp >> 18);
      pending_[1] = static_cast<unsigned char>(0x80 | (cp >> 12 & 0x3F));
      pending_[2] = static_cast<unsigned char>(0x80 | (cp >> 6 & 0x3F));
      pending_[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
      pending_len_ = 4;
    }
    return pending_[pending_pos_++];
  }

 private:
  const char* p_;
  const char* end_;
  unsigned char pending_[4] = {};
  int pending_len_ = 0;
  int pending_pos_ = 0;
};

}  // namespace

bool json_decoded_equal(JsonSlice a, JsonSlice b) {
  Decoder x(a), y(b);
  for (;;) {
    const int c = x.next(), d = y.next();
    if (c != d) return false;
    if (c < 0) return true;
  }
}

bool json_decoded_equal(JsonSlice a, const char* text) {
  Decoder x(a);
  const unsigned char* t = reinterpret_cast<const unsigned char*>(text);
  for (;; ++t) {
    const int c = x.next();
    if (c < 0) return *t == 0;
    if (*t == 0 || c != *t) return false;
  }
}

bool json_decode(JsonSlice s, char* out, std::size_t capacity, std::size_t* size) {
  if (capacity == 0) return false;
  Decoder x(s);
  std::size_t n = 0;
  bool fits = true;
  for (;;) {
    const int c = x.next();
    if (c < 0) break;
    if (n + 1 >= capacity) {
      fits = false;
      break;
    }
    out[n++] = static_cast<char>(c);
  }
  out[n] = 0;
  if (size) *size = n;
  return fits;
}

bool json_decode(JsonSlice s, char* out, std::size_t capacity) {
  return json_decode(s, out, capacity, nullptr);
}

bool json_decoded_has_nul(JsonSlice s) {
  Decoder x(s);
  for (int c = x.next(); c >= 0; c = x.next())
    if (c == 0) return true;
  return false;
}

Status JsonReader::error(const char* what) {
  return Status::error(StatusCode::kCorruptData, "header JSON: %s at byte %zu", what, offset());
}

void JsonReader::skip_ws() {
  while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
}

bool JsonReader::eat(char c) {
  skip_ws();
  if (p_ != end_ && *p_ == c) {
    ++p_;
    return true;
  }
  return false;
}

Status JsonReader::expect(char c, const char* context) {
  if (eat(c)) return Status::ok();
  return Status::error(StatusCode::kCorruptData, "header JSON: expected '%c' %s at byte %zu", c,
                       context, offset());
}

Status JsonReader::string(JsonSlice* out) {
  skip_ws();
  if (p_ == end_ || *p_ != '"') return error("expected a string");
  ++p_;
  const char* start = p_;
  while (p_ != end_ && *p_ != '"') {
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c < 0x20) return error("control character in a string");
    if (c != '\\') {
      ++p_;
      continue;
    }
    if (end_ - p_ < 2) return error("unterminated escape");
    const char e = p_[1];
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
      p_ += 2;
      continue;
    }
    if (e != 'u') return error("invalid escape");
    std::uint32_t cp;
    if (end_ - p_ < 6 || !hex4(p_ + 2, &cp)) return error("invalid \\u escape");
    p_ += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return error("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      std::uint32_t lo;
      if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u' || !hex4(p_ + 2, &lo) || lo < 0xDC00 ||
          lo > 0xDFFF)
        return error("unpaired high surrogate");
      p_ += 6;
    }
  }
  if (p_ == end_) return error("unterminated string");
  out->data = start;
  out->size = static_cast<std::size_t>(p_ - start);
  ++p_;
  return Status::ok();
}

Status JsonReader::u64(std::uint64_t* out) {
  skip_ws();
  if (p_ == end_ || *p_ < '0' || *p_ > '9') return error("expected a non-negative integer");
  if (*p_ == '0' && end_ - p_ > 1 && p_[1] >= '0' && p_[1] <= '9') return error("leading zero");
  std::uint64_t v = 0;
  while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
    const std::uint64_t d = static_cast<std::uint64_t>(*p_ - '0');
    if (v > (UINT64_MAX - d) / 10) return error("integer overflows 64 bits");
    v = v * 10 + d;
    ++p_;
  }
  if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return error("expected an integer");
  *out = v;
  return Status::ok();
}

bool JsonReader::null_literal() {
  skip_ws();
  if (end_ - p_ >= 4 && std::memcmp(p_, "null", 4) == 0) {
    p_ += 4;
    return true;
  }
  return false;
}

Status JsonReader::literal(const char* word) {
  const std::size_t n = std::strlen(word);
  if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0)
    return error("invalid literal");
  p_ += n;
  return Status::ok();
}

Status JsonReader::number() {
  if (p_ != end_ && *p_ == '-') ++p_;
  if (p_ == end_ || *p_ < '0' || *p_ > '9') return error("invalid number");
  if (*p_ == '0') {
    ++p_;
  } else {
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  }
  if (p_ != end_ && *p_ == '.') {
    ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return error("invalid fraction");
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return error("invalid exponent");
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  }
  return Status::ok();
}

Status JsonReader::scalar() {
  skip_ws();
  if (p_ == end_) return error("expected a value");
  switch (*p_) {
    case '"': {
      JsonSlice s;
      return string(&s);
    }
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: return number();
  }
}

Status JsonReader::skip_value() {
  // Bit i of `objects` says whether nesting level i is an object (1) or an array (0).
  std::uint64_t objects = 0;
  int depth = 0;
  for (;;) {
    // Expecting a value.
    skip_ws();
    if (p_ == end_) return error("expected a value");
    if (*p_ == '{' || *p_ == '[') {
      const bool obj = *p_ == '{';
      if (depth >= kJsonMaxDepth) return error("nesting too deep");
      ++p_;
      objects = obj ? objects | (std::uint64_t{1} << depth) : objects & ~(std::uint64_t{1} << depth);
      ++depth;
      if (eat(obj ? '}' : ']')) {
        --depth;  // empty container: a complete value
      } else if (obj) {
        JsonSlice key;
        FENNEC_RETURN_IF_ERROR(string(&key));
        FENNEC_RETURN_IF_ERROR(expect(':', "after a key"));
        continue;
      } else {
        continue;
      }
    } else {
      FENNEC_RETURN_IF_ERROR(scalar());
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      if (depth == 0) return Status::ok();
      const bool obj = (objects >> (depth - 1)) & 1u;
      if (eat(',')) {
        if (obj) {
          JsonSlice key;
          FENNEC_RETURN_IF_ERROR(string(&key));
          FENNEC_RETURN_IF_ERROR(expect(':', "after a key"));
        }
        break;
      }
      if (eat(obj ? '}' : ']')) {
        --depth;
        continue;
      }
      return error(obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

}  // namespace fennec::io_detail
