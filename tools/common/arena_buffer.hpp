// SPDX-License-Identifier: Apache-2.0
// The arena storage fennec-infer, fennec-convert and fennec-quantize take for a model: sized from the plan,
// allocated uninitialised (the model fills what it uses; a value-initialised std::vector would
// zero gigabytes first), refused above a documented limit unless the user asks, and every failure
// a sentence saying how many bytes the plan needs and why it could not have them.
#pragma once

#include <cstddef>
#include <new>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fennec/fennec.hpp>

namespace fennec_tools {

// Largest arena taken without --allow-large-arena: 4 GiB.
inline constexpr std::size_t kArenaLimitBytes = std::size_t{4} << 30;

inline std::string plan_summary(const fennec::MemoryPlan& p) {
  return std::to_string(p.total()) + " bytes (parameters " + std::to_string(p.parameters) +
         ", activations " + std::to_string(p.activations) + ", scratch " + std::to_string(p.scratch) +
         ")";
}

class ArenaBuffer {
 public:
  // Throws std::runtime_error with the plan's figures when the plan is above the limit (and
  // allow_large is false) or the memory cannot be had.
  ArenaBuffer(const fennec::MemoryPlan& plan, bool allow_large)
      : ArenaBuffer(plan.total(), plan_summary(plan), allow_large) {}
  // `need` bytes, described in the messages by `summary` ("123 bytes (int8 model 100, ...)"):
  // for arenas sized by something other than a MemoryPlan (the int8 model's QuantizedPlan).
  ArenaBuffer(std::size_t need, const std::string& summary, bool allow_large) {
    if (need > kArenaLimitBytes && !allow_large) {
      throw std::runtime_error("the model's plan needs " + summary + ", above the " +
                               std::to_string(kArenaLimitBytes >> 30) +
                               " GiB limit; lower --batch, or pass --allow-large-arena to try");
    }
    data_ = ::operator new(need ? need : 1, std::align_val_t{fennec::kArenaAlignment}, std::nothrow);
    if (!data_) {
      throw std::runtime_error("cannot allocate the arena: the model's plan needs " + summary +
                               " and the system refused that much memory");
    }
    arena_ = fennec::Arena(data_, need);
  }
  ~ArenaBuffer() { ::operator delete(data_, std::align_val_t{fennec::kArenaAlignment}); }
  ArenaBuffer(const ArenaBuffer&) = delete;
  ArenaBuffer& operator=(const ArenaBuffer&) = delete;
  fennec::Arena& arena() { return arena_; }

 private:
  void* data_ = nullptr;
  fennec::Arena arena_;
};

}  // namespace fennec_tools
