// The dungeon: a roguelike whose treasure on the last floor is a planted bug, for the
// explorer (examples/, public to the example's tests and benchmarks). See dungeon.cpp for the
// odds and the exploration settings.
//
//   SimulationBuilder builder = dungeon::makeDungeonBuilder(dungeon::DungeonOptions{});
//   builder.explore(dungeon::dungeonExploration());   // what dungeon_sim runs
//
// One workload ("hero") walks down kFloors floors, one step per simulated `stepGap`, at most
// `stepsMax` steps per seed. Each step is one draw of the counted main stream:
//   - a key (probability `key`): the door to the next floor opens; on the last floor the
//     "key" is the treasure chest;
//   - a monster (monsterBase + monsterPerFloor * floor): a second draw picks its damage,
//     1 .. 2 + floor / 2 health; at 0 health the hero dies and the seed's walk ends;
//   - a potion (`potion`): `potionHeal` health back, at most `healthMax`;
//   - else an empty corridor.
// Progress visible to the explorer:
//   MOONPOOL_SOMETIMES_EACH_QUALITY("hero health on floor", health, floor)  on entering the
//     dungeon and after each key or potion: a new floor, or more health on a floor than any
//     timeline had there, is a discovery;
//   MOONPOOL_SOMETIMES_GE(floor, kFloors, "deepest floor reached")  the deepest floor.
// The planted bug: MOONPOOL_UNREACHABLE("treasure on floor 8 reached").
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/random.h"
#include "moonpool/runner/builder.h"

namespace moonpool::examples::dungeon {

inline constexpr int kFloors = 8;
inline constexpr std::int64_t kStepsMax = 100'000;
inline constexpr int kHealthMax = 1'000;

struct DungeonOptions {
  std::int64_t stepsMax = 300;
  int healthMax = 10;  // the hero starts at full health
  Probability key{0.03};
  double monsterBase = 0.30;      // monster probability on floor f: base + perFloor * f
  double monsterPerFloor = 0.06;  // (on every floor, key + monster + potion <= 1)
  Probability potion{0.02};
  int potionHeal = 3;
  Duration stepGap = std::chrono::seconds(1);
};

// Checks the options: stepsMax in [1, kStepsMax], healthMax in [1, kHealthMax], potionHeal
// in [0, healthMax], monster probabilities in [0, 1] that fit with key and potion in one
// draw on every floor, stepGap >= 0. InvalidArgument names the first bad field.
absl::Status validateOptions(const DungeonOptions& options);

// The dungeon simulation (no exploration configured: plain seeds unless explore() is called).
// The options must pass validateOptions (checked).
SimulationBuilder makeDungeonBuilder(DungeonOptions options);

// The exploration dungeon_sim runs (dungeon.cpp explains the figures).
explorer::Config dungeonExploration();

// The number of seeds dungeon_sim explores by default (coverage carries over between them).
inline constexpr std::uint64_t kDungeonSeeds = 3;

}  // namespace moonpool::examples::dungeon
