// SPDX-License-Identifier: Apache-2.0
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

// Whether Result<T>::value() and operator-> stop the program when called on an error. On by
// default in debug builds (no NDEBUG) and in builds with FENNEC_ENABLE_DCHECK; define it to 0
// or 1 before including Fennec to choose. When off, value() on an error returns a
// default-constructed T (never meaningful, never undefined behaviour).
#if !defined(FENNEC_RESULT_CHECKED)
#if !defined(NDEBUG) || defined(FENNEC_ENABLE_DCHECK)
#define FENNEC_RESULT_CHECKED 1
#else
#define FENNEC_RESULT_CHECKED 0
#endif
#endif

// A value or the Status explaining why there is none. T must be default-constructible and
// trivially destructible in practice (views, small structs); it may be move-only. Nothing here
// allocates.
//
//   Result<Model> m = Model::bind(spec, options, arena);
//   if (!m) return m.status();          // or FENNEC_ASSIGN_OR_RETURN(Model model, Model::bind(...))
//   Model model = std::move(m).value();  // Model is move-only
template <class T>
class [[nodiscard]] Result {
 public:
  // By reference, not by value: a by-value parameter would be one more copy of T on the
  // caller's stack, and a Model is kilobytes (Cortex-M stacks are counted in the RAM budget).
  Result(const T& value) : status_(), value_(value) {}        // NOLINT: implicit by design
  Result(T&& value) : status_(), value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(status), value_() {}      // NOLINT: implicit by design

  bool is_ok() const { return status_.is_ok(); }
  explicit operator bool() const { return status_.is_ok(); }
  const Status& status() const { return status_; }
  // The value. Calling it on an error is a bug in the caller: with FENNEC_RESULT_CHECKED (debug
  // builds) the program stops here (a trap instruction, no message: works on bare metal);
  // otherwise a default-constructed T comes back.
  // The rvalue form moves it out, for move-only T (Model): Model m = std::move(r).value();
  T& value() & {
    check_ok();
    return value_;
  }
  const T& value() const& {
    check_ok();
    return value_;
  }
  T&& value() && {
    check_ok();
    return std::move(value_);
  }
  // The value, or `fallback` on an error (never traps).
  T value_or(T fallback) const { return status_.is_ok() ? value_ : fallback; }
  T* operator->() {
    check_ok();
    return &value_;
  }
  const T* operator->() const {
    check_ok();
    return &value_;
  }

 private:
  void check_ok() const {
#if FENNEC_RESULT_CHECKED
    if (!status_.is_ok()) __builtin_trap();
#endif
  }

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

// Evaluate `expr` (a Result<T>); on an error return its Status from the enclosing function
// (which returns Status or any Result<U>), else assign the value to `lhs`, which may declare a
// variable: FENNEC_ASSIGN_OR_RETURN(Model model, Model::bind(spec, options, arena));
#define FENNEC_ASSIGN_OR_RETURN(lhs, expr) \
  FENNEC_ASSIGN_OR_RETURN_IMPL_(FENNEC_STATUS_CONCAT_(fennec_result_tmp_, __LINE__), lhs, expr)
#define FENNEC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.is_ok()) return tmp.status();              \
  lhs = std::move(tmp.value())
#define FENNEC_STATUS_CONCAT_(a, b) FENNEC_STATUS_CONCAT_INNER_(a, b)
#define FENNEC_STATUS_CONCAT_INNER_(a, b) a##b
