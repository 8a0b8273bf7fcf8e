// SPDX-License-Identifier: Apache-2.0
// fennec-quantize end to end: a model trained by fennec-train on a tiny IDX set is quantized,
// the int8 file loads through the library, fennec-infer prints the same lines for the f32 and
// the int8 model (numbers aside) with accuracies close together; and every refusal is a sentence
// with the right exit status and no OUT left behind.
#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io_file.hpp>
#include <fennec/quant_io.hpp>

#include "tools/tools_test_util.hpp"
#include "tools/train_dataset.hpp"

using tools_test::program;
using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kTrain = program(FENNEC_TRAIN_EXE);
const std::string kQuantize = program(FENNEC_QUANTIZE_EXE);
const std::string kInfer = program(FENNEC_INFER_EXE);
const std::string kConvert = program(FENNEC_CONVERT_EXE);

std::vector<unsigned char> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

bool has(const Run& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

// A line with every run of digits (and a decimal point inside one) replaced by '#': what
// fennec-infer prints, whatever the figures.
std::string shape(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    if (std::isdigit(static_cast<unsigned char>(line[i]))) {
      while (i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == '.')) ++i;
      out += '#';
    } else {
      out += line[i++];
    }
  }
  return out;
}

// The lines after the two set-up lines (model:, arena:), reduced to their shapes.
std::vector<std::string> report_shapes(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model: ", 0) != 0 && line.rfind("arena: ", 0) != 0) lines.push_back(shape(line));
  return lines;
}

double accuracy(const Run& r) {
  const std::size_t at = r.output.find("test accuracy: ");
  REQUIRE(at != std::string::npos);
  return std::stod(r.output.substr(at + 15));
}

// A tiny IDX set (8x8 images, 3 classes) and a 64-16-3 model trained on it.
struct Trained {
  tools_test::TempDir dir{"quantize"};
  std::string model = dir.file("m.fennec");
  Trained() {
    tools_test::make_dataset(dir, false);
    const Run t = run(kTrain + " --data " + quote(dir.str()) + " --hidden 16 --epochs 3 --batch 32 --lr 0.01 " +
                      "--no-progress --save " + quote(model));
    INFO(t.output);
    REQUIRE(t.exit_code == 0);
  }
  std::string quantize(const std::string& out, const std::string& flags = "") const {
    return kQuantize + " " + quote(model) + " " + quote(out) + " --calibration " + quote(dir.str()) + " " + flags;
  }
};

}  // namespace

