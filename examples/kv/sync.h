// Small coordination helpers for the KV store's tasks (examples/kv).
//
//   Signal    "something changed": waiters re-check their condition after notify().
//   TaskList  the JoinHandles of one server incarnation's tasks: dropping the list cancels
//             them; finished ones are pruned; the count is bounded. runJoined() also lets
//             another task (an RPC call being served) wait for a task the list owns.
// Both live on one executor (no threads), like everything in moonpool. Locks are
// moonpool::Mutex (moonpool/sync.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/event.h"
#include "moonpool/providers.h"
#include "moonpool/task.h"

namespace moonpool::kv {

class Signal {
 public:
  Signal() = default;
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  // Wakes every task waiting in wait() now; later waiters wait for the next notify().
  void notify() {
    std::shared_ptr<Event> fired = std::exchange(current_, std::make_shared<Event>());
    fired->set();
  }
  // Completes at the next notify(). The Event is held by the Task, so notify() may replace
  // it while the task waits.
  [[clang::coro_wrapper]] Task<void> wait() { return waitOn(current_); }

 private:
  static Task<void> waitOn(std::shared_ptr<Event> event) { co_await event->wait(); }

  std::shared_ptr<Event> current_ = std::make_shared<Event>();
};

class TaskList {
 public:
  explicit TaskList(std::size_t sizeMax) : sizeMax_(sizeMax) {}
  TaskList(const TaskList&) = delete;
  TaskList& operator=(const TaskList&) = delete;

  // Spawns `task` into the provider's group (the process's group in simulation, so pauses
  // and kills reach it). False, and the task is dropped, when sizeMax tasks are running.
  bool spawn(TaskProvider& tasks, std::string name, Task<void> task) {
    prune();
    if (handles_.size() >= sizeMax_) return false;
    handles_.push_back(tasks.spawn(std::move(name), std::move(task)));
    return true;
  }
  // Spawns `task` like spawn(), and waits for its end: false at once when sizeMax tasks are
  // running. The list owns the task (cancelAll() cancels it; the awaiting task then gets
  // Exception kDisconnected), while destroying the awaiting Task only stops the waiting.
  // A task failure is rethrown. The list is not touched after the task ends: it may be gone.
  Task<bool> runJoined(TaskProvider& tasks, std::string name, Task<void> task) {
    prune();
    if (handles_.size() >= sizeMax_) co_return false;
    JoinHandle<void> handle = tasks.spawn(std::move(name), std::move(task));
    JoinHandle<void>::JoinAwaiter joining = handle.join();
    handles_.push_back(std::move(handle));
    co_await joining;
    co_return true;
  }
  // Cancels every task still running.
  void cancelAll() { handles_.clear(); }
  std::size_t size() const { return handles_.size(); }

 private:
  void prune() {
    std::erase_if(handles_, [](const JoinHandle<void>& h) { return h.done(); });
  }

  std::size_t sizeMax_;
  std::vector<JoinHandle<void>> handles_;
};

}  // namespace moonpool::kv
