// SPDX-License-Identifier: Apache-2.0
// Arena: 64-byte alignment, exact fit, exhaustion status, marks and rewind, peak, odd bases.
#include <cstdint>
#include <string>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::OwnedArena;

namespace {
bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kArenaAlignment == 0; }
}  // namespace

TEST_CASE("arena: arena_round_up is the cost of one block", "[arena]") {
  static_assert(arena_round_up(0) == 0, "");
  static_assert(arena_round_up(1) == 64, "");
  static_assert(arena_round_up(64) == 64, "");
  static_assert(arena_round_up(65) == 128, "");
  CHECK(kArenaAlignment == 64);
}

TEST_CASE("arena: every block is 64-byte aligned and costs arena_round_up(bytes)", "[arena]") {
  OwnedArena o(4096);
  Arena& a = o.arena;
  CHECK(a.capacity() == 4096);
  CHECK(a.used() == 0);
  const std::size_t sizes[] = {1, 100, 64, 3, 129};
  unsigned char* prev = nullptr;
  std::size_t prev_size = 0;
  for (std::size_t s : sizes) {
    Result<void*> r = a.allocate(s, "test");
    REQUIRE(r.is_ok());
    auto* p = static_cast<unsigned char*>(r.value());
    CHECK(aligned64(p));
    if (prev) CHECK(static_cast<std::size_t>(p - prev) == arena_round_up(prev_size));
    prev = p;
    prev_size = s;
  }
  // The first block starts at the (aligned) base.
  Arena b(o.aligned_base(), 256);
  Result<void*> r = b.allocate(10);
  REQUIRE(r.is_ok());
  CHECK(r.value() == static_cast<void*>(o.aligned_base()));
}

TEST_CASE("arena: allocate_array is typed and aligned", "[arena]") {
  OwnedArena o(1024);
  Result<float*> f = o.arena.allocate_array<float>(10, "floats");
  REQUIRE(f.is_ok());
  CHECK(aligned64(f.value()));
  Result<double*> d = o.arena.allocate_array<double>(3, "doubles");
  REQUIRE(d.is_ok());
  CHECK(aligned64(d.value()));
  CHECK(reinterpret_cast<unsigned char*>(d.value()) - reinterpret_cast<unsigned char*>(f.value()) ==
        64);
}

TEST_CASE("arena: exact fit succeeds, one byte less fails with kOutOfMemory", "[arena]") {
  // Blocks of 64 and 128 bytes: 192 bytes with no padding.
  {
    OwnedArena o(192);
    REQUIRE(o.arena.allocate(64, "first").is_ok());
    Result<void*> r = o.arena.allocate(128, "second");
    REQUIRE(r.is_ok());
    CHECK(o.arena.used() == 192);
    CHECK(o.arena.remaining() == 0);
  }
  {
    OwnedArena o(191);
    REQUIRE(o.arena.allocate(64, "first").is_ok());
    const std::size_t used_before = o.arena.used();
    Result<void*> r = o.arena.allocate(128, "second block");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kOutOfMemory);
    int sentinel = 0;
    CHECK(r.value_or(&sentinel) == &sentinel);  // no pointer to hand out
    const std::string msg = r.status().message();
    INFO(msg);
    CHECK(msg.find("128") != std::string::npos);           // bytes requested
    CHECK(msg.find("127") != std::string::npos);           // bytes free
    CHECK(msg.find("second block") != std::string::npos);  // what
    // A refused request consumes nothing; a smaller one still fits. (A request costs
    // arena_round_up(bytes), so 127 bytes would cost 128 and not fit either.)
    CHECK(o.arena.used() == used_before);
    CHECK(o.arena.allocate(127).status().code() == StatusCode::kOutOfMemory);
    CHECK(o.arena.allocate(64).is_ok());
  }
}

TEST_CASE("arena: 1 KiB arena refuses a second 768-byte block (TFLM TestMultipleTooLarge)",
          "[arena]") {
  OwnedArena o(1024);
  REQUIRE(o.arena.allocate(768).is_ok());
  Result<void*> r = o.arena.allocate(768);
  CHECK(r.status().code() == StatusCode::kOutOfMemory);
  CHECK(o.arena.used() == 768);
}

TEST_CASE("arena: an empty arena and a size_t overflow fail cleanly", "[arena]") {
  Arena empty;
  CHECK(empty.capacity() == 0);
  CHECK(empty.allocate(1).status().code() == StatusCode::kOutOfMemory);

  OwnedArena o(256);
  // Requests so large that rounding them up would wrap around.
  CHECK(o.arena.allocate(static_cast<std::size_t>(-1)).status().code() == StatusCode::kOutOfMemory);
  CHECK(o.arena.allocate(static_cast<std::size_t>(-1) - 10).status().code() ==
        StatusCode::kOutOfMemory);
  CHECK(o.arena.allocate_array<double>(static_cast<std::size_t>(-1) / 4).status().code() ==
        StatusCode::kOutOfMemory);
  CHECK(o.arena.used() == 0);
  CHECK(o.arena.allocate(256).is_ok());
}

TEST_CASE("arena: marks rewind, peak remembers, future marks are ignored", "[arena]") {
  OwnedArena o(4096);
  Arena& a = o.arena;
  REQUIRE(a.allocate(100).is_ok());
  const Arena::Mark m = a.mark();
  const std::size_t at_mark = a.used();
  Result<void*> first_after = a.allocate(500);
  REQUIRE(first_after.is_ok());
  REQUIRE(a.allocate(1000).is_ok());
  const std::size_t high = a.used();
  CHECK(high >= at_mark + 1500);
  const Arena::Mark future = a.mark();
  a.rewind(m);
  CHECK(a.used() == at_mark);
  CHECK(a.peak() == high);
  // Memory after the mark is handed out again.
  Result<void*> again = a.allocate(500);
  REQUIRE(again.is_ok());
  CHECK(again.value() == first_after.value());
  // A mark from beyond the current position changes nothing.
  const std::size_t now = a.used();
  a.rewind(future);
  CHECK(a.used() == now);
  a.reset();
  CHECK(a.used() == 0);
  CHECK(a.peak() == high);
  CHECK(a.remaining() == a.capacity());
}

TEST_CASE("arena: an unaligned base loses at most 63 bytes to alignment", "[arena]") {
  std::vector<unsigned char> storage(1024);
  auto p = reinterpret_cast<std::uintptr_t>(storage.data());
  unsigned char* aligned = reinterpret_cast<unsigned char*>((p + 127) / 64 * 64);
  unsigned char* odd = aligned + 1;  // 63 bytes short of the next boundary
  SECTION("the first block skips to the boundary and used() counts the padding") {
    Arena a(odd, 256);
    CHECK(a.capacity() == 256);
    Result<void*> r = a.allocate(64);
    REQUIRE(r.is_ok());
    CHECK(r.value() == static_cast<void*>(aligned + 64));
    CHECK(a.used() == 63 + 64);
  }
  SECTION("exact fit including the padding succeeds") {
    Arena a(odd, 127);
    CHECK(a.allocate(64).is_ok());
  }
  SECTION("one byte less fails") {
    Arena a(odd, 126);
    CHECK(a.allocate(64).status().code() == StatusCode::kOutOfMemory);
    CHECK(a.used() == 0);
  }
}
