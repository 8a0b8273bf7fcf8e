// SPDX-License-Identifier: Apache-2.0
// <fennec/all.hpp> alone brings in the model file, safetensors, checkpoints and the file helpers
// (this file includes nothing else from Fennec), and model_arena_bytes sizes an arena for a model
// file in one call: that capacity loads over a buffer at any alignment.
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "fennec/all.hpp"

using namespace fennec;

namespace {

ModelSpec spec_3_layers() {
  return ModelSpec(5).dense(16, ActivationSpec::relu()).dense(8, ActivationSpec::tanh()).dense(3, ActivationSpec::identity());
}

std::vector<unsigned char> saved_model() {
  const ModelSpec spec = spec_3_layers();
  const ModelOptions o = ModelOptions::inference(1);
  std::vector<unsigned char> arena_bytes(plan(spec, o).total() + kArenaAlignment);
  Arena arena(arena_bytes.data(), arena_bytes.size());
  Model m = Model::bind(spec, o, arena).value();
  Rng rng(5);
  REQUIRE(m.init_parameters(rng).is_ok());
  std::vector<unsigned char> file(static_cast<std::size_t>(model_file_size(spec)));
  MemoryWriter mw(file.data(), file.size());
  ByteWriter w = mw.writer();
  REQUIRE(save_model(m, w).is_ok());
  return file;
}

}  // namespace

TEST_CASE("all.hpp: one arena size call, then the model loads at every buffer alignment",
          "[io][model-file][umbrella]") {
  const std::vector<unsigned char> file = saved_model();
  const ModelOptions options[] = {ModelOptions::inference(32),
                                  ModelOptions::training(8, OptimizerConfig::adam(1e-3))};
  for (const ModelOptions& o : options) {
    INFO("mode " << static_cast<int>(o.mode) << " batch " << o.max_batch);
    Result<std::size_t> need = model_arena_bytes(file.data(), file.size(), o);
    REQUIRE(need);
    CHECK(need.value() == plan(spec_3_layers(), o).total() + kArenaAlignment - 1);
    std::vector<unsigned char> storage(need.value() + 2 * kArenaAlignment);
    for (std::size_t offset = 0; offset < kArenaAlignment; ++offset) {
      Arena arena(storage.data() + offset, need.value());
      Result<Model> m = load_model(file.data(), file.size(), o, arena);
      REQUIRE(m);
    }
  }
  // A damaged header is reported, not sized.
  std::vector<unsigned char> bad = file;
  bad[0] = 'X';
  CHECK(model_arena_bytes(bad.data(), bad.size(), ModelOptions::inference(1)).status().code() ==
        StatusCode::kCorruptData);
  CHECK(model_arena_bytes(file.data(), file.size(), ModelOptions::inference(0)).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("all.hpp: file helpers, safetensors and checkpoints are declared", "[io][umbrella]") {
  char dir[] = "/tmp/fennec-umbrella-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/m.fennec";
  const std::vector<unsigned char> file = saved_model();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    REQUIRE(std::fwrite(file.data(), 1, file.size(), f) == file.size());
    std::fclose(f);
  }
  const ModelOptions o = ModelOptions::inference(4);
  Result<std::size_t> need = model_file_arena_bytes(path.c_str(), o);
  REQUIRE(need);
  CHECK(need.value() == model_arena_bytes(file.data(), file.size(), o).value());
  std::vector<unsigned char> storage(need.value());
  Arena arena(storage.data(), storage.size());
  Result<Model> m = load_model_file(path.c_str(), o, arena);
  REQUIRE(m);
  CHECK(safetensors_file_size(m.value()) > 0);                 // safetensors.hpp
  CHECK(kCheckpointMagic[6] == 'C');                           // checkpoint.hpp
  CHECK(model_file_arena_bytes((path + ".missing").c_str(), o).status().code() == StatusCode::kIoError);
  std::remove(path.c_str());
  rmdir(dir);
}
