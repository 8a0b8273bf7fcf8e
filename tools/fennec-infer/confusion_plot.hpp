// SPDX-License-Identifier: Apache-2.0
// The confusion matrix as an SVG heat map: one row per true class, one column per predicted
// class, each cell shaded by the share of its row (so a rare class reads as clearly as a common
// one) and labelled with its count; class names on both axes, a colour scale, the title.
#pragma once

#include <string>
#include <vector>

#include "common/svg.hpp"
#include "fennec-infer/evaluation.hpp"

namespace fennec_tools {

Svg confusion_svg(const Evaluation& e, const std::vector<std::string>& names, const std::string& title);

}  // namespace fennec_tools
