// SPDX-License-Identifier: Apache-2.0
// format_message against the C library's vsnprintf (glibc speaks all of C99 printf): every
// conversion Status messages use, with flags, widths, precisions and lengths, must give the same
// bytes and the same would-be length. On the embedded C libraries it is what makes "%zu" and
// "%llu" print at all; the Cortex-M4 self-test checks such a message there.
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "core/format.hpp"

namespace {

struct Formatted {
  std::string text;
  std::size_t length;
};

Formatted ours(std::size_t capacity, const char* format, ...) {
  char buf[256];
  std::va_list args;
  va_start(args, format);
  const std::size_t n = fennec::detail::format_message(buf, capacity, format, args);
  va_end(args);
  return {capacity ? std::string(buf) : std::string(), n};
}

std::size_t ours_into(char* buf, std::size_t capacity, const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  const std::size_t n = fennec::detail::format_message(buf, capacity, format, args);
  va_end(args);
  return n;
}

Formatted libc(std::size_t capacity, const char* format, ...) {
  char buf[256];
  std::va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, capacity, format, args);
  va_end(args);
  return {capacity ? std::string(buf) : std::string(), static_cast<std::size_t>(n)};
}

#define SAME(...)                                                      \
  do {                                                                 \
    const Formatted a = ours(256, __VA_ARGS__), b = libc(256, __VA_ARGS__); \
    INFO("format " << #__VA_ARGS__);                                   \
    CHECK(a.text == b.text);                                           \
    CHECK(a.length == b.length);                                       \
  } while (0)

}  // namespace

TEST_CASE("format_message: integers of every length, flag, width and precision match printf", "[status][format]") {
  for (long long v : {0LL, 1LL, -1LL, 7LL, -42LL, 255LL, 65535LL, 2147483647LL, -2147483647LL - 1}) {
    const int i = static_cast<int>(v);
    SAME("%d|%d|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-8.3d|%.0d", i, i, i, i, i, i, i, i, i, i, i);
    SAME("%u|%x|%X|%#x|%#X|%08x|%-8x|%.5x|%#.3x|%.0u", static_cast<unsigned>(i),
         static_cast<unsigned>(i), static_cast<unsigned>(i), static_cast<unsigned>(i),
         static_cast<unsigned>(i), static_cast<unsigned>(i), static_cast<unsigned>(i),
         static_cast<unsigned>(i), static_cast<unsigned>(i), static_cast<unsigned>(i));
    SAME("%ld|%lu|%08lx|%lld|%llu|%llx|%+lld", static_cast<long>(v), static_cast<unsigned long>(v),
         static_cast<unsigned long>(v), v, static_cast<unsigned long long>(v),
         static_cast<unsigned long long>(v), v);
    SAME("%zu|%zx|%zd|%12zu", static_cast<std::size_t>(v), static_cast<std::size_t>(v),
         static_cast<std::ptrdiff_t>(v), static_cast<std::size_t>(v));
  }
  SAME("%llu %lld %llx", ULLONG_MAX, LLONG_MIN, ULLONG_MAX);
  SAME("%zu bytes for %llu parameters, %zu free", std::size_t{9437184}, 2359296ULL, std::size_t{1048576});
  SAME("%*s|%-*s|%.*s|%*.*s|%*s", 6, "ab", 6, "ab", 1, "ab", 5, 1, "xyz", -4, "q");
  // '*' for numbers is outside the subset: copied, and the 5 is read by the %d after it.
  CHECK(ours(256, "%*d %d", 5).text == "%*d 5");
}

TEST_CASE("format_message: strings, characters, floats and percent match printf", "[status][format]") {
  SAME("%s|%10s|%-10s|%.3s|%.*s|%c|%3c|%-3c|%%", "layer", "layer", "layer", "layer", 2, "layer", 'x', 'y', 'z');
  SAME("%s", static_cast<const char*>(nullptr));
  int object = 0;
  SAME("at %p, %20p", static_cast<void*>(&object), static_cast<void*>(&object));
  for (double d : {0.0, -0.0, 1.0, -2.5, 0.001, 1e-8, 3.14159265358979, 1e30, -1e-300, 123456789.0}) {
    SAME("%g|%e|%f|%.9g|%10.3f|%-12.2e|%+g|%#g", d, d, d, d, d, d, d, d);
  }
  SAME("lr %g must be > 0 (eps %g)", -0.1, 1e-8);
}

TEST_CASE("format_message: cut output keeps the full length and its NUL, and unknown conversions are copied",
          "[status][format]") {
  for (std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{12}}) {
    INFO("capacity " << cap);
    const Formatted a = ours(cap, "need %zu bytes, %s", std::size_t{123456}, "free 0");
    const Formatted b = libc(cap, "need %zu bytes, %s", std::size_t{123456}, "free 0");
    CHECK(a.text == b.text);
    CHECK(a.length == b.length);
  }
  char untouched = 'q';
  CHECK(ours_into(&untouched, 0, "%d", 5) == 1);  // capacity 0 writes nothing
  CHECK(untouched == 'q');
  // A conversion outside the subset appears as written and reads no argument: the %d after it
  // still gets the first argument.
  CHECK(ours(256, "%q %Lf %n %o %jd %hd %i %G %d", 7).text == "%q %Lf %n %o %jd %hd %i %G 7");
  CHECK(ours(256, "tail %").text == "tail %");
}
