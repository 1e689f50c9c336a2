// Goal: every assertion kind records passes and failures with the right contract verdict,
// never aborts, counts invariant violations for the run, and the catalog lists sites that
// never ran.
// Method: each site lives in a small function called with holding and non-holding
// arguments; the report is collected after each phase and the site is looked up by message.
// Each test starts from a reset table (ctest runs every test in its own process).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "moonpool/assertions.h"
#include "moonpool/assertions/report.h"
#include "assertion_testing.h"

namespace moonpool {

// Never called, and with external linkage so the compiler must emit it: its sites must
// still be in the catalog and reported. (A site in an unused inline function or template
// would not be emitted at all.)
void neverCalled();
void neverCalled() {
  MOONPOOL_SOMETIMES(true, "a sometimes nobody calls");
  MOONPOOL_REACHABLE("a reachable nobody calls");
  MOONPOOL_ALWAYS(true, "an always nobody calls");
  MOONPOOL_UNREACHABLE("an unreachable nobody calls");
}

namespace {

using AssertionKinds = FreshAssertionTable;

void checkAlways(int x) { MOONPOOL_ALWAYS(x >= 0, "x is never negative"); }
void checkAlwaysOrUnreachable(int x) {
  MOONPOOL_ALWAYS_OR_UNREACHABLE(x != 13, "x avoids 13 when checked");
}
void checkSometimes(int x) { MOONPOOL_SOMETIMES(x == 7, "x is sometimes 7"); }
void markReachable() { MOONPOOL_REACHABLE("the reachable point"); }
void markUnreachable() { MOONPOOL_UNREACHABLE("the unreachable point"); }
void checkAlwaysGt(std::int64_t x) { MOONPOOL_ALWAYS_GT(x, 0, "x stays positive"); }
void checkAlwaysGe(int x) { MOONPOOL_ALWAYS_GE(x, 0, "x stays non-negative"); }
void checkAlwaysLt(unsigned x) { MOONPOOL_ALWAYS_LT(x, 10, "x stays under 10"); }
void checkAlwaysLe(double x) { MOONPOOL_ALWAYS_LE(x, 1.5, "x stays at most 1.5"); }
void checkSometimesGt(int x) { MOONPOOL_SOMETIMES_GT(x, 100, "x exceeds 100"); }
void checkSometimesGe(int x) { MOONPOOL_SOMETIMES_GE(x, 100, "x reaches 100"); }
void checkSometimesLt(int x) { MOONPOOL_SOMETIMES_LT(x, -5, "x drops below -5"); }
void checkSometimesLe(int x) { MOONPOOL_SOMETIMES_LE(x, -5, "x drops to -5"); }
void checkSometimesAll(bool a, bool b, bool c) {
  MOONPOOL_SOMETIMES_ALL("a, b and c at once", a, b, c);
}
void checkAlwaysSome(bool a, bool b) { MOONPOOL_ALWAYS_SOME("a or b", a, b); }
void checkEach(int node) { MOONPOOL_SOMETIMES_EACH("each node is seen", node); }

TEST_F(AssertionKinds, AlwaysPassesThenFailsWithoutAborting) {
  checkAlways(1);
  checkAlways(2);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x is never negative").status, SiteStatus::kPass);
  EXPECT_EQ(runViolationCount(), 0u);
  checkAlways(-1);
  checkAlways(3);
  const SiteResult& s = siteNamed(collectAssertionReport(), "x is never negative");
  EXPECT_EQ(s.status, SiteStatus::kFail);
  EXPECT_EQ(s.hits, 4u);
  EXPECT_EQ(s.passes, 3u);
  EXPECT_EQ(s.fails, 1u);
  ASSERT_TRUE(s.firstFailure.has_value());
  EXPECT_EQ(s.firstFailure->evaluation, 3u);
  EXPECT_EQ(s.condition, "x >= 0");
  EXPECT_EQ(runViolationCount(), 1u);
}

TEST_F(AssertionKinds, AlwaysOrUnreachableMayStayUnreached) {
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x avoids 13 when checked").status,
            SiteStatus::kPass);
  checkAlwaysOrUnreachable(1);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x avoids 13 when checked").status,
            SiteStatus::kPass);
  checkAlwaysOrUnreachable(13);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x avoids 13 when checked").status,
            SiteStatus::kFail);
  EXPECT_EQ(runViolationCount(), 1u);
}

