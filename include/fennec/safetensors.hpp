// SPDX-License-Identifier: Apache-2.0
// safetensors import and export for MLPs shaped like a PyTorch nn.Sequential of nn.Linear layers
// (with activation modules in between, which hold no tensors):
//
//   nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
//   -> "0.weight" (512, 784), "0.bias" (512), "2.weight" (256, 512), "2.bias", "4.weight", "4.bias"
//
// Format (https://github.com/huggingface/safetensors): u64 little-endian header length N, N bytes
// of UTF-8 JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}},
// then the data; offsets are relative to the end of the header.
//
// The reader validates as safetensors' own Metadata::validate does, without heap (the JSON is
// parsed in place): N <= 100,000,000 and 8 + N <= file size; the header starts with '{', is
// UTF-8 and strict JSON; known dtypes; element and byte counts computed with overflow checks;
// data_offsets sorted form one contiguous run from 0 (no overlap, no hole, begin <= end) whose
// sizes equal shape x dtype size, and whose end is exactly the end of the file (no trailing
// bytes). Fennec is stricter in three places: duplicate keys are rejected (serde keeps the last),
// nesting is limited to 64 levels, and more than kSafetensorsMaxTensors tensors or rank above
// kSafetensorsMaxRank is kUnsupported. Zero-sized dims validate (as in safetensors) but cannot
// become a Fennec layer.
//
// Import then maps names "<i>.weight" (rank 2, (out, in)) and "<i>.bias" (rank 1, (out)) to
// layers in increasing i (other names: SafetensorsImport::prefix and layer_names); a missing
// bias (nn.Linear(bias=False)) loads as zeros; any other name, a dtype other than
// F32/F16/BF16/F64, a bias length != rows or a break in the in/out chain is an error. F64 tensors
// (model.double()) are rounded to the nearest float: Fennec computes in float32, so the loaded
// model agrees with the float64 one to float precision (about 7 significant digits), not bit for
// bit; a finite F64 value beyond float's range is refused. Data may sit at any alignment: values
// are decoded byte-wise into the arena.
//
// BatchNorm1d (Fennec's dense(...).batchnorm(), docs/layers.md): a module index with running
// statistics is a BatchNorm1d module, and it belongs to the nearest Linear before it (lower
// index, no other Linear in between):
//
//   nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 3))
//   -> "0.weight" "0.bias" "1.weight" "1.bias" "1.running_mean" "1.running_var"
//      "1.num_batches_tracked" "4.weight" "4.bias"
//
// Its weight and bias are gamma and beta (rank 1, the Linear's out features; both absent, as
// BatchNorm1d(affine=False) writes, load as gamma 1, beta 0); running_mean and running_var are
// required (same shape; a negative or non-finite variance is kCorruptData); num_batches_tracked
// is optional, shape [] or [1], I64 or an F32/F64 holding a non-negative whole number, and sets
// Model::batches_tracked() (one count per model: modules with different counts are refused).
// BatchNorm1d before any Linear, two after one Linear, an unknown tensor name of a BatchNorm1d
// module, missing running statistics, wrong shapes or dtypes are errors, and nothing is written.
// BatchNorm1d modules map by Sequential index only (with `prefix`, not with `layer_names`).
// eps and momentum are not in a state_dict: they come from the "fennec.batchnorm" metadata (one
// item per Linear: "-" for none, else "EPS:MOMENTUM", e.g. "1e-05:0.1,-"), else from
// SafetensorsImport::batchnorm_eps / batchnorm_momentum (PyTorch's defaults). Dropout modules
// hold no tensors; their probability comes from "fennec.dropout" (one per Linear, "0" for none,
// e.g. "0.2,0"), else 0 (it only matters to training after the import).
//
// Export writes F32 tensors named as above: the Sequential index follows PyTorch's module order
// Linear, BatchNorm1d (when the layer has batch norm), the activation (when not identity),
// Dropout (when p > 0); num_batches_tracked is I64 of shape [], as PyTorch's. The header is
// padded with spaces to a multiple of 8, and __metadata__ is {"format": "pt",
// "fennec.activations": "relu,relu,identity", "fennec.loss": "softmax_cross_entropy"}, plus
// "fennec.batchnorm" and "fennec.dropout" only for a network that has them (plain exports are
// unchanged); import reads the activations and loss keys when the caller gives no activations.
// PyTorch's load_state_dict(strict=True) of the matching nn.Sequential takes the file's tensors.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/activation.hpp"
#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"

