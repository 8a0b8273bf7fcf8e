// SPDX-License-Identifier: Apache-2.0
// quantize() (fennec/quant.hpp): calibrates every layer input's range on the f32 network, then
// derives the int8 weights, int32 biases and fixed-point requantization of the scheme.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/finite.hpp"
#include "core/gemm_call.hpp"
#include "fennec/quant.hpp"
#include "core/model_internals.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec {
namespace {

struct Range {
  double lo, hi;
};

// Scratch of one calibration run, in the arena above the quantized model.
struct Calibration {
  Range* ranges = nullptr;       // per layer input
  std::uint32_t* hist = nullptr;  // per layer input, bins each (kPercentile)
  std::uint64_t* counts = nullptr;
  float* buf[2] = {nullptr, nullptr};
  float* gemm = nullptr;
  std::size_t gemm_floats = 0;
};

// Runs the f32 network on the calibration rows batch by batch and hands each layer's input
// (rows x width) to `visit(layer, view)`; the last layer's output is not needed.
template <class Visit>
void run_calibration(const Model& model, ConstMatrixView data, std::size_t batch, Calibration& c, Visit visit) {
  const ModelSpec& spec = model.spec();
  const kernels::KernelTable& k = detail::ModelInternals::kernel_table(model);
  for (std::size_t r0 = 0; r0 < data.rows; r0 += batch) {
    const std::size_t rows = data.rows - r0 < batch ? data.rows - r0 : batch;
    ConstMatrixView in(data.data + r0 * data.stride, rows, data.cols, data.stride);
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      visit(l, in);
      if (l + 1 == spec.num_layers) break;
      const std::size_t units = spec.layers[l].units;
      detail::run_gemm(k.gemm_nt_f32,
                       detail::dense_forward_gemm(in, model.const_weights(l).data, model.const_bias(l).data,
                                                  spec.layers[l].activation, units, c.buf[l % 2]),
                       c.gemm, c.gemm_floats);
      in = ConstMatrixView(c.buf[l % 2], rows, units);
    }
  }
}

// The [100 - p, p] percentiles of the histogram over r, never outside r.
Range percentile_range(const std::uint32_t* hist, std::uint64_t total, std::uint32_t bins, Range r, double p) {
  const double tail = total * (100.0 - p) / 100.0;
  const double width = (r.hi - r.lo) / bins;
  std::uint64_t acc = 0;
  std::uint32_t b_lo = 0;
  for (; b_lo + 1 < bins; ++b_lo) {
    acc += hist[b_lo];
    if (static_cast<double>(acc) > tail) break;
  }
  acc = 0;
  std::uint32_t b_hi = bins - 1;
  for (; b_hi > b_lo; --b_hi) {
    acc += hist[b_hi];
    if (static_cast<double>(acc) > tail) break;
  }
  return {r.lo + b_lo * width, r.lo + (b_hi + 1.0) * width};
}

struct Affine {
  float scale;
  std::int32_t zero_point;
};

// The scheme's scale and zero point of a range widened to contain 0.
Affine affine_of(Range r) {
  const double lo = r.lo < 0 ? r.lo : 0, hi = r.hi > 0 ? r.hi : 0;
  if (!(hi - lo > 0)) return {1.f, -128};
  const float s = static_cast<float>((hi - lo) / 255.0);
  if (!(s > 0.f)) return {1.f, -128};  // a range below float's resolution: everything is 0
  long long z = std::llround(-128.0 - lo / static_cast<double>(s));
  z = z < -128 ? -128 : (z > 127 ? 127 : z);
  return {s, static_cast<std::int32_t>(z)};
}

struct Fixed {
  std::int32_t mult, shift;
};

// M ~ mult * 2^-shift (quant.hpp); kUnsupported when M is 2^30 or more.
Result<Fixed> fixed_point(double m) {
  if (m == 0.0) return Fixed{0, 31};
  int e = 0;
  const double f = std::frexp(m, &e);  // m = f * 2^e, f in [0.5, 1)
  long long mult = std::llround(std::ldexp(f, 31));
  if (mult == (1ll << 31)) {
    mult = 1ll << 30;
    ++e;
  }
  long long shift = 31 - e;
  if (shift < kRequantMinShift)
    return Status::error(StatusCode::kUnsupported, "quantize: requantization multiplier %g is too large", m);
  if (shift > kRequantMaxShift) {
    mult = std::llround(std::ldexp(m, kRequantMaxShift));
    shift = kRequantMaxShift;
  }
  return Fixed{static_cast<std::int32_t>(mult), static_cast<std::int32_t>(shift)};
}

