// Summing per-seed and per-shard figures into a run's totals: shared by the report built
// from seeds (report.cpp), the seed loop (seed_loop.h) and the shard merge (report_merge.cpp),
// so that a merged report adds exactly what an unsharded run adds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "moonpool/runner/report.h"

namespace moonpool::internal {

// The exploration counters that add up over seeds and shards. Fields whose total is not a
// sum (energy left, the explored map's and coverage's sizes) are each caller's.
inline void addExplorerCounters(explorer::Stats& total, const explorer::Stats& s) {
  total.timelines += s.timelines;
  total.splits += s.splits;
  total.productive += s.productive;
  total.bugs += s.bugs;
  total.signals += s.signals;
  total.barrenMarks += s.barrenMarks;
  total.markOverflows += s.markOverflows;
  total.respawned += s.respawned;
  total.hangs += s.hangs;
  total.candidateOverflows += s.candidateOverflows;
  total.jobOverflows += s.jobOverflows;
  total.workersRun += s.workersRun;
  total.resultsDropped += s.resultsDropped;
  total.jobsCpuNs += s.jobsCpuNs;
  total.criticalPathNs += s.criticalPathNs;
  total.depthReachedMax = std::max(total.depthReachedMax, s.depthReachedMax);
}

using BuggifyTotals = std::map<std::pair<std::string, std::uint32_t>, BuggifySiteTotal>;

// Adds one seed's (or one shard's) figures for a buggify site to the site's total.
inline void addBuggifySite(BuggifyTotals& totals, const BuggifySiteTotal& site) {
  BuggifySiteTotal& total = totals[{site.file, site.line}];
  total.file = site.file;
  total.line = site.line;
  total.seedsEvaluated += site.seedsEvaluated;
  total.seedsActive += site.seedsActive;
  total.evaluated += site.evaluated;
  total.fired += site.fired;
}

}  // namespace moonpool::internal
