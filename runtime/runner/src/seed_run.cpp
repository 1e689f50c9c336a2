// One seed of a simulation: the world, the phases, the guards (see runner/runner.h).
//
// Shape. The simulation's main task is seedMain(): whenAny(phases, watchdog). `phases` boots
// the processes and walks the workloads through setup, run (with the chaos phase), settle
// and check, talking to each workload's process through Events in its WorkloadSlot. The
// watchdog enforces the simulated-time budget and, when it sees a world where nothing can
// ever happen again, stands aside so the executor reports the deadlock itself (its report
// lists what every task awaits).
//
// Lifetimes: SeedState outlives the SimWorld (declared before it in runSeed), because the
// world's process groups hold frames that wait on the state's Events until the world is
// destroyed.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moonpool/assertions/report.h"
#include "moonpool/assertions/table.h"
#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/explorer/recording.h"
#include "moonpool/real/wall_clock.h"
#include "moonpool/runner/runner.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/sim/targeted_faults.h"
#include "moonpool/sim/world.h"
#include "interrupt.h"
#include "seed_config.h"
#include "seed_run.h"

namespace moonpool {
namespace {

using internal::SeedConfig;

// The 10.0.0.N addresses of workload processes: N in [1, kWorkloadsMax].
constexpr std::size_t kWorkloadsMax = 250;

// One workload instance: its phase handshakes with the orchestrator and what it reported.
struct WorkloadSlot {
  const Workload* spec = nullptr;
  std::string name;
  std::size_t instance = 0;
  std::size_t instances = 1;
  Event setupGo, setupDone, runGo, runDone, checkGo, checkDone;
  std::unique_ptr<WorkloadContext> context;
  std::optional<std::string> error;  // setup() or run() threw
  CheckResult check;
};

struct SeedState {
  SeedState(const SimulationSpec& s, Simulation& simulation, std::uint64_t seedValue)
      : spec(s), sim(simulation), seed(seedValue) {}

  const SimulationSpec& spec;
  Simulation& sim;
  SimWorld* world = nullptr;
  TargetedFaults* faults = nullptr;  // the workloads' targeted faults on `world`
  std::uint64_t seed;
  std::vector<std::unique_ptr<WorkloadSlot>> slots;
  std::vector<IpAddress> ips;  // every process, for network chaos episodes
  const SeedConfig* config = nullptr;
  Event chaosOver;
  Event never;        // the disarmed watchdog waits here; nobody sets it
  Event failedEvent;  // set by the first failure: the seed ends there
  SeedFailure failure = SeedFailure::kNone;
  std::string message;

