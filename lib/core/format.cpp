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

  void put(char c) {
    if (length + 1 < capacity) data[length] = c;
    ++length;
  }
  void put(const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) put(s[i]);
  }
  void repeat(char c, int n) {
    for (int i = 0; i < n; ++i) put(c);
  }
  void finish() {
    if (capacity > 0) data[length < capacity ? length : capacity - 1] = 0;
  }
};

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int width = 0;
  int precision = -1;  // -1: not given
  enum Length { kNone, kChar, kShort, kLong, kLongLong, kSize, kLongDouble };
  Length length = kNone;
  char conversion = 0;
};

int parse_number(const char*& p) {
  int v = 0;
  while (*p >= '0' && *p <= '9') {
    if (v < 100000) v = v * 10 + (*p - '0');
    ++p;
  }
  return v;
}

// Parses the conversion after '%' (p points past it); false when it is not one of ours, and then
// nothing has been read from args.
bool parse_spec(const char*& p, std::va_list& args, Spec& s) {
  for (;; ++p) {
    if (*p == '-') s.left = true;
    else if (*p == '+') s.plus = true;
    else if (*p == ' ') s.space = true;
    else if (*p == '#') s.alt = true;
    else if (*p == '0') s.zero = true;
    else break;
  }
  // '*' consumes an argument, so check that the whole conversion is supported before reading any.
  const char* q = p;
  bool star_width = false, star_precision = false;
  if (*q == '*') {
    star_width = true;
    ++q;
  } else {
    while (*q >= '0' && *q <= '9') ++q;
  }
  if (*q == '.') {
    ++q;
    if (*q == '*') {
      star_precision = true;
      ++q;
    } else {
      while (*q >= '0' && *q <= '9') ++q;
    }
  }
  Spec::Length length = Spec::kNone;
  if (q[0] == 'h' && q[1] == 'h') length = Spec::kChar, q += 2;
  else if (q[0] == 'h') length = Spec::kShort, q += 1;
  else if (q[0] == 'l' && q[1] == 'l') length = Spec::kLongLong, q += 2;
  else if (q[0] == 'l') length = Spec::kLong, q += 1;
  else if (q[0] == 'z') length = Spec::kSize, q += 1;
  else if (q[0] == 'L') length = Spec::kLongDouble, q += 1;
  const char c = *q;
  const bool integer = c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X';
  const bool floating = c == 'e' || c == 'E' || c == 'f' || c == 'F' || c == 'g' || c == 'G';
  const bool other = (c == 'c' || c == 's') && length == Spec::kNone;
  // Floating conversions take a double (none or `l`); no long double is ever passed.
  const bool double_length = length == Spec::kNone || length == Spec::kLong;
  if (!(integer && length != Spec::kLongDouble) && !(floating && double_length) && !other) return false;

  if (star_width) {
    s.width = va_arg(args, int);
    if (s.width < 0) {
      s.left = true;
      s.width = s.width == -2147483647 - 1 ? 2147483647 : -s.width;
    }
    ++p;
  } else {
    s.width = parse_number(p);
  }
  if (*p == '.') {
    ++p;
    if (star_precision) {
      const int v = va_arg(args, int);
      s.precision = v < 0 ? -1 : v;
      ++p;
    } else {
      s.precision = parse_number(p);
    }
  }
  s.length = length;
  s.conversion = c;
  p = q + 1;
  return true;
}

// The size in bytes of the integer argument a length modifier names.
constexpr std::size_t kIntBytes[] = {sizeof(int), sizeof(int), sizeof(int), sizeof(long), sizeof(long long),
                                     sizeof(std::size_t)};

// Reads the integer argument of s's length; negative values come back as their magnitude.
// Arguments are read by size (an int-sized or a long-long-sized slot), which is how every ABI
// Fennec targets passes them, so one path serves int, long, long long and size_t.
std::uint64_t integer_argument(const Spec& s, std::va_list& args, bool* negative) {
  const bool is_signed = s.conversion == 'd' || s.conversion == 'i';
  std::uint64_t v = 0;
  int bits = 64;
  if (kIntBytes[s.length] == sizeof(long long)) {
    v = va_arg(args, unsigned long long);
  } else {
    v = va_arg(args, unsigned);
    bits = static_cast<int>(8 * sizeof(unsigned));
  }
  if (s.length == Spec::kChar) bits = 8;
  if (s.length == Spec::kShort) bits = 16;
  if (bits < 64) v &= (std::uint64_t{1} << bits) - 1;
  *negative = is_signed && (v >> (bits - 1)) != 0;
  if (*negative) v = (bits < 64 ? (std::uint64_t{1} << bits) : 0) - v;  // two's complement magnitude
  return v;
}