namespace fennec {

inline constexpr std::uint64_t kSafetensorsMaxHeader = 100000000;
// Every layer with batch norm: weight, bias and the module's five tensors. The reader's table of
// them lives on the stack (64 bytes a tensor, about 14 KiB).
inline constexpr std::size_t kSafetensorsMaxTensors = 7 * kMaxLayers;
inline constexpr std::size_t kSafetensorsMaxRank = 8;

// What a valid safetensors file holds, before any Fennec mapping.
struct SafetensorsInfo {
  std::size_t tensors = 0;        // entries of the header, __metadata__ not counted
  std::uint64_t header_bytes = 0;  // the JSON header (the 8-byte length field's value)
  std::uint64_t data_bytes = 0;    // the data section after it
};

// Validates a whole safetensors file (see above) and describes it.
[[nodiscard]] Result<SafetensorsInfo> read_safetensors_info(const void* data, std::size_t size);

struct SafetensorsImport {
  // One activation per Linear layer, in order. nullptr: take them from the file's
  // "fennec.activations" metadata (kInvalidArgument when absent).
  const ActivationSpec* activations = nullptr;
  std::size_t num_activations = 0;
  // Loss of the resulting spec. When `activations` is nullptr and the file has "fennec.loss",
  // that one is used instead.
  Loss loss = Loss::kSoftmaxCrossEntropy;
  // Reject NaN/Inf parameters (after conversion to f32) with kNonFinite.
  bool check_finite = false;
  // Names other than an nn.Sequential's. `prefix` (e.g. "layers." for a wrapper module holding
  // an nn.Sequential as self.layers, or "model.") is stripped from every tensor name first; every
  // tensor must carry it. `layer_names` (e.g. {"fc1", "fc2", "fc3"} for a custom module with
  // self.fc1 ... self.fc3) lists the Linear layers in order: tensors are then
  // "<prefix><name>.weight" / ".bias" and each listed name needs its weight. Strings are the
  // caller's and must outlive the call.
  const char* prefix = nullptr;
  const char* const* layer_names = nullptr;
  std::size_t num_layer_names = 0;
  // BatchNorm1d eps and momentum (not in a state_dict): used for every BatchNorm1d module when
  // the file has no "fennec.batchnorm" metadata or options_from_metadata is false. The defaults
  // are PyTorch's.
  float batchnorm_eps = 1e-5f;
  float batchnorm_momentum = 0.1f;
  // Read batch-norm eps/momentum and dropout probabilities from "fennec.batchnorm" and
  // "fennec.dropout" when the file has them (Fennec's exports do). false: the fields above, and
  // no dropout.
  bool options_from_metadata = true;
};

// Validates the file and derives the network it holds.
[[nodiscard]] Result<ModelSpec> read_safetensors_spec(const void* data, std::size_t size,
                                                      const SafetensorsImport& import);
// Validates the file and copies (converting to f32) its tensors into `model`, already bound,
// whose network must be the one read_safetensors_spec derives. Nothing is written unless every
// check passes.
[[nodiscard]] Status restore_safetensors_parameters(const void* data, std::size_t size, Model& model,
                                                    const SafetensorsImport& import);
// read spec -> check the arena can hold the parameters -> bind -> load. Rewinds on failure.
[[nodiscard]] Result<Model> load_safetensors(const void* data, std::size_t size,
                                             const SafetensorsImport& import,
                                             const ModelOptions& options, Arena& arena);

// Random-access input (a file through pread, a flash partition...): read_at fills data[0..size)
// from byte `offset` and sets *got to the bytes delivered, fewer only past the end of the input.
struct RandomReader {
  Status (*read_at)(void* context, std::uint64_t offset, void* data, std::size_t size,
                    std::size_t* got) = nullptr;
  void* context = nullptr;
  std::uint64_t size = 0;  // bytes in the input when the load starts
};

// load_safetensors without the file in memory: the JSON header is read into the arena's free
// space and released before binding (so the arena must hold the larger of the header and the
// plan), then the tensors are decoded a 16 KiB chunk at a time into the bound parameters. Input
// that ends early (a file truncated while it is read) is kCorruptData; the arena is rewound on
// any failure. import.check_finite is checked on the converted values.
[[nodiscard]] Result<Model> load_safetensors(const RandomReader& in, const SafetensorsImport& import,
                                             const ModelOptions& options, Arena& arena);
// The spec only, the header read through `scratch` (kOutOfMemory, naming the size, when the
// header does not fit).
[[nodiscard]] Result<ModelSpec> read_safetensors_spec(const RandomReader& in,
                                                      const SafetensorsImport& import, void* scratch,
                                                      std::size_t scratch_bytes);

// Writes `model` as F32 safetensors (kNonFinite, nothing written, for NaN/Inf parameters).
[[nodiscard]] Status save_safetensors(const Model& model, ByteWriter& out);
// Size save_safetensors writes for `model`.
std::uint64_t safetensors_file_size(const Model& model);

// IEEE half and bfloat16 to float (exact; NaN payloads kept as quiet NaNs).
float f16_to_f32(std::uint16_t h);
float bf16_to_f32(std::uint16_t b);

// The names before 0.2.0; they forward to the ones above and will be removed in 0.3.0.
[[deprecated("use read_safetensors_info")]] [[nodiscard]] inline Result<std::size_t> validate_safetensors(
    const void* data, std::size_t size) {
  Result<SafetensorsInfo> info = read_safetensors_info(data, size);
  if (!info.is_ok()) return info.status();
  return info.value().tensors;
}
[[deprecated("use restore_safetensors_parameters")]] [[nodiscard]] inline Status load_safetensors_parameters(
    const void* data, std::size_t size, Model& model, const SafetensorsImport& import) {
  return restore_safetensors_parameters(data, size, model, import);
}

}  // namespace fennec
