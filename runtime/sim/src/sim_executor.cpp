// The simulated executor (see sim/sim_executor.h for the model).
#include "moonpool/sim/sim_executor.h"

#include <algorithm>
#include <utility>

namespace moonpool {

namespace {

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace

std::string_view runStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kDeadlock:
      return "deadlock";
    case RunStatus::kLivelock:
      return "livelock";
  }
  return "unknown";
}

std::string Decision::toString() const {
  return "step " + std::to_string(step) + " at " + formatTime(time) + ": task #" +
         std::to_string(taskId) + " (" + std::string(wakeKindName(kind)) + "), picked " +
         std::to_string(pick) + " of " + std::to_string(readyCount) + " ready";
}

SimExecutor::SimExecutor(SimOptions options)
    : options_(options), scheduler_(deriveSeed(options.seed, "scheduler")) {
  MOONPOOL_CHECK_GT(options_.stepsPerInstantMax, std::uint64_t{0});
  previous_ = swapCurrent(this);
  root_ = std::make_unique<TaskGroup>(*this, "root");
}

SimExecutor::~SimExecutor() {
  root_.reset();  // cancels whatever is left
  registry_.finishStep();
  MOONPOOL_CHECK_EQ(registry_.size(), std::size_t{0},
                    "tasks outlive the executor (a TaskGroup outlives it?)");
  MOONPOOL_CHECK(external_ == nullptr, "an external loop is still attached");
  Executor* mine = swapCurrent(previous_);
  MOONPOOL_CHECK(mine == this, "executors must be destroyed in reverse order of creation");
}

// ---------------------------------------------------------------------------------------
// Ready set: a vector; removal swaps the last element into the hole (O(1)).

void SimExecutor::schedule(Runnable& work) {
  MOONPOOL_CHECK(!work.scheduled(), "scheduling a Runnable that is already ready");
  MOONPOOL_CHECK(work.coroutine || work.callback, "scheduling an empty Runnable");
  if (!paused_.empty() && work.task != nullptr && heldBack(work.task->group)) {
    work.readySlot = kParkedBit | static_cast<std::uint32_t>(parked_.size());
    parked_.push_back(&work);
    return;
  }
  MOONPOOL_CHECK_LT(ready_.size(), std::size_t{kParkedBit}, "ready set overflow");
  work.readySlot = static_cast<std::uint32_t>(ready_.size());
  ready_.push_back(&work);
}

void SimExecutor::unschedule(Runnable& work) {
  const std::uint32_t slot = work.readySlot;
  if (slot != Runnable::kNotScheduled && (slot & kParkedBit) != 0) {
    const std::uint32_t index = slot & ~kParkedBit;
    MOONPOOL_CHECK(index < parked_.size() && parked_[index] == &work,
                   "unscheduling a parked Runnable that is not parked here");
    Runnable* last = parked_.back();
    parked_[index] = last;
    last->readySlot = kParkedBit | index;
    parked_.pop_back();
    work.readySlot = Runnable::kNotScheduled;
    return;
  }
  MOONPOOL_CHECK(slot < ready_.size() && ready_[slot] == &work,
                 "unscheduling a Runnable that is not in this ready set");
  Runnable* last = ready_.back();
  ready_[slot] = last;
  last->readySlot = slot;
  ready_.pop_back();
  work.readySlot = Runnable::kNotScheduled;
}

namespace {

// `group` is `outer`, or tied to it for pausing (TaskGroup::pauseWith), directly or not.
bool pausesWith(const TaskGroup* group, const TaskGroup& outer) {
  for (; group != nullptr; group = group->pauseOuter()) {
    if (group == &outer) return true;
  }
  return false;
}

}  // namespace

bool SimExecutor::heldBack(const TaskGroup* group) const {
  for (; group != nullptr; group = group->pauseOuter()) {
    if (paused_.count(group) != 0) return true;
  }
  return false;
}

void SimExecutor::pauseGroup(const TaskGroup& group) {
  MOONPOOL_CHECK(paused_.insert(&group).second, "pausing a group that is already paused");
  // Park what is ready now, keeping ready-set order among the parked.
  std::vector<Runnable*> moving;
  for (Runnable* work : ready_) {
    if (work->task != nullptr && pausesWith(work->task->group, group)) moving.push_back(work);
  }
  for (Runnable* work : moving) {
    unschedule(*work);
    schedule(*work);
  }
}

