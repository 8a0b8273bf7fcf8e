// SPDX-License-Identifier: Apache-2.0
// QuantizedModel (fennec/quant.hpp): its arena layout, the check of every quantization
// parameter against the scheme, and integer inference through the int8 kernels.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/finite.hpp"
#include "fennec/quant.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec {
namespace {

bool quantizable(Activation a) {
  return a == Activation::kIdentity || a == Activation::kRelu || a == Activation::kLeakyRelu;
}

bool positive_finite(float s) { return detail::is_finite_bits(s) && s > 0.f; }
bool zero_point_ok(std::int32_t z) { return z >= -128 && z <= 127; }

}  // namespace

Status validate(const QuantOptions& o) {
  FENNEC_ENSURE(o.clip == ClipMethod::kMinMax || o.clip == ClipMethod::kPercentile, StatusCode::kInvalidArgument,
                "quantize: clip method %d out of range", static_cast<int>(o.clip));
  if (o.clip == ClipMethod::kPercentile) {
    FENNEC_ENSURE(detail::is_finite_bits(o.percentile) && o.percentile > 50.0 && o.percentile <= 100.0,
                  StatusCode::kInvalidArgument, "quantize: percentile %g outside (50, 100]", o.percentile);
    FENNEC_ENSURE(o.histogram_bins >= 16 && o.histogram_bins <= 65536, StatusCode::kInvalidArgument,
                  "quantize: histogram_bins %u outside [16, 65536]", static_cast<unsigned>(o.histogram_bins));
  }
  FENNEC_ENSURE(o.calibration_batch >= 1 && o.calibration_batch <= 1024, StatusCode::kInvalidArgument,
                "quantize: calibration_batch %u outside [1, 1024]", static_cast<unsigned>(o.calibration_batch));
  FENNEC_ENSURE(o.max_batch >= 1 && o.max_batch <= (std::size_t{1} << 20), StatusCode::kInvalidArgument,
                "quantize: max_batch %zu outside [1, 2^20]", o.max_batch);
  return Status::ok();
}

Result<QuantizedModel> QuantizedModel::allocate(const ModelSpec& spec, std::size_t max_batch, Isa isa, Arena& arena) {
  FENNEC_RETURN_IF_ERROR(validate(spec));
  FENNEC_ENSURE(max_batch >= 1 && max_batch <= (std::size_t{1} << 20), StatusCode::kInvalidArgument,
                "quantized model: max_batch %zu outside [1, 2^20]", max_batch);
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    FENNEC_ENSURE(quantizable(spec.layers[l].activation.kind), StatusCode::kUnsupported,
                  "quantized model: layer %zu's %s has no int8 form (identity, relu and leaky_relu do)", l,
                  activation_name(spec.layers[l].activation.kind));
    FENNEC_ENSURE(spec.fan_in(l) <= kQuantMaxFanIn, StatusCode::kUnsupported,
                  "quantized model: layer %zu's fan_in %u exceeds %zu (its int32 accumulator could overflow)", l,
                  static_cast<unsigned>(spec.fan_in(l)), kQuantMaxFanIn);
  }
  Result<Isa> resolved = resolve_isa(isa);
  if (!resolved) return resolved.status();
  FENNEC_ENSURE(kernels::row_in_build(kernels::RowScope::kInt8), StatusCode::kUnsupported,
                "quantized model: this build of Fennec has no int8 kernels (configured with FENNEC_INT8=OFF)");

  QuantizedModel m;
  m.spec_ = spec;
  m.plan_ = quantized_plan(spec, max_batch);
  m.max_batch_ = max_batch;
  m.isa_ = resolved.value();
  const Arena::Mark start = arena.mark();
  const auto fail = [&](const Status& s) -> Result<QuantizedModel> {
    arena.rewind(start);
    return s;
  };
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    QuantizedLayer& q = m.layers_[l];
    q.units = spec.layers[l].units;
    q.fan_in = spec.fan_in(l);
    q.activation = spec.layers[l].activation;
    // One block, the packed layout's size on x86-64 (quantized_packed_bytes), whichever layout
    // it holds; the packed layout's padding must read as zero.
    const std::size_t block = detail::kQPackPlanned ? detail::qpack_bytes(q.units, q.fan_in) : std::size_t{q.units} * q.fan_in;
    Result<std::uint8_t*> w = arena.allocate_array<std::uint8_t>(block, "int8 weights");
    if (!w) return fail(w.status());
    if (detail::kQPackPlanned && kernels::qgemm_reads_packed(m.isa_)) {
      q.packed = w.value();
      std::memset(q.packed, 0, block);
    } else {
      q.weights = reinterpret_cast<std::int8_t*>(w.value());
    }
    float** floats[] = {&q.weight_scale, &q.deq, &q.deq_neg};
    std::int32_t** ints[] = {&q.bias, &q.wsum, &q.mult, &q.shift, &q.mult_neg, &q.shift_neg};
    static_assert(sizeof(floats) / sizeof(floats[0]) + sizeof(ints) / sizeof(ints[0]) == kQuantChannelArrays,
                  "every per-channel array is planned");
    for (float** f : floats) {
      Result<float*> r = arena.allocate_array<float>(q.units, "quantization scales");
      if (!r) return fail(r.status());
      *f = r.value();
    }
    for (std::int32_t** p : ints) {
      Result<std::int32_t*> r = arena.allocate_array<std::int32_t>(q.units, "quantization parameters");
      if (!r) return fail(r.status());
      *p = r.value();
    }
  }
  for (std::int8_t*& b : m.buffers_) {
    Result<std::int8_t*> r = arena.allocate_array<std::int8_t>(max_batch * spec.max_width(), "int8 activations");
    if (!r) return fail(r.status());
    b = r.value();
  }
  Result<float*> logits = arena.allocate_array<float>(max_batch * spec.output(), "logits");
  if (!logits) return fail(logits.status());
  m.logits_ = logits.value();
  m.kernels_ = kernels::kernel_table_for(m.isa_);
  return m;
}