  // Keeps the first failure: later ones are usually consequences.
  void fail(SeedFailure kind, std::string why) {
    if (failure != SeedFailure::kNone) return;
    failure = kind;
    message = std::move(why);
    failedEvent.set();
  }
  bool failed() const { return failure != SeedFailure::kNone; }
};

Task<std::optional<std::string>> attempt(Task<void> step) {
  std::optional<std::string> error;
  try {
    co_await std::move(step);
  } catch (...) {
    error = describeException(std::current_exception());
  }
  co_return error;
}

Task<CheckResult> attemptCheck(Task<CheckResult> check) {
  std::optional<CheckResult> result;
  std::string error;
  try {
    result = co_await std::move(check);
  } catch (...) {
    error = describeException(std::current_exception());
  }
  if (!result) co_return CheckResult::fail("check() threw: " + error);
  co_return std::move(*result);
}

// The main of a workload's process: waits for each phase's go, runs the phase, reports.
Task<void> workloadMain(SeedState* s, std::size_t index, ProcessContext& process) {
  WorkloadSlot& slot = *s->slots[index];
  slot.context =
      std::make_unique<WorkloadContext>(process, slot.name, slot.instance, slot.instances, s->seed,
                                        s->chaosOver, s->world->timeline(), *s->faults);
  WorkloadContext& ctx = *slot.context;
  co_await slot.setupGo.wait();
  if (slot.spec->setup) slot.error = co_await attempt(slot.spec->setup(ctx));
  slot.setupDone.set();
  if (slot.error) {
    s->fail(SeedFailure::kWorkloadError,
            "workload '" + slot.name + "' setup() threw: " + *slot.error);
    co_return;
  }
  co_await slot.runGo.wait();
  slot.error = co_await attempt(slot.spec->run(ctx));
  slot.runDone.set();
  if (slot.error) {
    s->fail(SeedFailure::kWorkloadError,
            "workload '" + slot.name + "' run() threw: " + *slot.error);
    co_return;
  }
  co_await slot.checkGo.wait();
  if (slot.spec->check) slot.check = co_await attemptCheck(slot.spec->check(ctx));
  slot.checkDone.set();
}

// The ProcessMain of a workload instance (a functor: a lambda returning a Task would need
// the coro_wrapper attribute on its call operator).
struct WorkloadProcessMain {
  SeedState* s;
  std::size_t index;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& process) const {
    return workloadMain(s, index, process);
  }
};

// A process main that throws is a crash of the service (the world would only end that
// process): the seed fails with it. Kills cancel a main without throwing, so injected faults
// never land here.
Task<void> guardedMain(SeedState* s, ProcessMain main, ProcessContext& process) {
  std::optional<std::string> error = co_await attempt(main(process));
  if (error) {
    s->fail(SeedFailure::kProcessError, "process '" + process.name() + "' (incarnation " +
                                            std::to_string(process.incarnation()) +
                                            ") main threw: " + *error);
  }
}

struct GuardedProcessMain {
  SeedState* s;
  ProcessMain main;
  [[clang::coro_wrapper]] Task<void> operator()(ProcessContext& process) const {
    return guardedMain(s, main, process);
  }
};

void bootProcesses(SeedState* s) {
  SimWorld& world = *s->world;
  for (const ProcessGroup& group : s->spec.processes) {
    for (std::size_t i = 0; i < group.count; ++i) {
      const ProcessId id =
          world.addProcess(ProcessSpec{.name = group.name + "-" + std::to_string(i + 1),
                                       .tags = group.tags,
                                       .ip = IpAddress(),  // the world assigns it
                                       .main = GuardedProcessMain{s, group.main},
                                       .reboot = ProcessSpec::Reboot::kAllowed});
      s->ips.push_back(world.info(id).ip);
    }
  }
  MOONPOOL_CHECK_LE(s->slots.size(), kWorkloadsMax, "too many workload instances");
  for (std::size_t i = 0; i < s->slots.size(); ++i) {
    const WorkloadSlot& slot = *s->slots[i];
    const IpAddress ip = IpAddress::fromOctets(10, 0, 0, static_cast<std::uint8_t>(i + 1));
    world.addProcess(ProcessSpec{.name = slot.name,
                                 .tags = slot.spec->tags,
                                 .ip = ip,
                                 .main = WorkloadProcessMain{s, i},
                                 .reboot = ProcessSpec::Reboot::kNever});
    s->ips.push_back(ip);
  }
}

Task<void> setupPhase(SeedState* s) {
  for (auto& slot : s->slots) {
    slot->setupGo.set();
    co_await slot->setupDone.wait();
    if (slot->error) {
      s->fail(SeedFailure::kWorkloadError,
              "workload '" + slot->name + "' setup() threw: " + *slot->error);
      co_return;
    }
  }
}

Task<void> sleepUntil(SimExecutor* executor, TimePoint deadline) {
  co_await executor->sleepUntil(deadline);
}

// The chaos phase: attrition and network episodes until chaosEnd (both return by then).
Task<void> chaosPhase(SeedState* s) {
  SimExecutor& executor = s->sim.executor();
  const TimePoint chaosEnd = executor.now() + s->spec.chaosDuration;
  std::vector<Task<void>> chaos;
  chaos.push_back(sleepUntil(&executor, chaosEnd));
  if (s->config->attrition) chaos.push_back(s->world->attrition(*s->config->attrition, chaosEnd));
  if (s->config->episodes == internal::NetworkEpisodes::kOn) {
    chaos.push_back(s->world->network().chaos(s->ips, chaosEnd));
  }
  co_await whenAll(std::move(chaos));
}

// Faults stop, the world heals: storage and network faults off, partitions and clogs healed, paused
// processes resumed and pending restarts awaited.
Task<void> settle(SeedState* s) {
  SimWorld& world = *s->world;
  for (const ProcessInfo& process : world.processes()) {
    world.storage().setOptions(
        process.name, internal::withoutStorageFaults(world.storage().options(process.name)));
  }
  world.network().setFaults(NetworkOptions::Faults{});
  world.network().healAll();
  co_await world.allRunning();
  // A targeted kill() has no restart of its own: the world settles with the process back.
  s->faults->restartKilled();
}

Task<void> runPhase(SeedState* s) {
  for (auto& slot : s->slots) slot->runGo.set();
  if (s->spec.chaosDuration > Duration{0}) co_await chaosPhase(s);
  s->chaosOver.set();
  co_await settle(s);
  for (auto& slot : s->slots) {
    co_await slot->runDone.wait();
    if (slot->error) {
      s->fail(SeedFailure::kWorkloadError,
              "workload '" + slot->name + "' run() threw: " + *slot->error);
    }
  }
  if (s->failed()) co_return;
  // Faults a run() targeted after chaosOver are cleaned up too (only when there were any, so
  // a simulation without targeted faults schedules exactly what it did before).
  if (s->faults->used()) co_await settle(s);
  if (s->spec.settleDuration > Duration{0}) {
    co_await s->sim.executor().sleep(s->spec.settleDuration);
  }
}

Task<void> checkPhase(SeedState* s) {
  std::string violations;
  std::size_t count = 0;
  for (auto& slot : s->slots) {
    slot->checkGo.set();
    co_await slot->checkDone.wait();
    for (const std::string& v : slot->check.violations) {
      violations += (count++ == 0 ? "" : "\n") + ("workload '" + slot->name + "': " + v);
    }
  }
  if (count > 0) s->fail(SeedFailure::kCheck, std::move(violations));
}

Task<void> phases(SeedState* s) {
  bootProcesses(s);
  co_await setupPhase(s);
  if (s->failed()) co_return;
  co_await runPhase(s);
  if (s->failed()) co_return;
  co_await checkPhase(s);
}

// True when nothing but this task can ever run again: no timer pending and, over two
// 1 ns flushes, no other step ran (work ready at this instant would have run first).
Task<bool> quiescent(SimExecutor* executor) {
  for (int flush = 0; flush < 2; ++flush) {
    if (executor->pendingTimers() != 0) co_return false;
    const std::uint64_t before = executor->steps();
    co_await executor->sleep(std::chrono::nanoseconds(1));
    if (executor->steps() - before != 1) co_return false;
  }
  co_return executor->pendingTimers() == 0;
}

std::string stillRunning(const SeedState& s) {
  std::string out;
  for (const auto& slot : s.slots) {
    if (slot->runGo.isSet() && !slot->runDone.isSet())
      out += (out.empty() ? "" : ", ") + slot->name;
  }
  return out.empty() ? "" : " (workloads still running: " + out + ")";
}

Task<void> watchdog(SeedState* s) {
  SimExecutor& executor = s->sim.executor();
  const Guards& guards = s->spec.guards;
  const TimePoint deadline = kTimeZero + guards.simTimeBudget;
  for (;;) {
    co_await executor.sleepUntil(std::min(deadline, executor.now() + guards.progressCheckEvery));
    if (internal::interruptRequested()) {
      s->fail(SeedFailure::kInterrupted, "interrupted at " + formatTime(executor.now()));
      co_return;
    }
    if (executor.now() >= deadline) {
      s->fail(SeedFailure::kSimTimeBudget,
              "simulated-time budget exceeded: the seed was still running at " +
                  formatTime(executor.now()) + " (budget " + formatDuration(guards.simTimeBudget) +
                  ")" + stillRunning(*s) + ". Waiting tasks:\n" + executor.describeTasks());
      co_return;
    }
    // Stand aside: with nothing else pending the executor declares the deadlock.
    if (co_await quiescent(&executor)) co_await s->never.wait();
  }
}

Task<void> seedMain(SeedState* s) {
  co_await whenAny(phases(s), watchdog(s), s->failedEvent.wait());
}

}  // namespace

