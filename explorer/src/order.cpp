// SearchOrder::kFixed, the search (see order.h): the frame stack that fixes the merge order,
// batches and energy, merging a job's result, and running the next jobs ahead of their turn.
//
// The stack holds two kinds of frames. A split frame is one splitpoint of a parent job: it
// issues its children in batches (their jobs are contiguous) and merges them in index order.
// A candidates frame is a merged job's candidate list, judged one by one; a novel candidate
// pushes a split frame above it. So a child's candidates, and their whole subtrees, are merged
// before its next sibling, as a one-worker fork-based search would. The issued, unmerged jobs
// read from the top of the stack down are exactly the order in which they will be merged: the
// root runs the first of them ahead, `parallelism` at once.
#include <signal.h>

#include <cstdio>
#include <cstring>

#include "moonpool/explorer/explorer.h"
#include "order.h"
#include "order_state.h"
#include "shared.h"
#include "split.h"

namespace moonpool::explorer::internal {
namespace {

bool stopped() { return control().stop.load(std::memory_order_acquire) != 0; }

Frame& top() { return co().frames[co().frameCount - 1]; }

void push(const Frame& frame) {
  Coordinator& c = co();
  MOONPOOL_EXPLORER_CHECK(c.frameCount < kFramesMax, "the frame stack is full");
  c.frames[c.frameCount++] = frame;
}

void popSplit() {
  MOONPOOL_EXPLORER_CHECK(top().kind == FrameKind::kSplit, "popping a split that is not on top");
  --co().frameCount;
}

// ---- running ahead ----------------------------------------------------------------------

// Calls `visit(job, position)` on the issued, unmerged jobs in merge order while it returns
// true.
template <typename Visit>
void inMergeOrder(Visit visit) {
  Coordinator& c = co();
  std::uint32_t position = 0;
  for (std::uint32_t f = c.frameCount; f > 0; --f) {
    const Frame& frame = c.frames[f - 1];
    if (frame.kind != FrameKind::kSplit) continue;
    for (std::uint32_t k = frame.merged; k < frame.batchSize; ++k) {
      if (!visit(frame.batchFirst + k, position++)) return;
    }
  }
}

std::int32_t freeSlot() {
  const Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    if (c.slots[s].job == kNoJob) return static_cast<std::int32_t>(s);
  }
  return -1;
}

// Frees the slot of the kept result merged last of all, when it comes after `position` in the
// merge order (it runs again in its turn); -1 when none does. Results computed ahead whose
// turn is far (siblings of a productive child, while its subtree is searched) so make room
// for the next jobs.
std::int32_t dropLatestResult(std::uint32_t position) {
  Coordinator& c = co();
  std::uint32_t latest = kNoJob;
  std::uint32_t latestPosition = 0;
  inMergeOrder([&](std::uint32_t job, std::uint32_t at) {
    if (c.jobs[job].state == JobState::kDone) {
      latest = job;
      latestPosition = at;
    }
    return true;
  });
  if (latest == kNoJob || latestPosition <= position) return -1;
  const std::int32_t slot = c.jobs[latest].slot;
  c.slots[slot] = SlotUse{};
  c.jobs[latest].slot = -1;
  c.jobs[latest].state = JobState::kIssued;
  control().resultsDropped.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

// Hands the next jobs in merge order to idle forkers; results kept ahead are bounded by the
// slots.
void runAhead() {
  Coordinator& c = co();
  const std::uint32_t window = gLocal.results.slots;
  inMergeOrder([&](std::uint32_t job, std::uint32_t position) {
    if (position >= window) return false;
    if (c.jobs[job].state != JobState::kIssued) return true;
    const std::int32_t forker = idleForker();
    if (forker < 0) return false;
    std::int32_t slot = freeSlot();
    if (slot < 0) slot = dropLatestResult(position);
    if (slot < 0) return false;
    startJob(job, static_cast<std::uint32_t>(slot), static_cast<std::uint32_t>(forker));
    return true;
  });
}

// ---- merging ----------------------------------------------------------------------------

void recordJobBug(std::uint32_t job, const SlotHeader& header, TimelineEnd end, int signal,
                  int raw) {
  Control& c = control();
  std::uint32_t expected = 0;
  if (!c.bugClaimed.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  Bug& bug = c.firstBug;
  buildRecipe(job, bug.recipe);
  bug.end = end;
  bug.signal = signal;
  bug.exitStatus = raw;
  bug.depth = co().jobs[job].depth;
  bug.timelinesBefore = c.timelines.load(std::memory_order_relaxed);
  bug.wallNs = monotonicNs() - c.seedStartNs;  // when the merge reached it
  writeBugMessage(bug, header, header.ended.load(std::memory_order_acquire) != 0, signal, raw);
  c.bugClaimed.store(2, std::memory_order_release);
  if (gLocal.config.bugs == BugPolicy::kStopAtFirst) c.stop.store(1, std::memory_order_release);
}

// Merges a job's coverage into the explored map and the edge history: when its subtree is
// done, as a forked timeline's when it is reaped (so its descendants are judged productive by
// what they reach before it, not against its whole future). Job 0's counts for nothing.
void mergeCoverage(std::uint32_t job, const std::uint64_t* bitmap, const std::uint8_t* edges,
                   Frame* split) {
  bool productive = mergeBitmap(gLocal.explored, bitmap);
  if (gLocal.edgeCount > 0 && mergeEdges(gLocal.history, edges, gLocal.edgeCount)) {
    productive = true;
  }
  if (job == 0 || !productive) return;
  control().productive.fetch_add(1, std::memory_order_relaxed);
  if (split != nullptr) split->batchProductive = true;
}

// Counts a merged child (not job 0: the root's own timeline, whose end the runner reports).
void countChild(std::uint32_t job, const SlotHeader& header, int status) {
  Control& c = control();
  c.timelines.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t depth = co().jobs[job].depth;
  if (depth > c.depthReachedMax.load(std::memory_order_relaxed)) c.depthReachedMax.store(depth);
  int signal = 0;
  int raw = 0;
  const TimelineEnd end = classify(header, status, signal, raw);
  if (header.hung != 0) c.hangs.fetch_add(1, std::memory_order_relaxed);
  const bool ended = header.ended.load(std::memory_order_acquire) != 0;
  const bool cutShort = c.interrupted.load(std::memory_order_acquire) != 0 &&
                        header.hung == 0 && (!ended || end == TimelineEnd::kEnvironment);
  if (end == TimelineEnd::kPass || cutShort) return;
  c.bugs.fetch_add(1, std::memory_order_relaxed);
  recordJobBug(job, header, end, signal, raw);
}

// Merges the result of `job`, the next child of the split frame on top: counts it, and holds
// its candidates and coverage in a candidates frame until its subtree is done.
void merge(std::uint32_t job) {
  Coordinator& c = co();
  Frame& split = top();
  ++split.merged;
  const std::int32_t slot = c.jobs[job].slot;
  SlotHeader& header = gLocal.results.slot(static_cast<std::uint32_t>(slot));
  if (job != 0) countChild(job, header, c.slots[slot].status);
  const std::uint64_t endNs = c.slotStartNs[slot] + header.cpuNs;
  if (endNs > c.pathNowNs) c.pathNowNs = endNs;
  control().criticalPathNs.store(c.pathNowNs, std::memory_order_relaxed);
  const CandidateList& list = candidatesOf(header);
  control().candidateOverflows.fetch_add(list.overflows, std::memory_order_relaxed);
  const std::uint8_t* edges =
      reinterpret_cast<const std::uint8_t*>(&header) + gLocal.results.edgesOffset;
  const std::uint32_t depth = c.jobs[job].depth;
  if (stopped()) {
    mergeCoverage(job, header.bitmap, edges, &split);
  } else {
    const std::uint32_t count = depth < gLocal.config.depthMax ? list.count : 0;
    std::memcpy(c.candidates[depth], list.items, count * sizeof(Candidate));
    std::memcpy(c.heldBitmap[depth], header.bitmap, sizeof header.bitmap);
    if (gLocal.edgeCount > 0) std::memcpy(heldEdges(depth), edges, gLocal.edgeCount);
    push(Frame{.kind = FrameKind::kCandidates,
               .job = job,
               .candidateCount = count,
               .endDrawsKnown = header.endDrawsKnown != 0,
               .endDraws = header.endDraws});
  }
  c.slots[slot] = SlotUse{};
  c.jobs[job].slot = -1;
  c.jobs[job].state = JobState::kMerged;
}

// The candidates frame on top is done (its job's subtree too): its coverage is merged.
void popCandidates() {
  Coordinator& c = co();
  const Frame& frame = top();
  MOONPOOL_EXPLORER_CHECK(frame.kind == FrameKind::kCandidates, "popping candidates off top");
  const std::uint32_t depth = c.jobs[frame.job].depth;
  --c.frameCount;
  Frame* split = c.frameCount > 0 ? &top() : nullptr;
  MOONPOOL_EXPLORER_CHECK(split == nullptr || split->kind == FrameKind::kSplit,
                          "a candidates frame sits on its split");
  mergeCoverage(frame.job, c.heldBitmap[depth], heldEdges(depth), split);
}

// ---- splits and batches -----------------------------------------------------------------

void judgeNextCandidate() {
  Coordinator& c = co();
  Frame& frame = top();
  if (frame.cursor == frame.candidateCount) {
    popCandidates();
    return;
  }
  const std::uint32_t parent = frame.job;
  const Candidate candidate = c.candidates[c.jobs[parent].depth][frame.cursor++];
  // No draw of the counted stream follows it in the job: every child would replay the job
  // to its end without its reseed taking effect, a copy of the job (on the maze a split at a
  // lock opened in the last round spent 160 children so, and closed its mark as barren). Not
  // judged: a job with a future after the same discovery may still split there.
  if (frame.endDrawsKnown && candidate.count >= frame.endDraws) return;
  if (candidate.novelty == static_cast<std::uint32_t>(Novelty::kOncePerSeed)) {
    const std::uint64_t bit = candidate.bit % kBitmapBits;
    const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
    if ((c.seen[bit / 64] & mask) != 0) return;
    c.seen[bit / 64] |= mask;
  }
  if (control().globalEnergy.load(std::memory_order_acquire) <= 0) return;
  MarkEntry* entry = nullptr;
  if (gLocal.config.mode == EnergyMode::kAdaptive) {
    entry = markFor(candidate.mark);
    // A mark beyond the budget table never splits (counted in markOverflows).
    if (entry == nullptr || entry->closed.load(std::memory_order_acquire) != 0) return;
  }
  push(Frame{.kind = FrameKind::kSplit, .job = parent, .ordinal = candidate.ordinal,
             .mark = candidate.mark, .count = candidate.count, .entry = entry});
}

// Issues the split's next batch of children; false when none could be issued.
bool issueBatch(Frame& split) {
  const bool adaptive = gLocal.config.mode == EnergyMode::kAdaptive;
  const AdaptiveEnergy& a = gLocal.config.adaptive;
  const std::uint32_t batch = adaptive ? a.batch : gLocal.config.timelinesPerSplit;
  const std::uint32_t max = adaptive ? a.timelinesMax : gLocal.config.timelinesPerSplit;
  const std::uint64_t parentSeed = co().jobs[split.job].seed;
  split.batchProductive = false;
  split.batchFirst = co().jobCount;
  split.batchSize = 0;
  split.merged = 0;
  while (split.batchSize < batch && split.launched < max && !stopped()) {
    if (!spend(split.entry)) {
      split.outOfEnergy = true;
      break;
    }
    const std::uint64_t seed = childSeed(parentSeed, split.mark, split.count, split.launched);
    if (newJob(split.job, split.count, seed, split.ordinal) == kNoJob) {
      split.outOfEnergy = true;  // the job table is full: no more jobs this seed
      control().globalEnergy.fetch_add(1, std::memory_order_acq_rel);
      break;
    }
    ++split.batchSize;
    ++split.launched;
  }
  // A splitpoint counts once it has issued a child (as split() counts one that forked).
  if (split.batchSize > 0 && split.launched == split.batchSize) {
    control().splits.fetch_add(1, std::memory_order_relaxed);
  }
  return split.batchSize > 0;
}

// The split on top merged its whole batch (or has none yet): the next batch, or its end.
void nextBatch() {
  Frame& split = top();
  if (split.root) {
    popSplit();
    return;
  }
  if (split.batchSize > 0) {  // the rules of adaptiveSplit() / fixedSplit() in split.cpp
    const AdaptiveEnergy& a = gLocal.config.adaptive;
    const std::uint32_t warmMin = a.warmTimelinesMin != 0 ? a.warmTimelinesMin : a.batch;
    const std::uint32_t judgeAfter = gLocal.warm ? warmMin : a.timelinesMin;
    if (gLocal.config.mode == EnergyMode::kFixed || split.outOfEnergy || stopped() ||
        split.launched >= a.timelinesMax) {
      popSplit();
      return;
    }
    if (!split.batchProductive && split.launched >= judgeAfter) {
      if (split.entry != nullptr &&
          split.entry->closed.exchange(1, std::memory_order_acq_rel) == 0) {
        control().pool.fetch_add(split.entry->budget.exchange(0), std::memory_order_acq_rel);
        control().barrenMarks.fetch_add(1, std::memory_order_relaxed);
      }
      popSplit();
      return;
    }
  }
  if (!issueBatch(split)) popSplit();
}

// The search loop.
void search() {
  Coordinator& c = co();
  while (!stopped() && c.frameCount > 0) {
    Frame& frame = top();
    if (frame.kind == FrameKind::kCandidates) {
      judgeNextCandidate();
      continue;
    }
    if (frame.merged == frame.batchSize) {
      nextBatch();
      continue;
    }
    runAhead();
    const std::uint32_t job = frame.batchFirst + frame.merged;
    if (c.jobs[job].state == JobState::kDone) {
      merge(job);
      continue;
    }
    if (c.running == 0) {  // every forker died: the search cannot go on
      std::fprintf(stderr, "moonpool explorer: no worker left; the seed's search stops\n");
      return;
    }
    waitForWorker();
  }
}

// The search stopped early: the coverage still held is merged (the explored map carries over).
void flushFrames() {
  Coordinator& c = co();
  while (c.frameCount > 0) {
    if (top().kind == FrameKind::kCandidates) {
      popCandidates();
    } else {
      popSplit();
    }
  }
}

}  // namespace

void coordinate(std::uint64_t mark, std::uint64_t bit, Novelty novelty) {
  if (gLocal.coordinator == nullptr || gLocal.results.base == nullptr) return;
  gLocal.coordinated = true;
  Coordinator& c = co();
  c.jobCount = 0;
  c.frameCount = 0;
  c.running = 0;
  c.pathNowNs = 0;
  std::memset(c.forkerFreeNs, 0, sizeof c.forkerFreeNs);
  std::memset(c.seen, 0, sizeof c.seen);
  for (SlotUse& slot : c.slots) slot = SlotUse{};
  c.rootCandidate = Candidate{.mark = mark,
                              .bit = bit,
                              .count = gLocal.hooks.callCount(gLocal.hooks.context),
                              .novelty = static_cast<std::uint32_t>(novelty),
                              .ordinal = gLocal.positionDiscoveries};
  if (gLocal.hooks.shareState != nullptr) {
    gLocal.hooks.shareState(gLocal.hooks.context, StateSharing::kPrivate);
  }
  std::fflush(nullptr);  // a worker must not print the root's buffered output again
  const std::uint32_t root = newJob(kNoJob, 0, gLocal.seed, 0);
  MOONPOOL_EXPLORER_CHECK(root == 0, "job 0 is the root's");
  push(Frame{.kind = FrameKind::kSplit, .root = true, .batchFirst = 0, .batchSize = 1});
  if (startForkers()) return;  // a worker, as its job's timeline
  search();
  flushFrames();
  endWorkers();
  if (gLocal.hooks.shareState != nullptr) {
    gLocal.hooks.shareState(gLocal.hooks.context, StateSharing::kShared);
  }
}

}  // namespace moonpool::explorer::internal
