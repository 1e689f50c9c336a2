// The simulated executor: one thread, logical time, seeded scheduling (runtime/ sim layer).
//
// State: a ready set of Runnables and a timer queue ordered by (logical time, sequence).
// Each step:
//   1. timers due at the current instant move to the ready set (all of them, so timers that
//      expire together race);
//   2. if the ready set is empty, time jumps to the earliest pending timer (its own queue
//      or a hosted external loop's, e.g. KJ's), and step 1 repeats;
//   3. otherwise the next Runnable is a seeded choice from the "scheduler" stream
//      (random.h), and it runs until it suspends.
// Every choice is folded into a rolling decision hash; the determinism check compares it
// across runs of the same seed and, when asked to, records each decision so a mismatch names
// the first divergent event.
//
// A run ends when its main task ends, or fails with a clear status:
//   - deadlock: nothing ready, no timer pending, main unfinished (the report lists every
//     live task and what it awaits, with the seed);
//   - livelock: more than stepsPerInstantMax steps without time advancing (busy yields);
//   - failed: main threw, or a spawned task failed with nobody to observe it.
// When run() returns, every task still alive is cancelled: nothing leaks into the next seed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "moonpool/executor.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/random.h"
#include "moonpool/run_outcome.h"
#include "moonpool/spawn.h"
#include "moonpool/task.h"
#include "moonpool/time.h"

namespace moonpool {

struct SimOptions {
  std::uint64_t seed = 1;
  // Steps allowed at one instant before the run is declared a livelock.
  std::uint64_t stepsPerInstantMax = 1'000'000;
};

// One scheduling decision, as recorded for determinism diagnostics.
struct Decision {
  std::uint64_t step = 0;
  TimePoint time;
  std::uint64_t taskId = 0;  // 0 for external loops
  WakeKind kind = WakeKind::kStart;
  std::uint32_t readyCount = 0;
  std::uint32_t pick = 0;

  bool operator==(const Decision&) const = default;
  std::string toString() const;
};

// An intrusive timer owned by an awaiter (see SimExecutor::sleep).
class SimTimer {
 public:
  static constexpr std::size_t kNotQueued = static_cast<std::size_t>(-1);

  SimTimer() = default;
  SimTimer(const SimTimer&) = delete;
  SimTimer& operator=(const SimTimer&) = delete;

  bool queued() const { return heapIndex != kNotQueued; }

  TimePoint when;
  std::uint64_t sequence = 0;
  Runnable wake;
  std::size_t heapIndex = kNotQueued;  // executor bookkeeping
};

// An event source hosted by the simulated executor (the kj layer's KJ loop). It schedules its own
// Runnable when it has work; the executor asks it for its next timer when idle and tells it
// when time advances.
class ExternalLoop {
 public:
  virtual ~ExternalLoop() = default;
  virtual std::optional<TimePoint> nextTimer() = 0;
  virtual void advanceTo(TimePoint now) = 0;
};

class SimExecutor final : public Executor {
 public:
  explicit SimExecutor(SimOptions options);
  SimExecutor(const SimExecutor&) = delete;
  SimExecutor& operator=(const SimExecutor&) = delete;
  ~SimExecutor() override;

  // Runs `main` (spawned into the root group as task "main") until it ends. See the header
  // comment for outcomes. May be called again for another main task; time goes on.
  RunOutcome run(Task<void> main);

  // The group for tasks that belong to no process (main is spawned here).
  TaskGroup& rootGroup() { return *root_; }

  class SleepAwaiter {
   public:
    SleepAwaiter(SimExecutor& executor, TimePoint deadline)
        : executor_(executor), deadline_(deadline) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter();
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self);
    void await_resume() const noexcept {}

