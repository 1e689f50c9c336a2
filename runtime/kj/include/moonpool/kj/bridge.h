// The coroutine <-> kj::Promise bridge, with cancellation both ways (runtime/ kj layer).
//
//   T value = co_await moonpool::awaitPromise(kjPromise);   // inside a Task
//   kj::Promise<T> p = moonpool::toPromise(std::move(task)); // hand a Task to KJ code
//
// Cancellation:
//   - Destroying the Task that awaits a kj::Promise drops the promise, which cancels the KJ
//     operation (KJ's rule: dropping a promise cancels it).
//   - Dropping the kj::Promise returned by toPromise destroys the Task (and everything it
//     awaits).
// Resumption never happens inside a KJ callback: the callback stores the outcome and
// schedules the awaiting task on the moonpool executor, so KJ events and tasks interleave as
// ordinary scheduling decisions (seeded in simulation).
//
// Ownership: toPromise(task, name, owner) runs the task in `owner` (a simulated process's
// TaskGroup, so killing or pausing the process kills or pauses the work it serves). When the
// owner cancels the task before it settles, the promise is rejected as a broken request:
// DISCONNECTED with a description starting with kBrokenRequestPrefix, which reaches an RPC
// caller as such (never a promise that hangs).
//
// Errors: kj::Exception and moonpool::Exception convert 1:1 by kind (error.h); any other
// exception crosses into KJ as FAILED with its what().
#pragma once

#include <kj/async.h>
#include <kj/exception.h>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/error.h"
#include "moonpool/executor.h"
#include "moonpool/internal/task_registry.h"
#include "moonpool/spawn.h"
#include "moonpool/task.h"

namespace moonpool {

ErrorKind fromKjType(kj::Exception::Type type);
kj::Exception::Type toKjType(ErrorKind kind);
// The description keeps KJ's origin ("... [at file:line]").
Exception fromKj(const kj::Exception& error);
kj::Exception toKj(const std::exception_ptr& error);

namespace internal {
template <typename T>
class PromiseAwaiter;
template <typename T>
class TaskAdapter;
}  // namespace internal

// Awaitable for a kj::Promise from inside a Task: the promise's value, or its exception as
// fromKj() converts it. Destroying the awaiting Task drops (cancels) the promise.
template <typename T>
internal::PromiseAwaiter<T> awaitPromise(kj::Promise<T> promise) {
  return internal::PromiseAwaiter<T>(kj::mv(promise));
}

// How a request whose serving task was cancelled by its owner is rejected (see above).
inline constexpr std::string_view kBrokenRequestPrefix = "broken request: ";
// True for an error made from such a rejection (on either side of a connection).
bool isBrokenRequest(const kj::Exception& error);
bool isBrokenRequest(const Exception& error);

// The TaskGroup of the task running now; null outside a task (in a KJ turn, say).
TaskGroup* currentTaskGroup();

// Runs `task` on the current moonpool executor as task `name`, in `owner` (null: a group of
// its own); the promise settles with its outcome. Dropping the promise cancels the task.
template <typename T>
kj::Promise<T> toPromise(Task<T> task, std::string name = "toPromise", TaskGroup* owner = nullptr) {
  return kj::newAdaptedPromise<T, internal::TaskAdapter<T>>(std::move(task), std::move(name),
                                                             owner);
}

// Implementation details below: nothing past this point is part of the manual.
namespace internal {

kj::Exception brokenRequest(const std::string& name);

// Waits on the promise's node directly: the awaiter is itself the KJ event the node arms
// when it settles (KJ's internal Event and PromiseNode, as KJ's own wait() and
// eagerlyEvaluate() do). A .then() plus .eagerlyEvaluate() cost two more nodes, two more
// allocations and two more events per awaited promise (measured: ~1,000 instructions of an
// RPC's ~112,000 on the echo bench).
template <typename T>
class PromiseAwaiter final : private kj::_::Event {
 public:
  explicit PromiseAwaiter(kj::Promise<T> promise)
      : node_(kj::_::PromiseNode::from(kj::mv(promise))) {}
  PromiseAwaiter(const PromiseAwaiter&) = delete;
  PromiseAwaiter& operator=(const PromiseAwaiter&) = delete;
  ~PromiseAwaiter() noexcept(false) {
    node_ = nullptr;  // cancels the KJ operation; ~Event then disarms this event if armed
    if (wake_.scheduled()) executor_->unschedule(wake_);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self) {
    executor_ = &Executor::current();
    wake_.coroutine = self;
    wake_.task = executor_->taskRegistry().current();
    wake_.kind = WakeKind::kExternal;
    internal::noteAwaiting(*executor_, "a kj::Promise");
    node_->setSelfPointer(&node_);
    node_->onReady(this);
  }
  T await_resume() {
    KJ_IF_MAYBE(error, result_.exception) { throw fromKj(*error); }
    if constexpr (!std::is_void_v<T>) {
      T* value = nullptr;
      KJ_IF_MAYBE(settled, result_.value) { value = settled; }
      MOONPOOL_CHECK(value != nullptr, "a settled promise holds a value or an exception");
      return kj::mv(*value);
    }
  }

