// Provider interfaces and the bundle service code receives (runtime/ core layer).
//
// Service code is written against these interfaces only and receives them by constructor
// (STYLE.md rule 1): only a runner or main() builds simulated or real providers. The bundle
// is a small value (references), cheap to copy into every component.
//
//   TimeProvider    now, sleep, timeouts (on logical time in simulation)
//   TaskProvider    spawn into the owner's TaskGroup, yield
//   RandomProvider  random.h: the counted main stream and derived streams
//   NetworkProvider network.h: listeners and byte streams
//   StorageProvider storage.h: files with explicit durability
// A bundle built without network or storage (pure-compute tests) fails loudly when asked
// for them.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/error.h"
#include "moonpool/network.h"
#include "moonpool/random.h"
#include "moonpool/spawn.h"
#include "moonpool/storage.h"
#include "moonpool/task.h"
#include "moonpool/time.h"

namespace moonpool {

class TimeProvider {
 public:
  virtual ~TimeProvider() = default;

  // The current time: logical in simulation, monotonic since start in production.
  virtual TimePoint now() const = 0;
  // Completes after `delay` (immediately-but-asynchronously for delay <= 0). Cancellable by
  // destroying the Task.
  virtual Task<void> sleep(Duration delay) = 0;

  [[clang::coro_wrapper]] Task<void> sleepUntil(TimePoint deadline) {
    return sleep(deadline - now());
  }
};

class TaskProvider {
 public:
  virtual ~TaskProvider() = default;

  // The group spawn() puts tasks into (a process's group in simulation).
  virtual TaskGroup& group() = 0;
  // Lets other ready tasks run. In simulation the yielding task goes back into the ready
  // set, and the scheduler's seeded choice may pick it again at once.
  virtual Task<void> yield() = 0;

  template <typename T>
  JoinHandle<T> spawn(std::string name, Task<T> task) {
    return group().spawn(std::move(name), std::move(task));
  }
};

// A TaskProvider over a given group; the same implementation serves both executors.
class GroupTaskProvider final : public TaskProvider {
 public:
  explicit GroupTaskProvider(TaskGroup& group) : group_(group) {}

  // implements TaskProvider
  TaskGroup& group() override { return group_; }
  Task<void> yield() override;

 private:
  TaskGroup& group_;
};

// Awaitable that reschedules the current task (what TaskProvider::yield awaits).
class YieldAwaiter {
 public:
  YieldAwaiter() = default;
  YieldAwaiter(const YieldAwaiter&) = delete;
  YieldAwaiter& operator=(const YieldAwaiter&) = delete;
  ~YieldAwaiter();
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self);
  void await_resume() const noexcept {}

 private:
  Executor* executor_ = nullptr;
  Runnable wake_;
};

class Providers {
 public:
  Providers(TimeProvider& time, TaskProvider& tasks, RandomProvider& random)
      : time_(&time), tasks_(&tasks), random_(&random) {}
  Providers(TimeProvider& time, TaskProvider& tasks, RandomProvider& random,
            NetworkProvider& network, StorageProvider& storage)
      : time_(&time), tasks_(&tasks), random_(&random), network_(&network), storage_(&storage) {}

  TimeProvider& time() const { return *time_; }
  TaskProvider& tasks() const { return *tasks_; }
  RandomProvider& random() const { return *random_; }
  NetworkProvider& network() const {
    MOONPOOL_CHECK(network_ != nullptr, "these Providers were built without a network");
    return *network_;
  }
  StorageProvider& storage() const {
    MOONPOOL_CHECK(storage_ != nullptr, "these Providers were built without storage");
    return *storage_;
  }
  bool hasNetwork() const { return network_ != nullptr; }
  bool hasStorage() const { return storage_ != nullptr; }

 private:
  TimeProvider* time_;
  TaskProvider* tasks_;
  RandomProvider* random_;
  NetworkProvider* network_ = nullptr;
  StorageProvider* storage_ = nullptr;
};

// Runs `task` with a deadline. Returns its value, or nullopt when `limit` passed first
// (the task is then cancelled). For Task<void>, true when it finished in time. A tie (both
// ready at the same instant) is a seeded choice in simulation.
template <typename T>
Task<std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>> tryWithin(
    TimeProvider& time, Duration limit, Task<T> task) {
  auto outcome = co_await whenAny(std::move(task), time.sleep(limit));
  if constexpr (std::is_void_v<T>) {
    co_return outcome.index() == 0;
  } else {
    if (outcome.index() == 1) co_return std::nullopt;
    co_return std::optional<T>(std::move(std::get<0>(outcome)));
  }
}

// Like tryWithin, but a missed deadline throws Exception(kOverloaded, "... timed out ...").
template <typename T>
Task<T> within(TimeProvider& time, Duration limit, Task<T> task, std::string what = "operation") {
  auto outcome = co_await whenAny(std::move(task), time.sleep(limit));
  if (outcome.index() == 1) {
    throw Exception(ErrorKind::kOverloaded, what + " timed out after " + formatDuration(limit));
  }
  if constexpr (!std::is_void_v<T>) co_return std::move(std::get<0>(outcome));
}

}  // namespace moonpool
