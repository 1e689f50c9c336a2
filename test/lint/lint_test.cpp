// Goal: banned constructs never land (STYLE.md rule 16), and each rule really fires.
// Method: every rule is first exercised on must-fire and must-not-fire snippets; then every
// source file of the repository is checked and each finding is printed as file:line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lint_rules.h"

namespace moonpool::lint {
namespace {

bool fires(std::string_view path, std::string_view text, std::string_view rule) {
  for (const Finding& f : checkFile(path, text)) {
    if (f.rule == rule) return true;
  }
  return false;
}

TEST(LintTest, RulesFireOnBannedConstructs) {
  EXPECT_TRUE(fires("examples/x.cpp", "int x = rand();", "rand"));
  EXPECT_TRUE(fires("runtime/core/src/x.cpp", "srand(1);", "rand"));
  EXPECT_TRUE(fires("test/x.cpp", "std::random_device rd;", "random-device"));
  EXPECT_TRUE(fires("runtime/sim/src/x.cpp", "auto t = std::chrono::steady_clock::now();", "wall-clock"));
  EXPECT_TRUE(fires("runtime/core/src/x.cpp", "absl::BitGen gen;", "absl-nondeterminism"));
  EXPECT_TRUE(fires("runtime/sim/src/x.cpp", "std::thread t(f);", "thread"));
  EXPECT_TRUE(fires("capnp/src/x.cpp", "#include <iostream>", "iostream"));
  EXPECT_TRUE(fires("runtime/core/src/x.cpp", "  printf(\"debug\\n\");", "debug-print"));
  EXPECT_TRUE(fires("examples/x.cpp", "std::unordered_map<Node*, int> m;", "pointer-keyed-unordered"));
  EXPECT_TRUE(fires("examples/x.cpp", "// FIXME later", "todo-now"));
  EXPECT_TRUE(fires("examples/x.cpp", "// TODO(now): finish", "todo-now"));
}

TEST(LintTest, RulesDoNotFireOnLookAlikes) {
  EXPECT_FALSE(fires("examples/x.cpp", "random.below(3); operand(x); x.rand();", "rand"));
  EXPECT_FALSE(fires("runtime/real/src/x.cpp", "std::chrono::steady_clock::now()", "wall-clock"));
  EXPECT_FALSE(fires("test/x.cpp", "absl::BitGen gen;", "absl-nondeterminism"));
  EXPECT_FALSE(fires("runtime/core/src/x.cpp", "std::fprintf(stderr, \"x\"); snprintf(b, 1, \"\");", "debug-print"));
  EXPECT_FALSE(fires("examples/main.cpp", "std::printf(\"report\");", "debug-print"));
  EXPECT_FALSE(fires("examples/x.cpp", "std::unordered_map<int, Node*> m;", "pointer-keyed-unordered"));
  EXPECT_FALSE(fires("examples/x.cpp", "// TODO(perf): later", "todo-now"));
  EXPECT_FALSE(fires("examples/x.cpp", "x = rand(); // lint: allow rand (testing)", "rand"));
}

TEST(LintTest, TheTreeIsClean) {
  namespace fs = std::filesystem;
  const fs::path root = MOONPOOL_SOURCE_DIR;
  std::vector<std::string> problems;
  int files = 0;
  for (const char* dir : {"runtime", "capnp", "explorer", "instrument", "annotate", "examples", "test"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
      const std::string rel = fs::relative(entry.path(), root).string();
      if (rel.rfind("test/lint/", 0) == 0) continue;  // the rules' own test strings
      std::ifstream in(entry.path());
      std::stringstream buffer;
      buffer << in.rdbuf();
      ++files;
      for (const Finding& f : checkFile(rel, buffer.str())) {
        problems.push_back(f.path + ":" + std::to_string(f.line) + ": " + f.rule + ": " + f.message);
      }
    }
  }
  std::sort(problems.begin(), problems.end());
  EXPECT_GT(files, 20);
  for (const std::string& p : problems) ADD_FAILURE() << p;
}

}  // namespace
}  // namespace moonpool::lint
