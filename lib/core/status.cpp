// SPDX-License-Identifier: Apache-2.0
#include "fennec/status.hpp"

#include <cstdarg>

#include "core/format.hpp"

namespace fennec {

#if !defined(FENNEC_STRIP_ERROR_STRINGS)
namespace {

// A message cut by the buffer ends at a word with "...": the last space in the second half of
// what fits, else (one long run, a path) mid-run, never inside a UTF-8 character.
void mark_truncated(char* m, std::size_t capacity) {
  std::size_t end = capacity - 4;  // room for "..." and the terminator
  std::size_t space = end;
  while (space > capacity / 2 && m[space] != ' ') --space;
  if (m[space] == ' ') {
    end = space;
    while (end > 0 && m[end - 1] == ' ') --end;
  } else {
    while (end > 0 && (static_cast<unsigned char>(m[end]) & 0xC0u) == 0x80u) --end;
  }
  m[end] = '.';
  m[end + 1] = '.';
  m[end + 2] = '.';
  m[end + 3] = 0;
}

}  // namespace
#endif

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kShapeMismatch: return "shape_mismatch";
    case StatusCode::kOutOfMemory: return "out_of_memory";
    case StatusCode::kNonFinite: return "non_finite";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kCorruptData: return "corrupt_data";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kIoError: return "io_error";
  }
  return "unknown";
}

#if !defined(FENNEC_STRIP_ERROR_STRINGS)
Status Status::error(StatusCode code, const char* format, ...) {
  Status s;
  // An error must never read as success, whatever the caller passed.
  s.code_ = code == StatusCode::kOk ? StatusCode::kInvalidArgument : code;
  std::va_list args;
  va_start(args, format);
  const std::size_t n = detail::format_message(s.message_, sizeof(s.message_), format, args);
  va_end(args);
  if (n >= sizeof(s.message_)) mark_truncated(s.message_, sizeof(s.message_));
  return s;
}
#endif

}  // namespace fennec
