// SPDX-License-Identifier: Apache-2.0
// fennec-infer from the command line on the inputs the attack used: a model with a NaN weight
// (refused with a message: the tools load with check_finite) and a legal wide model whose plan at a
// large --batch is above the arena limit (refused with the plan's size, not std::bad_alloc).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io.hpp>
#include <fennec/io_file.hpp>

#include "tools/tools_test_util.hpp"

using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kInfer = quote(FENNEC_INFER_EXE);

// Saves a bound, initialised inference model of `spec` to `path`.
void save_model(const fennec::ModelSpec& spec, const std::string& path) {
  fennec::ModelOptions o;
  o.mode = fennec::Mode::kInference;
  o.max_batch = 1;
  std::vector<unsigned char> storage(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
  fennec::Arena arena(storage.data(), storage.size());
  fennec::Result<fennec::Model> m = fennec::Model::bind(spec, o, arena);
  INFO(m.status().message());
  REQUIRE(m.is_ok());
  fennec::Rng rng(3);
  REQUIRE(m.value().init_parameters(rng).is_ok());
  REQUIRE(fennec::save_model_file(m.value(), path.c_str()).is_ok());
}

std::vector<unsigned char> read_all(const std::string& path) {
  std::vector<unsigned char> b;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  int c;
  while ((c = std::fgetc(f)) != EOF) b.push_back(static_cast<unsigned char>(c));
  std::fclose(f);
  return b;
}

void write_all(const std::string& path, const std::vector<unsigned char>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

}  // namespace

TEST_CASE("fennec-infer refuses NaN weights and an arena above the limit, with messages", "[tools][cli][infer]") {
  tools_test::TempDir dir("infer");
  const std::string good = dir.file("m.fnm"), bad = dir.file("nan.fnm");
  save_model(fennec::ModelSpec(4).dense(3, fennec::ActivationSpec::relu()).dense(2, fennec::ActivationSpec::identity()),
             good);
  REQUIRE(run(kInfer + " --model " + quote(good) + " --synthetic 3").exit_code == 0);

  // A NaN in the first weight, CRC recomputed: a valid file the tool must not run.
  std::vector<unsigned char> b = read_all(good);
  const std::size_t first_param = fennec::kModelFileFixedHeader + 2 * fennec::kModelFileLayerRecord;
  const std::uint32_t nan = 0x7FC00000u;
  std::memcpy(b.data() + first_param, &nan, 4);
  const std::uint32_t crc = fennec::crc32(b.data(), b.size() - 4);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<unsigned char>(crc >> (8 * i));
  write_all(bad, b);
  const Run r = run(kInfer + " --model " + quote(bad) + " --synthetic 3");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("NaN") != std::string::npos);

  // 1-65536-2 is legal; at --batch 10000 its two activation buffers need 5.2 GB.
  const std::string wide = dir.file("wide.fnm");
  save_model(fennec::ModelSpec(1).dense(65536, fennec::ActivationSpec::relu()).dense(2, fennec::ActivationSpec::identity()),
             wide);
  const Run w = run(kInfer + " --model " + quote(wide) + " --batch 10000 --synthetic 1");
  INFO(w.output);
  CHECK(w.exit_code == 1);
  CHECK(w.output.find("plan needs 524") != std::string::npos);
  CHECK(w.output.find("4 GiB limit") != std::string::npos);
  CHECK(w.output.find("--allow-large-arena") != std::string::npos);
  CHECK(w.output.find("bad_alloc") == std::string::npos);
}

TEST_CASE("fennec-infer runs a model file in place from its mapping and reports a truncation, not silently",
          "[tools][cli][infer][in_place]") {
  tools_test::TempDir dir("infer_xip");
  const std::string path = dir.file("m.fnm");
  const fennec::ModelSpec spec = fennec::ModelSpec(256)
                                     .dense(256, fennec::ActivationSpec::relu())
                                     .dense(256, fennec::ActivationSpec::relu())
                                     .dense(10, fennec::ActivationSpec::identity());
  save_model(spec, path);
  const Run ok = run(kInfer + " --model " + quote(path) + " --synthetic 3");
  INFO(ok.output);
  REQUIRE(ok.exit_code == 0);
  // No parameter bytes in the arena: all of them are read from the mapped file.
  CHECK(ok.output.find("(parameters 0, ") != std::string::npos);
  CHECK(ok.output.find(std::to_string(spec.num_parameters() * 4) + " bytes of parameters read in place") !=
        std::string::npos);

  // Truncated by another process while the latency loop runs (each forward reads every weight
  // from the mapping; a million samples take seconds, the truncation comes within milliseconds
  // of the set-up line): the tool reports it and exits with status 3, it is not killed by SIGBUS.
  const std::string out = dir.file("out.txt"), script = dir.file("truncate.sh");
  {
    std::FILE* f = std::fopen(script.c_str(), "w");
    REQUIRE(f);
    std::fprintf(f,
                 "%s --model %s --synthetic 1000000 > %s 2>&1 &\n"
                 "pid=$!; i=0\n"
                 "while ! grep -q '^arena:' %s && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done\n"
                 ": > %s\n"
                 "wait $pid; echo \"exit $?\"; cat %s\n",
                 kInfer.c_str(), quote(path).c_str(), quote(out).c_str(), quote(out).c_str(),
                 quote(path).c_str(), quote(out).c_str());
    std::fclose(f);
  }
  const Run t = run("sh " + quote(script));
  INFO(t.output);
  CHECK(t.output.find("exit 3") != std::string::npos);
  CHECK(t.output.find("shrank while mapped") != std::string::npos);
}
