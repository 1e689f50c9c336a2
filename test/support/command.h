// Test support: run shell commands and make per-test work directories. Shared by every test
// that drives a binary (package, examples, annotate, instrument).
#pragma once

#include <string>

namespace moonpool::test_support {

struct CommandResult {
  int exitCode = -1;   // -1 when the command could not run or ended by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` through /bin/sh, capturing stdout and stderr.
CommandResult runCommand(const std::string& command);

// Single-quotes `text` for /bin/sh.
std::string quote(const std::string& text);

// A fresh, empty directory `root/<suite>.<test>/name`. Scoped by the running test: ctest runs
// every test as its own process, in parallel, so two tests never share a directory.
std::string freshWorkDir(const std::string& root, const std::string& name);

// True if `text` contains `needle`.
bool contains(const std::string& text, const std::string& needle);

}  // namespace moonpool::test_support
