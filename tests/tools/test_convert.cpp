// SPDX-License-Identifier: Apache-2.0
// fennec-convert and fennec-infer with PyTorch-side files: name mapping flags, output extensions
// it does not write, a checkpoint or a text file where a model is expected (said by kind), and
// extracting the model of a training checkpoint.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <fennec/all.hpp>

#include "support/safetensors_writer.hpp"
#include "tools/tools_test_util.hpp"

using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kConvert = quote(FENNEC_CONVERT_EXE);
const std::string kInfer = quote(FENNEC_INFER_EXE);

void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(f.good());
}

// The parameters of a model file, through the library.
std::vector<float> parameters_of(const std::string& path) {
  fennec::Result<std::size_t> need = fennec::model_file_arena_bytes(path.c_str(), fennec::ModelOptions::inference(1));
  REQUIRE(need.is_ok());
  std::vector<unsigned char> storage(need.value());
  fennec::Arena arena(storage.data(), storage.size());
  fennec::Result<fennec::Model> m = fennec::load_model_file(path.c_str(), fennec::ModelOptions::inference(1), arena);
  REQUIRE(m.is_ok());
  const fennec::VectorView p = m->parameters();
  return std::vector<float>(p.data, p.data + p.size);
}

}  // namespace

TEST_CASE("fennec-convert: --prefix and --layers map wrapper and custom-module names", "[tools][cli][convert]") {
  tools_test::TempDir dir("convert-names");
  write_bytes(dir.file("seq.safetensors"), fennec_test::st_file(fennec_test::st_net_3_4_2<float>("0", "2", "F32")));
  write_bytes(dir.file("wrap.safetensors"),
              fennec_test::st_file(fennec_test::st_net_3_4_2<float>("layers.0", "layers.2", "F32")));
  write_bytes(dir.file("custom.safetensors"), fennec_test::st_file(fennec_test::st_net_3_4_2<float>("fc1", "fc2", "F32")));
  write_bytes(dir.file("f64.safetensors"), fennec_test::st_file(fennec_test::st_net_3_4_2<double>("0", "2", "F64")));
  const std::string acts = " --activations relu,identity";
  const Run seq = run(kConvert + " " + quote(dir.file("seq.safetensors")) + " " + quote(dir.file("seq.fennec")) + acts);
  INFO(seq.output);
  REQUIRE(seq.exit_code == 0);

  const Run plain = run(kConvert + " " + quote(dir.file("wrap.safetensors")) + " " + quote(dir.file("w.fennec")) + acts);
  CHECK(plain.exit_code == 1);
  CHECK(plain.output.find("tensor 'layers.0.weight' is not '<i>.weight'") != std::string::npos);
  const Run wrap = run(kConvert + " " + quote(dir.file("wrap.safetensors")) + " " + quote(dir.file("w.fennec")) +
                       acts + " --prefix layers.");
  INFO(wrap.output);
  REQUIRE(wrap.exit_code == 0);
  CHECK(parameters_of(dir.file("w.fennec")) == parameters_of(dir.file("seq.fennec")));

  const Run custom = run(kConvert + " " + quote(dir.file("custom.safetensors")) + " " + quote(dir.file("c.fennec")) +
                         acts + " --layers fc1,fc2");
  INFO(custom.output);
  REQUIRE(custom.exit_code == 0);
  CHECK(parameters_of(dir.file("c.fennec")) == parameters_of(dir.file("seq.fennec")));
  const Run empty = run(kConvert + " " + quote(dir.file("custom.safetensors")) + " " + quote(dir.file("c.fennec")) +
                        acts + " --layers fc1,,fc2");
  CHECK(empty.exit_code == 2);
  CHECK(empty.output.find("--layers: empty layer name") != std::string::npos);

  // model.double(): converted, and --help says how precise that is.
  const Run f64 = run(kConvert + " " + quote(dir.file("f64.safetensors")) + " " + quote(dir.file("d.fennec")) + acts);
  INFO(f64.output);
  REQUIRE(f64.exit_code == 0);
  CHECK(parameters_of(dir.file("d.fennec")) == parameters_of(dir.file("seq.fennec")));
  const Run help = run(kConvert + " --help");
  CHECK(help.output.find("F64 values are rounded to the nearest float32") != std::string::npos);
}

