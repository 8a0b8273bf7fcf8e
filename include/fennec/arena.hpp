// SPDX-License-Identifier: Apache-2.0
// Arena: bump allocation over caller-owned bytes. Fennec's only source of memory.
//
// Every block is aligned to kArenaAlignment (64 bytes: one cache line, one AVX-512 register).
// Allocation never calls malloc; exhaustion returns kOutOfMemory with the bytes needed and free.
// mark()/rewind() release everything allocated after a mark (used for scratch and for
// all-or-nothing setup: a failed bind rewinds to where it started).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"

namespace fennec {

inline constexpr std::size_t kArenaAlignment = 64;

// Round `bytes` up to the arena alignment: the cost of one block of `bytes` in an arena.
constexpr std::size_t arena_round_up(std::size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

class Arena {
 public:
  // Position to rewind to; obtained from mark().
  struct Mark {
    std::size_t offset = 0;
  };

  Arena() = default;
  // `bytes` may have any alignment; the first allocation skips up to 63 bytes to align.
  // A buffer declared `alignas(fennec::kArenaAlignment)` loses nothing.
  Arena(void* bytes, std::size_t capacity);

  // `what` names the request in the error message ("gradients", "activations", ...).
  Result<void*> allocate(std::size_t bytes, const char* what = "allocation");

  template <class T>
  Result<T*> allocate_array(std::size_t count, const char* what = "allocation") {
    if (count > static_cast<std::size_t>(-1) / sizeof(T)) {
      return Status::error(StatusCode::kOutOfMemory, "%s: %zu elements overflow size_t", what,
                           count);
    }
    Result<void*> r = allocate(count * sizeof(T), what);
    if (!r.is_ok()) return r.status();
    return static_cast<T*>(r.value());
  }

  Mark mark() const { return Mark{offset_}; }
  // Release everything allocated after `m`. A mark from the future is ignored.
  void rewind(Mark m);
  // Release everything.
  void reset() { rewind(Mark{0}); }

  std::size_t capacity() const { return capacity_; }
  // Bytes consumed so far, including alignment padding.
  std::size_t used() const { return offset_; }
  // Highest used() ever reached.
  std::size_t peak() const { return peak_; }
  std::size_t remaining() const { return capacity_ - offset_; }

 private:
  unsigned char* base_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t offset_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace fennec
