// SearchOrder::kFixed, the jobs' side (see order.h): result slots, the coordinator's state,
// forking a worker for a job, the worker's candidates, waiting for workers, the watchdog.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "moonpool/explorer/edges.h"
#include "moonpool/explorer/explorer.h"
#include "order_state.h"
#include "shared.h"
#include "split.h"

namespace moonpool::explorer::internal {

static_assert(kResultSlotsPerWorker >= 2, "a worker's next job needs a slot beside its result");
static_assert(kCandidatesMax >= 1 && kJobsMax >= 2);

namespace {

// A result slot: [SlotHeader][Recipe][CandidateList][edge counters].
constexpr std::size_t kRecipeOffset = sizeof(SlotHeader);
constexpr std::size_t kCandidatesOffset = kRecipeOffset + sizeof(Recipe);

std::size_t slotBytes(std::size_t edgeCount) {
  return (kCandidatesOffset + sizeof(CandidateList) + edgeCount + 63) / 64 * 64;
}

std::size_t forkerBytes() { return (sizeof(ForkerCell) * kParallelismMax + 63) / 64 * 64; }

Recipe& recipeOf(std::uint32_t slot) {
  return *reinterpret_cast<Recipe*>(reinterpret_cast<unsigned char*>(&gLocal.results.slot(slot)) +
                                    kRecipeOffset);
}

// The worker's side of a forker's fork: becomes the job of `slot` and arms its replay.
void becomeWorker(std::uint32_t slot, pid_t forker) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != forker) _exit(static_cast<int>(TimelineEnd::kEnvironment));
  SlotHeader& header = gLocal.results.slot(slot);
  const Recipe& recipe = recipeOf(slot);
  gLocal.child = true;
  gLocal.worker = true;
  gLocal.depth = header.depth;
  gLocal.seed = header.seed;
  gLocal.mySlot = &header;
  gLocal.bitmap = header.bitmap;
  gLocal.edgeSlot = gLocal.results.edges(slot);
  gLocal.pool = Pool{};
  gLocal.recipe.rootSeed = recipe.rootSeed;
  gLocal.recipe.length = recipe.length;
  std::memcpy(gLocal.recipe.steps, recipe.steps, recipe.length * sizeof(RecipeStep));
  header.startNs.store(monotonicNs(), std::memory_order_release);
  if (gLocal.edgeCount > 0) edgeSource()->beginTimeline(gLocal.edgeSlot);
  if (gLocal.recipe.length == 0) return;  // job 0: the root's own timeline from here
  MOONPOOL_EXPLORER_CHECK(
      gLocal.hooks.callCount(gLocal.hooks.context) <= gLocal.recipe.steps[0].count,
      "a job's first reseed lies before the coordinator's discovery");
  gLocal.replaying = true;
  gLocal.replaySkip = header.splitOrdinal;
  gLocal.replayUntil = gLocal.recipe.length;
  gLocal.appliedSeen = 0;
  gLocal.hooks.replay(gLocal.hooks.context, gLocal.recipe.steps, gLocal.recipe.length);
}

