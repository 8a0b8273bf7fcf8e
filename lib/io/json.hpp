// SPDX-License-Identifier: Apache-2.0
// A strict RFC 8259 JSON reader over a byte range that never allocates: the caller drives it
// token by token. Strings are returned as raw slices (escapes not decoded) after validation;
// json_decoded_equal / json_decode compare or decode them without a heap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"

namespace fennec::io_detail {

inline constexpr int kJsonMaxDepth = 64;

// Raw contents of a JSON string literal (between the quotes), already validated.
struct JsonSlice {
  const char* data = nullptr;
  std::size_t size = 0;
};

// Whether `bytes` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool valid_utf8(const unsigned char* bytes, std::size_t size);

class JsonReader {
 public:
  JsonReader(const char* data, std::size_t size) : p_(data), begin_(data), end_(data + size) {}

  void skip_ws();
  // After whitespace: consume `c` if it is next.
  bool eat(char c);
  // After whitespace: kCorruptData unless `c` is next (then consumed).
  Status expect(char c, const char* context);
  bool at_end() {
    skip_ws();
    return p_ == end_;
  }
  bool peek_is(char c) {
    skip_ws();
    return p_ != end_ && *p_ == c;
  }
  // A string literal: escapes checked (\u surrogates paired), no raw control characters.
  Status string(JsonSlice* out);
  // A non-negative integer literal that fits in u64 (no sign, fraction or exponent).
  Status u64(std::uint64_t* out);
  // null
  bool null_literal();
  // Any value (depth <= kJsonMaxDepth), validated and discarded.
  Status skip_value();
  // An object, member by member: calls `Status member(JsonSlice key)` after each key and its ':',
  // and the callback must consume the value (read it or skip_value). Stops at the first error,
  // the callback's included. `open` and `between` name the place in the messages for a missing
  // '{' and a missing ',' ("to open tensor info", "in tensor info"). Keys are not checked for
  // duplicates: what a duplicate means is the caller's format's business.
  template <class Member>
  Status for_each_member(const char* open, const char* between, Member&& member) {
    FENNEC_RETURN_IF_ERROR(expect('{', open));
    if (eat('}')) return Status::ok();
    for (;;) {
      JsonSlice key;
      FENNEC_RETURN_IF_ERROR(string(&key));
      FENNEC_RETURN_IF_ERROR(expect(':', "after a key"));
      FENNEC_RETURN_IF_ERROR(member(key));
      if (eat('}')) return Status::ok();
      FENNEC_RETURN_IF_ERROR(expect(',', between));
    }
  }
  // An array, element by element: calls `Status element()`, which must consume one value.
  template <class Element>
  Status for_each_element(const char* open, const char* between, Element&& element) {
    FENNEC_RETURN_IF_ERROR(expect('[', open));
    if (eat(']')) return Status::ok();
    for (;;) {
      FENNEC_RETURN_IF_ERROR(element());
      if (eat(']')) return Status::ok();
      FENNEC_RETURN_IF_ERROR(expect(',', between));
    }
  }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

 private:
  Status scalar();
  Status number();
  Status literal(const char* word);
  Status error(const char* what);
  const char* p_;
  const char* begin_;
  const char* end_;
};

// Decoded comparison (escapes resolved) of a validated slice with another or with a C string.
bool json_decoded_equal(JsonSlice a, JsonSlice b);
bool json_decoded_equal(JsonSlice a, const char* text);
// Decode into `out` (NUL-terminated). False (and a truncated, terminated `out`) if it does not fit
// in capacity-1 bytes.
bool json_decode(JsonSlice s, char* out, std::size_t capacity);
// The same, also giving the decoded length: a \u0000 escape is a byte of the text, so callers
// that must not stop at it take the length rather than strlen.
bool json_decode(JsonSlice s, char* out, std::size_t capacity, std::size_t* size);
// Whether the decoded text holds a NUL byte (an escaped \u0000).
bool json_decoded_has_nul(JsonSlice s);

}  // namespace fennec::io_detail
