// SPDX-License-Identifier: Apache-2.0
// How a PyTorch nn.Sequential of Linear (and BatchNorm1d) modules maps onto a Fennec network, in
// both directions, for the importers (safetensors_load.cpp, safetensors_stream.cpp) and the
// exporter (safetensors_save.cpp): which tensor is which layer's weight, bias or batch-norm
// tensor, the ModelSpec a file describes, where each tensor goes in a bound model, and the names
// an export gives them. The rules themselves are in include/fennec/safetensors.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/model.hpp"
#include "fennec/safetensors.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "io/safetensors_format.hpp"

namespace fennec::io_detail {

// What a tensor name ends in.
enum Part : int { kUnknownPart = -1, kWeight, kBias, kRunningMean, kRunningVar, kBatchesTracked };
inline constexpr int kPartCount = 5;
inline constexpr const char* kPartNames[kPartCount] = {"weight", "bias", "running_mean", "running_var",
                                                       "num_batches_tracked"};

// A BatchNorm1d module: the entry index of each of its tensors (-1: absent).
struct BatchNormModule {
  std::uint32_t index = 0;
  int part[kPartCount] = {-1, -1, -1, -1, -1};
};

struct Layer {
  std::uint32_t index = 0;
  int weight = -1, bias = -1;  // entry indices
  int bn = -1;                 // the BatchNorm1d module after it (Mapping::bn), -1: none
};

// The header's tensors as Fennec layers, in Sequential order.
struct Mapping {
  Layer layers[kMaxLayers];
  std::size_t count = 0;
  BatchNormModule bn[kMaxLayers];
  std::size_t bn_count = 0;
  // Whether entry t is a num_batches_tracked counter (not a float parameter).
  bool is_counter(std::size_t t) const {
    for (std::size_t k = 0; k < bn_count; ++k)
      if (bn[k].part[kBatchesTracked] == static_cast<int>(t)) return true;
    return false;
  }
};

// Names, dtypes and shapes of the header's tensors against the nn.Sequential rules.
Status map_layers(const Header& h, const SafetensorsImport& import, Mapping& m);
// The network the mapped file holds (activations, loss and layer options from `import` or the
// file's metadata), validated.
Status build_spec(const Header& h, const Mapping& m, const SafetensorsImport& import, ModelSpec* out);
// kShapeMismatch unless the model has the file's widths and batch norm exactly where the file has
// BatchNorm1d modules (activations are the caller's business once bound).
Status check_model_matches(const Header& h, const Mapping& m, const ModelSpec& spec);

// ---- Fennec's __metadata__ values (safetensors_metadata.cpp) ----
// fennec.activations: one activation per Linear.
Status parse_activation_metadata(JsonSlice s, ActivationSpec* out, std::size_t count);
// fennec.loss: true and *loss set when the value names a loss.
bool parse_loss_metadata(JsonSlice s, Loss* loss);
// Batch-norm eps/momentum and dropout of each layer into `spec`: the file's fennec.batchnorm and
// fennec.dropout metadata, else the import's defaults for BatchNorm1d and no dropout.
Status parse_layer_options(const Header& h, const Mapping& m, const SafetensorsImport& import,
                           ModelSpec& spec);
// The __metadata__ an export writes: format, activations, loss, and the layer options of a
// network that has them.
Status write_metadata(const ModelSpec& spec, HeaderWriter& out);

// ---- where the tensors go ----
// Where one tensor's values sit: all a load needs of it once the header's text is gone.
struct TensorRef {
  std::uint64_t offset = 0;  // of its first byte, from the `base` given to make_layout
  int dtype = -1;            // -1: absent (a missing bias, affine=False)
};

struct LayerTensors {
  TensorRef weight, bias;
  TensorRef bn[kPartCount];    // by Part; all absent for a layer without batch norm
  std::uint32_t bn_module = 0;  // the BatchNorm1d module's Sequential index
};

struct LoadLayout {
  LayerTensors layers[kMaxLayers];
  std::size_t count = 0;
};

// The mapped tensors by Fennec layer, offsets counted from `base` bytes before the data section.
void make_layout(const Header& h, const Mapping& m, std::uint64_t base, LoadLayout* out);

// A float tensor's place in a bound model.
struct Target {
  float* data;
  std::size_t rows, cols, stride;
  std::size_t layer;
  // kWeight or kBias of the Linear (bn false) or of its BatchNorm1d module (bn true), or
  // kRunningMean, kRunningVar.
  int part;
  bool bn;
  const char* what;  // for messages: "weight", "batch-norm bias", "running_var"...
};

// Writes the layout's float tensors into the bound model in file order, per layer: weight, bias,
// then batch-norm weight, bias, running mean and running variance, each through
// `Status copy(const TensorRef&, const Target&)`; stops at the first error. A missing bias is
// zeros and a BatchNorm1d module without weight and bias (affine=False) is the identity (gamma
// 1, beta 0). num_batches_tracked is the caller's: it is a count, not a float.
template <class Copy>
Status fill_parameters(const LoadLayout& layout, Model& model, Copy&& copy) {
  for (std::size_t i = 0; i < layout.count; ++i) {
    const LayerTensors& t = layout.layers[i];
    const MatrixView w = model.weights(i);
    FENNEC_RETURN_IF_ERROR(copy(t.weight, Target{w.data, w.rows, w.cols, w.stride, i, kWeight, false, "weight"}));
    const VectorView b = model.bias(i);
    if (t.bias.dtype >= 0) {
      FENNEC_RETURN_IF_ERROR(copy(t.bias, Target{b.data, 1, b.size, b.size, i, kBias, false, "bias"}));
    } else {
      for (std::size_t k = 0; k < b.size; ++k) b.data[k] = 0.f;
    }
    if (!model.spec().layers[i].batchnorm.enabled) continue;
    const VectorView g = model.bn_gamma(i), be = model.bn_beta(i);
    const VectorView mean = model.bn_running_mean(i), var = model.bn_running_var(i);
    if (t.bn[kWeight].dtype >= 0) {
      FENNEC_RETURN_IF_ERROR(
          copy(t.bn[kWeight], Target{g.data, 1, g.size, g.size, i, kWeight, true, "batch-norm weight"}));
      FENNEC_RETURN_IF_ERROR(
          copy(t.bn[kBias], Target{be.data, 1, be.size, be.size, i, kBias, true, "batch-norm bias"}));
    } else {  // affine=False: the identity scale and shift
      for (std::size_t k = 0; k < g.size; ++k) g.data[k] = 1.f;
      for (std::size_t k = 0; k < be.size; ++k) be.data[k] = 0.f;
    }
    FENNEC_RETURN_IF_ERROR(copy(t.bn[kRunningMean],
                                Target{mean.data, 1, mean.size, mean.size, i, kRunningMean, true, "running_mean"}));
    FENNEC_RETURN_IF_ERROR(copy(t.bn[kRunningVar],
                                Target{var.data, 1, var.size, var.size, i, kRunningVar, true, "running_var"}));
  }
  return Status::ok();
}

// ---- batch-norm values ----
// num_batches_tracked as a count: I64 (PyTorch) or a float holding a non-negative integer
// (writers that store every tensor as F32).
Status decode_counter(const unsigned char* p, int dtype, const char* prefix, std::uint32_t index,
                      std::uint64_t* out);
// Fennec keeps one count for the model; PyTorch one per module (equal when trained together).
Status merge_counter(std::uint64_t value, bool* seen, std::uint64_t* count, const char* prefix,
                     std::uint32_t index);
// Element k of module `index`'s running variance.
Status check_running_var(float v, const char* prefix, std::uint32_t index, std::size_t k);

// ---- export naming ----
// Declares the model's tensors to `out` with their nn.Sequential names, in the order of the
// data: per layer its Linear, then its BatchNorm1d module.
Status write_tensor_entries(const ModelSpec& spec, HeaderWriter& out);

}  // namespace fennec::io_detail
