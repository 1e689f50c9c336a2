// The standard main: runner flags, the run, the report (see runner/main.h).
#include "moonpool/runner/main.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <string>

#include "absl/flags/flag.h"
#include "coverage_dir.h"
#include "flags.h"
#include "moonpool/runner/build_id.h"
#include "moonpool/runner/report.h"
#include "moonpool/runner/runner.h"

ABSL_FLAG(std::string, seed, "", "run only this seed (a replay; what a failing seed's line uses)");
ABSL_FLAG(int64_t, seeds, 0, "number of seeds to run (0: the simulation's own default)");
ABSL_FLAG(int64_t, iterations, 0, "same as --seeds");
ABSL_FLAG(std::string, first_seed, "",
          "first generated seed: a number, or 'random' (from the OS); default: the simulation's");
ABSL_FLAG(double, time_budget, 0, "wall-clock seconds to keep running seeds (0: no budget)");
ABSL_FLAG(int32_t, jobs, 1,
          "worker processes (fork); worker w runs every jobs-th seed. With exploration: timelines "
          "computing at once");
ABSL_FLAG(std::string, json, "", "write the JSON report to this path ('-': stdout)");
ABSL_FLAG(bool, verbose, false, "one line per seed in the report");
ABSL_FLAG(bool, trace, false, "record and print the event trace of failing seeds (and of --seed)");
ABSL_FLAG(bool, progress, false,
          "progress from the start: a live line on a terminal, else pulse lines (--noprogress: "
          "none; default: live line on a terminal, pulses after a few seconds otherwise)");
ABSL_FLAG(double, progress_every, 10,
          "seconds between two pulse lines when stderr is not a terminal (0: no pulses)");
ABSL_FLAG(std::string, junit, "", "also write the report as JUnit XML to this path");
ABSL_FLAG(std::string, build, "",
          "the build id a reproduction line was printed by: refuse to run another build");
ABSL_FLAG(bool, allow_build_mismatch, false, "run even when --build names another build");
ABSL_FLAG(std::string, replay, "",
          "replay one explored timeline: the recipe a bug found by exploration prints");
ABSL_FLAG(bool, explore, false,
          "explore each seed: fork timelines at discoveries (--noexplore: plain seeds even when "
          "the simulation explores by default)");
ABSL_FLAG(int64_t, energy, 0, "exploration: timelines each seed may fork (0: the simulation's)");
ABSL_FLAG(bool, edge_coverage, true,
          "exploration: count edge-counter novelty as progress (false: assertion bitmap only)");
ABSL_FLAG(bool, stop_at_first_bug, false,
          "end the run at its first bug: kill the other workers, start no other seed; when "
          "exploring, fork no more timelines (the report and its last line say so)");
ABSL_FLAG(int64_t, explore_plain_first, 200,
          "exploration with a --time_budget (a portfolio): plain seeds run first, on --jobs "
          "workers, before the first explored root");
ABSL_FLAG(int64_t, explore_plain_percent, 50,
          "exploration with a --time_budget (a portfolio): then plain seeds and explored roots "
          "in turn, plain seeds being at least this % of runs (a forked timeline is one run); "
          "both at 0: every seed explored");
ABSL_FLAG(std::string, coverage_dir, "",
          "record edge coverage of every seed and timeline; write .sancov and .moonpool-cov "
          "files here for sancov-19 and moonpool-cov");
ABSL_FLAG(std::string, shard, "",
          "I/N: run only shard I of N of the run's seeds (or explored roots): indices i with "
          "i % N == I; moonpool-merge combines the N JSON reports into the whole run's");