TEST_CASE("fennec-quantize: the int8 file loads, fennec-infer reports it like the f32 model",
          "[tools][cli][quantize][quant]") {
  Trained t;
  const std::string q = t.dir.file("q.fennec");
  const Run made = run(t.quantize(q, "--samples 200 --seed 7"));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  CHECK(has(made, "calibration: 200 of 600 images of "));
  CHECK(has(made, "(seed 7), clip minmax"));
  // Pixels are never negative: z_x = -128.
  CHECK(has(made, "layer 1 (64 -> 16, relu): input scale 0.00"));
  CHECK(has(made, ", zero point -128\nlayer 2"));
  CHECK(has(made, "layer 2 (16 -> 3, identity): input scale "));
  CHECK(has(made, "weights: f32 4288 bytes, int8 1072 bytes (4.00x smaller)\n"));

  // The file the library reads back.
  const std::vector<unsigned char> bytes = read_all(q);
  REQUIRE(fennec::is_quantized_file(bytes.data(), bytes.size()));
  fennec::Result<fennec::ModelSpec> spec = fennec::read_quantized_spec(bytes.data(), bytes.size());
  REQUIRE(spec.is_ok());
  CHECK(spec->input == 64);
  CHECK(spec->num_layers == 2);
  std::vector<unsigned char> mem(fennec::quantized_plan(spec.value(), 1).total() + fennec::kArenaAlignment);
  fennec::Arena arena(mem.data(), mem.size());
  fennec::Result<fennec::QuantizedModel> loaded =
      fennec::load_quantized_model(bytes.data(), bytes.size(), 1, fennec::Isa::kAuto, arena);
  INFO(loaded.status().message());
  REQUIRE(loaded.is_ok());

  // The same seed draws the same images: the same file, byte for byte.
  const std::string again = t.dir.file("again.fennec");
  REQUIRE(run(t.quantize(again, "--samples 200 --seed 7")).exit_code == 0);
  CHECK(read_all(again) == bytes);

  const std::string flags = " --data " + quote(t.dir.str()) + " --top-k 2 --confusion --warmup 2 --repeat 20";
  const Run f32 = run(kInfer + " --model " + quote(t.model) + flags + " --output " + quote(t.dir.file("o1.csv")));
  const Run int8 = run(kInfer + " --model " + quote(q) + flags + " --output " + quote(t.dir.file("o2.csv")));
  INFO(f32.output);
  INFO(int8.output);
  REQUIRE(f32.exit_code == 0);
  REQUIRE(int8.exit_code == 0);
  CHECK(has(int8, "model: " + q + " (fennec int8, " + std::to_string(bytes.size()) + " bytes): 64-16(relu)-3(identity)"));
  CHECK(has(int8, "arena: "));
  CHECK_FALSE(has(f32, "int8"));
  const std::vector<std::string> a = report_shapes(f32.output), b = report_shapes(int8.output);
  CHECK(a == b);
  CHECK(has(int8, "test accuracy: "));
  CHECK(has(int8, "top-2 accuracy: "));
  CHECK(has(int8, "accuracy of class 2: "));
  CHECK(has(int8, "latency (batch 1, 20 samples): median "));
  // 150 test images: int8 within 2 points (3 images) of f32.
  CHECK(std::abs(accuracy(int8) - accuracy(f32)) <= 2.0);
  CHECK(accuracy(int8) >= 80.0);
  const std::vector<unsigned char> csv32 = read_all(t.dir.file("o1.csv")), csv8 = read_all(t.dir.file("o2.csv"));
  const std::string head32(csv32.begin(), csv32.begin() + 40), head8(csv8.begin(), csv8.begin() + 40);
  CHECK(head32.substr(0, head32.find('\n')) == head8.substr(0, head8.find('\n')));

  // The percentile clip, on every training image (the default 1000 is more than the 600 here).
  const std::string p = t.dir.file("p.fennec");
  const Run pct = run(t.quantize(p, "--clip percentile --percentile 99.9"));
  INFO(pct.output);
  REQUIRE(pct.exit_code == 0);
  CHECK(has(pct, "calibration: 600 of 600 images"));
  CHECK(has(pct, "clip percentile 99.9\n"));
  const Run pct_infer = run(kInfer + " --model " + quote(p) + " --data " + quote(t.dir.str()) + " --repeat 5");
  INFO(pct_infer.output);
  REQUIRE(pct_infer.exit_code == 0);
  CHECK(std::abs(accuracy(pct_infer) - accuracy(f32)) <= 2.0);
}