void write_integer(Out& out, const Spec& s, std::va_list& args) {
  bool negative = false;
  const std::uint64_t v = integer_argument(s, args, &negative);
  const unsigned base = (s.conversion == 'x' || s.conversion == 'X') ? 16 : 10;
  const char* digit_chars = s.conversion == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char digits[20];  // 2^64 has 20 decimal digits
  int n = 0;
  for (std::uint64_t x = v; x != 0; x /= base) digits[n++] = digit_chars[x % base];
  // Precision is the minimum digit count; a zero value with precision 0 prints no digits.
  int min_digits = s.precision < 0 ? 1 : s.precision;
  const int zeros = min_digits > n ? min_digits - n : 0;
  char prefix[2];
  int prefix_length = 0;
  if (negative) prefix[prefix_length++] = '-';
  else if ((s.conversion == 'd' || s.conversion == 'i') && s.plus) prefix[prefix_length++] = '+';
  else if ((s.conversion == 'd' || s.conversion == 'i') && s.space) prefix[prefix_length++] = ' ';
  else if (base == 16 && s.alt && v != 0) {
    prefix[prefix_length++] = '0';
    prefix[prefix_length++] = s.conversion;
  }
  const int body = prefix_length + zeros + n;
  const int pad = s.width > body ? s.width - body : 0;
  const bool zero_pad = s.zero && !s.left && s.precision < 0;
  if (!s.left && !zero_pad) out.repeat(' ', pad);
  out.put(prefix, static_cast<std::size_t>(prefix_length));
  if (zero_pad) out.repeat('0', pad);
  out.repeat('0', zeros);
  while (n > 0) out.put(digits[--n]);
  if (s.left) out.repeat(' ', pad);
}

void write_text(Out& out, const Spec& s, const char* text, std::size_t n) {
  const int pad = s.width > static_cast<int>(n) ? s.width - static_cast<int>(n) : 0;
  if (!s.left) out.repeat(' ', pad);
  out.put(text, n);
  if (s.left) out.repeat(' ', pad);
}

void write_string(Out& out, const Spec& s, const char* text) {
  if (text == nullptr) text = "(null)";
  std::size_t n = 0;
  while (text[n] != 0 && (s.precision < 0 || n < static_cast<std::size_t>(s.precision))) ++n;
  write_text(out, s, text, n);
}

// Writes v in decimal at out (room for 10 digits); returns the digit count.
std::size_t decimal(char* out, unsigned v) {
  char d[10];
  std::size_t n = 0;
  do {
    d[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = d[n - 1 - i];
  return n;
}

// One floating-point conversion through the C library, rebuilt with width and precision resolved.
void write_floating(Out& out, const Spec& s, std::va_list& args) {
  const double v = va_arg(args, double);
  // "%" flags width [.precision] conversion, written out by hand (no second printf for it).
  char spec[40];
  std::size_t k = 0;
  spec[k++] = '%';
  if (s.left) spec[k++] = '-';
  if (s.plus) spec[k++] = '+';
  if (s.space) spec[k++] = ' ';
  if (s.alt) spec[k++] = '#';
  if (s.zero) spec[k++] = '0';
  k += decimal(spec + k, static_cast<unsigned>(s.width));
  if (s.precision >= 0) {
    spec[k++] = '.';
    k += decimal(spec + k, static_cast<unsigned>(s.precision));
  }
  spec[k++] = s.conversion;
  spec[k] = 0;
  char text[128];
  const int n = std::snprintf(text, sizeof(text), spec, v);
  if (n <= 0) return;
  const std::size_t kept = static_cast<std::size_t>(n) < sizeof(text) ? static_cast<std::size_t>(n) : sizeof(text) - 1;
  out.put(text, kept);
  // Count what did not fit the local buffer, so the returned length stays the full one.
  out.length += static_cast<std::size_t>(n) - kept;
}

}  // namespace

std::size_t format_message(char* data, std::size_t capacity, const char* format, std::va_list args) {
  Out out{data, capacity};
  // A copy, so the helpers can take it by reference on every ABI (va_list may be an array type).
  std::va_list ap;
  va_copy(ap, args);
  for (const char* p = format; *p != 0;) {
    if (*p != '%') {
      out.put(*p++);
      continue;
    }
    if (p[1] == '%') {
      out.put('%');
      p += 2;
      continue;
    }
    const char* start = p++;
    Spec s;
    if (!parse_spec(p, ap, s)) {
      // Not a conversion we know: copied as written, and no argument is read for it.
      out.put(*start);
      p = start + 1;
      continue;
    }
    switch (s.conversion) {
      case 'c': {
        const char c = static_cast<char>(va_arg(ap, int));
        write_text(out, s, &c, 1);
        break;
      }
      case 's': write_string(out, s, va_arg(ap, const char*)); break;
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': write_floating(out, s, ap); break;
      default: write_integer(out, s, ap); break;
    }
  }
  va_end(ap);
  out.finish();
  return out.length;
}

}  // namespace fennec::detail
