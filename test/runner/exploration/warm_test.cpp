// Goal: exploring several seeds in one run starts every seed after the first warm: the
// explored map (and the edge history) carry over, so what seed 1 discovered is not new ground
// for seed 2.
// Method: explore three maze seeds in one run and read each seed's statistics: the
// explored-map bits and covered edges never shrink from one seed to the next; and the second
// seed's children add less new coverage ("productive" timelines), and it spends fewer
// timelines, than the same seed explored alone, cold. Sequential exploration is
// deterministic for a seed, so both runs are exact.
#include <gtest/gtest.h>

#include <cstdio>

#include "exploration_support.h"
#include "maze.h"

namespace moonpool {
namespace {

using exploration_testing::runSeeds;

constexpr std::uint64_t kFirstSeed = 1;
constexpr std::uint64_t kSeeds = 3;

// Small splits, many of them: what carries over is seen at many marks for little energy
// (the maze's own settings spend 150 timelines per split).
explorer::Config warmConfig() {
  explorer::Config c = examples::maze::mazeExploration();
  c.energyPerSeed = 300;
  c.adaptive = {.batch = 10, .timelinesMin = 20, .timelinesMax = 40, .perMarkEnergy = 100,
                .warmTimelinesMin = 10};
  c.bugs = explorer::BugPolicy::kContinue;
  return c;
}

TEST(MultiSeedExploration, LaterSeedsStartWarm) {
  const SimulationBuilder builder = examples::maze::makeMazeBuilder({});
  const RunReport run = runSeeds(builder, kFirstSeed, kSeeds, warmConfig());
  ASSERT_EQ(run.seeds.size(), kSeeds);
  for (const SeedResult& seed : run.seeds) ASSERT_TRUE(seed.exploration.has_value());
  EXPECT_GT(run.seeds[0].exploration->stats.bitmapBits, 0u);
  for (std::size_t i = 1; i < run.seeds.size(); ++i) {
    const explorer::Stats& before = run.seeds[i - 1].exploration->stats;
    const explorer::Stats& now = run.seeds[i].exploration->stats;
    EXPECT_GE(now.bitmapBits, before.bitmapBits) << "seed " << run.seeds[i].seed;
    EXPECT_GE(now.edgesCovered, before.edgesCovered) << "seed " << run.seeds[i].seed;
    EXPECT_EQ(now.edgesTotal, before.edgesTotal);
  }
  // The same second seed, alone: everything it discovers is new to it.
  const RunReport cold = runSeeds(builder, kFirstSeed + 1, 1, warmConfig());
  ASSERT_EQ(cold.seeds.size(), 1u);
  ASSERT_TRUE(cold.seeds[0].exploration.has_value());
  const explorer::Stats& coldStats = cold.seeds[0].exploration->stats;
  const explorer::Stats& warmStats = run.seeds[1].exploration->stats;
  EXPECT_GT(coldStats.productive, 0u);
  EXPECT_LT(warmStats.productive, coldStats.productive)
      << "warm, seed " << kFirstSeed + 1 << "'s children should rediscover what seed "
      << kFirstSeed << " found without counting it as new";
  // And its splits turn barren sooner (after warmTimelinesMin children): less energy spent.
  EXPECT_LT(warmStats.timelines, coldStats.timelines);
  std::printf("seed %llu: cold %llu productive of %llu timelines, %llu bits; warm %llu "
              "productive of %llu timelines, %llu bits\n",
              static_cast<unsigned long long>(kFirstSeed + 1),
              static_cast<unsigned long long>(coldStats.productive),
              static_cast<unsigned long long>(coldStats.timelines),
              static_cast<unsigned long long>(coldStats.bitmapBits),
              static_cast<unsigned long long>(warmStats.productive),
              static_cast<unsigned long long>(warmStats.timelines),
              static_cast<unsigned long long>(warmStats.bitmapBits));
}

}  // namespace
}  // namespace moonpool
