// Splitpoints: adaptive and fixed energy, and the fork/reap loop of one split (see split.h).
//
// A split, in the process P that made a discovery:
//   1. P gives up its run token (it will only wait) and flushes stdio (a child must not
//      inherit unflushed output: it would print it again);
//   2. children are launched one by one: wait for a free pool slot (reaping one if the window
//      is full), take a run token on the child's behalf, zero the slot, fork. The child
//      takes the token over, reseeds the counted stream and returns from the assertion;
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

namespace {

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

// ---- children ---------------------------------------------------------------------------

enum class Launch : std::uint8_t { kParent, kChild, kFailed };

// One split in progress in this process.
struct Split {
  std::uint64_t mark = 0;
  std::uint64_t count = 0;
  MarkEntry* entry = nullptr;
  std::uint32_t outstanding = 0;
  std::uint32_t launched = 0;
  bool batchProductive = false;
};

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
                        .base = static_cast<unsigned char*>(base)};
  return true;
}

const char* signalName(int signal) {
  const char* name = sigdescr_np(signal);
  return name == nullptr ? "unknown signal" : name;
}

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
  if (ended) {
    copyMessage(bug.message, slot.message);
  } else if (signal != 0) {
    std::snprintf(bug.message, kBugMessageBytesMax, "timeline killed by signal %d (%s)", signal,
                  signalName(signal));
  } else {
    std::snprintf(bug.message, kBugMessageBytesMax,
                  "timeline exited with status %d without ending through the explorer",
                  rawStatus);
  }
  c.bugClaimed.store(2, std::memory_order_release);
  if (gLocal.config.bugs == BugPolicy::kStopAtFirst) c.stop.store(1, std::memory_order_release);
}

// Classifies a reaped child, merges its coverage, records a bug; frees its slot.
void settleChild(Split& split, std::uint32_t index, int status) {
  Control& c = control();
  SlotHeader& slot = gLocal.pool.slot(index);
  const std::int32_t pid = slot.pid.load(std::memory_order_relaxed);
  internal::tokenReleaseAll(c.tokens, pid);
  const bool ended = slot.ended.load(std::memory_order_acquire) != 0;
  TimelineEnd end = TimelineEnd::kPass;
  int signal = 0;
  int raw = 0;
  if (WIFSIGNALED(status)) {
    end = TimelineEnd::kCrash;
    signal = WTERMSIG(status);
    c.signals.fetch_add(1, std::memory_order_relaxed);
  } else {
    raw = WEXITSTATUS(status);
    if (ended && static_cast<std::uint32_t>(raw) == slot.endCode) {
      end = static_cast<TimelineEnd>(slot.endCode);
    } else {
      end = raw == 0 ? TimelineEnd::kEnvironment : TimelineEnd::kCrash;
    }
  }
  bool productive = internal::mergeBitmap(gLocal.explored, slot.bitmap);
  if (gLocal.edgeCount > 0 &&
      internal::mergeEdges(gLocal.history, gLocal.pool.edges(index), gLocal.edgeCount)) {
    productive = true;
  }
  if (productive) {
    c.productive.fetch_add(1, std::memory_order_relaxed);
    split.batchProductive = true;
  }
  // After an interrupt, a timeline killed or ended by it is not a bug; one that ended with a
  // bug class of its own still is.
  const bool cutShort = c.interrupted.load(std::memory_order_acquire) != 0 &&
                        (!ended || end == TimelineEnd::kEnvironment);
  if (end != TimelineEnd::kPass && !cutShort) {
    c.bugs.fetch_add(1, std::memory_order_relaxed);
    recordBug(split, slot, end, signal, raw);
  }
  slot.pid.store(0, std::memory_order_release);
  --split.outstanding;
}

// waitpid(-1) for the root with a wait hook: SIGCHLD is blocked while it polls, so a child
// ending between the poll and sigtimedwait leaves the signal pending and ends the wait at
// once; the hook runs at least every kWaitHookEveryMs. Other timelines block in waitpid.
pid_t waitAny(int& status) {
  if (gLocal.child || gLocal.waitHook == nullptr) return waitpid(-1, &status, 0);
  sigset_t chld;
  sigset_t previous;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &previous);
  pid_t pid = 0;
  for (;;) {
    pid = waitpid(-1, &status, WNOHANG);
    if (pid != 0) break;
    const timespec timeout{.tv_sec = 0, .tv_nsec = long{kWaitHookEveryMs} * 1'000'000};
    if (sigtimedwait(&chld, nullptr, &timeout) < 0 && errno == EINTR) {
      pid = -1;  // a signal (an interrupt): the caller looks again
      break;
    }
    gLocal.waitHook(gLocal.waitHookContext);
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0 && errno == 0) errno = EINTR;
  return pid;
}

