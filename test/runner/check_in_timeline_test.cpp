// Goal: a MOONPOOL_CHECK that fails inside an explored timeline reaches the run's report with
// its condition, message and location (the bug's class is a crash), instead of "timeline
// killed by signal 6" with no word of what failed; its recipe replays to the same place.
// Method: a three-rung ladder (each rung a sometimes_each discovery the explorer forks at)
// whose top fails a MOONPOOL_CHECK; the root seed never reaches the top, its timelines do.
// runSimulation() in-process with exploration; the check only ever fails in forked children.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/assertions.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

constexpr std::int64_t kRungs = 3;
constexpr std::int64_t kClimbs = 10;
constexpr Probability kRungChance{0.1};
constexpr std::uint64_t kSeed = 1;  // its own climbs stop below the top (checked by the test)

Task<void> climb(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  for (std::int64_t i = 0; i < kClimbs; ++i) {
    co_await p.time().sleep(std::chrono::milliseconds(1));
    std::int64_t rung = 0;
    while (rung < kRungs && p.random().chance(kRungChance)) {
      ++rung;
      MOONPOOL_SOMETIMES_EACH("check ladder rung passed", rung);
    }
    ctx.maxMetric("highest rung", rung);
    MOONPOOL_CHECK_LT(rung, kRungs, "the top of the check ladder is never reached");
  }
}

SimulationBuilder ladder() {
  SimulationBuilder builder("check ladder");
  builder.workload(Workload{.name = "climber", .run = climb}).seeds({kSeed});
  return builder;
}

explorer::Config exploration() {
  return explorer::Config{.energyPerSeed = 4'000,
                          .depthMax = 8,
                          .mode = explorer::EnergyMode::kAdaptive,
                          .adaptive = {.batch = 20,
                                       .timelinesMin = 40,
                                       .timelinesMax = 80,
                                       .perMarkEnergy = 400}};
}

TEST(CheckInTimeline, AFailedCheckInAForkedTimelineKeepsItsReport) {
  const RunReport plain = runSimulation(ladder());
  ASSERT_EQ(plain.seeds.size(), 1u);
  ASSERT_EQ(plain.seeds[0].verdict, SeedVerdict::kPass) << "the root never reaches the top";
  const RunReport explored = runSimulation(
      ladder(), RunOptions{.explore = ExploreMode::kOn, .exploration = exploration()});
  ASSERT_EQ(explored.seeds.size(), 1u);
  ASSERT_TRUE(explored.seeds[0].exploration.has_value());
  const SeedExploration& e = *explored.seeds[0].exploration;
  ASSERT_TRUE(e.bugFound) << renderReportText(explored);
  EXPECT_EQ(e.bugClass, "crash");
  EXPECT_NE(e.bugMessage.find("test/runner/check_in_timeline_test.cpp:"), std::string::npos)
      << e.bugMessage;
  EXPECT_NE(e.bugMessage.find("moonpool check failed: rung < kRungs (left = 3, right = 3: "
                              "the top of the check ladder is never reached)"),
            std::string::npos)
      << e.bugMessage;
  EXPECT_NE(explored.seeds[0].message.find("the top of the check ladder is never reached"),
            std::string::npos)
      << explored.seeds[0].message;
  // Every rendering carries it.
  EXPECT_NE(renderReportJson(explored).find("the top of the check ladder"), std::string::npos);
  EXPECT_NE(renderReportJunit(explored).find("the top of the check ladder"), std::string::npos);
}

}  // namespace
}  // namespace moonpool