void SimExecutor::resumeGroup(const TaskGroup& group) {
  MOONPOOL_CHECK(paused_.erase(&group) == 1, "resuming a group that is not paused");
  std::vector<Runnable*> moving;
  for (Runnable* work : parked_) {
    if (work->task != nullptr && pausesWith(work->task->group, group)) moving.push_back(work);
  }
  for (Runnable* work : moving) {
    unschedule(*work);
    schedule(*work);
  }
}

std::size_t SimExecutor::chooseIndex(std::size_t count) {
  MOONPOOL_CHECK_GT(count, std::size_t{0});
  if (count == 1) return 0;
  const auto pick = static_cast<std::size_t>(scheduler_.below(count));
  decisionHash_ = mix64(decisionHash_ ^ (0xC0FFEEull + count * 31 + pick));
  return pick;
}

// ---------------------------------------------------------------------------------------
// Timer queue: an indexed binary min-heap on (when, sequence), so awaiters can remove their
// timer in O(log n) when they are destroyed.

bool SimExecutor::heapLess(std::size_t a, std::size_t b) const {
  const SimTimer& x = *timers_[a];
  const SimTimer& y = *timers_[b];
  return x.when != y.when ? x.when < y.when : x.sequence < y.sequence;
}

void SimExecutor::heapSwap(std::size_t a, std::size_t b) {
  std::swap(timers_[a], timers_[b]);
  timers_[a]->heapIndex = a;
  timers_[b]->heapIndex = b;
}

void SimExecutor::siftUp(std::size_t index) {
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!heapLess(index, parent)) break;
    heapSwap(index, parent);
    index = parent;
  }
}

void SimExecutor::siftDown(std::size_t index) {
  for (;;) {
    const std::size_t left = 2 * index + 1;
    if (left >= timers_.size()) break;
    const std::size_t right = left + 1;
    std::size_t smallest = (right < timers_.size() && heapLess(right, left)) ? right : left;
    if (!heapLess(smallest, index)) break;
    heapSwap(index, smallest);
    index = smallest;
  }
}

void SimExecutor::addTimer(SimTimer& timer) {
  MOONPOOL_CHECK(!timer.queued(), "a timer is queued once");
  MOONPOOL_CHECK_GE(timer.when, now_, "timers cannot be set in the past");
  timer.sequence = nextTimerSequence_++;
  timer.heapIndex = timers_.size();
  timers_.push_back(&timer);
  siftUp(timer.heapIndex);
}

void SimExecutor::removeTimer(SimTimer& timer) {
  const std::size_t index = timer.heapIndex;
  MOONPOOL_CHECK(index < timers_.size() && timers_[index] == &timer,
                 "removing a timer that is not queued here");
  const std::size_t last = timers_.size() - 1;
  if (index != last) heapSwap(index, last);
  timers_.pop_back();
  timer.heapIndex = SimTimer::kNotQueued;
  if (index < timers_.size()) {
    siftUp(index);
    siftDown(timers_[index]->heapIndex);
  }
}

void SimExecutor::promoteDueTimers() {
  while (!timers_.empty() && timers_.front()->when <= now_) {
    SimTimer& due = *timers_.front();
    removeTimer(due);
    ++timersFired_;
    schedule(due.wake);
  }
}

std::optional<TimePoint> SimExecutor::nextEventTime() const {
  std::optional<TimePoint> next;
  if (!timers_.empty()) next = timers_.front()->when;
  if (external_ != nullptr) {
    if (auto external = external_->nextTimer()) {
      next = next ? std::min(*next, *external) : *external;
    }
  }
  return next;
}

SimExecutor::SleepAwaiter::~SleepAwaiter() {
  if (timer_.queued()) executor_.removeTimer(timer_);
  if (timer_.wake.scheduled()) executor_.unschedule(timer_.wake);
}

void SimExecutor::SleepAwaiter::await_suspend(std::coroutine_handle<> self) {
  timer_.when = deadline_;
  timer_.wake.coroutine = self;
  timer_.wake.task = executor_.taskRegistry().current();
  timer_.wake.kind = WakeKind::kTimer;
  executor_.addTimer(timer_);
  internal::noteAwaiting(executor_, "a sleep", deadline_);
}

