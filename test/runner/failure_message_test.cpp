// Goal: a seed that fails keeps the name (kind and message) and location of every always /
// unreachable assertion that failed during it, whatever ended it: an assertion alone, a
// workload's check() violation, a check() that threw. The text, JSON and JUnit reports carry
// them, and a one-line view (the JUnit failure's message attribute) names the assertion.
// Method: a workload whose run() breaks an always-assertion on chosen seeds and whose
// check() then reports a violation (or throws); runSimulation() in-process, then the three
// renderers.
#include <gtest/gtest.h>

#include <string>

#include "moonpool/assertions.h"
#include "moonpool/assertions/table.h"
#include "moonpool/runner/runner.h"

namespace moonpool {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

constexpr const char* kName = R"(always "the ledger applies each add once" failed at )";

Task<void> doubleApply(WorkloadContext& ctx) {
  co_await ctx.providers().time().sleep(1ms);
  const int applied = ctx.seed() == 1 ? 1 : 2;
  MOONPOOL_ALWAYS(applied == 1, "the ledger applies each add once");
}

// Seed 2: the consequence of the double apply, seen by check(); seed 3: check() throws.
Task<CheckResult> audit(WorkloadContext& ctx) {
  if (ctx.seed() == 3) throw Exception(ErrorKind::kFailed, "the audit log is unreadable");
  if (ctx.seed() == 2) co_return CheckResult::fail("total is 12, expected 10");
  co_return CheckResult::pass();
}

RunReport runLedger(std::vector<std::uint64_t> seeds) {
  setFailurePrinting(FailurePrinting::kOff);
  SimulationBuilder builder("ledger");
  builder.workload(Workload{.name = "w", .run = doubleApply, .check = audit})
      .seeds(std::move(seeds));
  RunReport report = runSimulation(builder);
  setFailurePrinting(FailurePrinting::kFirstPerSite);
  return report;
}

TEST(FailureMessage, AFailedCheckKeepsTheAssertionThatFailedBeforeIt) {
  const RunReport report = runLedger({1, 2, 3});
  ASSERT_EQ(report.seeds.size(), 3u);
  EXPECT_EQ(report.seeds[0].verdict, SeedVerdict::kPass);
  const SeedResult& violated = report.seeds[1];
  EXPECT_EQ(violated.failure, SeedFailure::kCheck);
  EXPECT_TRUE(violated.message.starts_with("workload 'w': total is 12, expected 10\n" +
                                           std::string(kName)))
      << violated.message;
  EXPECT_TRUE(has(violated.message, "(applied == 1) at test/runner/failure_message_test.cpp:"))
      << violated.message;
  const SeedResult& threw = report.seeds[2];
  EXPECT_EQ(threw.failure, SeedFailure::kCheck);
  EXPECT_TRUE(has(threw.message, "check() threw: failed: the audit log is unreadable"));
  EXPECT_TRUE(has(threw.message, kName)) << threw.message;
  // Every rendering carries the name.
  for (const std::string& rendered :
       {renderReportText(report), renderReportJson(report), renderReportJunit(report)}) {
    EXPECT_TRUE(has(rendered, "the ledger applies each add once\\\" failed at ") ||
                has(rendered, "the ledger applies each add once&quot; failed at ") ||
                has(rendered, kName))
        << rendered;
  }
}

TEST(FailureMessage, AnAssertionFailureNamesItsAssertionOnTheFirstLine) {
  const RunReport report = runLedger({4});
  ASSERT_EQ(report.seeds.size(), 1u);
  const SeedResult& seed = report.seeds[0];
  EXPECT_EQ(seed.failure, SeedFailure::kAssertion);
  EXPECT_TRUE(seed.message.starts_with(kName)) << seed.message;
  EXPECT_TRUE(has(seed.message, "\n1 always/unreachable assertion failure(s) during this seed:"))
      << seed.message;
  // JUnit's message attribute is the first line: CI lists show the assertion.
  const std::string junit = renderReportJunit(report);
  EXPECT_TRUE(has(junit, R"(message="always &quot;the ledger applies each add once&quot; )"
                         R"(failed at test/runner/failure_message_test.cpp:)"))
      << junit;
}

}  // namespace
}  // namespace moonpool
