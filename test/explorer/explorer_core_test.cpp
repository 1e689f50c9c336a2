// The explorer library on its own, without a simulation. Goal: splits fork, children reseed
// and carry on, energy bounds hold, bugs (including signals) come back with a recipe,
// parallel timelines are bounded, nothing is left behind. Method: a "ladder" driven by a
// counted xorshift stream wired through RngHooks; each rung passed is a discovery; the top is
// the bug. Children run the rest of the ladder and end through endChildTimeline.
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer {
namespace {

// A counted stream with the reseed-at-next-draw contract of RngHooks.
struct CountedRng {
  std::uint64_t state = 1;
  std::uint64_t calls = 0;
  bool pending = false;
  std::uint64_t pendingSeed = 0;

  std::uint64_t next() {
    if (pending) {
      state = pendingSeed | 1;
      calls = 0;
      pending = false;
    }
    ++calls;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

std::uint64_t callCount(void* context) {
  auto* rng = static_cast<CountedRng*>(context);
  return rng->pending ? 0 : rng->calls;
}

std::uint64_t reseed(void* context, std::uint64_t seed) {
  auto* rng = static_cast<CountedRng*>(context);
  const std::uint64_t count = rng->pending ? 0 : rng->calls;
  rng->pending = true;
  rng->pendingSeed = seed;
  return count;
}

enum class Top : std::uint8_t { kCorrectness, kSignal, kExitWithoutEnding, kPass };

struct Ladder {
  int rungs = 4;
  double chance = 0.1;
  int attempts = 20;
  Top top = Top::kCorrectness;
  // Optional: each child counts itself as computing here while it "works" for workUs.
  std::atomic<int>* running = nullptr;
  std::atomic<int>* runningMax = nullptr;
  int workUs = 0;
};

void work(const Ladder& ladder) {
  if (ladder.running == nullptr || !inChild()) return;
  const int now = ladder.running->fetch_add(1) + 1;
  int seen = ladder.runningMax->load();
  while (now > seen && !ladder.runningMax->compare_exchange_weak(seen, now)) {
  }
  usleep(static_cast<useconds_t>(ladder.workUs));
  ladder.running->fetch_sub(1);
}

// Runs one root seed of the ladder; returns the root's stats.
Stats runLadder(std::uint64_t seed, const Ladder& ladder) {
  CountedRng rng{.state = seed * 2654435761u + 1};
  beginSeed(seed, RngHooks{.callCount = &callCount, .reseed = &reseed, .context = &rng});
  int best = 0;  // a discovery is a rung this timeline never passed before
  for (int attempt = 0; attempt < ladder.attempts; ++attempt) {
    int rung = 0;
    while (rung < ladder.rungs && rng.chance(ladder.chance)) {
      ++rung;
      if (rung <= best) continue;
      best = rung;
      const auto mark = 0x1000u + static_cast<std::uint64_t>(rung);
      discovery(mark, mark);
      work(ladder);
    }
    if (rung < ladder.rungs || !inChild()) continue;
    switch (ladder.top) {
      case Top::kCorrectness:
        endChildTimeline(TimelineEnd::kCorrectness, "reached the top");
      case Top::kSignal:
        std::raise(SIGSEGV);
        break;
      case Top::kExitWithoutEnding:
        _exit(0);
      case Top::kPass:
        break;
    }
  }
  if (inChild()) endChildTimeline(TimelineEnd::kPass, "");
  endSeed();
  return seedStats();
}

Config adaptive(std::uint64_t energy) {
  return Config{.energyPerSeed = energy,
                .depthMax = 16,
                .mode = EnergyMode::kAdaptive,
                .adaptive = {.batch = 10, .timelinesMin = 30, .timelinesMax = 60,
                             .perMarkEnergy = 200}};
}

// Zombie children of this process (state Z, ppid == getpid()).
int zombies() {
  int count = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' && ppid == getpid()) ++count;
  }
  closedir(proc);
  return count;
}

class ExplorerCoreTest : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }
  void startOrFail(const Config& config) {
    char error[256] = {};
    ASSERT_TRUE(start(config, error, sizeof error)) << error;
  }
};

TEST_F(ExplorerCoreTest, FindsTheTopAndRecordsARecipeOfItsForks) {
  startOrFail(adaptive(5000));
  const Stats stats = runLadder(7, Ladder{});
  ASSERT_NE(firstBug(), nullptr) << "4 rungs at 0.1 with 30+ children per rung";
  const Bug& bug = *firstBug();
  EXPECT_EQ(bug.end, TimelineEnd::kCorrectness);
  EXPECT_STREQ(bug.message, "reached the top");
  EXPECT_EQ(bug.recipe.rootSeed, 7u);
  EXPECT_EQ(bug.recipe.length, bug.depth);
  EXPECT_GE(bug.depth, 1u);
  EXPECT_LE(bug.timelinesBefore, stats.timelines);
  EXPECT_GT(stats.splits, 0u);
  EXPECT_GE(stats.bugs, 1u);
  EXPECT_LE(stats.timelines, 5000u);
  EXPECT_EQ(stats.signals, 0u);
  EXPECT_EQ(zombies(), 0);
}

TEST_F(ExplorerCoreTest, SequentialExplorationIsDeterministic) {
  startOrFail(adaptive(3000));
  const Stats first = runLadder(11, Ladder{});
  ASSERT_NE(firstBug(), nullptr);
  const Recipe recipe = firstBug()->recipe;
  stop();
  startOrFail(adaptive(3000));
  const Stats second = runLadder(11, Ladder{});
  ASSERT_NE(firstBug(), nullptr);
  EXPECT_EQ(first.timelines, second.timelines);
  EXPECT_EQ(first.splits, second.splits);
  EXPECT_EQ(first.bugs, second.bugs);
  ASSERT_EQ(firstBug()->recipe.length, recipe.length);
  for (std::uint32_t i = 0; i < recipe.length; ++i) {
    EXPECT_EQ(firstBug()->recipe.steps[i].count, recipe.steps[i].count);
    EXPECT_EQ(firstBug()->recipe.steps[i].seed, recipe.steps[i].seed);
  }
}

TEST_F(ExplorerCoreTest, FixedEnergyBoundsTheTimelines) {
  startOrFail(Config{.energyPerSeed = 25, .depthMax = 8, .mode = EnergyMode::kFixed,
                     .timelinesPerSplit = 4});
  const Stats stats = runLadder(3, Ladder{.rungs = 6, .chance = 0.5, .top = Top::kPass});
  EXPECT_EQ(stats.timelines + stats.energyLeft, 25u);
  EXPECT_LE(stats.timelines, 25u);
  EXPECT_GT(stats.timelines, 0u);
  EXPECT_EQ(firstBug(), nullptr);
}

TEST_F(ExplorerCoreTest, MaxDepthZeroNeverForks) {
  Config config = adaptive(1000);
  config.depthMax = 0;
  startOrFail(config);
  const Stats stats = runLadder(5, Ladder{.chance = 0.9});
  EXPECT_EQ(stats.timelines, 0u);
  EXPECT_EQ(stats.splits, 0u);
}

TEST_F(ExplorerCoreTest, ATimelineKilledByASignalIsABugWithItsRecipe) {
  startOrFail(adaptive(5000));
  const Stats stats = runLadder(7, Ladder{.top = Top::kSignal});
  ASSERT_NE(firstBug(), nullptr);
  // Under AddressSanitizer the SEGV is caught and reported, then the child aborts or exits
  // with ASan's status: still a crash, named by what ended it.
  const Bug& bug = *firstBug();
  EXPECT_EQ(bug.end, TimelineEnd::kCrash);
  EXPECT_EQ(bug.recipe.length, bug.depth);
  if (bug.signal != 0) {
    EXPECT_TRUE(bug.signal == SIGSEGV || bug.signal == SIGABRT) << bug.signal;
    EXPECT_NE(std::string(bug.message).find("signal " + std::to_string(bug.signal)),
              std::string::npos)
        << bug.message;
    EXPECT_GE(stats.signals, 1u);
  } else {
    EXPECT_NE(bug.exitStatus, 0) << bug.message;
  }
  EXPECT_EQ(zombies(), 0);
}

TEST_F(ExplorerCoreTest, ATimelineThatExitsWithoutEndingIsAnEnvironmentBug) {
  startOrFail(adaptive(5000));
  runLadder(7, Ladder{.top = Top::kExitWithoutEnding});
  ASSERT_NE(firstBug(), nullptr);
  EXPECT_EQ(firstBug()->end, TimelineEnd::kEnvironment);
  EXPECT_NE(std::string(firstBug()->message).find("without ending"), std::string::npos);
}

TEST_F(ExplorerCoreTest, StopAtFirstBugForksLess) {
  startOrFail(adaptive(5000));
  const Stats all = runLadder(7, Ladder{});
  stop();
  Config config = adaptive(5000);
  config.bugs = BugPolicy::kStopAtFirst;
  startOrFail(config);
  const Stats first = runLadder(7, Ladder{});
  ASSERT_NE(firstBug(), nullptr);
  // Timelines already running when the bug is found still end (some at the top too); no
  // new one is forked.
  EXPECT_LT(first.timelines, all.timelines);
  EXPECT_LT(first.bugs, all.bugs);
}

TEST_F(ExplorerCoreTest, ParallelismBoundsTheTimelinesComputingAtOnce) {
  for (const std::uint32_t parallelism : {1u, 2u, 3u}) {
    void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(shared, MAP_FAILED);
    auto* running = new (shared) std::atomic<int>(0);
    auto* runningMax = new (static_cast<char*>(shared) + 64) std::atomic<int>(0);
    startOrFail(Config{.energyPerSeed = 12, .depthMax = 2, .mode = EnergyMode::kFixed,
                       .timelinesPerSplit = 6, .parallelism = parallelism});
    const Stats stats = runLadder(9, Ladder{.rungs = 2, .chance = 0.9, .top = Top::kPass,
                                            .running = running, .runningMax = runningMax,
                                            .workUs = 50'000});
    EXPECT_EQ(stats.timelines, 12u);
    // Never more than the tokens; and siblings do overlap (a loaded machine may fork the
    // third child only after the first finished its 50 ms, so exactly `parallelism` is not
    // guaranteed beyond 2).
    EXPECT_LE(runningMax->load(), static_cast<int>(parallelism)) << "parallelism " << parallelism;
    EXPECT_GE(runningMax->load(), static_cast<int>(std::min(parallelism, 2u)))
        << "parallelism " << parallelism;
    EXPECT_EQ(running->load(), 0);
    EXPECT_EQ(zombies(), 0);
    stop();
    munmap(shared, 4096);
  }
}

TEST_F(ExplorerCoreTest, CoverageCarriesOverSeedsAndPerSeedStateResets) {
  startOrFail(adaptive(2000));
  const Stats first = runLadder(21, Ladder{.top = Top::kPass});
  const Stats second = runLadder(22, Ladder{.top = Top::kPass});
  EXPECT_GE(second.bitmapBits, first.bitmapBits) << "the explored map only grows";
  EXPECT_LE(second.timelines, 2000u) << "energy is per seed";
  EXPECT_EQ(firstBug(), nullptr);
}

TEST_F(ExplorerCoreTest, BadConfigurationsAndMisuseAreRefused) {
  const struct {
    Config config;
    const char* error;
  } cases[] = {
      {Config{.parallelism = 0}, "parallelism must be in [1, kParallelismMax (256)]"},
      {Config{.parallelism = 257}, "parallelism must be in"},
      {Config{.depthMax = 5000}, "depthMax must be at most kDepthMax"},
      {Config{.energyPerSeed = std::uint64_t{1} << 41}, "energyPerSeed must be at most 2^40"},
      {Config{.mode = EnergyMode::kFixed, .timelinesPerSplit = 0}, "timelinesPerSplit"},
      {Config{.adaptive = {.batch = 0}}, "adaptive.batch must be at least 1"},
      {Config{.adaptive = {.timelinesMin = 10, .timelinesMax = 5}}, "timelinesMin exceeds"},
  };
  for (const auto& c : cases) {
    char error[256] = {};
    EXPECT_FALSE(validate(c.config, error, sizeof error));
    EXPECT_NE(std::string(error).find(c.error), std::string::npos) << error;
    EXPECT_FALSE(start(c.config, error, sizeof error));
    EXPECT_FALSE(active());
  }
  startOrFail(Config{});
  char error[256] = {};
  EXPECT_FALSE(start(Config{}, error, sizeof error));
  EXPECT_STREQ(error, "the explorer is already started");
}

TEST_F(ExplorerCoreTest, DiscoveriesOutsideASeedAreIgnored) {
  discovery(1, 1);  // not started: nothing happens
  startOrFail(Config{});
  discovery(1, 1);  // started, no seed: nothing forks
  EXPECT_EQ(seedStats().timelines, 0u);
  EXPECT_FALSE(inChild());
}

}  // namespace
}  // namespace moonpool::explorer
