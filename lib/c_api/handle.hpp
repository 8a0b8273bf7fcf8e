// SPDX-License-Identifier: Apache-2.0
// What a fennec_model handle is, and the conversions between the C API's plain structs and the
// C++ types. Internal to the C API's sources.
//
// The handle is placed (placement new, no heap) at the first FENNEC_ARENA_ALIGNMENT-aligned byte
// of the caller's buffer; the model's blocks follow it, so one size query covers both.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/fennec.h"
#include "fennec/loss.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/trainer.hpp"
#endif

struct fennec_model {
  // Tells a bound handle from stray memory passed as one.
  static constexpr std::uint32_t kMagic = 0x464E4D48u;  // "FNMH"
  std::uint32_t magic = kMagic;
  fennec::Model model;
#if !defined(FENNEC_INFERENCE_ONLY)
  // Created at bind for training models (it points at `model`, in the same buffer).
  fennec::Trainer trainer;
#endif
  fennec::Status last_error;
};

namespace fennec::c_api {

// Bytes the handle takes at the start of a buffer (the model's blocks start aligned after it).
inline constexpr std::size_t kHandleBytes = arena_round_up(sizeof(fennec_model));

inline fennec_status to_c(StatusCode code) { return static_cast<fennec_status>(code); }

// Null or stray handle: FENNEC_INVALID_ARGUMENT (nowhere to keep a message).
inline bool is_handle(const fennec_model* m) { return m != nullptr && m->magic == fennec_model::kMagic; }

// Keeps a failure's message in the handle; returns its code.
fennec_status record(fennec_model* m, const Status& s);
// Copies a failure into the caller's fennec_error (when not null); returns its code.
fennec_status report(fennec_error* error, const Status& s);

// C descriptions to C++ ones, checked as Model::bind checks them.
Result<ModelSpec> to_spec(const fennec_network* network);
Result<ModelOptions> to_options(const fennec_options* options);
void to_network(const ModelSpec& spec, fennec_network* network);
// Exactly one of `labels` (batch class indices) and `targets` (batch x output floats) given.
Result<Targets> to_targets(const Model& model, std::size_t batch, const std::int32_t* labels,
                           const float* targets);

// Makes the model in the arena that follows the handle: Model::bind, or a loader that binds and
// fills the parameters. `context` is the caller's (the file's bytes, its path).
struct Binder {
  Result<Model> (*make)(const void* context, const ModelSpec& spec, const ModelOptions& options,
                        Arena& arena);
  const void* context;
};

// Checks `options` (and the training part), checks `buffer` holds the handle and the plan of
// `spec`, runs `binder` over the arena after the handle, then places the handle (with its trainer
// for training models). Nothing is written to `*out` unless everything succeeded.
Status bind_handle(const ModelSpec& spec, const fennec_options* options, void* buffer,
                   std::size_t buffer_bytes, fennec_model** out, const Binder& binder);

// The buffer bytes bind_handle needs for `spec` and `options` from an aligned buffer.
std::size_t handle_arena_bytes(const ModelSpec& spec, const ModelOptions& options);

#if !defined(FENNEC_INFERENCE_ONLY)
// The trainer configuration a fennec_training describes, validated.
Result<TrainerConfig> to_trainer_config(const fennec_training* training);
#endif

}  // namespace fennec::c_api
