// SPDX-License-Identifier: Apache-2.0
// Post-training int8 quantization: quantize(model, calibration) -> QuantizedModel, and integer
// inference with it. The scheme (docs/quantization.md has the derivations):
//
// Weights   int8, symmetric, one scale per output unit (per channel), zero point 0:
//           s_w[j] = max_k |W[j][k]| / 127 (1 for an all-zero row), q = clamp(round(W / s_w),
//           -127, 127). -128 is never used, so the weight range is symmetric.
// Activations  int8 with one scale s_x and zero point z_x in [-128, 127] per layer input, fixed
//           at calibration from the f32 network's values (min/max, or the percentile clip): the
//           range is widened to contain 0, s_x = (hi - lo) / 255, z_x = round(-128 - lo / s_x).
//           A ReLU layer's output range [0, hi] gives z = -128 (all 256 codes non-negative).
//           Tables whose instruction multiplies unsigned by signed bytes (AVX-512 VNNI vpdpbusd)
//           add 128 to the stored int8 activation on the fly and subtract 128 * sum_k q_w[j][k]
//           (wsum[j], stored per channel) from the accumulator; memory holds int8 only.
// Bias      int32 at scale s_x * s_w[j], with the input zero point folded in:
//           bias[j] = round(b[j] / (s_x * s_w[j])) - z_x * wsum[j], so the accumulator is
//           acc[j] = bias[j] + sum_k q_w[j][k] * q_x[k], exactly (s_x * s_w[j]) ^ -1 times the
//           real pre-activation up to the rounding of the weights, inputs and bias.
//           quantize() and the loader refuse a layer whose accumulator could leave int32
//           (|bias| + fan_in * 127 * 128 > 2^31 - 1): kUnsupported.
// Requantization  integer only. The real multiplier M[j] = s_x * s_w[j] / s_y (s_y, z_y: the
//           next layer's input scale and zero point) is held as (mult, shift) with
//           mult in [0, 2^31 - 1] and shift in [kRequantMinShift, kRequantMaxShift], and
//           requantize(acc) = (int64(acc) * mult + 2^(shift - 1)) >> shift, an arithmetic
//           (flooring) shift: round half towards +infinity, defined for every int32 acc
//           (|acc * mult| < 2^62, so the sum cannot overflow int64).
//           q_y[j] = clamp(z_y + requantize(acc[j]), lo, 127).
// Activations run quantized:
//           identity   lo = -128, one (mult, shift) per channel.
//           ReLU       folded into the clamp: lo = z_y (relu(y) >= 0 <=> q_y >= z_y).
//           LeakyReLU  in int32: a negative acc is requantized with a second multiplier
//                      (mult_neg, shift_neg) for alpha * M[j]; lo = -128.
//           sigmoid, tanh  not quantized: quantize() refuses them with kUnsupported (a lookup
//                      table is future work); keep such a network in f32.
// Last layer  its int32 accumulators are dequantized to f32 logits,
//           y[j] = float(acc[j]) * (acc[j] >= 0 ? deq[j] : deq_neg[j]), deq[j] = f32(s_x * s_w[j])
//           and deq_neg[j] = alpha * deq[j] for LeakyReLU (0 for ReLU): softmax and argmax stay f32.
// The network input is quantized by the model itself: v = x * f32(1 / s_x) in f32, then
// q = clamp(z_x + round(v), -128, 127) with round half away from zero (exact on the f32 v).
//
// Because everything after the input quantization is integer arithmetic (plus one exactly
// rounded int->float conversion and one f32 multiply per logit), every kernel table gives
// bit-identical logits for the same model and input.
//
// Memory: quantize() takes exactly quantized_plan(spec, max_batch).total() bytes of the arena it
// is given for the model, plus calibration_scratch_bytes(spec, options) above them while it
// runs (statistics, f32 activations, GEMM scratch), released before it returns. Nothing touches
// the heap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/detail/gemm_blocking.hpp"
#include "fennec/detail/qpack_layout.hpp"
#include "fennec/isa.hpp"
#include "fennec/model.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

namespace kernels {
struct KernelTable;
}

inline constexpr std::int32_t kQuantWeightMax = 127;
inline constexpr std::int32_t kRequantMinShift = 1;
inline constexpr std::int32_t kRequantMaxShift = 62;
// Largest fan_in whose accumulator fits int32 with a zero bias (fan_in * 127 * 128 < 2^31).
inline constexpr std::size_t kQuantMaxFanIn = 132104;

// How calibration picks each activation range.
enum class ClipMethod : int {
  kMinMax = 0,      // the observed minimum and maximum
  kPercentile = 1,  // the [100 - p, p] percentiles of a histogram over the observed range
};