namespace moonpool {
namespace {

using internal::ParsedCommandLine;

// Runner flags: never part of a reproduction line (they do not change what a seed does).
const std::vector<std::string>& runnerFlagNames() {
  static const std::vector<std::string> kNames = {
      "seed", "seeds",   "iterations", "first_seed", "time_budget", "jobs",
      "json", "verbose", "trace",      "progress",   "replay",
      "explore", "energy", "edge_coverage", "stop_at_first_bug", "progress_every", "junit",
      "build", "allow_build_mismatch", "coverage_dir", "shard", "explore_plain_first",
      "explore_plain_percent"};
  static const std::vector<std::string> kWithTuning = [] {
    std::vector<std::string> names = kNames;
    for (const std::string& name : internal::explorerTuningFlagNames()) names.push_back(name);
    return names;
  }();
  return kWithTuning;
}

bool given(const ParsedCommandLine& cmd, std::string_view name) {
  return std::find(cmd.given.begin(), cmd.given.end(), name) != cmd.given.end();
}

absl::StatusOr<std::uint64_t> parseSeed(const std::string& flag, const std::string& text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || at != end) {
    return absl::InvalidArgumentError("--" + flag + " must be an unsigned 64-bit integer, got '" +
                                      text + "'");
  }
  return value;
}

absl::StatusOr<std::uint64_t> randomFirstSeed() {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    return absl::UnavailableError(std::string("--first_seed=random: getrandom failed: ") +
                                  std::strerror(errno));
  }
  return value;
}

absl::StatusOr<std::optional<Shard>> shardFromFlags(const RunOptions& options) {
  const std::string text = absl::GetFlag(FLAGS_shard);
  if (text.empty()) return std::optional<Shard>();
  const auto bad = [&text] {
    return absl::InvalidArgumentError("--shard must be I/N with 0 <= I < N <= " +
                                      std::to_string(Shard::kCountMax) + ", got '" + text + "'");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return bad();
  std::uint32_t index = 0;
  std::uint32_t count = 0;
  const char* end = text.data() + text.size();
  const auto [atIndex, indexError] = std::from_chars(text.data(), text.data() + slash, index);
  const auto [atCount, countError] = std::from_chars(text.data() + slash + 1, end, count);
  if (slash == 0 || indexError != std::errc() || atIndex != text.data() + slash ||
      countError != std::errc() || atCount != end || count < 1 || count > Shard::kCountMax ||
      index >= count) {
    return bad();
  }
  if (options.seed || options.replay) {
    return absl::InvalidArgumentError("--shard splits a run of many seeds: drop --seed/--replay");
  }
  return std::optional(Shard{.index = index, .count = count});
}

absl::StatusOr<std::optional<IterationControl>> iterationFromFlags() {
  const std::int64_t seeds = absl::GetFlag(FLAGS_seeds);
  const std::int64_t iterations = absl::GetFlag(FLAGS_iterations);
  const double budget = absl::GetFlag(FLAGS_time_budget);
  if (seeds < 0 || iterations < 0 ||
      seeds > static_cast<std::int64_t>(IterationControl::kSeedsMax) ||
      iterations > static_cast<std::int64_t>(IterationControl::kSeedsMax)) {
    return absl::InvalidArgumentError("--seeds/--iterations must be in [1, 2^40]");
  }
  if (seeds > 0 && iterations > 0 && seeds != iterations) {
    return absl::InvalidArgumentError("--seeds and --iterations disagree (they are aliases)");
  }
  const auto count = static_cast<std::uint64_t>(seeds > 0 ? seeds : iterations);
  if (!(budget >= 0) || budget > 1e9) {
    return absl::InvalidArgumentError("--time_budget must be in [0, 1e9] seconds");
  }
  if (budget > 0) {
    const Duration wall(static_cast<Duration::rep>(budget * 1e9));
    return std::optional(
        IterationControl::wallTime(wall, count > 0 ? count : IterationControl::kSeedsMax));
  }
  if (count > 0) return std::optional(IterationControl::fixedCount(count));
  return std::optional<IterationControl>();
}

absl::StatusOr<RunOptions> optionsFromFlags(const char* argv0, const ParsedCommandLine& cmd) {
  RunOptions options;
  if (const std::string replay = absl::GetFlag(FLAGS_replay); !replay.empty()) {
    explorer::Recipe recipe;
    char error[256] = {};
    if (!explorer::parseRecipe(replay.c_str(), recipe, error, sizeof error)) {
      return absl::InvalidArgumentError(std::string("--replay: ") + error);
    }
    if (!absl::GetFlag(FLAGS_seed).empty()) {
      return absl::InvalidArgumentError("--replay and --seed both choose the seed: give one");
    }
    options.replay = recipe;
  }
  if (const std::string seed = absl::GetFlag(FLAGS_seed); !seed.empty()) {
    absl::StatusOr<std::uint64_t> value = parseSeed("seed", seed);
    if (!value.ok()) return value.status();
    options.seed = *value;
  }
  absl::StatusOr<std::optional<IterationControl>> iteration = iterationFromFlags();
  if (!iteration.ok()) return iteration.status();
  options.iteration = *iteration;
  if (const std::string first = absl::GetFlag(FLAGS_first_seed); !first.empty()) {
    absl::StatusOr<std::uint64_t> value =
        first == "random" ? randomFirstSeed() : parseSeed("first_seed", first);
    if (!value.ok()) return value.status();
    options.firstSeed = *value;
  }
  const std::int32_t jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 1 || jobs > static_cast<std::int32_t>(RunOptions::kJobsMax)) {
    return absl::InvalidArgumentError("--jobs must be in [1, " +
                                      std::to_string(RunOptions::kJobsMax) + "], got " +
                                      std::to_string(jobs));
  }
  options.jobs = static_cast<std::uint32_t>(jobs);
  // A failed MOONPOOL_CHECK in a seed is a reported bug, and the run goes on (runner.h).
  options.isolation = SeedIsolation::kWorker;
  if (given(cmd, "explore")) {
    options.explore = absl::GetFlag(FLAGS_explore) ? ExploreMode::kOn : ExploreMode::kOff;
  }
  if (options.replay && options.explore == ExploreMode::kOn) {
    return absl::InvalidArgumentError("--replay runs one timeline without forking: drop --explore");
  }
  absl::StatusOr<std::optional<Shard>> shard = shardFromFlags(options);
  if (!shard.ok()) return shard.status();
  options.shard = *shard;
  options.bugStop =
      absl::GetFlag(FLAGS_stop_at_first_bug) ? BugStop::kAtFirstBug : BugStop::kContinue;
  options.tracing = absl::GetFlag(FLAGS_trace) ? Tracing::kOn : Tracing::kOff;
  options.progress = absl::GetFlag(FLAGS_progress) ? Progress::kOn : Progress::kAuto;
  if (given(cmd, "progress") && !absl::GetFlag(FLAGS_progress)) options.progress = Progress::kOff;
  const double every = absl::GetFlag(FLAGS_progress_every);
  if (!(every >= 0) || every > 86400) {
    return absl::InvalidArgumentError("--progress_every must be in [0, 86400] seconds");
  }
  options.pulseEvery = Duration(static_cast<Duration::rep>(every * 1e9));
  options.failureStream = absl::GetFlag(FLAGS_json) == "-" ? stderr : stdout;
  options.interrupts = Interrupts::kStopRun;
  options.command = argv0;
  options.reproFlags = internal::flagsAsGiven(cmd.given, runnerFlagNames());
  return options;
}

