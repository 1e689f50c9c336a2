// Goal: targeted faults and per-seed shared state work under exploration: a bug that needs
// three targeted reboots at the right moments, out of reach of the root seed, is found by a
// forked timeline, and its recipe replays in one process to the same failure with the same
// targeted faults in its fault summary.
// Method: a workload climbs a ladder (each rung a sometimes_each discovery the explorer forks
// at) and reboots the service at each rung it passes; the service logs its boots in shared
// state, and an always-assertion on that log is the planted bug. runSimulation() in-process:
// explored, then replayed from the recipe.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/assertions.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kRungs = 3;
constexpr std::int64_t kClimbs = 10;
constexpr Probability kRungChance{0.1};
constexpr std::uint64_t kSeed = 3;

struct Boots {
  std::int64_t count = 0;
};

Task<void> service(ProcessContext& ctx) {
  ++ctx.shared<Boots>().count;
  for (;;) co_await ctx.providers().time().sleep(1s);
}

Task<void> climb(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  for (std::int64_t i = 0; i < kClimbs; ++i) {
    co_await p.time().sleep(10ms);
    const std::int64_t bootsBefore = ctx.shared<Boots>().count;
    std::int64_t rung = 0;
    while (rung < kRungs && p.random().chance(kRungChance)) {
      ++rung;
      MOONPOOL_SOMETIMES_EACH("targeted ladder rung passed", rung);
      ctx.faults().reboot("svc-1", RebootKind::kCrash, 0ms);
      co_await p.time().sleep(1ms);  // the reboot lands and the service boots again
    }
    MOONPOOL_ALWAYS(ctx.shared<Boots>().count - bootsBefore < kRungs,
                    "a climb never reboots the service three times");
  }
}

SimulationBuilder ladder() {
  SimulationBuilder builder("targeted ladder");
  builder.processes(1, "svc", service)
      .workload(Workload{.name = "climber", .run = climb})
      .sharedState<Boots>()
      .seeds({kSeed});
  return builder;
}

TEST(ExploreTargeted, ATimelineFindsTheRebootBugAndItsRecipeReplaysIt) {
  setFailurePrinting(FailurePrinting::kOff);
  const RunReport plain = runSimulation(ladder());
  ASSERT_EQ(plain.seeds.size(), 1u);
  ASSERT_EQ(plain.seeds[0].verdict, SeedVerdict::kPass) << plain.seeds[0].message;

  const explorer::Config config{.energyPerSeed = 4'000,
                                .depthMax = 8,
                                .mode = explorer::EnergyMode::kAdaptive,
                                .adaptive = {.batch = 20,
                                             .timelinesMin = 40,
                                             .timelinesMax = 80,
                                             .perMarkEnergy = 400}};
  const RunReport explored =
      runSimulation(ladder(), RunOptions{.explore = ExploreMode::kOn, .exploration = config});
  ASSERT_EQ(explored.seeds.size(), 1u);
  ASSERT_TRUE(explored.seeds[0].exploration.has_value());
  const SeedExploration& e = *explored.seeds[0].exploration;
  ASSERT_TRUE(e.bugFound) << renderReportText(explored);
  EXPECT_EQ(e.bugClass, "correctness");
  EXPECT_NE(e.bugMessage.find("a climb never reboots the service three times"),
            std::string::npos)
      << e.bugMessage;

  explorer::Recipe recipe;
  char error[256] = {};
  ASSERT_TRUE(explorer::parseRecipe(e.recipe.c_str(), recipe, error, sizeof error)) << error;
  const RunReport replay = runSimulation(ladder(), RunOptions{.replay = recipe});
  setFailurePrinting(FailurePrinting::kFirstPerSite);
  ASSERT_EQ(replay.seeds.size(), 1u);
  const SeedResult& seed = replay.seeds[0];
  EXPECT_EQ(seed.failure, SeedFailure::kAssertion);
  EXPECT_NE(seed.message.find("a climb never reboots the service three times"), std::string::npos)
      << seed.message;
  EXPECT_GE(seed.faultCounts.at("targeted.reboot"), 3u);
  EXPECT_EQ(seed.faultCounts.at("targeted.reboot"), seed.faultCounts.at("process.crash"));
}

}  // namespace
}  // namespace moonpool
