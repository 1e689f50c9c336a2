// Goal: the counters region is one mmap sized from the catalog; reset returns every site to
// its start state between seeds; a MAP_SHARED region is written by a forked child and read
// by its parent, while a private one is not; records of one templated line merge.
// Method: drive sites, reset or fork, and compare reports and table stats. The fork test
// waits for the child and checks its exit status; the child only asserts and _exits.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "moonpool/assertions.h"
#include "moonpool/assertions/report.h"
#include "assertion_testing.h"

namespace moonpool {
namespace {

using Region = FreshAssertionTable;

void tick(int x) {
  MOONPOOL_ALWAYS(x != 3, "x is not 3");
  MOONPOOL_SOMETIMES_GT(x, 5, "x above 5");
  MOONPOOL_SOMETIMES_ALL("x odd and big", x % 2 == 1, x > 4);
  MOONPOOL_SOMETIMES_EACH_QUALITY("x by parity", x, x % 2);
}

template <typename T>
void typed(T value) {
  MOONPOOL_SOMETIMES(value > T{1}, "templated site");
}

int childWrites() {
  tick(7);
  tick(3);
  return runViolationCount() == 1 ? 0 : 1;
}

TEST_F(Region, SizedFromTheCatalog) {
  const AssertionTableStats stats = assertionTableStats();
  EXPECT_EQ(stats.siteCount, assertionCatalog().size());
  EXPECT_EQ(stats.bucketCount, kBucketsPerSiteMax);  // one sometimes_each site
  EXPECT_GE(stats.regionBytes, 128u * (1 + stats.siteCount + stats.bucketCount));
  EXPECT_EQ(stats.regionBytes % 4096, 0u);
  EXPECT_EQ(assertionTableSharing(), TableSharing::kPrivate);
}

TEST_F(Region, ResetClearsEverySiteBetweenSeeds) {
  tick(7);
  tick(3);
  AssertionReport dirty = collectAssertionReport();
  EXPECT_EQ(siteNamed(dirty, "x is not 3").fails, 1u);
  EXPECT_EQ(siteNamed(dirty, "x above 5").watermark, 7);
  EXPECT_EQ(siteNamed(dirty, "x odd and big").frontier, 2u);
  EXPECT_EQ(siteNamed(dirty, "x by parity").buckets.size(), 1u);
  EXPECT_EQ(runViolationCount(), 1u);

  resetAssertionTable();
  AssertionReport clean = collectAssertionReport();
  for (const SiteResult& s : clean.sites) {
    EXPECT_EQ(s.hits, 0u) << s.message;
    EXPECT_FALSE(s.watermark.has_value()) << s.message;
    EXPECT_FALSE(s.firstFailure.has_value()) << s.message;
    EXPECT_EQ(s.frontier, 0u) << s.message;
    EXPECT_TRUE(s.buckets.empty()) << s.message;
  }
  EXPECT_EQ(clean.violations, 0u);
  EXPECT_EQ(clean.discoveries, 0u);
  EXPECT_EQ(runViolationCount(), 0u);

  // A fresh seed rediscovers from scratch and gets the same verdicts as the first.
  tick(7);
  tick(3);
  AssertionReport again = collectAssertionReport();
  EXPECT_EQ(renderText(again), renderText(dirty));
}

TEST_F(Region, SharedRegionIsVisibleAcrossFork) {
  allocateAssertionTable(TableSharing::kShared);
  ASSERT_EQ(assertionTableSharing(), TableSharing::kShared);
  tick(1);  // the parent's own evaluation survives the remap
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(childWrites());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  AssertionReport report = collectAssertionReport();
  EXPECT_EQ(siteNamed(report, "x is not 3").hits, 3u);
  EXPECT_EQ(siteNamed(report, "x is not 3").fails, 1u);
  EXPECT_EQ(siteNamed(report, "x above 5").watermark, 7);
  EXPECT_EQ(siteNamed(report, "x above 5").status, SiteStatus::kPass);
  EXPECT_EQ(siteNamed(report, "x by parity").buckets.size(), 1u);
  EXPECT_EQ(siteNamed(report, "x by parity").buckets[0].quality, 7);
  EXPECT_EQ(report.violations, 1u);       // the child's, in the shared header
  EXPECT_EQ(runViolationCount(), 0u);      // ...but not this process's run

  resetAssertionTable();
  EXPECT_EQ(assertionTableSharing(), TableSharing::kShared);  // reset keeps the mapping
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x is not 3").hits, 0u);
}

TEST_F(Region, PrivateRegionIsCopiedOnFork) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(childWrites());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "x is not 3").hits, 0u);
}

TEST_F(Region, TemplateInstantiationsMergeIntoOneEntry) {
  typed<int>(0);
  typed<double>(2.0);
  AssertionReport report = collectAssertionReport();
  const auto count =
      std::count_if(report.sites.begin(), report.sites.end(),
                    [](const SiteResult& s) { return s.message == "templated site"; });
  EXPECT_EQ(count, 1);
  const SiteResult& s = siteNamed(report, "templated site");
  EXPECT_EQ(s.recordCount, 2u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.status, SiteStatus::kPass);
}

}  // namespace
}  // namespace moonpool
