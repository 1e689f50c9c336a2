// The assertion catalog (from the linker section) and the counters region: layout, mmap,
// reset, sharing, and the process-local settings (hook, printing, violation count).
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/internal/assertion_region.h"
#include "state.h"

// Defined by the linker when at least one object file has a `moonpool_assert_sites`
// section; weak so that a binary without any assertion site still links (both are then
// null). Names fixed by the linker's start/stop convention.
extern "C" {
extern const moonpool::AssertionSite __start_moonpool_assert_sites[] __attribute__((weak));
extern const moonpool::AssertionSite __stop_moonpool_assert_sites[] __attribute__((weak));
}

namespace moonpool {
namespace internal {

std::atomic<std::uintptr_t> gCountersDelta{0};

namespace {

// All constant-initialized, so an assertion firing during another TU's static
// initialization finds them ready.
std::mutex gRegionLock;
std::atomic<RegionHeader*> gRegion{nullptr};
std::atomic<std::uint64_t> gRunViolations{0};
std::atomic<DiscoveryHook> gHook{nullptr};
std::atomic<void*> gHookContext{nullptr};
std::atomic<FailurePrinting> gPrinting{FailurePrinting::kFirstPerSite};
std::atomic<FailureStampSource> gStampSource{nullptr};

constexpr std::uint64_t kPageBytes = 4096;
// A generous ceiling on the catalog size: reaching it means a corrupt section.
constexpr std::uint64_t kSitesMax = 1u << 22;

struct Layout {
  std::uint32_t siteCount;
  std::uint32_t bucketCount;
  std::uint64_t bytes;
};

// Checks one record as it is read from the section (check on read, STYLE rule 7).
void checkRecord(const AssertionSite& site) {
  MOONPOOL_CHECK_LT(static_cast<std::uint32_t>(site.kind), kAssertKindCount,
                    "corrupt assertion record");
  MOONPOOL_CHECK(site.message != nullptr && site.condition != nullptr, "corrupt record");
  if (site.kind == AssertKind::kSometimesEach) {
    MOONPOOL_CHECK_GT(site.bucketsMax, 0u, site.message);
    MOONPOOL_CHECK_LE(site.bucketsMax, kBucketsPerSiteMax, site.message);
    MOONPOOL_CHECK_LE(site.arity, kBucketKeysMax, site.message);
  } else {
    MOONPOOL_CHECK_EQ(site.bucketsMax, 0u, site.message);
    MOONPOOL_CHECK_LE(site.arity, kConditionsMax, site.message);
  }
}

Layout computeLayout(std::span<const AssertionSite> catalog) {
  MOONPOOL_CHECK_LE(catalog.size(), kSitesMax, "assertion catalog larger than kSitesMax");
  std::uint64_t buckets = 0;
  for (const AssertionSite& site : catalog) {
    checkRecord(site);
    buckets += site.bucketsMax;
  }
  const std::uint64_t raw = kRegionHeaderBytes + catalog.size() * sizeof(SiteCounters) +
                            buckets * sizeof(Bucket);
  const std::uint64_t bytes = (raw + kPageBytes - 1) / kPageBytes * kPageBytes;
  MOONPOOL_CHECK_LE(bytes, kAssertionRegionBytesMax, "assertion region too large");
  return Layout{static_cast<std::uint32_t>(catalog.size()),
                static_cast<std::uint32_t>(buckets), bytes};
}

RegionHeader* mapRegion(std::uint64_t bytes, TableSharing sharing) {
  const int visibility = sharing == TableSharing::kShared ? MAP_SHARED : MAP_PRIVATE;
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, visibility | MAP_ANONYMOUS, -1, 0);
  MOONPOOL_CHECK(base != MAP_FAILED, std::strerror(errno));
  MOONPOOL_CHECK_EQ(reinterpret_cast<std::uintptr_t>(base) % alignof(RegionHeader), 0u);
  return static_cast<RegionHeader*>(base);
}

SiteCounters* countersOf(RegionHeader* header) {
  return reinterpret_cast<SiteCounters*>(reinterpret_cast<char*>(header) + kRegionHeaderBytes);
}

Bucket* bucketsOf(RegionHeader* header) {
  return reinterpret_cast<Bucket*>(countersOf(header) + header->siteCount);
}

// Zeroes the mutable part of every site and bucket and sets the starting sentinels. Layout
// fields (bucketsFirst/bucketsMax) are recomputed from the catalog.
void clearRegion(RegionHeader* header, std::span<const AssertionSite> catalog) {
  MOONPOOL_CHECK_EQ(header->siteCount, catalog.size(), "region built for another catalog");
  std::uint32_t nextBucket = 0;
  SiteCounters* counters = countersOf(header);
  for (std::uint32_t i = 0; i < header->siteCount; ++i) {
    SiteCounters* slot = std::construct_at(counters + i, SiteCounters{});
    slot->watermark = watermarkSentinel(catalog[i].kind);
    slot->bucketsFirst = nextBucket;
    slot->bucketsMax = catalog[i].bucketsMax;
    nextBucket += catalog[i].bucketsMax;
  }
  MOONPOOL_CHECK_EQ(nextBucket, header->bucketCount);
  Bucket* buckets = bucketsOf(header);
  for (std::uint32_t i = 0; i < header->bucketCount; ++i) {
    std::construct_at(buckets + i, Bucket{})->quality = kQualityNone;
  }
  header->violations = 0;
  header->discoveries = 0;
  header->bucketOverflows = 0;
}

RegionHeader* buildRegion(const Layout& layout, TableSharing sharing) {
  RegionHeader* header = std::construct_at(mapRegion(layout.bytes, sharing), RegionHeader{});
  header->magic = kRegionMagic;
  header->layoutVersion = kRegionLayoutVersion;
  header->siteCount = layout.siteCount;
  header->regionBytes = layout.bytes;
  header->bucketCount = layout.bucketCount;
  header->shared = sharing == TableSharing::kShared ? 1 : 0;
  clearRegion(header, assertionCatalog());
  return header;
}

// Makes `header` the live region; called with gRegionLock held. Returns the new delta.
std::uintptr_t publish(RegionHeader* header) {
  const auto start = reinterpret_cast<std::uintptr_t>(__start_moonpool_assert_sites);
  const std::uintptr_t delta =
      reinterpret_cast<std::uintptr_t>(countersOf(header)) - kCountersPerSiteScale * start;
  // 0 means "no region" on the hot path; an mmap landing exactly there is impossible in
  // practice but would be misread, so refuse it loudly.
  MOONPOOL_CHECK_NE(delta, 0u, "unlucky region address");
  gRegion.store(header, std::memory_order_release);
  gCountersDelta.store(delta, std::memory_order_release);
  return delta;
}

RegionHeader* liveRegion() {
  RegionHeader* header = gRegion.load(std::memory_order_acquire);
  if (header != nullptr) return header;
  initRegion();
  return gRegion.load(std::memory_order_acquire);
}

}  // namespace

std::uintptr_t initRegion() {
  std::lock_guard<std::mutex> guard(gRegionLock);
  const std::uintptr_t existing = gCountersDelta.load(std::memory_order_acquire);
  if (existing != 0) return existing;
  return publish(buildRegion(computeLayout(assertionCatalog()), TableSharing::kPrivate));
}

RegionHeader& regionHeader() {
  RegionHeader* header = liveRegion();
  MOONPOOL_CHECK_EQ(header->magic, kRegionMagic, "assertion region overwritten");
  return *header;
}

SiteCounters& countersAt(std::uint32_t siteIndex) {
  RegionHeader& header = regionHeader();
  MOONPOOL_CHECK_LT(siteIndex, header.siteCount);
  return countersOf(&header)[siteIndex];
}

Bucket& bucketAt(std::uint32_t bucketIndex) {
  RegionHeader& header = regionHeader();
  MOONPOOL_CHECK_LT(bucketIndex, header.bucketCount);
  return bucketsOf(&header)[bucketIndex];
}

void countViolation() {
  gRunViolations.fetch_add(1, std::memory_order_relaxed);
  bump(regionHeader().violations);
}

void notifyDiscovery(const AssertionSite& site, DiscoveryKind kind, std::int64_t value,
                     std::uint32_t bucket) {
  bump(regionHeader().discoveries);
  const DiscoveryHook hook = gHook.load(std::memory_order_acquire);
  if (hook == nullptr) return;
  hook(Discovery{.site = &site, .kind = kind, .value = value, .bucket = bucket},
       gHookContext.load(std::memory_order_acquire));
}

FailurePrinting currentFailurePrinting() { return gPrinting.load(std::memory_order_relaxed); }

std::uint64_t currentFailureStamp() {
  const FailureStampSource source = gStampSource.load(std::memory_order_acquire);
  return source == nullptr ? 0 : source();
}

std::int64_t watermarkSentinel(AssertKind kind) {
  switch (watermarkDirection(kind)) {
    case WatermarkDirection::kMaximize:
      return INT64_MIN;
    case WatermarkDirection::kMinimize:
      return INT64_MAX;
    case WatermarkDirection::kNone:
      break;
  }
  return 0;
}

}  // namespace internal

