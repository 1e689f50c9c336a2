// TaskFunction: a copyable, type-erased callable that returns a Task (runtime/ core layer).
//
// std::function<Task<T>(Args...)> does not compile under clang's coroutine-lifetime checks:
// its call operator returns a [[clang::coro_return_type]] without being a coroutine. This is
// the replacement for process mains, workload phases and other stored Task factories:
//
//   Task<void> serve(ProcessContext& ctx, std::uint16_t port);
//   TaskFunction<Task<void>(ProcessContext&)> main = bindTask(serve, std::uint16_t{4500});
//   TaskFunction<Task<void>(ProcessContext&)> plain = runClient;   // a function
//
// bindTask() is how a stored factory gets extra arguments: they are copied into the
// function object and passed by value on every call, so no coroutine frame ever refers to a
// lambda's captures. (A capturing lambda that returns a Task must be marked
// `__attribute__((coro_wrapper))` after its parameter list; bindTask needs no marking.)
//
// Copies share the callable (it is immutable once wrapped). Calling an empty TaskFunction is
// a checked error.
#pragma once

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "moonpool/check.h"

namespace moonpool {

template <typename Signature>
class TaskFunction;

template <typename R, typename... Args>
class TaskFunction<R(Args...)> {
 public:
  TaskFunction() = default;
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, TaskFunction> &&
             std::is_invocable_r_v<R, F&, Args...>)
  TaskFunction(F f)  // NOLINT(google-explicit-constructor): a function-like value
      : impl_(std::make_shared<Model<F>>(std::move(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }

  [[clang::coro_wrapper]] R operator()(Args... args) const {
    MOONPOOL_CHECK(impl_ != nullptr, "calling an empty TaskFunction");
    return impl_->call(std::forward<Args>(args)...);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    [[clang::coro_wrapper]] virtual R call(Args... args) = 0;
  };
  template <typename F>
  struct Model final : Concept {
    explicit Model(F f) : fn(std::move(f)) {}
    [[clang::coro_wrapper]] R call(Args... args) override {
      return fn(std::forward<Args>(args)...);
    }
    F fn;
  };

  std::shared_ptr<Concept> impl_;
};

template <typename F, typename... Bound>
class BoundTask {
 public:
  BoundTask(F fn, Bound... bound) : fn_(std::move(fn)), bound_(std::move(bound)...) {}

  template <typename... Leading>
  [[clang::coro_wrapper]] auto operator()(Leading&&... leading)
      -> std::invoke_result_t<F&, Leading..., Bound...> {
    return call(std::index_sequence_for<Bound...>{}, std::forward<Leading>(leading)...);
  }

 private:
  template <std::size_t... I, typename... Leading>
  [[clang::coro_wrapper]] auto call(std::index_sequence<I...>, Leading&&... leading)
      -> std::invoke_result_t<F&, Leading..., Bound...> {
    return fn_(std::forward<Leading>(leading)..., Bound(std::get<I>(bound_))...);
  }

  F fn_;
  std::tuple<Bound...> bound_;
};

// A callable that appends copies of `bound` to its arguments and calls `fn` (see above).
template <typename F, typename... Bound>
BoundTask<std::decay_t<F>, std::decay_t<Bound>...> bindTask(F&& fn, Bound&&... bound) {
  return BoundTask<std::decay_t<F>, std::decay_t<Bound>...>(std::forward<F>(fn),
                                                            std::forward<Bound>(bound)...);
}

}  // namespace moonpool
