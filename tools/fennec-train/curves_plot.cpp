// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/curves_plot.hpp"

#include <algorithm>
#include <cmath>

#include "common/svg.hpp"

namespace fennec_train {

namespace {

using fennec_tools::Panel;
using fennec_tools::Svg;

struct Series {
  const char* name;
  double EpochRecord::*field;
  const char* colour;
  const char* dash;  // "" solid
};

// A range covering every finite value of the series, padded a little; [0, 1] when none.
void value_range(const std::vector<EpochRecord>& rs, const std::vector<Series>& series, double& lo,
                 double& hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (const EpochRecord& r : rs)
    for (const Series& s : series) {
      const double v = r.*s.field;
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double pad = hi > lo ? 0.06 * (hi - lo) : std::max(0.05 * std::fabs(hi), 0.01);
  lo -= pad;
  hi += pad;
}

// One series as a line with a marker per epoch, broken where a value is missing.
void draw(Svg& svg, const Panel& p, const std::vector<EpochRecord>& rs, const Series& s) {
  std::vector<double> xs, ys;
  auto flush = [&] {
    if (xs.size() > 1) {
      std::string d;
      for (std::size_t i = 0; i < xs.size(); ++i)
        d += (i ? " L " : "M ") + fennec_tools::svg_num(xs[i]) + " " + fennec_tools::svg_num(ys[i]);
      svg.path(d, s.colour, 2, *s.dash ? std::string("stroke-dasharray=\"") + s.dash + "\"" : "");
    }
    xs.clear();
    ys.clear();
  };
  for (const EpochRecord& r : rs) {
    const double v = r.*s.field;
    if (!std::isfinite(v)) {
      flush();
      continue;
    }
    xs.push_back(p.px(static_cast<double>(r.epoch)));
    ys.push_back(p.py(v));
    svg.circle(xs.back(), ys.back(), 3, s.colour);
  }
  flush();
}

bool has_values(const std::vector<EpochRecord>& rs, double EpochRecord::*field) {
  return std::any_of(rs.begin(), rs.end(), [&](const EpochRecord& r) { return std::isfinite(r.*field); });
}

// The learning rate against a right-hand axis of the panel (grey, dashed).
void draw_lr(Svg& svg, const Panel& p, const std::vector<EpochRecord>& rs, double lr_hi) {
  Panel lr = p;
  lr.ylo = 0;
  lr.yhi = lr_hi;
  std::string d;
  for (std::size_t i = 0; i < rs.size(); ++i)
    d += (i ? " L " : "M ") + fennec_tools::svg_num(lr.px(static_cast<double>(rs[i].epoch))) + " " +
         fennec_tools::svg_num(lr.py(rs[i].lr));
  if (rs.size() > 1) svg.path(d, "#777", 1.5, "stroke-dasharray=\"2 3\"");
  for (double t : fennec_tools::nice_ticks(0, lr_hi, 4)) {
    const double y = lr.py(t);
    svg.line(p.x + p.w, y, p.x + p.w + 4, y, "#777", 1);
    svg.text(p.x + p.w + 6, y + 3.5, fennec_tools::tick_label(t), 10, "start", 0, "normal", "#555");
  }
  svg.text(p.x + p.w + 48, p.y + p.h / 2, "learning rate (dotted)", 11, "middle", 90, "normal", "#555");
}

void legend(Svg& svg, double x, double y, const std::vector<Series>& series) {
  // On a white box, so the lines under it do not run through the labels.
  svg.rect(x - 6, y - 14, 118, 16.0 * static_cast<double>(series.size() + 1) + 6, "white", "#bbb", 1);
  for (const Series& s : series) {
    svg.line(x, y - 4, x + 22, y - 4, s.colour, 2, s.dash);
    svg.circle(x + 11, y - 4, 3, s.colour);
    svg.text(x + 28, y, s.name, 11);
    y += 16;
  }
  svg.line(x, y - 4, x + 22, y - 4, "#777", 1.5, "2 3");
  svg.text(x + 28, y, "learning rate", 11);
}

}  // namespace

bool write_curves_svg(const std::vector<EpochRecord>& rs, const std::string& title, const std::string& path,
                      std::string& error) {
  if (rs.empty()) {
    error = "--plot: no epoch finished, nothing to draw";
    return false;
  }
  const double w = 1000, h = 420;
  Svg svg(w, h);
  svg.text(w / 2, 24, title, 14, "middle", 0, "bold");
  const double x_hi = std::max(2.0, static_cast<double>(rs.back().epoch));
  const double x_lo = std::min(1.0, static_cast<double>(rs.front().epoch));
  double lr_hi = 0;
  for (const EpochRecord& r : rs) lr_hi = std::max(lr_hi, r.lr);
  lr_hi = lr_hi > 0 ? lr_hi * 1.08 : 1;

  const char* kTrain = fennec_tools::series_colour(0);
  const char* kVal = fennec_tools::series_colour(1);
  const char* kTest = fennec_tools::series_colour(2);
  const char* panels[2] = {"loss", "accuracy"};
  const std::vector<Series> all[2] = {
      {{"train", &EpochRecord::train_loss, kTrain, ""},
       {"validation", &EpochRecord::val_loss, kVal, "6 3"},
       {"test", &EpochRecord::test_loss, kTest, "1 3"}},
      {{"train", &EpochRecord::train_acc, kTrain, ""},
       {"validation", &EpochRecord::val_acc, kVal, "6 3"},
       {"test", &EpochRecord::test_acc, kTest, "1 3"}}};
  for (int k = 0; k < 2; ++k) {
    std::vector<Series> shown;
    for (const Series& s : all[k])
      if (has_values(rs, s.field)) shown.push_back(s);
    Panel p{70.0 + k * 490.0, 50, 330, 310, x_lo, x_hi, 0, 1};
    value_range(rs, shown, p.ylo, p.yhi);
    // At most one tick interval per epoch, so the epoch axis never shows fractions.
    p.axes(svg, std::max(1, std::min(8, static_cast<int>(x_hi - x_lo))), 6, "epoch", panels[k]);
    for (const Series& s : shown) draw(svg, p, rs, s);
    draw_lr(svg, p, rs, lr_hi);
    svg.text(p.x + p.w / 2, p.y - 8, panels[k], 12, "middle", 0, "bold");
    if (k == 0) legend(svg, p.x + p.w - 120, p.y + 18, shown);
  }
  return svg.write(path, error);
}

}  // namespace fennec_train