// The exploration config of an explored run: the builder's (or the defaults), with the
// exploration flags given applied. In explore mode --jobs is the explorer's parallelism.
absl::Status applyExplorationFlags(const ParsedCommandLine& cmd, const SimulationSpec& spec,
                                   RunOptions& options) {
  const bool exploring = !options.replay && options.explore != ExploreMode::kOff &&
                         (options.explore == ExploreMode::kOn || spec.exploration.has_value());
  bool tuned = given(cmd, "energy") || given(cmd, "edge_coverage");
  for (const std::string& name : internal::explorerTuningFlagNames()) {
    tuned = tuned || given(cmd, name);
  }
  if (!exploring) {
    if (tuned) {
      return absl::InvalidArgumentError(
          "--energy, --edge_coverage and --explore_* apply to exploration: add --explore");
    }
    return absl::OkStatus();
  }
  explorer::Config config =
      spec.exploration.value_or(spec.explorationOnRequest.value_or(explorer::Config{}));
  if (given(cmd, "energy")) {
    const std::int64_t energy = absl::GetFlag(FLAGS_energy);
    if (energy < 1) return absl::InvalidArgumentError("--energy must be at least 1");
    config.energyPerSeed = static_cast<std::uint64_t>(energy);
  }
  if (given(cmd, "jobs")) config.parallelism = options.jobs;
  if (given(cmd, "edge_coverage")) {
    config.edges = absl::GetFlag(FLAGS_edge_coverage) ? explorer::EdgeCoverage::kOn
                                                      : explorer::EdgeCoverage::kOff;
  }
  if (given(cmd, "stop_at_first_bug")) {
    config.bugs = absl::GetFlag(FLAGS_stop_at_first_bug) ? explorer::BugPolicy::kStopAtFirst
                                                         : explorer::BugPolicy::kContinue;
  }
  if (absl::Status s = internal::applyExplorerTuningFlags(cmd.given, config); !s.ok()) return s;
  char error[256] = {};
  if (!explorer::validate(config, error, sizeof error)) {
    return absl::InvalidArgumentError(std::string("exploration: ") + error);
  }
  options.exploration = config;
  options.jobs = 1;  // the explorer forks its own timelines; no seed workers
  return absl::OkStatus();
}

