// SPDX-License-Identifier: Apache-2.0
// The studies reproduce the chapter's claims, and their SVG files are well-formed XML.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/args.hpp"
#include "fennec-initstudy/initstudy.hpp"
#include "fennec-optstudy/optstudy.hpp"
#include "tools/tools_test_util.hpp"

using namespace fennec_tools;

namespace {

InitStudyResult init_case(fennec::ActivationSpec act, fennec::Init init, InitStudyConfig* out_cfg = nullptr) {
  InitStudyConfig cfg;
  cfg.layers = 10;
  cfg.width = 500;
  cfg.batch = 200;  // the chapter uses 1000; 200 keeps the test quick on the scalar kernels
  cfg.activation = act;
  cfg.init = init;
  cfg.gradients = true;
  cfg.timing_runs = 0;
  cfg.seed = 7;
  InitStudyResult r;
  std::string error;
  INFO(error);
  REQUIRE(run_init_study(cfg, r, error));
  REQUIRE(r.layers.size() == 10);
  if (out_cfg) *out_cfg = cfg;
  return r;
}

// Well-formed XML with an <svg> root, checked by Python's XML parser (python3 is a declared
// build dependency, scripts/install-deps.sh).
void check_svg(const std::string& path) {
  const std::string cmd =
      "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
      "sys.exit(0 if r.tag.endswith('svg') and len(list(r.iter())) > 20 else 3)\" " +
      tools_test::quote(path);
  const tools_test::Run r = tools_test::run(cmd);
  INFO(path << ": " << r.output);
  CHECK(r.exit_code == 0);
}

}  // namespace

TEST_CASE("initstudy: tanh with N(0,1) saturates at +-1", "[tools][initstudy]") {
  const InitStudyResult r = init_case(fennec::ActivationSpec::tanh(), fennec::Init::normal(0, 1));
  for (std::size_t l = 1; l < 10; ++l) {
    INFO("layer " << l + 1);
    CHECK(r.layers[l].saturated_fraction > 0.8);  // |a| > 0.99
    CHECK(r.layers[l].std > 0.9);
    CHECK(std::fabs(r.layers[l].mean) < 0.1);
  }
}

TEST_CASE("initstudy: tanh with N(0, 0.01^2) collapses towards 0", "[tools][initstudy]") {
  const InitStudyResult r = init_case(fennec::ActivationSpec::tanh(), fennec::Init::normal(0, 0.01f));
  // Each layer multiplies the spread by about 0.01 * sqrt(500) = 0.22.
  CHECK(r.layers[0].std > 0.1);
  for (std::size_t l = 1; l < 10; ++l) {
    INFO("layer " << l + 1);
    CHECK(r.layers[l].std < 0.5 * r.layers[l - 1].std);
  }
  CHECK(r.layers[9].std < 1e-4);
}

TEST_CASE("initstudy: Xavier keeps tanh alive, He keeps ReLU steady, Xavier fades ReLU",
          "[tools][initstudy]") {
  const InitStudyResult tx = init_case(fennec::ActivationSpec::tanh(), fennec::Init::xavier_normal());
  CHECK(tx.layers[9].std > 0.1);
  CHECK(tx.layers[9].std < tx.layers[0].std);
  CHECK(tx.layers[9].saturated_fraction < 0.05);
  const InitStudyResult rh = init_case(fennec::ActivationSpec::relu(), fennec::Init::he_normal());
  CHECK(rh.layers[9].std > 0.5 * rh.layers[0].std);
  CHECK(rh.layers[9].std < 2.0 * rh.layers[0].std);
  const InitStudyResult rx = init_case(fennec::ActivationSpec::relu(), fennec::Init::xavier_normal());
  CHECK(rx.layers[9].std < 0.1 * rx.layers[0].std);
  for (const InitLayerStats& st : rh.layers) CHECK(std::fabs(st.zero_fraction - 0.5) < 0.1);
}

