// The report of a sharded run from its shards' reports (see runner/report_merge.h).
#include <algorithm>
#include <map>
#include <tuple>

#include "iteration.h"
#include "moonpool/check.h"
#include "moonpool/runner/report_merge.h"
#include "report_totals.h"
#include "report_util.h"

namespace moonpool {
namespace {

using internal::addBuggifySite;
using internal::addExplorerCounters;
using internal::BuggifyTotals;

// What makes two reports shards of one run: the same simulation run the same way.
absl::Status checkSameRun(const RunReport& first, const RunReport& other) {
  if (other.buildId != first.buildId) {
    return absl::FailedPreconditionError(
        "shard " + std::to_string(other.shard->index) + " is of build " + other.buildId +
        ", shard " + std::to_string(first.shard->index) + " of build " + first.buildId +
        ": shards of one run come from one binary (rebuild, and rerun the odd shard)");
  }
  const auto differ = [&](const char* what) {
    return absl::InvalidArgumentError(
        "shards " + std::to_string(first.shard->index) + " and " +
        std::to_string(other.shard->index) + " are not of one run: their " + what + " differ");
  };
  if (other.name != first.name) return differ("simulations");
  if (other.iteration != first.iteration) return differ("iteration controls");
  if (other.reproFlags != first.reproFlags || other.reproTemplate != first.reproTemplate ||
      other.replayTemplate != first.replayTemplate) {
    return differ("simulation flags");
  }
  if (other.explored != first.explored || other.edgeMode != first.edgeMode ||
      other.edgesTotal != first.edgesTotal) {
    return differ("exploration settings");
  }
  if (other.coverage != first.coverage) return differ("coverage contract policies");
  if (other.coverageSignal != first.coverageSignal) return differ("coverage signals");
  return absl::OkStatus();
}

// Every report is a shard, of one count, each index exactly once.
absl::Status checkShards(const std::vector<RunReport>& shards) {
  if (shards.empty()) return absl::InvalidArgumentError("no report to merge");
  for (std::size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].shard) continue;
    return absl::InvalidArgumentError(
        "report " + std::to_string(i + 1) + " is not a shard report (its run had no --shard)" +
        (shards[i].mergedShards > 0 ? "; it is already a merged report" : ""));
  }
  const std::uint32_t count = shards[0].shard->count;
  std::vector<int> seen(count, 0);
  for (const RunReport& r : shards) {
    if (r.shard->count != count) {
      return absl::InvalidArgumentError(
          "shard counts differ: " + std::to_string(shards[0].shard->index) + "/" +
          std::to_string(count) + " and " + std::to_string(r.shard->index) + "/" +
          std::to_string(r.shard->count) + " split different runs");
    }
    if (++seen[r.shard->index] > 1) {
      return absl::InvalidArgumentError("shard " + std::to_string(r.shard->index) + "/" +
                                        std::to_string(count) +
                                        " is given twice (overlapping shards)");
    }
  }
  std::string missing;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (seen[i] == 0) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError("missing shard(s) " + missing + " of " +
                                      std::to_string(count) + ": the merge would not be the run");
  }
  for (const RunReport& r : shards) {
    if (absl::Status same = checkSameRun(shards[0], r); !same.ok()) return same;
  }
  return absl::OkStatus();
}

void addStats(explorer::Stats& total, const explorer::Stats& s) {
  addExplorerCounters(total, s);
  total.energyLeft += s.energyLeft;
  total.poolLeft += s.poolLeft;
  // bitmapBits and edgesCovered are the sizes of the unions (unionMaps).
  total.edgesTotal = std::max(total.edgesTotal, s.edgesTotal);
}

