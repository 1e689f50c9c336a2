// The machinery behind Task<T> (internal; task.h states the contract): the promise types,
// the awaiter that `co_await task` returns, and TaskAccess, the runtime's one door into a
// Task's frame.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "moonpool/check.h"

namespace moonpool {

template <typename T>
class Task;

namespace internal {

template <typename T>
class TaskPromise;

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

// Runtime plumbing on a Task (combinators, spawn, bridges): the only friend of Task, so
// application code sees no handles, promises or results taken out of band.
struct TaskAccess {
  // The Task owning `handle` (promise_type::get_return_object).
  template <typename T>
  [[clang::coro_wrapper]] static Task<T> wrap(std::coroutine_handle<TaskPromise<T>> handle) {
    return Task<T>(handle);
  }
  // The frame and promise without the value type. `task` keeps ownership.
  template <typename T>
  static ErasedTask erase(Task<T>& task) {
    MOONPOOL_CHECK(task.handle_ && !task.handle_.done(), "erasing an empty or finished Task");
    return ErasedTask{task.handle_, &task.handle_.promise()};
  }
  // The result of a finished Task (rethrows its exception).
  template <typename T>
  static T takeResult(Task<T>& task) {
    MOONPOOL_CHECK(task.done(), "taking the result of an unfinished Task");
    return task.handle_.promise().takeResult();
  }
};

// Where a Task's outcome is stored: a value or an exception.
template <typename T>
class TaskResult : public TaskPromiseBase {
 public:
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
class TaskResult<void> : public TaskPromiseBase {
 public:
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

template <typename T>
class TaskPromise final : public TaskResult<T> {
 public:
  Task<T> get_return_object() noexcept {
    return TaskAccess::wrap(std::coroutine_handle<TaskPromise>::from_promise(*this));
  }
};

// What `co_await std::move(task)` returns: transfers to the task, resumes with its result.
template <typename T>
class TaskAwaiter {
 public:
  explicit TaskAwaiter(std::coroutine_handle<TaskPromise<T>> handle) : handle_(handle) {}
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() { return handle_.promise().takeResult(); }

 private:
  std::coroutine_handle<TaskPromise<T>> handle_;
};

}  // namespace internal
}  // namespace moonpool
