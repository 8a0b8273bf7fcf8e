// SPDX-License-Identifier: Apache-2.0
// Smoke test of the installed package: bind a model in a static arena, train XOR to 100%.
#include <cstdint>
#include <cstdio>

#include <fennec/fennec.hpp>

int main() {
  constexpr auto spec = fennec::ModelSpec(2)
                            .dense(8, fennec::ActivationSpec::tanh(), fennec::Init::xavier_normal())
                            .dense(2, fennec::ActivationSpec::identity(), fennec::Init::xavier_normal());
  constexpr fennec::ModelOptions options{fennec::Mode::kTraining, 4, fennec::OptimizerKind::kAdam};
  alignas(fennec::kArenaAlignment) static unsigned char buffer[fennec::plan(spec, options).total()];

  fennec::Arena arena(buffer, sizeof(buffer));
  auto model = fennec::Model::bind(spec, options, arena);
  if (!model.is_ok()) return std::printf("bind: %s\n", model.status().message()), 1;
  fennec::Rng rng(1);
  if (!model->init_parameters(rng).is_ok()) return 1;
  auto trainer = fennec::Trainer::create(model.value(), {fennec::OptimizerConfig::adam(0.05f), {}});
  if (!trainer.is_ok()) return 1;

  const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
  const std::int32_t y[] = {0, 1, 1, 0};
  const fennec::ConstMatrixView batch(x, 4, 2);
  for (int i = 0; i < 500; ++i)
    if (!trainer->step(batch, fennec::Targets::classes(y)).is_ok()) return 1;
  auto eval = trainer->evaluate(batch, fennec::Targets::classes(y));
  if (!eval.is_ok()) return 1;
  std::printf("installed fennec %s: XOR %zu/4 correct, arena %zu bytes, kernels %s\n",
              fennec::kLibraryVersionString, eval->correct, arena.used(), fennec::isa_name(model->isa()));
  return eval->correct == 4 ? 0 : 1;
}
