// Goal: banned constructs never land (STYLE.md rule 16), and each rule really fires.
// Method: every rule is first exercised on must-fire and must-not-fire snippets; then every
// source file of the repository is checked and each finding is printed as file:line. The
// layer graph, the size limits and the coverage ignorelist have their own test binaries
// (layers_test.cpp, size_limits_test.cpp, ignorelist_test.cpp) over the same rules library.
#include <gtest/gtest.h>

#include "lint_rules.h"
#include "tree.h"

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
  EXPECT_TRUE(
      fires("runtime/sim/src/x.cpp", "auto t = std::chrono::steady_clock::now();", "wall-clock"));
  EXPECT_TRUE(fires("runtime/core/src/x.cpp", "absl::BitGen gen;", "absl-nondeterminism"));
  EXPECT_TRUE(fires("runtime/sim/src/x.cpp", "std::thread t(f);", "thread"));
  EXPECT_TRUE(fires("capnp/src/x.cpp", "#include <iostream>", "iostream"));
  EXPECT_TRUE(fires("runtime/core/src/x.cpp", "  printf(\"debug\\n\");", "debug-print"));
  EXPECT_TRUE(
      fires("examples/x.cpp", "std::unordered_map<Node*, int> m;", "pointer-keyed-unordered"));
  EXPECT_TRUE(fires("examples/x.cpp", "// FIXME later", "todo-now"));
  EXPECT_TRUE(fires("examples/x.cpp", "// TODO(now): finish", "todo-now"));
  EXPECT_TRUE(fires("runtime/runner/src/x.cpp", "namespace runner_internal {",
                    "private-namespace"));
  EXPECT_TRUE(fires("capnp/src/x.cpp", "namespace moonpool::rpc::detail {", "private-namespace"));
  EXPECT_TRUE(fires("runtime/sim/src/x.h", "namespace impl {", "private-namespace"));
}

TEST(LintTest, RulesDoNotFireOnLookAlikes) {
  EXPECT_FALSE(fires("examples/x.cpp", "random.below(3); operand(x); x.rand();", "rand"));
  EXPECT_FALSE(fires("runtime/real/src/x.cpp", "std::chrono::steady_clock::now()", "wall-clock"));
  EXPECT_FALSE(fires("test/x.cpp", "absl::BitGen gen;", "absl-nondeterminism"));
  EXPECT_FALSE(fires("runtime/core/src/x.cpp",
                     "std::fprintf(stderr, \"x\"); snprintf(b, 1, \"\");", "debug-print"));
  EXPECT_FALSE(fires("examples/main.cpp", "std::printf(\"report\");", "debug-print"));
  EXPECT_FALSE(
      fires("examples/x.cpp", "std::unordered_map<int, Node*> m;", "pointer-keyed-unordered"));
  EXPECT_FALSE(fires("examples/x.cpp", "// TODO(perf): later", "todo-now"));
  EXPECT_FALSE(fires("examples/x.cpp", "x = rand(); // lint: allow rand (testing)", "rand"));
  EXPECT_FALSE(fires("runtime/sim/src/x.cpp", "namespace {", "private-namespace"));
  EXPECT_FALSE(fires("capnp/src/x.cpp", "namespace moonpool::rpc::internal {",
                     "private-namespace"));
  EXPECT_FALSE(fires("examples/x.cpp", "namespace moonpool::examples::impls {",
                     "private-namespace"));
}

TEST(LintTest, TheTreeIsClean) {
  const std::vector<SourceFile> files =
      readSourceTree(MOONPOOL_SOURCE_DIR, {"runtime", "capnp", "explorer", "instrument",
                                           "annotate", "examples", "test"});
  int checked = 0;
  for (const SourceFile& file : files) {
    // The rules' own tests spell out banned constructs; the size limits still apply here.
    if (file.path.starts_with("test/lint/")) continue;
    ++checked;
    for (const Finding& f : checkFile(file.path, file.text)) ADD_FAILURE() << format(f);
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace moonpool::lint
