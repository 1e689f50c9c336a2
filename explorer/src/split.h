// The splitpoint (explorer/, private): forking a batch of timelines at a discovery, reaping
// them, and the fixed or adaptive energy that decides how many (split.cpp). explorer.cpp
// calls split() from discovery().
#pragma once

#include <cstdint>

#include "shared.h"

namespace moonpool::explorer::internal {

inline Control& control() { return *gLocal.control; }

// Copies a timeline's end message into a kBugMessageBytesMax buffer; null copies "".
void copyMessage(char* to, const char* from);

// Splits this timeline at `mark` (a discovery's non-zero mark hash): launches and reaps
// children while energy and the configuration allow; returns in each child as a new timeline
// and in the parent once its children are reaped.
void split(std::uint64_t mark);

}  // namespace moonpool::explorer::internal