struct QuantOptions {
  ClipMethod clip = ClipMethod::kMinMax;
  // kPercentile: p in (50, 100]; histogram bins per layer input in [16, 65536].
  double percentile = 99.99;
  std::uint32_t histogram_bins = 2048;
  // Rows the calibration forward pass runs at once (1 .. 1024).
  std::uint32_t calibration_batch = 64;
  // Largest batch the quantized model's forward() takes (1 .. 2^20), and its kernel table.
  std::size_t max_batch = 1;
  Isa isa = Isa::kAuto;
};

// The quantization parameters of one channel set per layer (per output unit j), in the arena.
// Every pointer covers `units` entries.
struct QuantizedLayer {
  std::uint32_t units = 0;
  std::uint32_t fan_in = 0;
  ActivationSpec activation{};
  float in_scale = 1.f;             // s_x of this layer's input
  std::int32_t in_zero_point = 0;   // z_x
  float out_scale = 1.f;            // s_y (the next layer's s_x); unused by the last layer
  std::int32_t out_zero_point = 0;  // z_y
  std::int32_t out_lo = -128;       // clamp floor (z_y for ReLU)
  // The weights (units x fan_in) are held once, in the layout the model's kernel table reads:
  // `weights` row-major, or (the AVX-512 VNNI table; NEON64 in a dot-product build) `packed`
  // (fennec/detail/qpack_layout.hpp: panels of 16 units by 4-byte groups of k, zero padding,
  // each byte w ^ 0x80 on x86-64 and w on AArch64). The other pointer is null. weight() and set_weight() read and write either layout.
  std::int8_t* weights = nullptr;
  std::uint8_t* packed = nullptr;
  float* weight_scale = nullptr;    // s_w[j]
  std::int32_t* bias = nullptr;     // zero point folded in (see the scheme)
  std::int32_t* wsum = nullptr;     // sum_k weights[j][k]
  std::int32_t* mult = nullptr;     // requantization of acc >= 0
  std::int32_t* shift = nullptr;
  std::int32_t* mult_neg = nullptr;  // of acc < 0 (equal to mult/shift unless LeakyReLU)
  std::int32_t* shift_neg = nullptr;
  float* deq = nullptr;      // last layer: f32 logit per unit of acc >= 0
  float* deq_neg = nullptr;  // and of acc < 0

  // Weight (j, k), j < units, k < fan_in, in whichever layout the layer holds.
  std::int8_t weight(std::size_t j, std::size_t k) const {
    if (weights) return weights[j * fan_in + k];
    return static_cast<std::int8_t>(packed[detail::qpack_index(j, k, fan_in)] ^ detail::kQPackByteOffset);
  }
  void set_weight(std::size_t j, std::size_t k, std::int8_t v) {
    if (weights) {
      weights[j * fan_in + k] = v;
    } else {
      packed[detail::qpack_index(j, k, fan_in)] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(v) ^ detail::kQPackByteOffset);
    }
  }
};

// Per-channel arrays of a quantized layer: weight_scale, bias, wsum, mult, shift, mult_neg,
// shift_neg, deq, deq_neg (4 bytes each).
inline constexpr std::size_t kQuantChannelArrays = 9;

constexpr std::size_t quantized_layer_bytes(std::size_t units, std::size_t fan_in) {
  return arena_round_up(units * fan_in) + kQuantChannelArrays * arena_round_up(units * 4);
}

// x86-64 and AArch64 builds give each layer's weights the packed layout's block (units rounded
// up to 16 and fan_in to 4), which holds them row-major or packed, whichever the model's table
// reads: the plan depends on neither the CPU nor the dot-product flag. These are the bytes the block adds to the row-major weights of
// quantized_layer_bytes (0 when units % 16 == 0 and fan_in % 4 == 0); other builds add none.
constexpr std::size_t quantized_packed_bytes(std::size_t units, std::size_t fan_in) {
  return detail::kQPackPlanned ? arena_round_up(detail::qpack_bytes(units, fan_in)) - arena_round_up(units * fan_in) : 0;
}
struct QuantizedPlan {
  std::size_t parameters = 0;   // int8 weights and per-channel arrays of every layer
  std::size_t packed = 0;       // the packed layout's padding of every layer (quantized_packed_bytes)
  std::size_t activations = 0;  // two int8 ping-pong buffers and the f32 logits
  constexpr std::size_t total() const { return parameters + packed + activations; }
};

// Exact arena bytes of a quantized model of `spec` taking batches up to max_batch (assumes
// validate(spec) passes; quantize() and the loader check it).
constexpr QuantizedPlan quantized_plan(const ModelSpec& spec, std::size_t max_batch) {
  QuantizedPlan p;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    p.parameters += quantized_layer_bytes(spec.layers[i].units, spec.fan_in(i));
    p.packed += quantized_packed_bytes(spec.layers[i].units, spec.fan_in(i));
  }
  p.activations = 2 * arena_round_up(max_batch * spec.max_width()) + arena_round_up(max_batch * spec.output() * sizeof(float));
  return p;
}