// Fills layer l of q from the f32 parameters and the input/output affine maps.
Status quantize_layer(const Model& model, std::size_t l, Affine in, const Affine* out, QuantizedLayer& q) {
  const ConstMatrixView w = model.const_weights(l);
  const ConstVectorView b = model.const_bias(l);
  const double alpha = q.activation.kind == Activation::kLeakyRelu ? q.activation.alpha
                       : q.activation.kind == Activation::kRelu    ? 0.0
                                                                   : 1.0;
  q.in_scale = in.scale;
  q.in_zero_point = in.zero_point;
  if (out) {
    q.out_scale = out->scale;
    q.out_zero_point = out->zero_point;
    q.out_lo = q.activation.kind == Activation::kRelu ? out->zero_point : -128;
  }
  const std::int64_t headroom = INT32_MAX - static_cast<std::int64_t>(q.fan_in) * 127 * 128;
  for (std::size_t j = 0; j < q.units; ++j) {
    const float* row = w.row(j);
    float amax = 0.f;
    for (std::size_t k = 0; k < q.fan_in; ++k) amax = std::fabs(row[k]) > amax ? std::fabs(row[k]) : amax;
    float sw = amax / 127.f;
    if (!(sw > 0.f)) sw = 1.f;
    q.weight_scale[j] = sw;
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < q.fan_in; ++k) {
      long long v = std::llround(static_cast<double>(row[k]) / sw);
      v = v < -kQuantWeightMax ? -kQuantWeightMax : (v > kQuantWeightMax ? kQuantWeightMax : v);
      q.set_weight(j, k, static_cast<std::int8_t>(v));
      sum += v;
    }
    q.wsum[j] = static_cast<std::int32_t>(sum);
    const double acc_scale = static_cast<double>(in.scale) * sw;
    const double bq = static_cast<double>(b[j]) / acc_scale;
    const double folded = std::nearbyint(bq) - static_cast<double>(in.zero_point) * static_cast<double>(sum);
    FENNEC_ENSURE(std::fabs(bq) < 4e18 && std::fabs(folded) <= static_cast<double>(headroom), StatusCode::kUnsupported,
                  "quantize: layer %zu unit %zu: bias %g is too large for an int32 accumulator at scale %g", l, j,
                  static_cast<double>(b[j]), acc_scale);
    q.bias[j] = static_cast<std::int32_t>(std::llround(bq) - static_cast<long long>(in.zero_point) * sum);
    q.deq[j] = static_cast<float>(acc_scale);
    q.deq_neg[j] = static_cast<float>(alpha * acc_scale);
    if (out) {
      const double m = acc_scale / out->scale;
      Result<Fixed> pos = fixed_point(m);
      if (!pos) return pos.status();
      Result<Fixed> neg = q.activation.kind == Activation::kLeakyRelu ? fixed_point(alpha * m) : pos;
      if (!neg) return neg.status();
      q.mult[j] = pos.value().mult;
      q.shift[j] = pos.value().shift;
      q.mult_neg[j] = neg.value().mult;
      q.shift_neg[j] = neg.value().shift;
    } else {
      q.mult[j] = q.mult_neg[j] = 0;
      q.shift[j] = q.shift_neg[j] = kRequantMinShift;
    }
  }
  return Status::ok();
}

}  // namespace