// ORs the shards' explored maps and covered edges (of equal sizes: one build, checked by
// checkSameRun and by the reader), and counts the unions.
void unionMaps(RunReport& merged, const std::vector<RunReport>& shards) {
  if (!merged.explored) return;
  merged.exploredMap = shards[0].exploredMap;
  merged.coveredEdges = shards[0].coveredEdges;
  for (const RunReport& r : shards) {
    MOONPOOL_CHECK(r.exploredMap.size() == merged.exploredMap.size() &&
                       r.coveredEdges.size() == merged.coveredEdges.size(),
                   "shards' maps of one size");
    for (std::size_t i = 0; i < r.exploredMap.size(); ++i) {
      merged.exploredMap[i] |= r.exploredMap[i];
    }
    for (std::size_t i = 0; i < r.coveredEdges.size(); ++i) {
      merged.coveredEdges[i] |= r.coveredEdges[i];
    }
  }
  merged.totals.exploration.bitmapBits = internal::bitCount(merged.exploredMap);
  merged.totals.exploration.edgesCovered = internal::bitCount(merged.coveredEdges);
}

void addTotals(RunTotals& total, const RunTotals& t) {
  total.seeds += t.seeds;
  total.passed += t.passed;
  total.failed += t.failed;
  total.exploredBugSeeds += t.exploredBugSeeds;
  total.simulated += t.simulated;
  total.steps += t.steps;
  total.exploredSeeds += t.exploredSeeds;
  addStats(total.exploration, t.exploration);
}

// Pools the kept seeds and keeps again what one process would have (RunReport::addSeed's
// rule, in index order): each of those was kept by its shard, whose rule is the same.
void mergeSeeds(RunReport& merged, std::vector<RunReport>& shards) {
  std::vector<SeedResult> pool;
  for (RunReport& r : shards) {
    for (SeedResult& s : r.seeds) pool.push_back(std::move(s));
  }
  std::sort(pool.begin(), pool.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.index < b.index; });
  for (SeedResult& s : pool) {
    const bool passed = s.verdict == SeedVerdict::kPass;
    const bool keep = merged.seeds.size() < RunReport::kSeedsSampleMax ||
                      (!passed && merged.failingSeedsKept < RunReport::kFailingSeedsKeptMax);
    if (!keep) continue;
    if (!passed) ++merged.failingSeedsKept;
    merged.seeds.push_back(std::move(s));
  }
  merged.sortSeeds();  // checks that no index came twice
  merged.seedsNotKept = merged.totals.seeds - merged.seeds.size();
  merged.failingSeedsNotKept = merged.totals.failed - merged.failingSeedsKept;
}

using SiteKey = std::tuple<std::string, std::uint32_t, std::uint32_t, std::string, AssertKind>;

SiteKey keyOf(const SiteResult& s) { return {s.file, s.line, s.column, s.message, s.kind}; }

void mergeBucketsInto(std::vector<BucketResult>& into, const std::vector<BucketResult>& from) {
  for (const BucketResult& bucket : from) {
    auto it = std::find_if(into.begin(), into.end(),
                           [&](const BucketResult& b) { return b.keys == bucket.keys; });
    if (it == into.end()) {
      into.push_back(bucket);
      continue;
    }
    it->hits += bucket.hits;
    if (bucket.quality && (!it->quality || *bucket.quality > *it->quality)) {
      it->quality = bucket.quality;
    }
  }
  std::sort(into.begin(), into.end(),
            [](const BucketResult& a, const BucketResult& b) { return a.keys < b.keys; });
}

// Folds one shard's record of a site into the run's (shards are folded in index order).
void mergeSiteInto(SiteResult& into, const SiteResult& from) {
  into.passes += from.passes;
  into.fails += from.fails;
  into.hits = into.passes + into.fails;
  if (!into.firstFailure) into.firstFailure = from.firstFailure;
  if (from.watermark) {
    const bool maximize = watermarkDirection(into.kind) == WatermarkDirection::kMaximize;
    if (!into.watermark || (maximize ? *from.watermark > *into.watermark
                                     : *from.watermark < *into.watermark)) {
      into.watermark = from.watermark;
    }
  }
  into.frontier = std::max(into.frontier, from.frontier);
  into.arity = std::max(into.arity, from.arity);
  into.bucketsMax = std::max(into.bucketsMax, from.bucketsMax);
  into.bucketOverflows += from.bucketOverflows;
  mergeBucketsInto(into.buckets, from.buckets);
}

