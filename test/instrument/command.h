// Helpers for the instrument tests: run shell commands, make work directories, quote paths.
// Paths come from compile definitions set in test/instrument/CMakeLists.txt.
#pragma once

#include <string>

namespace moonpool::instrument::testing {

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` through /bin/sh, capturing stdout and stderr.
CommandResult run(const std::string& command);

// Single-quotes `text` for /bin/sh.
std::string quote(const std::string& text);

// A fresh, empty directory under the test work directory.
std::string freshWorkDir(const std::string& name);

// `name` under test/instrument/inputs.
std::string inputPath(const std::string& name);

// True if `text` contains `needle`.
bool contains(const std::string& text, const std::string& needle);

}  // namespace moonpool::instrument::testing
