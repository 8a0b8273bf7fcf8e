// SPDX-License-Identifier: Apache-2.0
// Writes bytes as a C++ header of one `alignas(4) inline constexpr unsigned char` array, for the
// platform tests that regenerate the firmware's checked-in model files (FENNEC_WRITE_* variables).
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdio>

namespace platform_test {

// `comment`: the header's comment lines after the licence line, each starting with "// " and
// ending with a newline.
inline void write_byte_array_header(const char* path, const char* comment, const char* ns, const char* name,
                                    const unsigned char* bytes, std::size_t n) {
  std::FILE* f = std::fopen(path, "w");
  REQUIRE(f != nullptr);
  std::fprintf(f, "// SPDX-License-Identifier: Apache-2.0\n%s#pragma once\n\nnamespace %s {\n", comment, ns);
  std::fprintf(f, "alignas(4) inline constexpr unsigned char %s[%zu] = {", name, n);
  for (std::size_t i = 0; i < n; ++i) std::fprintf(f, "%s0x%02x,", i % 16 ? "" : "\n    ", bytes[i]);
  std::fprintf(f, "\n};\n}  // namespace %s\n", ns);
  std::fclose(f);
}

}  // namespace platform_test
