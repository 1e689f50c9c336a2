// Goal: a binary built with inline-8bit-counters (no callback, so no call site for LLVM's
// sancov) is recorded too: its edges are placed by the pc table, its .sancov is empty but
// valid, and the planted bug's line still shows the edges only exploration reached.
// Method: the maze built with MODE inline-8bit-counters explores with --coverage_dir;
// moonpool-cov reads it (summary, --stats) and renders it.
#include "cov_testing.h"

namespace moonpool::covtest {
namespace {

TEST(CovCounters, InlineCountersArePlacedByThePcTable) {
  const std::string dir = freshWorkDir("coverage");
  const CommandResult maze = run(std::string(MP_MAZE_COUNTERS_SIM) +
                                 " --seeds=1 --energy=300 --coverage_dir=" + quote(dir) + " 2>&1");
  ASSERT_TRUE(contains(maze.output, "coverage: 301 timelines recorded")) << maze.output;
  EXPECT_EQ(readFile(onlyFile(dir, ".sancov")).size(), 8u) << "the magic, no program counter";
  const std::string companion = readFile(onlyFile(dir, ".moonpool-cov"));
  EXPECT_TRUE(contains(companion, "\nmode inline-8bit-counters\n")) << companion.substr(0, 400);

  const CommandResult summary = runCov(quote(dir));
  ASSERT_EQ(summary.exitCode, 0) << summary.output;
  EXPECT_TRUE(contains(summary.output, "examples/maze/maze.cpp")) << summary.output;
  const auto stats = keyValues(runCov(quote(dir) + " --stats").output);
  ASSERT_EQ(stats.count("cov-edges"), 1u);
  EXPECT_GT(std::stoi(stats.at("cov-edges")), 0);
  EXPECT_LT(std::stoi(stats.at("cov-edges")), std::stoi(stats.at("all-edges")));

  const std::string html = freshWorkDir("html");
  ASSERT_EQ(runCov(quote(dir) + " --html=" + quote(html)).exitCode, 0);
  const std::string page = readFile(html + "/files/examples_maze_maze.cpp.html");
  EXPECT_TRUE(contains(page, "exploration only")) << page.substr(0, 1000);
}

}  // namespace
}  // namespace moonpool::covtest
