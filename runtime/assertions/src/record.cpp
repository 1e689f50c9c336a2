// The out-of-line half of the assertion recorders: failures, discoveries, watermarks,
// frontiers and sometimes_each buckets. Each "first" is claimed with an atomic operation on
// the region, so on a shared region exactly one timeline discovers it.
#include <cinttypes>
#include <cstdio>

#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/internal/assertion_record.h"
#include "state.h"

namespace moonpool {

std::string_view kindName(AssertKind kind) {
  static constexpr std::string_view kNames[] = {
      "always",       "always_or_unreachable", "sometimes",    "reachable",
      "unreachable",  "always_gt",             "always_ge",    "always_lt",
      "always_le",    "sometimes_gt",          "sometimes_ge", "sometimes_lt",
      "sometimes_le", "sometimes_all",         "always_some",  "sometimes_each",
  };
  static_assert(std::size(kNames) == kAssertKindCount);
  const auto index = static_cast<std::uint32_t>(kind);
  MOONPOOL_CHECK_LT(index, kAssertKindCount);
  return kNames[index];
}

std::string_view discoveryKindName(DiscoveryKind kind) {
  switch (kind) {
    case DiscoveryKind::kFirstTrue:
      return "first_true";
    case DiscoveryKind::kFirstReached:
      return "first_reached";
    case DiscoveryKind::kWatermark:
      return "watermark";
    case DiscoveryKind::kFrontier:
      return "frontier";
    case DiscoveryKind::kNewBucket:
      return "new_bucket";
    case DiscoveryKind::kBetterQuality:
      return "better_quality";
  }
  MOONPOOL_CHECK(false, "unknown discovery kind");
  return "";
}

namespace internal {
namespace {

std::uint32_t fetchOr32(std::uint32_t& word, std::uint32_t bits) {
  return std::atomic_ref<std::uint32_t>(word).fetch_or(bits, std::memory_order_acq_rel);
}

void storeWord(std::uint64_t& word, std::uint64_t value) {
  std::atomic_ref<std::uint64_t>(word).store(value, std::memory_order_relaxed);
}

void storeSigned(std::int64_t& word, std::int64_t value) {
  std::atomic_ref<std::int64_t>(word).store(value, std::memory_order_relaxed);
}

void printFirstFailure(const AssertionSite& site, const SiteCounters& counters) {
  if (currentFailurePrinting() == FailurePrinting::kOff) return;
  const std::string_view kind = kindName(site.kind);
  std::fprintf(stderr, "%s:%u: moonpool assertion failed: %.*s \"%s\" (%s)", site.where.file_name(),
               static_cast<unsigned>(site.where.line()), static_cast<int>(kind.size()),
               kind.data(), site.message, site.condition);
  if (isNumericAlways(site.kind)) {
    std::fprintf(stderr, " left = %" PRId64 ", right = %" PRId64, counters.firstFailLeft,
                 counters.firstFailRight);
  }
  std::fprintf(stderr, " at evaluation %" PRIu64 "\n", counters.firstFailHit);
}

// Raises `word` to `value` if that is an improvement in `direction`; true if it did.
bool raiseSigned(std::int64_t& word, std::int64_t value, WatermarkDirection direction) {
  std::atomic_ref<std::int64_t> ref(word);
  std::int64_t current = ref.load(std::memory_order_relaxed);
  while (direction == WatermarkDirection::kMaximize ? value > current : value < current) {
    if (ref.compare_exchange_weak(current, value, std::memory_order_relaxed)) return true;
  }
  return false;
}

bool keysEqual(const Bucket& bucket, const std::int64_t* keys, std::uint32_t keyCount) {
  if (bucket.keyCount != keyCount) return false;
  for (std::uint32_t i = 0; i < keyCount; ++i) {
    if (bucket.keys[i] != keys[i]) return false;
  }
  return true;
}

// The bucket index (within the site) holding `keys`, or bucketsMax when none does.
// Concurrent timelines can race to add the same combination; the loser then sees a bucket
// that is not ready yet and adds a duplicate, which reports merge.
std::uint32_t findBucket(const SiteCounters& counters, const std::int64_t* keys,
                         std::uint32_t keyCount) {
  const std::uint32_t used = std::min(loadWord32(counters.bucketsUsed), counters.bucketsMax);
  for (std::uint32_t i = 0; i < used; ++i) {
    Bucket& bucket = bucketAt(counters.bucketsFirst + i);
    const std::uint32_t state =
        std::atomic_ref<std::uint32_t>(bucket.state).load(std::memory_order_acquire);
    if (state == kBucketReady && keysEqual(bucket, keys, keyCount)) return i;
  }
  return counters.bucketsMax;
}

// Claims the site's next free bucket, or returns bucketsMax when all are taken.
std::uint32_t claimBucket(SiteCounters& counters) {
  std::atomic_ref<std::uint32_t> used(counters.bucketsUsed);
  std::uint32_t index = used.load(std::memory_order_relaxed);
  while (index < counters.bucketsMax) {
    if (used.compare_exchange_weak(index, index + 1, std::memory_order_acq_rel)) return index;
  }
  return counters.bucketsMax;
}

}  // namespace

void invariantFailed(const AssertionSite& site, SiteCounters& counters, std::int64_t left,
                     std::int64_t right) {
  MOONPOOL_CHECK(isInvariantKind(site.kind), site.message);
  const std::uint64_t fails = bump(counters.fails);
  countViolation();
  if ((fetchOr32(counters.flags, kFlagFirstFail) & kFlagFirstFail) != 0) return;
  storeWord(counters.firstFailHit, loadWord(counters.passes) + fails);
  storeWord(counters.firstFailStamp, currentFailureStamp());
  storeSigned(counters.firstFailLeft, left);
  storeSigned(counters.firstFailRight, right);
  printFirstFailure(site, counters);
}

void firstTrue(const AssertionSite& site, SiteCounters& counters) {
  MOONPOOL_CHECK(!isInvariantKind(site.kind), site.message);
  if ((fetchOr32(counters.flags, kFlagDiscovered) & kFlagDiscovered) != 0) return;
  const DiscoveryKind kind = site.kind == AssertKind::kReachable ? DiscoveryKind::kFirstReached
                                                                 : DiscoveryKind::kFirstTrue;
  notifyDiscovery(site, kind, 0, 0);
}

void watermarkSeen(const AssertionSite& site, SiteCounters& counters, std::int64_t value) {
  const WatermarkDirection direction = watermarkDirection(site.kind);
  MOONPOOL_CHECK(direction != WatermarkDirection::kNone, site.message);
  if (!raiseSigned(counters.watermark, value, direction)) return;
  if (isNumericSometimes(site.kind)) notifyDiscovery(site, DiscoveryKind::kWatermark, value, 0);
}

void frontierSeen(const AssertionSite& site, SiteCounters& counters, std::uint32_t trueCount) {
  MOONPOOL_CHECK_EQ(static_cast<int>(site.kind), static_cast<int>(AssertKind::kSometimesAll));
  MOONPOOL_CHECK_LE(trueCount, site.arity, site.message);
  std::atomic_ref<std::uint32_t> frontier(counters.frontier);
  std::uint32_t current = frontier.load(std::memory_order_relaxed);
  while (trueCount > current) {
    if (frontier.compare_exchange_weak(current, trueCount, std::memory_order_relaxed)) {
      notifyDiscovery(site, DiscoveryKind::kFrontier, trueCount, 0);
      return;
    }
  }
}

void eachSeen(const AssertionSite& site, const std::int64_t* keys, std::uint32_t keyCount,
              std::int64_t quality) {
  MOONPOOL_CHECK_EQ(static_cast<int>(site.kind), static_cast<int>(AssertKind::kSometimesEach));
  MOONPOOL_CHECK_EQ(keyCount, site.arity, site.message);
  SiteCounters& counters = countersFor(site);
  const std::uint64_t ordinal = bump(counters.passes);
  std::uint32_t index = findBucket(counters, keys, keyCount);
  const bool isNew = index == counters.bucketsMax;
  if (isNew) {
    index = claimBucket(counters);
    if (index == counters.bucketsMax) {
      bump(counters.bucketOverflows);
      bump(regionHeader().bucketOverflows);
      return;
    }
    Bucket& fresh = bucketAt(counters.bucketsFirst + index);
    MOONPOOL_CHECK_EQ(fresh.state, kBucketFree, site.message);
    fresh.keyCount = keyCount;
    std::copy(keys, keys + keyCount, fresh.keys);
    fresh.firstHitOrdinal = ordinal;
    fresh.quality = quality;
    std::atomic_ref<std::uint32_t>(fresh.state).store(kBucketReady, std::memory_order_release);
  }
  Bucket& bucket = bucketAt(counters.bucketsFirst + index);
  bump(bucket.hits);
  std::atomic_ref<std::uint64_t> rearmed(bucket.rearmed);
  if (isNew || (rearmed.load(std::memory_order_relaxed) != 0 &&
                rearmed.exchange(0, std::memory_order_acq_rel) != 0)) {
    if (!isNew && quality != kQualityNone) {
      raiseSigned(bucket.quality, quality, WatermarkDirection::kMaximize);
    }
    notifyDiscovery(site, DiscoveryKind::kNewBucket, quality == kQualityNone ? 0 : quality,
                    index);
    return;
  }
  if (quality != kQualityNone &&
      raiseSigned(bucket.quality, quality, WatermarkDirection::kMaximize)) {
    notifyDiscovery(site, DiscoveryKind::kBetterQuality, quality, index);
  }
}

}  // namespace internal
}  // namespace moonpool
