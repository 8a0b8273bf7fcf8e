// SPDX-License-Identifier: Apache-2.0
// Status / Result: codes, names, formatted messages, truncation, propagation macros.
#include <cstring>
#include <iterator>
#include <string>

#include "test_util.hpp"

using namespace fennec;

namespace {

Status fails_with_shape() { return Status::error(StatusCode::kShapeMismatch, "x has %d cols", 7); }
Status ok_status() { return Status::ok(); }

Status propagate(bool fail, int* reached) {
  FENNEC_RETURN_IF_ERROR(fail ? fails_with_shape() : ok_status());
  *reached = 1;
  return Status::ok();
}

Status ensure_positive(int v) {
  FENNEC_ENSURE(v > 0, StatusCode::kInvalidArgument, "v must be > 0, got %d", v);
  return Status::ok();
}

Result<int> half(int v) {
  if (v % 2) return Status::error(StatusCode::kInvalidArgument, "%d is odd", v);
  return v / 2;
}

}  // namespace

TEST_CASE("status: ok is ok with an empty message", "[status]") {
  constexpr Status s = Status::ok();
  static_assert(s.is_ok(), "Status::ok() usable in constant expressions");
  CHECK(s.code() == StatusCode::kOk);
  CHECK(std::string(s.message()).empty());
  CHECK(Status().is_ok());
}

TEST_CASE("status: error carries code and printf-formatted message", "[status]") {
  Status s = Status::error(StatusCode::kOutOfMemory, "need %zu bytes for %s, %zu free",
                           static_cast<std::size_t>(9437184), "gradients",
                           static_cast<std::size_t>(1048576));
  CHECK_FALSE(s.is_ok());
  CHECK(s.code() == StatusCode::kOutOfMemory);
  CHECK(std::string(s.message()) == "need 9437184 bytes for gradients, 1048576 free");
}

TEST_CASE("status: long messages are cut at a word boundary and end with an ellipsis", "[status]") {
  // One unbroken run: cut inside it (there is no word boundary), still marked.
  std::string long_text(500, 'x');
  Status s = Status::error(StatusCode::kCorruptData, "%s", long_text.c_str());
  CHECK(s.code() == StatusCode::kCorruptData);
  CHECK(std::strlen(s.message()) <= Status::kMaxMessage - 1);
  CHECK(std::string(s.message()) == std::string(Status::kMaxMessage - 4, 'x') + "...");
  // Words: the message is a prefix of the text that ends where a word ends, then "...".
  std::string words;
  for (int i = 0; words.size() < 600; ++i) words += "checkpoint" + std::to_string(i) + " ";
  s = Status::error(StatusCode::kIoError, "%s", words.c_str());
  const std::string m = s.message();
  REQUIRE(m.size() > 3);
  CHECK(m.size() <= Status::kMaxMessage - 1);
  CHECK(m.size() >= Status::kMaxMessage / 2);
  CHECK(m.substr(m.size() - 3) == "...");
  const std::string kept = m.substr(0, m.size() - 3);
  CHECK(words.compare(0, kept.size(), kept) == 0);
  CHECK(words[kept.size()] == ' ');
  CHECK(kept.back() != ' ');
  // A multi-byte UTF-8 character is never split.
  std::string utf8(190, 'a');
  for (int i = 0; i < 20; ++i) utf8 += "\xC3\xA9";  // U+00E9
  s = Status::error(StatusCode::kIoError, "%s", utf8.c_str());
  const std::string u = s.message();
  const std::string body = u.substr(0, u.size() - 3);
  CHECK(u.substr(u.size() - 3) == "...");
  CHECK(utf8.compare(0, body.size(), body) == 0);
  CHECK((body.size() <= 190 || (body.size() - 190) % 2 == 0));
  // Messages that fit are kept whole.
  const std::string fits(Status::kMaxMessage - 1, 'y');
  CHECK(std::string(Status::error(StatusCode::kIoError, "%s", fits.c_str()).message()) == fits);
}

TEST_CASE("status: every code has a distinct non-empty name", "[status]") {
  const StatusCode codes[] = {StatusCode::kOk,          StatusCode::kInvalidArgument,
                              StatusCode::kShapeMismatch, StatusCode::kOutOfMemory,
                              StatusCode::kNonFinite,   StatusCode::kFailedPrecondition,
                              StatusCode::kCorruptData, StatusCode::kUnsupported,
                              StatusCode::kIoError};
  CHECK(std::string(status_code_name(StatusCode::kOk)) == "ok");
  CHECK(std::string(status_code_name(StatusCode::kInvalidArgument)) == "invalid_argument");
  for (std::size_t i = 0; i < std::size(codes); ++i) {
    const char* a = status_code_name(codes[i]);
    REQUIRE(a != nullptr);
    CHECK(std::strlen(a) > 0);
    for (std::size_t j = 0; j < i; ++j) CHECK(std::string(a) != status_code_name(codes[j]));
  }
}

TEST_CASE("status: FENNEC_RETURN_IF_ERROR and FENNEC_ENSURE propagate", "[status]") {
  int reached = 0;
  Status s = propagate(true, &reached);
  CHECK(s.code() == StatusCode::kShapeMismatch);
  CHECK(std::string(s.message()) == "x has 7 cols");
  CHECK(reached == 0);
  CHECK(propagate(false, &reached).is_ok());
  CHECK(reached == 1);

  Status e = ensure_positive(-3);
  CHECK(e.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(e.message()) == "v must be > 0, got -3");
  CHECK(ensure_positive(2).is_ok());
}

TEST_CASE("status: Result holds a value or a status", "[status]") {
  Result<int> a = half(8);
  REQUIRE(a.is_ok());
  CHECK(a.value() == 4);
  Result<int> b = half(7);
  CHECK_FALSE(b.is_ok());
  CHECK(b.status().code() == StatusCode::kInvalidArgument);
  CHECK(std::string(b.status().message()) == "7 is odd");
  CHECK_FALSE(static_cast<bool>(b));
  CHECK(static_cast<bool>(a));
  CHECK(a.value_or(-1) == 4);
  CHECK(b.value_or(-1) == -1);
}

namespace {

// FENNEC_ASSIGN_OR_RETURN into a new variable and into an existing one, in functions returning
// Status and Result<U>.
Status quarter_into(int v, int* out) {
  FENNEC_ASSIGN_OR_RETURN(const int h, half(v));
  FENNEC_ASSIGN_OR_RETURN(*out, half(h));
  return Status::ok();
}

Result<double> quarter_as_double(int v) {
  int q = 0;
  FENNEC_ASSIGN_OR_RETURN(q, half(v));
  FENNEC_ASSIGN_OR_RETURN(q, half(q));
  return static_cast<double>(q);
}

}  // namespace

TEST_CASE("status: FENNEC_ASSIGN_OR_RETURN assigns the value or returns the status", "[status]") {
  int out = -1;
  CHECK(quarter_into(12, &out).is_ok());
  CHECK(out == 3);
  out = -1;
  const Status odd = quarter_into(6, &out);  // 6 -> 3, then 3 is odd
  CHECK(odd.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(odd.message()) == "3 is odd");
  CHECK(out == -1);  // the failed step assigned nothing
  Result<double> d = quarter_as_double(20);
  REQUIRE(d);
  CHECK(d.value() == 5.0);
  CHECK(std::string(quarter_as_double(7).status().message()) == "7 is odd");
}
