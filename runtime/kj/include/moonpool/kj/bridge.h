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
// Ownership: the promise owns the task. Its node drives the coroutine directly (the first
// step is scheduled on the executor, never run inline): no spawned task, no task id, no
// JoinState. toPromise(task, name, owner) also makes the work a member of `owner` (a
// simulated process's TaskGroup): pausing the group holds its steps back, currentTaskGroup()
// inside it is `owner`, and cancelling the group (killing the process) destroys the task
// and rejects the promise as a broken request: DISCONNECTED with a description starting with
// kBrokenRequestPrefix and naming `name`, which reaches an RPC caller as such (never a
// promise that hangs). Without an owner there is no group to pause or cancel it with.
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
class DirectTaskAdapter;
template <typename T>
class DriverCoroutine;
template <typename T>
DriverCoroutine<T> drive(Task<T> task);
template <typename Make, typename F>
DriverCoroutine<void> driveThen(Make make, F onValue);
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

// Runs `task` on the current moonpool executor, owned by the promise and a member of `owner`
// when one is given (see Ownership above; `name` is what a broken request names); the
// promise settles with its outcome. Dropping the promise cancels the task.
template <typename T>
kj::Promise<T> toPromise(Task<T> task, std::string_view name = "toPromise",
                         TaskGroup* owner = nullptr) {
  return kj::newAdaptedPromise<T, internal::DirectTaskAdapter<T>>(
      internal::drive<T>(std::move(task)), owner, name);
}

// toPromise for a server: calls `make()` (which returns the Task) inside the coroutine that
// runs it, so what `make` holds (the call's parameters, that the method may take by
// reference) lives as long as the Task; then calls `onValue(value)` (`onValue()` for a
// Task<void>) in the task's last step, unless the promise was dropped meanwhile. The promise
// settles once that returned, or with what `make`, the task or `onValue` threw. No coroutine
// is added to the task's own (generated servers use it). `owner` and `name` as for toPromise.
template <typename Make, typename F>
  requires std::is_invocable_v<Make&>
kj::Promise<void> toPromiseThen(Make make, F onValue, std::string_view name = "toPromise",
                                TaskGroup* owner = nullptr) {
  return kj::newAdaptedPromise<void, internal::DirectTaskAdapter<void>>(
      internal::driveThen<Make, F>(std::move(make), std::move(onValue)), owner, name);
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
    dropNode();
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
  // outcome and schedules the awaiting task, which drops the node when it resumes (a plain
  // try there costs nothing unless it throws; kj::runCatchingExceptions here cost ~250
  // instructions per await on the echo bench).
  kj::Maybe<kj::Own<kj::_::Event>> fire() override {
    node_->get(result_);
    executor_->schedule(wake_);
    return nullptr;
  }
  // A node's destructor may throw (KJ's are noexcept(false)): that failure joins the result.
  void dropNode() {
    try {
      node_ = nullptr;
    } catch (const kj::Exception& error) {
      result_.addException(kj::cp(error));
    }
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

// What the kj::Promise of toPromise holds: the driver frame, owned through a record of no
// spawned task (its steps run as that record's, so a step can tell its own frame, and
// `owner` pauses them). No spawned task, no join state, no task id; with an owner, a
// GroupMember of it, so cancelling the owner destroys the frame and breaks the promise.
template <typename T>
class DirectTaskAdapter final : private GroupMember {
 public:
  DirectTaskAdapter(kj::PromiseFulfiller<T>& fulfiller, DriverCoroutine<T> driver,
                    TaskGroup* owner, std::string_view name)
      : fulfiller_(fulfiller),
        frame_(driver.handle),
        record_(std::make_unique<TaskRecord>(Executor::current())) {
    record_->frame = frame_;
    frame_.promise().fulfiller = &fulfiller;
    if (owner != nullptr) {
      MOONPOOL_CHECK(&owner->executor() == &record_->executor,
                     "a call's owner runs on the current executor");
      name_ = name;
      record_->group = owner;
      owner->attach(*this);
    }
    record_->start.coroutine = frame_;
    record_->executor.schedule(record_->start);
  }
  DirectTaskAdapter(const DirectTaskAdapter&) = delete;
  DirectTaskAdapter& operator=(const DirectTaskAdapter&) = delete;
  // Dropping the promise destroys the frame (and the Task it awaits) at once, unless the
  // frame is running (its task dropped its own promise): then when that step returns.
  ~DirectTaskAdapter() {
    if (group != nullptr) group->leave(*this);
    if (record_ != nullptr) destroyFrame();
  }

 private:
  // implements GroupMember: the owner is cancelled (its process killed). The group has
  // taken this out already.
  void cancelByGroup() override {
    const bool settled = frame_.promise().fulfiller == nullptr || frame_.done();
    destroyFrame();
    if (!settled) fulfiller_.reject(brokenRequest(name_));
  }
  std::string describe() const override {
    return "'" + name_ + "' (a call) awaiting " +
           (record_ != nullptr ? std::string(record_->awaiting) : std::string("nothing"));
  }

  void destroyFrame() {
    frame_.promise().fulfiller = nullptr;  // a frame parked until its step ends settles nothing
    record_->group = nullptr;
    Executor& executor = record_->executor;
    executor.taskRegistry().destroyUnowned(std::move(record_));
  }

  kj::PromiseFulfiller<T>& fulfiller_;
  std::coroutine_handle<typename DriverCoroutine<T>::promise_type> frame_;
  std::unique_ptr<TaskRecord> record_;
  std::string name_;  // for a broken request; set only with an owner
};

}  // namespace internal

}  // namespace moonpool
