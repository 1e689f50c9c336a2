// Helpers for the instrument tests: test_support's command runner and work directories,
// rooted at this suite's paths (compile definitions in test/instrument/CMakeLists.txt).
#pragma once

#include <string>

#include "support/command.h"

namespace moonpool::instrument::testing {

using test_support::CommandResult;
using test_support::contains;
using test_support::quote;

inline CommandResult run(const std::string& command) { return test_support::runCommand(command); }

// A fresh, empty directory under this suite's work directory.
inline std::string freshWorkDir(const std::string& name) {
  return test_support::freshWorkDir(MP_WORK_DIR, name);
}

// `name` under test/instrument/inputs.
inline std::string inputPath(const std::string& name) {
  return std::string(MP_INPUTS) + "/" + name;
}

}  // namespace moonpool::instrument::testing
