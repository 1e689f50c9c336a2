// SearchOrder::kFixed (explorer/, private): recipes as jobs, merged in a fixed order.
//
// At the seed's first discovery the root becomes a coordinator. Its timeline from there is
// job 0; every other job is a recipe: a parent job plus one (count, seed) reseed at one of the
// parent's candidate splitpoints. A worker, forked by the root at that first discovery (depth 1
// in the process tree), replays its recipe silently up to its last reseed, then runs the
// timeline to the end without splitting, recording its candidates (mark, bit, draw count, in
// order), its bitmap, edge counters and end in a shared result slot.
//
// The root merges results strictly in job order, depth-first: a split's children in index
// order, each child's own candidates (and their subtrees) before the next child, then the
// split's next batch, with the energy rules of the fork-based search (batches, barren marks,
// per-mark budgets, depth). A candidate is judged when the merge reaches it, against what was
// merged before it. While it waits, the root runs the next jobs of the merge order ahead
// (`parallelism` at once) and keeps their results until their turn: a job's result depends on
// its recipe alone, so any parallelism merges the same results in the same order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "moonpool/explorer/explorer.h"
#include "shared.h"

namespace moonpool::explorer::internal {

// One candidate splitpoint of a job.
struct Candidate {
  std::uint64_t mark = 0;
  std::uint64_t bit = 0;
  std::uint64_t count = 0;  // what the recipe records for a reseed here (RngHooks::callCount)
  std::uint32_t novelty = 0;  // Novelty
  std::uint32_t ordinal = 0;  // discoveries at this position of the timeline, this one included
};

// A result slot's candidate list (after its SlotHeader).
struct CandidateList {
  std::uint32_t count;
  std::uint32_t reserved;
  std::uint64_t overflows;  // candidates beyond kCandidatesMax, dropped
  Candidate items[kCandidatesMax];
};

// Bytes of the shared result slots and of the root's private coordinator state.
std::size_t resultSlotsBytes(std::uint32_t parallelism, std::size_t edgeCount);
void resultSlotsInit(unsigned char* base, std::uint32_t parallelism, std::size_t edgeCount);
std::size_t coordinatorBytes(std::uint32_t depthMax, std::size_t edgeCount);

// Root, at the seed's first discovery: searches every job. Returns in the root once the search
// is over, or in a worker it forked (gLocal.worker), as that job's timeline.
void coordinate(std::uint64_t mark, std::uint64_t bit, Novelty novelty);

// Worker: records a candidate (bounded; overflow counted).
void recordCandidate(std::uint64_t mark, std::uint64_t bit, Novelty novelty);

// Kills every running worker (interrupt(): async-signal-safe).
void killWorkers();

}  // namespace moonpool::explorer::internal
