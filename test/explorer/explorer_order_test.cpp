// SearchOrder::kFixed on its own, without a simulation. Goal: recipes as jobs merged in a fixed
// order give the same jobs, bugs and stats for any parallelism, also when the jobs end out of
// order; the bounds hold and are reported; a found bug's recipe replays in one process.
// Method: the ladder of explorer_core_test on a counted stream that also replays recipes
// (RngHooks::replay, segmentDraws, reseedApplied), so workers can be forked by the root and
// replay their prefix. Each rung passed for the first time on a timeline is a discovery.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {
namespace {

// A counted xorshift stream with the reseed-point contract of SimRandomProvider: a point
// (count, seed) takes effect before the draw that follows `count` draws of the segment.
struct ReplayRng {
  std::uint64_t state = 1;
  std::uint64_t calls = 0;
  RecipeStep points[kRecipeStepsMax] = {};
  std::uint32_t pointCount = 0;
  std::uint32_t nextPoint = 0;
  std::uint64_t applied = 0;

  std::uint64_t next() {
    const std::uint64_t before = applied;
    while (nextPoint < pointCount && calls == points[nextPoint].count) {
      state = points[nextPoint++].seed | 1;
      calls = 0;
      ++applied;
    }
    if (applied != before) reseedApplied(applied);
    ++calls;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

std::uint64_t callCount(void* context) {
  auto* rng = static_cast<ReplayRng*>(context);
  return rng->nextPoint < rng->pointCount ? 0 : rng->calls;
}

std::uint64_t reseed(void* context, std::uint64_t seed) {
  auto* rng = static_cast<ReplayRng*>(context);
  const std::uint64_t count = callCount(context);
  rng->points[rng->pointCount++] = RecipeStep{.count = count, .seed = seed};
  return count;
}

void replay(void* context, const RecipeStep* steps, std::uint32_t count) {
  auto* rng = static_cast<ReplayRng*>(context);
  std::memcpy(rng->points, steps, count * sizeof(RecipeStep));
  rng->pointCount = count;
  rng->nextPoint = 0;
}

std::uint64_t segmentDraws(void* context) { return static_cast<ReplayRng*>(context)->calls; }

RngHooks hooksFor(ReplayRng& rng) {
  return RngHooks{.callCount = &callCount, .reseed = &reseed, .context = &rng,
                  .replay = &replay, .segmentDraws = &segmentDraws};
}

enum class Top : std::uint8_t { kCorrectness, kHang, kPass };

struct Ladder {
  int rungs = 4;
  double chance = 0.1;
  int attempts = 20;
  Top top = Top::kCorrectness;
  int slowUs = 0;  // children whose seed is even take this long to end
  int extraCandidates = 0;  // distinct discoveries per timeline besides the rungs
  bool drawAtTop = false;   // one more draw at the top: its discovery has a future
};

// Climbs; true when the top was reached (in a process without the explorer, or the root).
bool climb(ReplayRng& rng, const Ladder& ladder) {
  int best = 0;  // a discovery is a rung this timeline never passed before
  for (int i = 0; i < ladder.extraCandidates; ++i) {
    const std::uint64_t mark = 0x9000u + static_cast<std::uint64_t>(i) + (rng.next() % 7) * 4096;
    discovery(mark, mark);
  }
  bool reached = false;
  for (int attempt = 0; attempt < ladder.attempts; ++attempt) {
    int rung = 0;
    while (rung < ladder.rungs && rng.chance(ladder.chance)) {
      ++rung;
      if (rung <= best) continue;
      best = rung;
      const auto mark = 0x1000u + static_cast<std::uint64_t>(rung);
      discovery(mark, mark);
    }
    if (rung < ladder.rungs) continue;
    reached = true;
    if (ladder.drawAtTop) rng.next();
    if (!inChild()) continue;
    if (ladder.top == Top::kHang) {
      for (;;) pause();
    }
    if (ladder.top == Top::kCorrectness) endChildTimeline(TimelineEnd::kCorrectness, "top");
  }
  if (inChild()) {
    if (ladder.slowUs > 0 && currentRecipe().length > 0 &&
        currentRecipe().steps[currentRecipe().length - 1].seed % 2 == 0) {
      usleep(static_cast<useconds_t>(ladder.slowUs));
    }
    endChildTimeline(TimelineEnd::kPass, "");
  }
  return reached;
}

Stats explore(std::uint64_t seed, const Ladder& ladder) {
  ReplayRng rng{.state = seed * 2654435761u + 1};
  beginSeed(seed, hooksFor(rng));
  climb(rng, ladder);
  endSeed();
  return seedStats();
}

// Replays `recipe` in this process (no explorer running): does it reach the top?
bool replayReachesTop(const Recipe& recipe, const Ladder& ladder) {
  ReplayRng rng{.state = recipe.rootSeed * 2654435761u + 1};
  replay(&rng, recipe.steps, recipe.length);
  return climb(rng, ladder);
}

Config fixedOrder(std::uint32_t parallelism, std::uint64_t energy = 3000) {
  return Config{.energyPerSeed = energy,
                .depthMax = 16,
                .mode = EnergyMode::kAdaptive,
                .adaptive = {.batch = 8, .timelinesMin = 16, .timelinesMax = 48,
                             .perMarkEnergy = 160},
                .parallelism = parallelism,
                .order = SearchOrder::kFixed};
}

// Everything a fixed-order seed must reproduce for any parallelism.
struct Outcome {
  Stats stats{};
  bool found = false;
  Bug bug{};
};

class ExplorerOrderTest : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }

