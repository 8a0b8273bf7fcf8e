// SPDX-License-Identifier: Apache-2.0
// fennec-train on .npy and CSV files: the same samples as IDX, as uint8 .npy and as float CSV
// train to the same epoch lines and the same model bytes; bad files are refused with the
// reader's message; a CSV label column is found by name; the flags are checked before any data
// is read.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "common/csv_samples.hpp"
#include "common/npy.hpp"
#include "common/sample_set.hpp"
#include "tools/tools_test_util.hpp"
#include "tools/train_dataset.hpp"

using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kTrain = tools_test::program(FENNEC_TRAIN_EXE);

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

std::string epoch_lines(const std::string& out) {
  std::string r;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.compare(0, 6, "epoch ") == 0) r += l + "\n";
  return r;
}

void write_npy_set(const tools_test::Generated& g, const std::string& x, const std::string& y) {
  std::string error;
  const std::uint64_t n = g.labels.size();
  REQUIRE(fennec_tools::write_npy(x, fennec_tools::NpyType::kU8, {n, 8, 8}, g.images.data(), error));
  REQUIRE(fennec_tools::write_npy(y, fennec_tools::NpyType::kU8, {n}, g.labels.data(), error));
}

// The pixels as the floats IDX batches hold (v * (1/255), printed so they read back exactly), the
// label in column `label_at` under the name `label_name`.
std::string csv_text(const tools_test::Generated& g, std::size_t label_at, const std::string& label_name) {
  const std::size_t n = g.labels.size(), width = 64;
  std::string text;
  for (std::size_t c = 0, f = 0; c <= width; ++c) {
    text += c ? "," : "";
    text += c == label_at ? label_name : "f" + std::to_string(f++);
  }
  text += "\n";
  char cell[32];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0, f = 0; c <= width; ++c) {
      text += c ? "," : "";
      if (c == label_at) {
        text += std::to_string(g.labels[i]);
      } else {
        std::snprintf(cell, sizeof cell, "%.9g", static_cast<double>(static_cast<float>(g.images[i * width + f++]) *
                                                                      (1.0f / 255.0f)));
        text += cell;
      }
    }
    text += "\n";
  }
  return text;
}

Run train(const std::string& data_flags, const std::string& model) {
  return run(kTrain + " " + data_flags +
             " --hidden 16 --batch 20 --epochs 2 --lr 0.005 --val-split 0.2 --seed 3 --no-progress --save " +
             quote(model));
}

void expect_usage_error(const std::string& args, const std::string& message) {
  const Run r = run(kTrain + " " + args + " --no-progress");
  INFO("fennec-train " << args << "\n" << r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("fennec-train: error: " + message) != std::string::npos);
  CHECK(r.output.find("data: ") == std::string::npos);  // refused before any data is read
}

void expect_data_error(const std::string& args, const std::string& message) {
  const Run r = run(kTrain + " " + args + " --hidden 8 --epochs 1 --no-progress");
  INFO("fennec-train " << args << "\n" << r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("fennec-train: error: " + message) != std::string::npos);
}

}  // namespace

