// SPDX-License-Identifier: Apache-2.0
// XNNPACK baselines of the 784-512-256-10 MLP (ReLU, ReLU, identity), one thread (no pthreadpool),
// operators created and set up once outside the timed loop:
//   BM_xnnpack_f32/mlp784/<batch>  three xnn_fully_connected_nc_f32 (ReLU as the output clamp)
//   BM_xnnpack_qs8/mlp784/<batch>  f32 -> qs8 convert, three xnn_fully_connected_nc_qs8 (ReLU as
//                                  the clamp at the zero point), qs8 -> f32 convert of the logits:
//                                  the same work as QuantizedModel::forward (f32 in, f32 logits)
// Batch 1 and 64. Weights are random (the timing does not depend on them); FLOP/s as BM_infer.
// Compiled only when Debian's libxnnpack-dev (a 2022 snapshot) is found (bench/CMakeLists.txt).
#include <xnnpack.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace fennec_bench {
namespace {

constexpr std::size_t kWidths[] = {784, 512, 256, 10};
constexpr std::size_t kLayers = 3;

double weight_flops(std::size_t batch) {
  double w = 0;
  for (std::size_t l = 0; l < kLayers; ++l) w += static_cast<double>(kWidths[l]) * kWidths[l + 1];
  return 2.0 * w * batch;
}

struct Ops {
  std::vector<xnn_operator_t> ops;
  ~Ops() {
    for (xnn_operator_t op : ops) xnn_delete_operator(op);
  }
};

bool init_xnnpack() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

void bm_xnnpack_f32(benchmark::State& st, std::size_t batch) {
  if (!init_xnnpack()) return st.SkipWithError("xnn_initialize failed");
  std::vector<Buffer> w, b, act;
  act.emplace_back(batch * kWidths[0], 12, 0.f, 1.f);
  Ops o;
  for (std::size_t l = 0; l < kLayers; ++l) {
    w.emplace_back(kWidths[l] * kWidths[l + 1], 7 + static_cast<unsigned>(l), -0.05f, 0.05f);
    b.emplace_back(kWidths[l + 1], 17 + static_cast<unsigned>(l), -0.01f, 0.01f);
    act.emplace_back(batch * kWidths[l + 1]);
    const float lo = l + 1 < kLayers ? 0.f : -std::numeric_limits<float>::infinity();
    xnn_operator_t op = nullptr;
    if (xnn_create_fully_connected_nc_f32(kWidths[l], kWidths[l + 1], kWidths[l], kWidths[l + 1], w[l].data(), b[l].data(), lo,
                                          std::numeric_limits<float>::infinity(), 0, &op) != xnn_status_success)
      return st.SkipWithError("xnn_create_fully_connected_nc_f32 failed");
    o.ops.push_back(op);
    if (xnn_setup_fully_connected_nc_f32(op, batch, act[l].data(), act[l + 1].data(), nullptr) != xnn_status_success)
      return st.SkipWithError("xnn_setup_fully_connected_nc_f32 failed");
  }
  for (auto _ : st) {
    for (xnn_operator_t op : o.ops) xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  flop_counters(st, weight_flops(batch));
}

void bm_xnnpack_qs8(benchmark::State& st, std::size_t batch) {
  if (!init_xnnpack()) return st.SkipWithError("xnn_initialize failed");
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> wd(-127, 127);
  std::uniform_int_distribution<std::int32_t> bd(-1000, 1000);
  const Buffer x(batch * kWidths[0], 12, 0.f, 1.f);
  Buffer logits(batch * kWidths[kLayers]);
  std::vector<std::vector<std::int8_t>> w, act;
  std::vector<std::vector<std::int32_t>> b;
  act.emplace_back(batch * kWidths[0]);
  Ops o;
  // Inputs in [0, 1) at scale 1/255 and zero point -128, as calibration would pick them; hidden
  // outputs ReLU'd (clamp at the zero point -128); plausible scales (the timing ignores them).
  const float in_scale = 1.f / 255.f;
  xnn_operator_t op = nullptr;
  if (xnn_create_convert_nc_f32_qs8(kWidths[0], kWidths[0], kWidths[0], 1.f / in_scale, -128, -128, 127, 0, &op) !=
      xnn_status_success)
    return st.SkipWithError("xnn_create_convert_nc_f32_qs8 failed");
  o.ops.push_back(op);
  if (xnn_setup_convert_nc_f32_qs8(op, batch, x.data(), act[0].data(), nullptr) != xnn_status_success)
    return st.SkipWithError("xnn_setup_convert_nc_f32_qs8 failed");
  float scale = in_scale;
  for (std::size_t l = 0; l < kLayers; ++l) {
    w.emplace_back(kWidths[l] * kWidths[l + 1]);
    for (auto& v : w[l]) v = static_cast<std::int8_t>(wd(rng));
    b.emplace_back(kWidths[l + 1]);
    for (auto& v : b[l]) v = bd(rng);
    act.emplace_back(batch * kWidths[l + 1]);
    const float out_scale = l + 1 < kLayers ? 0.05f : 0.1f;
    const std::int8_t out_zp = l + 1 < kLayers ? -128 : 0;
    if (xnn_create_fully_connected_nc_qs8(kWidths[l], kWidths[l + 1], kWidths[l], kWidths[l + 1], -128, scale,
                                          0.004f, w[l].data(), b[l].data(), out_zp, out_scale, out_zp, 127, 0,
                                          &op) != xnn_status_success)
      return st.SkipWithError("xnn_create_fully_connected_nc_qs8 failed");
    o.ops.push_back(op);
    if (xnn_setup_fully_connected_nc_qs8(op, batch, act[l].data(), act[l + 1].data(), nullptr) != xnn_status_success)
      return st.SkipWithError("xnn_setup_fully_connected_nc_qs8 failed");
    scale = out_scale;
  }
  if (xnn_create_convert_nc_qs8_f32(kWidths[kLayers], kWidths[kLayers], kWidths[kLayers], scale, 0, 0, &op) != xnn_status_success)
    return st.SkipWithError("xnn_create_convert_nc_qs8_f32 failed");
  o.ops.push_back(op);
  if (xnn_setup_convert_nc_qs8_f32(op, batch, act[kLayers].data(), logits.data(), nullptr) != xnn_status_success)
    return st.SkipWithError("xnn_setup_convert_nc_qs8_f32 failed");
  for (auto _ : st) {
    for (xnn_operator_t p : o.ops) xnn_run_operator(p, nullptr);
    benchmark::ClobberMemory();
  }
  flop_counters(st, weight_flops(batch));
}

}  // namespace

void register_xnnpack() {
  for (std::size_t batch : {1, 64}) {
    benchmark::RegisterBenchmark(("BM_xnnpack_f32/mlp784/" + std::to_string(batch)).c_str(),
                                 [batch](benchmark::State& st) { bm_xnnpack_f32(st, batch); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_xnnpack_qs8/mlp784/" + std::to_string(batch)).c_str(),
                                 [batch](benchmark::State& st) { bm_xnnpack_qs8(st, batch); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace fennec_bench
