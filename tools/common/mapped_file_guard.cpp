// SPDX-License-Identifier: Apache-2.0
#include "common/mapped_file_guard.hpp"

#include <csignal>
#include <cstdio>

#include <unistd.h>

namespace fennec_tools {
namespace {

char g_message[4608];
int g_length = 0;

extern "C" void on_sigbus(int) {
  if (g_length > 0) {
    ssize_t ignored = ::write(STDERR_FILENO, g_message, static_cast<std::size_t>(g_length));
    (void)ignored;
  }
  ::_exit(kMappedFileShrankExit);
}

}  // namespace

void guard_mapped_file(const char* tool, const char* path) {
  const int n = std::snprintf(g_message, sizeof(g_message),
                              "%s: error: %s shrank while mapped (truncated by another process: "
                              "SIGBUS reading the model's parameters); results so far are void\n",
                              tool, path);
  g_length = n < 0 ? 0 : n >= static_cast<int>(sizeof(g_message)) ? static_cast<int>(sizeof(g_message)) - 1 : n;
  struct sigaction sa = {};
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace fennec_tools