TEST_CASE("fennec-train: the same samples as IDX, uint8 .npy and CSV train to the same model",
          "[tools][cli][train_inputs]") {
  tools_test::TempDir dir("train-inputs-same");
  tools_test::make_dataset(dir, false, 200, 50);
  const tools_test::Generated tr = tools_test::generate(200, 1), te = tools_test::generate(50, 2);
  write_npy_set(tr, dir.file("x.npy"), dir.file("y.npy"));
  write_npy_set(te, dir.file("xt.npy"), dir.file("yt.npy"));
  write_text(dir.file("train.csv"), csv_text(tr, 64, "label"));
  write_text(dir.file("test.csv"), csv_text(te, 64, "label"));
  write_text(dir.file("train_named.csv"), csv_text(tr, 10, "class"));
  write_text(dir.file("test_named.csv"), csv_text(te, 10, "class"));

  const Run idx = train("--data " + quote(dir.str()), dir.file("idx.fen"));
  INFO(idx.output);
  REQUIRE(idx.exit_code == 0);
  const Run npy = train("--train-inputs " + quote(dir.file("x.npy")) + " --train-labels " + quote(dir.file("y.npy")) +
                            " --test-inputs " + quote(dir.file("xt.npy")) + " --test-labels " +
                            quote(dir.file("yt.npy")),
                        dir.file("npy.fen"));
  INFO(npy.output);
  REQUIRE(npy.exit_code == 0);
  CHECK(npy.output.find("data: " + dir.file("x.npy") + ": 200 train, 50 test samples of 64 features, 3 classes") !=
        std::string::npos);
  CHECK(npy.output.find("validation: 40 of the 200 training samples held out (--val-split 0.2)") != std::string::npos);
  CHECK(npy.output.find("model: 64-16-3 ") != std::string::npos);  // the width from the data
  CHECK(npy.output.find("(50 samples, after epoch 2)") != std::string::npos);
  CHECK(npy.output.find("heap allocations after setup: 0") != std::string::npos);
  const Run csv = train("--train-inputs " + quote(dir.file("train.csv")) + " --test-inputs " +
                            quote(dir.file("test.csv")),
                        dir.file("csv.fen"));
  INFO(csv.output);
  REQUIRE(csv.exit_code == 0);
  const Run named = train("--train-inputs " + quote(dir.file("train_named.csv")) + " --test-inputs " +
                              quote(dir.file("test_named.csv")) + " --label-column class",
                          dir.file("named.fen"));
  INFO(named.output);
  REQUIRE(named.exit_code == 0);

  const std::string lines = epoch_lines(idx.output);
  REQUIRE(lines.find("epoch 2/2") != std::string::npos);
  CHECK(epoch_lines(npy.output) == lines);
  CHECK(epoch_lines(csv.output) == lines);
  CHECK(epoch_lines(named.output) == lines);
  const std::string model = slurp(dir.file("idx.fen"));
  REQUIRE(!model.empty());
  CHECK(slurp(dir.file("npy.fen")) == model);  // uint8 .npy reads as IDX bytes do
  CHECK(slurp(dir.file("csv.fen")) == model);  // the CSV holds the very floats IDX batches hold
  CHECK(slurp(dir.file("named.fen")) == model);

  // Without a test set: trained, no test line.
  const Run no_test = run(kTrain + " --train-inputs " + quote(dir.file("train.csv")) +
                          " --hidden 8 --epochs 1 --batch 50 --no-progress");
  INFO(no_test.output);
  CHECK(no_test.exit_code == 0);
  CHECK(no_test.output.find("epoch 1/1") != std::string::npos);
  CHECK(no_test.output.find("test loss") == std::string::npos);
}

