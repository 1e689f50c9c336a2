// The explorer's shared memory and process-local state (explorer/, private).
//
// Shared (MAP_SHARED | MAP_ANONYMOUS, mapped once by start(), inherited by every fork):
//   Control      stats, energy, the first bug, the run tokens (a process-shared semaphore
//                plus a table of which process holds which token)
//   explored     kBitmapBits bits: the OR of every reaped timeline's bitmap
//   history      edgeCount bytes: the best edge bucket ever seen per edge
//   marks        kMarksMax open-addressed entries: per-mark energy budgets
// Per parent (mapped lazily at its first split, never shared with siblings):
//   Pool         `parallelism` slots; a child's bitmap, edge counters and end record live in
//                its slot, where the parent reads them after waitpid.
// All of it is plain data and lock-free atomics, which are address-free, so they work across
// processes. Nothing is allocated with new/malloc.
#pragma once

#include <semaphore.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "moonpool/explorer/explorer.h"

namespace moonpool::explorer::internal {

inline constexpr std::uint32_t kBitmapWords = kBitmapBits / 64;
static_assert(kBitmapWords * 64 == kBitmapBits);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);

// One run token: free (0) or held by a process id. A token is claimed by the parent on its
// child's behalf just before fork and re-pointed to the child's pid right after.
struct TokenTable {
  sem_t available;                            // counts free tokens
  std::atomic<std::int32_t> holder[kParallelismMax];  // pid, or 0
};

struct MarkEntry {
  std::atomic<std::uint64_t> hash;   // 0: empty (mark hashes are made non-zero)
  std::atomic<std::int64_t> budget;  // adaptive energy left for this mark
  std::atomic<std::uint32_t> closed; // 1 once barren: its budget went to the pool
};

struct Control {
  // Per seed.
  std::atomic<std::int64_t> globalEnergy;
  std::atomic<std::int64_t> pool;
  std::atomic<std::uint64_t> timelines;
  std::atomic<std::uint64_t> splits;
  std::atomic<std::uint64_t> productive;
  std::atomic<std::uint64_t> bugs;
  std::atomic<std::uint64_t> signals;
  std::atomic<std::uint64_t> barrenMarks;
  std::atomic<std::uint64_t> markOverflows;
  std::atomic<std::uint64_t> respawned;
  std::atomic<std::uint64_t> hangs;
  std::atomic<std::uint64_t> candidateOverflows;  // SearchOrder::kFixed (order.cpp)
  std::atomic<std::uint64_t> jobOverflows;
  std::atomic<std::uint64_t> workersRun;
  std::atomic<std::uint64_t> resultsDropped;
  std::atomic<std::uint64_t> jobsCpuNs;
  std::atomic<std::uint64_t> criticalPathNs;
  std::atomic<std::uint32_t> depthReachedMax;
  std::atomic<std::uint32_t> stop;        // BugPolicy::kStopAtFirst and a bug was found, or
                                          // an interrupt
  std::atomic<std::uint32_t> interrupted; // interrupt() was called this seed
  std::atomic<std::uint32_t> bugClaimed;  // first bug: claimed (1), then published (2)
  std::uint64_t seedStartNs;
  std::int32_t rootPid;                   // who serves respawn requests
  Bug firstBug;
  TokenTable tokens;
};