TEST_CASE("initstudy: SVG and CSV files", "[tools][initstudy][svg]") {
  tools_test::TempDir dir("initsvg");
  InitStudyConfig cfg;
  const InitStudyResult r = init_case(fennec::ActivationSpec::relu(), fennec::Init::he_normal(), &cfg);
  std::string error;
  REQUIRE(write_init_svg(cfg, r, dir.file("h.svg"), error));
  check_svg(dir.file("h.svg"));
  REQUIRE(write_init_csv(cfg, r, dir.file("h.csv"), error));
  const tools_test::Run wc = tools_test::run("grep -c '^[0-9]' " + tools_test::quote(dir.file("h.csv")));
  CHECK(wc.output == "10\n");
  CHECK_FALSE(write_init_svg(cfg, r, dir.file("no/such/dir/h.svg"), error));
  CHECK(error.find("cannot create") != std::string::npos);
}

TEST_CASE("optstudy: momentum and Adam cross the ravine in fewer steps than SGD", "[tools][optstudy]") {
  const TestFunction* ravine = find_test_function("ravine");
  REQUIRE(ravine);
  OptStudyConfig cfg;
  const std::vector<OptRun> runs = study_function(*ravine, cfg);
  REQUIRE(runs.size() == 5);
  const OptRun& sgd = runs[0];
  const OptRun& momentum = runs[1];
  const OptRun& adam = runs[4];
  REQUIRE(sgd.kind == fennec::OptimizerKind::kSgd);
  REQUIRE(momentum.kind == fennec::OptimizerKind::kMomentum);
  REQUIRE(adam.kind == fennec::OptimizerKind::kAdam);
  for (const OptRun& r : runs) {
    INFO(fennec::optimizer_name(r.kind) << " lr " << r.lr << " steps " << r.steps);
    CHECK(r.reached);
    CHECK(r.final_gap <= cfg.tolerance);
  }
  CHECK(momentum.steps < sgd.steps);
  CHECK(adam.steps < sgd.steps);
  // The trajectory starts at the start and ends at the minimum.
  CHECK(momentum.xs.front() == Approx(ravine->start_x));
  CHECK(std::fabs(momentum.xs.back()) < 0.02);
}

TEST_CASE("optstudy: every function, SVG well-formed", "[tools][optstudy][svg]") {
  tools_test::TempDir dir("optsvg");
  OptStudyConfig cfg;
  cfg.max_steps = 3000;
  std::vector<const TestFunction*> fns;
  std::vector<std::vector<OptRun>> runs;
  for (const TestFunction& f : test_functions()) {
    fns.push_back(&f);
    runs.push_back(study_function(f, cfg));
    const std::string table = format_opt_table(f, cfg, runs.back());
    CHECK(table.find("Adam") != std::string::npos);
  }
  // The saddle: every optimizer leaves the ridge (started 1e-3 off it) and reaches a minimum.
  for (const OptRun& r : runs[1]) CHECK(r.reached);
  std::string error;
  REQUIRE(write_opt_svg(fns, cfg, runs, dir.file("opt.svg"), error));
  check_svg(dir.file("opt.svg"));
}

TEST_CASE("initstudy: gradients vanish through tanh with N(0, 0.01^2) and hold through ReLU with He",
          "[tools][initstudy]") {
  // Backward, each tanh layer with N(0, 0.01^2) weights scales the gradient by about
  // 0.01 * sqrt(500) = 0.22, so nine layers shrink it by ~1e-6; He keeps ReLU's gradient scale
  // (fan_out = fan_in) within a small factor.
  const InitStudyResult small = init_case(fennec::ActivationSpec::tanh(), fennec::Init::normal(0, 0.01f));
  INFO("tanh N(0, 0.01^2): layer 1 rms " << small.layers[0].out_grad_rms << ", layer 10 rms "
                                      << small.layers[9].out_grad_rms);
  CHECK(small.layers[9].out_grad_rms == Approx(1.0));  // the unit upstream gradient itself
  CHECK(small.layers[0].out_grad_rms < 1e-4 * small.layers[9].out_grad_rms);
  const InitStudyResult he = init_case(fennec::ActivationSpec::relu(), fennec::Init::he_normal());
  const double ratio = he.layers[0].out_grad_rms / he.layers[8].out_grad_rms;
  INFO("relu He: layer 1 / layer 9 gradient rms " << ratio);
  CHECK(ratio > 0.1);
  CHECK(ratio < 10.0);
}