// A forker's life: fork the worker of each job handed to it, reap it, hand its status back.
// Returns only in a worker.
void forkerLoop(std::uint32_t index, pid_t root) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != root) _exit(static_cast<int>(TimelineEnd::kEnvironment));
  ForkerCell& cell = co().forkers[index];
  const pid_t self = getpid();
  for (;;) {
    while (sem_wait(&cell.wake) != 0) {
      MOONPOOL_EXPLORER_CHECK(errno == EINTR, "a forker's sem_wait failed");
    }
    MOONPOOL_EXPLORER_CHECK(cell.state.load(std::memory_order_acquire) == kForkerAssigned,
                            "a forker woken without a job");
    const std::uint32_t slot = cell.slot;
    SlotHeader& header = gLocal.results.slot(slot);
    const std::uint64_t before = cpuNs(CLOCK_THREAD_CPUTIME_ID);
    const pid_t pid = fork();
    if (pid == 0) {
      becomeWorker(slot, self);
      return;
    }
    int status = static_cast<int>(TimelineEnd::kEnvironment) << 8;
    const std::uint64_t forkNs = cpuNs(CLOCK_THREAD_CPUTIME_ID) - before;
    if (pid > 0) {
      header.pid.store(pid, std::memory_order_release);
      while (waitpid(pid, &status, 0) < 0) {
        MOONPOOL_EXPLORER_CHECK(errno == EINTR, "a forker's waitpid failed");
      }
    } else {
      std::fprintf(stderr, "moonpool explorer: fork failed (%s); a job is lost\n",
                   std::strerror(errno));
    }
    header.cpuNs += forkNs;
    header.waitStatus.store(status, std::memory_order_relaxed);
    header.pid.store(0, std::memory_order_release);
    cell.state.store(kForkerDone, std::memory_order_release);
    kill(root, SIGCHLD);  // the doorbell: the root waits for SIGCHLD
  }
}

int waitTickMs() {
  const std::uint64_t limit = gLocal.config.timelineWallMsMax;
  if (limit == 0 || limit / 4 >= std::uint64_t{kWaitHookEveryMs}) return kWaitHookEveryMs;
  return limit / 4 < 1 ? 1 : static_cast<int>(limit / 4);
}

// The watchdog: kills workers that computed longer than timelineWallMsMax.
void watchWorkers() {
  const std::uint64_t limitMs = gLocal.config.timelineWallMsMax;
  if (limitMs == 0) return;
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    SlotHeader& header = gLocal.results.slot(s);
    const std::int32_t pid = header.pid.load(std::memory_order_acquire);
    const std::uint64_t start = header.startNs.load(std::memory_order_acquire);
    if (co().slots[s].job == kNoJob || pid <= 0 || header.hung != 0) continue;
    if (!watchdogExpired(start, limitMs)) continue;
    header.hung = 1;
    kill(pid, SIGKILL);
  }
}

void finishJob(std::uint32_t slot, int status) {
  Coordinator& c = co();
  const std::uint64_t cpu = gLocal.results.slot(slot).cpuNs;
  control().jobsCpuNs.fetch_add(cpu, std::memory_order_relaxed);
  c.forkerFreeNs[c.slotForker[slot]] = c.slotStartNs[slot] + cpu;
  MOONPOOL_EXPLORER_CHECK(c.slots[slot].job != kNoJob, "a finished slot without a job");
  c.slots[slot].status = status;
  c.jobs[c.slots[slot].job].state = JobState::kDone;
  MOONPOOL_EXPLORER_CHECK(c.running > 0, "a job finished while none runs");
  --c.running;
}

// Settles what the forkers finished; true if any.
bool collectFinished() {
  Coordinator& c = co();
  bool any = false;
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    ForkerCell& cell = c.forkers[f];
    if (cell.state.load(std::memory_order_acquire) != kForkerDone) continue;
    finishJob(cell.slot, gLocal.results.slot(cell.slot).waitStatus.load());
    cell.state.store(kForkerIdle, std::memory_order_release);
    any = true;
  }
  return any;
}

// A dead forker (killed from outside): its job ends as a crash, it gets no more jobs.
void buryForker(pid_t pid, int status) {
  Coordinator& c = co();
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    if (c.forkerPids[f] != pid) continue;
    c.forkerPids[f] = 0;
    ForkerCell& cell = c.forkers[f];
    if (cell.state.load(std::memory_order_acquire) == kForkerAssigned) {
      finishJob(cell.slot, WIFSIGNALED(status) ? status : (44 << 8));
    }
    cell.state.store(kForkerIdle, std::memory_order_release);
  }
}

}  // namespace

Coordinator& co() { return *static_cast<Coordinator*>(gLocal.coordinator); }

CandidateList& candidatesOf(SlotHeader& header) {
  return *reinterpret_cast<CandidateList*>(reinterpret_cast<unsigned char*>(&header) +
                                           kCandidatesOffset);
}

