// The machinery behind whenAll / whenAny (internal; combinators.h states the semantics): the
// coroutine that drives each child, the shared bookkeeping, and the typed awaiters that keep
// the children's Tasks and take their results.
#pragma once

#include <cstddef>
#include <coroutine>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "moonpool/executor.h"
#include "moonpool/internal/task_promise.h"
#include "moonpool/task.h"

namespace moonpool {

namespace internal {

template <typename T>
using NonVoid = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

class CombinatorBase;

// Drives one child Task and reports its completion to the combinator.
class ChildCoroutine {
 public:
  class promise_type {
   public:
    ChildCoroutine get_return_object() noexcept {
      return ChildCoroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct Report {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> self) const noexcept;
      void await_resume() const noexcept {}
    };
    Report final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept;

    CombinatorBase* owner = nullptr;
    std::size_t index = 0;
  };
  std::coroutine_handle<promise_type> handle;
};

class CombinatorBase {
 public:
  enum class Mode : unsigned char { kAll, kAny };

  CombinatorBase(Mode mode, const char* label) : mode_(mode), label_(label) {}
  CombinatorBase(const CombinatorBase&) = delete;
  CombinatorBase& operator=(const CombinatorBase&) = delete;
  ~CombinatorBase();

  bool await_ready() const noexcept { return children_.empty(); }
  void await_suspend(std::coroutine_handle<> parent);
  void await_resume() const noexcept {}

  void childDone(std::size_t index);

 protected:
  // Called by the typed subclass once its Tasks exist.
  void bind(std::vector<ErasedTask> tasks);
  // whenAny: the chosen finished child. whenAll: the first failed child, or npos.
  std::size_t chooseWinner();
  std::size_t firstFailure() const { return firstFailure_; }
  // Destroys the children's driver frames; the subclass destroys the Tasks.
  void destroyChildren();

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  bool conditionMet() const;

  Mode mode_;
  const char* label_;
  Executor* executor_ = nullptr;
  std::vector<ErasedTask> tasks_;
  std::vector<std::coroutine_handle<ChildCoroutine::promise_type>> children_;
  std::vector<bool> finished_;
  std::size_t finishedCount_ = 0;
  std::size_t firstFailure_ = npos;
  Runnable wake_;
  bool woken_ = false;
};

template <typename... Ts>
class AllAwaiter final : public CombinatorBase {
 public:
  explicit AllAwaiter(Task<Ts>... tasks)
      : CombinatorBase(Mode::kAll, "whenAll"), tasks_(std::move(tasks)...) {
    std::apply([this](auto&... t) { bind({TaskAccess::erase(t)...}); }, tasks_);
  }
  ~AllAwaiter() { destroyChildren(); }

  std::tuple<NonVoid<Ts>...> takeResults() {
    if (std::size_t failed = firstFailure(); failed != npos) rethrowAt(failed);
    return std::apply([](auto&... t) { return std::tuple<NonVoid<Ts>...>{take(t)...}; },
                      tasks_);
  }

 private:
  template <typename T>
  static NonVoid<T> take(Task<T>& task) {
    if constexpr (std::is_void_v<T>) {
      TaskAccess::takeResult(task);
      return {};
    } else {
      return TaskAccess::takeResult(task);
    }
  }
  void rethrowAt(std::size_t index) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == index ? (void)take(std::get<I>(tasks_)) : void()), ...);
    }(std::index_sequence_for<Ts...>{});
  }

  std::tuple<Task<Ts>...> tasks_;
};

template <typename... Ts>
class AnyAwaiter final : public CombinatorBase {
 public:
  explicit AnyAwaiter(Task<Ts>... tasks)
      : CombinatorBase(Mode::kAny, "whenAny"), tasks_(std::move(tasks)...) {
    std::apply([this](auto&... t) { bind({TaskAccess::erase(t)...}); }, tasks_);
  }
  ~AnyAwaiter() { destroyChildren(); }

  std::variant<NonVoid<Ts>...> takeWinner() {
    std::size_t winner = chooseWinner();
    return takeAt(winner, std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t I>
  std::variant<NonVoid<Ts>...> takeOne() {
    auto& task = std::get<I>(tasks_);
    if constexpr (std::is_void_v<typename std::remove_reference_t<decltype(task)>::value_type>) {
      TaskAccess::takeResult(task);
      return std::variant<NonVoid<Ts>...>(std::in_place_index<I>);
    } else {
      return std::variant<NonVoid<Ts>...>(std::in_place_index<I>,
                                          TaskAccess::takeResult(task));
    }
  }
  template <std::size_t... I>
  std::variant<NonVoid<Ts>...> takeAt(std::size_t index, std::index_sequence<I...>) {
    using Taker = std::variant<NonVoid<Ts>...> (AnyAwaiter::*)();
    static constexpr Taker kTakers[] = {&AnyAwaiter::takeOne<I>...};
    return (this->*kTakers[index])();
  }

  std::tuple<Task<Ts>...> tasks_;
};

template <typename T>
class VectorAwaiter final : public CombinatorBase {
 public:
  VectorAwaiter(Mode mode, std::vector<Task<T>> tasks)
      : CombinatorBase(mode, mode == Mode::kAll ? "whenAll" : "whenAny"),
        tasks_(std::move(tasks)) {
    std::vector<ErasedTask> erased;
    erased.reserve(tasks_.size());
    for (auto& t : tasks_) erased.push_back(TaskAccess::erase(t));
    bind(std::move(erased));
  }
  ~VectorAwaiter() { destroyChildren(); }

  std::vector<NonVoid<T>> takeAll() {
    if (std::size_t failed = firstFailure(); failed != npos) take(failed);
    std::vector<NonVoid<T>> out;
    out.reserve(tasks_.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i) out.push_back(take(i));
    return out;
  }
  std::pair<std::size_t, NonVoid<T>> takeWinner() {
    std::size_t winner = chooseWinner();
    return {winner, take(winner)};
  }

 private:
  NonVoid<T> take(std::size_t index) {
    if constexpr (std::is_void_v<T>) {
      TaskAccess::takeResult(tasks_[index]);
      return {};
    } else {
      return TaskAccess::takeResult(tasks_[index]);
    }
  }

  std::vector<Task<T>> tasks_;
};

}  // namespace internal

}  // namespace moonpool
