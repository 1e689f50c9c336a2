// Goal: random streams are reproducible from their seed, independent by name, counted on
// the main stream, unbiased in bounded draws, and reseedable (the explorer's hook).
// Method: compare sequences; chi-square style bounds on bucket counts over many draws.
#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <vector>

#include "moonpool/random.h"
#include "moonpool/sim/simulation.h"

namespace moonpool {
namespace {

TEST(RandomTest, SameSeedSameSequence) {
  RandomStream a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, DerivedStreamsAreIndependentOfEachOtherAndOfTheMainCount) {
  SimRandomProvider random(7);
  RandomStream swarm = random.derive("swarm");
  RandomStream swarmAgain = random.derive("swarm");
  RandomStream other = random.derive("other");
  EXPECT_EQ(swarm.next(), swarmAgain.next());
  EXPECT_NE(random.derive("swarm").next(), other.next());
  EXPECT_EQ(random.callCount(), 0u) << "derived draws are uncounted";
}

TEST(RandomTest, MainStreamCountsEveryDrawAndReseeds) {
  SimRandomProvider random(7);
  (void)random.nextU64();
  (void)random.below(10);
  (void)random.unit();
  EXPECT_GE(random.callCount(), 3u);
  random.reseed(99);
  EXPECT_EQ(random.callCount(), 0u);
  std::uint64_t first = random.nextU64();
  SimRandomProvider other(1);
  other.reseed(99);
  EXPECT_EQ(first, other.nextU64()) << "reseeding fully determines the stream";
}

TEST(RandomTest, BelowIsUniform) {
  SimRandomProvider random(11);
  constexpr int kBuckets = 7;
  constexpr int kDraws = 70'000;
  std::array<int, kBuckets> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[random.below(kBuckets)];
  for (int c : counts) {
    EXPECT_GT(c, kDraws / kBuckets * 95 / 100);
    EXPECT_LT(c, kDraws / kBuckets * 105 / 100);
  }
}

TEST(RandomTest, RangesAndChance) {
  SimRandomProvider random(12);
  for (int i = 0; i < 1000; ++i) {
    std::int64_t v = random.between(-5, 5);
    EXPECT_GE(v, -5);
    EXPECT_LT(v, 5);
    double u = random.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  int hits = 0;
  for (int i = 0; i < 10'000; ++i) hits += random.chance(Probability(0.25)) ? 1 : 0;
  EXPECT_NEAR(hits, 2500, 200);
  EXPECT_FALSE(random.chance(Probability(0.0)));
  EXPECT_TRUE(random.chance(Probability(1.0)));
}

// durationIn replays exactly as the lo/hi pairs it replaced: one durationBetween draw, or
// none for an empty range.
TEST(RandomTest, DurationInDrawsAsDurationBetweenAndNothingForAPoint) {
  using std::chrono::milliseconds;
  SimRandomProvider a(13), b(13);
  const DurationRange range{milliseconds(5), milliseconds(50)};
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.durationIn(range), b.durationBetween(range.min, range.max));
  }
  const std::uint64_t before = a.callCount();
  EXPECT_EQ(a.durationIn({milliseconds(7), milliseconds(7)}), milliseconds(7));
  EXPECT_EQ(a.callCount(), before) << "a point range draws nothing";
  EXPECT_TRUE(range.valid());
  EXPECT_FALSE((DurationRange{milliseconds(2), milliseconds(1)}.valid()));
  EXPECT_FALSE((DurationRange{milliseconds(-1), milliseconds(1)}.valid()));
}

TEST(RandomTest, ShuffleIsAPermutation) {
  SimRandomProvider random(13);
  std::vector<int> v(50);
  std::iota(v.begin(), v.end(), 0);
  std::vector<int> shuffled = v;
  random.shuffle(std::span<int>(shuffled));
  EXPECT_NE(shuffled, v);
  std::sort(shuffled.begin(), shuffled.end());
  EXPECT_EQ(shuffled, v);
}

TEST(RandomTest, DeriveSeedDependsOnNameAndSeed) {
  EXPECT_NE(deriveSeed(1, "a"), deriveSeed(1, "b"));
  EXPECT_NE(deriveSeed(1, "a"), deriveSeed(2, "a"));
  EXPECT_EQ(deriveSeed(1, "a"), deriveSeed(1, "a"));
}

TEST(RandomTest, ReseedPointsArmedLiveAndUpFrontGiveTheSameStream) {
  // Live (a forked timeline): draws, then two points armed before the next draw.
  SimRandomProvider live(21);
  std::vector<std::uint64_t> a;
  for (int i = 0; i < 5; ++i) a.push_back(live.nextU64());
  EXPECT_EQ(live.countForReseed(), 5u);
  EXPECT_EQ(live.reseedAtNextDraw(100), 5u);
  EXPECT_EQ(live.countForReseed(), 0u) << "an armed point that has not taken effect counts as 0";
  EXPECT_EQ(live.reseedAtNextDraw(200), 0u) << "a second point follows at the same draw";
  EXPECT_EQ(live.reseedsApplied(), 0u) << "points take effect at a draw, not when armed";
  for (int i = 0; i < 3; ++i) a.push_back(live.nextU64());
  EXPECT_EQ(live.reseedsApplied(), 2u);
  EXPECT_EQ(live.callCount(), 3u);
  EXPECT_EQ(live.reseedAtNextDraw(300), 3u);
  for (int i = 0; i < 3; ++i) a.push_back(live.nextU64());

  // Up front (a replay): the recorded points.
  SimRandomProvider replay(21);
  replay.setReseedPoints({{5, 100}, {0, 200}, {3, 300}});
  std::vector<std::uint64_t> b;
  for (int i = 0; i < 11; ++i) b.push_back(replay.nextU64());
  EXPECT_EQ(a, b);
  EXPECT_EQ(replay.reseedsApplied(), 3u);

  // And the stream after a point is the child seed's own, not the parent's.
  SimRandomProvider parent(21);
  for (int i = 0; i < 6; ++i) (void)parent.nextU64();
  EXPECT_NE(parent.nextU64(), a[6]);
}

}  // namespace
}  // namespace moonpool