TEST_F(AssertionKinds, SometimesNeedsOneTrueEvaluation) {
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x is sometimes 7").status,
            SiteStatus::kNeverReached);
  checkSometimes(1);
  checkSometimes(2);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x is sometimes 7").status, SiteStatus::kNeverTrue);
  checkSometimes(7);
  const SiteResult& s = siteNamed(collectAssertionReport(), "x is sometimes 7");
  EXPECT_EQ(s.status, SiteStatus::kPass);
  EXPECT_EQ(s.passes, 1u);
  EXPECT_EQ(s.fails, 2u);
  EXPECT_EQ(runViolationCount(), 0u);  // a false sometimes is not a violation
}

TEST_F(AssertionKinds, ReachableAndUnreachable) {
  AssertionReport before = collectAssertionReport();
  EXPECT_EQ(siteNamed(before, "the reachable point").status, SiteStatus::kNeverReached);
  EXPECT_EQ(siteNamed(before, "the unreachable point").status, SiteStatus::kPass);
  markReachable();
  markReachable();
  markUnreachable();
  AssertionReport after = collectAssertionReport();
  EXPECT_EQ(siteNamed(after, "the reachable point").status, SiteStatus::kPass);
  EXPECT_EQ(siteNamed(after, "the reachable point").hits, 2u);
  EXPECT_EQ(siteNamed(after, "the unreachable point").status, SiteStatus::kFail);
  EXPECT_EQ(siteNamed(after, "the unreachable point").hits, 1u);
  EXPECT_EQ(runViolationCount(), 1u);
}

TEST_F(AssertionKinds, NumericAlwaysKindsPassAndFailWithOperands) {
  checkAlwaysGt(5);
  checkAlwaysGe(0);
  checkAlwaysLt(9u);
  checkAlwaysLe(1.5);
  AssertionReport passing = collectAssertionReport();
  for (std::string_view m :
       {"x stays positive", "x stays non-negative", "x stays under 10", "x stays at most 1.5"}) {
    EXPECT_EQ(siteNamed(passing, m).status, SiteStatus::kPass) << m;
  }
  checkAlwaysGt(0);
  checkAlwaysGe(-1);
  checkAlwaysLt(10u);
  checkAlwaysLe(1.75);
  AssertionReport failing = collectAssertionReport();
  for (std::string_view m :
       {"x stays positive", "x stays non-negative", "x stays under 10", "x stays at most 1.5"}) {
    EXPECT_EQ(siteNamed(failing, m).status, SiteStatus::kFail) << m;
  }
  const SiteResult& gt = siteNamed(failing, "x stays positive");
  ASSERT_TRUE(gt.firstFailure.has_value());
  EXPECT_EQ(gt.firstFailure->left, 0);
  EXPECT_EQ(gt.firstFailure->right, 0);
  EXPECT_EQ(gt.condition, "x > 0");
  EXPECT_EQ(siteNamed(failing, "x stays under 10").firstFailure->left, 10);
  EXPECT_EQ(runViolationCount(), 4u);
}

TEST_F(AssertionKinds, NumericSometimesKindsNeedOneSuccess) {
  checkSometimesGt(100);
  checkSometimesGe(99);
  checkSometimesLt(-5);
  checkSometimesLe(-4);
  AssertionReport missing = collectAssertionReport();
  for (std::string_view m :
       {"x exceeds 100", "x reaches 100", "x drops below -5", "x drops to -5"}) {
    EXPECT_EQ(siteNamed(missing, m).status, SiteStatus::kNeverTrue) << m;
  }
  checkSometimesGt(101);
  checkSometimesGe(100);
  checkSometimesLt(-6);
  checkSometimesLe(-5);
  AssertionReport found = collectAssertionReport();
  for (std::string_view m :
       {"x exceeds 100", "x reaches 100", "x drops below -5", "x drops to -5"}) {
    EXPECT_EQ(siteNamed(found, m).status, SiteStatus::kPass) << m;
  }
  EXPECT_EQ(runViolationCount(), 0u);
}