// A child's slot in its parent's pool. The child writes its end record; the parent reads it
// after waitpid, then zeroes the slot for the next child.
struct SlotHeader {
  // Respawn arena only (reap.cpp): a RespawnState, claimed by compare-and-swap, so it comes
  // first and is never zeroed with the rest (clearAfterState); then the requesting timeline
  // and the wait status the root reaped.
  std::atomic<std::uint32_t> state;
  std::atomic<std::int32_t> pid;      // the child occupying it, 0 when free
  std::atomic<std::uint32_t> ended;   // set by endChildTimeline just before _exit
  std::int32_t requester;
  std::atomic<std::int32_t> waitStatus;
  std::uint32_t hung;                 // killed by the watchdog (set by whoever waits for it)
  // The watchdog's reference: now minus the wall time the timeline computed so far; 0 while
  // it waits in a split (waiting for children is not a hang) or has not started.
  std::atomic<std::uint64_t> startNs;
  std::uint32_t endCode;              // TimelineEnd
  std::uint32_t depth;
  std::uint64_t seed;                 // the child's seed
  std::uint64_t count;                // the parent's draw count at the split
  // SearchOrder::kFixed: discoveries the parent made at its split's position up to the split
  // (its own included); the worker's replay passes over them silently, as a forked child
  // returns from the split's discovery.
  std::uint32_t splitOrdinal;
  std::uint64_t cpuNs;  // SearchOrder::kFixed: the worker's CPU time, its fork included
  // SearchOrder::kFixed: the worker's draw count (RngHooks::callCount) when it ended, known
  // when endDrawsKnown is 1. A candidate at that count has no draw after it: its children
  // would all be copies of the job.
  std::uint64_t endDraws;
  std::uint32_t endDrawsKnown;
  std::uint64_t timelinesAtEnd;       // Control::timelines when the child ended
  std::uint64_t wallNsAtEnd;
  std::uint64_t bitmap[kBitmapWords]; // the child's coverage bitmap
  char message[kBugMessageBytesMax];
};

// A pool's slot i: [SlotHeader][Recipe, respawn arena only][edge counters].
// Zeroes everything of a slot header but `state`.
inline void clearAfterState(SlotHeader& slot) {
  static_assert(offsetof(SlotHeader, state) == 0);
  constexpr std::size_t kSkip = sizeof(std::atomic<std::uint32_t>);
  std::memset(reinterpret_cast<unsigned char*>(&slot) + kSkip, 0, sizeof(SlotHeader) - kSkip);
}

struct Pool {
  std::uint32_t slots;
  std::size_t slotBytes;    // the whole slot, rounded up to 64
  std::size_t edgesOffset;  // where the edge counters start in a slot
  unsigned char* base;
  SlotHeader& slot(std::uint32_t i) const {
    return *reinterpret_cast<SlotHeader*>(base + i * slotBytes);
  }
  Recipe& recipe(std::uint32_t i) const {
    return *reinterpret_cast<Recipe*>(base + i * slotBytes + sizeof(SlotHeader));
  }
  std::uint8_t* edges(std::uint32_t i) const { return base + i * slotBytes + edgesOffset; }
};

// Process-local: inherited by fork, then adjusted in the child.
struct Local {
  bool started;
  Config config;
  void* sharedBase;
  std::size_t sharedSize;
  std::uint64_t seedsBegun;
  bool inSeed;
  std::size_t edgeCount;  // 0 without an edge source, or with EdgeCoverage::kOff
  Control* control;
  std::atomic<std::uint64_t>* explored;  // kBitmapWords
  std::atomic<std::uint8_t>* history;    // edgeCount
  MarkEntry* marks;                      // kMarksMax
  RngHooks hooks;
  bool warm;              // this seed started with coverage carried over
  // This timeline.
  bool child;
  std::uint32_t depth;
  std::uint64_t seed;
  Recipe recipe;
  std::uint64_t* bitmap;  // root: rootBitmap; child: its slot's bitmap
  std::uint8_t* edgeSlot; // root: rootEdges; child: its slot's counters
  SlotHeader* mySlot;     // child only
  Pool pool;              // this process's children (base null until the first split)
  Pool arena;             // respawned timelines, shared by the whole tree (mapped by start())
  bool replaying;         // a respawned timeline replaying its recipe's prefix
  // SearchOrder::kFixed: where the last discovery was (applied reseeds, draws since) and how
  // many discoveries were made there; a worker's replay skips `replaySkip` of them at its end.
  std::uint64_t positionApplied;
  std::uint64_t positionDraws;
  std::uint32_t positionDiscoveries;
  std::uint32_t replaySkip;
  std::uint64_t replayUntil;  // the applied-reseed count at which the replay is over
  std::uint64_t appliedSeen;  // reseed points applied so far (reseedApplied())
  // SearchOrder::kFixed (order.cpp).
  bool worker;            // a worker running one job's recipe to its end, without splitting
  bool coordinated;       // root: this seed's jobs were searched (at its first discovery)
  Pool results;           // root: the result slots (shared), mapped by start()
  void* forkers;          // root: the forkers' cells (shared, before the result slots)
  void* coordinator;      // root: the job table and frames (private), mapped by start()
  std::size_t coordinatorBytes;
  WaitHook waitHook;      // root only: called while waiting for children
  void* waitHookContext;
  std::uint64_t rootBitmap[kBitmapWords];
  std::uint8_t* rootEdges;  // private mapping, edgeCount bytes
};

