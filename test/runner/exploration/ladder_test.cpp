// Exploration through the runner, in process. Goal: the ladder's planted bug, out of reach of
// plain seeds, is found by exploring; its recipe replays (no fork) to the same failure; the
// three bug classes (assertion, crash, hang) are told apart; multi-seed runs carry coverage.
// Method: runSimulation on ladder_sim's builder with RunOptions, reading the RunReport.
#include <string>

#include "gtest/gtest.h"
#include "ladder_sim.h"
#include "moonpool/runner/runner.h"

namespace moonpool::explorer_testing {
namespace {

const SeedExploration& explorationOf(const RunReport& report, std::size_t seed = 0) {
  EXPECT_GT(report.seeds.size(), seed);
  EXPECT_TRUE(report.seeds[seed].exploration.has_value());
  return *report.seeds[seed].exploration;
}

explorer::Recipe parse(const std::string& text) {
  explorer::Recipe recipe;
  char error[256] = {};
  EXPECT_TRUE(explorer::parseRecipe(text.c_str(), recipe, error, sizeof error)) << error;
  return recipe;
}

TEST(ExplorerRunnerTest, PlainSeedsMissTheTopThatExplorationFindsAndReplays) {
  LadderOptions options;
  const RunReport plain = runSimulation(ladderBuilder(options),
                                        RunOptions{.iteration = IterationControl::fixedCount(200),
                                                   .explore = ExploreMode::kOff});
  EXPECT_EQ(plain.failedCount(), 0u) << "6 rungs at 0.05: 1.6e-8 per climb";
  EXPECT_FALSE(plain.explored);

  const RunReport explored = runSimulation(ladderBuilder(options), RunOptions{.seed = 2});
  ASSERT_TRUE(explored.explored);
  const SeedExploration& e = explorationOf(explored);
  ASSERT_TRUE(e.bugFound) << renderReportText(explored);
  EXPECT_EQ(e.bugClass, "correctness");
  EXPECT_NE(e.bugMessage.find("the top of the ladder is never reached"), std::string::npos)
      << e.bugMessage;
  EXPECT_EQ(explored.exploredBugCount(), 1u);
  EXPECT_EQ(explored.exitCode(), 1);
  EXPECT_LE(e.stats.timelines, 20'000u);
  EXPECT_GE(e.bugDepth, 5u) << "one fork per rung after the first";

  const explorer::Recipe recipe = parse(e.recipe);
  EXPECT_EQ(recipe.rootSeed, 2u);
  EXPECT_EQ(recipe.length, e.bugDepth);
  const RunReport replay = runSimulation(ladderBuilder(options), RunOptions{.replay = recipe});
  ASSERT_EQ(replay.seeds.size(), 1u);
  const SeedResult& seed = replay.seeds[0];
  EXPECT_FALSE(replay.explored);
  EXPECT_EQ(seed.seed, 2u);
  EXPECT_EQ(seed.failure, SeedFailure::kAssertion);
  EXPECT_NE(seed.message.find("the top of the ladder is never reached"), std::string::npos);
  EXPECT_EQ(seed.metrics.at("highest rung").value, 6);
  EXPECT_EQ(seed.replayedRecipe, e.recipe);
  EXPECT_NE(replay.reproduction(seed).find("--replay='" + e.recipe + "'"), std::string::npos);
}

TEST(ExplorerRunnerTest, ReplayIsExactEvenForTheSchedulerAndDeterministic) {
  LadderOptions options;
  const RunReport explored = runSimulation(ladderBuilder(options), RunOptions{.seed = 2});
  ASSERT_TRUE(explorationOf(explored).bugFound);
  const explorer::Recipe recipe = parse(explorationOf(explored).recipe);
  const RunReport a = runSimulation(ladderBuilder(options), RunOptions{.replay = recipe});
  const RunReport b = runSimulation(ladderBuilder(options), RunOptions{.replay = recipe});
  EXPECT_EQ(a.seeds[0].decisionHash, b.seeds[0].decisionHash);
  EXPECT_EQ(a.seeds[0].steps, b.seeds[0].steps);
  EXPECT_EQ(a.seeds[0].randomCalls, b.seeds[0].randomCalls);
  // The same exploration again finds the same first bug (sequential exploration is
  // deterministic).
  const RunReport again = runSimulation(ladderBuilder(options), RunOptions{.seed = 2});
  EXPECT_EQ(explorationOf(again).recipe, explorationOf(explored).recipe);
  EXPECT_EQ(explorationOf(again).stats.timelines, explorationOf(explored).stats.timelines);
}

TEST(ExplorerRunnerTest, CrashesAndHangsAreBugsOfTheirOwnClass) {
  LadderOptions crash{.bug = TopBug::kSegfault};
  const RunReport crashed = runSimulation(ladderBuilder(crash), RunOptions{.seed = 2});
  ASSERT_TRUE(explorationOf(crashed).bugFound);
  // Under AddressSanitizer the SEGV is reported and the child exits with ASan's status: a
  // crash all the same.
  const std::string& bugClass = explorationOf(crashed).bugClass;
  EXPECT_TRUE(bugClass == "signal 11 (Segmentation fault)" || bugClass == "signal 6 (Aborted)" ||
              bugClass == "crash")
      << bugClass;
  if (bugClass != "crash") EXPECT_GE(explorationOf(crashed).stats.signals, 1u);

  LadderOptions hang{.bug = TopBug::kHang};
  const RunReport hung = runSimulation(ladderBuilder(hang), RunOptions{.seed = 2});
  ASSERT_TRUE(explorationOf(hung).bugFound);
  EXPECT_EQ(explorationOf(hung).bugClass, "liveness");
  EXPECT_NE(explorationOf(hung).bugMessage.find("deadlock"), std::string::npos)
      << explorationOf(hung).bugMessage;
}

TEST(ExplorerRunnerTest, ParallelTimelinesFindItToo) {
  LadderOptions options;
  options.exploration->parallelism = 2;
  const RunReport report = runSimulation(ladderBuilder(options), RunOptions{.seed = 2});
  EXPECT_EQ(report.jobs, 2u);
  EXPECT_TRUE(explorationOf(report).bugFound);
}

TEST(ExplorerRunnerTest, SeedsAfterTheFirstStartWarm) {
  LadderOptions options{.rungs = 3};
  options.exploration->bugs = explorer::BugPolicy::kStopAtFirst;
  const RunReport report = runSimulation(
      ladderBuilder(options), RunOptions{.iteration = IterationControl::fixedCount(3)});
  ASSERT_EQ(report.seeds.size(), 3u);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const SeedExploration& e = explorationOf(report, i);
    EXPECT_GE(e.stats.bitmapBits, bits) << "the explored map carries over";
    bits = e.stats.bitmapBits;
    // Rung buckets found by the first seed are re-armed: later seeds split on them again.
    EXPECT_GT(e.stats.splits, 0u) << "seed " << i;
    EXPECT_GT(e.stats.timelines, 0u) << "seed " << i;
  }
  EXPECT_TRUE(explorationOf(report, 0).bugFound);
}

}  // namespace
}  // namespace moonpool::explorer_testing
