// Goal: an explored run under a portfolio (runner.h, Portfolio) runs plain seeds first, then
// explored roots and plain seeds in turn with plain seeds at least their share of the runs;
// every seed is counted once; a root whose plain run fails is reported as a plain failing
// seed at a plain seed's cost, never explored; the schedule depends on the seeds only; and
// the report says how the run split its time.
// Method: a ladder (each rung a sometimes_each discovery the explorer forks at) whose seeds
// fail about one time in four through a common planted bug; runSimulation() in-process with
// a fixed count of seeds, one timeline at once (and two: plain batches in forked workers).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "moonpool/assertions.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kRungs = 3;
constexpr std::int64_t kClimbs = 4;
constexpr Probability kRungChance{0.3};
constexpr Probability kCommonBugChance{0.25};
constexpr std::uint64_t kSeeds = 60;

Task<void> climb(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  for (std::int64_t i = 0; i < kClimbs; ++i) {
    co_await p.time().sleep(1ms);
    std::int64_t rung = 0;
    while (rung < kRungs && p.random().chance(kRungChance)) {
      ++rung;
      MOONPOOL_SOMETIMES_EACH("portfolio ladder rung passed", rung);
    }
  }
}

Task<CheckResult> judge(WorkloadContext& ctx) {
  // Drawn once per seed at check time: the plain seed's verdict and its timelines' differ.
  const bool bug = ctx.providers().random().chance(kCommonBugChance);
  co_return bug ? CheckResult::fail("the common planted bug") : CheckResult::pass();
}

SimulationBuilder ladder() {
  SimulationBuilder builder("portfolio ladder");
  builder.workload(Workload{.name = "climber", .run = climb, .check = judge});
  return builder;
}

explorer::Config exploration(std::uint32_t parallelism) {
  return explorer::Config{.energyPerSeed = 24,
                          .depthMax = 3,
                          .mode = explorer::EnergyMode::kAdaptive,
                          .adaptive = {.batch = 4, .timelinesMin = 4, .timelinesMax = 8,
                                       .perMarkEnergy = 8},
                          .parallelism = parallelism};
}

RunReport runPortfolio(Portfolio portfolio, std::uint32_t parallelism) {
  return runSimulation(ladder(), RunOptions{.iteration = IterationControl::fixedCount(kSeeds),
                                            .coverage = CoverageContracts::kReportOnly,
                                            .explore = ExploreMode::kOn,
                                            .exploration = exploration(parallelism),
                                            .portfolio = portfolio});
}

std::vector<std::uint64_t> exploredIndices(const RunReport& report) {
  std::vector<std::uint64_t> out;
  for (const SeedResult& s : report.seeds) {
    if (s.exploration) out.push_back(s.index);
  }
  return out;
}

// Walks the seeds in order as the schedule did: before each root, plain runs (roots' own runs
// included) are at least the share of every run so far.
void expectTheSchedule(const RunReport& report, const Portfolio& portfolio) {
  ASSERT_EQ(report.seeds.size(), kSeeds) << "every seed of the run is kept";
  std::uint64_t plain = 0;
  std::uint64_t timelines = 0;
  for (const SeedResult& s : report.seeds) {
    if (s.exploration) {
      EXPECT_GE(plain, portfolio.plainFirst) << "root " << s.index << " came too early";
      EXPECT_GE(plain * 100, portfolio.plainPercent * (plain + timelines)) << "root " << s.index;
      EXPECT_TRUE(s.verdict == SeedVerdict::kPass || s.failure == SeedFailure::kExplored)
          << "an explored root's own run passed: " << s.message;
      timelines += s.exploration->stats.timelines;
    }
    ++plain;
  }
  ASSERT_TRUE(report.schedule.has_value());
  const ScheduleSplit& split = *report.schedule;
  EXPECT_EQ(split.plainFirst, portfolio.plainFirst);
  EXPECT_EQ(split.plainPercent, portfolio.plainPercent);
  EXPECT_EQ(split.plainSeeds + split.roots, report.totals.seeds) << "each seed counted once";
  EXPECT_EQ(split.roots, report.totals.exploredSeeds);
  EXPECT_EQ(split.timelines, report.totals.exploration.timelines);
  EXPECT_GT(split.roots, 0u) << renderReportText(report);
  EXPECT_GT(split.timelines, 0u);
}

