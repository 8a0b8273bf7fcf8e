// SPDX-License-Identifier: Apache-2.0
// JsonReader's object and array walks, which every loop over safetensors header members uses:
// each member's key reaches the callback with the reader at its value, errors (the reader's and
// the callback's) stop the walk and come back as they are, and the messages name the place.
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "io/json.hpp"

using fennec::Status;
using fennec::StatusCode;
using fennec::io_detail::json_decode;
using fennec::io_detail::JsonReader;
using fennec::io_detail::JsonSlice;

namespace {

std::string decoded(JsonSlice s) {
  char buf[64];
  REQUIRE(json_decode(s, buf, sizeof(buf)));
  return buf;
}

// Walks `text` as an object of u64 members, collecting "key=value".
Status walk(const char* text, std::vector<std::string>* seen) {
  JsonReader j(text, std::strlen(text));
  return j.for_each_member("to open it", "in it", [&](JsonSlice key) {
    std::uint64_t v = 0;
    FENNEC_RETURN_IF_ERROR(j.u64(&v));
    seen->push_back(decoded(key) + "=" + std::to_string(v));
    return Status::ok();
  });
}

}  // namespace

TEST_CASE("json: for_each_member visits every member in order, escapes in keys kept raw", "[io][json]") {
  std::vector<std::string> seen;
  REQUIRE(walk(" { \"a\" : 1 , \"b\\u0063\":22,\"\":3 } ", &seen).is_ok());
  CHECK(seen == std::vector<std::string>{"a=1", "bc=22", "=3"});
  seen.clear();
  REQUIRE(walk("{}", &seen).is_ok());
  CHECK(seen.empty());
}

TEST_CASE("json: for_each_member reports malformed objects with the caller's context", "[io][json]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[]", "expected '{' to open it at byte 0"},
      {"{\"a\":1 \"b\":2}", "expected ',' in it at byte 7"},
      {"{\"a\" 1}", "expected ':' after a key at byte 5"},
      {"{1:1}", "expected a string at byte 1"},
      {"{\"a\":1,}", "expected a string at byte 7"},
      {"{\"a\":1", "expected ',' in it at byte 6"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    std::vector<std::string> seen;
    const Status s = walk(c.text, &seen);
    CHECK(s.code() == StatusCode::kCorruptData);
    CHECK(std::string(s.message()).find(c.message) != std::string::npos);
  }
}

TEST_CASE("json: a callback's error stops for_each_member and is returned unchanged", "[io][json]") {
  const char text[] = "{\"a\":1,\"stop\":2,\"c\":3}";
  JsonReader j(text, sizeof(text) - 1);
  int calls = 0;
  const Status s = j.for_each_member("to open it", "in it", [&](JsonSlice key) {
    ++calls;
    if (decoded(key) == "stop") return Status::error(StatusCode::kUnsupported, "stopped at %d", calls);
    return j.skip_value();
  });
  CHECK(calls == 2);
  CHECK(s.code() == StatusCode::kUnsupported);
  CHECK(std::string(s.message()) == "stopped at 2");
}

TEST_CASE("json: for_each_element walks arrays, nested inside members", "[io][json]") {
  const char text[] = "{\"shape\":[3, 0,7],\"empty\":[]}";
  JsonReader j(text, sizeof(text) - 1);
  std::vector<std::uint64_t> dims;
  int arrays = 0;
  REQUIRE(j.for_each_member("to open it", "in it", [&](JsonSlice) {
             ++arrays;
             return j.for_each_element("to open a list", "in a list", [&]() {
               std::uint64_t d = 0;
               FENNEC_RETURN_IF_ERROR(j.u64(&d));
               dims.push_back(d);
               return Status::ok();
             });
           }).is_ok());
  CHECK(arrays == 2);
  CHECK(dims == std::vector<std::uint64_t>{3, 0, 7});
  CHECK(j.at_end());

  const char bad[] = "[1 2]";
  JsonReader k(bad, sizeof(bad) - 1);
  const Status s = k.for_each_element("to open a list", "in a list", [&]() { return k.skip_value(); });
  CHECK(s.code() == StatusCode::kCorruptData);
  CHECK(std::string(s.message()).find("expected ',' in a list at byte 3") != std::string::npos);
}
