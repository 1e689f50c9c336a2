// The run report for people (see runner/report.h).
#include <algorithm>
#include <cstdio>
#include <string>

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
  const std::uint64_t run = r.seedCount();
  const double wallS = std::max(seconds(r.wall), 1e-9);
  const double simS = seconds(r.simulatedTotal());
  const double perSeed = run == 0 ? 0.0 : 1.0 / static_cast<double>(run);
  out += "\nSummary\n";
  std::string failed = std::to_string(r.failedCount()) + " failed";
  if (r.exploredBugCount() > 0) {
    failed += ", " + std::to_string(r.exploredBugCount()) + " of them through explored timelines";
  }
  line(out, "seeds run",
       std::to_string(run) + " (" + std::to_string(r.passedCount()) + " passed, " + failed + ")");
  line(out, "stopped", r.stopReason);
  line(out, "simulated time",
       fixed(simS, 1) + " s total, " + fixed(simS * perSeed, 1) + " s per seed");
  line(out, "events (steps)",
       std::to_string(r.stepsTotal()) + " total, " +
           std::to_string(run == 0 ? 0 : r.stepsTotal() / run) + " per seed");
  line(out, "wall time",
       fixed(seconds(r.wall), 3) + " s (" + fixed(seconds(r.wall) * 1e3 * perSeed, 2) +
           " ms per seed, " + std::to_string(r.jobs) + (r.jobs == 1 ? " job)" : " jobs)"));
  if (r.firstBugWall) line(out, "first bug", "after " + fixed(seconds(*r.firstBugWall), 3) + " s");
  line(out, "sim / wall", fixed(simS / wallS, 0) + "x (simulated seconds per wall second)");
  line(out, "seeds / s", fixed(static_cast<double>(run) / wallS, 1));
  line(out, "events / wall s", fixed(static_cast<double>(r.stepsTotal()) / wallS, 0));
  if (!r.coverageSignal.empty()) {
    line(out, "assert coverage", std::to_string(r.coverageValue) + " (" + r.coverageSignal + ")");
  }
}

std::string scope(const RunReport& r) {
  return r.explored ? "all seeds and their explored timelines" : "all seeds";
}

void appendMetrics(std::string& out, const RunReport& r) {
  if (r.metrics.empty()) return;
  out += "\nWorkload metrics (" + scope(r) + ")\n";
  for (const auto& [name, metric] : r.metrics) {
    line(out, name,
         std::to_string(metric.value) + (metric.kind == Metric::Kind::kSum ? " (sum)" : " (max)"));
  }
}

void appendFaults(std::string& out, const RunReport& r) {
  out += "\nFaults fired (" + scope(r) + ")\n";
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
  if (const SeedResult* first = r.firstFailure(); first != nullptr && !first->config.empty()) {
    out += "\nConfiguration of the first failing seed (" + std::to_string(first->seed) + ")\n";
    out += internal::indent(first->config, "  ");
  }
  out += "\nFailing seeds (build " + r.buildId + ")\n";
  for (const SeedResult& seed : r.seeds) {
    if (seed.verdict == SeedVerdict::kPass) continue;
    out += renderFailingSeed(r, seed);
    if (seed.trace.empty()) continue;
    out += "    trace (" + std::to_string(seed.trace.size()) + " events):\n";
    for (const std::string& event : seed.trace) out += "      " + event + "\n";
  }
  if (r.failingSeedsNotKept > 0) {
    out += "  ... and " + std::to_string(r.failingSeedsNotKept) +
           " more failing seeds, printed as they failed (the report keeps " +
           std::to_string(RunReport::kFailingSeedsKeptMax) + ")\n";
  }
}

// The fixed search order (workers run only there): its workers, what they cost, and its
// bounds, which are reported whenever one was reached.
void appendFixedOrder(std::string& out, const explorer::Stats& total) {
  if (total.workersRun > 0) {
    line(out, "fixed order",
         std::to_string(total.workersRun) + " workers run (" +
             std::to_string(total.resultsDropped) + " results run ahead, dropped and rerun); " +
             fixed(static_cast<double>(total.jobsCpuNs) / 1e9, 3) + " s job CPU, critical path " +
             fixed(static_cast<double>(total.criticalPathNs) / 1e9, 3) + " s");
  }
  if (total.candidateOverflows > 0) {
    line(out, "candidates lost",
         std::to_string(total.candidateOverflows) + " candidate splitpoints dropped: more than " +
             std::to_string(explorer::kCandidatesMax) + " in one job (never judged)");
  }
  if (total.jobOverflows > 0) {
    line(out, "job table full",
         std::to_string(total.jobOverflows) + " jobs not run: more than " +
             std::to_string(explorer::kJobsMax) + " jobs in one seed");
  }
}

