// The run report's model: names, totals, kept seeds, reproduction lines (see
// runner/report.h). The renderings are in report_text.cpp, report_json.cpp and
// report_junit.cpp.
#include "moonpool/runner/report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "moonpool/check.h"
#include "report_totals.h"
#include "report_util.h"

namespace moonpool {
namespace {

using internal::addExplorerCounters;
using internal::seconds;

void addStats(explorer::Stats& total, const explorer::Stats& s) {
  addExplorerCounters(total, s);
  total.bitmapBits = s.bitmapBits;  // carried over seeds: the last seed's is the run's
  total.edgesTotal = s.edgesTotal;
  total.edgesCovered = s.edgesCovered;
}

std::string replaceAll(std::string text, std::string_view what, const std::string& with) {
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
  return text;
}

// Keeps the kSeedsSampleMax lowest indices and the kFailingSeedsKeptMax lowest failing
// ones, whatever the order seeds complete in (--jobs): `seeds` stays sorted by index, and
// each seed is, at once, kept or dropped for good. Seeds come nearly in index order, so a
// seed past both bounds is turned away at once.
void keepSeed(RunReport& r, SeedResult seed, bool passed) {
  constexpr std::size_t kSample = RunReport::kSeedsSampleMax;
  constexpr std::size_t kFailing = RunReport::kFailingSeedsKeptMax;
  static_assert(kFailing > kSample, "the failing bound reaches past the sample");
  std::vector<SeedResult>& kept = r.seeds;
  const bool pastSample = kept.size() >= kSample && seed.index > kept[kSample - 1].index;
  if (pastSample && passed) return;
  if (pastSample && r.failingSeedsKept >= kFailing && seed.index > kept.back().index) return;
  const auto at = std::lower_bound(
      kept.begin(), kept.end(), seed.index,
      [](const SeedResult& s, std::uint64_t index) { return s.index < index; });
  MOONPOOL_CHECK(at == kept.end() || at->index != seed.index,
                 "seed index " + std::to_string(seed.index) + " reported twice");
  kept.insert(at, std::move(seed));
  if (!passed) ++r.failingSeedsKept;
  // What the insertion pushed out: a passing seed out of the sample, and past the failing
  // bound the failing seed of highest index (never inside the sample: the bound is larger).
  if (kept.size() > kSample && kept[kSample].verdict == SeedVerdict::kPass) {
    kept.erase(kept.begin() + kSample);
  }
  if (r.failingSeedsKept > kFailing) {
    MOONPOOL_CHECK(kept.back().verdict == SeedVerdict::kFail && kept.size() > kSample,
                   "only failing seeds are kept past the sample");
    kept.pop_back();
    --r.failingSeedsKept;
  }
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
    case SeedFailure::kExplored:
      return "explored timeline";
    case SeedFailure::kInterrupted:
      return "interrupted";
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

void RunReport::addSeed(SeedResult seed) {
  MOONPOOL_CHECK(seed.failure != SeedFailure::kInterrupted, "an interrupted seed is dropped");
  MOONPOOL_CHECK_EQ(seed.verdict == SeedVerdict::kPass, seed.failure == SeedFailure::kNone,
                    "a seed fails exactly when it has a failure kind");
  const bool passed = seed.verdict == SeedVerdict::kPass;
  ++totals.seeds;
  ++(passed ? totals.passed : totals.failed);
  totals.simulated += seed.simulated;
  totals.steps += seed.steps;
  if (seed.exploration) {
    ++totals.exploredSeeds;
    addStats(totals.exploration, seed.exploration->stats);
    if (seed.exploration->bugFound) ++totals.exploredBugSeeds;
  }
  keepSeed(*this, std::move(seed), passed);
  seedsNotKept = totals.seeds - seeds.size();
  failingSeedsNotKept = totals.failed - failingSeedsKept;
}

void RunReport::sortSeeds() {
  std::sort(seeds.begin(), seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.index < b.index; });
  for (std::size_t i = 1; i < seeds.size(); ++i) {
    MOONPOOL_CHECK_LT(seeds[i - 1].index, seeds[i].index, "a seed index was reported twice");
  }
}

std::vector<const ContractBreach*> RunReport::failingBreaches() const {
  std::vector<const ContractBreach*> out;
  for (const ContractBreach& b : breaches) {
    const bool reached =
        b.breach == BreachKind::kNeverTrue || b.breach == BreachKind::kBucketOverflow;
    const bool policy = coverage == CoverageContracts::kEnforce ||
                        (coverage == CoverageContracts::kReachedOnly && reached);
    // A run cut short (a signal, --stop_at_first_bug) is not expected to reach everything.
    const bool enforced = !interrupted && !stoppedAtFirstBug && policy;
    if (isDefiniteBug(b.breach) || enforced) out.push_back(&b);
  }
  return out;
}

bool RunReport::bugFound() const {
  if (failedCount() > 0) return true;
  return std::any_of(breaches.begin(), breaches.end(),
                     [](const ContractBreach& b) { return isDefiniteBug(b.breach); });
}

const SeedResult* RunReport::firstFailure() const {
  for (const SeedResult& s : seeds) {
    if (s.verdict == SeedVerdict::kFail) return &s;
  }
  return nullptr;
}

std::string RunReport::replayCommand(const SeedExploration& exploration) const {
  if (!replayTemplate.empty()) {
    return replaceAll(replayTemplate, "{recipe}", internal::shellQuote(exploration.recipe));
  }
  std::string out = internal::shellQuote(command.empty() ? name : command) +
                    " --replay=" + internal::shellQuote(exploration.recipe);
  for (const std::string& flag : reproFlags) out += " " + internal::shellQuote(flag);
  return out + " --build=" + buildId;
}

std::string RunReport::reproduction(const SeedResult& seed) const {
  if (seed.failure == SeedFailure::kExplored && seed.exploration) {
    return replayCommand(*seed.exploration);
  }
  if (!seed.replayedRecipe.empty()) {
    return replayCommand(SeedExploration{.recipe = seed.replayedRecipe});
  }
  if (!reproTemplate.empty()) return replaceAll(reproTemplate, "{seed}", std::to_string(seed.seed));
  std::string out = internal::shellQuote(command.empty() ? name : command) +
                    " --seed=" + std::to_string(seed.seed);
  for (const std::string& flag : reproFlags) out += " " + internal::shellQuote(flag);
  return out + " --build=" + buildId;
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

std::string renderFailingSeed(const RunReport& r, const SeedResult& seed) {
  // The message's first line goes after the seed, its other lines (task lists) below.
  const std::string body =
      internal::indent(seed.message.empty() ? "(no message)" : seed.message, "    ");
  std::string out = "  seed " + std::to_string(seed.seed) + ": " +
                    std::string(seedFailureName(seed.failure)) + ": " + body.substr(4);
  if (seed.exploration && seed.exploration->bugFound) {
    const SeedExploration& e = *seed.exploration;
    out += "    explored bug: " + e.bugClass + ", depth " + std::to_string(e.bugDepth) +
           ", after " + std::to_string(e.timelinesToBug) + " timelines\n";
    out += "    recipe: " + e.recipe + "\n";
  }
  out += "    reproduce: " + r.reproduction(seed) + "\n";
  if (seed.exploration && seed.exploration->bugFound && seed.failure != SeedFailure::kExplored) {
    out += "    replay the explored bug: " + r.replayCommand(*seed.exploration) + "\n";
  }
  return out;
}

}  // namespace moonpool
