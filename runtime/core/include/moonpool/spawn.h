// Spawning tasks: TaskGroup owns them, JoinHandle observes them (runtime/ core layer).
//
// Every spawned task has an owner and a failure sink (STYLE.md rule 5):
//   - A TaskGroup owns its tasks. Destroying or cancelling the group cancels every task it
//     holds (in spawn order), which is how killing a simulated process kills all its work.
//   - spawn() returns a JoinHandle. Awaiting `handle.join()` yields the task's value or
//     rethrows its exception; a cancelled task joins as Exception(kDisconnected).
//   - Dropping a JoinHandle cancels its task (as dropping a kj::Promise does), so a task can
//     never outlive the scope that spawned it by accident. `handle.detach()` hands the task
//     to its group for good: it runs until it ends or the group is cancelled.
//   - A failure nobody can observe (a detached task failed, or a handle was dropped after a
//     failure without joining) goes to a FailureHandler: the one given to detach(), else the
//     group's; the default hands it to the executor, and the simulated executor fails the run
//     with it. Failures are never silently dropped.
//   - A spawned task never starts inline: spawn() makes its first step ready, and the
//     executor decides when it runs.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/executor.h"
#include "moonpool/internal/spawn.h"
#include "moonpool/task.h"

namespace moonpool {

class TaskGroup;

// A failure nobody could observe, as handed to a FailureHandler.
struct TaskFailure {
  std::string taskName;
  std::uint64_t taskId = 0;
  std::exception_ptr error;
};

// Receives failures nobody can observe (see above). Called on the executor's thread.
using FailureHandler = std::function<void(const TaskFailure&)>;

// Observes one spawned task (TaskGroup::spawn): join, cancel or detach it. Dropping the
// handle cancels the task (see the header comment).
template <typename T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() = default;
  JoinHandle(JoinHandle&&) noexcept = default;
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      release();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~JoinHandle() { release(); }

  bool valid() const { return state_ != nullptr; }
  // Finished, failed or cancelled.
  bool done() const {
    return state_ && state_->status != internal::JoinStateBase::Status::kRunning;
  }
  std::uint64_t taskId() const { return state_ ? state_->id : 0; }
  bool cancelled() const {
    return state_ && state_->status == internal::JoinStateBase::Status::kCancelled;
  }
  // Synchronous look at a task that ended by throwing: its exception (now observed), or null.
  std::exception_ptr takeFailure() {
    if (!state_ || state_->status != internal::JoinStateBase::Status::kFailed) return nullptr;
    state_->errorObserved = true;
    return state_->error;
  }

  // Cancels the task (destroys its frame); no-op when it already ended. A task may cancel
  // itself: its frame is destroyed when its current step returns.
  void cancel();

  // Gives up the handle: the task keeps running inside its group, and an unobserved failure
  // goes to `onFailure` (the group's handler when null). The handle is empty afterwards.
  void detach(FailureHandler onFailure = nullptr) {
    MOONPOOL_CHECK(state_ != nullptr, "detaching an empty JoinHandle");
    if (onFailure) state_->onFailure = std::make_shared<const FailureHandler>(std::move(onFailure));
    giveUp();
  }

  // The awaitable join() returns (internal/spawn.h).
  using JoinAwaiter = internal::JoinAwaiter<T>;

  // Awaits the task's outcome. `co_await handle.join()`.
  JoinAwaiter join() {
    MOONPOOL_CHECK(state_ != nullptr, "joining an empty JoinHandle");
    return JoinAwaiter(state_);
  }

 private:
  friend class TaskGroup;
  explicit JoinHandle(std::shared_ptr<internal::JoinState<T>> state) : state_(std::move(state)) {}

  void release() {
    if (!state_) return;
    cancel();  // dropping the handle cancels a task still running
    giveUp();
  }

  // From now on nobody can join: a failure nobody observed goes to the failure handler.
  void giveUp() {
    state_->handleAlive = false;
    if (state_->status == internal::JoinStateBase::Status::kFailed && !state_->errorObserved) {
      state_->reportFailure();
    }
    state_.reset();
  }

  std::shared_ptr<internal::JoinState<T>> state_;
};

// Owns spawned tasks. Neither copyable nor movable (records point at it).
class TaskGroup {
 public:
  // `onFailure` receives failures nobody can observe; by default they go to the executor's
  // task registry, and the run fails with them.
  TaskGroup(Executor& executor, std::string name, FailureHandler onFailure = nullptr);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  // Cancels every task still in the group.
  ~TaskGroup();

  template <typename T>
  JoinHandle<T> spawn(std::string name, Task<T> task) {
    MOONPOOL_CHECK(task.valid(), "spawning an empty Task");
    auto state = std::make_shared<internal::JoinState<T>>();
    internal::RootCoroutine root = internal::runSpawned<T>(std::move(task), state.get());
    adopt(std::move(name), root.handle, state);
    return JoinHandle<T>(std::move(state));
  }

  // Cancels every task in spawn order. Safe to call from one of the group's own tasks.
  void cancelAll();
  // Cancels one task of this group (see JoinHandle::cancel).
  void cancel(internal::TaskRecord& record);

  // Ties this group to `outer` for pausing: while `outer` is paused (SimExecutor::pauseGroup),
  // this group's tasks are held back too. For groups a component owns inside a process (a
  // server's calls), so pausing the process freezes them. `outer` must outlive this group.
  void pauseWith(const TaskGroup& outer) { pauseOuter_ = &outer; }
  const TaskGroup* pauseOuter() const { return pauseOuter_; }

  // Joins `member` to the group (internal: kj/bridge.h toPromise with an owner): cancelling
  // the group calls member.cancelByGroup(), after its own tasks, in attach order.
  void attach(internal::GroupMember& member);
  // Takes `member` out of the group; it must be in it.
  void leave(internal::GroupMember& member);

  // Live tasks and attached members.
  std::size_t size() const { return tasks_.size() + membersCount_; }
  const std::string& name() const { return name_; }
  Executor& executor() const { return executor_; }
  // One line per live task: "#id 'name' awaiting <what>".
  std::string describe() const;

  // Called by a task's root coroutine when it finishes (internal).
  void onFinished(internal::TaskRecord& record);

 private:
  void adopt(std::string name, std::coroutine_handle<internal::RootCoroutine::promise_type> root,
             std::shared_ptr<internal::JoinStateBase> state);
  std::unique_ptr<internal::TaskRecord> detachRecord(internal::TaskRecord& record);

  Executor& executor_;
  std::string name_;
  std::shared_ptr<const FailureHandler> onFailure_;
  const TaskGroup* pauseOuter_ = nullptr;
  // Ordered by task id: cancellation order and dumps are deterministic.
  std::map<std::uint64_t, std::unique_ptr<internal::TaskRecord>> tasks_;
  // Attached members, oldest first (intrusive: attaching allocates nothing).
  internal::GroupMember* membersHead_ = nullptr;
  internal::GroupMember* membersTail_ = nullptr;
  std::size_t membersCount_ = 0;
};

template <typename T>
void JoinHandle<T>::cancel() {
  if (!state_ || state_->record == nullptr) return;
  state_->record->group->cancel(*state_->record);
}

}  // namespace moonpool
