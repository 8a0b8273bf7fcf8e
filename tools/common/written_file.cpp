// SPDX-License-Identifier: Apache-2.0
#include "common/written_file.hpp"

#include <cerrno>
#include <cstring>

namespace fennec_tools {

std::FILE* create_written_file(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) error = path + ": cannot create: " + std::strerror(errno);
  return f;
}

bool close_written_file(std::FILE* f, const std::string& path, std::string& error) {
  const bool written = !std::ferror(f);
  const bool closed = std::fclose(f) == 0;
  if (written && closed) return true;
  error = path + ": write failed";
  return false;
}

}  // namespace fennec_tools
