// Seed sequences and stop rules of a run (runtime/ runner layer, private).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/assertions/report.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/builder.h"

namespace moonpool::internal {

// The seeds of a run by index: explicit seeds first, then first, first + 1, ... A replay
// (--seed) is a sequence of one.
class SeedSequence {
 public:
  SeedSequence(std::vector<std::uint64_t> explicitSeeds, std::uint64_t first)
      : explicit_(std::move(explicitSeeds)), first_(first) {}
  std::uint64_t at(std::uint64_t index) const;

 private:
  std::vector<std::uint64_t> explicit_;
  std::uint64_t first_;
};

// "assertion coverage (sites reached + sometimes held + buckets)".
std::string coverageSignalName();
// The current value of that signal, read from the (possibly shared) assertion table.
std::uint64_t coverageSignal();
// Its value for an assertion report (a merged one: runner/report_merge.h).
std::uint64_t coverageSignalOf(const AssertionReport& report);
// True when every sometimes/reachable site of the catalog has held once (vacuously true
// without any).
bool allSometimesFired();

// Decides, seed after seed, when one loop (the run, or one worker's share) stops.
class StopRule {
 public:
  StopRule(IterationControl control, const WallTimer& wall) : control_(control), wall_(wall) {}

  // Before running the seed at `index`: a reason to stop now, or nullopt.
  std::optional<std::string> before(std::uint64_t index) const;
  // After each seed: a reason to stop, or nullopt.
  std::optional<std::string> after();

 private:
  IterationControl control_;
  const WallTimer& wall_;
  std::optional<std::uint64_t> bestSignal_;
  std::uint64_t flatSeeds_ = 0;
};

}  // namespace moonpool::internal
