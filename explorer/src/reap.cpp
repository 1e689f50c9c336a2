// Waiting for a split's children, settling them, the wall-clock watchdog, and respawned
// timelines (see split.h).
//
// Respawn. fork() copies the process's page tables and, per anonymous mapping, one link to
// every ancestor's anon_vma: a fork at depth d costs O(mappings x d), which made a timeline of
// the maze (depth ~30) cost milliseconds. A timeline at Config::respawnDepth or deeper
// therefore does not fork its children: it writes each child's recipe into a slot of the
// shared arena and rings the root (SIGCHLD). The root, which is always waiting in its own
// split while any timeline runs, forks a child from its splitpoint; the child arms the whole
// recipe (RngHooks::replay) and replays the prefix silently: no discovery splits or sets
// bits until its last reseed point takes effect (reseedApplied()), where it resets its edge
// counters and becomes an ordinary timeline of the requester's depth + 1. The root reaps it
// and hands the wait status to the requester through the slot (and SIGCHLD again).
//
// Every waiting process blocks SIGCHLD and polls: its own children (waitpid), its respawned
// children's slots, and in the root the arena's requests; then sigtimedwait for SIGCHLD.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/explorer.h"
#include "order.h"
#include "shared.h"
#include "split.h"

namespace moonpool::explorer::internal {
namespace {
const char* signalName(int signal) {
  const char* name = sigdescr_np(signal);
  return name == nullptr ? "unknown signal" : name;
}

}  // namespace

void writeBugMessage(Bug& bug, const SlotHeader& slot, bool ended, int signal, int rawStatus) {
  if (slot.hung != 0) {
    std::snprintf(bug.message, kBugMessageBytesMax,
                  "hang: the timeline ran longer than the watchdog's %llu ms of wall time and "
                  "was killed (replay its recipe to see where it loops)",
                  static_cast<unsigned long long>(gLocal.config.timelineWallMsMax));
  } else if (ended) {
    copyMessage(bug.message, slot.message);
  } else if (signal != 0) {
    std::snprintf(bug.message, kBugMessageBytesMax, "timeline killed by signal %d (%s)", signal,
                  signalName(signal));
  } else {
    std::snprintf(bug.message, kBugMessageBytesMax,
                  "timeline exited with status %d without ending through the explorer",
                  rawStatus);
  }
}

TimelineEnd classify(const SlotHeader& slot, int status, int& signal, int& raw) {
  const bool ended = slot.ended.load(std::memory_order_acquire) != 0;
  if (slot.hung != 0) return TimelineEnd::kLiveness;
  if (WIFSIGNALED(status)) {
    signal = WTERMSIG(status);
    control().signals.fetch_add(1, std::memory_order_relaxed);
    return TimelineEnd::kCrash;
  }
  raw = WEXITSTATUS(status);
  if (ended && static_cast<std::uint32_t>(raw) == slot.endCode) {
    return static_cast<TimelineEnd>(slot.endCode);
  }
  return raw == 0 ? TimelineEnd::kEnvironment : TimelineEnd::kCrash;
}

namespace {

void recordBug(const Split& split, const SlotHeader& slot, TimelineEnd end, int signal,
               int rawStatus) {
  Control& c = control();
  std::uint32_t expected = 0;
  if (!c.bugClaimed.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  Bug& bug = c.firstBug;
  bug.recipe = gLocal.recipe;
  MOONPOOL_EXPLORER_CHECK(bug.recipe.length < kRecipeStepsMax, "recipe full");
  bug.recipe.steps[bug.recipe.length++] = RecipeStep{.count = split.count, .seed = slot.seed};
  bug.end = end;
  bug.signal = signal;
  bug.exitStatus = rawStatus;
  bug.depth = slot.depth;
  const bool ended = slot.ended.load(std::memory_order_acquire) != 0;
  bug.timelinesBefore = ended ? slot.timelinesAtEnd : c.timelines.load();
  const std::uint64_t at = ended ? slot.wallNsAtEnd : internal::monotonicNs();
  bug.wallNs = at - c.seedStartNs;
  writeBugMessage(bug, slot, ended, signal, rawStatus);
  c.bugClaimed.store(2, std::memory_order_release);
  if (gLocal.config.bugs == BugPolicy::kStopAtFirst) c.stop.store(1, std::memory_order_release);
}

// Classifies a reaped child, merges its coverage, records a bug.
void settle(Split& split, SlotHeader& slot, const std::uint8_t* edges, int status) {
  Control& c = control();
  internal::tokenReleaseAll(c.tokens, slot.pid.load(std::memory_order_relaxed));
  const bool ended = slot.ended.load(std::memory_order_acquire) != 0;
  int signal = 0;
  int raw = 0;
  const TimelineEnd end = classify(slot, status, signal, raw);
  if (slot.hung != 0) c.hangs.fetch_add(1, std::memory_order_relaxed);
  bool productive = internal::mergeBitmap(gLocal.explored, slot.bitmap);
  if (gLocal.edgeCount > 0 && internal::mergeEdges(gLocal.history, edges, gLocal.edgeCount)) {
    productive = true;
  }
  if (productive) {
    c.productive.fetch_add(1, std::memory_order_relaxed);
    split.batchProductive = true;
  }
  // After an interrupt, a timeline killed or ended by it is not a bug; one that ended with a
  // bug class of its own still is.
  const bool cutShort = c.interrupted.load(std::memory_order_acquire) != 0 &&
                        slot.hung == 0 && (!ended || end == TimelineEnd::kEnvironment);
  if (end != TimelineEnd::kPass && !cutShort) {
    c.bugs.fetch_add(1, std::memory_order_relaxed);
    recordBug(split, slot, end, signal, raw);
  }
  --split.outstanding;
}

bool settleLocal(Split& split, pid_t pid, int status) {
  const Pool& pool = gLocal.pool;
  for (std::uint32_t i = 0; pool.base != nullptr && i < pool.slots; ++i) {
    SlotHeader& slot = pool.slot(i);
    if (slot.pid.load(std::memory_order_relaxed) != pid) continue;
    settle(split, slot, pool.edges(i), status);
    slot.pid.store(0, std::memory_order_release);
    return true;
  }
  return false;
}

bool settleRemote(Split& split) {
  const Pool& arena = gLocal.arena;
  for (std::uint32_t k = 0; k < split.remoteCount; ++k) {
    const std::uint32_t i = split.remote[k];
    SlotHeader& slot = arena.slot(i);
    if (slot.state.load(std::memory_order_acquire) != kRespawnDone) continue;
    settle(split, slot, arena.edges(i), slot.waitStatus.load(std::memory_order_relaxed));
    slot.pid.store(0, std::memory_order_relaxed);
    slot.state.store(kRespawnFree, std::memory_order_release);
    split.remote[k] = split.remote[--split.remoteCount];
    return true;
  }
  return false;
}

// The watchdog: kills this split's children that ran longer than timelineWallMsMax.
void watch(const Split& split) {
  const std::uint64_t limitMs = gLocal.config.timelineWallMsMax;
  if (limitMs == 0) return;
  const auto check = [&](SlotHeader& slot) {
    const std::int32_t pid = slot.pid.load(std::memory_order_acquire);
    const std::uint64_t start = slot.startNs.load(std::memory_order_acquire);
    if (pid <= 0 || slot.hung != 0 || !internal::watchdogExpired(start, limitMs)) return;
    slot.hung = 1;
    kill(pid, SIGKILL);
  };
  const Pool& pool = gLocal.pool;
  for (std::uint32_t i = 0; pool.base != nullptr && i < pool.slots; ++i) check(pool.slot(i));
  for (std::uint32_t k = 0; k < split.remoteCount; ++k) {
    SlotHeader& slot = gLocal.arena.slot(split.remote[k]);
    if (slot.state.load(std::memory_order_acquire) == kRespawnRunning) check(slot);
  }
}

// ---- the root's side of respawning ------------------------------------------------------

// The child of a respawn fork: becomes the requested timeline and arms its replay.
void becomeRespawned(std::uint32_t index, pid_t root) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != root) _exit(static_cast<int>(TimelineEnd::kEnvironment));
  const Pool& arena = gLocal.arena;
  SlotHeader& slot = arena.slot(index);
  const Recipe& recipe = arena.recipe(index);
  gLocal.child = true;
  gLocal.depth = slot.depth;
  gLocal.seed = slot.seed;
  gLocal.mySlot = &slot;
  gLocal.bitmap = slot.bitmap;
  gLocal.edgeSlot = arena.edges(index);
  gLocal.pool = internal::Pool{};
  gLocal.recipe.rootSeed = recipe.rootSeed;
  gLocal.recipe.length = recipe.length;
  std::memcpy(gLocal.recipe.steps, recipe.steps, recipe.length * sizeof(RecipeStep));
  std::uint32_t deepest = control().depthReachedMax.load(std::memory_order_relaxed);
  while (gLocal.depth > deepest &&
         !control().depthReachedMax.compare_exchange_weak(deepest, gLocal.depth)) {
  }
  Control& c = control();
  if (internal::tokenAcquireUnless(c.tokens, getpid(), c.interrupted) < 0) {
    _exit(static_cast<int>(TimelineEnd::kEnvironment));
  }
  slot.startNs.store(internal::monotonicNs(), std::memory_order_release);
  if (gLocal.edgeCount > 0) edgeSource()->beginTimeline(gLocal.edgeSlot);
  MOONPOOL_EXPLORER_CHECK(gLocal.hooks.callCount(gLocal.hooks.context) == recipe.steps[0].count,
                          "a respawned timeline's recipe does not start at the root's split");
  gLocal.replaying = true;
  gLocal.replayUntil = recipe.length;
  gLocal.appliedSeen = 0;
  gLocal.hooks.replay(gLocal.hooks.context, gLocal.recipe.steps, gLocal.recipe.length);
}

void handBack(SlotHeader& slot) {
  const std::int32_t requester = slot.requester;
  slot.state.store(kRespawnDone, std::memory_order_release);
  // A requester that died leaves its slot to nobody: free it.
  if (kill(requester, SIGCHLD) != 0) {
    slot.pid.store(0, std::memory_order_relaxed);
    slot.state.store(kRespawnFree, std::memory_order_release);
  }
}

// Root: forks every requested timeline. True in a child it forked (the new timeline).
bool serve(const sigset_t& previous) {
  const Pool& arena = gLocal.arena;
  const pid_t self = getpid();
  for (std::uint32_t i = 0; arena.base != nullptr && i < arena.slots; ++i) {
    SlotHeader& slot = arena.slot(i);
    std::uint32_t expected = kRespawnRequested;
    if (!slot.state.compare_exchange_strong(expected, kRespawnRunning,
                                            std::memory_order_acq_rel)) {
      continue;
    }
    if (control().interrupted.load(std::memory_order_acquire) != 0) {
      slot.waitStatus.store(static_cast<int>(TimelineEnd::kEnvironment) << 8);
      handBack(slot);
      continue;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      sigprocmask(SIG_SETMASK, &previous, nullptr);
      becomeRespawned(i, self);
      return true;
    }
    if (pid < 0) {
      std::fprintf(stderr, "moonpool explorer: fork failed (%s); a timeline is lost\n",
                   std::strerror(errno));
      slot.waitStatus.store(static_cast<int>(TimelineEnd::kEnvironment) << 8);
      handBack(slot);
      continue;
    }
    slot.pid.store(pid, std::memory_order_release);
    control().respawned.fetch_add(1, std::memory_order_relaxed);
  }
  return false;
}

// Root: a reaped process that was a respawned timeline: hand its status to its requester.
bool completeRespawn(pid_t pid, int status) {
  const Pool& arena = gLocal.arena;
  for (std::uint32_t i = 0; arena.base != nullptr && i < arena.slots; ++i) {
    SlotHeader& slot = arena.slot(i);
    if (slot.pid.load(std::memory_order_acquire) != pid ||
        slot.state.load(std::memory_order_acquire) != kRespawnRunning) {
      continue;
    }
    internal::tokenReleaseAll(control().tokens, pid);
    slot.waitStatus.store(status, std::memory_order_relaxed);
    handBack(slot);
    return true;
  }
  return false;
}

// Root: respawned timelines whose requester died are killed (nobody would read them).
void cullOrphanedRespawns() {
  const Pool& arena = gLocal.arena;
  for (std::uint32_t i = 0; arena.base != nullptr && i < arena.slots; ++i) {
    SlotHeader& slot = arena.slot(i);
    if (slot.state.load(std::memory_order_acquire) != kRespawnRunning) continue;
    const std::int32_t pid = slot.pid.load(std::memory_order_acquire);
    if (pid > 0 && kill(slot.requester, 0) != 0 && errno == ESRCH) kill(pid, SIGKILL);
  }
}

int waitTickMs() {
  const std::uint64_t limit = gLocal.config.timelineWallMsMax;
  if (limit == 0 || limit / 4 >= std::uint64_t{kWaitHookEveryMs}) return kWaitHookEveryMs;
  return limit / 4 < 1 ? 1 : static_cast<int>(limit / 4);
}

}  // namespace

