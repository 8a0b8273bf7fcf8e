#include "fennec/status.hpp"

#include <cstdarg>
#include <cstdio>

namespace fennec {

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
  std::vsnprintf(s.message_, sizeof(s.message_), format, args);
  va_end(args);
  return s;
}
#endif

}  // namespace fennec
