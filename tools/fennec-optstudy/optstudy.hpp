// SPDX-License-Identifier: Apache-2.0
// The optimizer study: 2-D test functions minimised from a fixed start by Fennec's own
// optimizers (fennec::optimizer_step on a 2-element parameter vector), each with the learning
// rate that reaches the tolerance fastest on a log grid, so the comparison is fair to each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

namespace fennec_tools {

struct TestFunction {
  const char* id;       // "ravine", "saddle", "rosenbrock"
  const char* formula;  // for titles
  double (*f)(double x, double y);
  void (*grad)(double x, double y, double& gx, double& gy);
  double start_x, start_y;
  double min_value;  // f* (global minimum)
  double min_x, min_y;
  double view_x0, view_x1, view_y0, view_y1;
};

// ravine f = x^2/100 + y^2; saddle f = x^2 + y^4/4 - y^2/2 (saddle at 0, minima at (0, +-1));
// rosenbrock f = (1-x)^2 + 100 (y-x^2)^2.
const std::vector<TestFunction>& test_functions();
const TestFunction* find_test_function(const std::string& id);

struct OptStudyConfig {
  std::vector<fennec::OptimizerKind> optimizers = {
      fennec::OptimizerKind::kSgd, fennec::OptimizerKind::kMomentum, fennec::OptimizerKind::kAdaGrad,
      fennec::OptimizerKind::kRmsProp, fennec::OptimizerKind::kAdam};
  double tolerance = 1e-6;       // reached when f - f* <= tolerance
  std::size_t max_steps = 10000;
  // Learning rates tried: 10^(k/8) for k in [lr_lo_exp8, lr_hi_exp8]. fixed_lr > 0 skips the grid.
  int lr_lo_exp8 = -40, lr_hi_exp8 = 0;
  double fixed_lr = 0;
};

// The chapter's own setting: the ravine, every optimizer with the same fixed learning rate and
// the same step budget, so the figure shows how each one moves rather than how well it was tuned
// (at this rate SGD overshoots the steep y direction at every step and zig-zags across the
// ravine, while momentum builds up speed along the flat x direction).
constexpr double kChapterLr = 0.9;
constexpr std::size_t kChapterSteps = 40;
OptStudyConfig chapter_config();

struct OptRun {
  fennec::OptimizerKind kind = fennec::OptimizerKind::kSgd;
  float lr = 0;
  bool reached = false;
  bool diverged = false;
  std::size_t steps = 0;       // steps to reach the tolerance (or steps run)
  double final_gap = 0;        // f - f* at the end
  std::vector<double> xs, ys;  // trajectory, start included
};

// One optimizer, one learning rate.
OptRun run_optimizer(const TestFunction& fn, const OptStudyConfig& cfg, fennec::OptimizerKind kind,
                     float lr);
// Best learning rate of the grid for each optimizer: fewest steps to the tolerance, else the
// lowest final gap among runs that did not diverge.
std::vector<OptRun> study_function(const TestFunction& fn, const OptStudyConfig& cfg);

std::string format_opt_table(const TestFunction& fn, const OptStudyConfig& cfg,
                             const std::vector<OptRun>& runs);
// Small multiples: one row per optimizer, one column per function, each panel with the
// function's contours and that optimizer's trajectory alone (markers at every step when the
// trajectory is short), so no path hides another.
bool write_opt_svg(const std::vector<const TestFunction*>& fns, const OptStudyConfig& cfg,
                   const std::vector<std::vector<OptRun>>& runs, const std::string& path,
                   std::string& error);
// Every trajectory as rows: function,optimizer,lr,reached,diverged,steps,final_gap,step,x,y
// (step 0 is the start; the trajectory stops 20 steps after it settles, as in the figure).
bool write_opt_csv(const std::vector<const TestFunction*>& fns, const std::vector<std::vector<OptRun>>& runs,
                   const std::string& path, std::string& error);

}  // namespace fennec_tools
