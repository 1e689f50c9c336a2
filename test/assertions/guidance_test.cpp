// Goal: the guidance state (numeric watermarks, sometimes_all frontiers, sometimes_each
// buckets and quality) is tracked exactly, bucket overflow is counted and reported, and the
// discovery hook fires exactly on discoveries and never for invariant kinds.
// Method: sites in small functions are driven with chosen value sequences while a recording
// hook collects (message, kind, value) triples; the expected triples are spelled out.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "moonpool/assertions.h"
#include "moonpool/assertions/report.h"
#include "assertion_testing.h"

namespace moonpool {
namespace {

struct Seen {
  std::string message;
  DiscoveryKind kind;
  std::int64_t value;
  std::uint32_t bucket;
  bool operator==(const Seen&) const = default;
};

void recordDiscovery(const Discovery& discovery, void* context) {
  static_cast<std::vector<Seen>*>(context)->push_back(
      Seen{discovery.site->message, discovery.kind, discovery.value, discovery.bucket});
}

class Guidance : public FreshAssertionTable {
 protected:
  void SetUp() override {
    FreshAssertionTable::SetUp();
    setDiscoveryHook(&recordDiscovery, &seen_);
  }
  void TearDown() override { clearDiscoveryHook(); }

  std::vector<Seen> take() { return std::exchange(seen_, {}); }

