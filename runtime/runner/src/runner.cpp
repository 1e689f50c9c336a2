// A run of many seeds: which loop runs them, and the report (see runner/runner.h). The
// loops are in seed_loop.cpp, one seed in seed_run.cpp.
#include "moonpool/runner/runner.h"

#include <utility>

#include "exploration.h"
#include "interrupt.h"
#include "iteration.h"
#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/executor.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/build_id.h"
#include "portfolio.h"
#include "report_util.h"
#include "seed_loop.h"
#include "seed_run.h"

namespace moonpool {
namespace {

using internal::Collector;
using internal::SeedSequence;
using internal::ShareContext;
using internal::StopRule;

std::uint64_t simulatedStamp() {
  Executor* executor = Executor::tryCurrent();
  return executor == nullptr
             ? 0
             : static_cast<std::uint64_t>(executor->now().time_since_epoch().count());
}

void checkSpec(const SimulationSpec& spec, const RunOptions& options) {
  MOONPOOL_CHECK(options.jobs >= 1 && options.jobs <= RunOptions::kJobsMax,
                 "jobs must be in [1, kJobsMax]");
  for (const ProcessGroup& group : spec.processes) {
    MOONPOOL_CHECK(static_cast<bool>(group.main), "a process group without main");
  }
  for (const Workload& w : spec.workloads) {
    MOONPOOL_CHECK(static_cast<bool>(w.run), "a workload without run()");
  }
}

RunReport skeleton(const SimulationSpec& spec, const RunOptions& options,
                   const IterationControl& control) {
  RunReport report;
  report.name = spec.name;
  report.buildId = buildId();
  report.command = options.command;
  report.reproFlags = options.reproFlags;
  report.reproTemplate = options.reproTemplate;
  report.replayTemplate = options.replayTemplate;
  const bool single = options.seed || options.replay;
  report.jobs = single ? 1 : options.jobs;
  if (!single) report.shard = options.shard;
  report.iteration =
      options.replay ? "replay of recipe " + internal::formatRecipe(*options.replay)
      : options.seed ? "replay of seed " + std::to_string(*options.seed)
                     : control.toString();
  report.coverage = options.coverage.value_or(single ? CoverageContracts::kReportOnly
                                                     : CoverageContracts::kEnforce);
  report.coverageSignal = internal::coverageSignalName();
  return report;
}

std::optional<explorer::Config> explorationOf(const SimulationSpec& spec,
                                              const RunOptions& options) {
  if (options.replay || options.explore == ExploreMode::kOff) return std::nullopt;
  if (options.exploration) return options.exploration;
  if (options.explore == ExploreMode::kOn) {
    return spec.exploration.value_or(spec.explorationOnRequest.value_or(explorer::Config{}));
  }
  return spec.exploration;
}

// Runs the seeds of an explored run in this process (the explorer forks its timelines), or
// under a portfolio (plain batches in workers, roots here). Returns the stop reason.
std::string runExplored(const SimulationSpec& spec, const RunOptions& options,
                        const explorer::Config& config, const IterationControl& control,
                        const SeedSequence& seeds, const WallTimer& wall, Collector& collector,
                        RunReport& report) {
  absl::StatusOr<std::unique_ptr<internal::ExplorationSession>> session =
      internal::ExplorationSession::open(config);
  MOONPOOL_CHECK(session.ok(), std::string(session.status().message()));
  const internal::SeedExtras extras{.exploration = session->get()};
  const auto sink = [&](SeedResult r) { collector.add(std::move(r)); };
  // The progress line moves while the root waits for its timelines.
  explorer::setWaitHook([](void* c) { static_cast<Collector*>(c)->tick(); }, &collector);
  std::string reason;
  if (options.seed) {
    sink(internal::runSeedWith(spec, 0, *options.seed, options.tracing, extras));
    reason = internal::interruptRequested() ? internal::kInterruptedReason : "single seed";
  } else if (options.portfolio) {
    ScheduleSplit split;
    reason = internal::runPortfolio(
        internal::PortfolioRun{spec, options, config, control, seeds, wall, collector, **session},
        split);
    report.schedule = split;
  } else {
    StopRule rule(control, wall);
    const Shard shard = options.shard.value_or(Shard{});
    reason = internal::runShare(spec, options, seeds, rule, shard.index, shard.count, sink,
                                nullptr, extras);
  }
  explorer::setWaitHook(nullptr, nullptr);
  internal::ExplorationSession::copyMaps(report);  // what a merge of shards unions
  return reason;
}

}  // namespace

RunReport runSimulation(const SimulationBuilder& builder, RunOptions options) {
  const SimulationSpec& spec = builder.spec();
  checkSpec(spec, options);
  setFailureStampSource(&simulatedStamp);
  // A report covers one run: counts start from zero (a shared mapping stays shared).
  resetAssertionTable();
  const IterationControl control = options.iteration.value_or(spec.effectiveIteration());
  const SeedSequence seeds(spec.seeds, options.firstSeed.value_or(spec.firstSeed));
  std::optional<explorer::Config> exploration = explorationOf(spec, options);
  if (exploration && options.bugStop == BugStop::kAtFirstBug) {
    exploration->bugs = explorer::BugPolicy::kStopAtFirst;
  }
  const Shard shard = options.shard.value_or(Shard{});
  MOONPOOL_CHECK(shard.count >= 1 && shard.count <= Shard::kCountMax && shard.index < shard.count,
                 "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count));
  RunReport report = skeleton(spec, options, control);
  std::optional<internal::InterruptHandlers> handlers;
  if (options.interrupts == Interrupts::kStopRun) handlers.emplace();
  WallTimer wall;
  // The progress line counts the shard's own seeds: indices below count with i % N == I.
  IterationControl shown = control;
  if (shard.count > 1 && shard.index < shown.count) {
    shown.count = (shown.count - shard.index + shard.count - 1) / shard.count;
  }
  Collector collector(report, options, shown, wall);
  if (options.replay) {
    const internal::SeedExtras extras{.replay = &*options.replay};
    collector.add(internal::runSeedWith(spec, 0, options.replay->rootSeed,
                                               options.tracing, extras));
    report.stopReason = "replay of one explored timeline";
  } else if (exploration) {
    report.explored = true;
    report.jobs = exploration->parallelism;
    report.edgeMode = internal::ExplorationSession::edgeMode();
    report.edgesTotal = internal::ExplorationSession::edgeCount();
    report.stopReason =
        runExplored(spec, options, *exploration, control, seeds, wall, collector, report);
  } else if (options.seed) {
    SeedResult result = runSeed(spec, 0, *options.seed, options.tracing);
    collector.add(std::move(result));
    report.stopReason = "single seed";
  } else if (options.jobs == 1 && options.isolation == SeedIsolation::kInProcess) {
    StopRule rule(control, wall);
    report.stopReason = internal::runShare(
        spec, options, seeds, rule, shard.index, shard.count,
        [&](SeedResult r) { collector.add(std::move(r)); }, nullptr);
  } else {
    const ShareContext share{spec,        options,     seeds, control, wall,
                             shard.index, shard.count, shard.index};
    report.stopReason = internal::runWorkers(share, collector);
  }
  if (options.bugStop == BugStop::kAtFirstBug && collector.bugSeen()) {
    report.stoppedAtFirstBug = true;
    report.stopReason = internal::kStoppedAtFirstBugReason;
  }
  collector.finish();
  report.interrupted = internal::interruptRequested() || internal::interruptSignal() != 0;
  if (report.interrupted) report.stopReason = internal::kInterruptedReason;
  report.wall = wall.elapsed();
  report.assertions = collectAssertionReport();
  report.breaches = validateContracts(report.assertions);
  report.coverageValue = internal::coverageSignal();
  return report;
}

}  // namespace moonpool
