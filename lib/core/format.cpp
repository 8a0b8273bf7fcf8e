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

// Writes v in base 10 or 16 (upper case when `upper`) at the end of buf[0..24); returns the first digit.
char* digits(char* end, std::uint64_t v, unsigned base, bool upper) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char* p = end;
  do {
    *--p = set[v % base];
    v /= base;
  } while (v != 0);
  return p;
}

// Appends "%", the flags, width, precision, `length` and the conversion to spec.
std::size_t rebuild(char* spec, const char* flags, std::size_t flag_count, int width, int precision,
                    const char* length, char conversion) {
  char* p = spec;
  *p++ = '%';
  for (std::size_t i = 0; i < flag_count; ++i) *p++ = flags[i];
  char buf[24];
  if (width > 0) {
    for (const char* d = digits(buf + sizeof(buf), static_cast<unsigned>(width), 10, false); d != buf + sizeof(buf); ++d) *p++ = *d;
  }
  if (precision >= 0) {
    *p++ = '.';
    for (const char* d = digits(buf + sizeof(buf), static_cast<unsigned>(precision), 10, false); d != buf + sizeof(buf); ++d) *p++ = *d;
  }
  while (*length) *p++ = *length++;
  *p++ = conversion;
  *p = 0;
  return static_cast<std::size_t>(p - spec);
}

// Appends what snprintf made of one conversion (at most sizeof(text) - 1 bytes of it kept, the
// full length counted).
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
    // Parse "%[flags][width][.precision][length]conversion"; '*' is resolved only once the
    // whole conversion is known to be supported, so nothing is read for one that is not.
    const char* q = p + 1;
    const char* flags = q;
    while (*q == '-' || *q == '+' || *q == ' ' || *q == '#' || *q == '0') ++q;
    const std::size_t flag_count = static_cast<std::size_t>(q - flags);
    const bool star_width = *q == '*';
    int width = 0;
    if (star_width) ++q;
    while (*q >= '0' && *q <= '9') width = width < 100000 ? width * 10 + (*q++ - '0') : (++q, width);
    bool has_precision = false, star_precision = false;
    int precision = 0;
    if (*q == '.') {
      has_precision = true;
      if (*++q == '*') star_precision = true, ++q;
      while (*q >= '0' && *q <= '9') precision = precision < 100000 ? precision * 10 + (*q++ - '0') : (++q, precision);
    }
    int longs = 0;  // 1: l, 2: ll, 3: z
    if (q[0] == 'l' && q[1] == 'l') longs = 2, q += 2;
    else if (q[0] == 'l') longs = 1, ++q;
    else if (q[0] == 'z') longs = 3, ++q;
    const char c = *q;
    const bool integer = c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X';
    const bool floating = c == 'e' || c == 'E' || c == 'f' || c == 'F' || c == 'g' || c == 'G';
    const bool text_like = c == 's' || c == 'c' || c == '%';
    if (!(integer || (floating && longs <= 1) || (text_like && longs == 0))) {
      // Not in the subset: copied as written, and no argument is read for it.
      out.put(p++, 1);
      continue;
    }
    p = q + 1;
    char own_flags[8];  // the flags as written, plus '-' for a negative '*' width
    std::size_t nf = flag_count < 6 ? flag_count : 6;
    for (std::size_t i = 0; i < nf; ++i) own_flags[i] = flags[i];
    if (star_width) {
      width = va_arg(ap, int);
      if (width < 0) {
        width = width == INT32_MIN ? INT32_MAX : -width;
        own_flags[nf++] = '-';
      }
    }
    if (star_precision) {
      precision = va_arg(ap, int);
      if (precision < 0) has_precision = false;
    }
    const int prec = has_precision ? precision : -1;
    char spec[48];
    if (c == '%') {
      out.put("%", 1);
    } else if (c == 's') {
      // Copied here, not through a bounded snprintf: a long path must not be cut mid-message.
      const char* s = va_arg(ap, const char*);
      if (!s) s = "(null)";
      std::size_t n = 0;
      while (s[n] != 0 && (prec < 0 || n < static_cast<std::size_t>(prec))) ++n;
      bool left = false;
      for (std::size_t i = 0; i < nf; ++i) left = left || own_flags[i] == '-';
      const std::size_t pad = static_cast<std::size_t>(width) > n ? static_cast<std::size_t>(width) - n : 0;
      for (std::size_t i = 0; !left && i < pad; ++i) out.put(" ", 1);
      out.put(s, n);
      for (std::size_t i = 0; left && i < pad; ++i) out.put(" ", 1);
    } else if (floating) {
      rebuild(spec, own_flags, nf, width, prec, "", c);
      append(out, text, std::snprintf(text, sizeof(text), spec, va_arg(ap, double)), sizeof(text));
    } else if (c == 'c' || longs == 0) {
      rebuild(spec, own_flags, nf, width, prec, "", c);
      append(out, text, std::snprintf(text, sizeof(text), spec, va_arg(ap, int)), sizeof(text));
    } else {
      // l, ll and z: read by size, then printed through "%lu"/"%ld"-sized calls when the value
      // fits a long, else as digits formatted by "%s" (so newlib-nano, which has no ll, and
      // newlib, which has no z, print them as glibc does).
      const bool is_signed = c == 'd' || c == 'i';
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
        rebuild(spec, own_flags, nf, width, prec, "l", c);
        append(out, text, std::snprintf(text, sizeof(text), spec, static_cast<unsigned long>(v)), sizeof(text));
      } else {
        // Beyond 32 bits on an ILP32 target: digits (and sign) made here, padded by "%s".
        char buf[24];
        const bool negative = is_signed && static_cast<std::int64_t>(v) < 0;
        char* d = digits(buf + sizeof(buf) - 1, negative ? 0 - v : v, c == 'x' || c == 'X' ? 16 : 10, c == 'X');
        buf[sizeof(buf) - 1] = 0;
        if (negative) *--d = '-';
        rebuild(spec, own_flags, nf, width, -1, "", 's');
        append(out, text, std::snprintf(text, sizeof(text), spec, d), sizeof(text));
      }
    }
  }
  va_end(ap);
  if (capacity > 0) data[out.length < capacity ? out.length : capacity - 1] = 0;
  return out.length;
}

}  // namespace fennec::detail