// Bytes quantize() needs above the quantized model while it runs: per layer input a min/max
// pair (and a histogram for kPercentile), two f32 activation buffers and the GEMM scratch of
// the calibration forward pass. Assumes valid options.
constexpr std::size_t calibration_scratch_bytes(const ModelSpec& spec, const QuantOptions& options) {
  const std::size_t batch = options.calibration_batch;
  std::size_t gemm = 0;
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const std::size_t s = gemm_scratch_floats(batch, spec.layers[i].units, spec.fan_in(i));
    gemm = s > gemm ? s : gemm;
  }
  const std::size_t hist = options.clip == ClipMethod::kPercentile ? options.histogram_bins : 0;
  return arena_round_up(spec.num_layers * 2 * sizeof(double)) +
         arena_round_up(spec.num_layers * hist * sizeof(std::uint32_t)) +
         2 * arena_round_up(batch * spec.max_width() * sizeof(float)) + arena_round_up(gemm * sizeof(float));
}

// Ranges in options: clip in range, percentile in (50, 100], bins in [16, 65536], calibration
// batch in [1, 1024], max_batch in [1, 2^20]. kInvalidArgument otherwise.
Status validate(const QuantOptions& options);

class QuantizedModel {
 public:
  QuantizedModel() = default;
  // Move-only, for Model's reason: a copy would be a second owner of the same arena blocks. A
  // moved-from QuantizedModel is unbound. (The move is Model's: the private trivial copy, then
  // the source's kernels cleared.)
  QuantizedModel(QuantizedModel&& other) noexcept : QuantizedModel(static_cast<const QuantizedModel&>(other)) {
    other.kernels_ = nullptr;
  }
  QuantizedModel& operator=(QuantizedModel&& other) noexcept {
    if (this != &other) {
      *this = static_cast<const QuantizedModel&>(other);
      other.kernels_ = nullptr;
    }
    return *this;
  }
  // Run the int8 network on x (batch x input f32, 1 <= batch <= max_batch, finite: kNonFinite
  // otherwise). The returned f32 logits live in the arena until the next call.
  Result<ConstMatrixView> forward(ConstMatrixView x);

  const ModelSpec& spec() const { return spec_; }
  const QuantizedPlan& memory_plan() const { return plan_; }
  std::size_t max_batch() const { return max_batch_; }
  std::size_t num_layers() const { return spec_.num_layers; }
  const QuantizedLayer& layer(std::size_t i) const { return layers_[i]; }
  Isa isa() const { return isa_; }
  bool is_bound() const { return kernels_ != nullptr; }
  // Bytes of the int8 weights alone (no padding, no per-channel arrays).
  std::size_t weight_bytes() const;

  // Internal: take quantized_plan(spec, max_batch).total() bytes from the arena for a model
  // whose parameters the caller then fills (quantize() and the loader). The arena is rewound on
  // failure.
  static Result<QuantizedModel> allocate(const ModelSpec& spec, std::size_t max_batch, Isa isa, Arena& arena);
  QuantizedLayer& mutable_layer(std::size_t i) { return layers_[i]; }
  // Internal: checks every per-channel field (shifts, multipliers, zero points, clamp floors,
  // scales, accumulator bound) against the scheme; kCorruptData with the first bad field.
  Status check_parameters() const;

 private:
  // Trivial, and private so that only the moves use them.
  QuantizedModel(const QuantizedModel&) = default;
  QuantizedModel& operator=(const QuantizedModel&) = default;

  ModelSpec spec_{};
  QuantizedPlan plan_{};
  std::size_t max_batch_ = 0;
  Isa isa_ = Isa::kRef;
  const kernels::KernelTable* kernels_ = nullptr;  // set by bind; null: unbound (a move leaves it null)
  QuantizedLayer layers_[kMaxLayers] = {};
  std::int8_t* buffers_[2] = {nullptr, nullptr};
  float* logits_ = nullptr;
};

// Quantize a bound f32 model (any mode) with `calibration` (samples x input f32, at least one
// row, finite) per the scheme above. The quantized model lives in `arena` (exactly
// quantized_plan(model.spec(), options.max_batch).total() bytes); calibration_scratch_bytes()
// more must be free while it runs. Errors: kFailedPrecondition (unbound model), kShapeMismatch
// (calibration width), kInvalidArgument (options, empty calibration), kNonFinite (calibration
// data), kUnsupported (sigmoid/tanh layers, fan_in above kQuantMaxFanIn, a bias or multiplier
// out of the scheme's range), kOutOfMemory. A failed call leaves the arena as it was; the f32
// model's parameters are only read (its activation buffers are not touched).
Result<QuantizedModel> quantize(const Model& model, ConstMatrixView calibration, const QuantOptions& options,
                                Arena& arena);

}  // namespace fennec
