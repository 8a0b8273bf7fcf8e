// SPDX-License-Identifier: Apache-2.0
#include "fennec-optstudy/optstudy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "common/svg.hpp"
#include "common/written_file.hpp"

namespace fennec_tools {
namespace {

double ravine_f(double x, double y) { return x * x / 100.0 + y * y; }
void ravine_g(double x, double y, double& gx, double& gy) {
  gx = x / 50.0;
  gy = 2.0 * y;
}
double saddle_f(double x, double y) { return x * x + y * y * y * y / 4.0 - y * y / 2.0; }
void saddle_g(double x, double y, double& gx, double& gy) {
  gx = 2.0 * x;
  gy = y * y * y - y;
}
double rosen_f(double x, double y) { return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x); }
void rosen_g(double x, double y, double& gx, double& gy) {
  gx = -2 * (1 - x) - 400 * x * (y - x * x);
  gy = 200 * (y - x * x);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

const char* pretty(fennec::OptimizerKind k) {
  switch (k) {
    case fennec::OptimizerKind::kSgd: return "SGD";
    case fennec::OptimizerKind::kMomentum: return "Momentum";
    case fennec::OptimizerKind::kNesterov: return "Nesterov";
    case fennec::OptimizerKind::kAdaGrad: return "AdaGrad";
    case fennec::OptimizerKind::kRmsProp: return "RMSProp";
    case fennec::OptimizerKind::kAdam: return "Adam";
    case fennec::OptimizerKind::kAdamW: return "AdamW";
  }
  return "?";
}

// Marching squares for one level over a grid sampled on the panel; returns SVG path data.
std::string contour_path(const std::vector<double>& grid, std::size_t nx, std::size_t ny,
                         const Panel& p, double level) {
  std::string d;
  auto at = [&](std::size_t i, std::size_t j) { return grid[j * nx + i]; };
  auto gx = [&](double i) { return p.xlo + (p.xhi - p.xlo) * i / static_cast<double>(nx - 1); };
  auto gy = [&](double j) { return p.ylo + (p.yhi - p.ylo) * j / static_cast<double>(ny - 1); };
  for (std::size_t j = 0; j + 1 < ny; ++j) {
    for (std::size_t i = 0; i + 1 < nx; ++i) {
      const double v[4] = {at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)};
      // Crossing points on the four edges (bottom, right, top, left).
      double ex[4], ey[4];
      int n = 0;
      const double ci[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
      for (int e = 0; e < 4; ++e) {
        const int a = e, b = (e + 1) % 4;
        if ((v[a] < level) != (v[b] < level)) {
          const double t = (level - v[a]) / (v[b] - v[a]);
          const double fi = static_cast<double>(i) + ci[a][0] + t * (ci[b][0] - ci[a][0]);
          const double fj = static_cast<double>(j) + ci[a][1] + t * (ci[b][1] - ci[a][1]);
          ex[n] = p.px(gx(fi));
          ey[n] = p.py(gy(fj));
          ++n;
        }
      }
      for (int k = 0; k + 1 < n; k += 2) {
        d += "M" + svg_num(ex[k]) + " " + svg_num(ey[k]) + "L" + svg_num(ex[k + 1]) + " " +
             svg_num(ey[k + 1]);
      }
    }
  }
  return d;
}

}  // namespace

const std::vector<TestFunction>& test_functions() {
  static const std::vector<TestFunction> kFunctions = {
      {"ravine", "f = x\u00b2/100 + y\u00b2", ravine_f, ravine_g, -7.0, 2.0, 0.0, 0.0, 0.0, -8, 8, -3, 3},
      {"saddle", "f = x\u00b2 + y\u2074/4 - y\u00b2/2", saddle_f, saddle_g, -1.5, 1e-3, -0.25, 0.0, 1.0,
       -2, 2, -1.6, 1.6},
      {"rosenbrock", "f = (1-x)\u00b2 + 100(y-x\u00b2)\u00b2", rosen_f, rosen_g, -1.2, 1.0, 0.0, 1.0, 1.0,
       -2, 2, -1, 3},
  };
  return kFunctions;
}

const TestFunction* find_test_function(const std::string& id) {
  for (const TestFunction& f : test_functions())
    if (id == f.id) return &f;
  return nullptr;
}

OptRun run_optimizer(const TestFunction& fn, const OptStudyConfig& cfg, fennec::OptimizerKind kind,
                     float lr) {
  OptRun run;
  run.kind = kind;
  run.lr = lr;
  fennec::OptimizerConfig oc = fennec::OptimizerConfig::defaults(kind);
  oc.lr = lr;
  float w[2] = {static_cast<float>(fn.start_x), static_cast<float>(fn.start_y)};
  float g[2] = {0, 0};
  float s0[2] = {0, 0}, s1[2] = {0, 0};
  run.xs.push_back(w[0]);
  run.ys.push_back(w[1]);
  double gap = fn.f(w[0], w[1]) - fn.min_value;
  // Runs all max_steps: "reached at t" means f - f* <= tolerance from step t to the end, so a
  // trajectory that passes through the tolerance by luck and leaves again does not count.
  std::size_t reached_at = gap <= cfg.tolerance ? 0 : SIZE_MAX;
  std::size_t t = 0;
  while (t < cfg.max_steps) {
    double gx = 0, gy = 0;
    fn.grad(w[0], w[1], gx, gy);
    g[0] = static_cast<float>(gx);
    g[1] = static_cast<float>(gy);
    ++t;
    fennec::Status s = fennec::optimizer_step(oc, fennec::VectorView{w, 2}, fennec::ConstVectorView(g, 2),
                                              fennec::VectorView{s0, 2}, fennec::VectorView{s1, 2}, t);
    if (!s.is_ok() || !std::isfinite(w[0]) || !std::isfinite(w[1]) || std::fabs(w[0]) > 1e6 ||
        std::fabs(w[1]) > 1e6) {
      run.diverged = true;
      break;
    }
    gap = fn.f(w[0], w[1]) - fn.min_value;
    if (gap > cfg.tolerance) {
      reached_at = SIZE_MAX;
    } else if (reached_at == SIZE_MAX) {
      reached_at = t;
    }
    // The trajectory is kept up to the point where it settles (a little past, for the figure).
    if (reached_at == SIZE_MAX || t <= reached_at + 20) {
      run.xs.push_back(w[0]);
      run.ys.push_back(w[1]);
    }
  }
  run.reached = !run.diverged && reached_at != SIZE_MAX;
  run.steps = run.reached ? reached_at : t;
  run.final_gap = run.diverged ? INFINITY : gap;
  return run;
}

std::vector<OptRun> study_function(const TestFunction& fn, const OptStudyConfig& cfg) {
  std::vector<OptRun> best;
  for (fennec::OptimizerKind kind : cfg.optimizers) {
    OptRun chosen;
    bool have = false;
    std::vector<float> lrs;
    if (cfg.fixed_lr > 0) {
      lrs.push_back(static_cast<float>(cfg.fixed_lr));
    } else {
      for (int k = cfg.lr_lo_exp8; k <= cfg.lr_hi_exp8; ++k)
        lrs.push_back(static_cast<float>(std::pow(10.0, k / 8.0)));
    }
    for (float lr : lrs) {
      OptRun r = run_optimizer(fn, cfg, kind, lr);
      const bool better =
          !have || (r.reached && (!chosen.reached || r.steps < chosen.steps)) ||
          (!r.reached && !chosen.reached && !r.diverged && (chosen.diverged || r.final_gap < chosen.final_gap));
      if (better) {
        chosen = std::move(r);
        have = true;
      }
    }
    best.push_back(std::move(chosen));
  }
  return best;
}

std::string format_opt_table(const TestFunction& fn, const OptStudyConfig& cfg,
                             const std::vector<OptRun>& runs) {
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %s, start (%g, %g), minimum %g at (%g, %g); tolerance f - f* <= %g, at most %zu steps\n",
                fn.id, fn.formula, fn.start_x, fn.start_y, fn.min_value, fn.min_x, fn.min_y,
                cfg.tolerance, cfg.max_steps);
  s += buf;
  s += cfg.fixed_lr > 0 ? "optimizer        lr     steps   final f - f*\n"
                        : "optimizer   best lr     steps   final f - f*\n";
  for (const OptRun& r : runs) {
    std::string steps = r.reached ? std::to_string(r.steps) : r.diverged ? "diverged" : "not reached";
    std::snprintf(buf, sizeof buf, "%-10s %8.3g  %8s   %.3g\n", pretty(r.kind), static_cast<double>(r.lr),
                  steps.c_str(), r.final_gap);
    s += buf;
  }
  return s;
}

