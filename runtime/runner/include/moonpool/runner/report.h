// The simulation runner's report: the totals, the failing seeds, a bounded sample of the
// others, the assertion table, the faults and buggify sites, and a one-line reproduction per
// failing seed (runtime/ runner layer, public).
//
// A RunReport is plain data, filled by runSimulation() (runner.h) and rendered three ways:
//   renderReportText()   for people: summary, per-seed table (verbose), faults, buggify,
//                        assertion table, failing seeds with their reproduction lines;
//   renderReportJson()   for machines: one JSON object, format "moonpool.run_report"
//                        version kReportJsonVersion (runtime/runner/REPORT_FORMATS.md),
//                        always valid UTF-8 (invalid bytes become U+FFFD);
//   renderReportJunit()  JUnit XML for CI: one test case for the run, one per failing seed
//                        kept and one per failing contract (same document).
// Memory is constant in the number of seeds: totals are aggregates, and only the first
// kSeedsSampleMax seeds and at most kFailingSeedsKeptMax failing seeds are kept whole.
// The renderings are deterministic for a given report: seeds in sequence order, maps
// ordered by key. Wall times are the only values that differ between two identical runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/assertions/report.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/time.h"

namespace moonpool {

enum class SeedVerdict : std::uint8_t { kPass, kFail };
std::string_view seedVerdictName(SeedVerdict verdict);  // "pass", "FAIL"

// Why a seed failed; kNone for a passing seed.
enum class SeedFailure : std::uint8_t {
  kNone,
  kAssertion,      // an always/unreachable assertion failed during the seed
  kCheck,          // a workload's check() reported violations or threw
  kWorkloadError,  // a workload's setup() or run() threw
  kProcessError,   // a process's main threw (a crash of the service, not an injected one)
  kDeadlock,       // nothing could ever run again (the executor's report)
  kLivelock,       // too many steps without time advancing
  kSimTimeBudget,  // the seed was still running when its simulated-time budget ran out
  kRunFailed,      // the executor ended the run (an unobserved task failure)
  kCrashed,        // the worker process running the seed died (--jobs)
  kExplored,       // the seed's own run passed, a timeline explored from it found a bug
  kInterrupted,    // SIGINT/SIGTERM stopped the seed (never reported: the run drops it)
};
inline constexpr SeedFailure kSeedFailureLast = SeedFailure::kInterrupted;
std::string_view seedFailureName(SeedFailure failure);  // "assertion", "check", ...

// A number a workload reports (WorkloadContext::addMetric / maxMetric): summed, or the
// largest value kept, within a seed and over seeds.
struct Metric {
  enum class Kind : std::uint8_t { kSum, kMax };
  Kind kind = Kind::kSum;
  std::int64_t value = 0;
};
// Folds `value` into `into[name]`; a name must keep one kind (checked).
void mergeMetric(std::map<std::string, Metric>& into, const std::string& name, Metric value);

// A buggify site summed over seeds.
struct BuggifySiteTotal {
  std::string file{};
  std::uint32_t line = 0;
  std::uint64_t seedsEvaluated = 0;  // seeds in which the site was evaluated
  std::uint64_t seedsActive = 0;     // seeds in which it was switched on
  std::uint64_t evaluated = 0;
  std::uint64_t fired = 0;
};

// What exploring one seed did: its forked timelines and the first bug they found.
struct SeedExploration {
  explorer::Stats stats{};
  bool bugFound = false;
  std::string bugClass{};    // "correctness", "liveness", "crash", "signal 11 (Segmentation fault)"
  std::string bugMessage{};  // the failing timeline's reason (truncated to the explorer's bound)
  std::string recipe{};      // explorer::formatRecipe of the failing timeline
  std::uint32_t bugDepth = 0;
  std::uint64_t timelinesToBug = 0;  // timelines this seed had started when the bug was found
  Duration wallToBug{0};
  // Workload metrics and faults of the forked timelines (each timeline's whole run, its
  // prefix shared with its parent included), merged like seeds' (runner/exploration.h).
  std::map<std::string, Metric> timelineMetrics{};
  std::map<std::string, std::uint64_t> timelineFaults{};
  // Names past the shared table's capacity (their values are missing above).
  std::uint64_t timelineNamesDropped = 0;
};

// One seed's outcome.
struct SeedResult {
  std::uint64_t index = 0;  // position in the run's seed sequence (report order)
  std::uint64_t seed = 0;
  SeedVerdict verdict = SeedVerdict::kPass;
  SeedFailure failure = SeedFailure::kNone;
  // Empty for a pass; otherwise the reason, first line first (task lists follow).
  std::string message{};
  Duration wall{0};                // wall time of the seed (harness bookkeeping)
  Duration simulated{0};           // simulated time at the end of the seed
  std::uint64_t steps = 0;         // executor steps (events)
  std::uint64_t decisionHash = 0;  // rolling hash of every scheduling decision
  std::uint64_t randomCalls = 0;   // draws from the counted main stream
  std::uint64_t assertionFailures = 0;
  std::map<std::string, std::uint64_t> faultCounts{};  // timeline faults by kind
  std::map<std::string, Metric> metrics{};             // workload metrics
  std::vector<BuggifySiteTotal> buggify{};             // this seed's sites (seed counts 0 or 1)
  // The world configuration derived for this seed (network, storage, attrition, buggify).
  std::string config{};
  // Timeline lines (faults, and trace lines when tracing was on), for failing seeds and
  // --seed runs when a trace was asked for; otherwise empty.
  std::vector<std::string> trace{};
  // Set when the seed was explored (forked timelines); the root's own verdict is above.
  std::optional<SeedExploration> exploration{};
  // Set when the seed was a --replay of this recipe.
  std::string replayedRecipe{};
};

// Which coverage contracts (a sometimes that never held, a must-hit site never reached, a
// bucket overflow) fail the run; definite bugs (always violated, unreachable reached) always
// do. The catalog is the whole binary's, so a binary holding several simulations (a gtest
// suite) has sites another simulation reaches.
enum class CoverageContracts : std::uint8_t {
  kEnforce,      // every breach fails the run (a binary with one simulation: runMain)
  kReachedOnly,  // only breaches of sites this run reached: never-true and overflows (gtest)
  kReportOnly,   // none fail the run (a single-seed replay is not expected to reach all)
};
std::string_view coverageContractsName(CoverageContracts coverage);

// One part of a run split over processes or machines (--shard=I/N): the seeds (or explored
// roots) at indices i with i % count == index. A merge of the count reports (moonpool-merge,
// runner/report_merge.h) is the report of the whole run.
struct Shard {
  static constexpr std::uint32_t kCountMax = 4096;
  std::uint32_t index = 0;
  std::uint32_t count = 1;
};

// Counts over every seed of a run (kept or not).
struct RunTotals {
  std::uint64_t seeds = 0;
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::uint64_t exploredBugSeeds = 0;  // failing seeds whose explored timelines found a bug
  Duration simulated{0};
  std::uint64_t steps = 0;
  // Explored runs: the explorer's statistics summed over seeds (bitmapBits and edgesCovered
  // carry over seeds: the last seed's value is the run's).
  explorer::Stats exploration{};
  std::uint64_t exploredSeeds = 0;
};

// How an explored run under a Portfolio (runner.h) split its time.
struct ScheduleSplit {
  std::uint64_t plainFirst = 0;      // the portfolio's settings
  std::uint32_t plainPercent = 0;
  std::uint64_t plainSeeds = 0;      // seeds run plainly (roots whose plain run failed too)
  std::uint64_t roots = 0;           // seeds explored
  std::uint64_t timelines = 0;       // timelines the roots forked
  Duration plainWall{0};             // wall time of the plain batches and roots' plain runs
  Duration exploreWall{0};           // wall time of the explored roots
};

struct RunReport {
  // Seeds kept whole whatever their verdict: the lowest indices, whatever the order seeds
  // complete in (so with --jobs, and in a merge of shards, the same seeds are kept).
  static constexpr std::size_t kSeedsSampleMax = 256;
  // Failing seeds kept whole past the sample; later ones are counted (and were streamed).
  static constexpr std::size_t kFailingSeedsKeptMax = 1000;

