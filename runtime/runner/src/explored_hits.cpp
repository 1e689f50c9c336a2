// The fixed search order's assertion hits (see explored_hits.h).
#include "explored_hits.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/internal/assertion_region.h"

namespace moonpool::internal {
namespace {

// The accumulator: a lock, then a region of the table's layout holding differences (counts)
// and bests (watermarks, frontiers, qualities). SiteCounters::reserved[0] is 1 once its
// watermark is set.
struct AccumulatorHead {
  pthread_mutex_t lock;
};
constexpr std::size_t kHeadBytes = 4096;
static_assert(sizeof(AccumulatorHead) <= kHeadBytes);

std::byte* gAccumulator = nullptr;  // MAP_SHARED, kHeadBytes + the region's bytes
std::size_t gAccumulatorBytes = 0;
std::vector<std::byte> gBaseline;   // the table as this seed's workers find it

RegionHeader& headerOf(std::byte* region) { return *reinterpret_cast<RegionHeader*>(region); }

SiteCounters& siteOf(std::byte* region, std::uint32_t i) {
  return reinterpret_cast<SiteCounters*>(region + kRegionHeaderBytes)[i];
}

Bucket& bucketOf(std::byte* region, std::uint32_t j) {
  const std::uint32_t sites = headerOf(region).siteCount;
  return reinterpret_cast<Bucket*>(region + kRegionHeaderBytes + sites * sizeof(SiteCounters))[j];
}

std::byte* liveRegion() { return reinterpret_cast<std::byte*>(&regionHeader()); }
std::byte* accRegion() { return gAccumulator + kHeadBytes; }

bool better(AssertKind kind, std::int64_t value, std::int64_t than) {
  return watermarkDirection(kind) == WatermarkDirection::kMaximize ? value > than : value < than;
}

bool sameKeys(const Bucket& a, const Bucket& b) {
  if (a.keyCount != b.keyCount) return false;
  const std::uint32_t n = std::min<std::uint32_t>(a.keyCount, kBucketKeysMax);
  return std::equal(a.keys, a.keys + n, b.keys);
}

// The bucket of `into`'s site `site` with `like`'s keys, claimed when absent; null when the
// site's buckets are all taken.
Bucket* bucketLike(std::byte* into, std::uint32_t site, const Bucket& like) {
  SiteCounters& target = siteOf(into, site);
  for (std::uint32_t k = 0; k < target.bucketsUsed; ++k) {
    Bucket& b = bucketOf(into, target.bucketsFirst + k);
    if (b.state == kBucketReady && sameKeys(b, like)) return &b;
  }
  if (target.bucketsUsed >= target.bucketsMax) return nullptr;
  Bucket& b = bucketOf(into, target.bucketsFirst + target.bucketsUsed++);
  b = Bucket{};
  b.state = kBucketReady;
  b.keyCount = like.keyCount;
  std::copy(like.keys, like.keys + kBucketKeysMax, b.keys);
  b.quality = kQualityNone;
  return &b;
}

// Adds `hits` and a quality to the bucket like `like` of site `site` in region `into`.
void addBucket(std::byte* into, std::uint32_t site, const Bucket& like, std::uint64_t hits,
               std::int64_t quality) {
  Bucket* b = bucketLike(into, site, like);
  if (b == nullptr) {
    siteOf(into, site).bucketOverflows += hits;
    headerOf(into).bucketOverflows += hits;
    return;
  }
  b->hits += hits;
  b->quality = std::max(b->quality, quality);
}

void copyFirstFail(SiteCounters& to, const SiteCounters& from) {
  if ((to.flags & kFlagFirstFail) != 0 || (from.flags & kFlagFirstFail) == 0) return;
  to.flags |= kFlagFirstFail;
  to.firstFailHit = from.firstFailHit;
  to.firstFailStamp = from.firstFailStamp;
  to.firstFailLeft = from.firstFailLeft;
  to.firstFailRight = from.firstFailRight;
}

// Site i of the worker's table `w` against the baseline `b`, into the accumulator `a`.
void foldSite(std::uint32_t i, AssertKind kind, std::byte* w, std::byte* b, std::byte* a) {
  const SiteCounters& ws = siteOf(w, i);
  const SiteCounters& bs = siteOf(b, i);
  SiteCounters& as = siteOf(a, i);
  as.passes += ws.passes - bs.passes;
  as.fails += ws.fails - bs.fails;
  as.bucketOverflows += ws.bucketOverflows - bs.bucketOverflows;
  as.frontier = std::max(as.frontier, ws.frontier > bs.frontier ? ws.frontier : 0u);
  if (watermarkDirection(kind) != WatermarkDirection::kNone && ws.watermark != bs.watermark &&
      (as.reserved[0] == 0 || better(kind, ws.watermark, as.watermark))) {
    as.watermark = ws.watermark;
    as.reserved[0] = 1;
  }
  if ((bs.flags & kFlagFirstFail) == 0) copyFirstFail(as, ws);
  for (std::uint32_t k = 0; k < ws.bucketsUsed; ++k) {
    const Bucket& wb = bucketOf(w, ws.bucketsFirst + k);
    if (wb.state != kBucketReady) continue;
    const bool old = k < bs.bucketsUsed && bucketOf(b, bs.bucketsFirst + k).state == kBucketReady;
    const Bucket* bb = old ? &bucketOf(b, bs.bucketsFirst + k) : nullptr;
    const std::uint64_t hits = wb.hits - (bb != nullptr ? bb->hits : 0);
    const bool improved = wb.quality > (bb != nullptr ? bb->quality : kQualityNone);
    if (hits > 0 || improved) addBucket(a, i, wb, hits, improved ? wb.quality : kQualityNone);
  }
}

void lock() {
  auto* head = reinterpret_cast<AccumulatorHead*>(gAccumulator);
  // A worker killed while folding leaves a partial fold; the counts stay usable.
  if (pthread_mutex_lock(&head->lock) == EOWNERDEAD) pthread_mutex_consistent(&head->lock);
}

void unlock() { pthread_mutex_unlock(&reinterpret_cast<AccumulatorHead*>(gAccumulator)->lock); }

bool mapAccumulator(const RegionHeader& live) {
  const std::size_t bytes = kHeadBytes + live.regionBytes;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  gAccumulator = static_cast<std::byte*>(mem);
  gAccumulatorBytes = bytes;
  auto* head = new (gAccumulator) AccumulatorHead{};
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&head->lock, &attr);
  pthread_mutexattr_destroy(&attr);
  // The layout (site count, bucket ranges) of the table; every value zero (mmap's pages).
  std::byte* acc = accRegion();
  std::memcpy(acc, &live, kRegionHeaderBytes);
  RegionHeader& h = headerOf(acc);
  h.violations = h.discoveries = h.bucketOverflows = 0;
  const std::byte* src = reinterpret_cast<const std::byte*>(&live);
  for (std::uint32_t i = 0; i < h.siteCount; ++i) {
    const auto& s = *reinterpret_cast<const SiteCounters*>(src + kRegionHeaderBytes +
                                                           i * sizeof(SiteCounters));
    siteOf(acc, i).bucketsFirst = s.bucketsFirst;
    siteOf(acc, i).bucketsMax = s.bucketsMax;
  }
  return true;
}

}  // namespace

