// SPDX-License-Identifier: Apache-2.0
#include "core/format.hpp"

#include <cstdint>
#include <cstdio>

namespace fennec::detail {

namespace {

// Appends to a bounded buffer and counts what would have been written.
struct Out {
  char* data;
  std::size_t capacity;
  std::size_t length = 0;

  void put(const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i, ++length)
      if (length + 1 < capacity) data[length] = s[i];
  }
};

// Writes v in base 10 or 16 (upper case when `upper`) ending at `end`; returns the first digit.
char* digits(char* end, std::uint64_t v, unsigned base, bool upper) {
  char* p = end;
  do {
    const char d = "0123456789abcdef"[v % base];
    *--p = upper && d > '9' ? static_cast<char>(d - 'a' + 'A') : d;
    v /= base;
  } while (v != 0);
  return p;
}

// spec = the conversion text [begin, end) as written, then `length` and `conversion`.
void respell(char* spec, const char* begin, const char* end, const char* length, char conversion) {
  while (begin != end) *spec++ = *begin++;
  while (*length) *spec++ = *length++;
  *spec++ = conversion;
  *spec = 0;
}

// Appends what snprintf made of one conversion (what fits `room` kept, the full length counted).
void append(Out& out, const char* text, int n, std::size_t room) {
  if (n <= 0) return;
  const std::size_t kept = static_cast<std::size_t>(n) < room ? static_cast<std::size_t>(n) : room - 1;
  out.put(text, kept);
  out.length += static_cast<std::size_t>(n) - kept;
}

}  // namespace

std::size_t format_message(char* data, std::size_t capacity, const char* format, std::va_list args) {
  Out out{data, capacity};
  std::va_list ap;
  va_copy(ap, args);
  char text[128];
  for (const char* p = format; *p != 0;) {
    if (*p != '%') {
      out.put(p++, 1);
      continue;
    }
    // "%[flags][width][.precision][length]conversion". '*' is taken for strings only (the
    // library's "%.*s"); a conversion outside the subset reads no argument.
    const char* q = p + 1;
    bool left = false;
    for (; *q == '-' || *q == '+' || *q == ' ' || *q == '#' || *q == '0'; ++q) left = left || *q == '-';
    const bool star_width = *q == '*';
    if (star_width) ++q;
    int width = 0;
    while (*q >= '0' && *q <= '9') width = width < 100000 ? width * 10 + (*q++ - '0') : width;
    const char* width_end = q;
    int precision = -1;
    bool star_precision = false;
    if (*q == '.') {
      precision = 0;
      if (*++q == '*') star_precision = true, ++q;
      while (*q >= '0' && *q <= '9') precision = precision < 100000 ? precision * 10 + (*q++ - '0') : precision;
    }
    const char* length_begin = q;
    int longs = 0;  // 1: l, 2: ll, 3: z
    if (q[0] == 'l' && q[1] == 'l') longs = 2, q += 2;
    else if (q[0] == 'l') longs = 1, ++q;
    else if (q[0] == 'z') longs = 3, ++q;
    const char c = *q;
    const bool integer = c == 'd' || c == 'u' || c == 'x' || c == 'X';
    const bool floating = c == 'e' || c == 'f' || c == 'g';
    const bool star = star_width || star_precision;
    if (!((integer && !star) || (floating && longs <= 1 && !star) || ((c == 'c' || c == 'p') && !longs && !star) ||
          (c == 's' && !longs) || (c == '%' && q == p + 1))) {
      out.put(p++, 1);
      continue;
    }
    const char* begin = p;
    p = q + 1;
    char spec[40];
    if (c == '%') {
      out.put("%", 1);
    } else if (c == 's') {
      // Copied here, not through a bounded snprintf: a long path must not be cut mid-message.
      if (star_width) {
        width = va_arg(ap, int);
        if (width < 0) left = true, width = width == INT32_MIN ? INT32_MAX : -width;
      }
      if (star_precision) precision = va_arg(ap, int);
      const char* str = va_arg(ap, const char*);
      if (!str) str = "(null)";
      std::size_t n = 0;
      while (str[n] != 0 && (precision < 0 || n < static_cast<std::size_t>(precision))) ++n;
      const std::size_t pad = static_cast<std::size_t>(width) > n ? static_cast<std::size_t>(width) - n : 0;
      for (std::size_t i = 0; !left && i < pad; ++i) out.put(" ", 1);
      out.put(str, n);
      for (std::size_t i = 0; left && i < pad; ++i) out.put(" ", 1);
    } else if (floating) {
      respell(spec, begin, length_begin, "", c);
      append(out, text, std::snprintf(text, sizeof(text), spec, va_arg(ap, double)), sizeof(text));
    } else if (c == 'p') {
      respell(spec, begin, length_begin, "", c);
      append(out, text, std::snprintf(text, sizeof(text), spec, va_arg(ap, void*)), sizeof(text));
    } else if (longs == 0) {
      respell(spec, begin, length_begin, "", c);
      append(out, text, std::snprintf(text, sizeof(text), spec, va_arg(ap, int)), sizeof(text));
    } else {
      // l, ll and z: read at their size, printed as "%l" when the value fits a long, else as
      // digits made here and padded by "%s" (newlib has no z, newlib-nano no ll).
      const bool is_signed = c == 'd';
      std::uint64_t v = 0;
      if ((longs == 2 ? sizeof(long long) : longs == 3 ? sizeof(std::size_t) : sizeof(long)) == 8) {
        v = va_arg(ap, unsigned long long);
      } else {
        const unsigned long u = va_arg(ap, unsigned long);
        // Signed: sign-extended to 64 bits through long (two's complement on every target).
        v = is_signed ? static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<long>(u))) : u;
      }
      if (sizeof(unsigned long) == 8 || (is_signed ? (static_cast<std::int64_t>(v) >= INT32_MIN &&
                                                      static_cast<std::int64_t>(v) <= INT32_MAX)
                                                   : v <= UINT32_MAX)) {
        respell(spec, begin, length_begin, "l", c);
        append(out, text, std::snprintf(text, sizeof(text), spec, static_cast<unsigned long>(v)), sizeof(text));
      } else {
        char buf[24];
        const bool negative = is_signed && static_cast<std::int64_t>(v) < 0;
        char* d = digits(buf + sizeof(buf) - 1, negative ? 0 - v : v, c == 'x' || c == 'X' ? 16 : 10, c == 'X');
        buf[sizeof(buf) - 1] = 0;
        if (negative) *--d = '-';
        respell(spec, begin, width_end, "", 's');
        append(out, text, std::snprintf(text, sizeof(text), spec, d), sizeof(text));
      }
    }
  }
  va_end(ap);
  if (capacity > 0) data[out.length < capacity ? out.length : capacity - 1] = 0;
  return out.length;
}

}  // namespace fennec::detail
