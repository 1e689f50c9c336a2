// The maze: a planted bug behind four locks of five gates each, for the explorer
// (examples/, public to the example's tests and benchmarks). See maze.cpp for the odds.
//
//   SimulationBuilder builder = maze::makeMazeBuilder(maze::MazeOptions{});
//   builder.explore(maze::mazeExploration());   // what maze_sim runs
//
// One workload ("walker") makes `rounds` rounds of attempts, one simulated `roundGap` apart.
// In a round it attempts every lock that is still closed and whose prerequisites are open
// (lock 1 needs lock 0; lock 3 needs locks 0 and 2). An attempt draws the lock's gates one
// after another from the counted main stream and stops at the first closed gate; passing
// all five opens the lock for the rest of the seed. Progress is visible to the explorer:
//   MOONPOOL_SOMETIMES_EACH("maze gate passed", lock, gate, locks open)  after every gate
//     passed;
//   MOONPOOL_SOMETIMES(open, "lock N opened")  once per lock and round.
// The planted bug: MOONPOOL_ALWAYS(!all open, "all 4 locks opened") fails once the last
// lock opens.
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/random.h"
#include "moonpool/runner/builder.h"

namespace moonpool::examples::maze {

inline constexpr int kLocks = 4;
inline constexpr int kGatesPerLock = 5;
inline constexpr std::int64_t kRoundsMax = 100'000;

struct MazeOptions {
  // Rounds of attempts per seed (every open-able lock is attempted once per round).
  std::int64_t rounds = 100;
  // Probability that one gate lets the walker through.
  Probability gate{0.05};
  // Simulated time between two rounds.
  Duration roundGap = std::chrono::milliseconds(100);
};

// Checks the options: rounds in [1, kRoundsMax], roundGap >= 0. InvalidArgument names the
// bad field.
absl::Status validateOptions(const MazeOptions& options);

// The maze simulation (no exploration configured: plain seeds unless explore() is called).
// The options must pass validateOptions (checked).
SimulationBuilder makeMazeBuilder(MazeOptions options);

// The exploration maze_sim runs: adaptive energy tuned so every seed tried finds the bug,
// after a few hundred timelines (maze.cpp gives the figures), stopping at the first bug.
explorer::Config mazeExploration();

// The number of seeds maze_sim explores by default (coverage carries over from the first).
inline constexpr std::uint64_t kMazeSeeds = 2;

}  // namespace moonpool::examples::maze
