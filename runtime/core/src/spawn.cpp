// TaskGroup, TaskRecord and the spawned-task lifecycle (see spawn.h for the contract).
#include "moonpool/spawn.h"

#include <cstdio>

#include "moonpool/internal/task_registry.h"

namespace moonpool {
namespace internal {

void JoinStateBase::reportFailure() {
  errorObserved = true;
  TaskFailure failure{name, id, error};
  if (onFailure && *onFailure) {
    (*onFailure)(failure);
    return;
  }
  if (Executor* exec = Executor::tryCurrent()) {
    exec->taskRegistry().noteUnobservedFailure(name, error);
    return;
  }
  // No executor left to tell (a handle outlived its executor): say it rather than lose it.
  std::fprintf(stderr, "moonpool: task '%s' failed and nobody observed it: %s\n", name.c_str(),
               describeException(error).c_str());
}

void RootCoroutine::promise_type::Finish::await_suspend(
    std::coroutine_handle<promise_type> self) const noexcept {
  TaskRecord* finished = self.promise().record;
  // A task that cancelled itself during this step is destroyed by the executor after the
  // step; its group may already be gone.
  if (finished->cancelPending) return;
  finished->group->onFinished(*finished);  // destroys `self`; touch nothing afterwards
}

void RootCoroutine::promise_type::unhandled_exception() noexcept {
  checkFailed("runSpawned caught everything", "an exception escaped a spawned task's driver",
              std::source_location::current());
}

TaskRecord::TaskRecord(TaskGroup& owner, Executor& exec, std::uint64_t taskId,
                       std::string taskName)
    : id(taskId), name(std::move(taskName)), group(&owner), executor(exec) {
  start.task = this;
  start.kind = WakeKind::kStart;
}

TaskRecord::TaskRecord(Executor& exec) : id(0), group(nullptr), executor(exec) {
  start.task = this;
  start.kind = WakeKind::kStart;
}

TaskRecord::~TaskRecord() {
  if (start.scheduled()) executor.unschedule(start);
  // Destroying the root frame destroys the Task it awaits, and so on down the chain; each
  // awaiter deregisters its timers and ready entries as it goes.
  if (frame) std::exchange(frame, {}).destroy();
}

std::string describeTask(const TaskRecord& task) {
  std::string out =
      "#" + std::to_string(task.id) + " '" + task.name + "' awaiting " + task.awaiting;
  if (task.awaitingUntil) out += " until " + formatTime(*task.awaitingUntil);
  return out;
}

void noteAwaiting(Executor& executor, const char* what, std::optional<TimePoint> until) {
  if (TaskRecord* task = executor.taskRegistry().current()) {
    task->awaiting = what;
    task->awaitingUntil = until;
  }
}

}  // namespace internal

using internal::JoinStateBase;
using internal::TaskRecord;

TaskGroup::TaskGroup(Executor& executor, std::string name, FailureHandler onFailure)
    : executor_(executor),
      name_(std::move(name)),
      onFailure_(onFailure ? std::make_shared<const FailureHandler>(std::move(onFailure))
                           : nullptr) {}

TaskGroup::~TaskGroup() { cancelAll(); }

void TaskGroup::adopt(std::string name,
                      std::coroutine_handle<internal::RootCoroutine::promise_type> root,
                      std::shared_ptr<JoinStateBase> state) {
  const std::uint64_t id = executor_.taskRegistry().allocateId();
  auto record = std::make_unique<TaskRecord>(*this, executor_, id, std::move(name));
  record->frame = root;
  root.promise().record = record.get();
  record->start.coroutine = root;
  state->name = record->name;
  state->id = id;
  state->record = record.get();
  state->executor = &executor_;
  state->onFailure = onFailure_;
  record->join = std::move(state);
  executor_.taskRegistry().add(*record);
  executor_.schedule(record->start);
  const bool inserted = tasks_.emplace(id, std::move(record)).second;
  MOONPOOL_CHECK(inserted, "task ids are unique");
}

std::unique_ptr<TaskRecord> TaskGroup::detachRecord(TaskRecord& record) {
  auto it = tasks_.find(record.id);
  MOONPOOL_CHECK(it != tasks_.end(), "the task belongs to this group");
  std::unique_ptr<TaskRecord> owned = std::move(it->second);
  tasks_.erase(it);
  return owned;
}

void TaskGroup::onFinished(TaskRecord& record) {
  std::unique_ptr<TaskRecord> owned = detachRecord(record);
  executor_.taskRegistry().taskEnded(record);
  JoinStateBase& join = *record.join;
  join.record = nullptr;
  MOONPOOL_CHECK(join.status != JoinStateBase::Status::kRunning,
                 "a finished task has an outcome");
  if (join.joiner != nullptr) {
    executor_.schedule(*std::exchange(join.joiner, nullptr));
  } else if (join.status == JoinStateBase::Status::kFailed && !join.handleAlive) {
    join.reportFailure();
  }
  owned.reset();  // the frame is suspended at its final point: safe to destroy
}

void TaskGroup::cancel(TaskRecord& record) {
  MOONPOOL_CHECK(record.group == this, "cancelling a task of another group");
  std::unique_ptr<TaskRecord> owned = detachRecord(record);
  JoinStateBase& join = *record.join;
  join.record = nullptr;
  if (join.status == JoinStateBase::Status::kRunning) {
    join.status = JoinStateBase::Status::kCancelled;
  }
  if (join.joiner != nullptr) executor_.schedule(*std::exchange(join.joiner, nullptr));
  if (executor_.taskRegistry().current() == &record) {
    // The task is cancelling itself (or its own group): its frame is on the stack.
    record.cancelPending = true;
    record.group = nullptr;
    executor_.taskRegistry().destroyAfterStep(std::move(owned));
    return;
  }
  executor_.taskRegistry().taskEnded(record);
  owned.reset();
}

void TaskGroup::cancelAll() {
  // Re-entrant: destroying one frame may cancel other tasks of this group, or drop the
  // promises of members (which then leave on their own).
  while (!tasks_.empty() || membersHead_ != nullptr) {
    if (!tasks_.empty()) {
      cancel(*tasks_.begin()->second);
      continue;
    }
    internal::GroupMember& member = *membersHead_;
    leave(member);
    member.cancelByGroup();
  }
}

void TaskGroup::attach(internal::GroupMember& member) {
  MOONPOOL_CHECK(member.group == nullptr, "a member joins one group once");
  member.group = this;
  member.prev = membersTail_;
  member.next = nullptr;
  if (membersTail_ != nullptr) {
    membersTail_->next = &member;
  } else {
    membersHead_ = &member;
  }
  membersTail_ = &member;
  ++membersCount_;
}

void TaskGroup::leave(internal::GroupMember& member) {
  MOONPOOL_CHECK(member.group == this, "leaving a group the member is not in");
  MOONPOOL_CHECK_GT(membersCount_, std::size_t{0}, "a member left an empty group");
  (member.prev != nullptr ? member.prev->next : membersHead_) = member.next;
  (member.next != nullptr ? member.next->prev : membersTail_) = member.prev;
  member.group = nullptr;
  member.prev = nullptr;
  member.next = nullptr;
  --membersCount_;
}

std::string TaskGroup::describe() const {
  std::string out;
  for (const auto& [id, record] : tasks_) out += internal::describeTask(*record) + "\n";
  for (const internal::GroupMember* m = membersHead_; m != nullptr; m = m->next) {
    out += m->describe() + "\n";
  }
  return out;
}

namespace internal {

void TaskRegistry::add(TaskRecord& task) {
  const bool inserted = live_.emplace(task.id, &task).second;
  MOONPOOL_CHECK(inserted, "a task is registered once");
}

void TaskRegistry::remove(TaskRecord& task) {
  const auto erased = live_.erase(task.id);
  MOONPOOL_CHECK_EQ(erased, std::size_t{1}, "an ending task was registered");
}

void TaskRegistry::runStep(Runnable& work) {
  MOONPOOL_CHECK(!work.scheduled(), "a step runs after leaving the ready set");
  current_ = work.task;
  if (work.callback != nullptr) {
    work.callback(work);
  } else {
    work.coroutine.resume();
  }
  current_ = nullptr;
  finishStep();
}

void TaskRegistry::taskEnded(TaskRecord& task) {
  if (current_ == &task) current_ = nullptr;
  remove(task);
}

void TaskRegistry::noteUnobservedFailure(std::string_view taskName,
                                         const std::exception_ptr& error) {
  failures_.push_back("task '" + std::string(taskName) + "' failed and nobody joined it: " +
                      describeException(error));
}

std::string TaskRegistry::endOfRunFailure(JoinHandle<void>& main) {
  MOONPOOL_CHECK(main.done(), "a run's outcome is known once main ended");
  if (main.cancelled()) return "main was cancelled";
  if (std::exception_ptr failure = main.takeFailure()) {
    return "main failed: " + describeException(failure);
  }
  return failures_.empty() ? std::string() : failures_.front();
}

void TaskRegistry::endRun(JoinHandle<void>& main, TaskGroup& root) {
  main.cancel();
  root.cancelAll();
  finishStep();
}

void TaskRegistry::destroyAfterStep(std::unique_ptr<TaskRecord> task) {
  parked_.push_back(std::move(task));
}

void TaskRegistry::finishStep() {
  // Destroying a record may park more (a destructor cancelling the running task cannot
  // happen, as no task runs now, but stay robust): loop until empty.
  while (!parked_.empty()) {
    std::unique_ptr<TaskRecord> task = std::move(parked_.back());
    parked_.pop_back();
    taskEnded(*task);
    task.reset();
  }
  while (!parkedUnowned_.empty()) {
    std::unique_ptr<TaskRecord> task = std::move(parkedUnowned_.back());
    parkedUnowned_.pop_back();
    task.reset();
  }
}

void TaskRegistry::destroyUnowned(std::unique_ptr<TaskRecord> task) {
  MOONPOOL_CHECK(task->group == nullptr && task->id == 0, "an unowned record");
  // Its frame may be running this very step: it cannot be torn down under itself.
  if (current_ == task.get()) {
    parkedUnowned_.push_back(std::move(task));
  } else {
    task.reset();
  }
}

std::string TaskRegistry::describe() const {
  std::string out;
  std::size_t lines = 0;
  for (const auto& [id, record] : live_) {
    if (lines++ == kDescribeLinesMax) {
      out += "  ... and " + std::to_string(live_.size() - kDescribeLinesMax) + " more\n";
      break;
    }
    out += "  " + describeTask(*record) + "\n";
  }
  return out;
}

}  // namespace internal
}  // namespace moonpool
