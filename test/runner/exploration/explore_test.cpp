// Goal: the explorer finds both planted bugs within a bounded energy, sequentially and with
// two timelines computing in parallel; the report carries the failing timeline's recipe;
// the recipe replays (in this process through RunOptions::replay, and through the printed
// replay command run by the shell); no process is left behind.
// Method: explore one seed of each example (maze, dungeon) in this process with its
// binary's settings and BugPolicy::kStopAtFirst, then replay what was found; drive
// maze_sim / dungeon_sim as subprocesses for the command line; scan /proc for zombies.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>

#include "dungeon.h"
#include "exploration_support.h"
#include "maze.h"
#include "support/command.h"

namespace moonpool {
namespace {

using exploration_testing::noChildLeft;
using exploration_testing::replay;
using exploration_testing::runSeeds;
using exploration_testing::zombieChildren;
using test_support::contains;
using test_support::quote;
using test_support::runCommand;

struct ExampleCase {
  std::string name;
  std::function<SimulationBuilder()> builder;
  std::function<explorer::Config()> config;
  std::string bugMessage;  // the planted bug's assertion message
  std::string binary;      // the example's sim binary
  // Energy bound: the bug must be found within the binary's own energy per seed (maze.cpp and
  // dungeon.cpp give the timelines measured to the bug over 20 seeds).
  std::uint64_t energy;
  // The seed explored. Sequential exploration is deterministic for a seed; this one reaches
  // the bug in fewer timelines than most (maze seed 9: 200-400 depending on the build's edge
  // counters, against a median near 700), which keeps the suite fast under ASan, where a
  // timeline costs about 10x more. Any seed must find it within `energy`; the benchmark
  // covers 20 seeds.
  std::uint64_t seed;
};

std::ostream& operator<<(std::ostream& out, const ExampleCase& c) { return out << c.name; }

ExampleCase mazeCase() {
  return ExampleCase{.name = "maze",
                     .builder = [] { return examples::maze::makeMazeBuilder({}); },
                     .config = examples::maze::mazeExploration,
                     .bugMessage = "all 4 locks opened",
                     .binary = MAZE_SIM,
                     .energy = examples::maze::mazeExploration().energyPerSeed,
                     .seed = 9};
}

ExampleCase dungeonCase() {
  return ExampleCase{.name = "dungeon",
                     .builder = [] { return examples::dungeon::makeDungeonBuilder({}); },
                     .config = examples::dungeon::dungeonExploration,
                     .bugMessage = "treasure on floor 8 reached",
                     .binary = DUNGEON_SIM,
                     .energy = examples::dungeon::dungeonExploration().energyPerSeed,
                     .seed = 1};
}

class ExplorationTest : public testing::TestWithParam<ExampleCase> {
 protected:
  explorer::Config config(std::uint32_t parallelism) const {
    explorer::Config c = GetParam().config();
    c.energyPerSeed = GetParam().energy;
    c.parallelism = parallelism;
    c.bugs = explorer::BugPolicy::kStopAtFirst;
    return c;
  }

