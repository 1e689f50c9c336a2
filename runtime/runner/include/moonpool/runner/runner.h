// Running a simulation: one seed, or a whole run of seeds with a report (runtime/ runner
// layer, public).
//
// One seed (runSeed):
//   1. resetRunViolations(); a fresh Simulation(seed) and a SimWorld whose options are
//      derived for this seed from ChaosOptions: fixed, chaotic or swarm. Every
//      configuration draw comes from the uncounted stream deriveSeed(seed, "swarm"), so the
//      main stream's call count is the same whatever the configuration;
//   2. boot: the builder's processes (10.0.1.N, in declaration order), then one process per
//      workload instance (10.0.0.N, Reboot::kNever);
//   3. setup: each workload's setup(), in order;
//   4. run: every run() at once; the chaos phase (attrition, network chaos episodes; the
//      storage and network fault rates of the derived options) lasts chaosDuration;
//   5. settle: storage and network fault rates off, network healed (healAll), paused
//      processes resumed,
//      pending restarts awaited and dead processes restarted, every run() awaited, then
//      settleDuration of quiet;
//   6. check: each check(), in order.
//   The seed fails on: an always/unreachable assertion failing during it
//   (runViolationCount), a check reporting violations or throwing, setup()/run() throwing,
//   a deadlock or livelock (the executor's report, with what every task awaits), or the
//   simulated-time budget running out (with every task's wait). Each is a value in the
//   SeedResult; nothing aborts the run, and the next seed starts from scratch.
//
// A run (runSimulation): seeds from --seed, else the builder's explicit seeds then
// firstSeed, firstSeed + 1, ...; the iteration control decides when to stop (with jobs > 1
// each worker applies it to its own share: a fixed count gives the same seeds as one
// process, the adaptive controls read the shared table but stop each worker on its own,
// so where they stop is not reproducible). With jobs > 1
// the seeds are dealt round-robin to forked worker processes (seed i to worker i % jobs);
// each streams its SeedResults back over a pipe, the parent merges them in seed order and
// waits for every child. Assertion counters are merged by construction: the table is
// re-mapped MAP_SHARED (allocateAssertionTable(TableSharing::kShared)) before the fork, so
// every worker counts into the same memory, while each worker's per-seed verdict uses its
// own runViolationCount(). A worker that dies mid-seed fails that seed (kCrashed) and a
// fresh worker continues its share from the next seed (at most 64 replacements per run).
// Every run starts from a reset assertion table: its report covers its own seeds only.
//
// Memory is constant in the number of seeds: each SeedResult is folded into the report's
// totals and dropped unless it is among the first RunReport::kSeedsSampleMax seeds or the
// first kFailingSeedsKeptMax failing ones (test/bench/runner_memory.sh: 6.9 MB of peak RSS
// at 10,000 and at 1,000,000 seeds). A seed fails when its own run failed or when a
// timeline explored from it found a bug (SeedFailure::kExplored). With
// Interrupts::kStopRun, SIGINT/SIGTERM end the run early and cleanly (report.interrupted).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/runner/builder.h"
#include "moonpool/runner/report.h"

