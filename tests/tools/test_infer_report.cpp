// SPDX-License-Identifier: Apache-2.0
// fennec-infer's reports: the confusion matrix, per-class and top-k accuracy checked against the
// library's own forward pass on .npy and CSV sets; --output files (raw float32 logits equal to
// the library's outputs, CSV probabilities); the heat map; warm-up and repeat; and the command
// lines it refuses before loading anything (no data, two sources, flags needing labels, names
// that do not fit the model).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fennec/all.hpp>

#include "common/idx.hpp"
#include "common/npy.hpp"
#include "fennec-infer/confusion_plot.hpp"
#include "fennec-infer/evaluation.hpp"
#include "tools/tools_test_util.hpp"

using fennec_tools::Evaluation;
using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kInfer = quote(FENNEC_INFER_EXE);

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A 6-16-4 classifier with random weights, saved as a model file, and its outputs on `x`
// computed by the library.
struct Fixture {
  static constexpr std::size_t kIn = 6, kClasses = 4, kSamples = 37;
  tools_test::TempDir dir{"infer-report"};
  std::string model = dir.file("m.fennec");
  std::vector<float> x;
  std::vector<std::int32_t> y;
  std::vector<float> logits;  // kSamples x kClasses
  // The table that computed `logits`. fennec-infer is told to use it: under an emulated CPU
  // (qemu64 in CI) this process runs sse2 while the tool it starts runs natively, and the
  // tables' sums differ in their last bits.
  std::string isa;