// Waits for one child of this split; orphans reaped on the way (the root is a subreaper)
// just give their tokens back.
void reapOne(Split& split) {
  MOONPOOL_EXPLORER_CHECK(split.outstanding > 0, "reaping with no child outstanding");
  for (;;) {
    int status = 0;
    errno = 0;
    const pid_t pid = waitAny(status);
    if (pid < 0) {
      MOONPOOL_EXPLORER_CHECK(errno == EINTR, "waitpid failed with children outstanding");
      continue;
    }
    for (std::uint32_t i = 0; i < gLocal.pool.slots; ++i) {
      if (gLocal.pool.slot(i).pid.load(std::memory_order_relaxed) == pid) {
        settleChild(split, i, status);
        if (!gLocal.child && gLocal.waitHook != nullptr) gLocal.waitHook(gLocal.waitHookContext);
        return;
      }
    }
    internal::tokenReleaseAll(control().tokens, pid);  // an orphan of a dead subtree
  }
}

void drain(Split& split) {
  while (split.outstanding > 0) reapOne(split);
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
  while (split.outstanding >= pool.slots) reapOne(split);
  std::uint32_t index = 0;
  while (pool.slot(index).pid.load(std::memory_order_relaxed) != 0) ++index;
  MOONPOOL_EXPLORER_CHECK(index < pool.slots, "no free slot below the window");
  Control& c = control();
  const pid_t self = getpid();
  const std::int64_t claimed =
      internal::tokenAcquireUnless(c.tokens, -static_cast<std::int32_t>(self), c.interrupted);
  if (claimed < 0) return Launch::kFailed;  // interrupted while waiting for a token
  const auto token = static_cast<std::uint32_t>(claimed);
  std::memset(static_cast<void*>(&pool.slot(index)), 0, pool.slotBytes);
  SlotHeader& slot = pool.slot(index);
  slot.seed = internal::childSeed(gLocal.seed, split.mark, split.count, childIndex);
  slot.count = split.count;
  slot.depth = gLocal.depth + 1;
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

bool stopped() { return control().stop.load(std::memory_order_acquire) != 0; }

Launch fixedSplit(Split& split) {
  for (std::uint32_t i = 0; i < gLocal.config.timelinesPerSplit; ++i) {
    if (stopped() || !spend(nullptr)) break;
    const Launch result = launch(split, i);
    if (result == Launch::kChild) return result;
    if (result == Launch::kFailed) break;
  }
  drain(split);
  return Launch::kParent;
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
      const Launch result = launch(split, split.launched);
      if (result == Launch::kChild) return result;
      if (result == Launch::kFailed) {
        outOfEnergy = true;
        break;
      }
    }
    drain(split);
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
  if (gLocal.depth >= gLocal.config.depthMax || stopped()) return;
  if (c.globalEnergy.load(std::memory_order_acquire) <= 0) return;
  if (!ensurePool()) return;
  Split s{.mark = mark, .count = gLocal.hooks.callCount(gLocal.hooks.context)};
  if (gLocal.config.mode == EnergyMode::kAdaptive) s.entry = markFor(mark);
  std::fflush(nullptr);
  const std::int32_t self = getpid();
  internal::tokenReleaseAll(c.tokens, self);
  const Launch result =
      gLocal.config.mode == EnergyMode::kAdaptive ? adaptiveSplit(s) : fixedSplit(s);
  if (result == Launch::kChild) return;  // a new timeline: it already holds its token
  if (s.launched > 0) c.splits.fetch_add(1, std::memory_order_relaxed);
  // After an interrupt the timeline carries on without a token (its seed is ending).
  internal::tokenAcquireUnless(c.tokens, self, c.interrupted);
}

}  // namespace moonpool::explorer::internal