Result<QuantizedModel> quantize(const Model& model, ConstMatrixView calibration, const QuantOptions& options, Arena& arena) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "quantize: the f32 model is not bound");
  FENNEC_RETURN_IF_ERROR(validate(options));
  const ModelSpec& spec = model.spec();
  FENNEC_ENSURE(calibration.data != nullptr && calibration.rows >= 1, StatusCode::kInvalidArgument,
                "quantize: no calibration rows");
  FENNEC_ENSURE(calibration.cols == spec.input && calibration.stride >= calibration.cols, StatusCode::kShapeMismatch,
                "quantize: calibration rows have %zu values, the model takes %u", calibration.cols,
                static_cast<unsigned>(spec.input));
  const std::size_t bad = detail::first_non_finite(calibration.data, calibration.rows, calibration.cols, calibration.stride);
  FENNEC_ENSURE(bad == calibration.rows * calibration.cols, StatusCode::kNonFinite,
                "quantize: calibration row %zu column %zu is NaN or Inf", bad / calibration.cols, bad % calibration.cols);

  const Arena::Mark start = arena.mark();
  Result<QuantizedModel> qm = QuantizedModel::allocate(spec, options.max_batch, options.isa, arena);
  if (!qm) return qm.status();
  QuantizedModel& q = qm.value();
  const Arena::Mark scratch_start = arena.mark();
  const auto fail = [&](const Status& s) -> Result<QuantizedModel> {
    arena.rewind(start);
    return s;
  };

  // Scratch, in the order calibration_scratch_bytes() counts it.
  const std::size_t layers = spec.num_layers, batch = options.calibration_batch;
  const bool percentile = options.clip == ClipMethod::kPercentile;
  const std::uint32_t bins = options.histogram_bins;
  Calibration c;
  {
    Result<double*> r = arena.allocate_array<double>(layers * 2, "calibration ranges");
    if (!r) return fail(r.status());
    c.ranges = reinterpret_cast<Range*>(r.value());
    if (percentile) {
      Result<std::uint32_t*> h = arena.allocate_array<std::uint32_t>(layers * bins, "calibration histograms");
      if (!h) return fail(h.status());
      c.hist = h.value();
    }
    for (float*& b : c.buf) {
      Result<float*> f = arena.allocate_array<float>(batch * spec.max_width(), "calibration activations");
      if (!f) return fail(f.status());
      b = f.value();
    }
    for (std::size_t l = 0; l < layers; ++l) {
      const std::size_t s = gemm_scratch_floats(batch, spec.layers[l].units, spec.fan_in(l));
      c.gemm_floats = s > c.gemm_floats ? s : c.gemm_floats;
    }
    if (c.gemm_floats) {
      Result<float*> g = arena.allocate_array<float>(c.gemm_floats, "calibration GEMM scratch");
      if (!g) return fail(g.status());
      c.gemm = g.value();
    }
  }

  for (std::size_t l = 0; l < layers; ++l) c.ranges[l] = {HUGE_VAL, -HUGE_VAL};
  run_calibration(model, calibration, batch, c, [&](std::size_t l, ConstMatrixView v) {
    Range& r = c.ranges[l];
    for (std::size_t i = 0; i < v.rows; ++i)
      for (std::size_t k = 0; k < v.cols; ++k) {
        const double x = v(i, k);
        r.lo = x < r.lo ? x : r.lo;
        r.hi = x > r.hi ? x : r.hi;
      }
  });
  if (percentile) {
    for (std::size_t i = 0; i < layers * bins; ++i) c.hist[i] = 0;
    run_calibration(model, calibration, batch, c, [&](std::size_t l, ConstMatrixView v) {
      const Range r = c.ranges[l];
      const double span = r.hi - r.lo;
      std::uint32_t* h = c.hist + l * bins;
      for (std::size_t i = 0; i < v.rows; ++i)
        for (std::size_t k = 0; k < v.cols; ++k) {
          const double t = span > 0 ? (v(i, k) - r.lo) / span * bins : 0.0;
          std::size_t b = t <= 0 ? 0 : static_cast<std::size_t>(t);
          b = b >= bins ? bins - 1 : b;
          ++h[b];
        }
    });
    const std::uint64_t total_rows = calibration.rows;
    for (std::size_t l = 0; l < layers; ++l)
      if (c.ranges[l].hi > c.ranges[l].lo)
        c.ranges[l] = percentile_range(c.hist + l * bins, total_rows * spec.fan_in(l), bins, c.ranges[l], options.percentile);
  }

  for (std::size_t l = 0; l < layers; ++l) {
    const Affine in = affine_of(c.ranges[l]);
    Affine out{};
    if (l + 1 < layers) out = affine_of(c.ranges[l + 1]);
    const Status s = quantize_layer(model, l, in, l + 1 < layers ? &out : nullptr, q.mutable_layer(l));
    if (!s.is_ok()) return fail(s);
  }
  const Status checked = q.check_parameters();
  if (!checked.is_ok()) return fail(checked);
  arena.rewind(scratch_start);
  return qm;
}

}  // namespace fennec
