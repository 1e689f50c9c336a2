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

std::size_t slotBytes(std::size_t edgeCount) {
  return (sizeof(SlotHeader) + sizeof(CandidateList) + edgeCount + 63) / 64 * 64;
}

// The worker's side of a fork: becomes job `job`'s timeline and arms its replay.
void becomeWorker(std::uint32_t slot, std::uint32_t job, pid_t root) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != root) _exit(static_cast<int>(TimelineEnd::kEnvironment));
  Coordinator& c = co();
  SlotHeader& header = gLocal.results.slot(slot);
  gLocal.child = true;
  gLocal.worker = true;
  gLocal.depth = c.jobs[job].depth;
  gLocal.seed = c.jobs[job].seed;
  gLocal.mySlot = &header;
  gLocal.bitmap = header.bitmap;
  gLocal.edgeSlot = gLocal.results.edges(slot);
  gLocal.pool = Pool{};
  gLocal.recipe.rootSeed = c.recipe.rootSeed;
  gLocal.recipe.length = c.recipe.length;
  std::memcpy(gLocal.recipe.steps, c.recipe.steps, c.recipe.length * sizeof(RecipeStep));
  if (gLocal.edgeCount > 0) edgeSource()->beginTimeline(gLocal.edgeSlot);
  if (gLocal.recipe.length == 0) return;  // job 0: the root's own timeline from here
  MOONPOOL_EXPLORER_CHECK(
      gLocal.hooks.callCount(gLocal.hooks.context) <= gLocal.recipe.steps[0].count,
      "a job's first reseed lies before the coordinator's discovery");
  gLocal.replaying = true;
  gLocal.replayUntil = gLocal.recipe.length;
  gLocal.appliedSeen = 0;
  gLocal.hooks.replay(gLocal.hooks.context, gLocal.recipe.steps, gLocal.recipe.length);
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
  const std::uint64_t now = monotonicNs();
  Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    SlotHeader& header = gLocal.results.slot(s);
    const std::uint64_t start = header.startNs.load(std::memory_order_acquire);
    if (c.slots[s].pid <= 0 || start == 0 || header.hung != 0) continue;
    if (now - start < limitMs * 1'000'000) continue;
    header.hung = 1;
    kill(c.slots[s].pid, SIGKILL);
  }
}

// A reaped worker: its job's result is complete.
bool settleReaped(pid_t pid, int status) {
  Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    if (c.slots[s].pid != pid) continue;
    c.slots[s].pid = 0;
    c.slots[s].status = status;
    MOONPOOL_EXPLORER_CHECK(c.slots[s].job != kNoJob, "a running slot without a job");
    c.jobs[c.slots[s].job].state = JobState::kDone;
    MOONPOOL_EXPLORER_CHECK(c.running > 0, "a worker reaped while none runs");
    --c.running;
    return true;
  }
  return false;
}

}  // namespace

Coordinator& co() { return *static_cast<Coordinator*>(gLocal.coordinator); }

CandidateList& candidatesOf(SlotHeader& header) {
  return *reinterpret_cast<CandidateList*>(reinterpret_cast<unsigned char*>(&header) +
                                           sizeof(SlotHeader));
}

std::size_t resultSlotsBytes(std::uint32_t parallelism, std::size_t edgeCount) {
  return slotBytes(edgeCount) * parallelism * kResultSlotsPerWorker;
}

void resultSlotsInit(unsigned char* base, std::uint32_t parallelism, std::size_t edgeCount) {
  gLocal.results = Pool{.slots = parallelism * kResultSlotsPerWorker,
                        .slotBytes = slotBytes(edgeCount),
                        .edgesOffset = sizeof(SlotHeader) + sizeof(CandidateList),
                        .base = base};
}

std::size_t coordinatorBytes() { return (sizeof(Coordinator) + 4095) / 4096 * 4096; }

std::uint32_t newJob(std::uint32_t parent, std::uint64_t count, std::uint64_t seed) {
  Coordinator& c = co();
  if (c.jobCount >= kJobsMax) {
    control().jobOverflows.fetch_add(1, std::memory_order_relaxed);
    return kNoJob;
  }
  const std::uint32_t depth = parent == kNoJob ? 0 : c.jobs[parent].depth + 1;
  MOONPOOL_EXPLORER_CHECK(depth <= kDepthMax, "a job deeper than kDepthMax");
  c.jobs[c.jobCount] = Job{.count = count, .seed = seed, .parent = parent, .depth = depth,
                           .slot = -1, .state = JobState::kIssued};
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

bool startJob(std::uint32_t job, std::uint32_t slot) {
  Coordinator& c = co();
  MOONPOOL_EXPLORER_CHECK(c.slots[slot].job == kNoJob, "starting a job in a busy slot");
  std::memset(static_cast<void*>(&gLocal.results.slot(slot)), 0, gLocal.results.slotBytes);
  SlotHeader& header = gLocal.results.slot(slot);
  header.depth = c.jobs[job].depth;
  header.seed = c.jobs[job].seed;
  if (job == 0) candidatesOf(header).items[candidatesOf(header).count++] = c.rootCandidate;
  buildRecipe(job, c.recipe);
  header.startNs.store(monotonicNs(), std::memory_order_release);
  const pid_t root = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    becomeWorker(slot, job, root);
    return true;
  }
  c.slots[slot].job = job;
  c.jobs[job].slot = static_cast<std::int32_t>(slot);
  if (pid < 0) {  // the job ends as an environment failure with its recipe
    std::fprintf(stderr, "moonpool explorer: fork failed (%s); a job is lost\n",
                 std::strerror(errno));
    c.slots[slot].status = static_cast<int>(TimelineEnd::kEnvironment) << 8;
    c.jobs[job].state = JobState::kDone;
    return false;
  }
  c.slots[slot].pid = pid;
  c.jobs[job].state = JobState::kRunning;
  ++c.running;
  control().workersRun.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void waitForWorker() {
  sigset_t chld;
  sigset_t previous;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &previous);
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (settleReaped(pid, status)) break;
      continue;  // not a worker (an orphan reparented to the subreaper)
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
  Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    if (c.slots[s].pid > 0) kill(c.slots[s].pid, SIGKILL);
  }
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    if (c.slots[s].pid > 0) {
      int status = 0;
      while (waitpid(c.slots[s].pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
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
                                       .novelty = static_cast<std::uint32_t>(novelty)};
}

void killWorkers() {
  if (gLocal.coordinator == nullptr || gLocal.child) return;
  const Coordinator& c = co();
  for (std::uint32_t s = 0; s < gLocal.results.slots; ++s) {
    if (c.slots[s].pid > 0) kill(c.slots[s].pid, SIGKILL);
  }
}

}  // namespace moonpool::explorer::internal