std::span<const AssertionSite> assertionCatalog() {
  const AssertionSite* start = __start_moonpool_assert_sites;
  const AssertionSite* stop = __stop_moonpool_assert_sites;
  if (start == nullptr || stop == nullptr) {
    MOONPOOL_CHECK(start == stop, "only one of the section bounds is defined");
    return {};
  }
  const auto bytes = reinterpret_cast<std::uintptr_t>(stop) -
                     reinterpret_cast<std::uintptr_t>(start);
  // Records tile the section exactly; anything else means a foreign object in it.
  MOONPOOL_CHECK_EQ(bytes % kAssertionSiteBytes, 0u, "moonpool_assert_sites is not tiled");
  MOONPOOL_CHECK_EQ(reinterpret_cast<std::uintptr_t>(start) % kAssertionSiteBytes, 0u);
  return {start, bytes / kAssertionSiteBytes};
}

void allocateAssertionTable(TableSharing sharing) {
  std::lock_guard<std::mutex> guard(internal::gRegionLock);
  const internal::Layout layout = internal::computeLayout(assertionCatalog());
  internal::RegionHeader* old = internal::gRegion.load(std::memory_order_acquire);
  internal::RegionHeader* fresh = nullptr;
  if (old == nullptr) {
    fresh = internal::buildRegion(layout, sharing);
  } else {
    MOONPOOL_CHECK_EQ(old->regionBytes, layout.bytes, "catalog changed under the region");
    fresh = internal::mapRegion(layout.bytes, sharing);
    std::memcpy(static_cast<void*>(fresh), old, layout.bytes);
    fresh->shared = sharing == TableSharing::kShared ? 1 : 0;
  }
  internal::publish(fresh);
  if (old != nullptr) munmap(old, old->regionBytes);
}