  std::string name{};     // the builder's name
  std::string buildId{};  // buildId() of the binary (build_id.h)
  std::string command{};  // argv[0] as invoked ("" when run in-process without a main)
  // Behaviour flags for reproduction lines ("--nodes=7"), in argv order.
  std::vector<std::string> reproFlags{};
  // For runs without a command line (gtest): the reproduction prefix instead of argv[0]
  // and flags, e.g. "MOONPOOL_SEED={seed} ./suite --gtest_filter=S.N". "{seed}" is replaced.
  std::string reproTemplate{};
  // Its replay form for explored bugs, "{recipe}" replaced (shell-quoted).
  std::string replayTemplate{};
  std::string iteration{};       // IterationControl::toString()
  std::string stopReason{};      // why the run stopped ("fixed count reached", "wall budget", ...)
  std::string coverageSignal{};  // what "coverage" means for untilCoverageStable
  std::uint64_t coverageValue = 0;  // its value at the end
  std::uint32_t jobs = 1;
  CoverageContracts coverage = CoverageContracts::kEnforce;

  // Kept seeds, sorted by index (see kSeedsSampleMax): every seed of a small run; the
  // kSeedsSampleMax lowest indices and the kFailingSeedsKeptMax lowest failing ones.
  std::vector<SeedResult> seeds{};
  RunTotals totals{};
  std::uint64_t failingSeedsKept = 0;     // failing seeds among `seeds`
  std::uint64_t seedsNotKept = 0;         // seeds counted in totals but not kept
  std::uint64_t failingSeedsNotKept = 0;  // of which failing
  // SIGINT/SIGTERM stopped the run: everything above covers the seeds finished before.
  bool interrupted = false;
  // --stop_at_first_bug ended the run at its first failing seed (or explored bug).
  bool stoppedAtFirstBug = false;
  // This run is one shard of a larger one (its seeds are the shard's).
  std::optional<Shard> shard{};
  // A merged report: the number of shard reports it combines (0: a report of one process).
  std::uint32_t mergedShards = 0;
  Duration wall{0};                                    // whole run
  // Wall time from the run's start to its first bug (a failing seed collected, or a bug
  // found by a timeline of an explored root); nullopt without one, and in a merge.
  std::optional<Duration> firstBugWall{};
  std::map<std::string, std::uint64_t> faultCounts{};  // summed over seeds
  std::map<std::string, Metric> metrics{};             // merged over seeds
  std::vector<BuggifySiteTotal> buggify{};             // sorted by file, line
  AssertionReport assertions{};
  std::vector<ContractBreach> breaches{};
  // Exploration: whether seeds were explored, the edge counters' mode ("" when the binary has
  // no SanitizerCoverage) and their number.
  bool explored = false;
  std::string edgeMode{};
  std::uint64_t edgesTotal = 0;
  // Explored runs: the sets whose sizes are totals.exploration.bitmapBits (the explored map,
  // explorer::kBitmapBits bits) and .edgesCovered (edgesTotal bits), at the end of the run;
  // bit b is bit b % 8 of byte b / 8. What a merge of shards unions (their sizes are then
  // exact); empty when not explored (coveredEdges also without edge counters).
  std::vector<std::uint8_t> exploredMap{};
  std::vector<std::uint8_t> coveredEdges{};
  // Explored runs under a Portfolio: how the run split its time (nullopt otherwise, and in
  // a merge of shards).
  std::optional<ScheduleSplit> schedule{};