// ---------------------------------------------------------------------------------------
// External loop, tasks, failures.

void SimExecutor::attachExternal(ExternalLoop& loop) {
  MOONPOOL_CHECK(external_ == nullptr, "one external loop at a time");
  external_ = &loop;
  loop.advanceTo(now_);
}

void SimExecutor::detachExternal(ExternalLoop& loop) {
  MOONPOOL_CHECK(external_ == &loop, "detaching a loop that is not attached");
  external_ = nullptr;
}


// ---------------------------------------------------------------------------------------
// The loop.

void SimExecutor::mixDecision(const Decision& d) {
  std::uint64_t h = decisionHash_;
  h = mix64(h ^ static_cast<std::uint64_t>(d.time.time_since_epoch().count()));
  h = mix64(h ^ d.taskId);
  h = mix64(h ^ (static_cast<std::uint64_t>(d.kind) << 56 | std::uint64_t{d.readyCount} << 24 |
                 d.pick));
  decisionHash_ = h;
  if (decisionLog_ != nullptr) decisionLog_->push_back(d);
}

void SimExecutor::step() {
  const auto count = static_cast<std::uint32_t>(ready_.size());
  const auto pick =
      count == 1 ? std::uint32_t{0} : static_cast<std::uint32_t>(scheduler_.below(count));
  Runnable& work = *ready_[pick];
  unschedule(work);
  ++steps_;
  ++stepsThisInstant_;
  mixDecision(Decision{steps_, now_, work.task != nullptr ? work.task->id : 0, work.kind, count,
                       pick});
  registry_.runStep(work);
}

RunOutcome SimExecutor::finish(RunStatus status, std::string message) {
  RunOutcome outcome;
  outcome.status = status;
  outcome.message = std::move(message);
  outcome.seed = options_.seed;
  outcome.endTime = now_;
  outcome.steps = steps_;
  outcome.timersFired = timersFired_;
  outcome.decisionHash = decisionHash_;
  return outcome;
}

RunOutcome SimExecutor::run(Task<void> main) {
  MOONPOOL_CHECK(registry_.current() == nullptr, "SimExecutor::run is not re-entrant");
  auto handle = root_->spawn("main", std::move(main));
  registry_.clearFailures();
  std::optional<RunOutcome> outcome;
  while (!outcome) {
    if (registry_.hasFailures()) {
      outcome = finish(RunStatus::kFailed, registry_.firstFailure() + " (seed " +
                                               std::to_string(options_.seed) + ")");
      break;
    }
    if (handle.done()) break;
    promoteDueTimers();
    if (!ready_.empty()) {
      if (stepsThisInstant_ >= options_.stepsPerInstantMax) {
        outcome = finish(RunStatus::kLivelock,
                         "livelock at " + formatTime(now_) + " (seed " +
                             std::to_string(options_.seed) + "): " +
                             std::to_string(stepsThisInstant_) +
                             " steps without time advancing. Live tasks:\n" +
                             registry_.describe());
        break;
      }
      step();
      continue;
    }
    std::optional<TimePoint> next = nextEventTime();
    if (!next) {
      outcome = finish(RunStatus::kDeadlock,
                       "deadlock at " + formatTime(now_) + " (seed " +
                           std::to_string(options_.seed) +
                           "): no task is ready and no timer is pending, but 'main' has not "
                           "finished." +
                           (parked_.empty() ? std::string()
                                            : " " + std::to_string(parked_.size()) +
                                                  " step(s) are held by paused groups.") +
                           " Live tasks:\n" +
                           registry_.describe());
      break;
    }
    MOONPOOL_CHECK_GE(*next, now_, "time never goes backwards");
    if (*next > now_) stepsThisInstant_ = 0;
    now_ = *next;
    if (external_ != nullptr) external_->advanceTo(now_);
  }
  if (!outcome) {
    std::string failure = registry_.endOfRunFailure(handle);
    outcome = failure.empty() ? finish(RunStatus::kCompleted, "")
                              : finish(RunStatus::kFailed, failure + " (seed " +
                                                               std::to_string(options_.seed) + ")");
  }
  // Per-run isolation: everything still alive is cancelled now.
  registry_.endRun(handle, *root_);
  stepsThisInstant_ = 0;
  return *outcome;
}

}  // namespace moonpool