std::size_t resultSlotsBytes(std::uint32_t parallelism, std::size_t edgeCount) {
  return forkerBytes() + slotBytes(edgeCount) * parallelism * kResultSlotsPerWorker;
}

void resultSlotsInit(unsigned char* base, std::uint32_t parallelism, std::size_t edgeCount) {
  gLocal.results = Pool{.slots = parallelism * kResultSlotsPerWorker,
                        .slotBytes = slotBytes(edgeCount),
                        .edgesOffset = kCandidatesOffset + sizeof(CandidateList),
                        .base = base + forkerBytes()};
  gLocal.forkers = base;
}

std::size_t coordinatorBytes(std::uint32_t depthMax, std::size_t edgeCount) {
  const std::size_t edges = (edgeCount + 63) / 64 * 64 * (std::size_t{depthMax} + 1);
  return (sizeof(Coordinator) + 63) / 64 * 64 + edges;
}

std::uint8_t* heldEdges(std::uint32_t depth) {
  const std::size_t stride = (gLocal.edgeCount + 63) / 64 * 64;
  return static_cast<unsigned char*>(gLocal.coordinator) + (sizeof(Coordinator) + 63) / 64 * 64 +
         stride * depth;
}

std::uint32_t newJob(std::uint32_t parent, std::uint64_t count, std::uint64_t seed,
                     std::uint32_t splitOrdinal) {
  Coordinator& c = co();
  if (c.jobCount >= kJobsMax) {
    control().jobOverflows.fetch_add(1, std::memory_order_relaxed);
    return kNoJob;
  }
  const std::uint32_t depth = parent == kNoJob ? 0 : c.jobs[parent].depth + 1;
  MOONPOOL_EXPLORER_CHECK(depth <= kDepthMax, "a job deeper than kDepthMax");
  c.jobs[c.jobCount] = Job{.count = count, .seed = seed, .parent = parent, .depth = depth,
                           .slot = -1, .splitOrdinal = splitOrdinal,
                           .state = JobState::kIssued};
  return c.jobCount++;
}

void buildRecipe(std::uint32_t job, Recipe& out) {
  const Coordinator& c = co();
  out.rootSeed = gLocal.recipe.rootSeed;
  out.length = c.jobs[job].depth;
  MOONPOOL_EXPLORER_CHECK(out.length <= kRecipeStepsMax, "a job's recipe is too long");
  for (std::uint32_t at = job, i = out.length; i > 0; at = c.jobs[at].parent) {
    --i;
    out.steps[i] = RecipeStep{.count = c.jobs[at].count, .seed = c.jobs[at].seed};
  }
}

bool startForkers() {
  Coordinator& c = co();
  c.forkers = static_cast<ForkerCell*>(gLocal.forkers);
  const pid_t root = getpid();
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    ForkerCell& cell = c.forkers[f];
    cell.state.store(kForkerIdle, std::memory_order_relaxed);
    MOONPOOL_EXPLORER_CHECK(sem_init(&cell.wake, /*pshared=*/1, 0) == 0, "sem_init failed");
    const pid_t pid = fork();
    if (pid == 0) {
      forkerLoop(f, root);
      return true;  // a worker
    }
    if (pid < 0) {
      std::fprintf(stderr, "moonpool explorer: fork failed (%s); %u of %u workers\n",
                   std::strerror(errno), f, gLocal.config.parallelism);
    }
    c.forkerPids[f] = pid > 0 ? pid : 0;
  }
  return false;
}

std::int32_t idleForker() {
  const Coordinator& c = co();
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    if (c.forkerPids[f] > 0 &&
        c.forkers[f].state.load(std::memory_order_acquire) == kForkerIdle) {
      return static_cast<std::int32_t>(f);
    }
  }
  return -1;
}

