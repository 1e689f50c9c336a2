// Goal: a fixed-order exploration's report says what bounded it and what its workers found:
// a job's candidates beyond explorer::kCandidatesMax are counted in the text and JSON reports
// (and survive a JSON round trip), the workers' count and critical path are reported, and a
// sometimes reached only in the workers' timelines is held in the report's assertion table.
// Method: two small simulations explored in this process with SearchOrder::kFixed: a
// staircase whose watermark improves on every step (more candidates than a job keeps), and a
// run of coin flips whose last site holds on about one plain seed in 2^12.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "exploration_support.h"
#include "moonpool/assertions.h"
#include "moonpool/runner/report_merge.h"
#include "support/command.h"

namespace moonpool {
namespace {

using exploration_testing::findSite;
using exploration_testing::noChildLeft;
using exploration_testing::runSeeds;
using test_support::contains;

constexpr std::int64_t kStairs = explorer::kCandidatesMax + 200;
constexpr int kFlips = 12;
constexpr std::uint64_t kSeed = 7;

Task<void> climb(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  for (std::int64_t step = 1; step <= kStairs; ++step) {
    MOONPOOL_SOMETIMES_GT(step, 0, "the staircase climbs");
  }
  co_await p.time().sleep(std::chrono::milliseconds(1));
}

Task<void> flip(WorkloadContext& ctx) {
  Providers p = ctx.providers();
  int heads = 0;
  MOONPOOL_REACHABLE("the flips begin");  // the first splitpoint: children redraw every flip
  while (heads < kFlips && p.random().chance(Probability{0.5})) {
    ++heads;
    MOONPOOL_SOMETIMES_EACH("heads in a row", heads);
    co_await p.time().sleep(std::chrono::milliseconds(1));
  }
  MOONPOOL_SOMETIMES(heads == kFlips, "every flip came up heads");
}

SimulationBuilder builderOf(const char* name, Task<void> (*run)(WorkloadContext&)) {
  SimulationBuilder builder(name);
  builder.workload(Workload{.name = name, .run = run})
      .iterations(1)
      .guards(Guards{.simTimeBudget = std::chrono::seconds(10)});
  return builder;
}

explorer::Config fixedOrder(std::uint64_t energy, std::uint32_t parallelism) {
  explorer::Config c;
  c.order = explorer::SearchOrder::kFixed;
  c.energyPerSeed = energy;
  c.parallelism = parallelism;
  return c;
}

TEST(FixedOrderReportTest, CandidateOverflowsAndWorkersAreReported) {
  const RunReport report = runSeeds(builderOf("staircase", &climb), kSeed, 1, fixedOrder(4, 2));
  ASSERT_TRUE(report.explored);
  const explorer::Stats& total = report.totals.exploration;
  // Job 0 alone sees every step after the first: kStairs - 1 candidates, 512 kept.
  EXPECT_GE(total.candidateOverflows, kStairs - 1 - explorer::kCandidatesMax);
  EXPECT_GT(total.workersRun, 0u);
  EXPECT_GT(total.jobsCpuNs, 0u);
  EXPECT_GT(total.criticalPathNs, 0u);
  const std::string text = renderReportText(report);
  EXPECT_TRUE(contains(text, "candidates lost")) << text;
  EXPECT_TRUE(contains(text, std::to_string(total.candidateOverflows) +
                                 " candidate splitpoints dropped")) << text;
  EXPECT_TRUE(contains(text, "fixed order")) << text;
  EXPECT_FALSE(contains(text, "job table full")) << text;  // only when reached
  const std::string json = renderReportJson(report);
  EXPECT_TRUE(contains(json, "\"candidate_overflows\":" +
                                 std::to_string(total.candidateOverflows))) << json;
  EXPECT_TRUE(contains(json, "\"job_overflows\":0")) << json;  // JSON: always
  const absl::StatusOr<RunReport> read = parseReportJson(json);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->totals.exploration.candidateOverflows, total.candidateOverflows);
  EXPECT_EQ(read->totals.exploration.workersRun, total.workersRun);
  EXPECT_EQ(read->totals.exploration.criticalPathNs, total.criticalPathNs);
  EXPECT_TRUE(noChildLeft());
}

TEST(FixedOrderReportTest, FastOrderReportsNoFixedOrderLines) {
  explorer::Config c = fixedOrder(4, 1);
  c.order = explorer::SearchOrder::kFast;
  const RunReport report = runSeeds(builderOf("staircase", &climb), kSeed, 1, c);
  EXPECT_EQ(report.totals.exploration.workersRun, 0u);
  const std::string text = renderReportText(report);
  EXPECT_FALSE(contains(text, "fixed order")) << text;
  EXPECT_FALSE(contains(text, "candidates lost")) << text;
}

TEST(FixedOrderReportTest, WorkersHitsReachTheAssertionReport) {
  const SimulationBuilder builder = builderOf("flips", &flip);
  const RunReport plain = runSeeds(builder, kSeed, 1, std::nullopt);
  const SiteResult* plainTop = findSite(plain, "every flip came up heads");
  ASSERT_NE(plainTop, nullptr);
  ASSERT_EQ(plainTop->passes, 0u) << "seed " << kSeed << " must miss it plainly";
  const SiteResult* plainEach = findSite(plain, "heads in a row");
  ASSERT_NE(plainEach, nullptr);

  for (const std::uint32_t workers : {1u, 2u}) {
    SCOPED_TRACE(testing::Message() << workers << " worker(s)");
    const RunReport explored = runSeeds(builder, kSeed, 1, fixedOrder(2000, workers));
    ASSERT_TRUE(explored.explored);
    const SiteResult* top = findSite(explored, "every flip came up heads");
    ASSERT_NE(top, nullptr);
    EXPECT_GT(top->passes, 0u) << renderReportText(explored);
    EXPECT_EQ(top->status, SiteStatus::kPass) << renderReportText(explored);
    const SiteResult* each = findSite(explored, "heads in a row");
    ASSERT_NE(each, nullptr);
    EXPECT_GT(each->buckets.size(), plainEach->buckets.size());
    EXPECT_EQ(each->buckets.size(), static_cast<std::size_t>(kFlips));
    EXPECT_GT(each->hits, plainEach->hits);
    EXPECT_TRUE(noChildLeft());
  }
}

}  // namespace
}  // namespace moonpool
