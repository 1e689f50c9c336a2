// Task bookkeeping shared by both executors (internal): ids, the live tasks for deadlock
// reports, the task of the running step, records whose destruction waits for the end of the
// step, unobserved failures, and how a run ended. Each executor owns one and hands it out
// through Executor::taskRegistry(); TaskGroup and awaiters call it there.
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/executor.h"

namespace moonpool {

class TaskGroup;
template <typename T>
class JoinHandle;

namespace internal {

class TaskRegistry {
 public:
  static constexpr std::size_t kDescribeLinesMax = 32;

  std::uint64_t allocateId() { return ++lastId_; }
  // A spawned task started (TaskGroup::spawn).
  void add(TaskRecord& task);
  void remove(TaskRecord& task);
  std::size_t size() const { return live_.size(); }

  // The task whose step is running; null between steps.
  TaskRecord* current() const { return current_; }
  // Runs `work` (already taken out of the ready set) as one step of its task, then destroys
  // the records parked during it.
  void runStep(Runnable& work);
  // A task ended or was cancelled.
  void taskEnded(TaskRecord& task);

  // Destroys `task` once the step that is executing it returns (a task cancelling itself
  // or its own group cannot tear down the frame it is running on).
  void destroyAfterStep(std::unique_ptr<TaskRecord> task);
  // Destroys the records parked by destroyAfterStep, each counted as ended, and those parked
  // by destroyUnowned.
  void finishStep();
  // Destroys a record of no group (TaskRecord(Executor&)) and the frame it holds: now, or
  // once the running step returns when that step is its own.
  void destroyUnowned(std::unique_ptr<TaskRecord> task);

  // A spawned task failed and nobody can observe it (its JoinHandle was dropped): kept until
  // the run ends.
  void noteUnobservedFailure(std::string_view taskName, const std::exception_ptr& error);
  bool hasFailures() const { return !failures_.empty(); }
  const std::string& firstFailure() const { return failures_.front(); }
  void clearFailures() { failures_.clear(); }

  // Why a run whose main task ended failed: main was cancelled, main threw, or another task
  // failed unobserved. Empty when the run succeeded.
  std::string endOfRunFailure(JoinHandle<void>& main);
  // Cancels main and every task of `root`: nothing outlives a run.
  void endRun(JoinHandle<void>& main, TaskGroup& root);

  // "#3 'server' awaiting a sleep until 1.500000000s", one line per live task, ids ascending,
  // at most kDescribeLinesMax lines.
  std::string describe() const;

 private:
  std::uint64_t lastId_ = 0;
  // Ordered by id: reports are deterministic.
  std::map<std::uint64_t, TaskRecord*> live_;
  std::vector<std::unique_ptr<TaskRecord>> parked_;
  std::vector<std::unique_ptr<TaskRecord>> parkedUnowned_;
  TaskRecord* current_ = nullptr;
  std::vector<std::string> failures_;
};

}  // namespace internal
}  // namespace moonpool
