// Goal: each iteration control stops where it should: a fixed count, a wall-time budget,
// when every sometimes/reachable assertion has held, when coverage stops growing, and at its
// cap otherwise; the report says why it stopped.
// Method: one workload whose assertions fire with seed-dependent probability (a sometimes, a
// reachable, a sometimes_each with six buckets). This binary holds no other assertion sites,
// so "every sometimes has held" and the coverage signal are exactly this workload's.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/assertions.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

Task<void> lottery(WorkloadContext& ctx) {
  RandomProvider& random = ctx.providers().random();
  co_await ctx.providers().time().sleep(random.durationBetween(1ms, 10ms));
  const std::uint64_t draw = random.below(8);
  MOONPOOL_SOMETIMES(draw == 0, "the lottery draws zero");
  if (draw == 7) MOONPOOL_REACHABLE("the lottery draws seven");
  MOONPOOL_SOMETIMES_EACH("the lottery's face", static_cast<std::int64_t>(random.below(6)));
}

SimulationBuilder lotteryBuilder() {
  SimulationBuilder builder("lottery");
  builder.workload(Workload{.name = "player", .run = lottery});
  return builder;
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(IterationTest, FixedCountRunsExactlyThatMany) {
  const RunReport report = runSimulation(lotteryBuilder().iterations(7));
  EXPECT_EQ(report.seeds.size(), 7u);
  EXPECT_EQ(report.stopReason, "fixed count reached");
  EXPECT_EQ(report.iteration, "fixed count: 7 seeds");
  for (std::size_t i = 0; i < report.seeds.size(); ++i) EXPECT_EQ(report.seeds[i].seed, i + 1);
}

TEST(IterationTest, ExplicitSeedsComeFirstThenGeneratedOnes) {
  const RunReport report =
      runSimulation(lotteryBuilder().seeds({42, 7}).firstSeed(100).iterations(4));
  ASSERT_EQ(report.seeds.size(), 4u);
  EXPECT_EQ(report.seeds[0].seed, 42u);
  EXPECT_EQ(report.seeds[1].seed, 7u);
  EXPECT_EQ(report.seeds[2].seed, 100u);
  EXPECT_EQ(report.seeds[3].seed, 101u);
  // Without an iteration control, explicit seeds alone are the run.
  EXPECT_EQ(runSimulation(lotteryBuilder().seeds({5, 6})).seeds.size(), 2u);
}

TEST(IterationTest, WallBudgetStopsAfterTheBudget) {
  const RunReport report = runSimulation(lotteryBuilder().timeBudget(200ms));
  EXPECT_GE(report.seedCount(), 2u);
  EXPECT_GE(report.wall, 200ms);
  EXPECT_LT(report.wall, 5s) << "one seed past the budget at most";
  EXPECT_TRUE(has(report.stopReason, "wall-time budget of 0.200000000s spent"))
      << report.stopReason;
}

TEST(IterationTest, UntilAllSometimesFiredStopsOnceEverySiteHeld) {
  const RunReport report = runSimulation(lotteryBuilder().untilAllSometimesFired(500));
  EXPECT_LT(report.seedCount(), 500u);
  EXPECT_GE(report.seedCount(), 1u);
  EXPECT_EQ(report.stopReason, "every sometimes/reachable assertion has held");
  EXPECT_TRUE(report.breaches.empty()) << renderText(report.assertions);
  EXPECT_EQ(report.exitCode(), 0);
}

TEST(IterationTest, UntilCoverageStableStopsOnAPlateau) {
  const RunReport report = runSimulation(lotteryBuilder().untilCoverageStable(20, 500));
  EXPECT_LT(report.seedCount(), 500u);
  EXPECT_TRUE(has(report.stopReason, "coverage stable for 20 seeds")) << report.stopReason;
  // Three sites reached, the two sometimes-kind sites held, all six faces: 3 + 2 + 6... the
  // sometimes_each site counts as held too (passes > 0), so 3 + 3 + 6.
  EXPECT_EQ(report.coverageValue, 12u) << renderText(report.assertions);
  EXPECT_TRUE(has(report.coverageSignal, "assertion coverage")) << report.coverageSignal;
}

TEST(IterationTest, CapsStopTheAdaptiveModes) {
  const RunReport report = runSimulation(lotteryBuilder().untilCoverageStable(1000, 5));
  EXPECT_EQ(report.seeds.size(), 5u);
  EXPECT_EQ(report.stopReason, "seed cap reached (5 seeds)");
}

TEST(IterationTest, WorkersShareTheFixedCount) {
  const RunReport report = runSimulation(lotteryBuilder().iterations(9), RunOptions{.jobs = 4});
  ASSERT_EQ(report.seeds.size(), 9u);
  for (std::size_t i = 0; i < report.seeds.size(); ++i) {
    EXPECT_EQ(report.seeds[i].index, i);
    EXPECT_EQ(report.seeds[i].seed, i + 1);
  }
  EXPECT_EQ(report.stopReason, "fixed count reached");
}

}  // namespace
}  // namespace moonpool
