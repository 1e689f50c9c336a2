// Goal: every kind of bad input moonpool-cov can meet is a clear error or a stated
// degradation, never a crash: no coverage, a missing, truncated or foreign .sancov, a
// truncated or malformed .moonpool-cov, two builds in one directory, another build's binary,
// a binary without debug info, sources that moved.
// Method: one plain maze run recorded once per test, then damaged copies of its files.
#include <filesystem>

#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

namespace fs = std::filesystem;

// A fresh recording of two plain seeds (fast: no exploration).
std::string recorded(const std::string& name) {
  const std::string dir = freshWorkDir(name);
  EXPECT_EQ(runMaze(dir, "--noexplore --seeds=2").exitCode, 3);  // a sometimes never holds
  return dir;
}

// moonpool-cov on `dir`: exit 1 with `message` on stderr.
void expectError(const std::string& args, const std::string& message) {
  const CommandResult r = runCov(args + " 2>&1");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "moonpool-cov: error: ")) << r.output;
  EXPECT_TRUE(contains(r.output, message)) << "expected '" << message << "' in:\n" << r.output;
}

TEST(CovBadInput, NoCoverageInTheDirectory) {
  expectError(quote(freshWorkDir("empty")), "no .moonpool-cov files");
  expectError(quote(freshWorkDir("empty") + "/none"), "not a directory");
}

TEST(CovBadInput, MissingTruncatedOrForeignSancov) {
  const std::string dir = recorded("sancov");
  const std::string sancov = onlyFile(dir, ".sancov");
  const std::string bytes = readFile(sancov);
  ASSERT_GT(bytes.size(), 24u);
  writeFile(sancov, bytes.substr(0, bytes.size() - 3));
  expectError(quote(dir), "truncated");
  writeFile(sancov, bytes.substr(0, bytes.size() - 8));  // a whole pc short
  expectError(quote(dir), "truncated");
  writeFile(sancov, bytes.substr(0, 4));
  expectError(quote(dir), "shorter than its 8-byte header");
  writeFile(sancov, std::string(8, '\x11') + bytes.substr(8));
  expectError(quote(dir), "bad magic");
  std::string shifted = bytes;
  shifted[8] = static_cast<char>(shifted[8] ^ 0x40);  // a pc no covered edge has
  writeFile(sancov, shifted);
  expectError(quote(dir), "holds a pc its .moonpool-cov does not cover");
  fs::remove(sancov);
  expectError(quote(dir), "missing");
}

TEST(CovBadInput, TruncatedOrMalformedCompanion) {
  const std::string dir = recorded("companion");
  const std::string companion = onlyFile(dir, ".moonpool-cov");
  const std::string text = readFile(companion);
  writeFile(companion, text.substr(0, text.rfind("end\n")));
  expectError(quote(dir), "truncated: no 'end' line");
  writeFile(companion, text.substr(0, text.find('\n', text.find("\nedges ") + 40) + 1));
  expectError(quote(dir), "truncated in the edges");
  std::string bad = text;
  bad.replace(bad.find("\nedges ") + 1, 5, "edgez");
  writeFile(companion, bad);
  expectError(quote(dir), "'edges' expected");
  writeFile(companion, "something else\n");
  expectError(quote(dir), "not a moonpool-cov file");
}

TEST(CovBadInput, TwoBuildsInOneDirectoryOrAnotherBuildsBinary) {
  const std::string dir = recorded("builds");
  const std::string companion = onlyFile(dir, ".moonpool-cov");
  std::string other = readFile(companion);
  const std::size_t id = other.find("build-id ") + 9;
  other.replace(id, 4, "0000");
  const std::string stem = companion.substr(0, companion.rfind('.'));
  fs::copy_file(stem + ".sancov", dir + "/maze_sim.1.sancov");
  writeFile(dir + "/maze_sim.1.moonpool-cov", other);
  expectError(quote(dir), "another build of maze_sim");

  const std::string single = recorded("mismatch");
  expectError(quote(single) + " " + MP_COUNTER_SIM, "build id mismatch");
}

TEST(CovBadInput, BinaryWithoutDebugInfoDegradesToFunctions) {
  ASSERT_STRNE(MP_OBJCOPY, "") << "llvm-objcopy-19 not found (llvm-19)";
  const std::string dir = recorded("nodebug");
  const std::string stripped = freshWorkDir("bin") + "/maze_sim";
  ASSERT_EQ(run(std::string(MP_OBJCOPY) + " --strip-debug " + MP_MAZE_SIM + " " + stripped)
                .exitCode,
            0);
  const CommandResult r = runCov(quote(dir) + " " + quote(stripped) + " 2>&1");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "has no debug info")) << r.output;
  EXPECT_TRUE(contains(r.output, "(no line information)")) << r.output;
  EXPECT_TRUE(contains(r.output, "attemptLock")) << "functions from the symbol table\n"
                                                   << r.output;
}

TEST(CovBadInput, MovedSourcesAreNamedInTheReport) {
  const std::string dir = recorded("moved");
  const std::string html = freshWorkDir("html");
  const std::string elsewhere = freshWorkDir("elsewhere");
  const CommandResult r = runCov(quote(dir) + " --html=" + quote(html) +
                                 " --sources=" + quote(elsewhere));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string page = readFile(html + "/files/examples_maze_maze.cpp.html");
  EXPECT_TRUE(contains(page, "source not found at " + elsewhere)) << page.substr(0, 1500);
  EXPECT_TRUE(contains(page, "class=\"covered\"")) << "lines still marked, without text";

  const CommandResult outside = runCov(quote(dir) + " --source_root=" + quote(elsewhere));
  ASSERT_EQ(outside.exitCode, 0) << outside.output;
  EXPECT_TRUE(contains(outside.output, "total: 0/0 edges")) << outside.output;
  EXPECT_TRUE(contains(outside.output, "outside the source root left out")) << outside.output;
}

TEST(CovBadInput, UsageErrors) {
  EXPECT_EQ(runCov("--bogus 2>&1").exitCode, 2);
  EXPECT_EQ(runCov("2>&1").exitCode, 2);
  EXPECT_EQ(runCov("--diff onlyone 2>&1").exitCode, 2);
}

}  // namespace
}  // namespace moonpool::covtest