extern constinit Local gLocal;

// mmap helpers: null on failure (errno kept).
void* mapShared(std::size_t bytes);
void* mapPrivate(std::size_t bytes);
void unmap(void* base, std::size_t bytes);
std::size_t sharedBytes(std::size_t edgeCount);

// Monotonic nanoseconds (the explorer's own bookkeeping; never seen by a simulation).
std::uint64_t monotonicNs();
// CPU nanoseconds of `clock` (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID).
std::uint64_t cpuNs(int clock);
// The watchdog's verdict: true once a timeline whose reference reads `startNs`
// (SlotHeader::startNs; 0: not started, or waiting in a split) computed `limitMs` of wall
// time. Load the reference first: the clock is read here, after it. A reference later than
// the clock (stored by the timeline's process meanwhile) is no time, not an unsigned
// difference wrapped to centuries that kills a timeline just started as hung.
bool watchdogExpired(std::uint64_t startNs, std::uint64_t limitMs);

// Run tokens.
void tokensInit(TokenTable& tokens, std::uint32_t count);
void tokensDestroy(TokenTable& tokens);
// Waits for a free token and records `holder` (a pid, or -1 for "being handed to a child").
// Returns the token's index.
std::uint32_t tokenAcquire(TokenTable& tokens, std::int32_t holder);
// tokenAcquire that gives up (returns -1) once `giveUp` is set, checked at least every
// kTokenRecheckMs: after an interrupt, tokens held by killed timelines are never given back.
inline constexpr int kTokenRecheckMs = 100;
// `onRecheck` (may be null) runs at every recheck while it waits.
std::int64_t tokenAcquireUnless(TokenTable& tokens, std::int32_t holder,
                                const std::atomic<std::uint32_t>& giveUp,
                                void (*onRecheck)() = nullptr);
void tokenReassign(TokenTable& tokens, std::uint32_t index, std::int32_t holder);
// Frees every token `holder` holds (0 or 1 in practice); returns how many.
std::uint32_t tokenReleaseAll(TokenTable& tokens, std::int32_t holder);

// Bitmaps and edges.
// ORs `bitmap` into `explored`; true if any bit was new.
bool mergeBitmap(std::atomic<std::uint64_t>* explored, const std::uint64_t* bitmap);
// Buckets `counts`, raises `history` where the bucket is higher; true if any rose.
bool mergeEdges(std::atomic<std::uint8_t>* history, const std::uint8_t* counts, std::size_t n);
std::uint64_t countBits(const std::atomic<std::uint64_t>* explored);
std::uint64_t countCovered(const std::atomic<std::uint8_t>* history, std::size_t n);

// The child seed of child `index` forked at `count` draws at `mark` from `parentSeed`.
std::uint64_t childSeed(std::uint64_t parentSeed, std::uint64_t mark, std::uint64_t count,
                        std::uint32_t index);

// Explorer-internal invariant: prints "explorer: <what>" and aborts. The explorer runs
// outside the simulation; a broken invariant here is a bug of the explorer itself.
[[noreturn]] void fatal(const char* what);
#define MOONPOOL_EXPLORER_CHECK(condition, what) \
  do {                                           \
    if (!(condition)) [[unlikely]]               \
      ::moonpool::explorer::internal::fatal(what " (" #condition ")"); \
  } while (0)

}  // namespace moonpool::explorer::internal
