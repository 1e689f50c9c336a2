// The assertion table's memory layout (internal; runtime/ assertions layer).
//
// The whole table is ONE contiguous region from mmap(MAP_ANONYMOUS), private by default and
// MAP_SHARED once the explorer asks (see assertions/table.h), so forked timelines add their
// counts into the same memory. Everything in it is plain old data addressed by offsets:
// no pointers, nothing on the heap, so it survives fork unchanged.
//
//   offset 0                         RegionHeader                       (128 B)
//   kRegionHeaderBytes               SiteCounters[siteCount]            (128 B each)
//   ... + siteCount * 128            Bucket[bucketCount]                (128 B each)
//
// Counter i belongs to catalog record i (section order). The hot path maps a record to its
// counters with one load and one `lea`: counters = delta + kCountersPerSiteScale * &record,
// where delta = countersBase - kCountersPerSiteScale * sectionStart. All counter words are
// accessed through std::atomic_ref, so concurrent timelines on a shared region never tear.
#pragma once

#include <atomic>
#include <cstdint>

#include "moonpool/assertions/site.h"

namespace moonpool::internal {

// SiteCounters::flags bits.
inline constexpr std::uint32_t kFlagDiscovered = 1u << 0;  // sometimes/reachable came true
inline constexpr std::uint32_t kFlagFirstFail = 1u << 1;   // firstFail* fields are claimed

// Per-site mutable state. `bucketsFirst`/`bucketsMax` are layout, set when the region is
// built and kept by resets; everything else is zeroed by a reset.
struct alignas(128) SiteCounters {
  std::uint64_t passes;          // evaluations that held (reachable: times reached)
  std::uint64_t fails;           // evaluations that did not hold (unreachable: times reached)
  std::uint64_t firstFailHit;    // 1-based evaluation number of the first failure
  std::uint64_t firstFailStamp;  // failure stamp (e.g. simulated ns) at the first failure
  std::int64_t firstFailLeft;    // numeric kinds: operands of the first failure
  std::int64_t firstFailRight;
  std::int64_t watermark;        // numeric kinds: best value so far (sentinel when none)
  std::uint32_t flags;           // kFlag* bits
  std::uint32_t frontier;        // sometimes_all: most conditions true at once
  std::uint32_t bucketsFirst;    // sometimes_each: index of the site's first bucket
  std::uint32_t bucketsMax;      // sometimes_each: buckets reserved for the site
  std::uint32_t bucketsUsed;     // sometimes_each: buckets claimed (<= bucketsMax)
  std::uint32_t reserved0;
  std::uint64_t bucketOverflows;  // sometimes_each: evaluations that found no free bucket
  std::uint64_t reserved[5];
};
static_assert(sizeof(SiteCounters) == 128);

// Bucket::state values.
inline constexpr std::uint32_t kBucketFree = 0;
inline constexpr std::uint32_t kBucketReady = 2;

// One sometimes_each bucket: a combination of identity key values and its counts.
struct alignas(128) Bucket {
  std::uint32_t state;  // kBucketFree until its keys are written, then kBucketReady
  std::uint32_t keyCount;
  std::uint64_t hits;
  std::int64_t quality;  // best quality seen (sentinel kQualityNone when never scored)
  std::uint64_t firstHitOrdinal;  // the site's evaluation number that created the bucket
  std::int64_t keys[kBucketKeysMax];
  std::uint64_t rearmed;  // 1 after rearmDiscoveries(): the next hit is a discovery again
  std::uint64_t reserved[3];
};
static_assert(sizeof(Bucket) == 128);

// Quality value meaning "this bucket has never been given a quality".
inline constexpr std::int64_t kQualityNone = INT64_MIN;

// Header magic ("mpassert") and layout version: bump the version on any layout change.
inline constexpr std::uint64_t kRegionMagic = 0x7472657373617070ull;
inline constexpr std::uint32_t kRegionLayoutVersion = 2;

struct alignas(128) RegionHeader {
  std::uint64_t magic;
  std::uint32_t layoutVersion;
  std::uint32_t siteCount;
  std::uint64_t regionBytes;
  std::uint32_t bucketCount;
  std::uint32_t shared;           // 1 when the region is MAP_SHARED
  std::uint64_t violations;       // invariant failures since the last reset (all timelines)
  std::uint64_t discoveries;      // discoveries since the last reset (all timelines)
  std::uint64_t bucketOverflows;  // sum of the sites' bucketOverflows
  std::uint64_t resets;           // times the region was reset
};
inline constexpr std::uint64_t kRegionHeaderBytes = 128;
static_assert(sizeof(RegionHeader) == kRegionHeaderBytes);

inline constexpr std::uintptr_t kCountersPerSiteScale = sizeof(SiteCounters) / kAssertionSiteBytes;
static_assert(kCountersPerSiteScale * kAssertionSiteBytes == sizeof(SiteCounters));

// delta (see the file comment); 0 until the region exists. Written only under the table's
// allocation lock, read on every assertion.
extern std::atomic<std::uintptr_t> gCountersDelta;

// Builds the private region on first use and returns the new delta.
std::uintptr_t initRegion();

// The counters of `site`. Valid for records of this binary's section only, which is every
// record a macro defines (the library is static, see its CMakeLists.txt).
inline SiteCounters& countersFor(const AssertionSite& site) {
  std::uintptr_t delta = gCountersDelta.load(std::memory_order_acquire);
  if (delta == 0) [[unlikely]] delta = initRegion();
  return *reinterpret_cast<SiteCounters*>(
      delta + kCountersPerSiteScale * reinterpret_cast<std::uintptr_t>(&site));
}

// Relaxed atomic add on a region word; returns the new value.
inline std::uint64_t bump(std::uint64_t& word, std::uint64_t by = 1) {
  return std::atomic_ref<std::uint64_t>(word).fetch_add(by, std::memory_order_relaxed) + by;
}

inline std::uint64_t loadWord(const std::uint64_t& word) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(word))
      .load(std::memory_order_relaxed);
}

inline std::int64_t loadSigned(const std::int64_t& word) {
  return std::atomic_ref<std::int64_t>(const_cast<std::int64_t&>(word))
      .load(std::memory_order_relaxed);
}

inline std::uint32_t loadWord32(const std::uint32_t& word) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
      .load(std::memory_order_relaxed);
}

// The region's parts; the region must exist (they build it on first use). Report code only.
RegionHeader& regionHeader();
SiteCounters& countersAt(std::uint32_t siteIndex);
Bucket& bucketAt(std::uint32_t bucketIndex);

}  // namespace moonpool::internal