namespace {

void makeSlots(SeedState& s) {
  for (const Workload& w : s.spec.workloads) {
    for (std::size_t i = 0; i < w.instances; ++i) {
      auto slot = std::make_unique<WorkloadSlot>();
      slot->spec = &w;
      slot->name = w.instances == 1 ? w.name : w.name + "-" + std::to_string(i + 1);
      slot->instance = i;
      slot->instances = w.instances;
      s.slots.push_back(std::move(slot));
    }
  }
}

// The seed's verdict: the orchestration's own failure first, then the executor's, then
// assertion failures; the message names every invariant site that failed during the seed.
void judge(SeedResult& r, const SeedState& s, const RunOutcome& outcome,
           const std::vector<std::uint64_t>& failsBefore) {
  if (s.failed()) {
    r.failure = s.failure;
    r.message = s.message;
  } else if (outcome.status == RunStatus::kDeadlock) {
    r.failure = SeedFailure::kDeadlock;
    r.message = outcome.message;
  } else if (outcome.status == RunStatus::kLivelock) {
    r.failure = SeedFailure::kLivelock;
    r.message = outcome.message;
  } else if (outcome.status == RunStatus::kFailed) {
    r.failure = SeedFailure::kRunFailed;
    r.message = outcome.message;
  } else if (r.assertionFailures > 0) {
    r.failure = SeedFailure::kAssertion;
  }
  // The failing assertions are named whatever ended the seed: a check() violation or a hang
  // is often their consequence, and their messages are what the user wrote to explain it.
  if (r.assertionFailures > 0) {
    const std::string failed = describeInvariantFailures(
        invariantFailuresSince(failsBefore, collectAssertionReport()), r.assertionFailures);
    r.message = r.message.empty() ? failed : r.message + "\n" + failed;
  }
  r.verdict = r.failure == SeedFailure::kNone ? SeedVerdict::kPass : SeedVerdict::kFail;
}

void collectWorld(SeedResult& r, SimWorld& world, Tracing tracing) {
  for (const auto& [kind, count] : world.timeline().faultCounts()) r.faultCounts[kind] = count;
  for (const SimWorld::BuggifySite& site : world.buggifySites()) {
    r.buggify.push_back(BuggifySiteTotal{.file = site.file,
                                         .line = site.line,
                                         .seedsEvaluated = site.evaluated > 0 ? 1u : 0u,
                                         .seedsActive = site.active ? 1u : 0u,
                                         .evaluated = site.evaluated,
                                         .fired = site.fired});
  }
  if (tracing == Tracing::kOff) return;
  for (const TimelineEvent& event : world.timeline().events()) r.trace.push_back(event.toString());
  if (world.timeline().dropped() > 0) {
    r.trace.push_back("(" + std::to_string(world.timeline().dropped()) +
                      " more events dropped past Timeline::kEventsMax)");
  }
}

internal::PlainCheckSink gPlainCheckSink = nullptr;

// A failed MOONPOOL_CHECK aborts the process. In an explored timeline that would reach the
// root as "killed by signal 6" without a word of what failed: the timeline ends through the
// explorer instead, as a crash whose message is the check's report. In a plain seed the
// report goes to the sink (a worker's parent), then abort() follows.
void endTimelineOnCheck(std::string_view report) {
  if (!internal::inExploredTimeline()) {
    if (gPlainCheckSink != nullptr) gPlainCheckSink(report);
    return;
  }
  SeedResult crashed;
  crashed.verdict = SeedVerdict::kFail;
  crashed.failure = SeedFailure::kCrashed;
  crashed.message = std::string(report);
  internal::endExploredTimeline(crashed);
}

}  // namespace