Reap reapOne(Split& split) {
  MOONPOOL_EXPLORER_CHECK(split.outstanding > 0, "reaping with no child outstanding");
  const bool root = !gLocal.child;
  sigset_t chld;
  sigset_t previous;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &previous);
  for (;;) {
    if (root && serve(previous)) return Reap::kBecameChild;  // its mask is restored
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (settleLocal(split, pid, status)) break;
      if (!(root && completeRespawn(pid, status))) {
        internal::tokenReleaseAll(control().tokens, pid);  // an orphan of a dead subtree
      }
      continue;
    }
    if (settleRemote(split)) break;
    watch(split);
    const int tickMs = waitTickMs();
    const timespec timeout{.tv_sec = tickMs / 1000, .tv_nsec = long{tickMs % 1000} * 1'000'000};
    if (sigtimedwait(&chld, nullptr, &timeout) < 0 && errno == EAGAIN && root) {
      cullOrphanedRespawns();
      if (gLocal.waitHook != nullptr) gLocal.waitHook(gLocal.waitHookContext);
    }
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (root && gLocal.waitHook != nullptr) gLocal.waitHook(gLocal.waitHookContext);
  return Reap::kSettled;
}

bool drain(Split& split) {
  while (split.outstanding > 0) {
    if (reapOne(split) == Reap::kBecameChild) return true;
  }
  return false;
}