TEST_CASE("fennec-convert: refuses an int8 model file with a clear message", "[tools][cli][convert][quant]") {
  tools_test::TempDir dir("convert-int8");
  const fennec::ModelSpec spec = fennec::ModelSpec(3).dense(4, fennec::ActivationSpec::relu()).dense(
      2, fennec::ActivationSpec::identity());
  std::vector<unsigned char> fm(fennec::plan(spec, fennec::ModelOptions::inference(1)).total() + 64);
  fennec::Arena fa(fm.data(), fm.size());
  fennec::Result<fennec::Model> m = fennec::Model::bind(spec, fennec::ModelOptions::inference(1), fa);
  REQUIRE(m.is_ok());
  fennec::Rng rng(1);
  REQUIRE(m.value().init_parameters(rng).is_ok());
  const float cal[] = {0.1f, -0.4f, 0.9f, 0.5f, 0.2f, -1.f};
  fennec::QuantOptions o;
  std::vector<unsigned char> qm(fennec::quantized_plan(spec, 1).total() + fennec::calibration_scratch_bytes(spec, o) + 64);
  fennec::Arena qa(qm.data(), qm.size());
  fennec::Result<fennec::QuantizedModel> q = fennec::quantize(m.value(), fennec::ConstMatrixView(cal, 2, 3), o, qa);
  REQUIRE(q.is_ok());
  std::vector<unsigned char> file(fennec::quantized_file_bytes(q.value()));
  fennec::MemoryWriter w(file.data(), file.size());
  fennec::ByteWriter bw = w.writer();
  REQUIRE(fennec::save_quantized_model(q.value(), bw).is_ok());
  write_bytes(dir.file("q.fennec"), file);
  for (const char* out : {"out.safetensors", "out.fennec"}) {
    const Run r = run(kConvert + " " + quote(dir.file("q.fennec")) + " " + quote(dir.file(out)));
    INFO(out << "\n" << r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("an int8 (quantized) model file; fennec-convert has no mapping of int8 models") != std::string::npos);
    CHECK_FALSE(std::ifstream(dir.file(out)).good());
  }
}

TEST_CASE("fennec-convert: refuses output extensions it does not write", "[tools][cli][convert]") {
  tools_test::TempDir dir("convert-ext");
  write_bytes(dir.file("seq.safetensors"), fennec_test::st_file(fennec_test::st_net_3_4_2<float>("0", "2", "F32")));
  for (const char* out : {"out.onnx", "out.pt", "model"}) {
    const Run r = run(kConvert + " " + quote(dir.file("seq.safetensors")) + " " + quote(dir.file(out)) +
                      " --activations relu,identity");
    INFO(out << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("fennec-convert writes .fennec (Fennec model file) or .safetensors, not ") != std::string::npos);
    CHECK_FALSE(std::ifstream(dir.file(out)).good());
  }
  const Run onnx = run(kConvert + " " + quote(dir.file("seq.safetensors")) + " " + quote(dir.file("o.onnx")));
  CHECK(onnx.output.find("not .onnx") != std::string::npos);
}

TEST_CASE("fennec-convert extracts the model of a training checkpoint, and a checkpoint or text where a "
          "model is expected is named", "[tools][cli][convert][checkpoint]") {
  tools_test::TempDir dir("convert-ckpt");
  const fennec::ModelSpec spec =
      fennec::ModelSpec(3).dense(5, fennec::ActivationSpec::tanh()).dense(2, fennec::ActivationSpec::identity());
  const fennec::ModelOptions o = fennec::ModelOptions::training(2, fennec::OptimizerConfig::adam(0.01));
  std::vector<unsigned char> storage(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
  fennec::Arena arena(storage.data(), storage.size());
  fennec::Model m = fennec::Model::bind(spec, o, arena).value();
  fennec::Rng rng(3);
  REQUIRE(m.init_parameters(rng).is_ok());
  fennec::Trainer t = fennec::Trainer::create(m).value();
  const float x[6] = {0.1f, -0.2f, 0.3f, 1.f, 0.5f, -1.f};
  const std::int32_t y[2] = {1, 0};
  for (int i = 0; i < 3; ++i) REQUIRE(t.step(fennec::ConstMatrixView(x, 2, 3), fennec::Targets::classes(y)).is_ok());
  const std::string ckpt = dir.file("run.ckpt");
  REQUIRE(fennec::save_checkpoint_file(ckpt.c_str(), t, rng, "pos", 3).is_ok());
  REQUIRE(fennec::save_model_file(m, dir.file("direct.fennec").c_str()).is_ok());

  const Run r = run(kConvert + " " + quote(ckpt) + " " + quote(dir.file("from_ckpt.fennec")));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("(checkpoint) ->") != std::string::npos);
  CHECK(parameters_of(dir.file("from_ckpt.fennec")) == parameters_of(dir.file("direct.fennec")));

  // fennec-infer wants a model: it names what it got and how to get the model.
  const Run infer = run(kInfer + " --model " + quote(ckpt) + " --synthetic 1");
  CHECK(infer.exit_code == 1);
  CHECK(infer.output.find("is a Fennec training checkpoint; expected a Fennec model file or a safetensors "
                          "file (fennec-convert ") != std::string::npos);
  {
    std::ofstream txt(dir.file("notes.txt"));
    txt << "hello, this is a text file and not a model\n";
  }
  const Run text = run(kConvert + " " + quote(dir.file("notes.txt")) + " " + quote(dir.file("t.fennec")));
  CHECK(text.exit_code == 1);
  CHECK(text.output.find("notes.txt is a text file; expected a Fennec model file or a safetensors file") !=
        std::string::npos);
  CHECK(text.output.find("header length") == std::string::npos);
}
