// SPDX-License-Identifier: Apache-2.0
// fennec-train's training-loop features end to end: Ctrl-C then --resume to the model of an
// unbroken run, the metrics log, the validation split, early stopping and the new flags' errors.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fennec/io.hpp"
#include "tools/tools_test_util.hpp"
#include "tools/train_dataset.hpp"

using tools_test::make_dataset;
using tools_test::program;
using tools_test::quote;
using tools_test::run;
using tools_test::Run;

namespace {

const std::string kTrain = program(FENNEC_TRAIN_EXE);

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (true) {
    const std::size_t q = line.find(sep, p);
    out.push_back(line.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) return out;
    p = q + 1;
  }
}

// Lines starting with "epoch " (the per-epoch results, timings excluded).
std::string epoch_lines(const std::string& out) {
  std::string r;
  for (const std::string& l : lines_of(out))
    if (l.compare(0, 6, "epoch ") == 0) r += l + "\n";
  return r;
}

void expect_usage_error(const std::string& args, const std::string& message) {
  const Run r = run(kTrain + " " + args + " --no-progress");
  INFO("fennec-train " << args << "\n" << r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("fennec-train: error: " + message) != std::string::npos);
  // Refused before the data set is read.
  CHECK(r.output.find("data: ") == std::string::npos);
}

}  // namespace