TEST_CASE("initstudy: ReLU with N(0, 0.01^2) dies out, forward and backward", "[tools][initstudy]") {
  // Each ReLU layer keeps half the units and scales by 0.01 * sqrt(500) = 0.22 before that: the
  // spread falls by about 0.16 a layer, the gradient the same way going back.
  const InitStudyResult r = init_case(fennec::ActivationSpec::relu(), fennec::Init::normal(0, 0.01f));
  for (std::size_t l = 1; l < 10; ++l) {
    INFO("layer " << l + 1 << " std " << r.layers[l].std);
    CHECK(r.layers[l].std < 0.3 * r.layers[l - 1].std);
    CHECK(std::fabs(r.layers[l].zero_fraction - 0.5) < 0.1);
  }
  CHECK(r.layers[9].std < 1e-6 * r.layers[0].std);
  CHECK(r.layers[0].out_grad_rms < 1e-5);
}

TEST_CASE("initstudy: sigmoid with Xavier keeps its activations but not its gradients", "[tools][initstudy]") {
  // sigmoid' <= 1/4: with Xavier (gain 1) every layer going back scales the gradient by ~0.2,
  // while the activations hold a steady spread around 0.5.
  const InitStudyResult r = init_case(fennec::ActivationSpec::sigmoid(), fennec::Init::xavier_normal());
  for (std::size_t l = 1; l < 10; ++l) {
    INFO("layer " << l + 1 << " std " << r.layers[l].std << " mean " << r.layers[l].mean);
    CHECK(r.layers[l].std > 0.05);
    CHECK(r.layers[l].std < 0.2);
    CHECK(std::fabs(r.layers[l].mean - 0.5) < 0.05);
  }
  INFO("layer 1 gradient rms " << r.layers[0].out_grad_rms);
  CHECK(r.layers[0].out_grad_rms < 1e-4);
}

TEST_CASE("initstudy: --all's cases include ReLU with sigma 0.01 and a sigmoid case", "[tools][initstudy]") {
  bool relu_small = false, sigmoid = false;
  for (const InitCaseSpec& c : init_study_cases()) {
    relu_small |= std::string(c.activation) == "relu" && std::string(c.init) == "normal:0.01";
    sigmoid |= std::string(c.activation) == "sigmoid";
    // Every case parses as the CLI would parse it.
    CHECK_NOTHROW(parse_activation_spec(c.activation, "case"));
    CHECK_NOTHROW(parse_init(c.init, "case"));
  }
  CHECK(relu_small);
  CHECK(sigmoid);
  CHECK(init_study_cases().size() == 7);
}

TEST_CASE("initstudy: labels write N(mean, variance) like N(0, 1/fan_in) beside them", "[tools][initstudy]") {
  CHECK(init_label(fennec::Init::normal(0, 0.01f)) == "N(0, 0.01^2)");
  CHECK(init_label(fennec::Init::normal(0, 1)) == "N(0, 1)");
  CHECK(init_label(fennec::Init::normal(0, 0.5f)) == "N(0, 0.5^2)");
  CHECK(init_label(fennec::Init::xavier_normal()) == "Xavier N(0, 1/fan_in)");
  const InitStudyResult r = init_case(fennec::ActivationSpec::tanh(), fennec::Init::normal(0, 0.01f));
  CHECK(r.title == "tanh, N(0, 0.01^2)");
}

