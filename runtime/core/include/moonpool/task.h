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
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "moonpool/internal/check.h"

namespace moonpool {

template <typename T = void>
class Task;

namespace internal {

// Resumes whoever awaited the finished coroutine (symmetric transfer), or nothing.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) const noexcept {
    std::coroutine_handle<> continuation = done.promise().continuation;
    if (continuation) return continuation;
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

class TaskPromiseBase {
 public:
  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }

  std::coroutine_handle<> continuation;
  // Set when the coroutine ended with an exception (combinators check it without rethrowing).
  bool failed = false;
};

// A Task seen without its value type, for combinators: its frame and its promise's base.
struct ErasedTask {
  std::coroutine_handle<> handle;
  TaskPromiseBase* promise = nullptr;
};

template <typename T>
class TaskPromise final : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <typename U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept {
    failed = true;
    result_.template emplace<2>(std::current_exception());
  }

  T takeResult() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    MOONPOOL_CHECK(result_.index() == 1, "a Task was resumed without a result");
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;

  void return_void() noexcept {}
  void unhandled_exception() noexcept {
    failed = true;
    error_ = std::current_exception();
  }

  void takeResult() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
};

}  // namespace internal

template <typename T>
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

  class Awaiter {
   public:
    explicit Awaiter(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle_.promise().continuation = awaiting;
      return handle_;
    }
    T await_resume() { return handle_.promise().takeResult(); }

   private:
    std::coroutine_handle<promise_type> handle_;
  };

  Awaiter operator co_await() && {
    MOONPOOL_CHECK(handle_ && !handle_.done(), "awaiting an empty or already awaited Task");
    return Awaiter(handle_);
  }

  // For combinators and bridges (whenAll, spawn, toPromise): starts the coroutine with
  // `continuation` to run when it finishes. Returns the handle to transfer to.
  std::coroutine_handle<> startWithContinuation(std::coroutine_handle<> continuation) {
    MOONPOOL_CHECK(handle_ && !handle_.done(), "starting an empty or finished Task");
    handle_.promise().continuation = continuation;
    return handle_;
  }
  // For combinators: the frame and promise without the value type. The Task keeps ownership.
  internal::ErasedTask erase() {
    MOONPOOL_CHECK(handle_ && !handle_.done(), "erasing an empty or finished Task");
    return internal::ErasedTask{handle_, &handle_.promise()};
  }
  // True when the Task finished by throwing.
  bool failed() const { return done() && handle_.promise().failed; }
  // The result of a finished Task (rethrows its exception).
  T takeResult() {
    MOONPOOL_CHECK(done(), "taking the result of an unfinished Task");
    return handle_.promise().takeResult();
  }

 private:
  friend class internal::TaskPromise<T>;
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}

  void reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace internal {

template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace internal

// A Task that completes immediately with `value` (or without one).
template <typename T>
Task<std::decay_t<T>> readyTask(T value) {
  co_return value;
}
inline Task<void> readyTask() { co_return; }

}  // namespace moonpool
