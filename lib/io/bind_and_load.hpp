// SPDX-License-Identifier: Apache-2.0
// Every loader that creates a Model does the same four things: check the parameters fit in the
// arena, bind the model, fill it from its source, and, when the fill fails, rewind the arena so a
// failed load leaves it exactly as it was. They all go through bind_and_load so that the
// "nothing changed by a failed call" rule is written once.
#pragma once

#include <cstdint>
#include <utility>

#include "fennec/arena.hpp"
#include "fennec/model.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "io/io_util.hpp"

namespace fennec::io_detail {

// fill is called as `Status fill(Model&)` on the freshly bound model. parameter_count is the
// model's parameter count as the source declared it (checked against the arena before binding,
// so an oversized file is refused with a message naming the shortfall, not a bare kOutOfMemory).
template <class Fill>
Result<Model> bind_and_load(const ModelSpec& spec, std::uint64_t parameter_count,
                            const ModelOptions& options, Arena& arena, Fill&& fill) {
  FENNEC_RETURN_IF_ERROR(check_parameters_fit(parameter_count, arena));
  const Arena::Mark start = arena.mark();
  Result<Model> model = Model::bind(spec, options, arena);
  if (!model.is_ok()) return model.status();
  const Status s = std::forward<Fill>(fill)(model.value());
  if (!s.is_ok()) {
    arena.rewind(start);
    return s;
  }
  return model;
}

}  // namespace fennec::io_detail
