// SearchOrder::kFixed: the root's coordinator state, between order.cpp (the search) and
// order_jobs.cpp (slots, workers). All of it lives in one private mapping made by start().
#pragma once

#include <semaphore.h>
#include <sys/types.h>

#include <cstdint>

#include "moonpool/explorer/explorer.h"
#include "order.h"
#include "shared.h"

namespace moonpool::explorer::internal {

inline constexpr std::uint32_t kNoJob = 0xffffffffu;
// A candidates frame per job depth and a split frame above each: the stack's bound.
inline constexpr std::uint32_t kFramesMax = 2 * (kDepthMax + 1);
inline constexpr std::uint32_t kResultSlotsMax = kResultSlotsPerWorker * kParallelismMax;

enum class JobState : std::uint8_t {
  kIssued,   // created; not running, no result kept
  kRunning,  // a worker runs it
  kDone,     // its result waits in its slot for its turn
  kMerged,   // merged; its slot is free again
};

struct Job {
  std::uint64_t count;   // the parent's draw count at the split (recipe step)
  std::uint64_t seed;    // its seed (the root seed for job 0)
  std::uint32_t parent;  // kNoJob for job 0
  std::uint32_t depth;   // recipe steps
  std::int32_t slot;     // result slot while running or done, else -1
  std::uint32_t splitOrdinal;  // the split candidate's Candidate::ordinal
  JobState state;
};

enum class FrameKind : std::uint8_t { kSplit, kCandidates };

struct Frame {
  FrameKind kind = FrameKind::kSplit;
  bool root = false;             // kSplit: job 0's frame (no mark, no energy)
  bool batchProductive = false;  // kSplit
  bool outOfEnergy = false;      // kSplit
  std::uint32_t job = 0;         // kCandidates: whose candidates; kSplit: the parent job
  std::uint32_t cursor = 0;      // kCandidates: the next candidate to judge
  std::uint32_t candidateCount = 0;
  bool endDrawsKnown = false;    // kCandidates: the job's draw count at its end is known
  std::uint64_t endDraws = 0;    // kCandidates: (SlotHeader::endDraws)
  std::uint32_t launched = 0;    // kSplit: children so far
  std::uint32_t batchFirst = 0;  // kSplit: the current batch's jobs are contiguous
  std::uint32_t batchSize = 0;
  std::uint32_t merged = 0;      // of the current batch
  std::uint32_t ordinal = 0;     // kSplit: the candidate's Candidate::ordinal
  std::uint64_t mark = 0;
  std::uint64_t count = 0;
  MarkEntry* entry = nullptr;
};

struct SlotUse {
  std::uint32_t job = kNoJob;
  int status = 0;  // the worker's wait status once reaped
};

// A forker: a copy of the root at the coordinator's discovery that forks the workers of the
// jobs the root hands it (so forks, the costly part of a job, run in parallel, not in the
// root). States of its shared cell:
enum ForkerState : std::uint32_t {
  kForkerIdle = 0,
  kForkerAssigned = 1,  // the root handed it `slot`; it forks the worker
  kForkerDone = 2,      // the worker was reaped: the slot's waitStatus is valid
};

struct ForkerCell {
  sem_t wake;  // posted by the root with each job
  std::atomic<std::uint32_t> state;
  std::uint32_t slot;
};

struct Coordinator {
  std::uint32_t jobCount;
  std::uint32_t frameCount;
  std::uint32_t running;  // workers running
  Candidate rootCandidate;  // the discovery the root coordinates at: job 0's first
  std::uint64_t seen[kBitmapWords];  // Novelty::kOncePerSeed bits judged this seed
  SlotUse slots[kResultSlotsMax];
  ForkerCell* forkers;            // `parallelism` cells, shared (start() maps them)
  pid_t forkerPids[kParallelismMax];  // 0: not running (never started, or died)
  // The critical path's clock (Stats::criticalPathNs): the root's, when each forker is free
  // again, and when each slot's job started, in summed job CPU time.
  std::uint64_t pathNowNs;
  std::uint64_t forkerFreeNs[kParallelismMax];
  std::uint64_t slotStartNs[kResultSlotsMax];
  std::uint32_t slotForker[kResultSlotsMax];
  Frame frames[kFramesMax];
  Job jobs[kJobsMax];
  Candidate candidates[kDepthMax + 1][kCandidatesMax];  // a candidates frame's, by job depth
  // A candidates frame's job's bitmap, by job depth: merged into the explored map when the
  // frame pops, after the job's subtree (as a forked timeline's is, when it is reaped).
  std::uint64_t heldBitmap[kDepthMax + 1][kBitmapWords];
  // (Its edge counters follow the struct in the mapping: heldEdges().)
};

Coordinator& co();
CandidateList& candidatesOf(SlotHeader& header);
// The held edge counters of a job of this depth (Config::depthMax + 1 rows of edgeCount).
std::uint8_t* heldEdges(std::uint32_t depth);

// A new job (kNoJob when the job table is full: counted in Control::jobOverflows).
std::uint32_t newJob(std::uint32_t parent, std::uint64_t count, std::uint64_t seed,
                     std::uint32_t splitOrdinal);
void buildRecipe(std::uint32_t job, Recipe& out);
// Starts the forkers (true in a worker they forked, which returns as its job's timeline).
bool startForkers();
// An idle forker, or -1.
std::int32_t idleForker();
// Hands `job` to forker `forker` in result slot `slot`.
void startJob(std::uint32_t job, std::uint32_t slot, std::uint32_t forker);
// Waits until a worker ends (or the search stops): its job is then kDone.
void waitForWorker();
// Kills and reaps the forkers and every running worker, frees every slot (the search is over).
void endWorkers();

}  // namespace moonpool::explorer::internal
