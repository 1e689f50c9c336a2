// Reading the source tree; see tree.h.
#include "tree.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace moonpool::lint {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<SourceFile> readSourceTree(const std::filesystem::path& root,
                                       const std::vector<std::string_view>& dirs) {
  namespace fs = std::filesystem;
  std::vector<SourceFile> files;
  for (std::string_view dir : dirs) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
      files.push_back({fs::relative(entry.path(), root).generic_string(), readFile(entry.path())});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace moonpool::lint