std::size_t arenaBytes(std::size_t edgeCount) {
  const std::size_t slot = (sizeof(SlotHeader) + sizeof(Recipe) + edgeCount + 63) / 64 * 64;
  return slot * kRespawnSlotsMax;
}

void arenaInit(unsigned char* base, std::size_t edgeCount) {
  gLocal.arena = Pool{.slots = kRespawnSlotsMax,
                      .slotBytes = arenaBytes(edgeCount) / kRespawnSlotsMax,
                      .edgesOffset = sizeof(SlotHeader) + sizeof(Recipe),
                      .base = base};
}

void arenaReset() {
  const Pool& arena = gLocal.arena;
  for (std::uint32_t i = 0; arena.base != nullptr && i < arena.slots; ++i) {
    SlotHeader& slot = arena.slot(i);
    const std::int32_t pid = slot.pid.load(std::memory_order_acquire);
    if (pid > 0 && slot.state.load(std::memory_order_acquire) == kRespawnRunning) {
      kill(pid, SIGKILL);
    }
    slot.pid.store(0, std::memory_order_relaxed);
    slot.state.store(kRespawnFree, std::memory_order_release);
  }
}

void reapTokenOrphans() {
  if (gLocal.child) return;
  TokenTable& tokens = control().tokens;
  for (auto& entry : tokens.holder) {
    const std::int32_t pid = entry.load(std::memory_order_acquire);
    if (pid <= 0) continue;
    bool mine = false;  // the root's own children are settled by reapOne, not here
    const Pool* pools[] = {&gLocal.pool, &gLocal.arena};
    for (const Pool* pool : pools) {
      for (std::uint32_t i = 0; pool->base != nullptr && i < pool->slots; ++i) {
        mine = mine || pool->slot(i).pid.load(std::memory_order_relaxed) == pid;
      }
    }
    int status = 0;
    if (!mine && waitpid(pid, &status, WNOHANG) == pid) internal::tokenReleaseAll(tokens, pid);
  }
}

void killChildren() {
  killWorkers();
  const Pool& pool = gLocal.pool;
  for (std::uint32_t i = 0; pool.base != nullptr && i < pool.slots; ++i) {
    const std::int32_t pid = pool.slot(i).pid.load(std::memory_order_acquire);
    if (pid > 0) kill(pid, SIGKILL);
  }
  if (gLocal.child) return;  // respawned timelines are the root's children
  const Pool& arena = gLocal.arena;
  for (std::uint32_t i = 0; arena.base != nullptr && i < arena.slots; ++i) {
    const SlotHeader& slot = arena.slot(i);
    const std::int32_t pid = slot.pid.load(std::memory_order_acquire);
    if (pid > 0 && slot.state.load(std::memory_order_acquire) == kRespawnRunning) {
      kill(pid, SIGKILL);
    }
  }
}

}  // namespace moonpool::explorer::internal