TEST_CASE("fennec-train: SIGINT finishes the step, checkpoints, and --resume gives the unbroken run's model",
          "[tools][cli][signal]") {
  tools_test::TempDir dir("train-sigint");
  make_dataset(dir, false, 600, 50);
  // 75 steps per epoch of a 64-256-256-3 network: long enough (60 epochs natively) to be
  // interrupted after the first epoch line, wherever the signal lands. Under an emulated CPU
  // (FENNEC_TEST_EMULATOR) an epoch runs about 200 times slower, so 4 epochs leave seconds for the
  // signal, and the resumed and unbroken runs do not take minutes.
  const std::string epochs = tools_test::tools_emulated() ? "4" : "60";
  const std::string base = kTrain + " --data " + quote(dir.str()) +
                           " --hidden 256,256 --batch 8 --epochs " + epochs + " --lr 0.001 --seed 4 --no-progress";
  const std::string a = dir.file("a.fen"), b = dir.file("b.fen"), c = dir.file("c.ck"), out = dir.file("out.txt");

  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string cmd = "exec " + base + " --checkpoint " + quote(c) + " --save " + quote(b) + " > " +
                            quote(out) + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first epoch line, then interrupt.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (slurp(out).find("epoch 1/" + epochs) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(::kill(pid, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string interrupted = slurp(out);
  INFO(interrupted);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 5);  // the documented "interrupted, state saved" code
  CHECK(interrupted.find("fennec-train: interrupted by SIGINT after step ") != std::string::npos);
  CHECK(interrupted.find("checkpoint written: " + c + "; resume with the same command and --resume") !=
        std::string::npos);
  CHECK(interrupted.find("model saved: " + b) != std::string::npos);
  CHECK(interrupted.find("heap allocations after setup: 0") != std::string::npos);
  CHECK(interrupted.find("epoch " + epochs + "/" + epochs) == std::string::npos);

  const Run resumed = run(base + " --checkpoint " + quote(c) + " --resume --save " + quote(b));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  // It continues from the interrupted step itself, not from an earlier checkpoint.
  const std::size_t at = interrupted.find("after step ");
  REQUIRE(at != std::string::npos);
  const std::string step = interrupted.substr(at + 11, interrupted.find(' ', at + 11) - (at + 11));
  CHECK(resumed.output.find("resumed from " + c + ": epoch ") != std::string::npos);
  CHECK(resumed.output.find(", step " + step + "\n") != std::string::npos);
  const Run straight = run(base + " --save " + quote(a));
  REQUIRE(straight.exit_code == 0);
  const std::string model_a = slurp(a);
  REQUIRE(!model_a.empty());
  CHECK(slurp(b) == model_a);
  CHECK(epoch_lines(interrupted) + epoch_lines(resumed.output) == epoch_lines(straight.output));
}

TEST_CASE("fennec-train --log: one CSV or JSON Lines row per epoch", "[tools][cli][log]") {
  tools_test::TempDir dir("train-log");
  make_dataset(dir, false, 200, 50);
  const std::string base = kTrain + " --data " + quote(dir.str()) + " --hidden 16 --batch 20 --epochs 3 --lr 0.005 "
                                                                     "--no-progress --val-split 0.2";
  const std::string csv = dir.file("m.csv"), jsonl = dir.file("m.jsonl");
  const Run r = run(base + " --log " + quote(csv));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("heap allocations after setup: 0") != std::string::npos);
  const std::vector<std::string> rows = lines_of(slurp(csv));
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == "epoch,step,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,wall_s,samples_per_s");
  for (int e = 1; e <= 3; ++e) {
    const std::vector<std::string> f = split(rows[static_cast<std::size_t>(e)], ',');
    REQUIRE(f.size() == 11);
    CHECK(f[0] == std::to_string(e));
    CHECK(f[1] == std::to_string(8 * e));  // 160 training images / batch 20
    CHECK(static_cast<float>(std::atof(f[2].c_str())) == 0.005f);  // the float rate, printed %.9g
    for (int k : {3, 4, 5, 6, 9, 10}) CHECK(std::isfinite(std::atof(f[static_cast<std::size_t>(k)].c_str())));
    CHECK(f[7].empty());  // test set: only at the end
    CHECK(f[8].empty());
    // The epoch line prints the same validation loss.
    // Room for any double %.4f prints (GCC at -O1 checks the worst case), so nothing truncates.
    char expect[1024];
    std::snprintf(expect, sizeof expect, "epoch %d/3  train loss %.4f  train acc %.4f  val loss %.4f", e,
                  std::atof(f[3].c_str()), std::atof(f[4].c_str()), std::atof(f[5].c_str()));
    CHECK(r.output.find(expect) != std::string::npos);
  }
  // JSON Lines with the test set every epoch.
  const Run j = run(base + " --eval-test-every-epoch --log " + quote(jsonl));
  REQUIRE(j.exit_code == 0);
  const std::vector<std::string> objs = lines_of(slurp(jsonl));
  REQUIRE(objs.size() == 3);
  CHECK(objs[0].rfind("{\"epoch\": 1, \"step\": 8, \"lr\": ", 0) == 0);
  CHECK(objs[2].find("\"test_acc\": null") == std::string::npos);
  CHECK(objs[2].find("\"test_acc\": ") != std::string::npos);
  CHECK(objs[2].back() == '}');
  // The step schedule's default period is one epoch (8 steps): the last step of epoch e runs at
  // 0.005 * 0.5^(e-1).
  const std::string slog = dir.file("s.csv");
  REQUIRE(run(base + " --lr-schedule step --lr-gamma 0.5 --log " + quote(slog)).exit_code == 0);
  const std::vector<std::string> srows = lines_of(slurp(slog));
  REQUIRE(srows.size() == 4);
  for (int e = 1; e <= 3; ++e)
    CHECK(static_cast<float>(std::atof(split(srows[static_cast<std::size_t>(e)], ',')[2].c_str())) ==
          static_cast<float>(static_cast<double>(0.005f) * std::pow(0.5, e - 1)));
  // Without a validation set the val fields are null.
  const Run n = run(kTrain + " --data " + quote(dir.str()) + " --hidden 16 --batch 20 --epochs 1 --no-progress --log " +
                    quote(jsonl));
  REQUIRE(n.exit_code == 0);
  CHECK(slurp(jsonl).find("\"val_loss\": null, \"val_acc\": null, \"test_loss\": null") != std::string::npos);
}

