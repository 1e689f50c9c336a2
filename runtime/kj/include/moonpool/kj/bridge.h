// The coroutine <-> kj::Promise bridge, with cancellation both ways (runtime/ kj layer).
//
//   T value = co_await moonpool::awaitPromise(kjPromise);   // inside a Task
//   kj::Promise<T> p = moonpool::toPromise(std::move(task)); // hand a Task to KJ code
//   kj::Promise<void> done = moonpool::toPromiseThen(makeTask, writeResult);  // servers
//
// Cancellation:
//   - Destroying the Task that awaits a kj::Promise drops the promise, which cancels the KJ
//     operation (KJ's rule: dropping a promise cancels it).
//   - Dropping the kj::Promise returned by toPromise destroys the Task (and everything it
//     awaits) at once; only a task dropping its own promise is destroyed when its running
//     step returns, settling nothing.
// Resumption never happens inside a KJ callback: the callback stores the outcome and
// schedules the awaiting task on the moonpool executor, so KJ events and tasks interleave as
// ordinary scheduling decisions (seeded in simulation).
//
// Ownership: toPromise(task, name, owner) runs the task in `owner` (a simulated process's
// TaskGroup, so killing or pausing the process kills or pauses the work it serves). When the
// owner cancels the task before it settles, the promise is rejected as a broken request:
// DISCONNECTED with a description starting with kBrokenRequestPrefix, which reaches an RPC
// caller as such (never a promise that hangs). Without an owner the promise itself owns the
// task: no TaskGroup and no spawned task, the promise's node drives the coroutine directly
// (its first step is scheduled on the executor, never run inline); it is not a spawned task,
// so it has no task id, no `name` and no group to pause with.
//
// Errors: kj::Exception and moonpool::Exception convert 1:1 by kind (error.h); any other
// exception crosses into KJ as FAILED with its what().
#pragma once

#include <kj/async.h>
#include <kj/exception.h>

#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/error.h"
#include "moonpool/executor.h"
#include "moonpool/internal/spawn.h"
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
template <typename T>
class DirectTaskAdapter;
template <typename T>
class DriverCoroutine;
template <typename T>
DriverCoroutine<T> drive(Task<T> task);
template <typename Make, typename F>
DriverCoroutine<void> driveThen(Make make, F onValue);
template <typename Make, typename F>
Task<void> thenTask(Make make, F onValue);
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

// Runs `task` on the current moonpool executor, as task `name` in `owner` when one is given,
// else owned by the promise alone (see Ownership above); the promise settles with its outcome.
// Dropping the promise cancels the task.
template <typename T>
kj::Promise<T> toPromise(Task<T> task, std::string_view name = "toPromise",
                         TaskGroup* owner = nullptr) {
  if (owner == nullptr) {
    return kj::newAdaptedPromise<T, internal::DirectTaskAdapter<T>>(
        internal::drive<T>(std::move(task)));
  }
  return kj::newAdaptedPromise<T, internal::TaskAdapter<T>>(std::move(task), std::string(name),
                                                             owner);
}

// toPromise for a server: calls `make()` (which returns the Task) inside the coroutine that
// runs it, so what `make` holds (the call's parameters, that the method may take by
// reference) lives as long as the Task; then calls `onValue(value)` (`onValue()` for a
// Task<void>) in the task's last step, unless the promise was dropped meanwhile. The promise
// settles once that returned, or with what `make`, the task or `onValue` threw. Without an
// owner no coroutine is added to the task's own (generated servers use it).
template <typename Make, typename F>
  requires std::is_invocable_v<Make&>
