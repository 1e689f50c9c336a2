// test/coverage helpers: run code as one timeline of the registered EdgeSource, the way the
// explorer does (a fresh zeroed slot, beginTimeline, the code, endTimeline), and judge
// novelty with the explorer's bucket logic (edges.h edgeBucket).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "moonpool/explorer/edges.h"

namespace moonpool::covtest {

using Slot = std::vector<std::uint8_t>;

// The registered source (a fatal test failure when there is none).
inline const explorer::EdgeSource& edgeSourceOrFail() {
  const explorer::EdgeSource* source = explorer::edgeSource();
  if (source == nullptr) {
    ADD_FAILURE() << "no EdgeSource registered";
    static const explorer::EdgeSource kNone{};
    return kNone;
  }
  return *source;
}

// Runs `body` as one timeline and returns its slot.
template <typename Body>
Slot runTimeline(Body body) {
  const explorer::EdgeSource& source = edgeSourceOrFail();
  Slot slot(source.edgeCount(), 0);
  source.beginTimeline(slot.data());
  body();
  source.endTimeline(slot.data());
  return slot;
}

// Indices of the edges a slot shows as hit.
inline std::vector<std::size_t> edgesHit(const Slot& slot) {
  std::vector<std::size_t> hit;
  for (std::size_t i = 0; i < slot.size(); ++i) {
    if (slot[i] != 0) hit.push_back(i);
  }
  return hit;
}

// Raises `history` to each edge's bucket in `slot`; returns how many edges rose (the
// explorer's novelty).
inline std::size_t mergeNovelty(Slot& history, const Slot& slot) {
  std::size_t rose = 0;
  for (std::size_t i = 0; i < slot.size(); ++i) {
    const std::uint8_t bucket = explorer::edgeBucket(slot[i]);
    if (bucket > history[i]) {
      history[i] = bucket;
      ++rose;
    }
  }
  return rose;
}

}  // namespace moonpool::covtest
