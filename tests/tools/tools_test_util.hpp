// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tools tests: a scratch directory and running a program.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fennec/isa.hpp"

namespace tools_test {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("fennec-tools-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell with stderr merged into stdout.
inline Run run(const std::string& command) {
  Run r;
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline std::string quote(const std::string& s) { return "'" + s + "'"; }

// The command line that starts one of the tools: `exe` quoted, behind FENNEC_TEST_EMULATOR when
// set (e.g. "qemu-x86_64 -cpu qemu64", word-split by the shell). qemu-user does not follow an
// exec, so without it a test binary run under an emulated CPU would start its tools natively.
inline std::string program(const std::string& exe) {
  const char* emulator = std::getenv("FENNEC_TEST_EMULATOR");
  return emulator && *emulator ? std::string(emulator) + " " + quote(exe) : quote(exe);
}

// Whether program() starts the tools under an emulated CPU (FENNEC_TEST_EMULATOR set), where
// they run a couple of hundred times slower than natively.
inline bool tools_emulated() {
  const char* emulator = std::getenv("FENNEC_TEST_EMULATOR");
  return emulator && *emulator;
}

// The "isa: NAME" line a tool prints must name FENNEC_EXPECT_ISA when CI sets it (the table the
// machine, or the emulated CPU, must get); otherwise any "isa: " line will do.
inline std::string expected_isa_line() {
  const char* expect = std::getenv("FENNEC_EXPECT_ISA");
  if (!expect || !*expect) return "isa: ";
  const fennec::Result<fennec::Isa> isa = fennec::parse_isa(expect);
  return std::string("isa: ") + (isa.is_ok() ? fennec::isa_name(isa.value()) : expect) + "\n";
}

}  // namespace tools_test