TableSharing assertionTableSharing() {
  return internal::regionHeader().shared != 0 ? TableSharing::kShared : TableSharing::kPrivate;
}

void resetAssertionTable() {
  internal::RegionHeader& header = internal::regionHeader();
  internal::clearRegion(&header, assertionCatalog());
  ++header.resets;
  internal::gRunViolations.store(0, std::memory_order_relaxed);
}

void rearmDiscoveries() {
  internal::RegionHeader& header = internal::regionHeader();
  for (std::uint32_t i = 0; i < header.siteCount; ++i) {
    std::atomic_ref<std::uint32_t>(internal::countersAt(i).flags)
        .fetch_and(~internal::kFlagDiscovered, std::memory_order_acq_rel);
  }
  for (std::uint32_t i = 0; i < header.bucketCount; ++i) {
    internal::Bucket& bucket = internal::bucketAt(i);
    if (std::atomic_ref<std::uint32_t>(bucket.state).load(std::memory_order_acquire) ==
        internal::kBucketReady) {
      std::atomic_ref<std::uint64_t>(bucket.rearmed).store(1, std::memory_order_release);
    }
  }
}

std::uint64_t runViolationCount() {
  return internal::gRunViolations.load(std::memory_order_relaxed);
}

void resetRunViolations() { internal::gRunViolations.store(0, std::memory_order_relaxed); }

AssertionTableStats assertionTableStats() {
  internal::RegionHeader& header = internal::regionHeader();
  return AssertionTableStats{
      .siteCount = header.siteCount,
      .bucketCount = header.bucketCount,
      .regionBytes = header.regionBytes,
      .violations = internal::loadWord(header.violations),
      .discoveries = internal::loadWord(header.discoveries),
      .bucketOverflows = internal::loadWord(header.bucketOverflows),
  };
}

void setDiscoveryHook(DiscoveryHook hook, void* context) {
  MOONPOOL_CHECK(hook != nullptr, "use clearDiscoveryHook() to remove the hook");
  MOONPOOL_CHECK(internal::gHook.load() == nullptr, "a discovery hook is already installed");
  internal::gHookContext.store(context, std::memory_order_release);
  internal::gHook.store(hook, std::memory_order_release);
}

void clearDiscoveryHook() {
  internal::gHook.store(nullptr, std::memory_order_release);
  internal::gHookContext.store(nullptr, std::memory_order_release);
}

void setFailurePrinting(FailurePrinting printing) {
  internal::gPrinting.store(printing, std::memory_order_relaxed);
}

void setFailureStampSource(FailureStampSource source) {
  internal::gStampSource.store(source, std::memory_order_release);
}

}  // namespace moonpool
