// Goal: the planted bugs of the maze and the dungeon are out of reach of plain seeds, so
// that finding them measures the explorer, not luck.
// Method: run a few hundred plain seeds (no exploration) of each example in this process and
// read the assertion table: the bug sites never fail or are never reached, while the
// progress markers show the seeds did play (gates passed, floors reached).
//
// The odds (maze.cpp and dungeon.cpp derive them):
//   maze: a lock opens in one attempt with 0.05^5 = 3.1e-7; in 100 rounds at most 3.1e-5 per
//   seed; all four locks below (3.1e-5)^4 = 9.5e-19 per seed, so 300 seeds below 3e-16.
//   dungeon: an exact dynamic program over (floor, health) gives 3.5e-8 per seed for the
//   treasure with the default options, so 300 seeds find it with probability about 1e-5.
// Seeds are fixed (1..300), so the verdict is deterministic: these seeds are known not to,
// and a change that made them reach a bug would show up here.
#include <gtest/gtest.h>

#include "dungeon.h"
#include "exploration_support.h"
#include "maze.h"

namespace moonpool {
namespace {

using exploration_testing::findSite;
using exploration_testing::runSeeds;

constexpr std::uint64_t kPlainSeeds = 300;

TEST(PlainSeeds, NeverOpenAllFourLocksOfTheMaze) {
  const RunReport report = runSeeds(examples::maze::makeMazeBuilder({}), 1, kPlainSeeds,
                                    std::nullopt, /*jobs=*/2);
  ASSERT_EQ(report.seedCount(), kPlainSeeds);
  EXPECT_EQ(report.failedCount(), 0u) << renderReportText(report);
  EXPECT_FALSE(report.explored);
  const SiteResult* bug = findSite(report, "all 4 locks opened");
  ASSERT_NE(bug, nullptr);
  EXPECT_EQ(bug->fails, 0u);
  EXPECT_GE(bug->passes, kPlainSeeds) << "every seed plays its rounds";
  const SiteResult* gates = findSite(report, "maze gate passed");
  ASSERT_NE(gates, nullptr);
  EXPECT_FALSE(gates->buckets.empty()) << "gate 0 of locks 0 and 2 opens at 5 % per round";
  const SiteResult* last = findSite(report, "lock 3 opened");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->passes, 0u);
  EXPECT_EQ(last->status, SiteStatus::kNeverTrue);
}

TEST(PlainSeeds, NeverReachTheDungeonTreasure) {
  const RunReport report = runSeeds(examples::dungeon::makeDungeonBuilder({}), 1, kPlainSeeds,
                                    std::nullopt, /*jobs=*/2);
  ASSERT_EQ(report.seedCount(), kPlainSeeds);
  EXPECT_EQ(report.failedCount(), 0u) << renderReportText(report);
  const SiteResult* bug = findSite(report, "treasure on floor 8 reached");
  ASSERT_NE(bug, nullptr);
  EXPECT_EQ(bug->hits, 0u);
  const SiteResult* floors = findSite(report, "hero health on floor");
  ASSERT_NE(floors, nullptr);
  EXPECT_GE(floors->buckets.size(), 3u) << "heroes do reach the first floors";
  // The monsters are what keeps plain heroes out: most of them die on the way.
  ASSERT_EQ(report.metrics.count("deaths"), 1u);
  EXPECT_GT(report.metrics.at("deaths").value, static_cast<std::int64_t>(kPlainSeeds / 2));
}

}  // namespace
}  // namespace moonpool