bool explorationHitsBegin() {
  const RegionHeader& live = regionHeader();
  if (gAccumulator == nullptr && !mapAccumulator(live)) return false;
  const auto* bytes = reinterpret_cast<const std::byte*>(&live);
  gBaseline.assign(bytes, bytes + live.regionBytes);
  return true;
}

void explorationHitsFold() {
  if (gAccumulator == nullptr || gBaseline.empty()) return;
  std::byte* w = liveRegion();
  std::byte* b = gBaseline.data();
  std::byte* a = accRegion();
  const std::span<const AssertionSite> catalog = assertionCatalog();
  lock();
  for (std::uint32_t i = 0; i < headerOf(w).siteCount && i < catalog.size(); ++i) {
    foldSite(i, catalog[i].kind, w, b, a);
  }
  headerOf(a).violations += headerOf(w).violations - headerOf(b).violations;
  headerOf(a).discoveries += headerOf(w).discoveries - headerOf(b).discoveries;
  headerOf(a).bucketOverflows += headerOf(w).bucketOverflows - headerOf(b).bucketOverflows;
  unlock();
}

void explorationHitsFinish() {
  if (gAccumulator == nullptr) return;
  std::byte* live = liveRegion();
  std::byte* a = accRegion();
  const std::span<const AssertionSite> catalog = assertionCatalog();
  for (std::uint32_t i = 0; i < headerOf(a).siteCount && i < catalog.size(); ++i) {
    const SiteCounters& as = siteOf(a, i);
    SiteCounters& ls = siteOf(live, i);
    ls.passes += as.passes;
    ls.fails += as.fails;
    ls.bucketOverflows += as.bucketOverflows;
    ls.frontier = std::max(ls.frontier, as.frontier);
    if (as.reserved[0] != 0 && better(catalog[i].kind, as.watermark, ls.watermark)) {
      ls.watermark = as.watermark;
    }
    copyFirstFail(ls, as);
    for (std::uint32_t k = 0; k < as.bucketsUsed; ++k) {
      const Bucket& ab = bucketOf(a, as.bucketsFirst + k);
      addBucket(live, i, ab, ab.hits, ab.quality);
    }
  }
  headerOf(live).violations += headerOf(a).violations;
  headerOf(live).discoveries += headerOf(a).discoveries;
  headerOf(live).bucketOverflows += headerOf(a).bucketOverflows;
  munmap(gAccumulator, gAccumulatorBytes);
  gAccumulator = nullptr;
  gAccumulatorBytes = 0;
  gBaseline.clear();
}

}  // namespace moonpool::internal
