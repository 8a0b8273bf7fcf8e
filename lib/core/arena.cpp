// SPDX-License-Identifier: Apache-2.0
#include "fennec/arena.hpp"

#include <cstdint>

namespace fennec {

Arena::Arena(void* bytes, std::size_t capacity)
    : base_(static_cast<unsigned char*>(bytes)), capacity_(bytes ? capacity : 0) {}

Result<void*> Arena::allocate(std::size_t bytes, const char* what) {
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(base_);
  // Align the absolute address, so a misaligned caller buffer still yields aligned blocks.
  const std::uintptr_t misalign = (base + offset_) % kArenaAlignment;
  const std::size_t pad = misalign ? kArenaAlignment - misalign : 0;
  const std::size_t rounded = arena_round_up(bytes);
  if (rounded < bytes || pad > remaining() || rounded > remaining() - pad) {
    return Status::error(StatusCode::kOutOfMemory,
                         "arena too small for %s: need %zu bytes, %zu free of %zu", what,
                         rounded + pad, remaining(), capacity_);
  }
  void* p = base_ + offset_ + pad;
  offset_ += pad + rounded;
  if (offset_ > peak_) peak_ = offset_;
  return p;
}

void Arena::rewind(Mark m) {
  if (m.offset <= offset_) offset_ = m.offset;
}

}  // namespace fennec
