// SPDX-License-Identifier: Apache-2.0
// The fused update. Per trainable layer l, from the last, with dY = dL/d(output of l):
//   dZ = dY * act'(Y)                        in place
//   dX = dZ * W                              from the old weights, before any row of W changes
//   for each block of rows [r0, r0 + rows):  dW = dZ[:, r0:r0+rows]^T * X, clipped by value, and
//                                            the optimizer applied to W[r0:r0+rows] at once
//   db = column sums of dZ                   clipped, and the optimizer applied to b
// Each element sees the gradient and the update it gets on the classic path (a block's GEMM sums
// over the batch as the whole layer's does), so the two paths agree to rounding.
#include "core/fused_update.hpp"

#include "core/finite.hpp"
#include "core/gemm_call.hpp"
#include "core/apply_update.hpp"
#include "core/model_internals.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec::detail {

struct FusedUpdate {
  Model& m;
  const kernels::KernelTable& k;
  const OptimizerConfig& config;
  float max_value;
  std::uint64_t t;
  std::size_t batch;
  double norm2 = 0.0;

  void gemm(kernels::GemmFn fn, const kernels::GemmArgs& g) const { run_gemm(fn, g, m.scratch_, m.scratch_floats_); }

  // The gradient block's first n floats belong to the parameters at `offset`: measure, clip,
  // then apply the optimizer to them.
  Status apply_block(std::size_t l, std::size_t offset, std::size_t n) {
    float* g = m.grad_block_;
    const double s = k.sum_squares_f32(n, g);
    FENNEC_ENSURE(is_finite_bits(s), StatusCode::kNonFinite,
                  "step %llu: layer %zu's gradient is NaN or Inf (fused update: the layers after it "
                  "were already updated)",
                  static_cast<unsigned long long>(t), l);
    norm2 += s;
    if (max_value > 0.f) k.clamp_f32(n, g, -max_value, max_value);
    // Optimizer state covers the trainable layers only: it starts at trainable_offset_.
    const std::size_t at = offset - m.trainable_offset_;
    apply_update(k, config, n, m.params_ + offset, g, m.state_[0] ? m.state_[0] + at : nullptr,
                 m.state_[1] ? m.state_[1] + at : nullptr, t, nullptr);
    return Status::ok();
  }

  Status layer(std::size_t l, float* dz, float* dx, ConstMatrixView in) {
    const LayerSpec& spec = m.spec_.layers[l];
    const std::size_t units = spec.units, fan_in = in.cols;
    k.act_bwd_f32(batch, units, m.layer_[l].output, units, dz, units, spec.activation);
    // dX from the weights as they are now, before any block of them changes.
    if (dx) gemm(k.gemm_nn_f32, input_gradient_gemm(dz, batch, units, m.params_ + m.layer_[l].weight_offset, fan_in, dx, fan_in));
    const std::size_t block = fused_rows(m.spec_, l, m.options_.fused_block_rows);
    for (std::size_t r0 = 0; r0 < units; r0 += block) {
      const std::size_t rows = units - r0 < block ? units - r0 : block;
      gemm(k.gemm_tn_f32, weight_gradient_gemm(dz + r0, units, rows, in, m.grad_block_));  // rows of dW
      FENNEC_RETURN_IF_ERROR(apply_block(l, m.layer_[l].weight_offset + r0 * fan_in, rows * fan_in));
    }
    k.col_sum_f32(batch, units, dz, units, m.grad_block_);
    return apply_block(l, m.layer_[l].bias_offset, units);
  }

  Status run(ConstMatrixView x) {
    float* dz = m.buffers_[0];
    // Frozen layers [0, frozen_) get no gradient, and the first trainable layer no dX.
    for (std::size_t l = m.spec_.num_layers; l-- > m.frozen_;) {
      float* dx = l == m.frozen_ ? nullptr : (dz == m.buffers_[0] ? m.buffers_[1] : m.buffers_[0]);
      const ConstMatrixView in = l == 0 ? x : ConstMatrixView(m.layer_[l - 1].output, batch, m.spec_.fan_in(l));
      FENNEC_RETURN_IF_ERROR(layer(l, dz, dx, in));
      dz = dx;
    }
    return Status::ok();
  }
};

Status fused_backward_update(Model& m, ConstMatrixView x, const OptimizerConfig& c, float max_value,
                             std::uint64_t t, double& grad_norm2) {
  FusedUpdate u{m, ModelInternals::kernel_table(m), c, max_value, t, x.rows};
  const Status s = u.run(x);
  grad_norm2 = u.norm2;
  return s;
}

}  // namespace fennec::detail