  // Counts `seed` in the totals and keeps it when the sample or the failing bound allows
  // (dropping a seed of higher index that it displaces).
  void addSeed(SeedResult seed);
  // Sorts the kept seeds by index (checking none came twice).
  void sortSeeds();

  std::uint64_t seedCount() const { return totals.seeds; }
  std::uint64_t passedCount() const { return totals.passed; }
  std::uint64_t failedCount() const { return totals.failed; }
  // Failing seeds whose forked timelines found a bug (the root seed itself may have passed).
  std::uint64_t exploredBugCount() const { return totals.exploredBugSeeds; }
  Duration simulatedTotal() const { return totals.simulated; }
  std::uint64_t stepsTotal() const { return totals.steps; }
  // Breaches that fail the run: definite bugs always, coverage misses when enforced (and
  // the run was not interrupted: a run cut short is not expected to reach everything).
  std::vector<const ContractBreach*> failingBreaches() const;
  bool allPassed() const { return failedCount() == 0 && failingBreaches().empty(); }
  // Exit codes of a simulation binary and of moonpool-merge (REPORT_FORMATS.md): a bug
  // outranks a coverage gap, an interruption outranks both (its counts are partial).
  static constexpr int kExitPassed = 0;        // every seed and enforced contract passed
  static constexpr int kExitBug = 1;           // a failing seed, explored bug or broken invariant
  static constexpr int kExitUsage = 2;         // bad flags or input (a file, a report)
  static constexpr int kExitCoverageGap = 3;   // no bug, but a coverage contract was missed
  static constexpr int kExitBuildMismatch = 4; // a line or report of another build
  static constexpr int kExitInterrupted = 130;
  // Whether a seed failed or an invariant broke (definite-bug breaches).
  bool bugFound() const;
  int exitCode() const {
    if (interrupted) return kExitInterrupted;
    if (bugFound()) return kExitBug;
    return failingBreaches().empty() ? kExitPassed : kExitCoverageGap;
  }
  // The first failing seed, or null.
  const SeedResult* firstFailure() const;
  // "<command> --seed=<seed> <reproFlags...> --build=<buildId>", or the template form;
  // for a seed failing through an explored timeline, its replayCommand().
  std::string reproduction(const SeedResult& seed) const;
  // "<command> --replay='<recipe>' <reproFlags...> --build=<buildId>" for an explored bug;
  // with a template, its MOONPOOL_REPLAY form.
  std::string replayCommand(const SeedExploration& exploration) const;
};

// The version of the JSON report's format; raised on any change a reader could notice.
inline constexpr int kReportJsonVersion = 3;

// Options of the text rendering.
struct TextReportOptions {
  enum class SeedTable : std::uint8_t { kFailuresOnly, kEverySeed };
  SeedTable seedTable = SeedTable::kFailuresOnly;
};

std::string renderReportText(const RunReport& report, TextReportOptions options = {});
std::string renderReportJson(const RunReport& report);
std::string renderReportJunit(const RunReport& report);
// The assertion table as the JSON object the run report embeds under "assertions".
std::string renderAssertionsJson(const AssertionReport& report);

// The line printed (and streamed) for a failing seed: "seed S: <failure>: <message>" then
// "    reproduce: <line>" (and the recipe for an explored bug).
std::string renderFailingSeed(const RunReport& report, const SeedResult& seed);

// One line per seed, as printed by --verbose: seed, verdict, sim time, steps, wall ms.
std::string renderSeedLine(const SeedResult& seed);

}  // namespace moonpool
