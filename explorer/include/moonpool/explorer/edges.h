// Edge counters: how a coverage runtime feeds the explorer (explorer/, libc-only leaf).
//
// The explorer does not know how edges are counted. A coverage runtime (instrument/: the
// SanitizerCoverage callbacks) registers one EdgeSource, usually from the sanitizer's
// module constructors, before main. For each timeline the explorer hands the source a slot
// of edgeCount() bytes, zeroed, in memory the parent can read after the child exits
// (MAP_SHARED); the source makes sure the timeline's hit counts (saturating or wrapping u8,
// whatever the mode gives) are in the slot by the time endTimeline() returns.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moonpool::explorer {

struct EdgeSource {
  // "trace-pc-guard", "inline-8bit-counters", ... (for reports).
  const char* (*mode)() = nullptr;
  // Number of counters. Fixed once static initialization is over.
  std::size_t (*edgeCount)() = nullptr;
  // A timeline starts in this process (the root at beginSeed, a child right after fork):
  // from now on its counts belong in `slot` (edgeCount() bytes, zeroed).
  void (*beginTimeline)(std::uint8_t* slot) = nullptr;
  // The timeline ends (a child just before _exit, the root at endSeed): `slot` must hold the
  // counts when this returns.
  void (*endTimeline)(std::uint8_t* slot) = nullptr;
};

// Registers the process's edge source (a pointer to a static object). A second registration
// of a different source is ignored and reported by registeredEdgeSourceConflicts().
// Safe to call before main: touches only constant-initialized globals.
void registerEdgeSource(const EdgeSource* source);
const EdgeSource* edgeSource();
std::uint32_t registeredEdgeSourceConflicts();

// AFL-style bucket of a hit count: 0, 1, 2, 3 -> 4, 4-7 -> 8, 8-15 -> 16, 16-31 -> 32,
// 32-127 -> 64, 128-255 -> 128. A rise of bucket is novelty.
inline std::uint8_t edgeBucket(std::uint8_t hits) {
  if (hits <= 2) return hits;
  if (hits == 3) return 4;
  if (hits < 8) return 8;
  if (hits < 16) return 16;
  if (hits < 32) return 32;
  if (hits < 128) return 64;
  return 128;
}

}  // namespace moonpool::explorer