TEST_CASE("initstudy: one y scale per figure, and a layer squeezed into a bar or two is zoomed",
          "[tools][initstudy]") {
  InitStudyConfig cfg;
  const InitStudyResult r = init_case(fennec::ActivationSpec::tanh(), fennec::Init::normal(0, 0.01f), &cfg);
  // Layers 1 and 2 (std 0.2, 0.05) spread over the shared [-1, 1]; from layer 3 on (std <= 0.01,
  // below one shared bin of 0.05) each layer has its own range, and its histogram a real shape.
  CHECK(r.hist_lo == -1);
  CHECK(r.hist_hi == 1);
  for (std::size_t l = 0; l < 10; ++l) {
    const InitLayerStats& st = r.layers[l];
    INFO("layer " << l + 1 << " std " << st.std << " range [" << st.hist_lo << ", " << st.hist_hi << ")");
    CHECK(st.hist_zoomed == (l >= 2));
    std::size_t filled = 0;
    std::uint64_t counted = 0;
    for (std::uint64_t c : st.hist) {
      filled += c != 0;
      counted += c;
    }
    CHECK(filled >= 10);
    // The 0.1% tails on each side may fall outside; everything else is counted.
    CHECK(static_cast<double>(counted) >= 0.99 * static_cast<double>(cfg.batch * cfg.width));
    if (st.hist_zoomed) {
      CHECK(st.hist_hi - st.hist_lo < 10 * st.std);
      CHECK(st.hist_hi - st.hist_lo > 3 * st.std);
    }
  }
  // One y scale for every panel, set by the fullest bin of any layer (layer 2's spike, 0.35 of
  // its values), so layer 1's spread-out histogram is drawn at a third of the height it would
  // get on a scale of its own.
  const double total = static_cast<double>(cfg.batch * cfg.width);
  auto peak = [&](std::size_t l) {
    return static_cast<double>(*std::max_element(r.layers[l].hist.begin(), r.layers[l].hist.end())) / total;
  };
  double tallest = 0;
  for (std::size_t l = 0; l < 10; ++l) tallest = std::max(tallest, peak(l));
  CHECK(shared_histogram_top(cfg, r) == Approx(1.08 * tallest));
  CHECK(shared_histogram_top(cfg, r) > 3 * 1.08 * peak(0));
  // The SVG marks every zoomed panel in its title.
  tools_test::TempDir dir("initzoom");
  std::string error;
  REQUIRE(write_init_svg(cfg, r, dir.file("z.svg"), error));
  const tools_test::Run marks = tools_test::run("grep -c 'x zoomed' " + tools_test::quote(dir.file("z.svg")));
  CHECK(marks.output == "8\n");
}

TEST_CASE("initstudy: the overlay figure and table of every case", "[tools][initstudy][svg]") {
  tools_test::TempDir dir("initsummary");
  std::vector<InitCase> cases;
  for (const InitCaseSpec& c : init_study_cases()) {
    InitCase ic{c.id, {}, {}};
    ic.cfg.layers = 4;
    ic.cfg.width = 60;
    ic.cfg.batch = 50;
    ic.cfg.gradients = true;
    ic.cfg.timing_runs = 0;
    ic.cfg.activation = parse_activation_spec(c.activation, "case");
    ic.cfg.init = parse_init(c.init, "case");
    std::string error;
    REQUIRE(run_init_study(ic.cfg, ic.result, error));
    cases.push_back(std::move(ic));
  }
  std::string error;
  REQUIRE(write_init_summary_svg(cases, dir.file("s.svg"), error));
  check_svg(dir.file("s.svg"));
  REQUIRE(write_init_summary_csv(cases, dir.file("s.csv"), error));
  const tools_test::Run rows = tools_test::run("grep -c . " + tools_test::quote(dir.file("s.csv")));
  CHECK(rows.output == std::to_string(1 + 4 * cases.size()) + "\n");
  const tools_test::Run quoted = tools_test::run("grep -c 'tanh-normal0.01,tanh,\"N(0, 0.01^2)\",1,' " +
                                                 tools_test::quote(dir.file("s.csv")));
  CHECK(quoted.output == "1\n");
  CHECK_FALSE(write_init_summary_svg(cases, dir.file("no/such/dir/s.svg"), error));
}

