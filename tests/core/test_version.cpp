// SPDX-License-Identifier: Apache-2.0
// fennec/version.hpp is generated from project(VERSION): the macros, the constants and the string
// must all say the same version.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "fennec/fennec.hpp"

TEST_CASE("version: macros, constants and string agree", "[version]") {
  STATIC_REQUIRE(FENNEC_VERSION ==
                 FENNEC_VERSION_MAJOR * 10000 + FENNEC_VERSION_MINOR * 100 + FENNEC_VERSION_PATCH);
  STATIC_REQUIRE(fennec::kLibraryVersion.major == FENNEC_VERSION_MAJOR);
  STATIC_REQUIRE(fennec::kLibraryVersion.minor == FENNEC_VERSION_MINOR);
  STATIC_REQUIRE(fennec::kLibraryVersion.patch == FENNEC_VERSION_PATCH);
  char expected[32];
  std::snprintf(expected, sizeof(expected), "%d.%d.%d", fennec::kLibraryVersion.major, fennec::kLibraryVersion.minor,
                fennec::kLibraryVersion.patch);
  CHECK(std::string(fennec::kLibraryVersionString) == expected);
  CHECK(std::string(FENNEC_VERSION_STRING) == fennec::kLibraryVersionString);
}
