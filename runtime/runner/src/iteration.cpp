// Seed sequences and stop rules (see iteration.h).
#include "iteration.h"

#include "moonpool/assertions/report.h"
#include "moonpool/check.h"

namespace moonpool::internal {

std::uint64_t SeedSequence::at(std::uint64_t index) const {
  if (index < explicit_.size()) return explicit_[index];
  return first_ + (index - explicit_.size());  // wraps modulo 2^64, as seeds may
}

std::string coverageSignalName() {
  return "assertion coverage: sites reached + sometimes sites held + sometimes_each buckets";
}

std::uint64_t coverageSignal() { return coverageSignalOf(collectAssertionReport()); }

std::uint64_t coverageSignalOf(const AssertionReport& report) {
  std::uint64_t signal = 0;
  for (const SiteResult& site : report.sites) {
    if (site.hits > 0) ++signal;
    if (!isInvariantKind(site.kind) && site.passes > 0) ++signal;
    signal += site.buckets.size();
  }
  return signal;
}

bool allSometimesFired() {
  const AssertionReport report = collectAssertionReport();
  for (const SiteResult& site : report.sites) {
    if (isInvariantKind(site.kind) || !isMustHitKind(site.kind)) continue;
    if (site.status == SiteStatus::kNeverReached || site.status == SiteStatus::kNeverTrue) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> StopRule::before(std::uint64_t index) const {
  MOONPOOL_CHECK_GE(control_.count, std::uint64_t{1});
  if (index >= control_.count) {
    return control_.mode == IterationControl::Mode::kFixedCount
               ? "fixed count reached"
               : "seed cap reached (" + std::to_string(control_.count) + " seeds)";
  }
  if (control_.mode == IterationControl::Mode::kWallBudget &&
      wall_.elapsed() >= control_.wallBudget) {
    return "wall-time budget of " + formatDuration(control_.wallBudget) + " spent";
  }
  return std::nullopt;
}

std::optional<std::string> StopRule::after() {
  switch (control_.mode) {
    case IterationControl::Mode::kFixedCount:
    case IterationControl::Mode::kWallBudget:
      return std::nullopt;
    case IterationControl::Mode::kUntilAllSometimesFired:
      if (allSometimesFired()) return "every sometimes/reachable assertion has held";
      return std::nullopt;
    case IterationControl::Mode::kUntilCoverageStable:
      break;
  }
  const std::uint64_t signal = coverageSignal();
  if (!bestSignal_ || signal > *bestSignal_) {
    bestSignal_ = signal;
    flatSeeds_ = 0;
    return std::nullopt;
  }
  if (++flatSeeds_ >= control_.plateau) {
    return "coverage stable for " + std::to_string(flatSeeds_) + " seeds (signal " +
           std::to_string(signal) + ")";
  }
  return std::nullopt;
}

}  // namespace moonpool::internal