TEST_CASE("fennec-train --val-split: a fixed split for a seed", "[tools][cli][validation]") {
  tools_test::TempDir dir("train-split");
  make_dataset(dir, false, 200, 50);
  const std::string base = kTrain + " --data " + quote(dir.str()) + " --hidden 16 --batch 20 --epochs 2 --no-progress";
  const Run a = run(base + " --val-split 0.25 --seed 7"), b = run(base + " --val-split 0.25 --seed 7");
  const Run other = run(base + " --val-split 0.25 --seed 8");
  INFO(a.output);
  REQUIRE(a.exit_code == 0);
  CHECK(a.output.find("validation: 50 of the 200 training images held out (--val-split 0.25)") != std::string::npos);
  CHECK(a.output.find("val loss ") != std::string::npos);
  CHECK(epoch_lines(a.output) == epoch_lines(b.output));
  CHECK(epoch_lines(a.output) != epoch_lines(other.output));
  // The test set only at the end.
  CHECK(epoch_lines(a.output).find("test") == std::string::npos);
  CHECK(a.output.find("test loss ") != std::string::npos);

  // Resuming keeps the split, the best validation loss and its epoch (the position record).
  const std::string c = dir.file("c.ck"), best = dir.file("best.fen");
  const std::string base_any = kTrain + " --data " + quote(dir.str()) + " --hidden 16 --batch 20 --no-progress";
  const std::string with = base_any + " --val-split 0.25 --patience 50 --save-best " + quote(best);
  const Run straight = run(with + " --seed 7 --epochs 6");
  REQUIRE(straight.exit_code == 0);
  REQUIRE(run(with + " --seed 7 --epochs 3 --checkpoint " + quote(c)).exit_code == 0);
  // --seed is taken from the checkpoint, the split's too.
  const Run resumed = run(with + " --seed 99 --epochs 6 --checkpoint " + quote(c) + " --resume");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const std::size_t at = straight.output.find("best model: ");
  REQUIRE(at != std::string::npos);
  CHECK(resumed.output.find(straight.output.substr(at, straight.output.find('\n', at) - at)) != std::string::npos);
  const std::string all = epoch_lines(straight.output), tail = epoch_lines(resumed.output);
  REQUIRE(!tail.empty());
  CHECK(all.compare(all.size() - tail.size(), tail.size(), tail) == 0);
  // Another split is refused.
  const Run other_split = run(base_any + " --epochs 6 --val-split 0.3 --checkpoint " + quote(c) + " --resume");
  CHECK(other_split.exit_code == 1);
  CHECK(other_split.output.find("holding out 50 validation images, not 60 (pass the same --val-split)") !=
        std::string::npos);

  // --val DIR: the held-out set from another directory's t10k files.
  tools_test::TempDir val("train-split-val");
  make_dataset(val, false, 40, 30);
  const Run v = run(base + " --val " + quote(val.str()));
  INFO(v.output);
  REQUIRE(v.exit_code == 0);
  CHECK(v.output.find("validation: 30 images from " + val.file("t10k-images-idx3-ubyte")) != std::string::npos);
  CHECK(epoch_lines(v.output).find("val acc ") != std::string::npos);
}

TEST_CASE("fennec-train --patience stops where the validation losses say, --save-best keeps the best", "[tools][cli][early_stopping]") {
  tools_test::TempDir dir("train-patience");
  // Random labels on random images: whatever the training set teaches does not carry over, so the
  // validation loss rises after a few epochs.
  {
    std::vector<std::uint8_t> images(150 * 64), labels(150);
    std::uint32_t s = 12345;
    for (std::uint8_t& p : images) p = static_cast<std::uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
    for (std::uint8_t& l : labels) l = static_cast<std::uint8_t>(((s = s * 1664525u + 1013904223u) >> 24) % 3);
    std::string error;
    REQUIRE(fennec_tools::write_idx(dir.file("train-images-idx3-ubyte"), {120, 8, 8}, images.data(), false, error));
    REQUIRE(fennec_tools::write_idx(dir.file("train-labels-idx1-ubyte"), {120}, labels.data(), false, error));
    REQUIRE(fennec_tools::write_idx(dir.file("t10k-images-idx3-ubyte"), {30, 8, 8}, images.data() + 120 * 64, false, error));
    REQUIRE(fennec_tools::write_idx(dir.file("t10k-labels-idx1-ubyte"), {30}, labels.data() + 120, false, error));
  }
  const std::string csv = dir.file("m.csv"), best = dir.file("best.fen");
  const Run r = run(kTrain + " --data " + quote(dir.str()) + " --hidden 64 --batch 10 --epochs 300 --lr 0.02 "
                             "--val-split 0.3 --patience 4 --save-best " + quote(best) + " --no-progress --log " +
                    quote(csv));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // Replay the logged validation losses through the documented rule.
  const std::vector<std::string> rows = lines_of(slurp(csv));
  REQUIRE(rows.size() >= 2);
  double best_loss = INFINITY;
  std::size_t best_epoch = 0, since = 0, stop_epoch = 0;
  for (std::size_t i = 1; i < rows.size() && !stop_epoch; ++i) {
    const double v = std::atof(split(rows[i], ',')[5].c_str());
    if (v < best_loss) {
      best_loss = v;
      best_epoch = i;
      since = 0;
    } else if (++since >= 4) {
      stop_epoch = i;
    }
  }
  REQUIRE(stop_epoch != 0);  // it did stop early
  CHECK(rows.size() - 1 == stop_epoch);  // and logged no epoch after
  char expect[128];
  std::snprintf(expect, sizeof expect, "early stopping: no better validation loss for 4 epochs (best %.4f at epoch %zu)",
                best_loss, best_epoch);
  CHECK(r.output.find(expect) != std::string::npos);
  std::snprintf(expect, sizeof expect, "(validation loss %.4f, epoch %zu)", best_loss, best_epoch);
  CHECK(r.output.find("best model: " + best + " " + expect) != std::string::npos);
  CHECK(!slurp(best).empty());
  CHECK(r.output.find("test loss ") != std::string::npos);

  // Reduce-on-plateau on the same data: the logged rates follow the rule replayed on the logged
  // validation losses (x0.5 after each epoch that does not beat the best; the count restarts).
  const std::string plog = dir.file("p.csv");
  const Run p = run(kTrain + " --data " + quote(dir.str()) + " --hidden 64 --batch 10 --epochs 12 --lr 0.02 "
                             "--val-split 0.3 --lr-schedule plateau --lr-patience 1 --lr-gamma 0.5 --no-progress --log " +
                    quote(plog));
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  const std::vector<std::string> prow = lines_of(slurp(plog));
  REQUIRE(prow.size() == 13);
  double scale = 1, pbest = INFINITY;
  int reductions = 0;
  for (std::size_t i = 1; i < prow.size(); ++i) {
    const std::vector<std::string> f = split(prow[i], ',');
    INFO("epoch " << i);
    CHECK(static_cast<float>(std::atof(f[2].c_str())) == static_cast<float>(0.02f * scale));
    const double v = std::atof(f[5].c_str());
    if (v < pbest) {
      pbest = v;
    } else {
      scale *= 0.5;
      ++reductions;
    }
  }
  CHECK(reductions >= 2);
}

