// A portfolio of plain seeds and explored roots (see portfolio.h and runner.h, Portfolio).
#include "portfolio.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "interrupt.h"
#include "moonpool/check.h"

namespace moonpool::internal {
namespace {

// Decides what runs next from what ran: plain seeds (an explored root's own run included)
// and forked timelines, one run each.
class Schedule {
 public:
  explicit Schedule(const Portfolio& portfolio) : portfolio_(portfolio) {
    MOONPOOL_CHECK_LE(portfolio.plainPercent, Portfolio::kPlainPercentMax,
                      "a portfolio keeps some runs for exploration");
  }

  // Plain seeds due before the next explored root (0: explore one now).
  std::uint64_t plainDue() const {
    if (plain_ < portfolio_.plainFirst) return portfolio_.plainFirst - plain_;
    // plain / (plain + timelines) >= percent / 100, with integers only.
    const std::uint64_t percent = portfolio_.plainPercent;
    const std::uint64_t need = (percent * timelines_ + (100 - percent) - 1) / (100 - percent);
    return need > plain_ ? need - plain_ : 0;
  }
  void ranPlain(std::uint64_t seeds) { plain_ += seeds; }
  void ranTimelines(std::uint64_t timelines) { timelines_ += timelines; }

 private:
  Portfolio portfolio_;
  std::uint64_t plain_ = 0;
  std::uint64_t timelines_ = 0;
};

// The index of the shard's `position`-th seed.
std::uint64_t indexAt(const PortfolioRun& run, std::uint64_t position) {
  const Shard shard = run.options.shard.value_or(Shard{});
  return shard.index + shard.count * position;
}

// Runs plain seeds at positions [position, position + count) on the explorer's parallelism
// (workers when above 1, or with SeedIsolation::kWorker). What stopped the batch early (the
// run's iteration control, an interrupt, the first bug) the caller sees for itself; crashed
// workers' notes are dropped, their seeds carry the reports.
void runPlainBatch(const PortfolioRun& run, std::uint64_t position, std::uint64_t count) {
  const Shard shard = run.options.shard.value_or(Shard{});
  const std::uint64_t start = indexAt(run, position);
  IterationControl batch = run.control;
  batch.count = std::min(batch.count, indexAt(run, position + count));
  MOONPOOL_CHECK_LT(start, batch.count, "a batch runs at least one seed");
  if (run.config.parallelism == 1 && run.options.isolation == SeedIsolation::kInProcess) {
    StopRule rule(batch, run.wall);
    runShare(
        run.spec, run.options, run.seeds, rule, start, shard.count,
        [&run](SeedResult r) { run.collector.add(std::move(r)); }, nullptr);
    return;
  }
  RunOptions plain = run.options;
  plain.jobs = run.config.parallelism;
  const ShareContext share{run.spec,    plain,       run.seeds, batch, run.wall,
                           shard.index, shard.count, start};
  runWorkers(share, run.collector);
}

// The plain run of the root at `index`: in a forked worker with SeedIsolation::kWorker (a
// failed MOONPOOL_CHECK is then a reported seed, not the end of the run), else here. nullopt
// when an interrupt stopped the worker before it reported.
std::optional<SeedResult> runPlainRoot(const PortfolioRun& run, std::uint64_t index) {
  if (run.options.isolation == SeedIsolation::kInProcess) {
    return runSeedWith(run.spec, index, run.seeds.at(index), run.options.tracing, SeedExtras{});
  }
  // One worker, one seed, into a report of its own: this seed is not collected yet.
  RunOptions one = run.options;
  one.jobs = 1;
  one.progress = Progress::kOff;
  one.failureStream = nullptr;
  one.onSeed = nullptr;
  one.bugStop = BugStop::kContinue;
  const IterationControl control = IterationControl::fixedCount(index + 1);
  RunReport scratch;
  Collector collector(scratch, one, control, run.wall);
  const Shard shard = one.shard.value_or(Shard{});
  const ShareContext share{run.spec,    one,         run.seeds, control, run.wall,
                           shard.index, shard.count, index};
  runWorkers(share, collector);
  if (scratch.seeds.empty()) return std::nullopt;
  MOONPOOL_CHECK_EQ(scratch.seeds.size(), std::size_t{1}, "one root, one plain run");
  MOONPOOL_CHECK_EQ(scratch.seeds[0].index, index, "the root's own plain run");
  return std::move(scratch.seeds[0]);
}

// Runs the seed at `index` plainly, and explores it when that passed. Returns the number of
// timelines it forked, or nullopt when an interrupt cut it short.
std::optional<std::uint64_t> runRoot(const PortfolioRun& run, std::uint64_t index,
                                     ScheduleSplit& split) {
  const std::uint64_t seed = run.seeds.at(index);
  WallTimer plainWall;
  std::optional<SeedResult> ran = runPlainRoot(run, index);
  split.plainWall += plainWall.elapsed();
  if (!ran || ran->failure == SeedFailure::kInterrupted) return std::nullopt;
  SeedResult plain = std::move(*ran);
  if (plain.verdict == SeedVerdict::kFail) {  // a bug at a plain seed's cost
    ++split.plainSeeds;
    trimTrace(plain, run.options);
    run.collector.add(std::move(plain));
    return 0;
  }
  WallTimer exploreWall;
  SeedResult explored = runSeedWith(run.spec, index, seed, run.options.tracing,
                                    SeedExtras{.exploration = &run.session});
  split.exploreWall += exploreWall.elapsed();
  // Cut short by an interrupt: dropped, as any seed in progress (a bug its timelines found
  // before made it kExplored, and it is kept).
  if (explored.failure == SeedFailure::kInterrupted) return std::nullopt;
  MOONPOOL_CHECK(explored.exploration.has_value(), "an explored root reports its exploration");
  // The root's own run is the plain run above (exploring never draws from its streams),
  // unless an interrupt cut it short after its timelines found a bug.
  if (!interruptRequested()) {
    MOONPOOL_CHECK_EQ(explored.decisionHash, plain.decisionHash, "a root's own run replays");
  }
  const std::uint64_t timelines = explored.exploration->stats.timelines;
  ++split.roots;
  split.timelines += timelines;
  trimTrace(explored, run.options);
  run.collector.add(std::move(explored));
  return timelines;
}

}  // namespace

std::string runPortfolio(const PortfolioRun& run, ScheduleSplit& split) {
  MOONPOOL_CHECK(run.options.portfolio.has_value(), "a portfolio run needs its schedule");
  const Portfolio& portfolio = *run.options.portfolio;
  split.plainFirst = portfolio.plainFirst;
  split.plainPercent = portfolio.plainPercent;
  Schedule schedule(portfolio);
  StopRule rule(run.control, run.wall);
  for (std::uint64_t position = 0;;) {
    if (interruptRequested()) return kInterruptedReason;
    if (run.options.bugStop == BugStop::kAtFirstBug && run.collector.bugSeen()) {
      return kStoppedAtFirstBugReason;
    }
    if (std::optional<std::string> stop = rule.before(indexAt(run, position))) return *stop;
    if (const std::uint64_t due = schedule.plainDue(); due > 0) {
      WallTimer wall;
      const std::uint64_t before = run.collector.seedsAdded();
      runPlainBatch(run, position, due);
      const std::uint64_t ran = run.collector.seedsAdded() - before;
      split.plainWall += wall.elapsed();
      split.plainSeeds += ran;
      schedule.ranPlain(due);  // the batch's positions are used, whatever stopped it
      position += due;
      continue;
    }
    const std::optional<std::uint64_t> timelines = runRoot(run, indexAt(run, position), split);
    if (!timelines) return kInterruptedReason;
    schedule.ranPlain(1);
    schedule.ranTimelines(*timelines);
    ++position;
    if (std::optional<std::string> stop = rule.after()) return *stop;
  }
}

}  // namespace moonpool::internal
