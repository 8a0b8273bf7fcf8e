// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/options.hpp"

#include <cstdio>
#include <string>

#include "common/args.hpp"
#include "common/csv_samples.hpp"

namespace fennec_train {

namespace {

using fennec_tools::ArgError;
using fennec_tools::Args;

constexpr const char* kDefaultData = "/usr/share/datasets/fashion-mnist";

const char* const kSummary =
    "usage: fennec-train [--data DIR] [--hidden 512,256] [--optimizer adam] [--lr X] [--epochs N] ...\n"
    "                    [--val-split F | --val DIR] [--lr-schedule step|exp|cosine|plateau] [--patience N]\n"
    "                    [--checkpoint FILE [--checkpoint-every N] [--resume]] [--save FILE]\n"
    "       fennec-train --train-inputs X.npy --train-labels y.npy [--test-inputs X.npy --test-labels y.npy] ...\n"
    "       fennec-train --train-inputs X.csv [--test-inputs X.csv] [--label-column NAME] ...\n"
    "Trains an MLP classifier (softmax cross-entropy) on the IDX files in DIR (train-images-idx3-ubyte,\n"
    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz), or\n"
    "on NumPy .npy or CSV files. .npy inputs: float32 (used as stored) or uint8 (scaled by 1/255, as IDX\n"
    "pixels are), shape (N, ...), with integer labels of shape (N,) in a second .npy. CSV: a header row,\n"
    "one sample per row, every column a feature except the label column (--label-column, default\n"
    "'label'). The model's input width is the data's feature count, its outputs 1 + the largest label.";

const char* const kFooter =
    "Validation: --val-split F holds out a fixed fraction of the training images (the same ones for a\n"
    "given --seed and --train-samples); --val DIR reads the held-out set from DIR's t10k-images/labels\n"
    "files. The test set is evaluated once, after the last epoch (every epoch with\n"
    "--eval-test-every-epoch), so nothing is tuned on it. --patience, --save-best and --lr-schedule\n"
    "plateau watch the validation loss.\n"
    "Schedules (fennec/schedule.hpp): step multiplies the rate by --lr-gamma every --lr-step-size\n"
    "steps (default: one epoch); exp decays it smoothly by --lr-gamma per --lr-step-size steps; cosine\n"
    "anneals it to --lr-min over --lr-decay-steps (default: the rest of the run); plateau multiplies it\n"
    "by --lr-gamma after --lr-patience epochs without a better validation loss (floor --lr-min).\n"
    "--warmup-steps N ramps the rate up linearly over the first N steps, with any schedule.\n"
    "Checkpoints hold the parameters, optimizer and schedule state, step counter, RNG state and data\n"
    "position; the one before is kept as FILE.prev. --resume continues from FILE (from FILE.prev, with\n"
    "a warning, when FILE is missing, torn or corrupt) up to --epochs in total, giving the same weights\n"
    "as a run that never stopped: pass the same flags as the run that wrote it (--seed and --init are\n"
    "then taken from the checkpoint).\n"
    "Ctrl-C (SIGINT) or SIGTERM: the current step finishes, the checkpoint (--checkpoint) and the\n"
    "model (--save) are written, and the program says how to resume; a second Ctrl-C exits at once.\n"
    "--log FILE.csv or FILE.jsonl: one row per epoch (epoch, step, lr, train/val/test loss and\n"
    "accuracy, wall time, samples/s); appended to on --resume. --plot FILE.svg: loss and accuracy per\n"
    "epoch, train and validation, with the learning rate on a second axis (the epochs this run trained).\n"
    "Exit codes: 0 done; 1 bad data or a file error; 2 bad flag or value; 3 a step failed (NaN/Inf,\n"
    "weights as before it); 4 heap allocation during training; 5 interrupted (SIGINT/SIGTERM) after a\n"
    "step, checkpoint and model written (a second Ctrl-C kills it: the shell then reports 130).";

std::vector<Args::Flag> flags() {
  return {
      {"data", true, std::string("data set directory (default ") + kDefaultData + ")", "DIR"},
      {"train-inputs", true, "training samples from X.npy or X.csv instead of --data", "FILE"},
      {"train-labels", true, "labels of --train-inputs X.npy (integers, shape (N,))", "FILE"},
      {"test-inputs", true, "test samples from X.npy or X.csv (with --train-inputs; default: no test set)", "FILE"},
      {"test-labels", true, "labels of --test-inputs X.npy", "FILE"},
      {"label-column", true, "CSV inputs: the column holding the class (default label)", "NAME"},
      {"hidden", true, "hidden layer widths, or none (default 512,256)", "W,W"},
      {"activation", true, "relu | leaky_relu[:ALPHA] | tanh | sigmoid (default relu)", "NAME"},
      {"batchnorm", false, "batch normalisation after every hidden layer's dense part"},
      {"dropout", true, "dropout with probability P after every hidden layer, in [0, 1) (default 0)", "P"},
      {"init", true, "he | xavier | glorot | normal:SIGMA | uniform:A | zeros ... (default he)", "NAME"},
      {"optimizer", true, "sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw (default adam)", "NAME"},
      {"lr", true, "learning rate, the schedule's base (default: the optimizer's; adam 1e-3)", "X"},
      {"batch", true, "batch size (default 64)", "N"},
      {"epochs", true, "epochs in total (default 5)", "N"},
      {"clip-norm", true, "clip the gradient's global L2 norm (default off)", "X"},
      {"weight-decay", true, "L2 weight decay (decoupled for adamw)", "X"},
      {"seed", true, "seed of the initialisation, the data order and the validation split (default 1)", "N"},
      {"isa", true, "auto | ref | sse2 | avx2 | avx512 | avx512vnni | neon | neon64, or the opt-in avx512bf16 (GEMMs multiply in bf16) (default auto)", "NAME"},
      {"threads", true, "threads the large GEMMs are split across; the model is the same for any N (default 1)", "N"},
      {"train-samples", true, "use only the first N training images", "N"},
      {"val-split", true, "hold out this fraction of the training images for validation, in (0, 1)", "F"},
      {"val", true, "validation set: DIR's t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte", "DIR"},
      {"eval-test-every-epoch", false, "evaluate the test set after every epoch, not only at the end"},
      {"lr-schedule", true, "constant | step | exp | cosine | plateau (default constant)", "NAME"},
      {"lr-gamma", true, "step, exp, plateau: the factor (default 0.1; exp 0.5)", "X"},
      {"lr-step-size", true, "step, exp: steps per decay (default: one epoch)", "N"},
      {"lr-decay-steps", true, "cosine: steps from the warm-up's end to --lr-min (default: the rest of the run)", "N"},
      {"lr-min", true, "cosine: the final rate; plateau: the floor (default 0)", "X"},
      {"lr-patience", true, "plateau: epochs without a better validation loss before a reduction (default 2)", "N"},
      {"warmup-steps", true, "ramp the rate up linearly over the first N steps", "N"},
      {"patience", true, "stop after N epochs without a better validation loss", "N"},
      {"save-best", true, "write the model of the epoch with the best validation loss to FILE", "FILE"},
      {"log", true, "metrics per epoch to FILE.csv or FILE.jsonl", "FILE"},
      {"plot", true, "learning curves (loss, accuracy, lr) to FILE.svg", "FILE"},
      {"save", true, "write the trained model (Fennec model file)", "FILE"},
      {"checkpoint", true, "write a training checkpoint at every epoch end", "FILE"},
      {"checkpoint-every", true, "also checkpoint after every N-th step (needs --checkpoint)", "N"},
      {"resume", false, "continue from --checkpoint FILE"},
      {"no-progress", false, "no progress bar (it is shown only on a terminal anyway)"},
      {"help", false, "print this help"},
  };
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A file name flag: given empty is an error; its directory must be writable.
std::string output_file(const Args& a, const std::string& name) {
  const std::string v = a.str(name, "");
  if (a.has(name) && v.empty()) throw ArgError("--" + name + " needs a file name");
  if (!v.empty()) fennec_tools::check_output_path(v, "--" + name);
  return v;
}

// --train-inputs or --test-inputs (`which`: "train" or "test") with its labels: a .npy with a
// labels .npy, or a .csv (labels in a column). Empty when not given.
void input_files(const Args& a, const std::string& which, std::string& inputs, std::string& labels) {
  const std::string in_flag = which + "-inputs", labels_flag = which + "-labels";
  if (a.has(labels_flag) && !a.has(in_flag)) throw ArgError("--" + labels_flag + " goes with --" + in_flag + " X.npy");
  if (!a.has(in_flag)) return;
  inputs = a.str(in_flag, "");
  labels = a.str(labels_flag, "");
  if (ends_with(inputs, ".npy")) {
    if (labels.empty())
      throw ArgError("--" + in_flag + " " + inputs + " needs --" + labels_flag + " y.npy (the labels of its samples)");
  } else if (ends_with(inputs, ".csv")) {
    if (a.has(labels_flag))
      throw ArgError("--" + labels_flag + ": a CSV file holds its labels in a column (--label-column NAME), not in a "
                     "second file");
  } else {
    throw ArgError("--" + in_flag + " '" + inputs + "': expected a .npy or a .csv file (an IDX directory is --data DIR)");
  }
}

// Where the data comes from: --data DIR, or the .npy / CSV files.
void parse_data(const Args& a, Options& c) {
  if (a.has("train-inputs") && a.has("data")) throw ArgError("--data and --train-inputs are alternatives: give one");
  if (a.has("test-inputs") && !a.has("train-inputs"))
    throw ArgError("--test-inputs goes with --train-inputs (--data DIR holds its own test set)");
  input_files(a, "train", c.train_inputs, c.train_labels);
  input_files(a, "test", c.test_inputs, c.test_labels);
  if (a.has("label-column") && !ends_with(c.train_inputs, ".csv") && !ends_with(c.test_inputs, ".csv"))
    throw ArgError("--label-column goes with CSV inputs (--train-inputs X.csv)");
  c.label_column = a.str("label-column", fennec_tools::kDefaultLabelColumn);
  if (c.label_column.empty()) throw ArgError("--label-column needs a column name");
  if (c.train_inputs.empty()) {
    c.data = a.str("data", kDefaultData);
    if (c.data.empty()) throw ArgError("--data needs a directory");
  } else if (a.has("val")) {
    throw ArgError("--val DIR is an IDX directory; with --train-inputs hold out a validation set with --val-split F");
  }
}

void needs_validation(const Args& a, const Options& c, const std::string& name) {
  if (a.has(name) && !c.has_validation())
    throw ArgError("--" + name + " watches the validation loss: give --val-split F or --val DIR");
}

void parse_schedule(const Args& a, Options& c) {
  const std::string name = a.str("lr-schedule", "constant");
  fennec::Result<fennec::ScheduleKind> kind = fennec::parse_schedule(name.c_str());
  if (!kind.is_ok()) throw ArgError(std::string("--lr-schedule: ") + kind.status().message());
  const fennec::ScheduleKind k = kind.value();
  using K = fennec::ScheduleKind;
  auto only_for = [&](const std::string& flag, bool used, const std::string& kinds) {
    if (a.has(flag) && !used)
      throw ArgError("--" + flag + " is a parameter of --lr-schedule " + kinds + ", not " + name);
  };
  only_for("lr-gamma", k == K::kStep || k == K::kExponential || k == K::kPlateau, "step, exp or plateau");
  only_for("lr-step-size", k == K::kStep || k == K::kExponential, "step or exp");
  only_for("lr-decay-steps", k == K::kCosine, "cosine");
  only_for("lr-min", k == K::kCosine || k == K::kPlateau, "cosine or plateau");
  only_for("lr-patience", k == K::kPlateau, "plateau");
  fennec::ScheduleConfig& s = c.schedule;
  s.kind = k;
  s.gamma = a.positive("lr-gamma", k == K::kExponential ? 0.5 : 0.1);
  if (s.gamma > 1) throw ArgError("--lr-gamma must lie in (0, 1], got " + a.str("lr-gamma", ""));
  c.schedule_step_size_from_data = !a.has("lr-step-size");
  s.step_size = a.integer("lr-step-size", 1, 1, UINT64_MAX);
  c.schedule_decay_steps_from_data = !a.has("lr-decay-steps");
  s.decay_steps = a.integer("lr-decay-steps", 1, 1, UINT64_MAX);
  s.min_lr = a.non_negative("lr-min", 0.0);
  if (s.min_lr >= c.optimizer.lr && (k == K::kCosine || k == K::kPlateau))
  {
    char lr[32];
    std::snprintf(lr, sizeof lr, "%g", c.optimizer.lr);
    throw ArgError("--lr-min " + a.str("lr-min", "") + " must lie below the learning rate " + lr);
  }
  s.patience = a.integer("lr-patience", 2, 1, 1000000);
  s.mode = fennec::MetricMode::kMin;
  s.warmup_steps = a.integer("warmup-steps", 0, 0, UINT64_MAX);
  if (k == K::kPlateau && !c.has_validation())
    throw ArgError("--lr-schedule plateau watches the validation loss: give --val-split F or --val DIR");
}

}  // namespace

bool parse_options(int argc, char** argv, Options& c) {
  const Args a(argc, argv, flags(), Args::Program{"fennec-train", kSummary, kFooter});
  if (a.help_requested()) {
    const std::string& help = a.help();
    std::fputs(help.c_str(), stdout);
    if (!help.empty() && help.back() != '\n') std::fputc('\n', stdout);
    return false;
  }
  c.save = output_file(a, "save");
  c.checkpoint = output_file(a, "checkpoint");
  c.resume = a.has("resume");
  if (c.resume && c.checkpoint.empty())
    throw ArgError("--resume needs --checkpoint FILE (the checkpoint to continue from)");
  if (a.has("checkpoint-every") && c.checkpoint.empty())
    throw ArgError("--checkpoint-every needs --checkpoint FILE");
  c.checkpoint_every = static_cast<std::size_t>(a.integer("checkpoint-every", 0, 1, UINT64_MAX));
  parse_data(a, c);
  c.hidden = a.widths("hidden", "512,256");
  c.activation = fennec_tools::parse_activation_spec(a.str("activation", "relu"), "--activation");
  c.init = fennec_tools::parse_init(a.str("init", "he"), "--init");
  c.batchnorm = a.has("batchnorm");
  c.dropout = a.real("dropout", 0.0);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw ArgError("--dropout must lie in [0, 1), got " + a.str("dropout", ""));
  if ((c.batchnorm || c.dropout > 0) && c.hidden.empty())
    throw ArgError("--batchnorm and --dropout apply to hidden layers: --hidden none has none");
  const std::string opt = a.str("optimizer", "adam");
  fennec::Result<fennec::OptimizerKind> kind = fennec::parse_optimizer(opt.c_str());
  if (!kind.is_ok()) {
    throw ArgError("--optimizer: unknown optimizer '" + opt +
                   "' (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)");
  }
  c.optimizer = fennec::OptimizerConfig::defaults(kind.value());
  c.optimizer.lr = a.positive("lr", c.optimizer.lr);
  c.optimizer.weight_decay = a.non_negative("weight-decay", c.optimizer.weight_decay);
  const fennec::Status s = fennec::validate(c.optimizer);
  if (!s.is_ok()) throw ArgError(std::string("optimizer settings: ") + s.message());
  c.clip.max_norm = static_cast<float>(a.non_negative("clip-norm", 0.0));
  c.batch = static_cast<std::size_t>(a.integer("batch", 64, 1, 1u << 16));
  if (c.batchnorm && c.batch < 2) throw ArgError("--batchnorm needs --batch 2 or more (batch statistics of one row are undefined)");
  c.epochs = static_cast<std::size_t>(a.integer("epochs", 5, 1, 100000));
  c.seed = a.integer("seed", 1, 0, UINT64_MAX);
  c.train_samples = static_cast<std::size_t>(a.integer("train-samples", 0, 1, UINT32_MAX));
  c.isa = fennec_tools::isa_flag(a, c.isa);
  c.threads = fennec_tools::threads_flag(a);
  c.progress = !a.has("no-progress");

  if (a.has("val-split") && a.has("val")) throw ArgError("--val-split and --val: give one validation set");
  c.val_split = a.real("val-split", 0.0);
  if (a.has("val-split") && !(c.val_split > 0 && c.val_split < 1))
    throw ArgError("--val-split must lie in (0, 1), got " + a.str("val-split", ""));
  c.val_dir = a.str("val", "");
  if (a.has("val") && c.val_dir.empty()) throw ArgError("--val needs a directory");
  c.eval_test_every_epoch = a.has("eval-test-every-epoch");
  if (c.eval_test_every_epoch && !c.train_inputs.empty() && c.test_inputs.empty())
    throw ArgError("--eval-test-every-epoch needs a test set: give --test-inputs");
  parse_schedule(a, c);
  needs_validation(a, c, "patience");
  needs_validation(a, c, "save-best");
  c.patience = static_cast<std::size_t>(a.integer("patience", 0, 1, 1000000));
  c.save_best = output_file(a, "save-best");
  c.log = output_file(a, "log");
  if (!c.log.empty()) {
    if (ends_with(c.log, ".csv"))
      c.log_format = LogFormat::kCsv;
    else if (ends_with(c.log, ".jsonl"))
      c.log_format = LogFormat::kJsonl;
    else
      throw ArgError("--log: '" + c.log + "' must end in .csv or .jsonl (the format follows the name)");
  }
  c.plot = output_file(a, "plot");
  if (!c.plot.empty() && !ends_with(c.plot, ".svg"))
    throw ArgError("--plot: '" + c.plot + "' must end in .svg");
  return true;
}

}  // namespace fennec_train