TEST_CASE("fennec-train: the new flags' bad values are refused naming the flag", "[tools][cli]") {
  tools_test::TempDir dir("train-new-flags");
  const std::string d = "--data " + quote(dir.file("not-read")) + " ";
  expect_usage_error(d + "--val-split 1.5", "--val-split must lie in (0, 1), got 1.5");
  expect_usage_error(d + "--val-split x", "--val-split: expected a finite number, got 'x'");
  expect_usage_error(d + "--val-split 0.1 --val " + quote(dir.str()), "--val-split and --val: give one");
  expect_usage_error(d + "--val=", "--val needs a directory");
  expect_usage_error(d + "--lr-schedule linear", "--lr-schedule: unknown learning-rate schedule 'linear'");
  expect_usage_error(d + "--lr-schedule step --lr-gamma 2", "--lr-gamma must lie in (0, 1], got 2");
  expect_usage_error(d + "--lr-schedule step --lr-gamma -1", "--lr-gamma must be > 0, got -1");
  expect_usage_error(d + "--lr-schedule step --lr-step-size 0", "--lr-step-size must lie in [1, ");
  expect_usage_error(d + "--lr-schedule cosine --lr-decay-steps abc", "--lr-decay-steps: expected a non-negative integer");
  expect_usage_error(d + "--lr-schedule cosine --lr 0.01 --lr-min 0.1", "--lr-min 0.1 must lie below the learning rate");
  expect_usage_error(d + "--lr-gamma 0.5", "--lr-gamma is a parameter of --lr-schedule step, exp or plateau, not constant");
  expect_usage_error(d + "--lr-schedule cosine --lr-step-size 3", "--lr-step-size is a parameter of --lr-schedule step or exp");
  expect_usage_error(d + "--lr-schedule plateau", "--lr-schedule plateau watches the validation loss");
  expect_usage_error(d + "--lr-schedule plateau --val-split 0.1 --lr-patience 0", "--lr-patience must lie in [1, ");
  expect_usage_error(d + "--warmup-steps -5", "--warmup-steps: expected a non-negative integer, got '-5'");
  expect_usage_error(d + "--patience 3", "--patience watches the validation loss: give --val-split F or --val DIR");
  expect_usage_error(d + "--val-split 0.1 --patience 0", "--patience must lie in [1, ");
  expect_usage_error(d + "--save-best m.fen", "--save-best watches the validation loss");
  expect_usage_error(d + "--val-split 0.1 --save-best " + quote(dir.file("no/such/m.fen")), "--save-best: cannot use directory");
  expect_usage_error(d + "--log m.txt", "--log: 'm.txt' must end in .csv or .jsonl");
  expect_usage_error(d + "--log " + quote(dir.file("no/m.csv")), "--log: cannot use directory");
  expect_usage_error(d + "--plot c.png", "--plot: 'c.png' must end in .svg");
  expect_usage_error(d + "--eval-test-every-epoch=1", "--eval-test-every-epoch takes no value");
  // Checks that need the data: a split that leaves a side empty, a warm-up longer than the run.
  make_dataset(dir, false, 40, 10);
  const std::string data = "--data " + quote(dir.str()) + " --no-progress ";
  Run r = run(kTrain + " " + data + "--val-split 0.001");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--val-split 0.001 of 40 training images holds out 0") != std::string::npos);
  r = run(kTrain + " " + data + "--epochs 1 --lr-schedule cosine --warmup-steps 5");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--warmup-steps 5 leaves no steps to decay over (1 epochs of 1 batches are 1 steps)") !=
        std::string::npos);
  r = run(kTrain + " " + data + "--val " + quote(dir.file("absent")));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("--val " + dir.file("absent") + ": not a directory") != std::string::npos);
  // -h works, and the help lists the exit codes.
  const Run help = run(kTrain + " -h");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("usage: fennec-train") != std::string::npos);
  CHECK(help.output.find("Exit codes: 0 done;") != std::string::npos);
  CHECK(help.output.find("5 interrupted (SIGINT/SIGTERM)") != std::string::npos);
  CHECK(help.output.find("--lr-schedule NAME") != std::string::npos);
}

