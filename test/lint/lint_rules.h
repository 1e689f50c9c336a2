// The project's lint rules (STYLE.md rule 16): banned constructs, each with the replacement
// to use. Pure functions so the rules themselves are tested on must-fire and must-not-fire
// snippets before they run over the tree.
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
};

// `path` is relative to the repository root (e.g. "runtime/src/core/spawn.cpp"); it decides
// which rules apply (library code, simulated code, the real providers).
std::vector<Finding> checkFile(std::string_view path, std::string_view text);

}  // namespace moonpool::lint
