// One seed, with the runner's extras: exploration and replay (runtime/ runner layer, private).
#pragma once

#include <cstdint>

#include "exploration.h"
#include "moonpool/runner/runner.h"

namespace moonpool::internal {

struct SeedExtras {
  // Explore this seed: fork timelines at discoveries. A forked timeline never returns from
  // runSeedWith (it ends through endExploredTimeline).
  ExplorationSession* exploration = nullptr;
  // Replay this recipe (its root seed must be the seed run).
  const explorer::Recipe* replay = nullptr;
};

// One verdict: a seed whose own run passed but whose explored timelines found a bug fails
// (SeedFailure::kExplored, the bug's class and message as its reason).
void applyExploredVerdict(SeedResult& result);

SeedResult runSeedWith(const SimulationSpec& spec, std::uint64_t index, std::uint64_t seed,
                       Tracing tracing, const SeedExtras& extras);

}  // namespace moonpool::internal
