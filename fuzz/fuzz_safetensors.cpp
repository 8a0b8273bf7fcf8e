// SPDX-License-Identifier: Apache-2.0
// safetensors: validation, spec derivation (metadata activations and caller activations),
// load into the arena, run.
#include "fennec/safetensors.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fennec::Result<fennec::SafetensorsInfo> v = fennec::read_safetensors_info(data, size);
  fennec::SafetensorsImport from_metadata;
  from_metadata.check_finite = size % 2 == 0;
  fennec::Result<fennec::ModelSpec> spec = fennec::read_safetensors_spec(data, size, from_metadata);
  if (spec.is_ok() && !v.is_ok()) __builtin_trap();
  // Caller-supplied activations: as many as the file turns out to need (1..32).
  static const fennec::ActivationSpec acts[fennec::kMaxLayers] = {};
  fennec::SafetensorsImport given;
  given.activations = acts;
  given.num_activations = 1 + size % fennec::kMaxLayers;
  given.loss = fennec::Loss::kMse;
  for (const fennec::SafetensorsImport* imp : {&from_metadata, &given}) {
    fennec::Arena& a = fuzz::arena();
    fennec::Result<fennec::Model> m = fennec::load_safetensors(data, size, *imp, fuzz::inference(), a);
    if (m.is_ok()) {
      fuzz::run_once(m.value());
    } else if (a.used() != 0) {
      __builtin_trap();
    }
  }
  return 0;
}