void startJob(std::uint32_t job, std::uint32_t slot, std::uint32_t forker) {
  Coordinator& c = co();
  MOONPOOL_EXPLORER_CHECK(c.slots[slot].job == kNoJob, "starting a job in a busy slot");
  std::memset(static_cast<void*>(&gLocal.results.slot(slot)), 0, gLocal.results.slotBytes);
  SlotHeader& header = gLocal.results.slot(slot);
  header.depth = c.jobs[job].depth;
  header.seed = c.jobs[job].seed;
  header.splitOrdinal = c.jobs[job].splitOrdinal;
  if (job == 0) candidatesOf(header).items[candidatesOf(header).count++] = c.rootCandidate;
  buildRecipe(job, recipeOf(slot));
  c.slots[slot].job = job;
  c.jobs[job].slot = static_cast<std::int32_t>(slot);
  c.jobs[job].state = JobState::kRunning;
  ++c.running;
  control().workersRun.fetch_add(1, std::memory_order_relaxed);
  c.slotStartNs[slot] = c.pathNowNs > c.forkerFreeNs[forker] ? c.pathNowNs : c.forkerFreeNs[forker];
  c.slotForker[slot] = forker;
  ForkerCell& cell = c.forkers[forker];
  cell.slot = slot;
  cell.state.store(kForkerAssigned, std::memory_order_release);
  sem_post(&cell.wake);
}

void waitForWorker() {
  sigset_t chld;
  sigset_t previous;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &previous);
  for (;;) {
    if (collectFinished()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      buryForker(pid, status);  // or an orphan reparented to the subreaper: nothing to do
      continue;
    }
    if (control().stop.load(std::memory_order_acquire) != 0 || co().running == 0) break;
    watchWorkers();
    const int tickMs = waitTickMs();
    const timespec timeout{.tv_sec = tickMs / 1000, .tv_nsec = long{tickMs % 1000} * 1'000'000};
    if (sigtimedwait(&chld, nullptr, &timeout) < 0 && errno == EAGAIN &&
        gLocal.waitHook != nullptr) {
      gLocal.waitHook(gLocal.waitHookContext);
    }
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (gLocal.waitHook != nullptr) gLocal.waitHook(gLocal.waitHookContext);
}

void endWorkers() {
  killWorkers();
  Coordinator& c = co();
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    if (c.forkerPids[f] <= 0) continue;
    int status = 0;
    while (waitpid(c.forkerPids[f], &status, 0) < 0 && errno == EINTR) {
    }
    c.forkerPids[f] = 0;
    sem_destroy(&c.forkers[f].wake);
  }
  // Workers killed with their forker were reparented here (the root is a subreaper): reap
  // them now; endSeed() reaps any that was still being forked.
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    const pid_t pid = gLocal.results.slot(s).pid.load(std::memory_order_acquire);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    c.slots[s] = SlotUse{};
  }
  c.running = 0;
}

void recordCandidate(std::uint64_t mark, std::uint64_t bit, Novelty novelty) {
  MOONPOOL_EXPLORER_CHECK(gLocal.worker && gLocal.mySlot != nullptr, "a candidate off a worker");
  CandidateList& list = candidatesOf(*gLocal.mySlot);
  if (list.count >= kCandidatesMax) {
    ++list.overflows;
    return;
  }
  list.items[list.count++] = Candidate{.mark = mark,
                                       .bit = bit,
                                       .count = gLocal.hooks.callCount(gLocal.hooks.context),
                                       .novelty = static_cast<std::uint32_t>(novelty),
                                       .ordinal = gLocal.positionDiscoveries};
}

void killWorkers() {
  if (gLocal.coordinator == nullptr || gLocal.child || gLocal.results.base == nullptr) return;
  const Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    const pid_t pid = gLocal.results.slot(s).pid.load(std::memory_order_acquire);
    if (pid > 0) kill(pid, SIGKILL);
  }
  for (std::uint32_t f = 0; f < gLocal.config.parallelism; ++f) {
    if (c.forkerPids[f] > 0) kill(c.forkerPids[f], SIGKILL);
  }
}

}  // namespace moonpool::explorer::internal
