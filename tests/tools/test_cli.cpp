// SPDX-License-Identifier: Apache-2.0
// The programs end to end: fennec-train learns a small generated IDX data set and refuses bad
// data and flags with a message and an exit code; the studies run from the command line.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io_file.hpp>

#include "common/idx.hpp"
#include "tools/tools_test_util.hpp"
#include "tools/train_dataset.hpp"

using tools_test::expected_isa_line;
using tools_test::program;
using tools_test::quote;
using tools_test::run;
using tools_test::Run;
using tools_test::make_dataset;

namespace {

const std::string kTrain = program(FENNEC_TRAIN_EXE);

// Last "test acc X" on the output.
double last_test_accuracy(const std::string& out) {
  const std::size_t p = out.rfind("test acc ");
  if (p == std::string::npos) return -1;
  return std::atof(out.c_str() + p + 9);
}

void expect_failure(const std::string& args, int code, const std::string& message) {
  const Run r = run(kTrain + " " + args + " --no-progress");
  INFO("fennec-train " << args << "\n" << r.output);
  CHECK(r.exit_code == code);
  CHECK(r.output.find(message) != std::string::npos);
  CHECK(r.output.find("fennec-train: error: ") != std::string::npos);
}

}  // namespace

TEST_CASE("fennec-train learns a generated data set (plain and gzip files)", "[tools][cli]") {
  for (bool gzip : {false, true}) {
    tools_test::TempDir dir(gzip ? "train-gz" : "train-plain");
    make_dataset(dir, gzip);
    const Run r = run(kTrain + " --data " + quote(dir.str()) +
                      " --hidden 32 --epochs 4 --batch 16 --lr 0.005 --seed 3 --no-progress");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("600 train, 150 test images of 8x8, 3 classes") != std::string::npos);
    CHECK(r.output.find("epoch 4/4") != std::string::npos);
    CHECK(last_test_accuracy(r.output) >= 0.95);
    CHECK(r.output.find("heap allocations after setup: 0") != std::string::npos);
    CHECK(r.output.find(expected_isa_line()) != std::string::npos);
    CHECK(r.output.find("arena: model plan ") != std::string::npos);
  }
}

TEST_CASE("fennec-train --save writes a model file that loads", "[tools][cli]") {
  tools_test::TempDir dir("train-save");
  make_dataset(dir, false, 100, 30);
  const std::string path = dir.file("m.fen");
  const Run r = run(kTrain + " --data " + quote(dir.str()) + " --hidden 12 --epochs 1 --batch 20 --save " +
                    quote(path) + " --no-progress");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("model saved: " + path) != std::string::npos);
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_file_info(path.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->spec.input == 64);
  REQUIRE(info->spec.num_layers == 2);
  CHECK(info->spec.layers[0].units == 12);
  CHECK(info->spec.layers[1].units == 3);
}

TEST_CASE("fennec-train: same seed, same log", "[tools][cli]") {
  tools_test::TempDir dir("train-seed");
  make_dataset(dir, false, 200, 50);
  const std::string cmd = kTrain + " --data " + quote(dir.str()) +
                          " --hidden 16 --epochs 2 --batch 10 --optimizer momentum --lr 0.05 --seed 9 "
                          "--no-progress | grep '^epoch' | sed 's/  [0-9.]* s .*//'";
  const Run a = run(cmd), b = run(cmd);
  REQUIRE(a.exit_code == 0);
  CHECK(a.output.find("epoch 2/2") != std::string::npos);
  CHECK(a.output == b.output);
}

