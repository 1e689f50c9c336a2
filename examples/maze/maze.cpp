// The maze workload and its exploration settings (see maze.h).
//
// Why plain seeds never find the bug. An attempt opens a lock with probability
// g^5 = 0.05^5 = 3.1e-7 (five gates in a row). A seed makes R = 100 rounds, so a lock opens
// during a seed with probability at most R * g^5 = 3.1e-5, and all four (lock 1 only after
// lock 0, lock 3 only after locks 0 and 2) with probability below (R * g^5)^4 = 9.5e-19;
// the ordering only lowers it. A few hundred plain seeds find it with odds under 1e-15; a
// single attempt at all four (the Rust project's figure) is g^20 = 9.5e-27.
//
// Why exploration does. Every gate passed is a new SOMETIMES_EACH bucket (lock, gate, locks
// open), so the timeline that first passes it splits right there, and each child's very
// next draw of the main stream is the next gate: with p = 0.05, n children pass it with
// probability 1 - 0.95^n: 64 % for a batch of 20, 99.95 % for the minimum of 150 children a
// split gets before it may be judged barren. A chain that breaks cannot be resumed in that
// seed (the bucket is known, and reaching it again costs 0.05^k per attempt), so the
// minimum is what makes a seed reliable: with the Rust project's 60 (95.4 % per level, some
// twenty levels) one seed in twenty failed, with 100 still one in forty. Gate 0 of a lock
// needs no luck (5 % per round), and the number of open locks in the bucket gives the gates
// of a lock still closed a fresh chance each time another lock opens. The bug sits 20-30
// forks down (depthMax 40 leaves room). Sequential exploration is depth first: the first
// productive child explores its whole subtree before its siblings run, so the bug costs a
// few hundred timelines when the first chains hold, about 1,500 when one must be rescued.
// A warm second seed knows every bucket already: its splits are barren at once and it ends
// after warmTimelinesMin children per split.
//
// Settings (mazeExploration): adaptive {batch 20, min 150, max 300, per mark 1,500, warm
// 20}, 6,000 timelines per seed, depth 40, stop at the first bug, 2 seeds. Measured on seeds
// 1-20, one cold seed each (test/bench/exploration_bench --runs=20, release): sequential
// found 20 of 20, median 671 timelines to the bug, worst 1,496; two in parallel (closer to
// breadth first, and not deterministic) 20 of 20 in each of two runs, medians 1,513 and
// 1,659, worst 2,541. Edge coverage on or off changes nothing here (an edge is new exactly
// when a bucket is). 6,000 covers the worst seed seen with a 2.4x margin; a seed that finds
// nothing spends at most that.

#include "maze.h"

#include <array>
#include <string>

#include "moonpool/assertions.h"

namespace moonpool::examples::maze {
namespace {

// Prerequisites of each lock, as a bit mask of the locks that must be open first.
constexpr std::array<unsigned, kLocks> kPrerequisites = {0u, 1u << 0, 0u, (1u << 0) | (1u << 2)};
constexpr unsigned kAllOpen = (1u << kLocks) - 1;

struct WalkerState {
  unsigned open = 0;  // bit i: lock i is open
  std::int64_t attempts = 0;
};

bool attemptable(unsigned open, int lock) {
  const unsigned bit = 1u << lock;
  return (open & bit) == 0 && (open & kPrerequisites[lock]) == kPrerequisites[lock];
}

// One attempt at `lock`: its gates in order, each drawn from the counted main stream right
// after the previous gate's discovery (a forked child's first draw is the next gate).
// The number of open locks is part of the bucket: once another lock opens, the gates of a
// lock still closed are new ground again (a second chance for a gate chain that broke).
bool attemptLock(RandomProvider& random, Probability gate, int lock, unsigned open) {
  const int openCount = __builtin_popcount(open);
  for (int g = 0; g < kGatesPerLock; ++g) {
    if (!random.chance(gate)) return false;
    MOONPOOL_SOMETIMES_EACH("maze gate passed", lock, g, openCount);
  }
  return true;
}

// The per-lock progress markers: each is a discovery the first time its lock is open.
void markOpenLocks(unsigned open) {
  MOONPOOL_SOMETIMES((open & 1u) != 0, "lock 0 opened");
  MOONPOOL_SOMETIMES((open & 2u) != 0, "lock 1 opened");
  MOONPOOL_SOMETIMES((open & 4u) != 0, "lock 2 opened");
  MOONPOOL_SOMETIMES((open & 8u) != 0, "lock 3 opened");
  static_assert(kLocks == 4, "one marker per lock");
}

struct Walker {
  MazeOptions options;

  [[clang::coro_wrapper]] Task<void> operator()(WorkloadContext& ctx) const {
    return walk(ctx, options);
  }

  static Task<void> walk(WorkloadContext& ctx, MazeOptions options) {
    WalkerState& state = ctx.state<WalkerState>();
    RandomProvider& random = ctx.providers().random();
    for (std::int64_t round = 0; round < options.rounds; ++round) {
      for (int lock = 0; lock < kLocks; ++lock) {
        if (!attemptable(state.open, lock)) continue;
        ++state.attempts;
        if (attemptLock(random, options.gate, lock, state.open)) state.open |= 1u << lock;
      }
      markOpenLocks(state.open);
      // The planted bug: the maze was never meant to open completely.
      MOONPOOL_ALWAYS(state.open != kAllOpen, "all 4 locks opened");
      if (state.open == kAllOpen) break;
      co_await ctx.providers().time().sleep(options.roundGap);
    }
    ctx.addMetric("attempts", state.attempts);
    ctx.maxMetric("locks open", __builtin_popcount(state.open));
  }
};

}  // namespace

absl::Status validateOptions(const MazeOptions& options) {
  if (options.rounds < 1 || options.rounds > kRoundsMax) {
    return absl::InvalidArgumentError("maze rounds must be in [1, " + std::to_string(kRoundsMax) +
                                      "], got " + std::to_string(options.rounds));
  }
  if (options.roundGap < Duration::zero()) {
    return absl::InvalidArgumentError("maze roundGap must not be negative, got " +
                                      formatDuration(options.roundGap));
  }
  return absl::OkStatus();
}

SimulationBuilder makeMazeBuilder(MazeOptions options) {
  const absl::Status valid = validateOptions(options);
  MOONPOOL_CHECK(valid.ok(), std::string(valid.message()));
  SimulationBuilder builder("maze");
  builder.workload(Workload{.name = "walker", .run = Walker{options}});
  // A seed is rounds * roundGap of simulated time; anything far beyond is a hang.
  builder.guards(Guards{.simTimeBudget = options.roundGap * (options.rounds + 1) +
                                         std::chrono::minutes(1)});
  return builder;
}

explorer::Config mazeExploration() {
  return explorer::Config{
      .energyPerSeed = 6'000,
      .depthMax = 40,
      .mode = explorer::EnergyMode::kAdaptive,
      .adaptive = {.batch = 20,
                   .timelinesMin = 150,
                   .timelinesMax = 300,
                   .perMarkEnergy = 1'500,
                   .warmTimelinesMin = 20},
      .bugs = explorer::BugPolicy::kStopAtFirst,
  };
}

}  // namespace moonpool::examples::maze