  // Explores the case's seed and checks that the bug was found and reported with its recipe.
  SeedExploration findBug(std::uint32_t parallelism) const {
    const RunReport report =
        runSeeds(GetParam().builder(), GetParam().seed, 1, config(parallelism));
    EXPECT_TRUE(report.explored);
    EXPECT_EQ(report.seeds.size(), 1u);
    if (report.seeds.empty() || !report.seeds.front().exploration) {
      ADD_FAILURE() << "no exploration in the report\n" << renderReportText(report);
      return {};
    }
    const SeedExploration& e = *report.seeds.front().exploration;
    EXPECT_TRUE(e.bugFound) << renderReportText(report);
    EXPECT_EQ(report.exploredBugCount(), 1u);
    EXPECT_EQ(report.exitCode(), 1) << "a bug found by a child fails the run";
    EXPECT_EQ(e.bugClass, "correctness");
    EXPECT_TRUE(contains(e.bugMessage, GetParam().bugMessage)) << e.bugMessage;
    EXPECT_FALSE(e.recipe.empty());
    EXPECT_GT(e.bugDepth, 0u);
    EXPECT_GT(e.timelinesToBug, 0u);
    EXPECT_LE(e.timelinesToBug, GetParam().energy);
    EXPECT_LE(e.stats.timelines, GetParam().energy);
    EXPECT_GE(e.stats.bugs, 1u);
    // One verdict: the root's own run passed, its explored timeline's bug fails the seed.
    EXPECT_EQ(report.failedCount(), 1u);
    EXPECT_EQ(report.seeds.front().failure, SeedFailure::kExplored);
    // Workload metrics of the explored timelines are merged: the one that reached the bug
    // set the maximum (all four locks, the eighth floor).
    const std::string deepest = GetParam().name == "maze" ? "locks open" : "deepest floor";
    const auto metric = report.metrics.find(deepest);
    EXPECT_TRUE(metric != report.metrics.end()) << renderReportText(report);
    if (metric != report.metrics.end()) {
      EXPECT_EQ(metric->second.value, GetParam().name == "maze" ? 4 : 8)
          << renderReportText(report);
    }
    // The report carries the recipe, in the text and in the replay command.
    EXPECT_TRUE(contains(renderReportText(report), e.recipe)) << renderReportText(report);
    EXPECT_TRUE(contains(report.replayCommand(e), "--replay='" + e.recipe + "'"))
        << report.replayCommand(e);
    EXPECT_TRUE(zombieChildren().empty());
    EXPECT_TRUE(noChildLeft());
    return e;
  }
};

TEST_P(ExplorationTest, FindsThePlantedBugWithTwoTimelinesInParallel) {
  const SeedExploration e = findBug(2);
  std::printf("%s parallel 2: bug after %llu timelines (depth %u)\n", GetParam().name.c_str(),
              static_cast<unsigned long long>(e.timelinesToBug), e.bugDepth);
}

TEST_P(ExplorationTest, FindsThePlantedBugSequentiallyAndItsRecipeReplays) {
  const SeedExploration e = findBug(1);
  std::printf("%s sequential: bug after %llu timelines (depth %u), recipe %s\n",
              GetParam().name.c_str(), static_cast<unsigned long long>(e.timelinesToBug),
              e.bugDepth, e.recipe.c_str());
  ASSERT_FALSE(e.recipe.empty());
  // In this process, through RunOptions::replay: one timeline, no fork, the same failure.
  const RunReport replayed = replay(GetParam().builder(), e.recipe);
  ASSERT_EQ(replayed.seeds.size(), 1u) << replayed.stopReason;
  const SeedResult& seed = replayed.seeds.front();
  EXPECT_EQ(seed.replayedRecipe, e.recipe);
  EXPECT_EQ(seed.verdict, SeedVerdict::kFail);
  EXPECT_EQ(seed.failure, SeedFailure::kAssertion) << seed.message;
  EXPECT_TRUE(contains(seed.message, GetParam().bugMessage)) << seed.message;
  EXPECT_FALSE(replayed.explored) << "a replay runs one timeline, no fork";
  EXPECT_EQ(replayed.exitCode(), 1);
}

// Respawned timelines (forked by the root, replayed to their split) are the timelines a deep
// fork would have made: sequentially, the same bug after the same number of timelines and
// the same recipe, with respawn on (the default) and off.
TEST_P(ExplorationTest, RespawnedTimelinesMatchDeepForks) {
  if (GetParam().name != "dungeon") {
    GTEST_SKIP() << "shown on the dungeon (1.4 s); the maze's depth-30 forks take ~18 s at -O0";
  }
  SeedExploration runs[2];
  for (const std::uint32_t respawnDepth : {0u, 2u}) {
    explorer::Config c = config(1);
    c.respawnDepth = respawnDepth;
    const RunReport report = runSeeds(GetParam().builder(), GetParam().seed, 1, c);
    ASSERT_EQ(report.seeds.size(), 1u);
    ASSERT_TRUE(report.seeds.front().exploration.has_value());
    runs[respawnDepth == 0 ? 0 : 1] = *report.seeds.front().exploration;
  }
  EXPECT_EQ(runs[0].stats.respawned, 0u);
  EXPECT_GT(runs[1].stats.respawned, 0u);
  ASSERT_TRUE(runs[0].bugFound && runs[1].bugFound);
  EXPECT_EQ(runs[0].timelinesToBug, runs[1].timelinesToBug);
  EXPECT_EQ(runs[0].recipe, runs[1].recipe);
  EXPECT_TRUE(zombieChildren().empty());
  EXPECT_TRUE(noChildLeft());
}

// The line a user copies: "<binary> --replay='<recipe>' ... # build <id>".
std::string replayLine(const std::string& output, const std::string& binary) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const std::size_t at = line.find(binary + " --replay='");
    if (at != std::string::npos) return line.substr(at);
    const std::size_t quoted = line.find(quote(binary) + " --replay='");
    if (quoted != std::string::npos) return line.substr(quoted);
  }
  return {};
}

