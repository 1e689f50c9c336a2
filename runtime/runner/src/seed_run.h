// One seed, with the runner's extras: exploration and replay (runtime/ runner layer, private).
#pragma once

#include <cstdint>
#include <string_view>

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

// Where a MOONPOOL_CHECK that fails in a plain seed's run hands its report before the
// process aborts (a forked worker: to its parent, which reports the seed with it). Null:
// stderr only. Per process; explored timelines end through the explorer instead.
using PlainCheckSink = void (*)(std::string_view report);
void setPlainCheckSink(PlainCheckSink sink);

SeedResult runSeedWith(const SimulationSpec& spec, std::uint64_t index, std::uint64_t seed,
                       Tracing tracing, const SeedExtras& extras);

}  // namespace moonpool::internal
