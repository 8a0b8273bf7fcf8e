// SPDX-License-Identifier: Apache-2.0
// The tools' arena storage: a plan above the limit is refused with its size unless asked, and a
// refused allocation is a sentence with the plan's figures, not std::bad_alloc.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/arena_buffer.hpp"

using fennec_tools::ArenaBuffer;

namespace {

std::string message_of(const fennec::MemoryPlan& p, bool allow_large) {
  try {
    ArenaBuffer b(p, allow_large);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("arena buffer: sized from the plan, limited, and failures name the bytes", "[tools][arena]") {
  fennec::MemoryPlan small;
  small.parameters = 4096;
  small.activations = 1024;
  ArenaBuffer b(small, false);
  CHECK(b.arena().capacity() == 5120);
  CHECK(reinterpret_cast<std::uintptr_t>(b.arena().allocate(64).value()) % fennec::kArenaAlignment == 0);

  // The 8.4 GB case: a legal wide model at --batch 1000.
  fennec::MemoryPlan wide;
  wide.parameters = std::size_t{400} << 20;
  wide.activations = std::size_t{8000} << 20;
  const std::string refused = message_of(wide, false);
  INFO(refused);
  CHECK(refused.find("needs " + std::to_string(wide.total()) + " bytes") != std::string::npos);
  CHECK(refused.find("activations " + std::to_string(wide.activations)) != std::string::npos);
  CHECK(refused.find("4 GiB limit") != std::string::npos);
  CHECK(refused.find("--allow-large-arena") != std::string::npos);
#if defined(__SANITIZE_ADDRESS__)
  WARN("impossible-allocation case skipped under AddressSanitizer (it reports, not returns null)");
#else
  // Asked for, but more than any machine has: a message, not std::bad_alloc.
  fennec::MemoryPlan absurd;
  absurd.activations = std::size_t{1} << 62;
  const std::string failed = message_of(absurd, true);
  INFO(failed);
  CHECK(failed.find("cannot allocate the arena") != std::string::npos);
  CHECK(failed.find(std::to_string(absurd.total())) != std::string::npos);
#endif
}