TEST_CASE("fennec-train --batchnorm --dropout: every hidden layer gets them, the model file carries them",
          "[tools][cli][layers]") {
  tools_test::TempDir dir("train-layers");
  const std::string d = "--data " + quote(dir.file("not-read")) + " ";
  expect_usage_error(d + "--dropout 1", "--dropout must lie in [0, 1), got 1");
  expect_usage_error(d + "--dropout -0.2", "--dropout must lie in [0, 1), got -0.2");
  expect_usage_error(d + "--dropout x", "--dropout: expected a finite number, got 'x'");
  expect_usage_error(d + "--batchnorm --hidden none", "--batchnorm and --dropout apply to hidden layers");
  expect_usage_error(d + "--batchnorm=1", "--batchnorm takes no value");
  make_dataset(dir, false, 200, 50);
  const std::string model = dir.file("bn.fnm");
  const std::string base = kTrain + " --data " + quote(dir.str()) + " --no-progress --hidden 16,8 --epochs 2 --batch 20 ";
  const Run r = run(base + "--batchnorm --dropout 0.2 --save " + quote(model));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string bytes = slurp(model);
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(bytes.data(), bytes.size());
  REQUIRE(info.is_ok());
  CHECK(info->version == fennec::kModelFileLayersVersion);
  for (std::size_t l = 0; l < 2; ++l) {
    CHECK(info->spec.layers[l].batchnorm.enabled);
    CHECK(info->spec.layers[l].dropout == 0.2f);
  }
  CHECK(!info->spec.layers[2].batchnorm.enabled);
  CHECK(info->spec.layers[2].dropout == 0.f);
  // fennec-infer runs it (the running statistics loaded into the arena, not in place).
  const Run inf = run(quote(FENNEC_INFER_EXE) + " --model " + quote(model) + " --data " + quote(dir.str()));
  INFO(inf.output);
  CHECK(inf.exit_code == 0);
  CHECK(inf.output.find("test accuracy: ") != std::string::npos);
  // The same seed gives the same run (masks included); another seed another one.
  const Run again = run(base + "--batchnorm --dropout 0.2");
  CHECK(epoch_lines(again.output) == epoch_lines(r.output));
  const Run other = run(base + "--batchnorm --dropout 0.2 --seed 2");
  CHECK(epoch_lines(other.output) != epoch_lines(r.output));
}

TEST_CASE("fennec-train --batchnorm: a last batch of one sample is left out, --batch 1 is refused",
          "[tools][cli][layers]") {
  tools_test::TempDir dir("train-bn-last");
  expect_usage_error("--data " + quote(dir.file("not-read")) + " --batchnorm --batch 1",
                     "--batchnorm needs --batch 2 or more");
  // 201 samples in batches of 20: ten full batches and one of a single sample, which batch
  // statistics cannot normalise (the step would be refused with kShapeMismatch).
  make_dataset(dir, false, 201, 50);
  const std::string base = kTrain + " --data " + quote(dir.str()) + " --no-progress --hidden 16 --epochs 2 --batch 20 ";
  const Run r = run(base + "--batchnorm");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("batch norm: the last batch of each epoch would hold 1 sample; it is left out") !=
        std::string::npos);
  CHECK(r.output.find("epoch 2/2") != std::string::npos);
  // Without batch norm every sample trains, and nothing is said.
  const Run plain = run(base);
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.output.find("left out") == std::string::npos);
}
