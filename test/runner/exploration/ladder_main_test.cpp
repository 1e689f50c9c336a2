// ladder_sim as a user runs it. Goal: an exploration run prints the bug's recipe and a replay
// command; that command, run through sh, reaches the same failure in one process; bad
// exploration flags exit 2 with one clear line; no process is left behind.
// Method: run the binary through /bin/sh and read its report.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "support/command.h"

namespace {

using moonpool::test_support::CommandResult;
using moonpool::test_support::contains;
using moonpool::test_support::quote;
using moonpool::test_support::runCommand;

CommandResult run(const std::string& args) {
  return runCommand(quote(LADDER_SIM) + " " + args + " 2>&1");
}

// The text after `prefix` on the first line containing it.
std::string lineAfter(const std::string& text, const std::string& prefix) {
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  const std::size_t start = at + prefix.size();
  return text.substr(start, text.find('\n', start) - start);
}

TEST(ExplorerMainTest, TheReplayCommandReachesTheSameBug) {
  const CommandResult explored = run("--first_seed=2 --stop_at_first_bug");
  EXPECT_EQ(explored.exitCode, 1) << explored.output;
  EXPECT_TRUE(contains(explored.output, "seed 2: explored timeline: ")) << explored.output;
  EXPECT_TRUE(contains(explored.output, "FAILED seed 2: explored timeline: "))
      << "streamed when found: " << explored.output;
  const std::string recipe = lineAfter(explored.output, "    recipe: ");
  const std::string replay = lineAfter(explored.output, "    reproduce: ");
  ASSERT_FALSE(recipe.empty()) << explored.output;
  ASSERT_TRUE(contains(replay, "--replay='" + recipe + "'")) << replay;
  ASSERT_TRUE(contains(replay, " --build=")) << replay;

  const CommandResult replayed = runCommand(replay + " 2>&1");
  EXPECT_EQ(replayed.exitCode, 1) << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "iteration: replay of recipe " + recipe))
      << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "always \"the top of the ladder is never reached\""))
      << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "highest rung     6 (max)")) << replayed.output;
  EXPECT_FALSE(contains(replayed.output, "Exploration (")) << "a replay never forks";
}

TEST(ExplorerMainTest, HugePageReexecKeepsTheRunIntact) {
  // MOONPOOL_HUGEPAGES=1: the binary re-executes itself once with glibc's huge-page tunable
  // (when the kernel offers THP); the run and its report are unchanged.
  const CommandResult plain = run("--first_seed=2 --stop_at_first_bug");
  const CommandResult huge = runCommand("MOONPOOL_HUGEPAGES=1 " + quote(LADDER_SIM) +
                                        " --first_seed=2 --stop_at_first_bug 2>&1");
  EXPECT_EQ(huge.exitCode, 1) << huge.output;
  EXPECT_EQ(lineAfter(huge.output, "    recipe: "), lineAfter(plain.output, "    recipe: "));
  EXPECT_FALSE(lineAfter(huge.output, "    recipe: ").empty()) << huge.output;
}

TEST(ExplorerMainTest, JsonCarriesTheExploration) {
  const CommandResult r = runCommand(quote(LADDER_SIM) +
                                     " --first_seed=2 --stop_at_first_bug --json=- 2>/dev/null");
  EXPECT_EQ(r.exitCode, 1);
  for (const char* key : {"\"explored\":true", "\"bug_found\":true", "\"recipe\":\"2 + ",
                          "\"replay\":", "\"timelines_to_bug\":", "\"explored_bug_seeds\":1"}) {
    EXPECT_TRUE(contains(r.output, key)) << key << " in\n" << r.output.substr(0, 2000);
  }
}

TEST(ExplorerMainTest, PlainSeedsDoNotFindItAndExplorationFlagsNeedExploration) {
  const CommandResult plain = run("--noexplore --seeds=50");
  EXPECT_EQ(plain.exitCode, 3) << "the never-reached always is a coverage gap, not a bug: "
                               << plain.output;
  EXPECT_TRUE(contains(plain.output, "0 failed")) << plain.output;
  EXPECT_FALSE(contains(plain.output, "Exploration (")) << plain.output;
}

// The line of the helper's call in ladder_gtest_main.cpp (the line after the marker).
int helperCallLine() {
  std::ifstream in(LADDER_GTEST_SOURCE);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (contains(line, "LADDER_GTEST_CALL_LINE")) return number + 1;
  }
  return -1;
}

TEST(ExplorerMainTest, GtestHelperReportsAtTheCallerAndReplaysFromTheEnvironment) {
  const CommandResult failed = runCommand(quote(LADDER_GTEST) + " 2>&1");
  EXPECT_NE(failed.exitCode, 0) << failed.output;
  const std::string where =
      "test/runner/exploration/ladder_gtest_main.cpp:" + std::to_string(helperCallLine()) + ":";
  EXPECT_TRUE(contains(failed.output, where + " Failure")) << where << "\n" << failed.output;
  EXPECT_FALSE(contains(failed.output, "gtest.cpp:")) << "not inside the helper";
  const std::string recipe = lineAfter(failed.output, "    recipe: ");
  ASSERT_FALSE(recipe.empty()) << failed.output;
  const std::string replay = lineAfter(failed.output, "    reproduce: ");
  ASSERT_TRUE(contains(replay, "MOONPOOL_REPLAY='" + recipe + "' MOONPOOL_BUILD=")) << replay;
  ASSERT_TRUE(contains(replay, "--gtest_filter=LadderGtest.ExploredSeedFindsThePlantedBug"))
      << replay;

  // The printed line replays that timeline in the test, without exploring.
  const CommandResult replayed = runCommand(replay + " 2>&1");
  EXPECT_NE(replayed.exitCode, 0) << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "seed 2: assertion: ")) << replayed.output;
  EXPECT_TRUE(contains(replayed.output, "the top of the ladder is never reached"))
      << replayed.output;
  EXPECT_FALSE(contains(replayed.output, "explored timeline")) << replayed.output;

  // Another build's line is refused.
  const std::string other =
      replay.substr(0, replay.find("MOONPOOL_BUILD=")) + "MOONPOOL_BUILD=0000000000000000" +
      replay.substr(replay.find(' ', replay.find("MOONPOOL_BUILD=")));
  const CommandResult refused = runCommand(other + " 2>&1");
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_TRUE(contains(refused.output, "MOONPOOL_BUILD=0000000000000000 names another build"))
      << refused.output;
}

TEST(ExplorerMainTest, BadExplorationFlagsExitTwoWithOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--noexplore --energy=5", "apply to exploration: add --explore"},
      {"--energy=0", "--energy must be at least 1"},
      {"--jobs=0", "--jobs must be in [1, 256], got 0"},
      {"--replay='3 + 1@'", "--replay: bad recipe at byte 6"},
      {"--replay='x'", "--replay: bad recipe at byte 0 ('x'): expected the root seed"},
      {"--replay=3 --seed=3", "--replay and --seed both choose the seed"},
      {"--replay=3 --explore", "--replay runs one timeline without forking"},
  };
  for (const auto& [args, message] : cases) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, message)) << args << ": expected '" << message << "' in\n"
                                             << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

}  // namespace