TEST_CASE("fennec-train: bad .npy and CSV files are refused with the reader's message", "[tools][cli][train_inputs]") {
  tools_test::TempDir dir("train-inputs-bad");
  const tools_test::Generated tr = tools_test::generate(30, 1);
  write_npy_set(tr, dir.file("x.npy"), dir.file("y.npy"));
  const std::string npy_labels = " --train-labels " + quote(dir.file("y.npy"));
  std::string error;
  fennec_tools::SampleSet unused;

  // A truncated .npy: the message read_npy gives.
  const std::string whole = slurp(dir.file("x.npy"));
  write_text(dir.file("cut.npy"), whole.substr(0, whole.size() - 7));
  REQUIRE_FALSE(fennec_tools::load_samples(dir.file("cut.npy"), dir.file("y.npy"), "label", 1u << 16, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("cut.npy")) + npy_labels, error);
  // Labels of another length.
  write_npy_set(tools_test::generate(29, 1), dir.file("x29.npy"), dir.file("y29.npy"));
  REQUIRE_FALSE(fennec_tools::load_samples(dir.file("x.npy"), dir.file("y29.npy"), "label", 1u << 16, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("x.npy")) + " --train-labels " + quote(dir.file("y29.npy")),
                    error);
  CHECK(error.find("labels of shape (29,)") != std::string::npos);

  // A CSV with a NaN, one with a short row, one without the label column.
  std::string text = csv_text(tr, 64, "label");
  std::string nan = text;
  nan.replace(nan.find('\n', nan.find('\n') + 1) + 1, 1, "nan");
  write_text(dir.file("nan.csv"), nan);
  REQUIRE_FALSE(fennec_tools::load_csv_samples(dir.file("nan.csv"), "label", 1u << 16, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("nan.csv")), error);
  write_text(dir.file("short.csv"), text.substr(0, text.size() - 20));
  REQUIRE_FALSE(fennec_tools::load_csv_samples(dir.file("short.csv"), "label", 1u << 16, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("short.csv")), error);
  write_text(dir.file("ok.csv"), text);
  REQUIRE_FALSE(fennec_tools::load_csv_samples(dir.file("ok.csv"), "kind", 1u << 16, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("ok.csv")) + " --label-column kind", error);

  // A test set of another width, and one with a label the training set lacks.
  write_text(dir.file("narrow.csv"), "a,b,label\n0.5,0.25,1\n");
  expect_data_error("--train-inputs " + quote(dir.file("ok.csv")) + " --test-inputs " + quote(dir.file("narrow.csv")),
                    dir.file("narrow.csv") + ": 2 features per sample, the training set " + dir.file("ok.csv") +
                        " has 64");
  std::string bad_label = csv_text(tools_test::generate(3, 2), 64, "label");
  bad_label.replace(bad_label.size() - 2, 1, "7");
  write_text(dir.file("label7.csv"), bad_label);
  REQUIRE_FALSE(fennec_tools::load_csv_samples(dir.file("label7.csv"), "label", 3, unused, error));
  expect_data_error("--train-inputs " + quote(dir.file("ok.csv")) + " --test-inputs " + quote(dir.file("label7.csv")),
                    error);
  // One class only.
  write_text(dir.file("one.csv"), "a,label\n0.5,0\n0.25,0\n");
  expect_data_error("--train-inputs " + quote(dir.file("one.csv")),
                    dir.file("one.csv") + ": every label is 0; need at least 2 classes");
}

TEST_CASE("fennec-train: the data file flags are checked before any data is read", "[tools][cli][train_inputs]") {
  tools_test::TempDir dir("train-inputs-flags");
  const std::string x = quote(dir.file("x.npy")), y = quote(dir.file("y.npy")), c = quote(dir.file("t.csv"));
  expect_usage_error("--train-inputs " + quote(dir.file("x.txt")), "--train-inputs '" + dir.file("x.txt") +
                                                                      "': expected a .npy or a .csv file");
  expect_usage_error("--train-inputs " + x, "--train-inputs " + dir.file("x.npy") + " needs --train-labels y.npy");
  expect_usage_error("--train-labels " + y, "--train-labels goes with --train-inputs X.npy");
  expect_usage_error("--train-inputs " + c + " --train-labels " + y, "--train-labels: a CSV file holds its labels");
  expect_usage_error("--data " + quote(dir.str()) + " --train-inputs " + c, "--data and --train-inputs are alternatives");
  expect_usage_error("--test-inputs " + c, "--test-inputs goes with --train-inputs");
  expect_usage_error("--train-inputs " + c + " --test-inputs " + x, "--test-inputs " + dir.file("x.npy") +
                                                                        " needs --test-labels y.npy");
  expect_usage_error("--train-inputs " + x + " --train-labels " + y + " --label-column k",
                     "--label-column goes with CSV inputs");
  expect_usage_error("--train-inputs " + c + " --label-column=", "--label-column needs a column name");
  expect_usage_error("--train-inputs " + c + " --val " + quote(dir.str()), "--val DIR is an IDX directory");
  expect_usage_error("--train-inputs " + c + " --eval-test-every-epoch", "--eval-test-every-epoch needs a test set");
  const Run help = run(kTrain + " --help");
  CHECK(help.output.find("--train-inputs FILE") != std::string::npos);
  CHECK(help.output.find("--label-column NAME") != std::string::npos);
}