TEST_CASE("fennec-train: bad data directories", "[tools][cli]") {
  tools_test::TempDir dir("train-bad");
  expect_failure("--data " + quote(dir.file("absent")), 1, "cannot access data directory");
  expect_failure("--data " + quote(dir.str()), 1, "missing train-images-idx3-ubyte");
  make_dataset(dir, false, 40, 10);
  std::string error;
  const std::string tri = dir.file("train-images-idx3-ubyte");

  // Wrong magic.
  {
    std::FILE* f = std::fopen(tri.c_str(), "r+b");
    REQUIRE(f);
    std::fputc(0x42, f);
    std::fclose(f);
    expect_failure("--data " + quote(dir.str()), 1, "not an IDX file");
  }
  // Test images of another size than the training images.
  make_dataset(dir, false, 40, 10);
  std::vector<std::uint8_t> px(40 * 64, 0);  // large enough for every array written below
  REQUIRE(fennec_tools::write_idx(dir.file("t10k-images-idx3-ubyte"), {10, 9, 9}, px.data(), false, error));
  expect_failure("--data " + quote(dir.str()), 1, "image size mismatch");
  // Images stored as a 2-D array.
  make_dataset(dir, false, 40, 10);
  REQUIRE(fennec_tools::write_idx(tri, {40, 64}, px.data(), false, error));
  expect_failure("--data " + quote(dir.str()), 1, "expected 3 dimensions, the file has 2");
  // Label count differs from image count.
  make_dataset(dir, false, 40, 10);
  REQUIRE(fennec_tools::write_idx(dir.file("train-labels-idx1-ubyte"), {39}, px.data(), false, error));
  expect_failure("--data " + quote(dir.str()), 1, "39 labels for 40 training images");
  // Truncated training images.
  make_dataset(dir, false, 40, 10);
  REQUIRE(::truncate(tri.c_str(), 16 + 40 * 64 - 5) == 0);
  expect_failure("--data " + quote(dir.str()), 1, "truncated");
  // A gzip file with its tail cut off (the .gz is found when the plain file is absent).
  make_dataset(dir, true, 40, 10);
  std::remove(tri.c_str());
  REQUIRE(::truncate((tri + ".gz").c_str(), 30) == 0);
  expect_failure("--data " + quote(dir.str()), 1, "truncated or corrupt");
  // A test label that no training image has.
  make_dataset(dir, false, 40, 10);
  std::vector<std::uint8_t> labels(10, 7);
  REQUIRE(fennec_tools::write_idx(dir.file("t10k-labels-idx1-ubyte"), {10}, labels.data(), false, error));
  expect_failure("--data " + quote(dir.str()), 1, "label 7 is not among the 3 training classes");
}

