// SPDX-License-Identifier: Apache-2.0
// fennec-convert and fennec-infer with PyTorch-side files: name mapping flags, output extensions
// it does not write, a checkpoint or a text file where a model is expected (said by kind), and
// extracting the model of a training checkpoint.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fennec/all.hpp>

#include "common/model_files.hpp"
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
  std::vector<unsigned char> file(fennec::quantized_model_file_size(q.value()));
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
  REQUIRE(fennec::save_checkpoint_file(t, rng, ckpt.c_str(), "pos", 3).is_ok());
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

namespace {

// A bound inference model read from `path` (either format), with its own storage.
struct LoadedModel {
  std::vector<unsigned char> storage;
  fennec::Model model;
  explicit LoadedModel(const std::string& path) {
    const std::vector<unsigned char> bytes = fennec_tools::read_whole_file(path);
    const fennec::SafetensorsImport import;  // activations and layer options from the metadata
    const fennec::ModelOptions o = fennec::ModelOptions::inference(4);
    const bool st = fennec::detect_file_kind(bytes.data(), bytes.size()) == fennec::FileKind::kSafetensors;
    fennec::Result<fennec::ModelSpec> spec =
        st ? fennec::read_safetensors_spec(bytes.data(), bytes.size(), import)
           : fennec::Result<fennec::ModelSpec>(fennec::read_model_info(bytes.data(), bytes.size())->spec);
    REQUIRE(spec.is_ok());
    storage.resize(fennec::plan(spec.value(), o).total() + fennec::kArenaAlignment);
    fennec::Arena arena(storage.data(), storage.size());
    fennec::Result<fennec::Model> m =
        st ? fennec::load_safetensors(bytes.data(), bytes.size(), import, o, arena)
           : fennec::load_model(bytes.data(), bytes.size(), o, arena);
    INFO(path << ": " << m.status().message());
    REQUIRE(m.is_ok());
    model = std::move(m).value();
  }
  std::vector<float> eval(const std::vector<float>& x, std::size_t rows) {
    fennec::Result<fennec::ConstMatrixView> y = model.forward(fennec::ConstMatrixView(x.data(), rows, model.spec().input));
    REQUIRE(y.is_ok());
    std::vector<float> out;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < y.value().cols; ++c) out.push_back(y.value()(r, c));
    return out;
  }
};

std::vector<float> floats(fennec::VectorView v) { return std::vector<float>(v.data, v.data + v.size); }

}  // namespace

