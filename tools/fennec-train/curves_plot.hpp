// SPDX-License-Identifier: Apache-2.0
// --plot: the learning curves of a run as an SVG (report time, after training): loss per epoch
// (train, validation, and test where evaluated) on the left, accuracy on the right, the learning
// rate dashed against a second axis on the right of each panel.
#pragma once

#include <string>
#include <vector>

#include "fennec-train/metrics_log.hpp"

namespace fennec_train {

// False with `error` set when there is nothing to draw or the file cannot be written.
bool write_curves_svg(const std::vector<EpochRecord>& records, const std::string& title,
                      const std::string& path, std::string& error);

}  // namespace fennec_train