   private:
    SimExecutor& executor_;
    TimePoint deadline_;
    SimTimer timer_;
  };
  // Awaitable that resumes the caller at `now() + delay` (a timer at the current instant for
  // delay <= 0: the task goes through the ready set like a yield).
  SleepAwaiter sleep(Duration delay) {
    return SleepAwaiter(*this, now_ + std::max(delay, Duration{0}));
  }
  SleepAwaiter sleepUntil(TimePoint deadline) {
    return SleepAwaiter(*this, std::max(deadline, now_));
  }

  void addTimer(SimTimer& timer);
  void removeTimer(SimTimer& timer);

  // Hosts `loop` (at most one). It must be detached before it is destroyed.
  void attachExternal(ExternalLoop& loop);
  void detachExternal(ExternalLoop& loop);

  // Freezes every task of `group`, and of the groups tied to it (TaskGroup::pauseWith): their
  // Runnables stay parked (timers still fire, late) until resumeGroup(). Pausing a paused
  // group is an error.
  void pauseGroup(const TaskGroup& group);
  void resumeGroup(const TaskGroup& group);
  bool groupPaused(const TaskGroup& group) const { return paused_.count(&group) != 0; }
  // Paused itself, or tied to a paused group (TaskGroup::pauseWith).
  bool heldBack(const TaskGroup* group) const;
  std::size_t parkedCount() const { return parked_.size(); }

  // Installs the simulated world's buggify hook (null to remove).
  void setBuggifyHook(BuggifyHook* hook) { buggify_ = hook; }

  // Restarts the "scheduler" stream from `seed` (the explorer's timelines and their replays
  // reseed it together with the counted main stream; see SimRandomProvider).
  void reseedScheduler(std::uint64_t seed) { scheduler_ = RandomStream(seed); }

  // Records every decision into `log` (null to stop). For determinism diagnostics.
  void recordDecisions(std::vector<Decision>* log) { decisionLog_ = log; }

  std::uint64_t seed() const { return options_.seed; }
  std::uint64_t steps() const { return steps_; }
  std::uint64_t timersFired() const { return timersFired_; }
  std::uint64_t decisionHash() const { return decisionHash_; }
  std::size_t liveTasks() const { return registry_.size(); }
  std::size_t pendingTimers() const { return timers_.size(); }
  std::string describeTasks() const { return registry_.describe(); }

  // implements Executor
  void schedule(Runnable& work) override;
  void unschedule(Runnable& work) override;
  TimePoint now() const override { return now_; }
  std::size_t chooseIndex(std::size_t count) override;
  internal::TaskRegistry& taskRegistry() override { return registry_; }
  BuggifyHook* buggifyHook() const override { return buggify_; }

 private:
  void promoteDueTimers();
  std::optional<TimePoint> nextEventTime() const;
  void step();
  void mixDecision(const Decision& decision);
  RunOutcome finish(RunStatus status, std::string message);

  void heapSwap(std::size_t a, std::size_t b);
  bool heapLess(std::size_t a, std::size_t b) const;
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);

  SimOptions options_;
  Executor* previous_ = nullptr;
  RandomStream scheduler_;
  TimePoint now_ = kTimeZero;
  std::vector<Runnable*> ready_;
  std::vector<SimTimer*> timers_;  // binary min-heap on (when, sequence)
  std::uint64_t nextTimerSequence_ = 0;
  ExternalLoop* external_ = nullptr;
  internal::TaskRegistry registry_;
  std::unique_ptr<TaskGroup> root_;
  std::uint64_t steps_ = 0;
  std::uint64_t stepsThisInstant_ = 0;
  std::uint64_t timersFired_ = 0;
  std::uint64_t decisionHash_ = 0;
  std::vector<Decision>* decisionLog_ = nullptr;
  BuggifyHook* buggify_ = nullptr;
  // Paused groups (looked up by address, never iterated) and the Runnables they hold back,
  // in the order they became ready. A parked Runnable's readySlot is kParkedBit | index.
  std::set<const TaskGroup*> paused_;
  std::vector<Runnable*> parked_;
  static constexpr std::uint32_t kParkedBit = 0x8000'0000u;
};

}  // namespace moonpool
