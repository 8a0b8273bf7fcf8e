// SPDX-License-Identifier: Apache-2.0
// A whole file read into memory for the data readers (.npy, CSV), refused above a size cap
// before anything is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fennec_tools {

// False with "PATH: ..." in `error` when the file cannot be opened or read, is a directory, or
// holds more than `max_bytes`; `out` is left unchanged then.
bool read_file_bytes(const std::string& path, std::uint64_t max_bytes, std::vector<std::uint8_t>& out,
                     std::string& error);

}  // namespace fennec_tools