OptStudyConfig chapter_config() {
  OptStudyConfig cfg;
  cfg.fixed_lr = kChapterLr;
  cfg.max_steps = kChapterSteps;
  return cfg;
}

bool write_opt_svg(const std::vector<const TestFunction*>& fns, const OptStudyConfig& cfg,
                   const std::vector<std::vector<OptRun>>& runs, const std::string& path,
                   std::string& error) {
  const std::size_t cols = fns.size();
  std::size_t rows = 0;
  for (const std::vector<OptRun>& r : runs) rows = std::max(rows, r.size());
  const double pw = cols == 1 ? 560 : 330, ph = cols == 1 ? 210 : 220;
  const double left = 60, gapx = 56, gapy = 64, top = 128;
  const double width = left + static_cast<double>(cols) * (pw + gapx);
  const double height = top + static_cast<double>(rows) * (ph + gapy) + 10;
  Svg svg(width, height);
  const bool fixed = cfg.fixed_lr > 0;
  svg.text(width / 2, 28,
           fixed ? "Optimizers at one learning rate (Fennec's optimizer_step)"
                 : "Optimizers on 2-D test functions (Fennec's optimizer_step)",
           18, "middle", 0, "bold");
  svg.text(width / 2, 50,
           fixed ? "every optimizer with lr " + fmt("%g", cfg.fixed_lr) + " for " + std::to_string(cfg.max_steps) +
                       " steps; a marker at every step"
                 : "each optimizer with its fastest learning rate on a log grid; stops when f - f* <= " +
                       fmt("%g", cfg.tolerance) + " or after " + std::to_string(cfg.max_steps) + " steps",
           12, "middle", 0, "normal", "#555");
  svg.text(width / 2, 68, "one panel per optimizer and function; white circle: start, cross: minimum", 12,
           "middle", 0, "normal", "#555");
  for (std::size_t k = 0; k < cols; ++k) {
    const TestFunction& fn = *fns[k];
    const double cx = left + static_cast<double>(k) * (pw + gapx);
    svg.text(cx + pw / 2, top - 32, std::string(fn.id) + ":  " + fn.formula, 14, "middle", 0, "bold");
    // Contours: levels geometric in f - f* so both the ravine floor and the walls show. The same
    // for every row, so sampled once per column.
    const std::size_t nx = 121, ny = 121;
    std::vector<double> grid(nx * ny);
    double top_gap = 0;
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        const double x = fn.view_x0 + (fn.view_x1 - fn.view_x0) * static_cast<double>(i) / (nx - 1);
        const double y = fn.view_y0 + (fn.view_y1 - fn.view_y0) * static_cast<double>(j) / (ny - 1);
        grid[j * nx + i] = fn.f(x, y) - fn.min_value;
        top_gap = std::max(top_gap, grid[j * nx + i]);
      }
    for (std::size_t r = 0; r < runs[k].size(); ++r) {
      const OptRun& run = runs[k][r];
      const Panel p{cx, top + static_cast<double>(r) * (ph + gapy), pw, ph,
                    fn.view_x0, fn.view_x1, fn.view_y0, fn.view_y1};
      const int levels = 12;
      for (int l = 0; l < levels; ++l) {
        const double e = std::log10(top_gap) - 3.5 + 3.5 * l / (levels - 1.0);
        const std::string d = contour_path(grid, nx, ny, p, std::pow(10.0, e) * 0.98);
        if (!d.empty()) svg.path(d, "#c4c4c4", 0.8);
      }
      const std::string clip = "clip" + std::to_string(k) + "_" + std::to_string(r);
      svg.raw("<clipPath id=\"" + clip + "\"><rect x=\"" + svg_num(p.x) + "\" y=\"" + svg_num(p.y) +
              "\" width=\"" + svg_num(p.w) + "\" height=\"" + svg_num(p.h) + "\"/></clipPath>\n");
      svg.raw("<g clip-path=\"url(#" + clip + ")\">\n");
      // At most ~1500 points per trajectory; the first 300 steps are kept exactly.
      const std::size_t n = run.xs.size();
      const std::size_t stride = n > 1500 ? (n - 300) / 1200 + 1 : 1;
      std::vector<double> xs, ys;
      for (std::size_t i = 0; i < n; i = (i < 300 ? i + 1 : i + stride)) {
        xs.push_back(p.px(std::clamp(run.xs[i], p.xlo - 10 * (p.xhi - p.xlo), p.xhi + 10 * (p.xhi - p.xlo))));
        ys.push_back(p.py(std::clamp(run.ys[i], p.ylo - 10 * (p.yhi - p.ylo), p.yhi + 10 * (p.yhi - p.ylo))));
      }
      xs.push_back(p.px(run.xs.back()));
      ys.push_back(p.py(run.ys.back()));
      const char* colour = series_colour(r);
      svg.polyline(xs, ys, colour, 1.8);
      if (n <= 160) {
        for (std::size_t i = 1; i < xs.size(); ++i) svg.marker(xs[i], ys[i], r, 2.6, colour);
      }
      svg.circle(xs.back(), ys.back(), 3.5, colour);
      svg.raw("</g>\n");
      svg.circle(p.px(fn.start_x), p.py(fn.start_y), 4.5, "white", "#000");
      const double mx = p.px(fn.min_x), my = p.py(fn.min_y);
      svg.line(mx - 5, my - 5, mx + 5, my + 5, "#000", 2);
      svg.line(mx - 5, my + 5, mx + 5, my - 5, "#000", 2);
      p.axes(svg, cols == 1 ? 8 : 6, 4, r + 1 == runs[k].size() ? "x" : "", k == 0 ? "y" : "", 9);
      const std::string steps = run.reached ? std::to_string(run.steps) + " steps"
                                : run.diverged ? "diverged"
                                : fixed ? "f - f* = " + fmt("%.2g", run.final_gap) + " after " + std::to_string(run.steps) + " steps"
                                        : "not reached in " + std::to_string(run.steps) + " steps";
      svg.text(p.x, p.y - 8, pretty(run.kind), 13, "start", 0, "bold", colour);
      svg.text(p.x + pw, p.y - 8, "lr " + fmt("%.3g", run.lr) + ": " + steps, 11, "end", 0, "normal", "#333");
    }
  }
  return svg.write(path, error);
}

bool write_opt_csv(const std::vector<const TestFunction*>& fns, const std::vector<std::vector<OptRun>>& runs,
                   const std::string& path, std::string& error) {
  std::FILE* f = create_written_file(path, error);
  if (!f) return false;
  std::fprintf(f, "function,optimizer,lr,reached,diverged,steps,final_gap,step,x,y\n");
  for (std::size_t k = 0; k < fns.size() && k < runs.size(); ++k) {
    for (const OptRun& run : runs[k]) {
      for (std::size_t i = 0; i < run.xs.size(); ++i) {
        std::fprintf(f, "%s,%s,%.9g,%d,%d,%zu,%.9g,%zu,%.9g,%.9g\n", fns[k]->id, fennec::optimizer_name(run.kind),
                     static_cast<double>(run.lr), run.reached ? 1 : 0, run.diverged ? 1 : 0, run.steps,
                     run.final_gap, i, run.xs[i], run.ys[i]);
      }
    }
  }
  return close_written_file(f, path, error);
}

}  // namespace fennec_tools
