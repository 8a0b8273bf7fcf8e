// SPDX-License-Identifier: Apache-2.0
#include "common/file_bytes.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fennec_tools {

bool read_file_bytes(const std::string& path, std::uint64_t max_bytes, std::vector<std::uint8_t>& out,
                     std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    std::fclose(f);
    return false;
  }
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    error = path + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
            " this reader takes";
    std::fclose(f);
    return false;
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || got != bytes.size()) {
    error = path + ": read " + std::to_string(got) + " of " + std::to_string(size) + " bytes" +
            (failed ? std::string(": ") + std::strerror(errno) : std::string(" (file shrank?)"));
    return false;
  }
  out.swap(bytes);
  return true;
}

}  // namespace fennec_tools