  Outcome run(const Config& config, std::uint64_t seed, const Ladder& ladder) {
    char error[256] = {};
    EXPECT_TRUE(start(config, error, sizeof error)) << error;
    Outcome out;
    out.stats = explore(seed, ladder);
    if (const Bug* bug = firstBug()) {
      out.found = true;
      out.bug = *bug;
    }
    stop();
    return out;
  }

  // The same ladder and seed searched by forks (the fast order, no respawn) and as jobs
  // (the fixed order, 2 workers).
  struct BothOrders {
    Outcome forked;
    Outcome jobs;
  };
  BothOrders runBothOrders(std::uint64_t seed, const Ladder& ladder) {
    Config fast = fixedOrder(1);
    fast.order = SearchOrder::kFast;
    fast.respawnDepth = 0;
    BothOrders out;
    out.forked = run(fast, seed, ladder);
    out.jobs = run(fixedOrder(2), seed, ladder);
    return out;
  }

  static void expectSame(const Outcome& a, const Outcome& b, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(a.stats.timelines, b.stats.timelines);
    EXPECT_EQ(a.stats.splits, b.stats.splits);
    EXPECT_EQ(a.stats.productive, b.stats.productive);
    EXPECT_EQ(a.stats.bugs, b.stats.bugs);
    EXPECT_EQ(a.stats.energyLeft, b.stats.energyLeft);
    EXPECT_EQ(a.stats.poolLeft, b.stats.poolLeft);
    EXPECT_EQ(a.stats.barrenMarks, b.stats.barrenMarks);
    EXPECT_EQ(a.stats.markOverflows, b.stats.markOverflows);
    EXPECT_EQ(a.stats.candidateOverflows, b.stats.candidateOverflows);
    EXPECT_EQ(a.stats.jobOverflows, b.stats.jobOverflows);
    EXPECT_EQ(a.stats.depthReachedMax, b.stats.depthReachedMax);
    EXPECT_EQ(a.stats.bitmapBits, b.stats.bitmapBits);
    ASSERT_EQ(a.found, b.found);
    if (!a.found) return;
    EXPECT_EQ(a.bug.end, b.bug.end);
    EXPECT_STREQ(a.bug.message, b.bug.message);
    EXPECT_EQ(a.bug.depth, b.bug.depth);
    EXPECT_EQ(a.bug.timelinesBefore, b.bug.timelinesBefore);
    ASSERT_EQ(a.bug.recipe.length, b.bug.recipe.length);
    for (std::uint32_t i = 0; i < a.bug.recipe.length; ++i) {
      EXPECT_EQ(a.bug.recipe.steps[i].count, b.bug.recipe.steps[i].count) << "step " << i;
      EXPECT_EQ(a.bug.recipe.steps[i].seed, b.bug.recipe.steps[i].seed) << "step " << i;
    }
  }
};

TEST_F(ExplorerOrderTest, SameJobsBugsAndStatsForOneTwoAndThreeWorkers) {
  const Ladder ladder{.rungs = 5};
  const Outcome one = run(fixedOrder(1), 7, ladder);
  ASSERT_TRUE(one.found) << "5 rungs at 0.1: the fixed order climbs them";
  EXPECT_EQ(one.bug.end, TimelineEnd::kCorrectness);
  EXPECT_STREQ(one.bug.message, "top");
  EXPECT_GE(one.bug.depth, 1u);
  EXPECT_EQ(one.bug.recipe.length, one.bug.depth);
  EXPECT_GT(one.stats.splits, 0u);
  EXPECT_GT(one.stats.timelines, one.bug.timelinesBefore) << "the search goes on after it";
  EXPECT_TRUE(replayReachesTop(one.bug.recipe, ladder)) << "its recipe replays to the top";
  for (const std::uint32_t workers : {2u, 3u}) {
    const Outcome many = run(fixedOrder(workers), 7, ladder);
    expectSame(one, many, std::to_string(workers) + " workers");
    EXPECT_GE(many.stats.workersRun, many.stats.timelines) << "every merged job ran";
    std::printf("%u workers: critical path %.1f ms of %.1f ms of job CPU "
                "(1 worker: %.1f of %.1f)\n",
                workers, many.stats.criticalPathNs / 1e6, many.stats.jobsCpuNs / 1e6,
                one.stats.criticalPathNs / 1e6, one.stats.jobsCpuNs / 1e6);
  }
}

TEST_F(ExplorerOrderTest, JobsEndingOutOfOrderAreMergedInJobOrder) {
  // Children with an even seed take 20 ms to end, so with three workers later jobs end first
  // (and their results wait for their turn); stopping at the first bug makes the first
  // merged bug the only one the search records.
  const Ladder ladder{.rungs = 3, .chance = 0.15, .attempts = 12, .slowUs = 20'000};
  Config config = fixedOrder(1, 120);
  config.bugs = BugPolicy::kStopAtFirst;
  const Outcome one = run(config, 3, ladder);
  ASSERT_TRUE(one.found);
  config.parallelism = 3;
  const Outcome three = run(config, 3, ladder);
  expectSame(one, three, "3 workers, slow children");
}

// Timing must not leak into the search: many seeds, 1, 2, 3 and 64 workers, children with
// an even seed slow (results end out of order, wait for their turn, are dropped and rerun),
// and with 64 forkers on a few cores many workers start while the root's watchdog reads
// their slots. (It once read the clock before a worker stored its start and took the wrapped
// difference for hours: a worker starting meanwhile was killed as hung, a spurious bug.)
TEST_F(ExplorerOrderTest, ManySeedsAndWorkerCountsUnderTimingNoiseGiveOneSearch) {
  const Ladder ladder{.rungs = 4, .chance = 0.2, .attempts = 10, .slowUs = 300};
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const Outcome one = run(fixedOrder(1, 120), seed, ladder);
    EXPECT_EQ(one.stats.hangs, 0u) << "seed " << seed;
    for (const std::uint32_t workers : {2u, 3u, 64u}) {
      const Outcome many = run(fixedOrder(workers, 120), seed, ladder);
      expectSame(one, many, "seed " + std::to_string(seed) + ", " + std::to_string(workers) +
                                " workers");
      EXPECT_EQ(many.stats.hangs, 0u) << "seed " << seed << ", " << workers << " workers";
    }
  }
}

TEST_F(ExplorerOrderTest, CandidatesBeyondTheBoundAreCountedNotKept) {
  const Ladder ladder{.top = Top::kPass,
                      .extraCandidates = static_cast<int>(kCandidatesMax) + 40};
  const Outcome one = run(fixedOrder(1, 40), 5, ladder);
  // Every job records more candidates than a result slot keeps: each merged job drops them.
  EXPECT_GT(one.stats.candidateOverflows, 0u);
  EXPECT_GT(one.stats.timelines, 0u);
  EXPECT_LE(one.stats.timelines, 40u);
  const Outcome two = run(fixedOrder(2, 40), 5, ladder);
  expectSame(one, two, "2 workers");
}

TEST_F(ExplorerOrderTest, AHungWorkerIsKilledAndReportedWithItsRecipe) {
  const Ladder ladder{.rungs = 2, .chance = 0.3, .top = Top::kHang};
  Config config = fixedOrder(2, 200);
  config.timelineWallMsMax = 100;
  config.bugs = BugPolicy::kStopAtFirst;
  const Outcome out = run(config, 9, ladder);
  ASSERT_TRUE(out.found);
  EXPECT_EQ(out.bug.end, TimelineEnd::kLiveness);
  EXPECT_NE(std::string(out.bug.message).find("hang"), std::string::npos) << out.bug.message;
  EXPECT_GE(out.stats.hangs, 1u);
  EXPECT_TRUE(replayReachesTop(out.bug.recipe, ladder));
  int status = 0;
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1) << "no worker left behind";
}

