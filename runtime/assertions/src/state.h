// Process-local assertion state shared by the library's sources (private to
// runtime/assertions/src; not installed).
#pragma once

#include <cstdint>

#include "moonpool/assertions/table.h"

namespace moonpool::internal {

// Counts one invariant violation for this process and in the region header.
void countViolation();

// Counts a discovery in the region header and calls the hook, if one is installed.
void notifyDiscovery(const AssertionSite& site, DiscoveryKind kind, std::int64_t value,
                     std::uint32_t bucket);

FailurePrinting currentFailurePrinting();

// The installed stamp source's value, or 0.
std::uint64_t currentFailureStamp();

// The watermark a numeric site starts from after a reset: INT64_MIN when it maximizes,
// INT64_MAX when it minimizes (so any first value improves it), 0 for other kinds.
std::int64_t watermarkSentinel(AssertKind kind);

}  // namespace moonpool::internal