  Fixture() {
    const fennec::ModelSpec spec = fennec::ModelSpec(kIn)
                                       .dense(16, fennec::ActivationSpec::tanh())
                                       .dense(kClasses, fennec::ActivationSpec::identity());
    const fennec::ModelOptions o = fennec::ModelOptions::inference(kSamples);
    std::vector<unsigned char> storage(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
    fennec::Arena arena(storage.data(), storage.size());
    fennec::Model m = fennec::Model::bind(spec, o, arena).value();
    isa = fennec::isa_name(m.isa());
    fennec::Rng rng(11);
    REQUIRE(m.init_parameters(rng).is_ok());
    REQUIRE(fennec::save_model_file(m, model.c_str()).is_ok());
    for (std::size_t i = 0; i < kSamples * kIn; ++i) x.push_back(static_cast<float>(rng.uniform01() * 4 - 2));
    // Labels: mostly each sample's own arg-max, some others, so every cell kind occurs.
    const fennec::ConstMatrixView out = m.forward(fennec::ConstMatrixView(x.data(), kSamples, kIn)).value();
    for (std::size_t i = 0; i < kSamples; ++i) {
      logits.insert(logits.end(), out.row(i), out.row(i) + kClasses);
      const std::size_t top = fennec::argmax(fennec::ConstVectorView(out.row(i), kClasses));
      y.push_back(static_cast<std::int32_t>(i % 3 == 0 ? (top + i) % kClasses : top));
    }
    std::string error;
    REQUIRE(fennec_tools::write_npy(dir.file("x.npy"), fennec_tools::NpyType::kF32, {kSamples, kIn}, x.data(), error));
    std::vector<std::int64_t> y64(y.begin(), y.end());
    REQUIRE(fennec_tools::write_npy(dir.file("y.npy"), fennec_tools::NpyType::kI64, {kSamples}, y64.data(), error));
    std::FILE* f = std::fopen(dir.file("d.csv").c_str(), "w");
    REQUIRE(f);
    std::fputs("cls,f0,f1,f2,f3,f4,f5\n", f);
    for (std::size_t i = 0; i < kSamples; ++i) {
      std::fprintf(f, "%d", y[i]);
      for (std::size_t j = 0; j < kIn; ++j) std::fprintf(f, ",%.9g", static_cast<double>(x[i * kIn + j]));
      std::fputc('\n', f);
    }
    std::fclose(f);
  }

  // The confusion matrix the library's outputs give.
  std::vector<std::uint64_t> expected_confusion() const {
    std::vector<std::uint64_t> c(kClasses * kClasses, 0);
    for (std::size_t i = 0; i < kSamples; ++i)
      ++c[static_cast<std::size_t>(y[i]) * kClasses + fennec::argmax(fennec::ConstVectorView(&logits[i * kClasses], kClasses))];
    return c;
  }
  std::size_t expected_top2() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < kSamples; ++i) {
      std::size_t higher = 0;
      for (std::size_t j = 0; j < kClasses; ++j) higher += logits[i * kClasses + j] > logits[i * kClasses + y[i]];
      n += higher < 2;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("infer evaluation: confusion, per-class and top-k counts, ties and single-output models",
          "[tools][infer][report]") {
  // Three classes; rows: a clear hit, a miss, a tie (the first maximum is predicted; for top-k the
  // tie counts in the true class's favour).
  const float out[4 * 3] = {3, 1, 0,   // true 0, predicted 0
                            0, 1, 2,   // true 1, predicted 2; 1 is second
                            5, 5, 1,   // true 1, tie: predicted 0; top-1 counts it (none higher)
                            0, 2, 1};  // true 0, predicted 1; 0 is third
  const std::int32_t labels[4] = {0, 1, 1, 0};
  Evaluation e(3, fennec::Loss::kSoftmaxCrossEntropy, 2);
  e.add(fennec::ConstMatrixView(out, 4, 3), labels);
  CHECK(e.classes() == 3);
  CHECK(e.samples() == 4);
  CHECK(e.correct() == 1);
  CHECK(e.count(0, 0) == 1);
  CHECK(e.count(0, 1) == 1);
  CHECK(e.count(1, 2) == 1);
  CHECK(e.count(1, 0) == 1);
  CHECK(e.class_total(0) == 2);
  CHECK(e.class_total(2) == 0);
  CHECK(e.top_k_correct() == 3);  // row 3's true class is third

  // One sigmoid-BCE logit: two classes, z > 0 is class 1.
  const float z[3] = {0.5f, -0.5f, 0.f};
  const std::int32_t t[3] = {1, 1, 0};
  Evaluation b(1, fennec::Loss::kSigmoidBce, 1);
  b.add(fennec::ConstMatrixView(z, 3, 1), t);
  CHECK(b.classes() == 2);
  CHECK(b.count(1, 1) == 1);
  CHECK(b.count(1, 0) == 1);
  CHECK(b.count(0, 0) == 1);
  CHECK(b.top_k_correct() == 2);

  CHECK(fennec_tools::class_names(false, "", 10)[9] == "Ankle boot");
  CHECK(fennec_tools::class_names(false, "", 3) == std::vector<std::string>{"0", "1", "2"});
  CHECK(fennec_tools::class_names(true, "a b,c", 2) == std::vector<std::string>{"a b", "c"});
  CHECK_THROWS_WITH(fennec_tools::class_names(true, "a,b", 3), "--class-names: 2 names for a model of 3 classes");
  CHECK_THROWS_WITH(fennec_tools::class_names(true, "a,,b", 3), "--class-names: empty name in 'a,,b'");
  CHECK_THROWS_WITH(fennec_tools::class_names(true, "a,b,a", 3), "--class-names: 'a' given twice");

  tools_test::TempDir dir("infer-svg");
  std::string error;
  REQUIRE(fennec_tools::confusion_svg(e, {"cat & dog", "b", "c"}, "t").write(dir.file("c.svg"), error));
  const std::string svg = read_text(dir.file("c.svg"));
  CHECK(has(svg, "cat &amp; dog"));
  CHECK(has(svg, "(no samples of this class)"));
  CHECK(has(svg, "predicted class"));
  const Run xml = run("python3 -c \"import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])\" " + quote(dir.file("c.svg")));
  INFO(xml.output);
  CHECK(xml.exit_code == 0);
}

TEST_CASE("fennec-infer on .npy and CSV sets: confusion and accuracy equal the library's, outputs written",
          "[tools][cli][infer][report]") {
  Fixture fx;
  const std::vector<std::uint64_t> expect = fx.expected_confusion();
  std::uint64_t correct = 0;
  for (std::size_t c = 0; c < Fixture::kClasses; ++c) correct += expect[c * Fixture::kClasses + c];
  const std::string names = " --class-names 'north,east,south west,up'";
  const std::string npy = " --inputs " + quote(fx.dir.file("x.npy")) + " --labels " + quote(fx.dir.file("y.npy"));
  const std::string csv = " --inputs " + quote(fx.dir.file("d.csv")) + " --label-column cls";
  for (const std::string& data : {npy, csv}) {
    INFO(data);
    const Run r = run(kInfer + " --model " + quote(fx.model) + data + names + " --isa " + fx.isa +
                      " --confusion --top-k 2 --batch 5 --warmup 3 --repeat 7 --output " + quote(fx.dir.file("o.f32")) +
                      " --plot " + quote(fx.dir.file("c.svg")));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    char line[160];
    std::snprintf(line, sizeof line, "test accuracy: %.2f%% (%llu / %zu)\n",
                  100.0 * static_cast<double>(correct) / Fixture::kSamples, static_cast<unsigned long long>(correct),
                  Fixture::kSamples);
    CHECK(has(r.output, line));
    std::snprintf(line, sizeof line, "top-2 accuracy: %.2f%% (%zu / %zu)\n",
                  100.0 * static_cast<double>(fx.expected_top2()) / Fixture::kSamples, fx.expected_top2(),
                  Fixture::kSamples);
    CHECK(has(r.output, line));
    // One row per true class: the name (spaces as '_'), then the counts.
    const char* row_names[4] = {"north", "east", "south_west", "up"};
    for (std::size_t t = 0; t < Fixture::kClasses; ++t) {
      std::string row = std::string("\n") + row_names[t];
      std::uint64_t total = 0;
      for (std::size_t p = 0; p < Fixture::kClasses; ++p) {
        row += " " + std::to_string(expect[t * Fixture::kClasses + p]);
        total += expect[t * Fixture::kClasses + p];
      }
      CHECK(has(r.output, row + "\n"));
      std::snprintf(line, sizeof line, "accuracy of class %zu (%s): ", t, t == 2 ? "south west" : row_names[t]);
      CHECK(has(r.output, line + (total ? "" : std::string("no samples"))));
    }
    CHECK(has(r.output, "latency (batch 1, 7 samples): median "));
    // The raw outputs are the library's, bit for bit, in sample order.
    const std::string raw = read_text(fx.dir.file("o.f32"));
    REQUIRE(raw.size() == fx.logits.size() * 4);
    CHECK(std::memcmp(raw.data(), fx.logits.data(), raw.size()) == 0);
    const std::string svg = read_text(fx.dir.file("c.svg"));
    CHECK(has(svg, ">south west</text>"));
    CHECK(has(svg, "Confusion matrix: m.fennec on "));
  }

  // Probabilities: a header, then sample, label, predicted class and a softmax row summing to 1.
  const Run p = run(kInfer + " --model " + quote(fx.model) + npy + " --output " + quote(fx.dir.file("p.csv")) +
                    " --repeat 1");
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  std::istringstream lines(read_text(fx.dir.file("p.csv")));
  std::string l;
  REQUIRE(std::getline(lines, l));
  CHECK(l == "sample,label,predicted,prob_0,prob_1,prob_2,prob_3");
  std::size_t rows = 0;
  while (std::getline(lines, l)) {
    unsigned long long sample = 0;
    int label = -1;
    std::size_t predicted = 99;
    double q[4];
    REQUIRE(std::sscanf(l.c_str(), "%llu,%d,%zu,%lf,%lf,%lf,%lf", &sample, &label, &predicted, &q[0], &q[1], &q[2],
                        &q[3]) == 7);
    CHECK(sample == rows);
    CHECK(label == fx.y[rows]);
    CHECK(predicted == fennec::argmax(fennec::ConstVectorView(&fx.logits[rows * 4], 4)));
    CHECK(q[0] + q[1] + q[2] + q[3] == Approx(1.0).margin(1e-6));
    for (std::size_t j = 0; j < 4; ++j) CHECK(q[j] <= q[predicted]);  // the predicted class is the most likely
    ++rows;
  }
  CHECK(rows == Fixture::kSamples);

  // The default class names of a 4-class model are the numbers.
  const Run n = run(kInfer + " --model " + quote(fx.model) + csv + " --samples 10 --confusion");
  INFO(n.output);
  REQUIRE(n.exit_code == 0);
  CHECK(has(n.output, "test accuracy: "));
  CHECK(has(n.output, "/ 10)\n"));
  CHECK(has(n.output, "\n3 "));
  CHECK(has(n.output, "latency (batch 1, 10 samples)"));
}

TEST_CASE("fennec-infer refuses command lines that cannot give a result, before loading anything",
          "[tools][cli][infer][report]") {
  Fixture fx;
  const std::string m = kInfer + " --model " + quote(fx.model);
  const std::string npy = " --inputs " + quote(fx.dir.file("x.npy")) + " --labels " + quote(fx.dir.file("y.npy"));
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {"", 2, "fennec-infer: no data to run on: give --data DIR (IDX), --inputs X.npy --labels y.npy, --inputs "
              "X.csv, or --synthetic N to time random inputs"},
      {" --samples 5", 2, "no data to run on"},
      {" --data /nonexistent --synthetic 3", 2, "--data, --inputs and --synthetic are alternatives: give one"},
      {" --synthetic 3 --confusion", 2, "--confusion needs labelled data (--data or --inputs), not --synthetic"},
      {" --synthetic 3 --plot c.svg", 2, "--plot needs labelled data"},
      {" --synthetic 0", 2, "--synthetic must lie in [1, 100000000], got 0"},
      {" --inputs " + quote(fx.dir.file("x.npy")), 2, "needs --labels y.npy"},
      {" --inputs x.txt", 2, "--inputs x.txt: expected a .npy or a .csv file"},
      {" --labels y.npy --data d", 2, "--labels goes with --inputs X.npy"},
      {npy + " --label-column c", 2, "--label-column goes with --inputs X.csv"},
      {npy + " --top-k 5", 2, "--top-k must lie in [1, 4], got 5"},
      {npy + " --class-names a,b", 2, "--class-names: 2 names for a model of 4 classes"},
      {npy + " --output o.bin", 2, "--output o.bin: the name must end in .f32 (raw float32 logits) or .csv"},
      {npy + " --output /nonexistent/o.f32", 2, "--output: cannot use directory '/nonexistent'"},
      {npy + " --plot c.png", 2, "--plot c.png: the name must end in .svg"},
      {npy + " --repeat 0", 2, "--repeat must lie in [1, "},
      {npy + " --samples 38", 2, "--samples must lie in [1, 37], got 38"},  // more than the set holds
      {" --inputs " + quote(fx.dir.file("x.npy")) + " --labels " + quote(fx.dir.file("x.npy")), 1,
       "labels of dtype float32 are not supported"},
      {" --inputs " + quote(fx.dir.file("d.csv")), 1, "no label column 'label' in the header (columns: cls, f0"},
      {" --data " + quote(fx.dir.str()), 1, "missing train-images-idx3-ubyte"},
  };
  for (const Case& c : cases) {
    const Run direct = run(m + c.args);
    INFO(c.args << "\n" << direct.output);
    CHECK(direct.exit_code == c.exit_code);
    CHECK(has(direct.output, c.message));
    CHECK_FALSE(has(direct.output, "latency"));
  }
  // Labels beyond the model's classes are the data's fault: named with the file and the index.
  std::string error;
  const std::int64_t big[Fixture::kSamples] = {4};
  REQUIRE(fennec_tools::write_npy(fx.dir.file("y4.npy"), fennec_tools::NpyType::kI64, {Fixture::kSamples}, big, error));
  const Run r = run(m + " --inputs " + quote(fx.dir.file("x.npy")) + " --labels " + quote(fx.dir.file("y4.npy")));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(has(r.output, "y4.npy: label 4 at index 0 is not a class: labels are integers in [0, 4)"));
  // Inputs of the wrong width.
  const float wide[2 * 7] = {};
  REQUIRE(fennec_tools::write_npy(fx.dir.file("x7.npy"), fennec_tools::NpyType::kF32, {2, 7}, wide, error));
  const std::int64_t two[2] = {0, 1};
  REQUIRE(fennec_tools::write_npy(fx.dir.file("y2.npy"), fennec_tools::NpyType::kI64, {2}, two, error));
  const Run w = run(m + " --inputs " + quote(fx.dir.file("x7.npy")) + " --labels " + quote(fx.dir.file("y2.npy")));
  CHECK(w.exit_code == 1);
  CHECK(has(w.output, "x7.npy: 7 features per sample, the model takes 6"));
  // -h prints the generated help with every flag and the exit codes.
  const Run h = run(kInfer + " -h");
  CHECK(h.exit_code == 0);
  for (const char* flag : {"--inputs", "--labels", "--label-column", "--synthetic", "--top-k", "--confusion", "--plot",
                           "--class-names", "--output", "--warmup", "--repeat", "Exit status: 0 done"})
    CHECK(has(h.output, flag));
}

TEST_CASE("fennec-infer on a single-output sigmoid-BCE model: two classes, the thresholded logit",
          "[tools][cli][infer][report]") {
  // This shape used to crash the accuracy pass (dense targets were read from class labels).
  tools_test::TempDir dir("infer-bce");
  const fennec::ModelSpec spec =
      fennec::ModelSpec(3).dense(1, fennec::ActivationSpec::identity()).with_loss(fennec::Loss::kSigmoidBce);
  const fennec::ModelOptions o = fennec::ModelOptions::inference(4);
  std::vector<unsigned char> storage(fennec::plan(spec, o).total() + fennec::kArenaAlignment);
  fennec::Arena arena(storage.data(), storage.size());
  fennec::Model m = fennec::Model::bind(spec, o, arena).value();
  fennec::Rng rng(5);
  REQUIRE(m.init_parameters(rng).is_ok());
  REQUIRE(fennec::save_model_file(m, dir.file("b.fennec").c_str()).is_ok());
  const float x[4 * 3] = {1, 2, 3, -1, -2, -3, 0.5f, 0, -0.5f, 3, -3, 1};
  const fennec::ConstMatrixView z = m.forward(fennec::ConstMatrixView(x, 4, 3)).value();
  std::uint8_t y[4];
  std::size_t correct = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    y[i] = static_cast<std::uint8_t>(i % 2);
    correct += (z.row(i)[0] > 0.f) == (y[i] == 1);
  }
  std::string error;
  REQUIRE(fennec_tools::write_npy(dir.file("x.npy"), fennec_tools::NpyType::kF32, {4, 3}, x, error));
  REQUIRE(fennec_tools::write_npy(dir.file("y.npy"), fennec_tools::NpyType::kU8, {4}, y, error));
  const Run r = run(kInfer + " --model " + quote(dir.file("b.fennec")) + " --inputs " + quote(dir.file("x.npy")) +
                    " --labels " + quote(dir.file("y.npy")) + " --confusion --output " + quote(dir.file("p.csv")));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.output, "test accuracy: " ));
  CHECK(has(r.output, "(" + std::to_string(correct) + " / 4)\n"));
  CHECK(has(r.output, "accuracy of class 1: "));
  CHECK(has(read_text(dir.file("p.csv")), "sample,label,predicted,prob_0\n"));
}

