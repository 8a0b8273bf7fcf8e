// format_message: the printf subset Status messages use, formatted the same way on every C
// library.
//
// Status messages go through this instead of vsnprintf because the C libraries of the embedded
// targets do not all speak C99 printf: newlib (full and nano, as Debian builds them) has no
// `z` length modifier, and newlib-nano has no `ll` either, so "%zu bytes" printed "zu bytes" on
// a Cortex-M4 and every argument after a "%llu" was read from the wrong place. Integers, strings
// and characters are formatted here, by Fennec's own code; only the floating-point conversions
// (e, f, g and their capitals) are handed to the C library one at a time (newlib-nano prints them
// only when the image links with `-u _printf_float`).
//
// Supported: flags `-+ #0`, width and precision as digits or `*`, length `hh h l ll z`,
// conversions `d i u x X c s %` and `e E f F g G` (a double, no long double). Anything else is copied to the output as written, so an unsupported
// conversion is visible in the message instead of misreading the arguments after it (they are
// not consumed). The output is always NUL-terminated when capacity > 0.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace fennec::detail {

// Writes at most capacity - 1 characters and a NUL; returns the length the whole message would
// have had (as vsnprintf does), so a result >= capacity means it was cut.
std::size_t format_message(char* out, std::size_t capacity, const char* format, std::va_list args);

}  // namespace fennec::detail
