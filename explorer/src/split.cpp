// Splitpoints: adaptive and fixed energy, and the fork/reap loop of one split (see split.h).
//
// A split, in the process P that made a discovery:
//   1. P gives up its run token (it will only wait) and flushes stdio (a child must not
//      inherit unflushed output: it would print it again);
//   2. children are launched one by one: wait for a free pool slot (reaping one if the window
//      is full), take a run token on the child's behalf, zero the slot, fork. The child
//      takes the token over, reseeds the counted stream and returns from the assertion.
//      From Config::respawnDepth on, P asks the root to fork the child instead (reap.cpp);
//   3. P reaps every child of the batch (waitpid), classifies its end, merges its bitmap and
//      edge counters, and records the first bug;
//   4. adaptive energy decides whether another batch follows; then P takes a token back and
//      carries on with its own timeline.
#include "split.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/explorer.h"
#include "shared.h"

namespace moonpool::explorer::internal {

void copyMessage(char* to, const char* from) {
  std::snprintf(to, kBugMessageBytesMax, "%s", from == nullptr ? "" : from);
}

// ---- energy -----------------------------------------------------------------------------

MarkEntry* markFor(std::uint64_t hash) {
  MarkEntry* marks = gLocal.marks;
  const std::uint64_t start = hash % kMarksMax;
  for (std::uint64_t probe = 0; probe < kMarksMax; ++probe) {
    MarkEntry& entry = marks[(start + probe) % kMarksMax];
    std::uint64_t seen = entry.hash.load(std::memory_order_acquire);
    if (seen == hash) return &entry;
    if (seen != 0) continue;
    if (entry.hash.compare_exchange_strong(seen, hash, std::memory_order_acq_rel)) {
      entry.budget.store(static_cast<std::int64_t>(gLocal.config.adaptive.perMarkEnergy),
                         std::memory_order_release);
      return &entry;
    }
    if (seen == hash) return &entry;  // lost the race to the same mark
  }
  control().markOverflows.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

// Takes one unit of global energy and, in adaptive mode, one of the mark's budget or of the
// pool. Every failure path gives back what it took.
bool spend(MarkEntry* mark) {
  Control& c = control();
  if (c.globalEnergy.fetch_sub(1, std::memory_order_acq_rel) <= 0) {
    c.globalEnergy.fetch_add(1, std::memory_order_acq_rel);
    return false;
  }
  if (mark == nullptr) return true;
  if (mark->budget.fetch_sub(1, std::memory_order_acq_rel) > 0) return true;
  mark->budget.fetch_add(1, std::memory_order_acq_rel);
  if (c.pool.fetch_sub(1, std::memory_order_acq_rel) > 0) return true;
  c.pool.fetch_add(1, std::memory_order_acq_rel);
  c.globalEnergy.fetch_add(1, std::memory_order_acq_rel);
  return false;
}

namespace {

// ---- children ---------------------------------------------------------------------------

enum class Launch : std::uint8_t { kParent, kChild, kFailed };

bool ensurePool() {
  internal::Pool& pool = gLocal.pool;
  if (pool.base != nullptr) return true;
  const std::size_t slots = gLocal.config.parallelism;
  const std::size_t bytes = (sizeof(SlotHeader) + gLocal.edgeCount + 63) / 64 * 64;
  void* base = internal::mapShared(slots * bytes);
  if (base == nullptr) {
    std::fprintf(stderr, "moonpool explorer: cannot map %zu bytes for a child pool (%s); "
                 "this splitpoint is skipped\n", slots * bytes, std::strerror(errno));
    return false;
  }
  pool = internal::Pool{.slots = static_cast<std::uint32_t>(slots),
                        .slotBytes = bytes,
                        .edgesOffset = sizeof(SlotHeader),
                        .base = static_cast<unsigned char*>(base)};
  return true;
}

// The child's side of a fork: take over the token, become the new timeline.
// Token handover: the parent claimed entry `token` as -parent before fork; the child and the
// parent both try to turn exactly that entry into the child's pid (whoever comes first), so a
// slow child can never take the entry its parent already claimed for the next sibling.
void becomeChild(const Split& split, std::uint32_t index, std::uint32_t token, std::uint64_t seed,
                 pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(static_cast<int>(TimelineEnd::kEnvironment));
  const std::int32_t self = getpid();
  std::int32_t expected = -static_cast<std::int32_t>(parent);
  control().tokens.holder[token].compare_exchange_strong(expected, self,
                                                         std::memory_order_acq_rel);
  SlotHeader& slot = gLocal.pool.slot(index);
  gLocal.child = true;
  gLocal.depth += 1;
  gLocal.seed = seed;
  gLocal.mySlot = &slot;
  gLocal.bitmap = slot.bitmap;
  gLocal.edgeSlot = gLocal.pool.edges(index);
  gLocal.pool = internal::Pool{};
  std::uint32_t deepest = control().depthReachedMax.load(std::memory_order_relaxed);
  while (gLocal.depth > deepest &&
         !control().depthReachedMax.compare_exchange_weak(deepest, gLocal.depth)) {
  }
  if (gLocal.edgeCount > 0) edgeSource()->beginTimeline(gLocal.edgeSlot);
  const std::uint64_t recorded = gLocal.hooks.reseed(gLocal.hooks.context, seed);
  MOONPOOL_EXPLORER_CHECK(recorded == split.count,
                          "the reseed hook recorded another count than callCount() gave");
  MOONPOOL_EXPLORER_CHECK(gLocal.recipe.length < kRecipeStepsMax, "recipe full");
  gLocal.recipe.steps[gLocal.recipe.length++] = RecipeStep{.count = recorded, .seed = seed};
}

Launch launch(Split& split, std::uint32_t childIndex) {
  internal::Pool& pool = gLocal.pool;
  // Only the root runs children side by side; below it each subtree is searched depth-first
  // (siblings running at once race for the same first-time discoveries: README.md).
  const std::uint32_t window = gLocal.child ? 1 : pool.slots;
  while (split.outstanding >= window) {
    if (reapOne(split) == Reap::kBecameChild) return Launch::kChild;
  }
  std::uint32_t index = 0;
  while (pool.slot(index).pid.load(std::memory_order_relaxed) != 0) ++index;
  MOONPOOL_EXPLORER_CHECK(index < pool.slots, "no free slot below the window");
  Control& c = control();
  const pid_t self = getpid();
  const std::int64_t claimed =
      internal::tokenAcquireUnless(c.tokens, -static_cast<std::int32_t>(self), c.interrupted,
                                   gLocal.child ? nullptr : &reapTokenOrphans);
  if (claimed < 0) return Launch::kFailed;  // interrupted while waiting for a token
  const auto token = static_cast<std::uint32_t>(claimed);
  std::memset(static_cast<void*>(&pool.slot(index)), 0, pool.slotBytes);
  SlotHeader& slot = pool.slot(index);
  slot.seed = internal::childSeed(gLocal.seed, split.mark, split.count, childIndex);
  slot.count = split.count;
  slot.depth = gLocal.depth + 1;
  slot.startNs.store(internal::monotonicNs(), std::memory_order_release);
  c.timelines.fetch_add(1, std::memory_order_relaxed);
  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "moonpool explorer: fork failed (%s); this splitpoint stops here\n",
                 std::strerror(errno));
    c.timelines.fetch_sub(1, std::memory_order_relaxed);
    internal::tokenReleaseAll(c.tokens, -static_cast<std::int32_t>(self));
    return Launch::kFailed;
  }
  if (pid == 0) {
    becomeChild(split, index, token, slot.seed, self);
    return Launch::kChild;
  }
  std::int32_t expected = -static_cast<std::int32_t>(self);
  c.tokens.holder[token].compare_exchange_strong(expected, pid, std::memory_order_acq_rel);
  slot.pid.store(pid, std::memory_order_release);
  ++split.outstanding;
  ++split.launched;
  return Launch::kParent;
}

// A deep timeline's child, forked by the root and replayed up to here (Config::respawnDepth):
// claims an arena slot, writes the child's recipe and rings the root. kFailed when no slot is
// free (the caller forks the child itself).
Launch requestRespawn(Split& split, std::uint32_t childIndex) {
  while (split.outstanding >= 1) reapOne(split);  // one at a time below the root; never a child
  const internal::Pool& arena = gLocal.arena;
  std::uint32_t index = 0;
  for (; index < arena.slots; ++index) {
    std::uint32_t expected = kRespawnFree;
    if (arena.slot(index).state.compare_exchange_strong(expected, kRespawnClaimed,
                                                        std::memory_order_acq_rel)) {
      break;
    }
  }
  if (index == arena.slots) return Launch::kFailed;
  SlotHeader& slot = arena.slot(index);
  clearAfterState(slot);
  slot.seed = internal::childSeed(gLocal.seed, split.mark, split.count, childIndex);
  slot.count = split.count;
  slot.depth = gLocal.depth + 1;
  slot.requester = getpid();
  Recipe& recipe = arena.recipe(index);
  MOONPOOL_EXPLORER_CHECK(gLocal.recipe.length < kRecipeStepsMax, "recipe full");
  recipe.rootSeed = gLocal.recipe.rootSeed;
  std::memcpy(recipe.steps, gLocal.recipe.steps, gLocal.recipe.length * sizeof(RecipeStep));
  recipe.steps[gLocal.recipe.length] = RecipeStep{.count = split.count, .seed = slot.seed};
  recipe.length = gLocal.recipe.length + 1;
  control().timelines.fetch_add(1, std::memory_order_relaxed);
  slot.state.store(kRespawnRequested, std::memory_order_release);
  kill(control().rootPid, SIGCHLD);  // the doorbell: the root waits for SIGCHLD
  split.remote[split.remoteCount++] = index;
  ++split.outstanding;
  ++split.launched;
  return Launch::kParent;
}

bool respawning() {
  return gLocal.child && gLocal.config.respawnDepth > 0 &&
         gLocal.depth >= gLocal.config.respawnDepth && gLocal.hooks.replay != nullptr &&
         gLocal.hooks.segmentDraws != nullptr &&
         gLocal.arena.base != nullptr;
}

Launch launchChild(Split& split, std::uint32_t childIndex) {
  if (respawning() && requestRespawn(split, childIndex) == Launch::kParent) {
    return Launch::kParent;
  }
  return launch(split, childIndex);
}

bool stopped() { return control().stop.load(std::memory_order_acquire) != 0; }

Launch fixedSplit(Split& split) {
  for (std::uint32_t i = 0; i < gLocal.config.timelinesPerSplit; ++i) {
    if (stopped() || !spend(nullptr)) break;
    const Launch result = launchChild(split, i);
    if (result == Launch::kChild) return result;
    if (result == Launch::kFailed) break;
  }
  return drain(split) ? Launch::kChild : Launch::kParent;
}

Launch adaptiveSplit(Split& split) {
  const AdaptiveEnergy& a = gLocal.config.adaptive;
  if (split.entry != nullptr && split.entry->closed.load(std::memory_order_acquire) != 0) {
    return Launch::kParent;
  }
  const std::uint32_t warmMin = a.warmTimelinesMin != 0 ? a.warmTimelinesMin : a.batch;
  const std::uint32_t judgeAfter = gLocal.warm ? warmMin : a.timelinesMin;
  for (;;) {
    split.batchProductive = false;
    std::uint32_t inBatch = 0;
    bool outOfEnergy = false;
    for (; inBatch < a.batch && split.launched < a.timelinesMax && !stopped(); ++inBatch) {
      if (!spend(split.entry)) {
        outOfEnergy = true;
        break;
      }
      const Launch result = launchChild(split, split.launched);
      if (result == Launch::kChild) return result;
      if (result == Launch::kFailed) {
        outOfEnergy = true;
        break;
      }
    }
    if (drain(split)) return Launch::kChild;
    if (inBatch == 0 || outOfEnergy || stopped() || split.launched >= a.timelinesMax) break;
    if (!split.batchProductive && split.launched >= judgeAfter) {
      if (split.entry != nullptr &&
          split.entry->closed.exchange(1, std::memory_order_acq_rel) == 0) {
        control().pool.fetch_add(split.entry->budget.exchange(0), std::memory_order_acq_rel);
        control().barrenMarks.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    }
  }
  return Launch::kParent;
}

}  // namespace

void split(std::uint64_t mark) {
  Control& c = control();
  if (gLocal.replaying) return;
  if (gLocal.depth >= gLocal.config.depthMax || stopped()) return;
  if (c.globalEnergy.load(std::memory_order_acquire) <= 0) return;
  if (!ensurePool()) return;
  Split s{.mark = mark, .count = gLocal.hooks.callCount(gLocal.hooks.context)};
  if (gLocal.config.mode == EnergyMode::kAdaptive) {
    s.entry = markFor(mark);
    // A mark beyond the budget table never forks unbudgeted (counted in markOverflows).
    if (s.entry == nullptr) return;
  }
  std::fflush(nullptr);
  const std::int32_t self = getpid();
  // The watchdog's clock stops while this timeline waits for its children.
  SlotHeader* mine = gLocal.child ? gLocal.mySlot : nullptr;
  const std::uint64_t ran =
      mine != nullptr ? internal::monotonicNs() - mine->startNs.exchange(0) : 0;
  internal::tokenReleaseAll(c.tokens, self);
  const Launch result =
      gLocal.config.mode == EnergyMode::kAdaptive ? adaptiveSplit(s) : fixedSplit(s);
  if (result == Launch::kChild) return;  // a new timeline: it already holds its token
  if (s.launched > 0) c.splits.fetch_add(1, std::memory_order_relaxed);
  // After an interrupt the timeline carries on without a token (its seed is ending).
  internal::tokenAcquireUnless(c.tokens, self, c.interrupted,
                               gLocal.child ? nullptr : &reapTokenOrphans);
  if (mine != nullptr) mine->startNs.store(internal::monotonicNs() - ran);
}

}  // namespace moonpool::explorer::internal