// The schedule of an explored run (runner.h, Portfolio): a portfolio by default when a
// --time_budget bounds a run of many seeds, and whenever one of its flags is given; without
// a budget, a run of N seeds explores N roots as asked. Both flags at 0: every seed explored.
absl::Status applyPortfolioFlags(const ParsedCommandLine& cmd, RunOptions& options) {
  const bool asked = given(cmd, "explore_plain_first") || given(cmd, "explore_plain_percent");
  if (!options.exploration) {
    if (!asked) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "--explore_plain_first and --explore_plain_percent schedule exploration: add --explore");
  }
  const std::int64_t first = absl::GetFlag(FLAGS_explore_plain_first);
  const std::int64_t percent = absl::GetFlag(FLAGS_explore_plain_percent);
  if (first < 0 || first > static_cast<std::int64_t>(IterationControl::kSeedsMax)) {
    return absl::InvalidArgumentError("--explore_plain_first must be in [0, 2^40], got " +
                                      std::to_string(first));
  }
  if (percent < 0 || percent > Portfolio::kPlainPercentMax) {
    return absl::InvalidArgumentError("--explore_plain_percent must be in [0, " +
                                      std::to_string(Portfolio::kPlainPercentMax) + "], got " +
                                      std::to_string(percent));
  }
  if (options.seed || (!asked && !(absl::GetFlag(FLAGS_time_budget) > 0))) {
    return absl::OkStatus();
  }
  if (first == 0 && percent == 0) return absl::OkStatus();
  options.portfolio = Portfolio{.plainFirst = static_cast<std::uint64_t>(first),
                                .plainPercent = static_cast<std::uint32_t>(percent)};
  return absl::OkStatus();
}

// Exploration forks at every discovery, and fork() copies page tables: its cost grows with
// resident memory counted in 4 KB pages (toolchain.md §4: 3.7 ms at 100 MB, 0.23-0.32 ms
// with transparent huge pages). glibc's malloc backs its heap with huge pages only when told
// at start-up (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), so with MOONPOOL_HUGEPAGES=1 an
// exploring binary re-executes itself once with that tunable when the kernel offers THP.
// Opt-in: for the small heaps of typical simulations (a few MB) a timeline's first writes
// then copy whole 2 MB pages, which costs about what the smaller page tables save
// (scripts/bench_explorer.sh measures both).
void reexecWithHugePages(char** argv) {
  const char* optIn = std::getenv("MOONPOOL_HUGEPAGES");
  if (optIn == nullptr || std::string_view(optIn) != "1") return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables == nullptr ? "" : tunables;
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) return;
  std::FILE* thp = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (thp == nullptr) return;
  char mode[128] = {};
  const bool read = std::fgets(mode, sizeof mode, thp) != nullptr;
  std::fclose(thp);
  const std::string_view text(mode);
  if (!read || (text.find("[always]") == std::string_view::npos &&
                text.find("[madvise]") == std::string_view::npos)) {
    return;
  }
  const std::string updated =
      (current.empty() ? "" : current + ":") + "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", updated.c_str(), 1) != 0) return;
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");  // exec failed: carry on with 4 KB pages
  if (tunables != nullptr) setenv("GLIBC_TUNABLES", tunables, 1);
}

// A reproduction line names its build: refuse to replay it on another (rule: a seed replays
// only on the binary that found it).
absl::Status checkBuild() {
  const std::string expected = absl::GetFlag(FLAGS_build);
  if (expected.empty() || expected == buildId() || absl::GetFlag(FLAGS_allow_build_mismatch)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      "--build=" + expected + " names another build: this binary is build " + buildId() +
      ", so the seed would not replay the same run (rebuild that version, or add "
      "--allow_build_mismatch to run it anyway)");
}