namespace moonpool {

// Whether the timeline records trace lines (every process boot, buggify activation, ...)
// and whether the report keeps them (for failing seeds).
enum class Tracing : std::uint8_t { kOff, kOn };

// Progress on stderr: a live line on a terminal, else a pulse line every
// RunOptions::pulseEvery once the run is a few seconds old (kOn: from the start).
enum class Progress : std::uint8_t { kAuto, kOn, kOff };

// Whether SIGINT/SIGTERM stop the run cleanly (runMain) or keep their meaning (a gtest).
// With kStopRun the first signal ends the seed in progress, stops forked workers and
// timelines (reaped), and runSimulation returns the report of every seed finished, marked
// interrupted (exit code 130). A second signal exits at once.
enum class Interrupts : std::uint8_t { kDefault, kStopRun };

enum class ExploreMode : std::uint8_t { kOff, kOn };

// Whether the run goes on after its first bug (a failing seed, or a bug found by a timeline
// explored from a seed). kAtFirstBug ends the run once the first failing seed is collected:
// forked workers are killed (their seeds in progress are dropped, not failed), no further
// seed or explored root starts, and the report says so (RunReport::stoppedAtFirstBug).
enum class BugStop : std::uint8_t { kContinue, kAtFirstBug };

// Where a run of plain seeds with jobs == 1 runs them. kInProcess: in this process, so a
// failed MOONPOOL_CHECK inside a seed aborts the whole run (its report on stderr). kWorker
// (runMain's choice): in one forked worker, as with jobs > 1, so such a seed is reported
// with the check's report and its reproduction line, and a fresh worker goes on with the
// next seed. Single-seed replays (--seed) always run in this process.
enum class SeedIsolation : std::uint8_t { kInProcess, kWorker };

// The schedule of an explored run of many seeds: a portfolio of plain seeds and explored
// roots, so that exploring is never much worse than plain seeds on common bugs (a plain seed
// costs ~1 ms, an explored root seconds) and still explores for the rare ones (issue 19).
//   1. `plainFirst` plain seeds, on as many workers as the explorer's parallelism;
//   2. then, in turn: one explored root, and plain seeds until they are at least
//      `plainPercent` % of every run so far, a run being a plain seed or a forked timeline.
// Runs, not wall time, share the budget, so which seeds are plain and which are explored
// depends only on the seeds (with parallelism 1), never on the machine's load. Every seed,
// plain or explored, is one index of the run's sequence and counted once. An explored root is
// first run plainly (it is a plain seed: counted as one, in the plain share); a root whose
// plain run fails is reported at that cost, as a plain failing seed, and not explored.
// Sharded runs (--shard) apply the schedule to the shard's own sequence.
struct Portfolio {
  static constexpr std::uint32_t kPlainPercentMax = 95;
  std::uint64_t plainFirst = 200;
  std::uint32_t plainPercent = 50;
};

struct RunOptions {
  // Replays exactly this seed; the iteration control is ignored. Coverage contracts are then
  // reported without failing the run.
  std::optional<std::uint64_t> seed{};
  // Overrides of the builder's settings (from flags).
  std::optional<IterationControl> iteration{};
  std::optional<std::uint64_t> firstSeed{};
  std::uint32_t jobs = 1;
  SeedIsolation isolation = SeedIsolation::kInProcess;
  // Which coverage contracts fail the run; default kEnforce, kReportOnly with `seed`.
  std::optional<CoverageContracts> coverage{};
  Tracing tracing = Tracing::kOff;
  Progress progress = Progress::kOff;
  Duration pulseEvery = std::chrono::seconds(10);
  // Each failing seed is printed here (reason and reproduction line) as soon as it is known;
  // null: not streamed.
  std::FILE* failureStream = nullptr;
  Interrupts interrupts = Interrupts::kDefault;
  // For reproduction lines (RunReport::command / reproFlags / reproTemplate).
  std::string command{};
  std::vector<std::string> reproFlags{};
  std::string reproTemplate{};
  std::string replayTemplate{};
  // Exploration: nullopt keeps the builder's setting; a value replaces it (ExploreMode).
  std::optional<ExploreMode> explore{};
  // Replaces the builder's exploration config when set (flags: --energy, --jobs, ...).
  std::optional<explorer::Config> exploration{};
  // Replays one explored timeline in this process (no fork): the root seed runs with its
  // counted stream reseeded at each recipe step, and reaches what the forked child reached.
  // Implies a single seed; exploration is off.
  std::optional<explorer::Recipe> replay{};
  // Runs only this shard's seeds (indices i with i % count == index; with jobs > 1 the
  // shard's seeds are dealt to the workers in turn). Ignored with `seed` and `replay`.
  std::optional<Shard> shard{};
  BugStop bugStop = BugStop::kContinue;
  // Explored runs of many seeds: plain seeds and explored roots in turn (Portfolio). nullopt:
  // every seed is explored (runMain sets one for runs with a wall-clock budget).
  std::optional<Portfolio> portfolio{};
  // Called in the parent after each seed, in completion order (e.g. --verbose lines).
  std::function<void(const SeedResult&)> onSeed{};

  static constexpr std::uint32_t kJobsMax = 256;
};

// Runs one seed in this process (steps 1-6 above). `index` is its place in the run.
SeedResult runSeed(const SimulationSpec& spec, std::uint64_t index, std::uint64_t seed,
                   Tracing tracing);

// Runs seeds until the iteration control stops, and reports. Never throws for a failing
// seed; fails (MOONPOOL_CHECK) only on a malformed spec (no workload, a workload without
// run(), a process group without main, jobs out of [1, kJobsMax]).
RunReport runSimulation(const SimulationBuilder& builder, RunOptions options = {});

}  // namespace moonpool