TEST(PortfolioTest, PlainSeedsFirstThenRootsInTurn) {
  const Portfolio portfolio{.plainFirst = 10, .plainPercent = 50};
  const RunReport report = runPortfolio(portfolio, 1);
  expectTheSchedule(report, portfolio);
  for (const SeedResult& s : report.seeds) {
    if (s.index < portfolio.plainFirst) EXPECT_FALSE(s.exploration) << s.index;
  }
  EXPECT_GT(report.totals.failed, 0u) << "the common bug fails plain seeds";
  ASSERT_TRUE(report.firstBugWall.has_value()) << "the report times its first bug";
  EXPECT_LE(*report.firstBugWall, report.wall);
  // The text and JSON reports say how the time was split.
  const std::string text = renderReportText(report);
  EXPECT_NE(text.find("schedule         portfolio: " + std::to_string(report.schedule->plainSeeds) +
                      " plain seeds in "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(std::to_string(report.schedule->roots) + " roots explored in "),
            std::string::npos)
      << text;
  EXPECT_NE(renderReportJson(report).find("\"plain_percent\":50"), std::string::npos);
  // Which seeds were explored depends on the seeds only.
  EXPECT_EQ(exploredIndices(report), exploredIndices(runPortfolio(portfolio, 1)));
}

TEST(PortfolioTest, ARootWhosePlainRunFailsIsAPlainFailingSeed) {
  // No plain share: every seed is a root, run plainly first.
  const RunReport report = runPortfolio(Portfolio{.plainFirst = 0, .plainPercent = 0}, 1);
  const RunReport plain = runSimulation(
      ladder(), RunOptions{.iteration = IterationControl::fixedCount(kSeeds),
                           .coverage = CoverageContracts::kReportOnly});
  ASSERT_EQ(report.seeds.size(), plain.seeds.size());
  std::uint64_t plainFailures = 0;
  for (std::size_t i = 0; i < report.seeds.size(); ++i) {
    const SeedResult& s = report.seeds[i];
    if (plain.seeds[i].verdict == SeedVerdict::kFail) {
      ++plainFailures;
      EXPECT_FALSE(s.exploration) << "seed " << s.seed << " failed plainly: not explored";
      EXPECT_EQ(s.failure, SeedFailure::kCheck) << s.message;
      EXPECT_EQ(s.decisionHash, plain.seeds[i].decisionHash);
    } else {
      EXPECT_TRUE(s.exploration) << "seed " << s.seed << " passed plainly: explored";
    }
  }
  EXPECT_GT(plainFailures, 0u);
  ASSERT_TRUE(report.schedule.has_value());
  EXPECT_EQ(report.schedule->plainSeeds, plainFailures);
  EXPECT_EQ(report.schedule->roots, kSeeds - plainFailures);
}

TEST(PortfolioTest, TwoTimelinesAtOnceRunPlainBatchesInWorkers) {
  const Portfolio portfolio{.plainFirst = 10, .plainPercent = 60};
  const RunReport report = runPortfolio(portfolio, 2);
  expectTheSchedule(report, portfolio);
  // Plain seeds give the verdicts of a plain run, whichever worker ran them.
  const RunReport plain = runSimulation(
      ladder(), RunOptions{.iteration = IterationControl::fixedCount(kSeeds),
                           .coverage = CoverageContracts::kReportOnly});
  for (std::size_t i = 0; i < report.seeds.size(); ++i) {
    if (report.seeds[i].exploration) continue;
    EXPECT_EQ(report.seeds[i].verdict, plain.seeds[i].verdict) << report.seeds[i].seed;
    EXPECT_EQ(report.seeds[i].decisionHash, plain.seeds[i].decisionHash);
  }
}

}  // namespace
}  // namespace moonpool
