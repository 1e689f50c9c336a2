// A ladder under the runner: test support for the explorer's runner-level tests.
//
// The workload makes `attempts` climbs, one per simulated millisecond. A climb passes rung r
// with probability `rungChance` (a draw from the counted main stream) and stops at the first
// rung it misses; each rung passed is a sometimes_each bucket (a discovery: the explorer
// forks right there, so children retry the next rung with fresh draws). Reaching the top
// (all `rungs`) is the planted bug, in one of three forms: an always assertion failing, a
// crash (SIGSEGV raised by the workload), or a hang (the workload waits forever).
// With 6 rungs at 0.05, a climb reaches the top with probability 1.6e-8: plain seeds do not.
#pragma once

#include <cstdint>
#include <optional>

#include "moonpool/runner/builder.h"

namespace moonpool::explorer_testing {

enum class TopBug : std::uint8_t { kAssertion, kSegfault, kHang };

// Enough children per rung that a rung's 0.05 chance is taken with 95% odds (1 - 0.95^60).
inline explorer::Config ladderExploration() {
  return explorer::Config{.energyPerSeed = 20'000,
                          .depthMax = 16,
                          .mode = explorer::EnergyMode::kAdaptive,
                          .adaptive = {.batch = 20,
                                       .timelinesMin = 60,
                                       .timelinesMax = 120,
                                       .perMarkEnergy = 600}};
}

struct LadderOptions {
  std::int64_t rungs = 6;
  Probability rungChance{0.05};
  std::int64_t attempts = 30;
  TopBug bug = TopBug::kAssertion;
  // The builder explores with this config (nullopt: plain seeds unless --explore).
  std::optional<explorer::Config> exploration = ladderExploration();
};

SimulationBuilder ladderBuilder(LadderOptions options);

}  // namespace moonpool::explorer_testing
