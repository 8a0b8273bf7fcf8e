// SPDX-License-Identifier: Apache-2.0
// File-name tests shared by the tools (which format a name asks for).
#pragma once

#include <string>

namespace fennec_tools {

// Whether `name` ends in `suffix` (e.g. ".npy"); case-sensitive, as the formats' conventions are.
inline bool ends_with(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace fennec_tools