  std::vector<Seen> seen_;
};

void queueDepth(int depth) { MOONPOOL_SOMETIMES_GE(depth, 10, "queue gets deep"); }
void latency(int ms) { MOONPOOL_SOMETIMES_LT(ms, 3, "latency gets low"); }
void budget(int used) { MOONPOOL_ALWAYS_LE(used, 100, "budget holds"); }
void quorum(bool a, bool b, bool c, bool d) {
  MOONPOOL_SOMETIMES_ALL("all four replicas agree", a, b, c, d);
}
void alwaysKinds(int x) {
  MOONPOOL_ALWAYS(x < 1000, "x bounded");
  MOONPOOL_ALWAYS_SOME("one of two", x > 0, x < 0);
}
void roleSeen(int node, int role) { MOONPOOL_SOMETIMES_EACH("node role", node, role); }
void scored(int node, int score) {
  MOONPOOL_SOMETIMES_EACH_QUALITY("node progress", score, node);
}
void manyKeys(int key) { MOONPOOL_SOMETIMES_EACH("many keys", key); }
void sometimesOnce(bool c) { MOONPOOL_SOMETIMES(c, "flag sometimes set"); }
void reach() { MOONPOOL_REACHABLE("reached point"); }

TEST_F(Guidance, SometimesAndReachableDiscoverOnlyTheFirstTime) {
  sometimesOnce(false);
  sometimesOnce(true);
  sometimesOnce(true);
  reach();
  reach();
  EXPECT_EQ(take(), (std::vector<Seen>{{"flag sometimes set", DiscoveryKind::kFirstTrue, 0, 0},
                                       {"reached point", DiscoveryKind::kFirstReached, 0, 0}}));
}

TEST_F(Guidance, RearmingRediscoversFirstsButKeepsWatermarksAndBuckets) {
  sometimesOnce(true);
  reach();
  roleSeen(1, 2);
  queueDepth(7);
  take();
  rearmDiscoveries();
  sometimesOnce(true);
  sometimesOnce(true);
  reach();
  roleSeen(1, 2);  // a known bucket: discovered again once after the re-arm
  roleSeen(1, 2);
  queueDepth(7);  // not an improvement: watermarks carry over
  queueDepth(8);
  EXPECT_EQ(take(), (std::vector<Seen>{{"flag sometimes set", DiscoveryKind::kFirstTrue, 0, 0},
                                       {"reached point", DiscoveryKind::kFirstReached, 0, 0},
                                       {"node role", DiscoveryKind::kNewBucket, 0, 0},
                                       {"queue gets deep", DiscoveryKind::kWatermark, 8, 0}}));
  const AssertionReport report = collectAssertionReport();
  const auto site = std::find_if(report.sites.begin(), report.sites.end(),
                                 [](const SiteResult& s) { return s.message == "node role"; });
  ASSERT_NE(site, report.sites.end());
  EXPECT_EQ(site->passes, 3u) << "counts are kept";
}

TEST_F(Guidance, NumericSometimesWatermarkImprovesAndDiscovers) {
  for (int depth : {3, 1, 5, 5, 9, 12, 11}) queueDepth(depth);
  std::vector<Seen> expected;
  for (int mark : {3, 5, 9, 12}) {
    expected.push_back({"queue gets deep", DiscoveryKind::kWatermark, mark, 0});
  }
  // 12 >= 10 holds for the first time right after its watermark.
  expected.insert(expected.end(), {"queue gets deep", DiscoveryKind::kFirstTrue, 0, 0});
  EXPECT_EQ(take(), expected);
  EXPECT_EQ(siteNamed(collectAssertionReport(), "queue gets deep").watermark, 12);

  for (int ms : {50, 70, 20, 2}) latency(ms);
  const SiteResult& low = siteNamed(collectAssertionReport(), "latency gets low");
  EXPECT_EQ(low.watermark, 2);  // minimized
  EXPECT_EQ(low.status, SiteStatus::kPass);
}

TEST_F(Guidance, NumericAlwaysKeepsClosestApproachWithoutDiscovering) {
  for (int used : {10, 80, 40}) budget(used);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(siteNamed(collectAssertionReport(), "budget holds").watermark, 80);
}

TEST_F(Guidance, FrontierRisesWithMostConditionsTrueAtOnce) {
  quorum(true, false, false, false);
  quorum(false, true, false, false);
  quorum(true, true, true, false);
  quorum(true, true, false, false);
  EXPECT_EQ(take(),
            (std::vector<Seen>{{"all four replicas agree", DiscoveryKind::kFrontier, 1, 0},
                               {"all four replicas agree", DiscoveryKind::kFrontier, 3, 0}}));
  const SiteResult& partial = siteNamed(collectAssertionReport(), "all four replicas agree");
  EXPECT_EQ(partial.frontier, 3u);
  EXPECT_EQ(partial.status, SiteStatus::kNeverTrue);
  quorum(true, true, true, true);
  EXPECT_EQ(take(),
            (std::vector<Seen>{{"all four replicas agree", DiscoveryKind::kFrontier, 4, 0}}));
  EXPECT_EQ(siteNamed(collectAssertionReport(), "all four replicas agree").status,
            SiteStatus::kPass);
}

TEST_F(Guidance, InvariantKindsNeverDiscover) {
  alwaysKinds(5);
  alwaysKinds(5000);
  alwaysKinds(0);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(runViolationCount(), 2u);
  EXPECT_EQ(assertionTableStats().discoveries, 0u);
}

TEST_F(Guidance, EachBucketPerIdentityCombination) {
  roleSeen(1, 0);
  roleSeen(2, 0);
  roleSeen(1, 0);
  roleSeen(1, 1);
  EXPECT_EQ(take(), (std::vector<Seen>{{"node role", DiscoveryKind::kNewBucket, 0, 0},
                                       {"node role", DiscoveryKind::kNewBucket, 0, 1},
                                       {"node role", DiscoveryKind::kNewBucket, 0, 2}}));
  const SiteResult& s = siteNamed(collectAssertionReport(), "node role");
  ASSERT_EQ(s.buckets.size(), 3u);
  // Sorted by keys, not by arrival.
  EXPECT_EQ(s.buckets[0].keys, (std::vector<std::int64_t>{1, 0}));
  EXPECT_EQ(s.buckets[0].hits, 2u);
  EXPECT_EQ(s.buckets[1].keys, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(s.buckets[2].keys, (std::vector<std::int64_t>{2, 0}));
  EXPECT_FALSE(s.buckets[0].quality.has_value());
  EXPECT_EQ(s.condition, "node, role");
  EXPECT_EQ(s.arity, 2u);
}

TEST_F(Guidance, BetterQualityIsADiscovery) {
  scored(7, 5);
  scored(7, 3);
  scored(7, 8);
  scored(7, 8);
  scored(9, 1);
  EXPECT_EQ(take(), (std::vector<Seen>{{"node progress", DiscoveryKind::kNewBucket, 5, 0},
                                       {"node progress", DiscoveryKind::kBetterQuality, 8, 0},
                                       {"node progress", DiscoveryKind::kNewBucket, 1, 1}}));
  const SiteResult& s = siteNamed(collectAssertionReport(), "node progress");
  ASSERT_EQ(s.buckets.size(), 2u);
  EXPECT_EQ(s.buckets[0].quality, 8);
  EXPECT_EQ(s.buckets[0].hits, 4u);
  EXPECT_EQ(s.buckets[1].quality, 1);
}

TEST_F(Guidance, BucketOverflowIsCountedAndReported) {
  const int extra = 5;
  for (int key = 0; key < static_cast<int>(kBucketsPerSiteMax) + extra; ++key) manyKeys(key);
  manyKeys(0);  // an existing bucket still counts
  EXPECT_EQ(take().size(), kBucketsPerSiteMax);
  AssertionReport report = collectAssertionReport();
  const SiteResult& s = siteNamed(report, "many keys");
  EXPECT_EQ(s.buckets.size(), kBucketsPerSiteMax);
  EXPECT_EQ(s.bucketOverflows, static_cast<std::uint64_t>(extra));
  EXPECT_EQ(s.status, SiteStatus::kBucketOverflow);
  EXPECT_EQ(s.buckets[0].hits, 2u);
  EXPECT_EQ(report.bucketOverflows, static_cast<std::uint64_t>(extra));
  std::vector<ContractBreach> breaches = validateContracts(report);
  auto it = std::find_if(breaches.begin(), breaches.end(),
                         [](const ContractBreach& b) { return b.message == "many keys"; });
  ASSERT_NE(it, breaches.end());
  EXPECT_EQ(it->breach, BreachKind::kBucketOverflow);
  EXPECT_NE(renderText(report).find("OVERFLOW: 5 evaluations lost"), std::string::npos);
}

TEST_F(Guidance, HookIsSetOnce) {
  EXPECT_DEATH(setDiscoveryHook(&recordDiscovery, nullptr), "already installed");
}

}  // namespace
}  // namespace moonpool