TEST_CASE("optstudy: at the chapter's one learning rate SGD zig-zags across the ravine, momentum runs along it",
          "[tools][optstudy]") {
  const TestFunction* ravine = find_test_function("ravine");
  REQUIRE(ravine);
  const OptStudyConfig cfg = chapter_config();
  REQUIRE(cfg.fixed_lr == kChapterLr);
  const std::vector<OptRun> runs = study_function(*ravine, cfg);
  REQUIRE(runs.size() == 5);
  for (const OptRun& r : runs) {
    CHECK(r.lr == static_cast<float>(kChapterLr));
    CHECK((r.reached || r.steps == kChapterSteps));
  }
  const OptRun& sgd = runs[0];
  const OptRun& momentum = runs[1];
  REQUIRE(sgd.xs.size() == kChapterSteps + 1);
  REQUIRE(momentum.xs.size() == kChapterSteps + 1);
  // SGD: y <- (1 - 2 lr) y = -0.8 y, a crossing of the ravine's floor at every step, while x
  // creeps by a factor (1 - lr/50) a step.
  for (std::size_t t = 1; t <= 15; ++t) {
    INFO("SGD step " << t << ": y " << sgd.ys[t - 1] << " -> " << sgd.ys[t]);
    CHECK(sgd.ys[t] * sgd.ys[t - 1] < 0);
  }
  CHECK(sgd.xs[15] < -5.0);
  // Momentum gathers speed along the floor: past the middle of the ravine by step 15.
  INFO("x at step 15: SGD " << sgd.xs[15] << ", momentum " << momentum.xs[15]);
  CHECK(momentum.xs[15] > -2.0);
  CHECK(momentum.final_gap < 0.1 * sgd.final_gap);
}

TEST_CASE("optstudy: one panel per optimizer and function, trajectories as CSV", "[tools][optstudy][svg]") {
  tools_test::TempDir dir("optmultiples");
  OptStudyConfig cfg = chapter_config();
  std::vector<const TestFunction*> fns;
  std::vector<std::vector<OptRun>> runs;
  for (const TestFunction& f : test_functions()) {
    fns.push_back(&f);
    runs.push_back(study_function(f, cfg));
  }
  std::string error;
  REQUIRE(write_opt_svg(fns, cfg, runs, dir.file("m.svg"), error));
  check_svg(dir.file("m.svg"));
  // Each panel clips its own trajectory: 3 functions x 5 optimizers.
  const tools_test::Run panels = tools_test::run("grep -c '<clipPath' " + tools_test::quote(dir.file("m.svg")));
  CHECK(panels.output == "15\n");
  REQUIRE(write_opt_csv(fns, runs, dir.file("m.csv"), error));
  std::size_t points = 0;
  for (const std::vector<OptRun>& rs : runs)
    for (const OptRun& r : rs) points += r.xs.size();
  const tools_test::Run rows = tools_test::run("grep -c . " + tools_test::quote(dir.file("m.csv")));
  CHECK(rows.output == std::to_string(points + 1) + "\n");
  const tools_test::Run start = tools_test::run("grep -c '^ravine,sgd,0.899999976,0,0,40,[^,]*,0,-7,2$' " +
                                                tools_test::quote(dir.file("m.csv")));
  CHECK(start.output == "1\n");
  CHECK_FALSE(write_opt_csv(fns, runs, dir.file("no/such/dir/m.csv"), error));
  CHECK(error.find("cannot create") != std::string::npos);
}

TEST_CASE("optstudy: --chapter from the command line", "[tools][optstudy][cli]") {
  tools_test::TempDir dir("optchapter");
  const tools_test::Run ok = tools_test::run(tools_test::program(FENNEC_OPTSTUDY_EXE) + " --chapter --svg " +
                                             tools_test::quote(dir.file("c.svg")) + " --csv " +
                                             tools_test::quote(dir.file("c.csv")));
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("at most 40 steps") != std::string::npos);
  CHECK(ok.output.find("table: ") != std::string::npos);
  const tools_test::Run bad = tools_test::run(tools_test::program(FENNEC_OPTSTUDY_EXE) + " --chapter --lr 0.1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--chapter sets its own lr; drop --lr") != std::string::npos);
  const tools_test::Run help = tools_test::run(tools_test::program(FENNEC_OPTSTUDY_EXE) + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--csv FILE") != std::string::npos);
  CHECK(help.output.find("every optimizer at lr 0.9 for 40 steps") != std::string::npos);
}