void appendExploration(std::string& out, const RunReport& r) {
  if (!r.explored) return;
  const explorer::Stats& total = r.totals.exploration;
  const double wallS = std::max(seconds(r.wall), 1e-9);
  out += "\nExploration (forked timelines at discoveries; edge counters: " +
         (r.edgeMode.empty() ? std::string("none, assertion bitmap only")
                             : r.edgeMode + ", " + std::to_string(r.edgesTotal)) +
         ")\n";
  if (r.schedule) {
    const ScheduleSplit& split = *r.schedule;
    line(out, "schedule",
         "portfolio: " + std::to_string(split.plainSeeds) + " plain seeds in " +
             fixed(seconds(split.plainWall), 2) + " s (the first " +
             std::to_string(split.plainFirst) + ", then at least " +
             std::to_string(split.plainPercent) + " % of runs), " + std::to_string(split.roots) +
             " roots explored in " + fixed(seconds(split.exploreWall), 2) + " s");
  }
  line(out, "timelines", std::to_string(total.timelines) + " forked (" +
                             fixed(static_cast<double>(total.timelines) / wallS, 0) +
                             " per wall s), " + std::to_string(total.splits) + " splitpoints");
  line(out, "productive", std::to_string(total.productive) + " timelines added coverage; " +
                              std::to_string(total.barrenMarks) + " barren marks");
  line(out, "deepest", std::to_string(total.depthReachedMax) + " forks; " +
                           std::to_string(total.respawned) + " timelines respawned by the root");
  if (total.hangs > 0) {
    line(out, "hangs", std::to_string(total.hangs) + " timelines killed by the watchdog");
  }
  if (total.markOverflows > 0) {
    line(out, "mark table full",
         std::to_string(total.markOverflows) + " splits not taken: more than " +
             std::to_string(explorer::kMarksMax) + " marks this seed (never forked unbudgeted)");
  }
  appendFixedOrder(out, total);
  line(out, "explored map", std::to_string(total.bitmapBits) + " bitmap bits" +
                                (r.edgesTotal == 0 ? std::string()
                                                   : ", " + std::to_string(total.edgesCovered) +
                                                         " of " + std::to_string(r.edgesTotal) +
                                                         " edges"));
  line(out, "bugs", std::to_string(total.bugs) + " timelines (" + std::to_string(total.signals) +
                        " killed by a signal), in " + std::to_string(r.exploredBugCount()) +
                        " of " + std::to_string(r.seedCount()) + " seeds");
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
  std::string counts = std::to_string(r.failedCount()) + " of " + std::to_string(r.seedCount()) +
                       " seeds failed";
  if (r.exploredBugCount() > 0) {
    counts += " (" + std::to_string(r.exploredBugCount()) + " through explored timelines)";
  }
  counts += ", " + std::to_string(breaches.size()) + " assertion contract(s) broken";
  if (r.interrupted) {
    out += "INTERRUPTED: the report covers the " + std::to_string(r.seedCount()) +
           " seeds finished; " + counts + ".\n";
    return;
  }
  if (r.allPassed()) {
    out += "All " + std::to_string(r.seedCount()) + " seeds passed";
    out += r.breaches.empty() ? ".\n"
                              : " (assertion contract gaps reported only: coverage contracts " +
                                    std::string(coverageContractsName(r.coverage)) + ").\n";
    return;
  }
  if (!r.bugFound()) {
    out += "COVERAGE GAP: no bug, but " + std::to_string(breaches.size()) +
           " assertion contract(s) missed in " + std::to_string(r.seedCount()) +
           " seeds (exit " + std::to_string(RunReport::kExitCoverageGap) + ").\n";
    return;
  }
  if (r.stoppedAtFirstBug) {
    out += "FAILED, stopped at the first bug (--stop_at_first_bug): " + counts + ".\n";
    return;
  }
  out += "FAILED: " + counts + ".\n";
}

}  // namespace

std::string renderReportText(const RunReport& r, TextReportOptions options) {
  std::string out = "moonpool simulation '" + r.name + "' (build " + r.buildId + ")\n";
  out += "  iteration: " + r.iteration + "\n";
  if (r.shard) {
    out += "  shard: " + std::to_string(r.shard->index) + " of " + std::to_string(r.shard->count) +
           " (seeds at indices i with i % " + std::to_string(r.shard->count) + " == " +
           std::to_string(r.shard->index) + ")\n";
  }
  if (r.mergedShards > 0) {
    out += "  merged: " + std::to_string(r.mergedShards) + " shard reports (moonpool-merge)\n";
  }
  if (options.seedTable == TextReportOptions::SeedTable::kEverySeed) {
    char header[160];
    std::snprintf(header, sizeof header, "%-20s %-6s %10s %12s %9s", "seed", "result", "sim s",
                  "steps", "wall ms");
    out += std::string("\n") + header + "\n";
    for (const SeedResult& s : r.seeds) out += renderSeedLine(s) + "\n";
    if (r.seedsNotKept > 0) {
      out += "(" + std::to_string(r.seedsNotKept) + " more seeds not kept: the report keeps the " +
             "first " + std::to_string(RunReport::kSeedsSampleMax) + " and failing ones)\n";
    }
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