 private:
  // implements kj::_::Event: the node settled. Never resumes inline (bridge.h): stores the
  // outcome and schedules the awaiting task.
  kj::Maybe<kj::Own<kj::_::Event>> fire() override {
    node_->get(result_);
    kj::Maybe<kj::Exception> dropped = kj::runCatchingExceptions([this]() { node_ = nullptr; });
    KJ_IF_MAYBE(error, dropped) { result_.addException(kj::mv(*error)); }
    executor_->schedule(wake_);
    return nullptr;
  }
  void traceEvent(kj::_::TraceBuilder& builder) override {
    if (node_.get() != nullptr) node_->tracePromise(builder, true);
  }

  kj::Own<kj::_::PromiseNode> node_;
  kj::_::ExceptionOr<kj::_::FixVoid<T>> result_;
  Executor* executor_ = nullptr;
  Runnable wake_;
};

template <typename T>
class TaskAdapter {
 public:
  TaskAdapter(kj::PromiseFulfiller<T>& fulfiller, Task<T> task, std::string name,
              TaskGroup* owner) {
    std::string label = name;
    if (owner == nullptr) {
      ownGroup_.emplace(Executor::current(), "toPromise");
      owner = &*ownGroup_;
    }
    handle_ = owner->spawn(std::move(label),
                           forward(fulfiller, std::move(task), std::move(name), &dropping_));
  }
  TaskAdapter(const TaskAdapter&) = delete;
  TaskAdapter& operator=(const TaskAdapter&) = delete;
  // Dropping the promise destroys the adapter, which cancels the task (quietly: nobody is
  // left to tell).
  ~TaskAdapter() {
    dropping_ = true;
    handle_.cancel();
  }

 private:
  // Rejects the promise as a broken request if the task's frame is destroyed unsettled.
  struct Settlement {
    kj::PromiseFulfiller<T>& fulfiller;
    const std::string& name;
    const bool* dropping;
    bool settled = false;
    ~Settlement() {
      if (!settled && !*dropping) fulfiller.reject(brokenRequest(name));
    }
  };

  static Task<void> forward(kj::PromiseFulfiller<T>& fulfiller, Task<T> task, std::string name,
                            const bool* dropping) {
    Settlement settlement{fulfiller, name, dropping};
    // Every failure is handed to KJ; cancellation never reaches here (frames are destroyed,
    // and the settlement above speaks for it).
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        settlement.settled = true;
        fulfiller.fulfill();
      } else {
        T value = co_await std::move(task);
        settlement.settled = true;
        fulfiller.fulfill(kj::mv(value));
      }
    } catch (...) {
      settlement.settled = true;
      fulfiller.reject(toKj(std::current_exception()));
    }
  }

  bool dropping_ = false;
  std::optional<TaskGroup> ownGroup_;
  JoinHandle<void> handle_;  // last: cancelled before the group it may live in goes
};

}  // namespace internal

}  // namespace moonpool
