// Snapshot of the assertion table into a report, and end-of-run contract validation.
#include "moonpool/assertions/report.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/internal/assertion_region.h"
#include "state.h"

namespace moonpool {
namespace {

using internal::loadWord;

std::vector<BucketResult> readBuckets(const internal::SiteCounters& counters) {
  std::vector<BucketResult> out;
  const std::uint32_t used = std::min(internal::loadWord32(counters.bucketsUsed),
                                      counters.bucketsMax);
  for (std::uint32_t i = 0; i < used; ++i) {
    const internal::Bucket& bucket = internal::bucketAt(counters.bucketsFirst + i);
    if (bucket.state != internal::kBucketReady) continue;  // being written by a timeline
    MOONPOOL_CHECK_LE(bucket.keyCount, kBucketKeysMax);
    BucketResult result{.keys = {bucket.keys, bucket.keys + bucket.keyCount},
                        .hits = loadWord(bucket.hits),
                        .quality = std::nullopt};
    const std::int64_t quality = internal::loadSigned(bucket.quality);
    if (quality != internal::kQualityNone) result.quality = quality;
    out.push_back(std::move(result));
  }
  return out;
}

SiteResult readSite(const AssertionSite& site, const internal::SiteCounters& counters) {
  SiteResult result{};
  result.kind = site.kind;
  result.message = site.message;
  result.condition = site.condition;
  result.file = site.where.file_name();
  result.function = site.where.function_name();
  result.line = site.where.line();
  result.column = site.where.column();
  result.recordCount = 1;
  result.arity = site.arity;
  result.passes = loadWord(counters.passes);
  result.fails = loadWord(counters.fails);
  if ((internal::loadWord32(counters.flags) & internal::kFlagFirstFail) != 0) {
    result.firstFailure = FirstFailure{.evaluation = loadWord(counters.firstFailHit),
                                       .stamp = loadWord(counters.firstFailStamp),
                                       .left = counters.firstFailLeft,
                                       .right = counters.firstFailRight};
  }
  const std::int64_t mark = internal::loadSigned(counters.watermark);
  if (watermarkDirection(site.kind) != WatermarkDirection::kNone &&
      mark != internal::watermarkSentinel(site.kind)) {
    result.watermark = mark;
  }
  result.frontier = internal::loadWord32(counters.frontier);
  result.bucketsMax = counters.bucketsMax;
  result.bucketOverflows = loadWord(counters.bucketOverflows);
  result.buckets = readBuckets(counters);
  return result;
}

auto siteKey(const SiteResult& site) {
  return std::tie(site.file, site.line, site.column, site.message, site.kind);
}

// Adds bucket hits of `from` into `into`, merging equal key combinations.
void mergeBuckets(std::vector<BucketResult>& into, const std::vector<BucketResult>& from) {
  for (const BucketResult& bucket : from) into.push_back(bucket);
  std::sort(into.begin(), into.end(),
            [](const BucketResult& a, const BucketResult& b) { return a.keys < b.keys; });
  std::vector<BucketResult> merged;
  for (BucketResult& bucket : into) {
    if (merged.empty() || merged.back().keys != bucket.keys) {
      merged.push_back(std::move(bucket));
      continue;
    }
    BucketResult& last = merged.back();
    last.hits += bucket.hits;
    if (bucket.quality && (!last.quality || *bucket.quality > *last.quality)) {
      last.quality = bucket.quality;
    }
  }
  into = std::move(merged);
}

// Folds `from` (another record of the same source site) into `into`.
void mergeSite(SiteResult& into, const SiteResult& from) {
  into.recordCount += from.recordCount;
  into.passes += from.passes;
  into.fails += from.fails;
  if (!into.firstFailure) into.firstFailure = from.firstFailure;
  if (from.watermark) {
    const bool maximize = watermarkDirection(into.kind) == WatermarkDirection::kMaximize;
    if (!into.watermark || (maximize ? *from.watermark > *into.watermark
                                     : *from.watermark < *into.watermark)) {
      into.watermark = from.watermark;
    }
  }
  into.frontier = std::max(into.frontier, from.frontier);
  into.bucketsMax += from.bucketsMax;
  into.bucketOverflows += from.bucketOverflows;
  mergeBuckets(into.buckets, from.buckets);
}

}  // namespace

SiteStatus siteStatusOf(const SiteResult& site) {
  const bool reached = site.hits > 0;
  switch (site.kind) {
    case AssertKind::kUnreachable:
      return reached ? SiteStatus::kFail : SiteStatus::kPass;
    case AssertKind::kAlwaysOrUnreachable:
      return site.fails > 0 ? SiteStatus::kFail : SiteStatus::kPass;
    case AssertKind::kReachable:
      return reached ? SiteStatus::kPass : SiteStatus::kNeverReached;
    case AssertKind::kSometimesEach:
      if (site.bucketOverflows > 0) return SiteStatus::kBucketOverflow;
      return reached ? SiteStatus::kPass : SiteStatus::kNeverReached;
    default:
      break;
  }
  if (isInvariantKind(site.kind)) {
    if (site.fails > 0) return SiteStatus::kFail;
    return reached ? SiteStatus::kPass : SiteStatus::kNeverReached;
  }
  if (site.passes > 0) return SiteStatus::kPass;
  return reached ? SiteStatus::kNeverTrue : SiteStatus::kNeverReached;
}

std::string_view siteStatusName(SiteStatus status) {
  switch (status) {
    case SiteStatus::kPass:
      return "pass";
    case SiteStatus::kFail:
      return "FAIL";
    case SiteStatus::kNeverReached:
      return "never reached";
    case SiteStatus::kNeverTrue:
      return "never true";
    case SiteStatus::kBucketOverflow:
      return "overflow";
  }
  MOONPOOL_CHECK(false, "unknown site status");
  return "";
}

std::string_view breachKindName(BreachKind kind) {
  switch (kind) {
    case BreachKind::kAlwaysViolated:
      return "always_violated";
    case BreachKind::kUnreachableReached:
      return "unreachable_reached";
    case BreachKind::kNeverTrue:
      return "never_true";
    case BreachKind::kNeverReached:
      return "never_reached";
    case BreachKind::kBucketOverflow:
      return "bucket_overflow";
  }
  MOONPOOL_CHECK(false, "unknown breach kind");
  return "";
}

AssertionReport collectAssertionReport() {
  const std::span<const AssertionSite> catalog = assertionCatalog();
  const internal::RegionHeader& header = internal::regionHeader();
  MOONPOOL_CHECK_EQ(header.siteCount, catalog.size(), "region built for another catalog");
  std::vector<SiteResult> raw;
  raw.reserve(catalog.size());
  for (std::uint32_t i = 0; i < catalog.size(); ++i) {
    raw.push_back(readSite(catalog[i], internal::countersAt(i)));
  }
  std::sort(raw.begin(), raw.end(),
            [](const SiteResult& a, const SiteResult& b) { return siteKey(a) < siteKey(b); });
  AssertionReport report{.sites = {},
                         .violations = loadWord(header.violations),
                         .discoveries = loadWord(header.discoveries),
                         .bucketOverflows = loadWord(header.bucketOverflows)};
  for (SiteResult& site : raw) {
    if (!report.sites.empty() && siteKey(report.sites.back()) == siteKey(site)) {
      mergeSite(report.sites.back(), site);
    } else {
      mergeBuckets(site.buckets, {});  // sorts
      report.sites.push_back(std::move(site));
    }
  }
  for (SiteResult& site : report.sites) {
    site.hits = site.passes + site.fails;
    site.status = siteStatusOf(site);
  }
  return report;
}

}  // namespace moonpool
