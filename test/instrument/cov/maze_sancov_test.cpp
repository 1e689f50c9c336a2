// Goal: an explored run's .sancov is what stock LLVM 19 `sancov` reads, and sancov's totals and
// covered functions agree with moonpool-cov's own (issue 17, first acceptance point).
// Method: maze_sim explores one seed (300 timelines) with --coverage_dir; then
// sancov-19 -print-coverage-stats, -covered-functions, -not-covered-functions and -symbolize
// run on the .sancov and the binary, and moonpool-cov --stats / --covered_functions /
// --not_covered_functions on the directory.
#include <set>

#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

// The function names of "file:line function" lines.
std::set<std::string> functionNames(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::size_t space = line.find(' ');
    if (space != std::string::npos) names.insert(line.substr(space + 1));
  }
  return names;
}

std::string sancov(const std::string& action, const std::string& file) {
  const CommandResult r = run(std::string(MP_SANCOV) + " " + action + " " + MP_MAZE_SIM + " " +
                              quote(file) + " 2>&1");
  EXPECT_EQ(r.exitCode, 0) << action << ": " << r.output;
  return r.output;
}

TEST(CovMazeSancov, SancovReadsTheRunAndAgreesWithMoonpoolCov) {
  ASSERT_STRNE(MP_SANCOV, "") << "sancov-19 not found: install clang-tools-19 (scripts/setup.sh)";
  const std::string dir = freshWorkDir("coverage");
  // 300 forked timelines: exploration-only edges without the whole search for the bug.
  const CommandResult maze = runMaze(dir, "--seeds=1 --energy=300");
  ASSERT_TRUE(contains(maze.output, "coverage: ")) << maze.output;
  const std::string file = onlyFile(dir, ".sancov");

  const auto theirs = keyValues(sancov("-print-coverage-stats", file));
  const CommandResult ours = runCov(quote(dir) + " --stats");
  ASSERT_EQ(ours.exitCode, 0) << ours.output;
  const auto mine = keyValues(ours.output);
  for (const char* key : {"all-edges", "cov-edges", "all-functions", "cov-functions"}) {
    ASSERT_EQ(theirs.count(key), 1u) << key;
    EXPECT_EQ(mine.at(key), theirs.at(key)) << key << "\nmoonpool-cov:\n" << ours.output;
  }
  EXPECT_GT(std::stoi(mine.at("cov-edges")), 0);
  // The summary counts every edge once, dead files included: the same covered edges.
  const CommandResult summary = runCov(quote(dir));
  EXPECT_TRUE(contains(summary.output, "total: " + mine.at("cov-edges") + "/")) << summary.output;
  EXPECT_LT(std::stoi(mine.at("cov-edges")), std::stoi(mine.at("all-edges")));

  const CommandResult covered = runCov(quote(dir) + " --covered_functions");
  EXPECT_EQ(functionNames(covered.output), functionNames(sancov("-covered-functions", file)));
  const CommandResult missed = runCov(quote(dir) + " --not_covered_functions");
  EXPECT_EQ(functionNames(missed.output), functionNames(sancov("-not-covered-functions", file)));

  const std::string symbolized = sancov("-symbolize", file);
  EXPECT_TRUE(contains(symbolized, "covered-points")) << symbolized;
  EXPECT_TRUE(contains(symbolized, "examples/maze/maze.cpp")) << symbolized;
}

}  // namespace
}  // namespace moonpool::covtest
