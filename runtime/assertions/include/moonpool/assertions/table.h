// The assertion table: catalog, counters region, reset, sharing and the discovery hook
// (runtime/ assertions layer, public).
//
// Why process-global: the catalog is the binary's linker section, and assertions fire from
// anywhere in user code without a handle, so the table is one per process, like the section.
// The runner owns its lifecycle (reset between seeds, share before exploring); service code
// only ever fires macros. Not for concurrent use: allocate/reset/hook setters must be called
// while no other thread is asserting (the simulation is single-threaded). Concurrent
// assertions from forked timelines on a shared region are fine: every counter is atomic.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "moonpool/assertions/site.h"

namespace moonpool {

// Every site record of this binary, in section (link) order. That order is fixed for one
// binary, so forked children agree on it, but it changes between builds: never print in
// this order; reports sort by file, line, column and message.
std::span<const AssertionSite> assertionCatalog();

// How the counters region is mapped.
enum class TableSharing : std::uint8_t {
  // MAP_PRIVATE | MAP_ANONYMOUS: a forked child gets a copy-on-write snapshot.
  kPrivate,
  // MAP_SHARED | MAP_ANONYMOUS: parent and forked children count into the same memory.
  kShared,
};

// (Re)builds the counters region with the given mapping, sized from the catalog. An existing
// region's contents are copied into the new one, then the old mapping is released. The
// region is otherwise built privately on the first assertion. Fails (MOONPOOL_CHECK) if mmap
// fails or the region would exceed kAssertionRegionBytesMax.
void allocateAssertionTable(TableSharing sharing);

// The region's current mapping (building it privately first if needed).
TableSharing assertionTableSharing();

// Zeroes every count, watermark, frontier, bucket and overflow, and this process's run
// violation count: call between seeds. Keeps the mapping (a shared region stays shared).
void resetAssertionTable();

// Re-arms the discoveries that happen once: a sometimes/reachable that already held, and
// every known sometimes_each bucket, are discovered again the next time they hold or are hit
// (DiscoveryKind kFirstTrue / kFirstReached / kNewBucket). Counts, watermarks, frontiers,
// buckets and qualities are kept, so improvements are still measured against everything
// seen. The explorer calls it between seeds: each seed splits on its own firsts while
// coverage carries over. Call while no timeline is asserting.
void rearmDiscoveries();

// Upper bound on the region's size; a larger catalog fails at allocation with the figure.
inline constexpr std::uint64_t kAssertionRegionBytesMax = 1ull << 30;

// Invariant violations (always*, always_some failing, unreachable reached) seen by this
// process since the last reset or resetRunViolations(). A forked child starts from its
// parent's count, so it counts its whole timeline. A runner fails the seed when non-zero.
std::uint64_t runViolationCount();
void resetRunViolations();

// Region-wide totals since the last reset, summed over every timeline sharing the region.
struct AssertionTableStats {
  std::uint32_t siteCount;
  std::uint32_t bucketCount;
  std::uint64_t regionBytes;
  std::uint64_t violations;
  std::uint64_t discoveries;
  std::uint64_t bucketOverflows;
};
AssertionTableStats assertionTableStats();

// What a discovery is.
enum class DiscoveryKind : std::uint8_t {
  kFirstTrue,      // a sometimes / numeric sometimes held for the first time
  kFirstReached,   // a reachable site was reached for the first time
  kWatermark,      // a numeric sometimes watermark improved (value = new watermark)
  kFrontier,       // a sometimes_all frontier rose (value = conditions true at once)
  kNewBucket,      // a sometimes_each identity combination was seen for the first time
  kBetterQuality,  // a sometimes_each bucket's quality improved (value = new quality)
};

std::string_view discoveryKindName(DiscoveryKind kind);

// One discovery, passed to the hook. `site` points at the record in the section (valid for
// the life of the process). `bucket` is the bucket's index within the site (each kinds).
struct Discovery {
  const AssertionSite* site;
  DiscoveryKind kind;
  std::int64_t value;
  std::uint32_t bucket;
};

// The explorer's splitpoint callback. Called synchronously from inside the assertion, on
// the asserting thread, exactly when a discovery happens (first wins across timelines on a
// shared region); never for always / unreachable kinds. It may fork.
using DiscoveryHook = void (*)(const Discovery& discovery, void* context);

// Installs the hook. Set once: installing while one is installed fails (MOONPOOL_CHECK);
// clear it first. `context` is passed back untouched and must outlive the installation.
void setDiscoveryHook(DiscoveryHook hook, void* context);
void clearDiscoveryHook();

// Whether the first failure of each invariant site is printed to stderr as it happens.
enum class FailurePrinting : std::uint8_t { kFirstPerSite, kOff };
void setFailurePrinting(FailurePrinting printing);

// Optional source of the stamp recorded with a site's first failure (a runner passes the
// simulated time in ns). Without one the stamp is 0. Must not assert.
using FailureStampSource = std::uint64_t (*)();
void setFailureStampSource(FailureStampSource source);

}  // namespace moonpool
