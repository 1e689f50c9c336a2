// SearchOrder::kFixed: the root's coordinator state, between order.cpp (the search) and
// order_jobs.cpp (slots, workers). All of it lives in one private mapping made by start().
#pragma once

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
  std::uint32_t launched = 0;    // kSplit: children so far
  std::uint32_t batchFirst = 0;  // kSplit: the current batch's jobs are contiguous
  std::uint32_t batchSize = 0;
  std::uint32_t merged = 0;      // of the current batch
  std::uint64_t mark = 0;
  std::uint64_t count = 0;
  MarkEntry* entry = nullptr;
};

struct SlotUse {
  std::uint32_t job = kNoJob;
  pid_t pid = 0;  // > 0 while its worker runs
  int status = 0; // the worker's wait status once reaped
};

struct Coordinator {
  std::uint32_t jobCount;
  std::uint32_t frameCount;
  std::uint32_t running;  // workers running
  Candidate rootCandidate;  // the discovery the root coordinates at: job 0's first
  std::uint64_t seen[kBitmapWords];  // Novelty::kOncePerSeed bits judged this seed
  SlotUse slots[kResultSlotsMax];
  Recipe recipe;  // scratch: the recipe of the job being forked
  Frame frames[kFramesMax];
  Job jobs[kJobsMax];
  Candidate candidates[kDepthMax + 1][kCandidatesMax];  // a candidates frame's, by job depth
};

Coordinator& co();
CandidateList& candidatesOf(SlotHeader& header);

// A new job (kNoJob when the job table is full: counted in Control::jobOverflows).
std::uint32_t newJob(std::uint32_t parent, std::uint64_t count, std::uint64_t seed);
void buildRecipe(std::uint32_t job, Recipe& out);
// Forks a worker for `job` in result slot `slot`; true in the worker.
bool startJob(std::uint32_t job, std::uint32_t slot);
// Waits until a worker ends (or the search stops): its job is then kDone.
void waitForWorker();
// Kills and reaps every running worker and frees every slot (the search is over).
void endWorkers();

}  // namespace moonpool::explorer::internal
