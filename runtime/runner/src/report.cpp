// The run report's model and its text rendering (see runner/report.h).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "moonpool/check.h"
#include "moonpool/runner/report.h"
#include "report_util.h"

namespace moonpool {
namespace {

using internal::seconds;

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// "label            value" with the label padded to a fixed column, as the summary prints.
void line(std::string& out, std::string_view label, const std::string& value) {
  std::string padded(label);
  if (padded.size() < 16) padded.resize(16, ' ');
  out += "  " + padded + " " + value + "\n";
}

void appendSummary(std::string& out, const RunReport& r) {
  const std::uint64_t run = r.seeds.size();
  const double wallS = std::max(seconds(r.wall), 1e-9);
  const double simS = seconds(r.simulatedTotal());
  const double perSeed = run == 0 ? 0.0 : 1.0 / static_cast<double>(run);
  out += "\nSummary\n";
  line(out, "seeds run",
       std::to_string(run) + " (" + std::to_string(r.passedCount()) + " passed, " +
           std::to_string(r.failedCount()) + " failed)");
  line(out, "stopped", r.stopReason);
  line(out, "simulated time",
       fixed(simS, 1) + " s total, " + fixed(simS * perSeed, 1) + " s per seed");
  line(out, "events (steps)",
       std::to_string(r.stepsTotal()) + " total, " +
           std::to_string(run == 0 ? 0 : r.stepsTotal() / run) + " per seed");
  line(out, "wall time",
       fixed(seconds(r.wall), 3) + " s (" + fixed(seconds(r.wall) * 1e3 * perSeed, 2) +
           " ms per seed, " + std::to_string(r.jobs) + (r.jobs == 1 ? " job)" : " jobs)"));
  line(out, "sim / wall", fixed(simS / wallS, 0) + "x (simulated seconds per wall second)");
  line(out, "seeds / s", fixed(static_cast<double>(run) / wallS, 1));
  line(out, "events / wall s", fixed(static_cast<double>(r.stepsTotal()) / wallS, 0));
  if (!r.coverageSignal.empty()) {
    line(out, "coverage", std::to_string(r.coverageValue) + " (" + r.coverageSignal + ")");
  }
}

void appendMetrics(std::string& out, const RunReport& r) {
  if (r.metrics.empty()) return;
  out += "\nWorkload metrics (all seeds)\n";
  for (const auto& [name, metric] : r.metrics) {
    line(out, name,
         std::to_string(metric.value) + (metric.kind == Metric::Kind::kSum ? " (sum)" : " (max)"));
  }
}

void appendFaults(std::string& out, const RunReport& r) {
  out += "\nFaults fired (all seeds)\n";
  if (r.faultCounts.empty()) out += "  none\n";
  for (const auto& [kind, count] : r.faultCounts) line(out, kind, std::to_string(count));
}

void appendBuggify(std::string& out, const RunReport& r) {
  out += "\nBuggify sites (all seeds)\n";
  if (r.buggify.empty()) out += "  none evaluated\n";
  for (const BuggifySiteTotal& site : r.buggify) {
    out += "  " + site.file + ":" + std::to_string(site.line) + "  evaluated in " +
           std::to_string(site.seedsEvaluated) + " seeds, active in " +
           std::to_string(site.seedsActive) + ", fired " + std::to_string(site.fired) + " of " +
           std::to_string(site.evaluated) + " evaluations\n";
  }
}

void appendFailures(std::string& out, const RunReport& r) {
  if (r.failedCount() == 0) return;
  if (const SeedResult* first = r.firstFailure(); first != nullptr) {
    out += "\nConfiguration of the first failing seed (" + std::to_string(first->seed) + ")\n";
    out += internal::indent(first->config, "  ");
  }
  out += "\nFailing seeds (build " + r.buildId + ")\n";
  for (const SeedResult& seed : r.seeds) {
    if (seed.verdict == SeedVerdict::kPass) continue;
    // The message's first line goes after the seed, its other lines (task lists) below.
    const std::string body =
        internal::indent(seed.message.empty() ? "(no message)" : seed.message, "    ");
    out += "  seed " + std::to_string(seed.seed) + ": " +
           std::string(seedFailureName(seed.failure)) + ": " + body.substr(4);
    out += "    reproduce: " + r.reproduction(seed) + "\n";
    if (seed.trace.empty()) continue;
    out += "    trace (" + std::to_string(seed.trace.size()) + " events):\n";
    for (const std::string& event : seed.trace) out += "      " + event + "\n";
  }
}

void appendExploration(std::string& out, const RunReport& r) {
  if (!r.explored) return;
  explorer::Stats total{};
  std::uint64_t seedsWithBugs = 0;
  for (const SeedResult& seed : r.seeds) {
    if (!seed.exploration) continue;
    const explorer::Stats& s = seed.exploration->stats;
    total.timelines += s.timelines;
    total.splits += s.splits;
    total.productive += s.productive;
    total.bugs += s.bugs;
    total.signals += s.signals;
    total.barrenMarks += s.barrenMarks;
    total.depthReachedMax = std::max(total.depthReachedMax, s.depthReachedMax);
    total.bitmapBits = s.bitmapBits;  // carried over: the last seed's is the run's
    total.edgesCovered = s.edgesCovered;
    seedsWithBugs += seed.exploration->bugFound ? 1 : 0;
  }
  const double wallS = std::max(seconds(r.wall), 1e-9);
  out += "\nExploration (forked timelines at discoveries; edge counters: " +
         (r.edgeMode.empty() ? std::string("none, assertion bitmap only")
                             : r.edgeMode + ", " + std::to_string(r.edgesTotal)) +
         ")\n";
  line(out, "timelines", std::to_string(total.timelines) + " forked (" +
                             fixed(static_cast<double>(total.timelines) / wallS, 0) +
                             " per wall s), " + std::to_string(total.splits) + " splitpoints");
  line(out, "productive", std::to_string(total.productive) + " timelines added coverage; " +
                              std::to_string(total.barrenMarks) + " barren marks");
  line(out, "deepest", std::to_string(total.depthReachedMax) + " forks");
  line(out, "coverage", std::to_string(total.bitmapBits) + " bitmap bits" +
                            (r.edgesTotal == 0 ? std::string()
                                               : ", " + std::to_string(total.edgesCovered) +
                                                     " of " + std::to_string(r.edgesTotal) +
                                                     " edges"));
  line(out, "bugs", std::to_string(total.bugs) + " timelines (" + std::to_string(total.signals) +
                        " killed by a signal), in " + std::to_string(seedsWithBugs) + " of " +
                        std::to_string(r.seeds.size()) + " seeds");
  if (seedsWithBugs == 0) return;
  out += "\nBugs found by exploration (build " + r.buildId + ")\n";
  for (const SeedResult& seed : r.seeds) {
    if (!seed.exploration || !seed.exploration->bugFound) continue;
    const SeedExploration& e = *seed.exploration;
    const std::string body = internal::indent(e.bugMessage, "    ");
    out += "  seed " + std::to_string(seed.seed) + ": " + e.bugClass + ", depth " +
           std::to_string(e.bugDepth) + ", after " + std::to_string(e.timelinesToBug) +
           " timelines and " + fixed(seconds(e.wallToBug), 3) + " s: " + body.substr(4);
    out += "    recipe: " + e.recipe + "\n";
    out += "    replay: " + r.replayCommand(e) + "\n";
  }
}

// Traces of passing seeds (kept for a single-seed replay with --trace).
void appendPassingTraces(std::string& out, const RunReport& r) {
  for (const SeedResult& seed : r.seeds) {
    if (seed.verdict == SeedVerdict::kFail || seed.trace.empty()) continue;
    out += "\nTrace of seed " + std::to_string(seed.seed) + " (" +
           std::to_string(seed.trace.size()) + " events)\n";
    for (const std::string& event : seed.trace) out += "  " + event + "\n";
  }
}

void appendVerdict(std::string& out, const RunReport& r) {
  const std::vector<const ContractBreach*> breaches = r.failingBreaches();
  out += "\n";
  if (r.allPassed()) {
    out += "All " + std::to_string(r.seeds.size()) + " seeds passed";
    out += r.breaches.empty() ? ".\n"
                              : " (assertion contract gaps reported only: coverage contracts " +
                                    std::string(coverageContractsName(r.coverage)) + ").\n";
    return;
  }
  out += "FAILED: " + std::to_string(r.failedCount()) + " of " + std::to_string(r.seeds.size()) +
         " seeds failed, " + std::to_string(breaches.size()) + " assertion contract(s) broken";
  if (r.explored) {
    out += ", explored timelines found bugs in " + std::to_string(r.exploredBugCount()) +
           " seed(s)";
  }
  out += ".\n";
}

}  // namespace

std::string_view seedVerdictName(SeedVerdict verdict) {
  return verdict == SeedVerdict::kPass ? "pass" : "FAIL";
}

std::string_view seedFailureName(SeedFailure failure) {
  switch (failure) {
    case SeedFailure::kNone:
      return "none";
    case SeedFailure::kAssertion:
      return "assertion";
    case SeedFailure::kCheck:
      return "check";
    case SeedFailure::kWorkloadError:
      return "workload error";
    case SeedFailure::kProcessError:
      return "process error";
    case SeedFailure::kDeadlock:
      return "deadlock";
    case SeedFailure::kLivelock:
      return "livelock";
    case SeedFailure::kSimTimeBudget:
      return "simulated-time budget";
    case SeedFailure::kRunFailed:
      return "run failed";
    case SeedFailure::kCrashed:
      return "crashed";
  }
  internal::checkFailed("known SeedFailure", std::to_string(static_cast<int>(failure)),
                        std::source_location::current());
}

std::string_view coverageContractsName(CoverageContracts coverage) {
  switch (coverage) {
    case CoverageContracts::kEnforce:
      return "enforce";
    case CoverageContracts::kReachedOnly:
      return "reached_only";
    case CoverageContracts::kReportOnly:
      return "report_only";
  }
  internal::checkFailed("known CoverageContracts", std::to_string(static_cast<int>(coverage)),
                        std::source_location::current());
}

void mergeMetric(std::map<std::string, Metric>& into, const std::string& name, Metric value) {
  auto [it, inserted] = into.emplace(name, value);
  if (inserted) return;
  MOONPOOL_CHECK(it->second.kind == value.kind, "metric '" + name + "' used as sum and max");
  if (value.kind == Metric::Kind::kSum) {
    it->second.value += value.value;
  } else {
    it->second.value = std::max(it->second.value, value.value);
  }
}

std::uint64_t RunReport::passedCount() const {
  return static_cast<std::uint64_t>(
      std::count_if(seeds.begin(), seeds.end(),
                    [](const SeedResult& s) { return s.verdict == SeedVerdict::kPass; }));
}

std::uint64_t RunReport::failedCount() const { return seeds.size() - passedCount(); }

Duration RunReport::simulatedTotal() const {
  Duration total{0};
  for (const SeedResult& s : seeds) total += s.simulated;
  return total;
}

std::uint64_t RunReport::stepsTotal() const {
  std::uint64_t total = 0;
  for (const SeedResult& s : seeds) total += s.steps;
  return total;
}

std::vector<const ContractBreach*> RunReport::failingBreaches() const {
  std::vector<const ContractBreach*> out;
  for (const ContractBreach& b : breaches) {
    const bool reached =
        b.breach == BreachKind::kNeverTrue || b.breach == BreachKind::kBucketOverflow;
    if (isDefiniteBug(b.breach) || coverage == CoverageContracts::kEnforce ||
        (coverage == CoverageContracts::kReachedOnly && reached)) {
      out.push_back(&b);
    }
  }
  return out;
}

const SeedResult* RunReport::firstFailure() const {
  for (const SeedResult& s : seeds) {
    if (s.verdict == SeedVerdict::kFail) return &s;
  }
  return nullptr;
}

std::uint64_t RunReport::exploredBugCount() const {
  std::uint64_t count = 0;
  for (const SeedResult& s : seeds) count += s.exploration && s.exploration->bugFound ? 1 : 0;
  return count;
}

std::string RunReport::replayCommand(const SeedExploration& exploration) const {
  std::string out = internal::shellQuote(command.empty() ? name : command) +
                    " --replay=" + internal::shellQuote(exploration.recipe);
  for (const std::string& flag : reproFlags) out += " " + internal::shellQuote(flag);
  return out + " # build " + buildId;
}

std::string RunReport::reproduction(const SeedResult& seed) const {
  if (!seed.replayedRecipe.empty() && reproTemplate.empty()) {
    return replayCommand(SeedExploration{.recipe = seed.replayedRecipe});
  }
  std::string out;
  if (!reproTemplate.empty()) {
    out = reproTemplate;
    const std::string seedText = std::to_string(seed.seed);
    for (std::size_t at = out.find("{seed}"); at != std::string::npos;
         at = out.find("{seed}", at + seedText.size())) {
      out.replace(at, 6, seedText);
    }
  } else {
    out = internal::shellQuote(command.empty() ? name : command) +
          " --seed=" + std::to_string(seed.seed);
    for (const std::string& flag : reproFlags) out += " " + internal::shellQuote(flag);
  }
  return out + " # build " + buildId;
}

std::string renderSeedLine(const SeedResult& s) {
  char buffer[160];
  std::snprintf(
      buffer, sizeof buffer, "%-20" PRIu64 " %-6s %10.3f %12" PRIu64 " %9.2f  %s", s.seed,
      std::string(seedVerdictName(s.verdict)).c_str(), seconds(s.simulated), s.steps,
      seconds(s.wall) * 1e3,
      s.verdict == SeedVerdict::kPass ? "" : std::string(seedFailureName(s.failure)).c_str());
  std::string out = buffer;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string renderReportText(const RunReport& r, TextReportOptions options) {
  std::string out = "moonpool simulation '" + r.name + "' (build " + r.buildId + ")\n";
  out += "  iteration: " + r.iteration + "\n";
  if (options.seedTable == TextReportOptions::SeedTable::kEverySeed) {
    char header[160];
    std::snprintf(header, sizeof header, "%-20s %-6s %10s %12s %9s", "seed", "result", "sim s",
                  "steps", "wall ms");
    out += std::string("\n") + header + "\n";
    for (const SeedResult& s : r.seeds) out += renderSeedLine(s) + "\n";
  }
  appendSummary(out, r);
  appendMetrics(out, r);
  appendFaults(out, r);
  appendBuggify(out, r);
  appendExploration(out, r);
  out += "\nAssertions (all seeds)\n" + renderText(r.assertions);
  appendPassingTraces(out, r);
  appendFailures(out, r);
  appendVerdict(out, r);
  return out;
}

}  // namespace moonpool