TEST_CASE("fennec-quantize: refusals say why, with the right exit status, and write nothing",
          "[tools][cli][quantize][quant]") {
  Trained t;
  const std::string out = t.dir.file("out.fennec");
  struct Case {
    std::string command;
    int exit_code;
    std::string message;
  };
  const std::string q = t.dir.file("q.fennec"), st = t.dir.file("m.safetensors"), text = t.dir.file("notes.txt");
  REQUIRE(run(t.quantize(q, "--samples 10")).exit_code == 0);
  REQUIRE(run(kConvert + " " + quote(t.model) + " " + quote(st)).exit_code == 0);
  {
    std::ofstream f(text);
    f << "not a model\n";
  }
  const std::string cal = " --calibration " + quote(t.dir.str());
  const std::vector<Case> cases = {
      {kQuantize + " " + quote(t.model) + " " + quote(out) + " --calibration " + quote(t.dir.file("nowhere")), 1,
       "nowhere: cannot access data directory"},
      {kQuantize + " " + quote(t.model) + " " + quote(out), 2, "--calibration DIR is required"},
      {kQuantize + " " + quote(q) + " " + quote(out) + cal, 1,
       "is already an int8 (quantized) model file; fennec-quantize reads the f32"},
      {kQuantize + " " + quote(st) + " " + quote(out) + cal, 1, "is a safetensors file; fennec-quantize reads an f32 "
       "Fennec model file: convert it first (fennec-convert"},
      {kQuantize + " " + quote(text) + " " + quote(out) + cal, 1, "is a text file; fennec-quantize reads an f32"},
      {kQuantize + " " + quote(t.dir.file("missing.fennec")) + " " + quote(out) + cal, 1, "cannot open"},
      {t.quantize(out, "--samples 0"), 2, "--samples 0: calibration needs at least one image"},
      {t.quantize(out, "--samples 601"), 2, "--samples 601: "},
      {kQuantize + " " + quote(t.model) + " " + quote(t.model) + cal, 2, "is IN: write the int8 model to another"},
      {t.quantize(out, "--clip percentile --percentile 50"), 2, "--percentile 50: expected 50 < P <= 100"},
      {t.quantize(out, "--clip percentile --percentile 100.5"), 2, "--percentile 100.5: expected 50 < P <= 100"},
      {t.quantize(out, "--percentile 99"), 2, "--percentile goes with --clip percentile"},
      {t.quantize(out, "--clip kl"), 2, "--clip 'kl': expected minmax or percentile"},
      {kQuantize + " " + quote(t.model) + cal, 2, "expected IN and OUT"},
  };
  for (const Case& c : cases) {
    const Run r = run(c.command);
    INFO(c.command << "\n" << r.output);
    CHECK(r.exit_code == c.exit_code);
    CHECK(has(r, c.message));
    CHECK_FALSE(exists(out));
  }

  // A model whose input is not the images' 64 pixels, and one with a sigmoid layer (no int8 form).
  struct BadModel {
    std::string name;
    fennec::ModelSpec spec;
    std::string message;
  };
  const std::vector<BadModel> bad = {
      {"wide.fennec", fennec::ModelSpec(10).dense(3, fennec::ActivationSpec::identity()),
       "images of 64 pixels, the model takes 10 inputs"},
      {"sigmoid.fennec",
       fennec::ModelSpec(64).dense(4, fennec::ActivationSpec::sigmoid()).dense(3, fennec::ActivationSpec::identity()),
       "has no int8 form"},
  };
  for (const BadModel& bm : bad) {
    const fennec::ModelSpec& spec = bm.spec;
    const fennec::ModelOptions o = fennec::ModelOptions::inference(1);
    std::vector<unsigned char> mem(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
    fennec::Arena arena(mem.data(), mem.size());
    fennec::Result<fennec::Model> m = fennec::Model::bind(spec, o, arena);
    REQUIRE(m.is_ok());
    fennec::Rng rng(2);
    REQUIRE(m.value().init_parameters(rng).is_ok());
    const std::string path = t.dir.file(bm.name);
    REQUIRE(fennec::save_model_file(m.value(), path.c_str()).is_ok());
    const Run r = run(kQuantize + " " + quote(path) + " " + quote(out) + cal + " --samples 10");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(has(r, bm.message));
    CHECK_FALSE(exists(out));
  }

  const Run help = run(kQuantize + " --help");
  CHECK(help.exit_code == 0);
  CHECK(has(help, "Examples:\n  fennec-quantize m.fennec m8.fennec --calibration"));
}

TEST_CASE("fennec-quantize: a batch-norm model is folded first and keeps its accuracy",
          "[tools][cli][quantize][quant]") {
  tools_test::TempDir dir("quantize-bn");
  tools_test::make_dataset(dir, false);
  const std::string model = dir.file("bn.fennec"), q = dir.file("bn8.fennec");
  const Run t = run(kTrain + " --data " + quote(dir.str()) + " --hidden 16 --batchnorm --dropout 0.1 --epochs 3 " +
                    "--batch 32 --lr 0.01 --no-progress --save " + quote(model));
  INFO(t.output);
  REQUIRE(t.exit_code == 0);
  const Run made = run(kQuantize + " " + quote(model) + " " + quote(q) + " --calibration " + quote(dir.str()));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  CHECK(has(made, "(batch norm folded into its dense layers)"));
  const Run f32 = run(kInfer + " --model " + quote(model) + " --data " + quote(dir.str()) + " --repeat 5");
  const Run int8 = run(kInfer + " --model " + quote(q) + " --data " + quote(dir.str()) + " --repeat 5");
  INFO(f32.output);
  INFO(int8.output);
  REQUIRE(f32.exit_code == 0);
  REQUIRE(int8.exit_code == 0);
  CHECK(has(int8, "64-16(relu)-3(identity)"));  // no bn, no dropout left in the int8 spec
  CHECK(std::abs(accuracy(int8) - accuracy(f32)) <= 2.0);
}
