// SPDX-License-Identifier: Apache-2.0
// A tool that runs a model in place from a memory-mapped file (fennec-infer) gets SIGBUS if
// another process truncates the file while it is mapped: touching a page past the new end has no
// data behind it, and POSIX delivers SIGBUS, which no library call can turn into a status. This
// guard makes that a reported error instead of a silent crash: the handler writes one line to
// stderr ("TOOL: error: PATH shrank while mapped ...") and exits with kMappedFileShrankExit.
#pragma once

namespace fennec_tools {

inline constexpr int kMappedFileShrankExit = 3;

// Installs the SIGBUS handler for `path` (the message is formatted now: the handler only calls
// write(2) and _exit(2), both async-signal-safe). One mapped file per process; a later call
// replaces the path.
void guard_mapped_file(const char* tool, const char* path);

}  // namespace fennec_tools
