// SPDX-License-Identifier: Apache-2.0
// format_message: the printf subset Status messages use, formatted the same way on every C
// library.
//
// Status messages go through this instead of vsnprintf because the C libraries of the embedded
// targets do not all speak C99 printf: newlib (full and nano, as Debian builds them) has no
// `z` length modifier, and newlib-nano has no `ll` either, so "%zu bytes" printed "zu bytes" on
// a Cortex-M4 and every argument after a "%llu" was read from the wrong place. Here each
// conversion's argument is read at its true size, and the C library is handed one conversion at
// a time in a form it knows (`%lu` for a size_t or a 64-bit value that fits a long; the digits of
// a wider one made here and printed as a string). Strings are copied here.
//
// Supported: flags `-+ #0`, width and precision as digits (`*` for strings only: the library's
// "%.*s"), length `l ll z`, conversions
// `d u x X c s p %` and `e f g` (a double): what Fennec's messages use. Anything else is copied to the output as
// written and reads no argument, so an unsupported conversion shows in the message. The output is
// always NUL-terminated when capacity > 0. On ILP32 targets a 64-bit value beyond 32 bits is
// padded as text: `+`, `#` and `0` do not apply to it.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace fennec::detail {

// Writes at most capacity - 1 characters and a NUL; returns the length the whole message would
// have had (as vsnprintf does), so a result >= capacity means it was cut.
std::size_t format_message(char* out, std::size_t capacity, const char* format, std::va_list args);

}  // namespace fennec::detail
