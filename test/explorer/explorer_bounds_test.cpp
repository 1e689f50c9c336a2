// The explorer's bounds, without a simulation. Goal: a forked timeline in an infinite loop is
// killed by the wall-clock watchdog and reported as a hang with a recipe that replays to the
// loop; marks beyond the 4,096-entry budget table are counted and never fork; the watchdog
// knob is validated. Method: a counted xorshift stream wired through RngHooks (the reseed-at-
// next-draw contract), a ladder whose top either loops forever or is recorded in a replay.
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {
namespace {

struct Point {
  std::uint64_t count;
  std::uint64_t seed;
};

// A counted stream; reseed points apply lazily, at the next draw (as in the simulation).
struct CountedRng {
  std::uint64_t state = 1;
  std::uint64_t calls = 0;
  std::vector<Point> points{};  // armed, in order
  std::size_t next = 0;

  std::uint64_t draw() {
    while (next < points.size() && calls == points[next].count) {
      state = points[next].seed | 1;
      calls = 0;
      ++next;
    }
    ++calls;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  bool chance(double p) { return static_cast<double>(draw() >> 11) * 0x1.0p-53 < p; }
};

std::uint64_t callCount(void* context) {
  auto* rng = static_cast<CountedRng*>(context);
  return rng->next < rng->points.size() ? 0 : rng->calls;
}

std::uint64_t reseed(void* context, std::uint64_t seed) {
  auto* rng = static_cast<CountedRng*>(context);
  const std::uint64_t count = callCount(context);
  rng->points.push_back(Point{count, seed});
  return count;
}

// The ladder: rungs passed with some chance, each first one a discovery. At the top a forked
// timeline loops forever (the hang under test); a replay (no explorer) returns true there.
bool climb(CountedRng& rng, bool exploring) {
  int best = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    int rung = 0;
    while (rung < 3 && rng.chance(0.2)) {
      ++rung;
      if (rung <= best) continue;
      best = rung;
      if (exploring) discovery(0x2000u + static_cast<std::uint64_t>(rung), 0x2000u + rung);
    }
    if (rung < 3) continue;
    if (!exploring) return true;
    if (inChild()) {
      volatile std::uint64_t spin = 0;
      for (;;) spin = spin + 1;  // the hang: only the watchdog ends it
    }
  }
  return false;
}

class ExplorerBoundsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (active()) stop();
  }
};

TEST_F(ExplorerBoundsTest, AHungTimelineIsKilledAndReportedWithAReplayableRecipe) {
  char error[256] = {};
  ASSERT_TRUE(start(Config{.energyPerSeed = 400,
                           .depthMax = 8,
                           .mode = EnergyMode::kFixed,
                           .timelinesPerSplit = 4,
                           .bugs = BugPolicy::kStopAtFirst,
                           .timelineWallMsMax = 200},
                    error, sizeof error))
      << error;
  std::uint64_t seed = 1;
  const Bug* bug = nullptr;
  for (; seed <= 20 && bug == nullptr; ++seed) {
    CountedRng rng{.state = seed * 2654435761u + 1};
    beginSeed(seed, RngHooks{.callCount = &callCount, .reseed = &reseed, .context = &rng});
    climb(rng, /*exploring=*/true);
    if (inChild()) endChildTimeline(TimelineEnd::kPass, "");
    endSeed();
    bug = firstBug();
  }
  ASSERT_NE(bug, nullptr) << "no timeline reached the looping top in 20 seeds";
  EXPECT_EQ(bug->end, TimelineEnd::kLiveness);
  EXPECT_EQ(bug->signal, 0);
  EXPECT_NE(std::strstr(bug->message, "hang"), nullptr) << bug->message;
  EXPECT_NE(std::strstr(bug->message, "200 ms"), nullptr) << bug->message;
  EXPECT_GE(seedStats().hangs, 1u);  // siblings already running may loop too
  ASSERT_GE(bug->recipe.length, 1u);

  // The recipe, printed and parsed back, replays in one process to the looping top.
  char text[4096] = {};
  ASSERT_LT(formatRecipe(bug->recipe, text, sizeof text), sizeof text);
  Recipe parsed;
  ASSERT_TRUE(parseRecipe(text, parsed, error, sizeof error)) << error;
  CountedRng replay{.state = parsed.rootSeed * 2654435761u + 1};
  for (std::uint32_t i = 0; i < parsed.length; ++i) {
    replay.points.push_back(Point{parsed.steps[i].count, parsed.steps[i].seed});
  }
  EXPECT_TRUE(climb(replay, /*exploring=*/false)) << "recipe " << text;
}

TEST_F(ExplorerBoundsTest, MarksBeyondTheBudgetTableAreCountedAndNeverFork) {
  char error[256] = {};
  // No mark has a budget of its own and the pool starts empty: a split may only fork if the
  // table has no entry for its mark, which would be a fork outside every budget.
  ASSERT_TRUE(start(Config{.energyPerSeed = 100'000,
                           .depthMax = 4,
                           .mode = EnergyMode::kAdaptive,
                           .adaptive = {.batch = 1, .timelinesMin = 1, .timelinesMax = 1,
                                        .perMarkEnergy = 0}},
                    error, sizeof error))
      << error;
  CountedRng rng;
  beginSeed(7, RngHooks{.callCount = &callCount, .reseed = &reseed, .context = &rng});
  constexpr std::uint64_t kBeyond = 100;
  for (std::uint64_t i = 0; i < kMarksMax + kBeyond; ++i) {
    rng.draw();
    discovery(0x10000 + i * 2, i);  // distinct marks (made odd by the explorer)
  }
  EXPECT_FALSE(inChild());
  endSeed();
  const Stats stats = seedStats();
  EXPECT_EQ(stats.markOverflows, kBeyond);
  EXPECT_EQ(stats.timelines, 0u);
}

TEST_F(ExplorerBoundsTest, TheWatchdogKnobIsBounded) {
  char error[256] = {};
  Config config;
  config.timelineWallMsMax = kTimelineWallMsMax + 1;
  EXPECT_FALSE(validate(config, error, sizeof error));
  EXPECT_NE(std::string(error).find("timelineWallMsMax"), std::string::npos) << error;
  config.timelineWallMsMax = 0;  // no watchdog
  EXPECT_TRUE(validate(config, error, sizeof error)) << error;
  config.respawnDepth = kDepthMax + 1;
  EXPECT_FALSE(validate(config, error, sizeof error));
  EXPECT_NE(std::string(error).find("respawnDepth"), std::string::npos) << error;
}

}  // namespace
}  // namespace moonpool::explorer
