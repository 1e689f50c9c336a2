// The explorer's configuration, lifecycle, timelines' ends and results (see explorer.h,
// shared.h). A discovery splits the timeline: split.cpp forks, reaps and spends the energy.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/explorer.h"
#include "moonpool/explorer/recording.h"
#include "order.h"
#include "shared.h"
#include "split.h"

namespace moonpool::explorer {
namespace {

using internal::Control;
using internal::control;
using internal::copyMessage;
using internal::gLocal;
using internal::MarkEntry;
using internal::SlotHeader;

// Bound on the whole configured energy of a seed (keeps the signed counters far from overflow).
constexpr std::uint64_t kEnergyMax = std::uint64_t{1} << 40;
// How long endSeed() waits for orphans (killed through PR_SET_PDEATHSIG) to become reapable.
constexpr int kOrphanWaitRoundsMax = 200;  // of 1 ms

void writeError(char* error, std::size_t size, const char* text) {
  if (error != nullptr && size > 0) std::snprintf(error, size, "%s", text);
}

// From here on a respawned timeline is the requested one: it counts its own edges only, like
// a forked child, and splits at its discoveries.
void endReplay() {
  gLocal.replaying = false;
  if (gLocal.edgeCount > 0) {
    std::memset(gLocal.edgeSlot, 0, gLocal.edgeCount);
    edgeSource()->beginTimeline(gLocal.edgeSlot);
  }
}

// True once a replaying timeline stands where its requester forked it: every point left takes
// effect at the next draw. A forked child sees the same moments before that draw (its own
// reseed still pending), and so splits at the same discoveries.
bool atReplayedSplit() {
  const Recipe& recipe = gLocal.recipe;
  const std::uint64_t next = gLocal.appliedSeen;
  if (next >= recipe.length) return true;
  if (gLocal.hooks.segmentDraws == nullptr ||
      gLocal.hooks.segmentDraws(gLocal.hooks.context) != recipe.steps[next].count) {
    return false;
  }
  for (std::uint64_t i = next + 1; i < recipe.length; ++i) {
    if (recipe.steps[i].count != 0) return false;
  }
  return true;
}

// SearchOrder::kFixed: the shared result slots and the root's private coordinator state.
bool startFixedOrder(const Config& config, std::size_t edges, char* error, std::size_t size) {
  const std::size_t slotsBytes = internal::resultSlotsBytes(config.parallelism, edges);
  const std::size_t coordinatorBytes = internal::coordinatorBytes(config.depthMax, edges);
  void* slots = internal::mapShared(slotsBytes);
  void* coordinator = internal::mapPrivate(coordinatorBytes);
  if (slots != nullptr && coordinator != nullptr) {
    internal::resultSlotsInit(static_cast<unsigned char*>(slots), config.parallelism, edges);
    gLocal.coordinator = coordinator;
    gLocal.coordinatorBytes = coordinatorBytes;
    return true;
  }
  if (error != nullptr && size > 0) {
    std::snprintf(error, size, "cannot map %zu + %zu bytes for the fixed search order: %s",
                  slotsBytes, coordinatorBytes, std::strerror(errno));
  }
  internal::unmap(slots, slotsBytes);
  internal::unmap(coordinator, coordinatorBytes);
  return false;
}

// SearchOrder::kFixed: counts the discoveries made at this position of the timeline (same
// applied reseeds, same draws since), so a worker can tell its parent's from its own.
void countAtPosition() {
  const std::uint64_t draws = gLocal.hooks.segmentDraws(gLocal.hooks.context);
  if (draws != gLocal.positionDraws || gLocal.appliedSeen != gLocal.positionApplied) {
    gLocal.positionDraws = draws;
    gLocal.positionApplied = gLocal.appliedSeen;
    gLocal.positionDiscoveries = 0;
  }
  ++gLocal.positionDiscoveries;
}

}  // namespace

// ---- configuration ----------------------------------------------------------------------

bool validate(const Config& config, char* error, std::size_t size) {
  const char* problem = nullptr;
  if (config.energyPerSeed > kEnergyMax) problem = "energyPerSeed must be at most 2^40";
  if (config.depthMax > kDepthMax) problem = "depthMax must be at most kDepthMax (1024)";
  if (config.respawnDepth > kDepthMax) problem = "respawnDepth must be at most kDepthMax (1024)";
  if (config.timelineWallMsMax > kTimelineWallMsMax) {
    problem = "timelineWallMsMax must be at most kTimelineWallMsMax (one day)";
  }
  if (config.parallelism < 1 || config.parallelism > kParallelismMax) {
    problem = "parallelism must be in [1, kParallelismMax (256)]";
  }
  if (config.mode == EnergyMode::kFixed && config.timelinesPerSplit < 1) {
    problem = "timelinesPerSplit must be at least 1";
  }
  const AdaptiveEnergy& a = config.adaptive;
  if (config.mode == EnergyMode::kAdaptive) {
    if (a.batch < 1) problem = "adaptive.batch must be at least 1";
    if (a.timelinesMax < 1) problem = "adaptive.timelinesMax must be at least 1";
    if (a.timelinesMin > a.timelinesMax) problem = "adaptive.timelinesMin exceeds timelinesMax";
    if (a.perMarkEnergy > kEnergyMax) problem = "adaptive.perMarkEnergy must be at most 2^40";
  }
  if (problem == nullptr) return true;
  writeError(error, size, problem);
  return false;
}

const char* timelineEndName(TimelineEnd end) {
  switch (end) {
    case TimelineEnd::kPass:
      return "pass";
    case TimelineEnd::kCorrectness:
      return "correctness";
    case TimelineEnd::kLiveness:
      return "liveness";
    case TimelineEnd::kCrash:
      return "crash";
    case TimelineEnd::kEnvironment:
      return "environment";
  }
  return "unknown";
}

// ---- lifecycle --------------------------------------------------------------------------

bool start(const Config& config, char* error, std::size_t size) {
  if (gLocal.started) {
    writeError(error, size, "the explorer is already started");
    return false;
  }
  if (!validate(config, error, size)) return false;
  struct sigaction current{};
  if (sigaction(SIGCHLD, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
    writeError(error, size, "SIGCHLD is ignored: forked timelines could not be reaped");
    return false;
  }
  const EdgeSource* source = edgeSource();
  const std::size_t edges =
      source != nullptr && config.edges == EdgeCoverage::kOn ? source->edgeCount() : 0;
  const std::size_t bytes = internal::sharedBytes(edges);
  void* base = internal::mapShared(bytes);
  std::uint8_t* rootEdges =
      edges > 0 ? static_cast<std::uint8_t*>(internal::mapPrivate(edges)) : nullptr;
  if (base == nullptr || (edges > 0 && rootEdges == nullptr)) {
    if (error != nullptr && size > 0) {
      std::snprintf(error, size, "cannot map %zu bytes of shared explorer state: %s", bytes,
                    std::strerror(errno));
    }
    internal::unmap(base, bytes);
    internal::unmap(rootEdges, edges);
    return false;
  }
  auto* at = static_cast<unsigned char*>(base);
  gLocal.control = new (at) Control{};
  at += (sizeof(Control) + 63) / 64 * 64;
  gLocal.explored = reinterpret_cast<std::atomic<std::uint64_t>*>(at);
  at += internal::kBitmapWords * sizeof(std::uint64_t);
  gLocal.history = reinterpret_cast<std::atomic<std::uint8_t>*>(at);
  at += (edges + 63) / 64 * 64;
  gLocal.marks = reinterpret_cast<MarkEntry*>(at);
  internal::tokensInit(gLocal.control->tokens, config.parallelism);
  gLocal.control->rootPid = getpid();
  if (config.respawnDepth > 0) {
    const std::size_t arenaSize = internal::arenaBytes(edges);
    void* arena = internal::mapShared(arenaSize);
    // Without an arena every timeline forks its own children (slower, not wrong).
    if (arena != nullptr) internal::arenaInit(static_cast<unsigned char*>(arena), edges);
  }
  if (config.order == SearchOrder::kFixed && !startFixedOrder(config, edges, error, size)) {
    internal::unmap(gLocal.arena.base, gLocal.arena.slots * gLocal.arena.slotBytes);
    gLocal.arena = internal::Pool{};
    internal::tokensDestroy(gLocal.control->tokens);
    internal::unmap(base, bytes);
    internal::unmap(rootEdges, edges);
    return false;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  gLocal.config = config;
  gLocal.sharedBase = base;
  gLocal.sharedSize = bytes;
  gLocal.edgeCount = edges;
  gLocal.rootEdges = rootEdges;
  gLocal.seedsBegun = 0;
  gLocal.started = true;
  return true;
}

void stop() {
  if (!gLocal.started) return;
  MOONPOOL_EXPLORER_CHECK(!gLocal.child && !gLocal.inSeed, "stop() outside the root, mid-seed");
  internal::tokensDestroy(gLocal.control->tokens);
  gLocal.control->~Control();
  internal::unmap(gLocal.pool.base, gLocal.pool.slots * gLocal.pool.slotBytes);
  internal::unmap(gLocal.arena.base, gLocal.arena.slots * gLocal.arena.slotBytes);
  internal::unmap(gLocal.results.base, gLocal.results.slots * gLocal.results.slotBytes);
  internal::unmap(gLocal.coordinator, gLocal.coordinatorBytes);
  internal::unmap(gLocal.sharedBase, gLocal.sharedSize);
  internal::unmap(gLocal.rootEdges, gLocal.edgeCount);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  gLocal = internal::Local{};
}

bool active() { return gLocal.started; }
const Config& config() { return gLocal.config; }

void beginSeed(std::uint64_t seed, RngHooks hooks) {
  MOONPOOL_EXPLORER_CHECK(gLocal.started && !gLocal.child && !gLocal.inSeed,
                          "beginSeed() needs a started explorer, in the root, between seeds");
  MOONPOOL_EXPLORER_CHECK(hooks.callCount != nullptr && hooks.reseed != nullptr,
                          "beginSeed() needs both RNG hooks");
  Control& c = control();
  c.globalEnergy.store(static_cast<std::int64_t>(gLocal.config.energyPerSeed));
  c.pool.store(0);
  for (auto* counter : {&c.timelines, &c.splits, &c.productive, &c.bugs, &c.signals,
                        &c.barrenMarks, &c.markOverflows, &c.respawned, &c.hangs,
                        &c.candidateOverflows, &c.jobOverflows, &c.workersRun,
                        &c.resultsDropped, &c.jobsCpuNs, &c.criticalPathNs}) {
    counter->store(0);
  }
  c.depthReachedMax.store(0);
  c.stop.store(0);
  c.interrupted.store(0);
  c.bugClaimed.store(0);
  std::memset(static_cast<void*>(&c.firstBug), 0, sizeof c.firstBug);
  c.seedStartNs = internal::monotonicNs();
  for (std::uint32_t i = 0; i < kMarksMax; ++i) {
    gLocal.marks[i].hash.store(0);
    gLocal.marks[i].budget.store(0);
    gLocal.marks[i].closed.store(0);
  }
  MOONPOOL_EXPLORER_CHECK(gLocal.config.order != SearchOrder::kFixed ||
                              (hooks.replay != nullptr && hooks.segmentDraws != nullptr),
                          "SearchOrder::kFixed needs the replay and segmentDraws hooks");
  gLocal.coordinated = false;
  gLocal.appliedSeen = 0;
  gLocal.positionApplied = 0;
  gLocal.positionDraws = ~std::uint64_t{0};
  gLocal.positionDiscoveries = 0;
  gLocal.warm = gLocal.seedsBegun++ > 0;
  gLocal.hooks = hooks;
  gLocal.seed = seed;
  gLocal.depth = 0;
  gLocal.recipe.rootSeed = seed;
  gLocal.recipe.length = 0;
  std::memset(gLocal.rootBitmap, 0, sizeof gLocal.rootBitmap);
  gLocal.bitmap = gLocal.rootBitmap;
  gLocal.edgeSlot = gLocal.rootEdges;
  if (gLocal.edgeCount > 0) {
    std::memset(gLocal.rootEdges, 0, gLocal.edgeCount);
    edgeSource()->beginTimeline(gLocal.rootEdges);
  }
  internal::tokenAcquire(c.tokens, getpid());
  gLocal.inSeed = true;
}

void endSeed() {
  MOONPOOL_EXPLORER_CHECK(gLocal.started && !gLocal.child && gLocal.inSeed,
                          "endSeed() needs a seed in progress, in the root");
  if (gLocal.edgeCount > 0) {
    edgeSource()->endTimeline(gLocal.rootEdges);
    internal::mergeEdges(gLocal.history, gLocal.rootEdges, gLocal.edgeCount);
    recordTimeline(gLocal.rootEdges, gLocal.edgeCount, gLocal.recipe, TimelineKind::kRoot);
  }
  internal::mergeBitmap(gLocal.explored, gLocal.rootBitmap);
  internal::tokenReleaseAll(control().tokens, getpid());
  internal::arenaReset();
  // Orphans of subtrees whose parent died were killed (PR_SET_PDEATHSIG) and reparented to
  // this process: reap them so no zombie outlives the seed.
  for (int round = 0; round < kOrphanWaitRoundsMax; ++round) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      internal::tokenReleaseAll(control().tokens, pid);
      continue;
    }
    if (pid < 0) break;  // ECHILD: none left
    usleep(1000);
  }
  gLocal.hooks = RngHooks{};
  gLocal.inSeed = false;
}

// ---- inside a timeline ------------------------------------------------------------------

void discovery(std::uint64_t markHash, std::uint64_t bitHash) {
  discovery(markHash, bitHash, Novelty::kOncePerSeed);
}

void discovery(std::uint64_t markHash, std::uint64_t bitHash, Novelty novelty) {
  if (!gLocal.started || !gLocal.inSeed) return;
  if (gLocal.config.order == SearchOrder::kFixed) countAtPosition();
  // A respawned timeline replaying its prefix: its ancestors already saw these discoveries.
  if (gLocal.replaying) {
    if (!atReplayedSplit()) return;
    // A fixed-order worker at its split: the parent's discoveries there, the split's included.
    if (gLocal.worker && gLocal.positionDiscoveries <= gLocal.replaySkip) return;
    endReplay();
  }
  const std::uint64_t bit = bitHash % kBitmapBits;
  gLocal.bitmap[bit / 64] |= std::uint64_t{1} << (bit % 64);
  if (!gLocal.child) {
    gLocal.explored[bit / 64].fetch_or(std::uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
  if (gLocal.config.order == SearchOrder::kFixed) {
    // Workers never split: the root judges their candidates when it merges their results.
    if (gLocal.worker) {
      internal::recordCandidate(markHash | 1, bitHash, novelty);
    } else if (!gLocal.child && !gLocal.coordinated) {
      internal::coordinate(markHash | 1, bitHash, novelty);
    }
    return;
  }
  internal::split(markHash | 1);
}

void reseedApplied(std::uint64_t appliedTotal) {
  gLocal.appliedSeen = appliedTotal;
  if (gLocal.replaying && appliedTotal >= gLocal.replayUntil) endReplay();
}

bool inChild() { return gLocal.child; }
std::uint32_t depth() { return gLocal.depth; }
const Recipe& currentRecipe() { return gLocal.recipe; }

void endChildTimeline(TimelineEnd end, const char* message) {
  MOONPOOL_EXPLORER_CHECK(gLocal.child, "endChildTimeline() outside a forked timeline");
  if (gLocal.edgeCount > 0) {
    edgeSource()->endTimeline(gLocal.edgeSlot);
    recordTimeline(gLocal.edgeSlot, gLocal.edgeCount, gLocal.recipe, TimelineKind::kForked);
  }
  SlotHeader& slot = *gLocal.mySlot;
  if (gLocal.worker) {
    slot.cpuNs = internal::cpuNs(CLOCK_PROCESS_CPUTIME_ID);
    slot.endDraws = gLocal.hooks.callCount(gLocal.hooks.context);
    slot.endDrawsKnown = 1;
  }
  slot.endCode = static_cast<std::uint32_t>(end);
  slot.timelinesAtEnd = control().timelines.load(std::memory_order_relaxed);
  slot.wallNsAtEnd = internal::monotonicNs();
  copyMessage(slot.message, message);
  slot.ended.store(1, std::memory_order_release);
  internal::tokenReleaseAll(control().tokens, getpid());
  _exit(static_cast<int>(end));
}

// ---- interruption and progress ----------------------------------------------------------

void interrupt() {
  if (!gLocal.started) return;
  Control& c = control();
  c.interrupted.store(1, std::memory_order_release);
  c.stop.store(1, std::memory_order_release);
  internal::killChildren();
  if (gLocal.child) _exit(static_cast<int>(TimelineEnd::kEnvironment));
}

bool interrupted() {
  return gLocal.started && control().interrupted.load(std::memory_order_acquire) != 0;
}

void setWaitHook(WaitHook hook, void* context) {
  gLocal.waitHook = hook;
  gLocal.waitHookContext = context;
}

// ---- results ----------------------------------------------------------------------------

Stats seedStats() {
  Stats stats{};
  if (!gLocal.started) return stats;
  const Control& c = control();
  stats.timelines = c.timelines.load();
  stats.splits = c.splits.load();
  stats.productive = c.productive.load();
  stats.bugs = c.bugs.load();
  stats.signals = c.signals.load();
  const std::int64_t energy = c.globalEnergy.load();
  stats.energyLeft = energy > 0 ? static_cast<std::uint64_t>(energy) : 0;
  const std::int64_t pool = c.pool.load();
  stats.poolLeft = pool > 0 ? static_cast<std::uint64_t>(pool) : 0;
  stats.barrenMarks = c.barrenMarks.load();
  stats.markOverflows = c.markOverflows.load();
  stats.respawned = c.respawned.load();
  stats.hangs = c.hangs.load();
  stats.candidateOverflows = c.candidateOverflows.load();
  stats.jobOverflows = c.jobOverflows.load();
  stats.workersRun = c.workersRun.load();
  stats.resultsDropped = c.resultsDropped.load();
  stats.jobsCpuNs = c.jobsCpuNs.load();
  stats.criticalPathNs = c.criticalPathNs.load();
  stats.depthReachedMax = c.depthReachedMax.load();
  stats.bitmapBits = internal::countBits(gLocal.explored);
  const EdgeSource* source = edgeSource();
  stats.edgesTotal = source != nullptr ? source->edgeCount() : 0;
  stats.edgesCovered = internal::countCovered(gLocal.history, gLocal.edgeCount);
  return stats;
}

const Bug* firstBug() {
  if (!gLocal.started) return nullptr;
  return control().bugClaimed.load(std::memory_order_acquire) == 2 ? &control().firstBug
                                                                     : nullptr;
}

}  // namespace moonpool::explorer
