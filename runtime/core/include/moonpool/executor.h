// The executor interface: where suspended coroutines go to be resumed (runtime/ core layer).
//
// moonpool has one scheduling model and two executors. Both keep a *ready set* of Runnables
// and resume one at a time on a single thread:
//   - SimExecutor (sim/sim_executor.h): the next Runnable is a seeded choice, time is logical;
//   - RealExecutor (real/real_executor.h): FIFO on KJ's event loop, wall-clock time.
// Awaiters never resume a coroutine inline when something they wait for happens; they
// `schedule()` it. That keeps stacks flat, makes every interleaving a recorded decision, and
// is what lets the simulator choose among simultaneously ready tasks.
//
// The one ambient value in moonpool is the thread's current executor (as KJ's current
// EventLoop): executors install themselves for their lifetime; `Executor::current()` finds
// it. Everything else is passed in.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

#include "moonpool/time.h"

namespace moonpool {

class BuggifyHook;

namespace internal {
class TaskRecord;
class TaskRegistry;
}  // namespace internal

// Why a Runnable was made ready; recorded in decision traces and deadlock reports.
enum class WakeKind : std::uint8_t {
  kStart,       // a spawned task's first step
  kTimer,       // a sleep or deadline expired
  kYield,       // the task yielded
  kJoin,        // a joined task finished
  kCombinator,  // a child of whenAll/whenAny finished
  kChannel,     // a channel or event changed
  kExternal,    // an external loop (KJ) has events to run, or a KJ promise settled
};

std::string_view wakeKindName(WakeKind kind);

// An intrusive entry of an executor's ready set. Its owner (an awaiter in a coroutine frame,
// a spawned-task record, an external loop) keeps it alive while it is scheduled and must
// `unschedule()` it before dying: that is what makes destroying a Task safe at any point.
class Runnable {
 public:
  static constexpr std::uint32_t kNotScheduled = UINT32_MAX;

  Runnable() = default;
  Runnable(const Runnable&) = delete;
  Runnable& operator=(const Runnable&) = delete;

  bool scheduled() const { return readySlot != kNotScheduled; }

  // What runs: the coroutine is resumed, or, when `callback` is set, the callback is called.
  std::coroutine_handle<> coroutine;
  void (*callback)(Runnable&) = nullptr;
  void* context = nullptr;  // for the callback's use
  // The spawned task this work belongs to; null for external loops.
  internal::TaskRecord* task = nullptr;
  WakeKind kind = WakeKind::kStart;

  // Executor bookkeeping, written only by the executor the Runnable is scheduled on.
  std::uint32_t readySlot = kNotScheduled;
  Runnable* readyPrev = nullptr;
  Runnable* readyNext = nullptr;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Makes `work` ready. It must not already be scheduled.
  virtual void schedule(Runnable& work) = 0;
  // Removes `work` from the ready set. It must be scheduled on this executor.
  virtual void unschedule(Runnable& work) = 0;

  virtual TimePoint now() const = 0;

  // Chooses one of `count` simultaneously available alternatives (a select among finished
  // children, a race). Simulation: a seeded choice from the scheduler stream. Production: 0.
  virtual std::size_t chooseIndex(std::size_t count) = 0;

  // The executor's spawned-task bookkeeping (internal/task_registry.h): task ids, the live
  // tasks, the task whose step is running, records destroyed after the step, failures
  // nobody observed. Used by TaskGroup and awaiters; not for application code.
  virtual internal::TaskRegistry& taskRegistry() = 0;

  // The fault-point hook of a simulated world (buggify.h); null in production.
  virtual BuggifyHook* buggifyHook() const { return nullptr; }

  // The thread's current executor. current() checks that one is installed.
  static Executor& current();
  static Executor* tryCurrent();

 protected:
  // Executors install themselves for their lifetime (installs nest LIFO): swapCurrent(this)
  // in the constructor, swapCurrent(previous) in the destructor. Returns the previous one.
  static Executor* swapCurrent(Executor* next);
};

}  // namespace moonpool
