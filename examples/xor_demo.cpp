// SPDX-License-Identifier: Apache-2.0
// Trains a small MLP on a synthetic two-spirals-like problem (points inside vs outside a ring)
// and prints the loss per epoch and the arena bytes. Everything lives in one static buffer.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <fennec/fennec.hpp>

namespace {

constexpr std::size_t kSamples = 512;
constexpr std::size_t kBatch = 32;

constexpr fennec::ModelSpec kSpec = fennec::ModelSpec(2)
                                        .dense(32, fennec::ActivationSpec::tanh(), fennec::Init::xavier_normal())
                                        .dense(32, fennec::ActivationSpec::tanh(), fennec::Init::xavier_normal())
                                        .dense(2, fennec::ActivationSpec::identity(), fennec::Init::xavier_normal())
                                        .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
constexpr fennec::ModelOptions kOptions{fennec::Mode::kTraining, kBatch, fennec::OptimizerKind::kAdam};
constexpr std::size_t kArenaBytes = fennec::plan(kSpec, kOptions).total();

alignas(fennec::kArenaAlignment) unsigned char g_arena[kArenaBytes];
float g_x[kSamples * 2];
std::int32_t g_y[kSamples];

int fail(const fennec::Status& s) {
  std::fprintf(stderr, "error: %s: %s\n", fennec::status_code_name(s.code()), s.message());
  return 1;
}

}  // namespace

int main() {
  // Data: uniform points in [-1,1]^2; class 1 inside the ring 0.35 < r < 0.75.
  fennec::Rng data_rng(7);
  for (std::size_t i = 0; i < kSamples; ++i) {
    const double a = data_rng.uniform(-1, 1), b = data_rng.uniform(-1, 1);
    g_x[2 * i] = static_cast<float>(a);
    g_x[2 * i + 1] = static_cast<float>(b);
    const double r = std::sqrt(a * a + b * b);
    g_y[i] = (r > 0.35 && r < 0.75) ? 1 : 0;
  }

  fennec::Arena arena(g_arena, sizeof(g_arena));
  fennec::Result<fennec::Model> model = fennec::Model::bind(kSpec, kOptions, arena);
  if (!model.is_ok()) return fail(model.status());
  fennec::Rng rng(42);
  if (fennec::Status s = model->init_parameters(rng); !s.is_ok()) return fail(s);
  fennec::Result<fennec::Trainer> trainer =
      fennec::Trainer::create(model.value(), {fennec::OptimizerConfig::adam(0.01f), {}});
  if (!trainer.is_ok()) return fail(trainer.status());

  std::printf("fennec demo: 2-32-32-2 tanh MLP, Adam, ring classification, kernels: %s\n",
              fennec::isa_name(model->isa()));
  std::printf("arena: planned %zu bytes, used %zu bytes\n", kArenaBytes, arena.used());
  for (int epoch = 1; epoch <= 60; ++epoch) {
    double loss = 0;
    for (std::size_t start = 0; start < kSamples; start += kBatch) {
      fennec::ConstMatrixView x(g_x + start * 2, kBatch, 2);
      fennec::Result<fennec::StepStats> st = trainer->step(x, fennec::Targets::classes(g_y + start));
      if (!st.is_ok()) return fail(st.status());
      loss += st->loss;
    }
    if (epoch % 10 == 0 || epoch == 1) {
      std::size_t correct = 0;
      for (std::size_t start = 0; start < kSamples; start += kBatch) {
        fennec::ConstMatrixView x(g_x + start * 2, kBatch, 2);
        fennec::Result<fennec::EvalStats> ev = trainer->evaluate(x, fennec::Targets::classes(g_y + start));
        if (!ev.is_ok()) return fail(ev.status());
        correct += ev->correct;
      }
      std::printf("epoch %2d  loss %.4f  accuracy %.3f\n", epoch, loss / (kSamples / kBatch),
                  static_cast<double>(correct) / kSamples);
    }
  }
  return 0;
}