AssertionReport mergeAssertions(const std::vector<RunReport>& shards) {
  std::map<SiteKey, SiteResult> sites;
  AssertionReport out{.sites = {}, .violations = 0, .discoveries = 0, .bucketOverflows = 0};
  for (const RunReport& r : shards) {
    out.violations += r.assertions.violations;
    out.discoveries += r.assertions.discoveries;
    out.bucketOverflows += r.assertions.bucketOverflows;
    for (const SiteResult& site : r.assertions.sites) {
      auto [it, inserted] = sites.emplace(keyOf(site), site);
      if (!inserted) mergeSiteInto(it->second, site);
    }
  }
  for (auto& [key, site] : sites) {
    site.status = siteStatusOf(site);
    out.sites.push_back(std::move(site));
  }
  return out;
}

void mergeCounts(RunReport& merged, const RunReport& r,
                 BuggifyTotals& buggify) {
  for (const auto& [kind, count] : r.faultCounts) merged.faultCounts[kind] += count;
  for (const auto& [name, metric] : r.metrics) mergeMetric(merged.metrics, name, metric);
  for (const BuggifySiteTotal& site : r.buggify) addBuggifySite(buggify, site);
}

// "a; b" over the distinct stop reasons, in shard order.
std::string stopReasons(const std::vector<RunReport>& shards) {
  std::vector<std::string> reasons;
  for (const RunReport& r : shards) {
    if (std::find(reasons.begin(), reasons.end(), r.stopReason) == reasons.end()) {
      reasons.push_back(r.stopReason);
    }
  }
  std::string out;
  for (const std::string& reason : reasons) out += (out.empty() ? "" : "; ") + reason;
  return out;
}

}  // namespace

absl::StatusOr<RunReport> mergeShardReports(std::vector<RunReport> shards) {
  if (absl::Status status = checkShards(shards); !status.ok()) return status;
  std::sort(shards.begin(), shards.end(), [](const RunReport& a, const RunReport& b) {
    return a.shard->index < b.shard->index;
  });
  const RunReport& first = shards[0];
  RunReport merged;
  merged.name = first.name;
  merged.buildId = first.buildId;
  merged.command = first.command;
  merged.reproFlags = first.reproFlags;
  merged.reproTemplate = first.reproTemplate;
  merged.replayTemplate = first.replayTemplate;
  merged.iteration = first.iteration;
  merged.stopReason = stopReasons(shards);
  merged.coverageSignal = first.coverageSignal;
  merged.coverage = first.coverage;
  merged.explored = first.explored;
  merged.edgeMode = first.edgeMode;
  merged.edgesTotal = first.edgesTotal;
  merged.mergedShards = static_cast<std::uint32_t>(shards.size());
  BuggifyTotals buggify;
  for (const RunReport& r : shards) {
    merged.jobs = std::max(merged.jobs, r.jobs);
    merged.interrupted = merged.interrupted || r.interrupted;
    merged.stoppedAtFirstBug = merged.stoppedAtFirstBug || r.stoppedAtFirstBug;
    merged.wall = std::max(merged.wall, r.wall);
    addTotals(merged.totals, r.totals);
    mergeCounts(merged, r, buggify);
  }
  unionMaps(merged, shards);
  for (auto& [key, site] : buggify) merged.buggify.push_back(site);
  merged.assertions = mergeAssertions(shards);
  merged.breaches = validateContracts(merged.assertions);
  merged.coverageValue = internal::coverageSignalOf(merged.assertions);
  mergeSeeds(merged, shards);
  MOONPOOL_CHECK_EQ(merged.totals.passed + merged.totals.failed, merged.totals.seeds,
                    "merged totals add up");
  return merged;
}

}  // namespace moonpool