TEST_CASE("fennec-train: bad flags", "[tools][cli]") {
  tools_test::TempDir dir("train-flags");
  make_dataset(dir, false, 40, 10);
  const std::string d = "--data " + quote(dir.str()) + " ";
  expect_failure(d + "--lr -1", 2, "--lr must be > 0");
  expect_failure(d + "--lr abc", 2, "--lr: expected a finite number, got 'abc'");
  expect_failure(d + "--lr nan", 2, "expected a finite number");
  expect_failure(d + "--batch 0", 2, "--batch must lie in [1, 65536], got 0");
  expect_failure(d + "--epochs -3", 2, "--epochs: expected a non-negative integer");
  expect_failure(d + "--hidden 512,0", 2, "width 0 must lie in");
  expect_failure(d + "--hidden 12x", 2, "--hidden (in '12x')");
  expect_failure(d + "--optimizer adamax", 2, "unknown optimizer 'adamax'");
  expect_failure(d + "--activation swish", 2, "unknown activation 'swish'");
  expect_failure(d + "--init normal:-1", 2, "SIGMA >= 0");
  expect_failure(d + "--init lecun", 2, "unknown initialiser 'lecun'");
  expect_failure(d + "--isa mmx", 2, "unknown ISA 'mmx'");
  expect_failure(d + "--frobnicate", 2, "unknown flag --frobnicate");
  expect_failure(d + "--lr", 2, "--lr needs a value");
  expect_failure(d + "--lr 1 --lr 2", 2, "--lr given twice");
  expect_failure(d + "stray", 2, "unexpected argument 'stray'");
  expect_failure(d + "--save=", 2, "--save needs a file name");
  // Destinations are checked before the data is read or a step is taken.
  expect_failure(d + "--epochs 100000 --save " + quote(dir.file("no/such/dir/m.fen")), 2,
                 "--save: cannot use directory '" + dir.file("no/such/dir") + "'");
  expect_failure(d + "--epochs 100000 --save " + quote(dir.str()), 2, "is a directory, not a file name");
  expect_failure(d + "--epochs 100000 --checkpoint " + quote(dir.file("none/c.ckpt")), 2,
                 "--checkpoint: cannot use directory");
  expect_failure(d + "--hidden=", 2, "--hidden needs widths");
  expect_failure(d + "--hidden ''", 2, "--hidden needs widths");
  expect_failure(d + "--activation relu:0.5", 2, "only leaky_relu takes a parameter");
  expect_failure(d + "--train-samples 41", 2, "exceeds the 40 training images");
  expect_failure(d + "--weight-decay -0.1", 2, "--weight-decay must be >= 0");
  const Run help = run(kTrain + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("usage: fennec-train") != std::string::npos);
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The "epoch k/E ..." lines without E and the timings.
std::string epoch_lines(const std::string& out) {
  std::string lines;
  std::size_t p = 0;
  while (p < out.size()) {
    std::size_t end = out.find('\n', p);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(p, end - p);
    p = end + 1;
    if (line.compare(0, 6, "epoch ") != 0) continue;
    const std::size_t t = line.find("  test acc ");
    if (t != std::string::npos) line = line.substr(0, line.find(' ', t + 11));
    line.erase(line.find('/'), line.find(' ', 6) - line.find('/'));  // "epoch 3/4" -> "epoch 3"
    lines += line + "\n";
  }
  return lines;
}

}  // namespace

