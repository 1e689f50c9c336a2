// moonpool::Task<T>: the coroutine type all service code is written in (runtime/ core layer).
//
// Contract:
//   - Lazy: calling a Task-returning function runs nothing until the Task is awaited (or
//     spawned, spawn.h).
//   - Symmetric transfer: awaiting a Task transfers control directly to it and back, with no
//     executor round trip and no stack growth (clang emits a guaranteed tail call).
//   - Exceptions thrown in the coroutine propagate to the awaiter.
//   - Ownership lives in the type: a Task owns its coroutine frame. Destroying a Task cancels
//     it: the frame and everything it is awaiting (child Tasks, sleeps, joins) is torn down
//     and deregistered from the executor. No exception unwinds through user code when that
//     happens.
//   - A Task is awaited at most once (it is consumed by `co_await std::move(task)` or
//     `co_await f()`).
//
// Rules for code that returns Task (STYLE.md rule 4): take parameters by value, or copy them
// before the first co_await; keep Tasks at function scope; no co_await inside catch; no
// capturing coroutine lambdas unless awaited immediately. clang's coro_lifetimebound flags
// temporaries bound to reference parameters.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/internal/task_promise.h"

namespace moonpool {

// A lazy coroutine that produces a T (or nothing), owned by value; see the contract above.
template <typename T = void>
class [[nodiscard, clang::coro_return_type, clang::coro_lifetimebound]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using value_type = T;

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  // Destroying a Task cancels it (see the contract above).
  ~Task() { reset(); }

  // True while this Task owns a coroutine frame (not moved from, not default-constructed).
  bool valid() const { return static_cast<bool>(handle_); }
  // True once the coroutine ran to completion (result or exception stored).
  bool done() const { return handle_ && handle_.done(); }

  // Runs the Task to completion and yields its value, or rethrows its exception. The Task
  // must be valid and not yet awaited.
  internal::TaskAwaiter<T> operator co_await() && {
    MOONPOOL_CHECK(handle_ && !handle_.done(), "awaiting an empty or already awaited Task");
    return internal::TaskAwaiter<T>(handle_);
  }

 private:
  // Handles, promises and results taken out of band are the runtime's business.
  friend struct internal::TaskAccess;
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}

  void reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

// A Task that completes immediately with `value` (or without one).
template <typename T>
Task<std::decay_t<T>> readyTask(T value) {
  co_return value;
}
inline Task<void> readyTask() { co_return; }

}  // namespace moonpool
