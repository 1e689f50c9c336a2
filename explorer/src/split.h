// The splitpoint (explorer/, private): forking a batch of timelines at a discovery, reaping
// them, and the fixed or adaptive energy that decides how many (split.cpp); waiting for,
// settling, watching and respawning children (reap.cpp). explorer.cpp calls split() from
// discovery().
#pragma once

#include <cstdint>

#include "shared.h"

namespace moonpool::explorer::internal {

inline Control& control() { return *gLocal.control; }

// Copies a timeline's end message into a kBugMessageBytesMax buffer; null copies "".
void copyMessage(char* to, const char* from);

// The budget entry of `hash` (claimed on first use), or null when the table is full (counted
// in Control::markOverflows).
MarkEntry* markFor(std::uint64_t hash);
// Takes one unit of global energy and, with a mark (adaptive), one of its budget or of the
// pool; false (nothing taken) when either is spent.
bool spend(MarkEntry* mark);

// Splits this timeline at `mark` (a discovery's non-zero mark hash): launches and reaps
// children while energy and the configuration allow; returns in each child as a new timeline
// and in the parent once its children are reaped.
void split(std::uint64_t mark);

// ---- between split.cpp and reap.cpp -----------------------------------------------------

// States of a respawn arena slot.
enum RespawnState : std::uint32_t {
  kRespawnFree = 0,
  kRespawnClaimed = 1,    // a requester is filling it
  kRespawnRequested = 2,  // waiting for the root to fork it
  kRespawnRunning = 3,    // forked by the root
  kRespawnDone = 4,       // reaped by the root: waitStatus is valid
};

// One split in progress in this process.
struct Split {
  std::uint64_t mark = 0;
  std::uint64_t count = 0;
  MarkEntry* entry = nullptr;
  std::uint32_t outstanding = 0;  // local children plus respawned ones
  std::uint32_t launched = 0;
  bool batchProductive = false;
  std::uint32_t remoteCount = 0;
  std::uint32_t remote[kParallelismMax] = {};  // arena slots of this split's respawned children
};

enum class Reap : std::uint8_t { kSettled, kBecameChild };

// Waits for one child of this split (local or respawned) and settles it. In the root it also
// serves respawn requests: a child it forks for one returns kBecameChild, as the new timeline.
Reap reapOne(Split& split);
// How a reaped child ended (bumps Control::signals for a signal); `signal` and `raw` receive
// the signal and the raw exit status.
TimelineEnd classify(const SlotHeader& slot, int status, int& signal, int& raw);
// The first bug's message for a child that ended so.
void writeBugMessage(Bug& bug, const SlotHeader& slot, bool ended, int signal, int rawStatus);
// Reaps every outstanding child; true when this process became a respawned timeline.
bool drain(Split& split);

// Lays out the respawn arena in `base` (kRespawnSlotsMax slots); returns its bytes when
// `base` is null.
std::size_t arenaBytes(std::size_t edgeCount);
void arenaInit(unsigned char* base, std::size_t edgeCount);
// Root, at endSeed(): kills respawned timelines still running and frees every slot.
void arenaReset();
// Root: reaps dead orphans (their parent was killed) that still hold a run token; the root
// calls it while it waits for a token, which only their reaping gives back.
void reapTokenOrphans();
// Kills every timeline this process waits for (interrupt(): async-signal-safe).
void killChildren();

}  // namespace moonpool::explorer::internal