SeedResult runSeed(const SimulationSpec& spec, std::uint64_t index, std::uint64_t seed,
                   Tracing tracing) {
  return internal::runSeedWith(spec, index, seed, tracing, internal::SeedExtras{});
}

namespace internal {

void setPlainCheckSink(PlainCheckSink sink) { gPlainCheckSink = sink; }

void applyExploredVerdict(SeedResult& result) {
  if (!result.exploration || !result.exploration->bugFound) return;
  const bool rootPassed = result.verdict == SeedVerdict::kPass;
  // A seed cut short by an interrupt keeps the bug its timelines found before.
  if (!rootPassed && result.failure != SeedFailure::kInterrupted) return;
  const SeedExploration& e = *result.exploration;
  result.verdict = SeedVerdict::kFail;
  result.failure = SeedFailure::kExplored;
  result.message = "a timeline explored from this seed found a bug (" + e.bugClass + ", depth " +
                   std::to_string(e.bugDepth) + "): " + e.bugMessage;
}

SeedResult runSeedWith(const SimulationSpec& spec, std::uint64_t index, std::uint64_t seed,
                       Tracing tracing, const SeedExtras& extras) {
  WallTimer wall;
  internal::setCheckFailureHook(&endTimelineOnCheck);
  resetRunViolations();
  const std::vector<std::uint64_t> failsBefore = failCounts(collectAssertionReport());
  Simulation sim(SimOptions{.seed = seed, .stepsPerInstantMax = spec.guards.stepsPerInstantMax});
  if (extras.replay != nullptr) {
    MOONPOOL_CHECK_EQ(extras.replay->rootSeed, seed, "a replay runs its recipe's root seed");
    sim.random().setReseedPoints(reseedPoints(*extras.replay));
  }
  // Armed before anything can draw or discover: the world's construction included.
  if (extras.exploration != nullptr) extras.exploration->beginSeed(sim);
  explorer::recordSeedBegin();  // --coverage_dir, plain seeds (coverage_dir.h)
  // Before the state and the world, so it outlives both (SimulationSpec::externalLoop).
  std::unique_ptr<ExternalLoop> externalLoop;
  if (spec.externalLoop) externalLoop = spec.externalLoop(sim.executor());
  // Configuration draws come from a derived stream: the main stream's count is untouched.
  RandomStream configStream = sim.random().derive("swarm");
  const SeedConfig config = internal::deriveSeedConfig(spec.chaos, configStream);
  SeedState state(spec, sim, seed);
  state.config = &config;
  makeSlots(state);

  SeedResult result;
  result.index = index;
  result.seed = seed;
  result.config = config.toString();
  {
    SimWorld world(sim, config.world);
    for (const SharedStateDecl& shared : spec.sharedStates) shared.install(world.shared(), seed);
    TargetedFaults faults(world);
    state.world = &world;
    state.faults = &faults;
    if (extras.exploration != nullptr) extras.exploration->attachWorld(world);
    if (tracing == Tracing::kOn) world.timeline().setTracing(true);
    const RunOutcome outcome = sim.run(seedMain(&state));
    result.simulated = outcome.endTime - kTimeZero;
    result.steps = outcome.steps;
    result.decisionHash = outcome.decisionHash;
    result.randomCalls = sim.random().callCount();
    result.assertionFailures = runViolationCount();
    judge(result, state, outcome, failsBefore);
    collectWorld(result, world, tracing);
    for (const auto& slot : state.slots) {
      if (!slot->context) continue;
      for (const auto& [name, metric] : slot->context->metrics())
        mergeMetric(result.metrics, name, metric);
    }
    // A forked timeline is done: its verdict is its exit class, its metrics and faults go to
    // the root (the world is not torn down).
    if (inExploredTimeline()) endExploredTimeline(result);
    state.world = nullptr;
    state.faults = nullptr;
  }
  if (extras.exploration != nullptr) {
    result.exploration = extras.exploration->endSeed();
    applyExploredVerdict(result);
  }
  explorer::recordSeedEnd(seed, extras.replay);
  if (extras.replay != nullptr) result.replayedRecipe = formatRecipe(*extras.replay);
  result.wall = wall.elapsed();
  return result;
}

}  // namespace internal
}  // namespace moonpool