// Issue 6: N epochs straight == N/2 epochs with --checkpoint, then a fresh process with --resume,
// byte for byte in the saved model; mid-epoch checkpoints and the FILE.prev fallback too.
TEST_CASE("fennec-train --checkpoint/--resume gives the weights of an uninterrupted run",
          "[tools][cli][checkpoint]") {
  tools_test::TempDir dir("train-resume");
  make_dataset(dir, false, 200, 50);  // 200 / 16: 13 batches, the last one of 8
  const std::string base = kTrain + " --data " + quote(dir.str()) +
                           " --hidden 16 --batch 16 --optimizer adam --lr 0.005 --seed 5 --no-progress";
  const std::string a = dir.file("a.fen"), b = dir.file("b.fen"), c = dir.file("c.ck");

  const Run straight = run(base + " --epochs 4 --save " + quote(a));
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);

  // Epoch boundary: 2 epochs, then 2 more in a new process.
  const Run first = run(base + " --epochs 2 --checkpoint " + quote(c));
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  CHECK(first.output.find("heap allocations after setup: 0") != std::string::npos);
  CHECK(first.output.find("checkpoint: " + c + " (epoch 3, batch 0)") != std::string::npos);
  const Run second = run(base + " --epochs 4 --checkpoint " + quote(c) + " --resume --save " + quote(b));
  INFO(second.output);
  REQUIRE(second.exit_code == 0);
  CHECK(second.output.find("resumed from " + c + ": epoch 3, batch 0, step 26") != std::string::npos);
  CHECK(second.output.find("heap allocations after setup: 0") != std::string::npos);
  const std::string model_a = slurp(a);
  REQUIRE(!model_a.empty());
  CHECK(slurp(b) == model_a);
  CHECK(epoch_lines(first.output) + epoch_lines(second.output) == epoch_lines(straight.output));

  // Mid-epoch: with --checkpoint-every 5 one epoch writes steps 5, 10, then the epoch end, so
  // c.ck.prev stands at epoch 1, batch 10. Resuming from it alone (copied, no .prev) must also
  // reach the same weights.
  const Run every = run(base + " --epochs 1 --checkpoint " + quote(c) + " --checkpoint-every 5");
  INFO(every.output);
  REQUIRE(every.exit_code == 0);
  CHECK(every.output.find("heap allocations after setup: 0") != std::string::npos);
  const std::string mid = dir.file("mid.ck");
  std::filesystem::copy_file(c + ".prev", mid);
  std::remove(b.c_str());
  const Run from_mid = run(base + " --epochs 4 --checkpoint " + quote(mid) + " --resume --save " + quote(b));
  INFO(from_mid.output);
  REQUIRE(from_mid.exit_code == 0);
  CHECK(from_mid.output.find("epoch 1, batch 10, step 10") != std::string::npos);
  CHECK(slurp(b) == model_a);
  CHECK(epoch_lines(from_mid.output) == epoch_lines(straight.output));

  // A corrupted newest checkpoint: one flipped byte in the parameters fails the CRC, the run
  // says so and continues from c.ck.prev (epoch 1, batch 10), still to the same weights.
  {
    std::fstream f(c, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekg(400);
    const char byte = static_cast<char>(f.get());
    f.seekp(400);
    f.put(static_cast<char>(byte ^ 0x5a));
  }
  std::remove(b.c_str());
  const Run fallback = run(base + " --epochs 4 --checkpoint " + quote(c) + " --resume --save " + quote(b));
  INFO(fallback.output);
  REQUIRE(fallback.exit_code == 0);
  CHECK(fallback.output.find("warning: checkpoint " + c + " rejected") != std::string::npos);
  CHECK(fallback.output.find("falling back to " + c + ".prev") != std::string::npos);
  // The rejected file is kept aside, so the next write does not rotate it into the .prev slot.
  CHECK(std::filesystem::exists(c + ".rejected"));
  CHECK(fallback.output.find("resumed from " + c + ".prev: epoch 1, batch 10") != std::string::npos);
  CHECK(slurp(b) == model_a);

  // A torn newest checkpoint (cut short) falls back the same way.
  REQUIRE(::truncate(c.c_str(), 100) == 0);
  const Run torn = run(base + " --epochs 2 --checkpoint " + quote(c) + " --resume");
  INFO(torn.output);
  CHECK(torn.exit_code == 0);
  CHECK(torn.output.find("falling back to " + c + ".prev") != std::string::npos);
}

TEST_CASE("fennec-train --resume refuses missing, unusable or mismatched checkpoints",
          "[tools][cli][checkpoint]") {
  tools_test::TempDir dir("train-resume-bad");
  make_dataset(dir, false, 60, 10);
  const std::string d = "--data " + quote(dir.str()) + " --hidden 8 --batch 10 ";
  const std::string c = dir.file("c.ck");
  expect_failure(d + "--checkpoint " + quote(c) + " --resume", 1, "--resume: no checkpoint " + c);
  // Both slots corrupt.
  {
    std::ofstream(c) << "not a checkpoint";
    std::ofstream(c + ".prev") << "nor this";
    expect_failure(d + "--checkpoint " + quote(c) + " --resume", 1, "no valid checkpoint");
    std::remove(c.c_str());
    std::remove((c + ".prev").c_str());
  }
  const Run w = run(kTrain + " " + d + "--epochs 1 --checkpoint " + quote(c) + " --no-progress");
  INFO(w.output);
  REQUIRE(w.exit_code == 0);
  expect_failure("--data " + quote(dir.str()) + " --hidden 9 --batch 10 --checkpoint " + quote(c) +
                     " --resume",
                 1, "network differs");
  expect_failure(d + "--optimizer sgd --lr 0.001 --checkpoint " + quote(c) + " --resume", 1, "different optimizer");
  expect_failure(d + "--lr 0.5 --checkpoint " + quote(c) + " --resume", 1, "written with --lr 0.001");
  expect_failure("--data " + quote(dir.str()) + " --hidden 8 --batch 20 --checkpoint " + quote(c) +
                     " --resume",
                 1, "written with --batch 10 on 60 training images");
  expect_failure(d + "--train-samples 50 --checkpoint " + quote(c) + " --resume", 1,
                 "not --batch 10 on 50");
  // A model file is not a checkpoint.
  const std::string m = dir.file("m.fen");
  REQUIRE(run(kTrain + " " + d + "--epochs 1 --no-progress --save " + quote(m)).exit_code == 0);
  expect_failure(d + "--checkpoint " + quote(m) + " --resume", 1, "no valid checkpoint");
  // A directory that does not exist is refused at the start, not at the first checkpoint.
  expect_failure(d + "--epochs 1 --checkpoint " + quote(dir.file("no/such/c.ck")), 2,
                 "--checkpoint: cannot use directory");
}