bool writeFile(const std::string& path, const std::string& text, const char* what) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  bool ok = file != nullptr && std::fputs(text.c_str(), file) >= 0;
  if (file != nullptr && std::fclose(file) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "cannot write the %s report to '%s': %s\n", what, path.c_str(),
                 std::strerror(errno));
  }
  return ok;
}

// Writes the reports where the flags say; false (with a message) if a file failed.
bool emitReports(const RunReport& report) {
  TextReportOptions text;
  if (absl::GetFlag(FLAGS_verbose)) text.seedTable = TextReportOptions::SeedTable::kEverySeed;
  const std::string json = absl::GetFlag(FLAGS_json);
  std::FILE* textOut = json == "-" ? stderr : stdout;
  std::fputs(renderReportText(report, text).c_str(), textOut);
  std::fflush(textOut);
  bool ok = true;
  if (const std::string junit = absl::GetFlag(FLAGS_junit); !junit.empty()) {
    ok = writeFile(junit, renderReportJunit(report), "JUnit");
  }
  if (json.empty()) return ok;
  const std::string rendered = renderReportJson(report);
  if (json != "-") return writeFile(json, rendered, "JSON") && ok;
  std::fputs(rendered.c_str(), stdout);
  std::fflush(stdout);
  return ok;
}

int usageError(const char* argv0, const absl::Status& status,
               int code = RunReport::kExitUsage) {
  std::fprintf(stderr, "%s: %s (see --help)\n", argv0, std::string(status.message()).c_str());
  return code;
}

}  // namespace

int runMain(int argc, char** argv, BuilderFactory makeBuilder) {
  const char* argv0 = argc > 0 ? argv[0] : "simulation";
  ParsedCommandLine cmd;
  if (absl::Status parsed = internal::parseCommandLine(argc, argv, cmd); !parsed.ok()) {
    return usageError(argv0, parsed);
  }
  absl::StatusOr<RunOptions> options = optionsFromFlags(argv0, cmd);
  if (!options.ok()) return usageError(argv0, options.status());
  absl::StatusOr<SimulationBuilder> builder = makeBuilder();
  if (cmd.version == ParsedCommandLine::Version::kYes) {
    const std::string name = builder.ok() ? " simulation '" + builder->spec().name + "'" : "";
    std::fprintf(stdout, "%s: moonpool %s%s, build %s\n", argv0, moonpoolVersion(), name.c_str(),
                buildId().c_str());
    return 0;
  }
  if (absl::Status build = checkBuild(); !build.ok()) {
    return usageError(argv0, build, RunReport::kExitBuildMismatch);
  }
  if (cmd.help == ParsedCommandLine::Help::kYes) {
    const std::string title =
        builder.ok() ? "moonpool simulation '" + builder->spec().name + "'" : "moonpool simulation";
    std::fputs(internal::usageText(argv0, title).c_str(), stdout);
    return 0;
  }
  if (!builder.ok()) return usageError(argv0, builder.status());
  if (absl::Status status = applyExplorationFlags(cmd, builder->spec(), *options); !status.ok()) {
    return usageError(argv0, status);
  }
  if (absl::Status status = applyPortfolioFlags(cmd, *options); !status.ok()) {
    return usageError(argv0, status);
  }
  if (options->exploration) reexecWithHugePages(argv);
  const std::string coverageDir = absl::GetFlag(FLAGS_coverage_dir);
  if (absl::Status status = coverageDir.empty() ? absl::OkStatus()
                            : internal::startCoverageDir(coverageDir, *options);
      !status.ok()) {
    return usageError(argv0, status);
  }
  const RunReport report = runSimulation(*builder, *std::move(options));
  if (!emitReports(report)) return RunReport::kExitUsage;
  if (absl::Status status = coverageDir.empty() ? absl::OkStatus()
                            : internal::finishCoverageDir(coverageDir);
      !status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv0, std::string(status.message()).c_str());
    return RunReport::kExitUsage;
  }
  return report.exitCode();
}

int runMain(int argc, char** argv, SimulationBuilder builder) {
  return runMain(argc, argv, [&builder]() -> absl::StatusOr<SimulationBuilder> { return builder; });
}

}  // namespace moonpool
