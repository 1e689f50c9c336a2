// Running seeds into a report: the collector that folds results in, the in-process loop
// and the forked workers (runtime/ runner layer, private). runner.cpp chooses which runs;
// portfolio.cpp alternates them inside one explored run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "iteration.h"
#include "live.h"
#include "moonpool/check.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/runner.h"
#include "report_totals.h"
#include "seed_run.h"

namespace moonpool::internal {

// Merges seeds into the report as they arrive (in completion order), streams failures and
// draws progress.
class Collector {
 public:
  Collector(RunReport& report, const RunOptions& options, const IterationControl& control,
            const WallTimer& wall)
      : report_(report), options_(options), wall_(wall), live_(report, options, control, wall) {}
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  void add(SeedResult seed) {
    MOONPOOL_CHECK(seed.verdict == SeedVerdict::kPass || !seed.message.empty(),
                   "a failing seed carries its reason");
    if (seed.failure == SeedFailure::kInterrupted) return;  // cut short: not a result
    noteFirstBug(seed);
    for (const auto& [kind, count] : seed.faultCounts) report_.faultCounts[kind] += count;
    for (const auto& [name, metric] : seed.metrics) mergeMetric(report_.metrics, name, metric);
    for (const BuggifySiteTotal& site : seed.buggify) addBuggifySite(buggify_, site);
    if (seed.exploration) {
      for (const auto& [kind, count] : seed.exploration->timelineFaults) {
        report_.faultCounts[kind] += count;
      }
      for (const auto& [name, metric] : seed.exploration->timelineMetrics) {
        mergeMetric(report_.metrics, name, metric);
      }
    }
    if (options_.onSeed) options_.onSeed(seed);
    report_.addSeed(seed);
    live_.seedDone(seed);
  }

  void tick() { live_.tick(); }
  // Whether a failing seed was collected (BugStop::kAtFirstBug ends the run on it).
  bool bugSeen() const { return report_.failedCount() > 0; }
  // Seeds added so far (interrupted ones are dropped, not added).
  std::uint64_t seedsAdded() const { return report_.seedCount(); }

  void finish() {
    live_.finish();
    report_.buggify.clear();
    for (auto& [key, site] : buggify_) report_.buggify.push_back(site);
    report_.sortSeeds();
  }

 private:

  // The run's wall time at its first bug: now for a plain failing seed, or where in its
  // explored root's run (which ends now) a timeline found it.
  void noteFirstBug(const SeedResult& seed) {
    if (report_.firstBugWall || seed.verdict == SeedVerdict::kPass) return;
    Duration at = wall_.elapsed();
    if (seed.failure == SeedFailure::kExplored && seed.exploration && seed.wall <= at) {
      at = at - seed.wall + seed.exploration->wallToBug;
    }
    report_.firstBugWall = at;
  }

  RunReport& report_;
  const RunOptions& options_;
  const WallTimer& wall_;
  LiveOutput live_;
  BuggifyTotals buggify_;
};

inline constexpr const char* kInterruptedReason = "interrupted (SIGINT/SIGTERM)";
inline constexpr const char* kStoppedAtFirstBugReason =
    "stopped at the first bug (--stop_at_first_bug)";

// Traces are kept for failing seeds, and for every seed of a single-seed replay.
void trimTrace(SeedResult& seed, const RunOptions& options);

// The in-process loop over indices start, start + stride, ...; returns the stop reason.
std::string runShare(const SimulationSpec& spec, const RunOptions& options,
                     const SeedSequence& seeds, StopRule& rule, std::uint64_t start,
                     std::uint64_t stride, const std::function<void(SeedResult)>& sink,
                     const std::function<void(std::uint64_t, std::uint64_t)>& begin,
                     const SeedExtras& extras = {});

// What every worker needs to run its share. The run's indices are those of its shard, base,
// base + step, ... (base 0, step 1 unsharded); from `start` (one of them: base unless a
// portfolio runs a batch), worker w runs every jobs-th of them from the w-th on.
struct ShareContext {
  const SimulationSpec& spec;
  const RunOptions& options;
  const SeedSequence& seeds;
  IterationControl control;
  const WallTimer& wall;
  std::uint64_t base = 0;
  std::uint64_t step = 1;
  std::uint64_t start = 0;

  std::uint64_t stride() const { return step * options.jobs; }
  std::uint64_t firstIndex(std::uint32_t worker) const { return start + step * worker; }
  std::uint32_t workerOf(std::uint64_t index) const {
    return static_cast<std::uint32_t>(((index - start) / step) % options.jobs);
  }
};

// Runs the share in options.jobs forked workers; reads every worker's stream to its end and
// reaps every worker; returns the stop reasons.
std::string runWorkers(const ShareContext& share, Collector& collector);

}  // namespace moonpool::internal