TEST_F(AssertionKinds, SometimesAllAndAlwaysSome) {
  checkSometimesAll(true, false, true);
  checkAlwaysSome(false, true);
  AssertionReport partial = collectAssertionReport();
  EXPECT_EQ(siteNamed(partial, "a, b and c at once").status, SiteStatus::kNeverTrue);
  EXPECT_EQ(siteNamed(partial, "a or b").status, SiteStatus::kPass);
  checkSometimesAll(true, true, true);
  checkAlwaysSome(false, false);
  AssertionReport done = collectAssertionReport();
  EXPECT_EQ(siteNamed(done, "a, b and c at once").status, SiteStatus::kPass);
  EXPECT_EQ(siteNamed(done, "a, b and c at once").arity, 3u);
  EXPECT_EQ(siteNamed(done, "a or b").status, SiteStatus::kFail);
  EXPECT_EQ(siteNamed(done, "a or b").condition, "a, b");
  EXPECT_EQ(runViolationCount(), 1u);
}

TEST_F(AssertionKinds, SometimesEachNeedsToBeReached) {
  EXPECT_EQ(siteNamed(collectAssertionReport(), "each node is seen").status,
            SiteStatus::kNeverReached);
  checkEach(3);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "each node is seen").status, SiteStatus::kPass);
}

TEST_F(AssertionKinds, CatalogListsSitesThatNeverRan) {
  const std::span<const AssertionSite> catalog = assertionCatalog();
  auto inCatalog = [&](std::string_view message) {
    return std::any_of(catalog.begin(), catalog.end(),
                       [&](const AssertionSite& s) { return message == s.message; });
  };
  EXPECT_TRUE(inCatalog("a sometimes nobody calls"));
  EXPECT_TRUE(inCatalog("a reachable nobody calls"));
  AssertionReport report = collectAssertionReport();
  const SiteResult& never = siteNamed(report, "a sometimes nobody calls");
  EXPECT_EQ(never.status, SiteStatus::kNeverReached);
  EXPECT_EQ(never.hits, 0u);
  EXPECT_NE(never.file.find("kinds_test.cpp"), std::string::npos);
  EXPECT_EQ(never.function.find("neverCalled") != std::string::npos, true);
  EXPECT_EQ(siteNamed(report, "an unreachable nobody calls").status, SiteStatus::kPass);
}

TEST_F(AssertionKinds, ContractValidationNamesEachBreach) {
  checkAlways(-1);
  markUnreachable();
  checkSometimes(0);
  std::vector<ContractBreach> breaches = validateContracts(collectAssertionReport());
  auto find = [&](std::string_view message) -> const ContractBreach* {
    for (const ContractBreach& b : breaches) {
      if (b.message == message) return &b;
    }
    return nullptr;
  };
  ASSERT_NE(find("x is never negative"), nullptr);
  EXPECT_EQ(find("x is never negative")->breach, BreachKind::kAlwaysViolated);
  EXPECT_EQ(find("x is never negative")->summary,
            "failed 1 of 1 evaluation; first at evaluation 1");
  ASSERT_NE(find("the unreachable point"), nullptr);
  EXPECT_EQ(find("the unreachable point")->breach, BreachKind::kUnreachableReached);
  ASSERT_NE(find("x is sometimes 7"), nullptr);
  EXPECT_EQ(find("x is sometimes 7")->breach, BreachKind::kNeverTrue);
  ASSERT_NE(find("the reachable point"), nullptr);
  EXPECT_EQ(find("the reachable point")->breach, BreachKind::kNeverReached);
  EXPECT_GT(find("the reachable point")->line, 0u);
  EXPECT_EQ(find("x avoids 13 when checked"), nullptr);  // unreached, allowed
  EXPECT_TRUE(isDefiniteBug(BreachKind::kAlwaysViolated));
  EXPECT_FALSE(isDefiniteBug(BreachKind::kNeverTrue));
}

TEST_F(AssertionKinds, ReportOrderIsByFileLineMessage) {
  AssertionReport report = collectAssertionReport();
  ASSERT_GT(report.sites.size(), 10u);
  for (std::size_t i = 1; i < report.sites.size(); ++i) {
    const SiteResult& a = report.sites[i - 1];
    const SiteResult& b = report.sites[i];
    EXPECT_LE(std::tie(a.file, a.line, a.column, a.message),
              std::tie(b.file, b.line, b.column, b.message));
  }
}

}  // namespace
}  // namespace moonpool