TEST_CASE("fennec-train: bad checkpoint flags", "[tools][cli][checkpoint]") {
  tools_test::TempDir dir("train-ck-flags");
  make_dataset(dir, false, 40, 10);
  const std::string d = "--data " + quote(dir.str()) + " ";
  expect_failure(d + "--resume", 2, "--resume needs --checkpoint FILE");
  expect_failure(d + "--checkpoint-every 5", 2, "--checkpoint-every needs --checkpoint FILE");
  expect_failure(d + "--checkpoint=", 2, "--checkpoint needs a file name");
  expect_failure(d + "--checkpoint c.ck --checkpoint-every 0", 2, "--checkpoint-every must lie in");
  expect_failure(d + "--checkpoint c.ck --resume=1", 2, "--resume takes no value");
  const Run help = run(kTrain + " --help");
  CHECK(help.output.find("--checkpoint FILE [--checkpoint-every N] [--resume]") != std::string::npos);
}

TEST_CASE("fennec-initstudy and fennec-optstudy from the command line", "[tools][cli]") {
  tools_test::TempDir dir("studies-cli");
  const Run init = run(program(FENNEC_INITSTUDY_EXE) + " --layers 3 --width 40 --batch 50 --runs 1 --svg " +
                       quote(dir.file("i.svg")) + " --csv " + quote(dir.file("i.csv")));
  INFO(init.output);
  CHECK(init.exit_code == 0);
  CHECK(init.output.find("tanh, N(0, 0.01^2): 3 layers x 40 units, batch 50") != std::string::npos);
  CHECK(init.output.find("forward pass (3 x 40, batch 50)") != std::string::npos);
  const Run all = run(program(FENNEC_INITSTUDY_EXE) + " --all --layers 2 --width 20 --batch 30 --runs 0 --out " +
                      quote(dir.file("figs")));
  INFO(all.output);
  CHECK(all.exit_code == 0);
  for (const char* f : {"tanh-normal0.01", "tanh-normal1", "tanh-xavier", "relu-normal0.01", "relu-xavier",
                        "relu-he", "sigmoid-xavier", "summary"}) {
    CHECK(all.output.find(std::string("initstudy-") + f + ".svg") != std::string::npos);
  }
  const Run bad = run(program(FENNEC_INITSTUDY_EXE) + " --all --init he");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--all picks its own cases") != std::string::npos);
  const Run bad2 = run(program(FENNEC_INITSTUDY_EXE) + " --layers 0");
  CHECK(bad2.exit_code == 2);
  const Run opt = run(program(FENNEC_OPTSTUDY_EXE) + " --function ravine --svg " + quote(dir.file("o.svg")));
  INFO(opt.output);
  CHECK(opt.exit_code == 0);
  CHECK(opt.output.find("Momentum") != std::string::npos);
  const Run bad3 = run(program(FENNEC_OPTSTUDY_EXE) + " --function himmelblau");
  CHECK(bad3.exit_code == 2);
  CHECK(bad3.output.find("unknown function 'himmelblau'") != std::string::npos);
}
