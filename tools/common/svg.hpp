// SPDX-License-Identifier: Apache-2.0
// Minimal SVG writer for the studies' figures: shapes, escaped text, axes with "nice" ticks.
// Builds the document in memory (setup/report time only) and writes it in one go.
#pragma once

#include <string>
#include <vector>

namespace fennec_tools {

// Escape &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& s);

// Coordinate formatting used in the markup (2 decimals, trailing zeros trimmed).
std::string svg_num(double v);

// Round tick positions covering [lo, hi] with about `target` intervals (1-2-5 steps).
std::vector<double> nice_ticks(double lo, double hi, int target);
// Short label for a tick value ("0", "0.25", "1e-05", "-2").
std::string tick_label(double v);

class Svg {
 public:
  Svg(double width, double height);

  void rect(double x, double y, double w, double h, const std::string& fill,
            const std::string& stroke = "none", double stroke_width = 0);
  void line(double x1, double y1, double x2, double y2, const std::string& stroke,
            double width = 1, const std::string& dash = "");
  // Polyline through (xs[i], ys[i]).
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                const std::string& stroke, double width = 1.5, double opacity = 1.0);
  void circle(double cx, double cy, double r, const std::string& fill,
              const std::string& stroke = "none");
  // anchor: "start" | "middle" | "end"; rotate in degrees around (x, y).
  void text(double x, double y, const std::string& s, double size = 12,
            const std::string& anchor = "start", double rotate = 0,
            const std::string& weight = "normal", const std::string& fill = "#222");

  // SVG path data ("M x y L x y ...") stroked, not filled.
  void path(const std::string& d, const std::string& stroke, double width = 1,
            const std::string& extra_attributes = "");
  // A polyline with a dash pattern ("" is solid; SVG stroke-dasharray syntax, e.g. "6 3").
  void dashed_polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                       const std::string& stroke, double width, const std::string& dash);
  // A filled marker of about radius r centred on (cx, cy); `shape` picks one of seven outlines
  // (circle, square, triangle, diamond, inverted triangle, plus, cross), modulo seven.
  void marker(double cx, double cy, std::size_t shape, double r, const std::string& fill);
  // Trusted markup from this program (clip paths, groups). Never pass user text here.
  void raw(const std::string& markup) { body_ += markup; }

  std::string str() const;
  // Returns false and sets `error` when the file cannot be written.
  bool write(const std::string& path, std::string& error) const;

 private:
  double width_, height_;
  std::string body_;
};

// A rectangular plotting area in SVG pixels with data ranges on both axes.
struct Panel {
  double x, y, w, h;        // pixel box (y grows downwards)
  double xlo, xhi, ylo, yhi;  // data range

  double px(double v) const { return x + (v - xlo) / (xhi - xlo) * w; }
  double py(double v) const { return y + h - (v - ylo) / (yhi - ylo) * h; }
  // Frame, ticks with labels on both axes (about x_ticks / y_ticks intervals), axis titles.
  void axes(Svg& svg, int x_ticks, int y_ticks, const std::string& xlabel,
            const std::string& ylabel, double font = 10) const;
  // For a panel whose y range is in log10 units: frame, a grid line and a "1e-3" label at every
  // decade (every second or more when there are many), axis titles; x ticks as in axes().
  void log_y_axes(Svg& svg, int x_ticks, const std::string& xlabel, const std::string& ylabel,
                  double font = 10) const;
};

// Distinct colours for series (colour-blind friendly Okabe-Ito order).
const char* series_colour(std::size_t i);
// Series i's dash pattern: colour, dash and marker (shape i) together keep every line of an
// overlay distinguishable without colour vision, and in grey print.
const char* series_dash(std::size_t i);
// A legend entry for series i at (x, y): a short line in its colour and dash with its marker,
// then the label. Returns the x just past the label (an estimate: 0.6 em per character).
double series_key(Svg& svg, double x, double y, std::size_t i, const std::string& label,
                  double font = 11);

}  // namespace fennec_tools