TEST_CASE("fennec-convert: BatchNorm1d safetensors -> .fennec -> .safetensors keeps every value, and "
          "--fold-batchnorm writes a plain MLP with the same outputs", "[tools][cli][convert][batchnorm]") {
  tools_test::TempDir dir("convert-bn");
  const fennec::ModelSpec spec = fennec::ModelSpec(4)
                                     .dense(6, fennec::ActivationSpec::relu())
                                     .batchnorm(1e-3f, 0.2f)
                                     .dropout(0.25f)
                                     .dense(5, fennec::ActivationSpec::tanh())
                                     .batchnorm()
                                     .dense(3, fennec::ActivationSpec::identity());
  const fennec::ModelOptions o = fennec::ModelOptions::training(4, fennec::OptimizerConfig::adam(0.01));
  std::vector<unsigned char> storage(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
  fennec::Arena arena(storage.data(), storage.size());
  fennec::Model m = fennec::Model::bind(spec, o, arena).value();
  fennec::Rng rng(11);
  REQUIRE(m.init_parameters(rng).is_ok());
  // A few training steps: gamma, beta and the running statistics move, batches_tracked counts.
  fennec::Trainer t = fennec::Trainer::create(m).value();
  std::vector<float> x(16);
  for (float& v : x) v = static_cast<float>(rng.normal(0.0, 1.5));
  const std::int32_t y[4] = {0, 2, 1, 2};
  for (int i = 0; i < 4; ++i) REQUIRE(t.step(fennec::ConstMatrixView(x.data(), 4, 4), fennec::Targets::classes(y)).is_ok());
  REQUIRE(m.batches_tracked() == 4);
  const std::string src = dir.file("bn.safetensors");
  REQUIRE(fennec::save_safetensors_file(m, src.c_str()).is_ok());

  const Run to_fennec = run(kConvert + " " + quote(src) + " " + quote(dir.file("bn.fennec")));
  INFO(to_fennec.output);
  REQUIRE(to_fennec.exit_code == 0);
  CHECK(to_fennec.output.find("4-6(bn,relu,dropout 0.25)-5(bn,tanh)-3(identity)") != std::string::npos);
  const Run back = run(kConvert + " " + quote(dir.file("bn.fennec")) + " " + quote(dir.file("back.safetensors")));
  INFO(back.output);
  REQUIRE(back.exit_code == 0);
  // Every parameter, running statistic, eps, momentum and dropout comes back bit for bit. The
  // model file keeps no batches-tracked count (a checkpoint does), so back.safetensors says 0.
  LoadedModel first(src), via_fennec(dir.file("bn.fennec")), second(dir.file("back.safetensors"));
  for (const LoadedModel* l : {&via_fennec, &second}) {
    const fennec::VectorView a = first.model.parameters(), b = l->model.parameters();
    CHECK(std::vector<float>(a.data, a.data + a.size) == std::vector<float>(b.data, b.data + b.size));
    CHECK(floats(first.model.layer_state()) == floats(l->model.layer_state()));
    for (std::size_t k = 0; k < 3; ++k) {
      const fennec::LayerSpec &x = first.model.spec().layers[k], &z = l->model.spec().layers[k];
      CHECK(x.batchnorm.enabled == z.batchnorm.enabled);
      CHECK(x.batchnorm.eps == z.batchnorm.eps);
      CHECK(x.batchnorm.momentum == z.batchnorm.momentum);
      CHECK(x.dropout == z.dropout);
    }
  }
  for (std::size_t l = 0; l < 2; ++l) {
    CHECK(floats(first.model.bn_running_mean(l)) == floats(m.bn_running_mean(l)));
    CHECK(floats(first.model.bn_running_var(l)) == floats(m.bn_running_var(l)));
    CHECK(floats(first.model.bn_gamma(l)) == floats(m.bn_gamma(l)));
  }
  CHECK(first.model.batches_tracked() == 4);
  CHECK(second.model.batches_tracked() == 0);
  // safetensors to safetensors keeps the count too: the same file.
  const Run direct = run(kConvert + " " + quote(src) + " " + quote(dir.file("direct.safetensors")));
  REQUIRE(direct.exit_code == 0);
  CHECK(fennec_tools::read_whole_file(dir.file("direct.safetensors")) == fennec_tools::read_whole_file(src));
  // Written again from the safetensors it came back as: the same file.
  const Run again = run(kConvert + " " + quote(dir.file("back.safetensors")) + " " + quote(dir.file("again.safetensors")));
  REQUIRE(again.exit_code == 0);
  CHECK(fennec_tools::read_whole_file(dir.file("again.safetensors")) ==
        fennec_tools::read_whole_file(dir.file("back.safetensors")));

  // Folded: no batch norm, no dropout, and the eval outputs of the original.
  const Run fold = run(kConvert + " --fold-batchnorm " + quote(src) + " " + quote(dir.file("folded.fennec")));
  INFO(fold.output);
  REQUIRE(fold.exit_code == 0);
  CHECK(fold.output.find("4-6(relu)-5(tanh)-3(identity)") != std::string::npos);
  const Run fold_st = run(kConvert + " --fold-batchnorm " + quote(dir.file("bn.fennec")) + " " +
                          quote(dir.file("folded.safetensors")));
  REQUIRE(fold_st.exit_code == 0);
  LoadedModel original(src), folded(dir.file("folded.fennec")), folded_st(dir.file("folded.safetensors"));
  CHECK_FALSE(folded.model.spec().has_batchnorm());
  CHECK_FALSE(folded.model.spec().has_dropout());
  CHECK_FALSE(folded_st.model.spec().has_batchnorm());
  const std::vector<float> want = original.eval(x, 4), got = folded.eval(x, 4), got_st = folded_st.eval(x, 4);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    // The fold is computed in double and rounded once: 1e-5 relative (docs/layers.md).
    CHECK(std::fabs(got[i] - want[i]) <= 1e-6f + 1e-5f * std::fabs(want[i]));
    CHECK(got_st[i] == got[i]);
  }
  const std::vector<unsigned char> folded_bytes = fennec_tools::read_whole_file(dir.file("folded.safetensors"));
  const std::string text(folded_bytes.begin(), folded_bytes.end());
  CHECK(text.find("running_mean") == std::string::npos);
  CHECK(text.find("fennec.batchnorm") == std::string::npos);

  const Run help = run(kConvert + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--fold-batchnorm") != std::string::npos);

  // A state_dict as PyTorch writes it (no metadata, num_batches_tracked an I64 scalar): the
  // values survive .fennec and back.
  using fennec_test::st_tensor;
  std::vector<fennec_test::StTensor> ts = fennec_test::st_net_3_4_2<float>("0", "3", "F32");
  ts.insert(ts.begin() + 2, {st_tensor("1.weight", "F32", {4}, std::vector<float>{1.5f, 0.5f, -0.75f, 2.f}),
                             st_tensor("1.bias", "F32", {4}, std::vector<float>{0.1f, -0.2f, 0.3f, 0.f}),
                             st_tensor("1.running_mean", "F32", {4}, std::vector<float>{0.25f, -0.5f, 0.125f, 1.f}),
                             st_tensor("1.running_var", "F32", {4}, std::vector<float>{0.5f, 2.f, 0.0625f, 1.25f}),
                             st_tensor("1.num_batches_tracked", "I64", {}, std::vector<std::int64_t>{37})});
  write_bytes(dir.file("torch.safetensors"), fennec_test::st_file(ts));
  const Run tf = run(kConvert + " --activations relu,identity " + quote(dir.file("torch.safetensors")) + " " +
                     quote(dir.file("torch.fennec")));
  INFO(tf.output);
  REQUIRE(tf.exit_code == 0);
  const Run tb = run(kConvert + " " + quote(dir.file("torch.fennec")) + " " + quote(dir.file("torch_back.safetensors")));
  REQUIRE(tb.exit_code == 0);
  LoadedModel round(dir.file("torch_back.safetensors"));
  CHECK(floats(round.model.bn_gamma(0)) == std::vector<float>{1.5f, 0.5f, -0.75f, 2.f});
  CHECK(floats(round.model.bn_beta(0)) == std::vector<float>{0.1f, -0.2f, 0.3f, 0.f});
  CHECK(floats(round.model.bn_running_mean(0)) == std::vector<float>{0.25f, -0.5f, 0.125f, 1.f});
  CHECK(floats(round.model.bn_running_var(0)) == std::vector<float>{0.5f, 2.f, 0.0625f, 1.25f});
  CHECK(round.model.batches_tracked() == 0);  // not in the model file
  CHECK(round.model.spec().layers[0].batchnorm.eps == 1e-5f);
  const fennec::ConstMatrixView w = round.model.const_weights(0);
  std::vector<float> expect_w(12);
  std::memcpy(expect_w.data(), ts[0].raw.data(), 48);
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 3; ++c) CHECK(w(r, c) == expect_w[r * 3 + c]);
}