TEST_F(ExplorerOrderTest, TheSearchIsDepthFirstAndSpendsItsEnergy) {
  const Ladder ladder{.rungs = 6, .chance = 0.3, .top = Top::kPass};
  const Outcome out = run(fixedOrder(2, 300), 11, ladder);
  EXPECT_FALSE(out.found);
  EXPECT_GE(out.stats.depthReachedMax, 2u) << "children of children were searched";
  EXPECT_EQ(out.stats.timelines + out.stats.energyLeft, 300u) << "one unit per merged job";
  EXPECT_EQ(out.stats.resultsDropped + out.stats.timelines + 1, out.stats.workersRun)
      << "every job ran once, job 0 too, plus each dropped result again";
}

// The ladder judges discoveries per timeline (a rung this timeline never passed), so the fixed
// order must be the sequential fork-based search itself: the same timelines, splits, bugs.
// (With the assertion table's discoveries the orders differ: README.md "Search order".)
TEST_F(ExplorerOrderTest, WithPerTimelineDiscoveriesItIsTheSequentialForkSearch) {
  // A draw after the top rung: the fixed order skips a discovery no draw follows (below).
  const Ladder ladder{.rungs = 5, .drawAtTop = true};
  for (const std::uint64_t seed : {1u, 4u, 7u, 8u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto [forked, jobs] = runBothOrders(seed, ladder);
    ASSERT_TRUE(forked.found && jobs.found);
    EXPECT_EQ(forked.stats.timelines, jobs.stats.timelines);
    EXPECT_EQ(forked.stats.splits, jobs.stats.splits);
    EXPECT_EQ(forked.stats.bugs, jobs.stats.bugs);
    EXPECT_EQ(forked.stats.barrenMarks, jobs.stats.barrenMarks);
    EXPECT_EQ(forked.stats.productive, jobs.stats.productive);
    EXPECT_EQ(forked.stats.energyLeft, jobs.stats.energyLeft);
    EXPECT_EQ(forked.stats.depthReachedMax, jobs.stats.depthReachedMax);
    EXPECT_EQ(forked.stats.bitmapBits, jobs.stats.bitmapBits);
    // Which bug is "first" differs: a forked parent settles a child after its subtree (the
    // deepest bug of a subtree comes first), the fixed order merges a child before it.
    EXPECT_TRUE(replayReachesTop(jobs.bug.recipe, ladder));
  }
}

// The top rung ends the timeline with no draw after its discovery: children forked there
// replay the parent to its end, their reseeds never take effect, and each is a copy of it
// (the same bug again). The fork search spends children on it; the fixed order does not.
TEST_F(ExplorerOrderTest, ADiscoveryNoDrawFollowsIsNotSplit) {
  const Ladder ladder{.rungs = 5};
  for (const std::uint64_t seed : {1u, 4u, 7u, 8u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto [forked, jobs] = runBothOrders(seed, ladder);
    ASSERT_TRUE(forked.found && jobs.found);
    EXPECT_TRUE(replayReachesTop(jobs.bug.recipe, ladder));
    EXPECT_LT(jobs.stats.timelines, forked.stats.timelines);
    EXPECT_LT(jobs.stats.splits, forked.stats.splits);
    EXPECT_LT(jobs.stats.bugs, forked.stats.bugs) << "the fork search found copies";
    EXPECT_EQ(jobs.stats.bitmapBits, forked.stats.bitmapBits) << "nothing new was skipped";
  }
}

TEST_F(ExplorerOrderTest, WithoutTheReplayHooksABeginSeedIsRefused) {
  char error[256] = {};
  ASSERT_TRUE(start(fixedOrder(1), error, sizeof error)) << error;
  ReplayRng rng;
  EXPECT_DEATH(beginSeed(1, RngHooks{.callCount = &callCount, .reseed = &reseed,
                                     .context = &rng}),
               "SearchOrder::kFixed needs the replay and segmentDraws hooks");
}

}  // namespace
}  // namespace moonpool::explorer
