// The project's lint rules (test/, no layer). This file: banned constructs (STYLE.md rule 16),
// each with the replacement to use, and the Finding every rule reports. The layer graph is in
// layers.h, the size limits (rule 15) in size_limits.h and ratchet.h. All are pure functions
// over paths and text, so each rule is tested on must-fire and must-not-fire snippets before
// lint_test runs it over the tree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moonpool::lint {

struct Finding {
  std::string path;
  int line = 0;
  std::string rule;
  std::string message;
  // What the finding is about, for matching against recorded exceptions (the included header
  // for layer findings); empty when the rule has none.
  std::string subject;
};

// "path:line: rule: message", the form every lint failure prints.
std::string format(const Finding& finding);

// `path` is relative to the repository root (e.g. "runtime/core/src/spawn.cpp"); it decides
// which rules apply (library code, simulated code, the real providers).
std::vector<Finding> checkFile(std::string_view path, std::string_view text);

}  // namespace moonpool::lint
