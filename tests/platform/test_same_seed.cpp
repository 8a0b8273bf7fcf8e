// SPDX-License-Identifier: Apache-2.0
// Same seed, same weights: Rng streams and initialisers reproduce committed checksums bit for bit.
// The same file-level values are checked by the Cortex-M4 firmware (same_seed.hpp), so x86-64,
// aarch64 (qemu), armv7 (qemu) and Cortex-M4 (qemu-system-arm) all agree or a test fails.
#include <catch2/catch.hpp>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "fennec/model.hpp"
#include "same_seed.hpp"

namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64 "ULL", v);
  return buf;
}

// A training model (gradients and Adam state in the arena too) with a different initialiser per
// layer; init_parameters draws all layers from one Rng in layer order.
constexpr fennec::ModelSpec kSpec =
    fennec::ModelSpec(16)
        .dense(32, fennec::ActivationSpec::relu(), fennec::Init::he_normal())
        .dense(32, fennec::ActivationSpec::tanh(), fennec::Init::glorot_uniform())
        .dense(7, fennec::ActivationSpec::sigmoid(), fennec::Init::xavier_normal())
        .dense(4, fennec::ActivationSpec::identity(), fennec::Init::uniform(-0.25f, 0.5f))
        .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
constexpr fennec::ModelOptions kOptions{fennec::Mode::kTraining, 3, fennec::OptimizerKind::kAdam,
                                        fennec::Isa::kAuto};

// Recorded on x86-64; see same_seed.hpp.
constexpr std::uint64_t kModelInitHash = 0x706fcd6ed24a412dULL;

}  // namespace

TEST_CASE("same seed gives the same bits on every platform", "[platform][rng][init]") {
  for (const same_seed::Expected& e : same_seed::kExpected) {
    const std::uint64_t got = e.compute();
    INFO(e.name << ": got " << hex(got) << ", committed " << hex(e.value));
    CHECK(got == e.value);
  }
}

TEST_CASE("same seed gives the same model parameters on every platform", "[platform][model][init]") {
  std::vector<unsigned char> bytes(fennec::plan(kSpec, kOptions).total() + fennec::kArenaAlignment);
  fennec::Arena arena(bytes.data(), bytes.size());
  fennec::Result<fennec::Model> model = fennec::Model::bind(kSpec, kOptions, arena);
  REQUIRE(model.is_ok());
  fennec::Rng rng(same_seed::kSeed + 200);
  REQUIRE(model->init_parameters(rng).is_ok());

  // The whole parameter block, padding included (padding must be zero, so it hashes the same).
  same_seed::Fnv1a f;
  const fennec::VectorView p = model->parameters();
  for (std::size_t i = 0; i < p.size; ++i) f.add_float(p[i]);
  INFO("parameters: got " << hex(f.h) << ", committed " << hex(kModelInitHash));
  CHECK(f.h == kModelInitHash);

  // Re-initialising from the same seed reproduces it exactly.
  fennec::Rng again(same_seed::kSeed + 200);
  REQUIRE(model->init_parameters(again).is_ok());
  same_seed::Fnv1a f2;
  for (std::size_t i = 0; i < p.size; ++i) f2.add_float(p[i]);
  CHECK(f2.h == f.h);
}