std::size_t QuantizedModel::weight_bytes() const {
  std::size_t n = 0;
  for (std::size_t l = 0; l < spec_.num_layers; ++l) n += std::size_t{layers_[l].units} * layers_[l].fan_in;
  return n;
}

Status QuantizedModel::check_parameters() const {
  const std::size_t last = spec_.num_layers - 1;
  for (std::size_t l = 0; l <= last; ++l) {
    const QuantizedLayer& q = layers_[l];
    FENNEC_ENSURE(positive_finite(q.in_scale), StatusCode::kCorruptData, "layer %zu: input scale %g is not positive and finite", l,
                  static_cast<double>(q.in_scale));
    FENNEC_ENSURE(zero_point_ok(q.in_zero_point), StatusCode::kCorruptData, "layer %zu: input zero point %d outside [-128, 127]",
                  l, static_cast<int>(q.in_zero_point));
    if (l < last) {
      const QuantizedLayer& next = layers_[l + 1];
      FENNEC_ENSURE(q.out_scale == next.in_scale && q.out_zero_point == next.in_zero_point, StatusCode::kCorruptData,
                    "layer %zu: output scale/zero point differ from layer %zu's input", l, l + 1);
      const std::int32_t lo = q.activation.kind == Activation::kRelu ? q.out_zero_point : -128;
      FENNEC_ENSURE(q.out_lo == lo, StatusCode::kCorruptData, "layer %zu: clamp floor %d, the activation needs %d", l,
                    static_cast<int>(q.out_lo), static_cast<int>(lo));
    }
    const std::int64_t headroom = INT32_MAX - static_cast<std::int64_t>(q.fan_in) * 127 * 128;
    for (std::size_t j = 0; j < q.units; ++j) {
      FENNEC_ENSURE(positive_finite(q.weight_scale[j]), StatusCode::kCorruptData,
                    "layer %zu unit %zu: weight scale %g is not positive and finite", l, j, static_cast<double>(q.weight_scale[j]));
      std::int64_t sum = 0;
      for (std::size_t k = 0; k < q.fan_in; ++k) {
        const std::int8_t w = q.weight(j, k);
        FENNEC_ENSURE(w != -128, StatusCode::kCorruptData, "layer %zu unit %zu: weight -128 (the range is [-127, 127])", l, j);
        sum += w;
      }
      FENNEC_ENSURE(sum == q.wsum[j], StatusCode::kCorruptData, "layer %zu unit %zu: weight sum %d, the weights add to %lld", l, j,
                    static_cast<int>(q.wsum[j]), static_cast<long long>(sum));
      FENNEC_ENSURE(q.bias[j] <= headroom && q.bias[j] >= -headroom, StatusCode::kCorruptData,
                    "layer %zu unit %zu: bias %d leaves no int32 headroom for fan_in %u", l, j, static_cast<int>(q.bias[j]),
                    static_cast<unsigned>(q.fan_in));
      FENNEC_ENSURE(detail::is_finite_bits(q.deq[j]) && detail::is_finite_bits(q.deq_neg[j]), StatusCode::kCorruptData,
                    "layer %zu unit %zu: dequantization scale is not finite", l, j);
      if (l < last) {
        FENNEC_ENSURE(q.mult[j] >= 0 && q.mult_neg[j] >= 0, StatusCode::kCorruptData,
                      "layer %zu unit %zu: negative requantization multiplier", l, j);
        FENNEC_ENSURE(q.shift[j] >= kRequantMinShift && q.shift[j] <= kRequantMaxShift && q.shift_neg[j] >= kRequantMinShift &&
                          q.shift_neg[j] <= kRequantMaxShift,
                      StatusCode::kCorruptData, "layer %zu unit %zu: shift %d/%d outside [%d, %d]", l, j, static_cast<int>(q.shift[j]),
                      static_cast<int>(q.shift_neg[j]), static_cast<int>(kRequantMinShift), static_cast<int>(kRequantMaxShift));
      }
    }
  }
  return Status::ok();
}