TEST_P(ExplorationTest, PrintedReplayCommandReproducesTheBug) {
  const std::string flags = " --first_seed=" + std::to_string(GetParam().seed) +
                            " --seeds=1 --stop_at_first_bug --energy=" +
                            std::to_string(GetParam().energy);
  const test_support::CommandResult explored = runCommand(GetParam().binary + flags);
  ASSERT_EQ(explored.exitCode, 1) << explored.output;
  EXPECT_TRUE(contains(explored.output, GetParam().bugMessage)) << explored.output;
  const std::string line = replayLine(explored.output, GetParam().binary);
  ASSERT_FALSE(line.empty()) << "no replay line in\n" << explored.output;
  EXPECT_TRUE(contains(line, " --build=")) << line;
  const test_support::CommandResult replayed = runCommand(line);
  EXPECT_EQ(replayed.exitCode, 1) << line << "\n" << replayed.output;
  EXPECT_TRUE(contains(replayed.output, GetParam().bugMessage)) << replayed.output;
}

TEST_P(ExplorationTest, BadFlagsExitTwoWithAClearMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--replay='not a recipe'", "--replay"},
      {"--energy=-1", "--energy"},
      {"--explore_batch=0", "--explore_batch must be in [1, 1048576], got 0"},
      {"--explore_timeline_ms=-5", "--explore_timeline_ms must be in [0, 86400000], got -5"},
      {"--explore_timelines_min=50 --explore_timelines_max=10",
       "adaptive.timelinesMin exceeds timelinesMax"},
      {"--noexplore --explore_respawn_depth=1", "--explore_* apply to exploration"},
      {GetParam().name == "maze" ? "--rounds=0" : "--steps=0",
       GetParam().name == "maze" ? "maze rounds must be in [1, 100000], got 0"
                                 : "dungeon stepsMax must be in [1, 100000], got 0"},
  };
  for (const auto& [args, message] : cases) {
    const test_support::CommandResult r = runCommand(GetParam().binary + " " + args);
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, message)) << args << ": expected '" << message << "' in\n"
                                             << r.output;
  }
}

// The adaptive settings bind through their flags: with no per-mark energy nothing forks, and
// at most two children per splitpoint fork at most twice the splitpoints.
TEST_P(ExplorationTest, TuningFlagsBind) {
  const test_support::CommandResult none =
      runCommand(GetParam().binary + " --seeds=1 --explore_mark_energy=0");
  EXPECT_TRUE(contains(none.output, "timelines        0 forked")) << none.output;
  const test_support::CommandResult two = runCommand(
      GetParam().binary +
      " --seeds=1 --explore_timelines_max=2 --explore_batch=1 --explore_timelines_min=1");
  const std::size_t at = two.output.find("timelines        ");
  ASSERT_NE(at, std::string::npos) << two.output;
  unsigned long timelines = 0;
  unsigned long splits = 0;
  ASSERT_EQ(std::sscanf(two.output.c_str() + at, "timelines %lu forked (%*[^)]), %lu",
                        &timelines, &splits),
            2)
      << two.output.substr(at, 80);
  EXPECT_GT(timelines, 0u);
  EXPECT_LE(timelines, 2 * splits);
}

// Enough timelines that many bugs are found and many children finish out of order.
constexpr std::uint64_t kZombieEnergy = 500;

TEST_P(ExplorationTest, NoZombieAfterExploringEveryBug) {
  // No early stop, two in parallel: children finish out of order, and (in the dungeon) some
  // end in a bug while others still run.
  explorer::Config c = config(2);
  c.bugs = explorer::BugPolicy::kContinue;
  c.energyPerSeed = kZombieEnergy;
  const RunReport report = runSeeds(GetParam().builder(), 7, 1, c);
  ASSERT_EQ(report.seeds.size(), 1u);
  ASSERT_TRUE(report.seeds.front().exploration.has_value());
  EXPECT_GT(report.seeds.front().exploration->stats.timelines, 0u);
  EXPECT_LE(report.seeds.front().exploration->stats.timelines, kZombieEnergy);
  EXPECT_EQ(zombieChildren(), std::vector<int>{});
  EXPECT_TRUE(noChildLeft());
}

INSTANTIATE_TEST_SUITE_P(Examples, ExplorationTest, testing::Values(mazeCase(), dungeonCase()),
                         [](const testing::TestParamInfo<ExampleCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace moonpool