kj::Promise<void> toPromiseThen(Make make, F onValue, std::string_view name = "toPromise",
                                TaskGroup* owner = nullptr) {
  if (owner == nullptr) {
    return kj::newAdaptedPromise<void, internal::DirectTaskAdapter<void>>(
        internal::driveThen<Make, F>(std::move(make), std::move(onValue)));
  }
  return toPromise(internal::thenTask<Make, F>(std::move(make), std::move(onValue)), name,
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

// The coroutine a DirectTaskAdapter drives: awaits the Task and settles the promise through
// the fulfiller its promise holds. The adapter clears that pointer when the kj::Promise is
// dropped, so a frame whose destruction waits for the end of the running step (its task
// dropped its own promise) settles nothing. Its frame is destroyed by the adapter.
template <typename T>
class DriverCoroutine {
 public:
  class promise_type {
   public:
    DriverCoroutine get_return_object() noexcept {
      return DriverCoroutine(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_always final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    // drive() catches everything.
    void unhandled_exception() noexcept {
      checkFailed("drive caught everything", "an exception escaped toPromise's driver",
                  std::source_location::current());
    }

    kj::PromiseFulfiller<T>* fulfiller = nullptr;
  };

  // `co_await FulfillerSlot{}` inside the driver: where its promise keeps the fulfiller.
  struct FulfillerSlot {
    kj::PromiseFulfiller<T>** slot = nullptr;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<promise_type> self) noexcept {
      slot = &self.promise().fulfiller;
      return false;  // resumes at once
    }
    kj::PromiseFulfiller<T>** await_resume() const noexcept { return slot; }
  };

  std::coroutine_handle<promise_type> handle;

 private:
  explicit DriverCoroutine(std::coroutine_handle<promise_type> h) : handle(h) {}
};

template <typename T>
DriverCoroutine<T> drive(Task<T> task) {
  kj::PromiseFulfiller<T>** out = co_await typename DriverCoroutine<T>::FulfillerSlot{};
  // Catch-all is safe: cancellation destroys frames, it never throws.
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      if (*out != nullptr) (*out)->fulfill();
    } else {
      T value = co_await std::move(task);
      if (*out != nullptr) (*out)->fulfill(kj::mv(value));
    }
  } catch (...) {
    if (*out != nullptr) (*out)->reject(toKj(std::current_exception()));
  }
}

template <typename Make, typename F>
DriverCoroutine<void> driveThen(Make make, F onValue) {
  using T = typename std::invoke_result_t<Make&>::value_type;
  kj::PromiseFulfiller<void>** out = co_await typename DriverCoroutine<void>::FulfillerSlot{};
  try {
    if constexpr (std::is_void_v<T>) {
      co_await make();
      if (*out == nullptr) co_return;  // dropped: nobody reads the result
      onValue();
    } else {
      T value = co_await make();
      if (*out == nullptr) co_return;
      onValue(kj::mv(value));
    }
    if (*out != nullptr) (*out)->fulfill();
  } catch (...) {
    if (*out != nullptr) (*out)->reject(toKj(std::current_exception()));
  }
}

template <typename Make, typename F>
Task<void> thenTask(Make make, F onValue) {
  if constexpr (std::is_void_v<typename std::invoke_result_t<Make&>::value_type>) {
    co_await make();
    onValue();
  } else {
    onValue(co_await make());
  }
}

// toPromise without an owner: the promise's node owns the driver frame through a record of
// no group (its steps run as that record's, so a step can tell its own frame). No TaskGroup,
// no spawned task, no join state, no task id.
template <typename T>
class DirectTaskAdapter {
 public:
  DirectTaskAdapter(kj::PromiseFulfiller<T>& fulfiller, DriverCoroutine<T> driver)
      : frame_(driver.handle),
        record_(std::make_unique<TaskRecord>(Executor::current())) {
    record_->frame = frame_;
    frame_.promise().fulfiller = &fulfiller;
    record_->start.coroutine = frame_;
    record_->executor.schedule(record_->start);
  }
  DirectTaskAdapter(const DirectTaskAdapter&) = delete;
  DirectTaskAdapter& operator=(const DirectTaskAdapter&) = delete;
  // Dropping the promise destroys the frame (and the Task it awaits) at once, unless the
  // frame is running (its task dropped its own promise): then when that step returns.
  ~DirectTaskAdapter() {
    frame_.promise().fulfiller = nullptr;
    Executor& executor = record_->executor;
    executor.taskRegistry().destroyUnowned(std::move(record_));
  }

 private:
  std::coroutine_handle<typename DriverCoroutine<T>::promise_type> frame_;
  std::unique_ptr<TaskRecord> record_;
};

template <typename T>
class TaskAdapter {
 public:
  TaskAdapter(kj::PromiseFulfiller<T>& fulfiller, Task<T> task, std::string name,
              TaskGroup* owner) {
    std::string label = name;
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
  JoinHandle<void> handle_;
};

}  // namespace internal

}  // namespace moonpool
