// The machinery behind spawn.h (internal; spawn.h states the contract): the shared state a
// JoinHandle observes, the root coroutine that drives a spawned Task, the TaskRecord that
// owns its frame, and the awaiter of JoinHandle::join().
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/error.h"
#include "moonpool/executor.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/task.h"
#include "moonpool/time.h"

namespace moonpool {

class TaskGroup;
struct TaskFailure;

namespace internal {

// What a JoinHandle and its task's record share: the outcome, the one awaiting joiner, and
// where a failure nobody observed goes. Outlives the record (the handle may join later).
class JoinStateBase {
 public:
  enum class Status : std::uint8_t { kRunning, kSucceeded, kFailed, kCancelled };

  std::string name;
  std::uint64_t id = 0;
  Status status = Status::kRunning;
  std::exception_ptr error;
  // The awaiting joiner, scheduled when the task ends.
  Runnable* joiner = nullptr;
  // The live record; null once the task ended.
  TaskRecord* record = nullptr;
  Executor* executor = nullptr;
  std::shared_ptr<const std::function<void(const TaskFailure&)>> onFailure;
  bool handleAlive = true;
  bool errorObserved = false;

  void reportFailure();
};

template <typename T>
class JoinState final : public JoinStateBase {
 public:
  std::optional<T> value;
};

template <>
class JoinState<void> final : public JoinStateBase {};

// The coroutine that drives a spawned Task and stores its outcome. Its frame is owned by a
// TaskRecord; at its final suspend point it reports to the group, which destroys it.
class RootCoroutine {
 public:
  class promise_type {
   public:
    RootCoroutine get_return_object() noexcept {
      return RootCoroutine(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct Finish {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> self) const noexcept;
      void await_resume() const noexcept {}
    };
    Finish final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    // runSpawned catches everything; anything reaching here is a moonpool bug.
    void unhandled_exception() noexcept;

    TaskRecord* record = nullptr;
  };

  std::coroutine_handle<promise_type> handle;

 private:
  explicit RootCoroutine(std::coroutine_handle<promise_type> h) : handle(h) {}
};

template <typename T>
RootCoroutine runSpawned(Task<T> task, JoinState<T>* state) {
  // Catch-all is safe: cancellation never throws (frames are destroyed instead), so this
  // only ever captures genuine failures of the task.
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
    } else {
      state->value.emplace(co_await std::move(task));
    }
    // A task that cancelled itself keeps its kCancelled status even if it then finished.
    if (state->status == JoinStateBase::Status::kRunning) {
      state->status = JoinStateBase::Status::kSucceeded;
    }
  } catch (...) {
    if (state->status == JoinStateBase::Status::kRunning) {
      state->error = std::current_exception();
      state->status = JoinStateBase::Status::kFailed;
    }
  }
}

// One spawned task: its identity, its root frame and its first step. Not movable: Runnables
// and the executor's registry point at it.
class TaskRecord {
 public:
  TaskRecord(TaskGroup& group, Executor& executor, std::uint64_t id, std::string name);
  // A record of no group, never registered (id 0): work a kj::Promise owns (kj/bridge.h
  // toPromise without an owner). Its steps are told apart from other tasks' by it.
  explicit TaskRecord(Executor& executor);
  TaskRecord(const TaskRecord&) = delete;
  TaskRecord& operator=(const TaskRecord&) = delete;
  // Tears the frame down (cancelling whatever it awaits) and deregisters it.
  ~TaskRecord();

  const std::uint64_t id;
  const std::string name;
  TaskGroup* group;
  Executor& executor;
  std::coroutine_handle<> frame;
  Runnable start;
  std::shared_ptr<JoinStateBase> join;
  // What the task is blocked on, for deadlock reports and group dumps: a static string set
  // by the awaiter at suspension, plus an optional instant (a sleep's deadline).
  const char* awaiting = "its first step";
  std::optional<TimePoint> awaitingUntil;
  bool cancelPending = false;
};

// Work a TaskGroup does not own but stops when it is cancelled: a call served through
// toPromise with an owner (kj/bridge.h), whose kj::Promise owns its frame. Cheaper than a
// spawned task (no JoinState, no task id, no map entry): the group keeps its members in an
// intrusive list, in attach order. The member leaves (TaskGroup::leave) before it dies.
class GroupMember {
 public:
  GroupMember() = default;
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // The group is being cancelled and has already taken this member out: stop the work now
  // (its frame may be the running step's: then at the end of that step).
  virtual void cancelByGroup() = 0;
  // "'name' awaiting <what>", for group dumps.
  virtual std::string describe() const = 0;

  // Written by the group only.
  TaskGroup* group = nullptr;
  GroupMember* prev = nullptr;
  GroupMember* next = nullptr;

 protected:
  ~GroupMember() = default;
};

// "#id 'name' awaiting <what>[ until <time>]", for deadlock reports and group dumps.
std::string describeTask(const TaskRecord& task);

// Sets what the current task (if any) is blocked on; called by awaiters at suspension.
void noteAwaiting(Executor& executor, const char* what,
                  std::optional<TimePoint> until = std::nullopt);


// What JoinHandle::join() returns: resumes its one awaiter once the task ended, with the
// task's value, its exception, or Exception(kDisconnected) when it was cancelled.
template <typename T>
class JoinAwaiter {
 public:
  explicit JoinAwaiter(std::shared_ptr<JoinState<T>> state)
      : state_(std::move(state)) {}
  JoinAwaiter(const JoinAwaiter&) = delete;
  JoinAwaiter& operator=(const JoinAwaiter&) = delete;
  ~JoinAwaiter() {
    if (state_->joiner == &wake_) state_->joiner = nullptr;
    if (wake_.scheduled()) state_->executor->unschedule(wake_);
  }

  bool await_ready() const noexcept {
    return state_->status != JoinStateBase::Status::kRunning;
  }
  void await_suspend(std::coroutine_handle<> awaiting) {
    MOONPOOL_CHECK(state_->joiner == nullptr, "a task can be joined by one awaiter at a time");
    wake_.coroutine = awaiting;
    wake_.task = state_->executor->taskRegistry().current();
    wake_.kind = WakeKind::kJoin;
    state_->joiner = &wake_;
    noteAwaiting(*state_->executor, "a join");
  }
  T await_resume() {
    using Status = JoinStateBase::Status;
    switch (state_->status) {
      case Status::kSucceeded:
        if constexpr (std::is_void_v<T>) {
          return;
        } else {
          MOONPOOL_CHECK(state_->value.has_value(), "a task's result was joined twice");
          T result = std::move(*state_->value);
          state_->value.reset();
          return result;
        }
      case Status::kFailed:
        state_->errorObserved = true;
        std::rethrow_exception(state_->error);
      case Status::kCancelled:
        throw Exception(ErrorKind::kDisconnected,
                        "task '" + state_->name + "' was cancelled before it finished");
      case Status::kRunning:
        break;
    }
    checkFailed("status != kRunning", "a join resumed before the task ended",
                          std::source_location::current());
  }

 private:
  std::shared_ptr<JoinState<T>> state_;
  Runnable wake_;
};

}  // namespace internal

}  // namespace moonpool
