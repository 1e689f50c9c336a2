// Reading the source tree for the lint tests' whole-tree checks (test/, no layer). The rules
// themselves never touch the filesystem; only these helpers do.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace moonpool::lint {

struct SourceFile {
  std::string path;  // relative to the root, '/'-separated
  std::string text;
};

// The whole file; empty when it cannot be read.
std::string readFile(const std::filesystem::path& path);

// Every .h and .cpp under `dirs` of `root`, sorted by path so findings print in a stable
// order. A missing dir contributes nothing.
std::vector<SourceFile> readSourceTree(const std::filesystem::path& root,
                                       const std::vector<std::string_view>& dirs);

}  // namespace moonpool::lint
