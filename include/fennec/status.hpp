// Status codes and Result<T>: how every fallible Fennec call reports failure.
//
// The library is built with -fno-exceptions, so errors travel as values. A Status carries a code
// and a short human-readable message held inline (no heap), e.g.
//   "arena too small: need 9437184 bytes for gradients, 1048576 free".
#pragma once

#include <cstddef>
#include <utility>

namespace fennec {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,    // a hyper-parameter or option out of range
  kShapeMismatch,      // tensor dimensions that do not agree
  kOutOfMemory,        // the arena cannot satisfy a request
  kNonFinite,          // NaN or Inf in a loss, a gradient norm or loaded data
  kFailedPrecondition, // call made in the wrong state (e.g. training on an inference model)
  kCorruptData,        // malformed file or buffer contents
  kUnsupported,        // valid request the build or format cannot serve
  kIoError,            // the operating system refused a read or write
};

// Short stable name of a code ("ok", "invalid_argument", ...).
const char* status_code_name(StatusCode code);

// FENNEC_STRIP_ERROR_STRINGS (CMake option of the same name, for flash-tight targets): no message
// is formatted or stored. error() then ignores its format and arguments, so the compiler drops
// the strings at every call site, and message() is the code's short name ("out_of_memory").
class [[nodiscard]] Status {
 public:
  static constexpr std::size_t kMaxMessage = 200;

#if defined(FENNEC_STRIP_ERROR_STRINGS)
  constexpr Status() : code_(StatusCode::kOk) {}
  static Status error(StatusCode code, const char* /*format*/, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
  {
    Status s;
    s.code_ = code == StatusCode::kOk ? StatusCode::kInvalidArgument : code;
    return s;
  }
#else
  constexpr Status() : code_(StatusCode::kOk), message_{} {}

  // printf-style message. One longer than kMaxMessage-1 characters is cut at a word boundary
  // (mid-run only when a single run is that long) and ends with "...".
  static Status error(StatusCode code, const char* format, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;
#endif
  static constexpr Status ok() { return Status(); }

  constexpr bool is_ok() const { return code_ == StatusCode::kOk; }
  constexpr StatusCode code() const { return code_; }
  // Empty string for ok.
#if defined(FENNEC_STRIP_ERROR_STRINGS)
  const char* message() const { return is_ok() ? "" : status_code_name(code_); }
#else
  const char* message() const { return message_; }
#endif
  // Explicitly discard a status when the caller has a reason to.
  void ignore() const {}

 private:
  StatusCode code_;
#if !defined(FENNEC_STRIP_ERROR_STRINGS)
  char message_[kMaxMessage];
#endif
};

// A value or the Status explaining why there is none. T must be default-constructible and
// trivially destructible in practice (views, small structs); nothing here allocates.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : status_(), value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(status), value_() {}      // NOLINT: implicit by design

  bool is_ok() const { return status_.is_ok(); }
  const Status& status() const { return status_; }
  // Only meaningful when is_ok(); a default-constructed T otherwise.
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_;
};

}  // namespace fennec

// Propagate a failed Status from an expression returning Status.
#define FENNEC_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    ::fennec::Status fennec_status_tmp_ = (expr);     \
    if (!fennec_status_tmp_.is_ok()) return fennec_status_tmp_; \
  } while (0)

// Return an error Status with a formatted message unless `cond` holds.
#define FENNEC_ENSURE(cond, code, ...)                                 \
  do {                                                                 \
    if (!(cond)) return ::fennec::Status::error((code), __VA_ARGS__);  \
  } while (0)
