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

#include "moonpool/error.h"
#include "moonpool/executor.h"
#include "moonpool/internal/check.h"
#include "moonpool/task.h"

namespace moonpool {

class TaskGroup;

struct TaskFailure {
  std::string taskName;
  std::uint64_t taskId = 0;
  std::exception_ptr error;
};

using FailureHandler = std::function<void(const TaskFailure&)>;

namespace internal {

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
  std::shared_ptr<const FailureHandler> onFailure;
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
  TaskRecord(const TaskRecord&) = delete;
  TaskRecord& operator=(const TaskRecord&) = delete;
  // Tears the frame down (cancelling whatever it awaits) and deregisters it.
  ~TaskRecord();

  const std::uint64_t id;
  const std::string name;
  TaskGroup* group;
  Executor& executor;
  std::coroutine_handle<RootCoroutine::promise_type> frame;
  Runnable start;
  std::shared_ptr<JoinStateBase> join;
  // What the task is blocked on, for deadlock reports and group dumps: a static string set
  // by the awaiter at suspension, plus an optional instant (a sleep's deadline).
  const char* awaiting = "its first step";
  std::optional<TimePoint> awaitingUntil;
  bool cancelPending = false;
};

// "#id 'name' awaiting <what>[ until <time>]", for deadlock reports and group dumps.
std::string describeTask(const TaskRecord& task);

// Sets what the current task (if any) is blocked on; called by awaiters at suspension.
void noteAwaiting(Executor& executor, const char* what,
                  std::optional<TimePoint> until = std::nullopt);

}  // namespace internal

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

  class JoinAwaiter {
   public:
    explicit JoinAwaiter(std::shared_ptr<internal::JoinState<T>> state)
        : state_(std::move(state)) {}
    JoinAwaiter(const JoinAwaiter&) = delete;
    JoinAwaiter& operator=(const JoinAwaiter&) = delete;
    ~JoinAwaiter() {
      if (state_->joiner == &wake_) state_->joiner = nullptr;
      if (wake_.scheduled()) state_->executor->unschedule(wake_);
    }

    bool await_ready() const noexcept {
      return state_->status != internal::JoinStateBase::Status::kRunning;
    }
    void await_suspend(std::coroutine_handle<> awaiting) {
      MOONPOOL_CHECK(state_->joiner == nullptr, "a task can be joined by one awaiter at a time");
      wake_.coroutine = awaiting;
      wake_.task = state_->executor->currentTask();
      wake_.kind = WakeKind::kJoin;
      state_->joiner = &wake_;
      internal::noteAwaiting(*state_->executor, "a join");
    }
    T await_resume() {
      using Status = internal::JoinStateBase::Status;
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
      internal::checkFailed("status != kRunning", "a join resumed before the task ended",
                            std::source_location::current());
    }

   private:
    std::shared_ptr<internal::JoinState<T>> state_;
    Runnable wake_;
  };

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
  // `onFailure` receives failures nobody can observe; the default forwards them to the
  // executor (Executor::unobservedFailure).
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

  std::size_t size() const { return tasks_.size(); }
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
};

template <typename T>
void JoinHandle<T>::cancel() {
  if (!state_ || state_->record == nullptr) return;
  state_->record->group->cancel(*state_->record);
}

}  // namespace moonpool
