// SPDX-License-Identifier: Apache-2.0
#include "fennec-infer/confusion_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fennec_tools {
namespace {

// Sequential white-to-blue scale (ColorBrewer "Blues" end points): light for 0, dark for 1,
// readable in grey and by colour-blind readers.
std::string shade(double f) {
  f = std::clamp(f, 0.0, 1.0);
  const double lo[3] = {247, 251, 255}, hi[3] = {8, 48, 107};
  char buf[8];
  int c[3];
  for (int i = 0; i < 3; ++i) c[i] = static_cast<int>(std::lround(lo[i] + (hi[i] - lo[i]) * f));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

// Width of `s` in pixels at font size `font`, roughly (DejaVu Sans averages 0.6 em).
double text_width(const std::string& s, double font) { return 0.6 * font * static_cast<double>(s.size()); }

}  // namespace

Svg confusion_svg(const Evaluation& e, const std::vector<std::string>& names, const std::string& title) {
  const std::size_t n = e.classes();
  const double cell = std::clamp(560.0 / static_cast<double>(n), 14.0, 72.0);
  const double font = std::clamp(cell * 0.3, 7.0, 12.0);
  double longest = 0;
  for (const std::string& s : names) longest = std::max(longest, text_width(s, font));
  const double left = 40 + longest;    // row names, then the "true class" title
  const double top = 74;               // title, subtitle, the colour scale's caption
  const double bottom = 30 + longest * 0.72 + 10;  // column names at -45 degrees, axis title
  const double scale_w = 90;           // colour scale on the right
  const double grid = cell * static_cast<double>(n);
  char sub[160];
  std::snprintf(sub, sizeof sub, "%llu samples, accuracy %.2f%%; shade = share of the true class's row",
                static_cast<unsigned long long>(e.samples()),
                e.samples() ? 100.0 * static_cast<double>(e.correct()) / static_cast<double>(e.samples()) : 0.0);
  // Wide enough for the grid and its scale, and for the title and subtitle (left-aligned on
  // the grid) to fit in full.
  const double width = std::max({left + grid + scale_w, left + text_width(title, 14) * 1.1 + 20,
                                 left + text_width(sub, 11) + 20});
  const double height = top + grid + bottom;
  Svg svg(width, height);

  svg.text(left, 24, title, 14, "start", 0, "bold");
  svg.text(left, 44, sub, 11, "start", 0, "normal", "#555");

  for (std::size_t t = 0; t < n; ++t) {
    const std::uint64_t total = e.class_total(t);
    const double y = top + cell * static_cast<double>(t);
    for (std::size_t p = 0; p < n; ++p) {
      const double x = left + cell * static_cast<double>(p);
      const std::uint64_t c = e.count(t, p);
      const double f = total ? static_cast<double>(c) / static_cast<double>(total) : 0.0;
      svg.rect(x, y, cell, cell, shade(f), "#ffffff", 1);
      if (c != 0 && cell >= 18) {
        const std::string label = std::to_string(c);
        const double size = std::min(font, cell * 0.9 / std::max<double>(1, 0.6 * static_cast<double>(label.size())));
        svg.text(x + cell / 2, y + cell / 2 + size * 0.35, label, size, "middle", 0,
                 t == p ? "bold" : "normal", f > 0.5 ? "#ffffff" : "#222222");
      }
    }
    // The diagonal cell is framed, so correct predictions stand out even when a row is spread.
    svg.rect(left + cell * static_cast<double>(t), y, cell, cell, "none", "#222222", 1.5);
    svg.text(left - 6, y + cell / 2 + font * 0.35, names[t], font, "end");
    if (total == 0)
      svg.text(left + grid / 2, y + cell / 2 + font * 0.35, "(no samples of this class)", font, "middle", 0,
               "normal", "#777777");
  }
  const double grid_bottom = top + grid;
  for (std::size_t p = 0; p < n; ++p) {
    const double x = left + cell * (static_cast<double>(p) + 0.5);
    svg.text(x + font * 0.3, grid_bottom + 8, names[p], font, "end", -45);
  }
  svg.text(left + grid / 2, height - 10, "predicted class", 12, "middle");
  svg.text(14, top + grid / 2, "true class", 12, "middle", -90);

  // Colour scale: 0% (bottom) to 100% of the row (top), one smooth gradient.
  const double sx = left + grid + 24, sw = 14;
  svg.raw("<defs><linearGradient id=\"row-share\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
          "<stop offset=\"0\" stop-color=\"" + shade(0) + "\"/><stop offset=\"1\" stop-color=\"" + shade(1) +
          "\"/></linearGradient></defs>\n");
  svg.rect(sx, top, sw, grid, "url(#row-share)");
  svg.text(sx + sw / 2, top - 8, "share of row", 9, "middle", 0, "normal", "#555");
  svg.rect(sx, top, sw, grid, "none", "#444444", 1);
  for (int pct : {0, 25, 50, 75, 100}) {
    const double y = top + grid * (1.0 - pct / 100.0);
    svg.line(sx + sw, y, sx + sw + 4, y, "#444444", 1);
    svg.text(sx + sw + 6, y + 3.5, std::to_string(pct) + "%", 10);
  }
  return svg;
}

}  // namespace fennec_tools