Result<ConstMatrixView> QuantizedModel::forward(ConstMatrixView x) {
  FENNEC_ENSURE(kernels_ != nullptr, StatusCode::kFailedPrecondition, "quantized forward: model is not bound");
  FENNEC_ENSURE(x.data != nullptr && x.cols == spec_.input && x.stride >= x.cols, StatusCode::kShapeMismatch,
                "quantized forward: x is %zu x %zu, expected batch x %u", x.rows, x.cols, static_cast<unsigned>(spec_.input));
  FENNEC_ENSURE(x.rows >= 1 && x.rows <= max_batch_, StatusCode::kShapeMismatch,
                "quantized forward: batch %zu outside [1, %zu]", x.rows, max_batch_);
  const std::size_t batch = x.rows;
  kernels::QuantizeArgs qa;
  qa.rows = batch;
  qa.cols = spec_.input;
  qa.x = x.data;
  qa.ldx = x.stride;
  qa.inv_scale = 1.f / layers_[0].in_scale;
  qa.zero_point = layers_[0].in_zero_point;
  qa.y = buffers_[0];
  qa.ldy = spec_.input;
  // The kernel checks finiteness in the same pass; only a failure looks for the element.
  if (!kernels_->quantize_s8(qa)) {
    const std::size_t bad = detail::first_non_finite(x.data, x.rows, x.cols, x.stride);
    return Status::error(StatusCode::kNonFinite, "quantized forward: input row %zu column %zu is NaN or Inf", bad / x.cols,
                  bad % x.cols);
  }
  const kernels::QGemmFn fn = batch == 1 ? kernels_->qgemv_s8 : kernels_->qgemm_nt_s8;
  const std::size_t last = spec_.num_layers - 1;
  for (std::size_t l = 0; l <= last; ++l) {
    const QuantizedLayer& q = layers_[l];
    kernels::QGemmArgs g;
    g.m = batch;
    g.n = q.units;
    g.k = q.fan_in;
    g.x = buffers_[l % 2];
    g.ldx = q.fan_in;
    g.w = q.weights;
    g.ldw = q.fan_in;
    g.wpack = q.packed;
    g.bias = q.bias;
    g.wsum = q.wsum;
    g.mult = q.mult;
    g.shift = q.shift;
    g.mult_neg = q.mult_neg;
    g.shift_neg = q.shift_neg;
    if (l == last) {
      g.deq = q.deq;
      g.deq_neg = q.deq_neg;
      g.yf = logits_;
      g.ldyf = q.units;
    } else {
      g.out_zero_point = q.out_zero_point;
      g.out_lo = q.out_lo;
      g.y = buffers_[(l + 1) % 2];
      g.ldy = q.units;
    }
    fn(g);
  }
  return ConstMatrixView(logits_, batch, spec_.output());
}

}  // namespace fennec