TEST_CASE("fennec-infer: an IDX directory and the same images as uint8 .npy give the same report",
          "[tools][cli][infer][report]") {
  Fixture fx;
  std::vector<std::uint8_t> images(Fixture::kSamples * Fixture::kIn), labels(Fixture::kSamples);
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(fx.y[i]);
  const std::uint32_t n = Fixture::kSamples;
  std::string error;
  for (const char* split : {"train", "t10k"}) {
    REQUIRE(fennec_tools::write_idx(fx.dir.file(std::string(split) + "-images-idx3-ubyte"), {n, 2, 3}, images.data(),
                                    false, error));
    REQUIRE(fennec_tools::write_idx(fx.dir.file(std::string(split) + "-labels-idx1-ubyte"), {n}, labels.data(), false,
                                    error));
  }
  REQUIRE(fennec_tools::write_npy(fx.dir.file("xu8.npy"), fennec_tools::NpyType::kU8, {n, 2, 3}, images.data(), error));
  REQUIRE(fennec_tools::write_npy(fx.dir.file("yu8.npy"), fennec_tools::NpyType::kU8, {n}, labels.data(), error));
  const std::string m = kInfer + " --model " + quote(fx.model) + " --confusion --top-k 3 --repeat 1";
  const Run idx = run(m + " --data " + quote(fx.dir.str()));
  const Run npy = run(m + " --inputs " + quote(fx.dir.file("xu8.npy")) + " --labels " + quote(fx.dir.file("yu8.npy")));
  INFO(idx.output << "\n" << npy.output);
  REQUIRE(idx.exit_code == 0);
  REQUIRE(npy.exit_code == 0);
  // Everything from the accuracy line to the last confusion row.
  auto report = [](const std::string& out) {
    const std::size_t a = out.find("test accuracy: "), b = out.find("latency (");
    return a == std::string::npos || b == std::string::npos ? std::string() : out.substr(a, b - a);
  };
  CHECK_FALSE(report(idx.output).empty());
  CHECK(report(idx.output) == report(npy.output));
}
